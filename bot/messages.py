"""Every message the bot writes, in English, marked for the catalogs; shown with `tr(locale, NAME, **params)`.

Command, option and choice texts live where the commands are declared (discord.py hands them to the
translator); everything else a user reads is here. Placeholders are named `str.format` fields. A comment
starting `i18n:` just above a message is copied into the catalogs as a note for translators.
"""

from __future__ import annotations

from bot.i18n import N_, Nn_

# Errors (bot/errors.py, bot/answer.py, the command tree's error handler).
PEXELS_KEY_REFUSED = N_("Pexels refused this bot's key. The bot's operator has been told; please try again later.")
PEXELS_ACCESS_DISALLOWED = N_(
    "Pexels has not allowed this bot's key to use its API. The bot's operator has been told; please try again later."
)
PEXELS_EDGE_BLOCKED = N_(
    "Pexels' network is blocking this bot's requests right now. The bot's operator has been told; please try again "
    "later."
)
# i18n: <t:…:R> is a Discord timestamp; each reader's client shows it as "in 5 minutes" in their own language.
QUOTA_EXHAUSTED = N_(
    "This bot has used its Pexels allowance for now. New searches work again <t:{retry_at}:R>; "
    "searches someone already made still work."
)
PEXELS_UNAVAILABLE = N_("Pexels isn't answering right now. Please try again in a minute.")
PEXELS_BAD_RESPONSE = N_("Pexels sent an answer this bot couldn't read. Please try again in a minute.")
SORRY = N_("Something went wrong on our side and it has been logged. Please try again.")
SLOW_DOWN = N_("Slow down a little. Try again <t:{at}:R>.")
INVALID_VALUE = N_("`{value}` isn't a valid value there. Check the option and try again.")
NOT_HERE = N_("You can't use that command here.")
BLOCKED_BY_AUTOMOD = N_(
    "This server's AutoMod blocked that result. Try another search, or ask the server's moderators."
)

# An invocation of a command this release does not define, or with options it can't take (bot/invocation.py).
STALE_COMMAND = N_("This command changed since your Discord loaded it. Try again in a minute.")
# i18n: {option} is the option's name, as your language names it.
OPTION_WRONG_TYPE = N_("The `{option}` option got a value it can't take. Try again.")
# i18n: {allowed} is the list of the values the option takes, already translated and joined.
NOT_A_CHOICE = N_("`{value}` isn't a choice for `{option}`. Pick one of {allowed}.")
OPTION_REQUIRED = N_("`{option}` is required. Fill it in and try again.")

# Refusals on a result message.
# i18n: /photo is the command; write it as it is named in your language.
NOT_YOURS = N_("These buttons belong to the person who searched. Start your own search with /photo.")
EXPIRED = N_("This result can't be browsed any more. Start a new search with /photo.")
COOLDOWN_SEARCH = N_("You're searching faster than this bot allows. Try again <t:{at}:R>.")
COOLDOWN_BUTTONS = N_("You're pressing buttons faster than this bot allows. Try again <t:{at}:R>.")

# Bad input to a search.
QUERY_EMPTY = N_("Type something to search for, like `/photo sunset`.")
QUERY_TOO_LONG = Nn_(
    "That search is {n} character long; keep it under {limit}.",
    "That search is {n} characters long; keep it under {limit}.",
)
# i18n: {colours} is the list of colour names, already translated and joined.
COLOUR_UNKNOWN = N_("`{value}` isn't a colour I know. Pick one of {colours}, or a hex code like `#ffaa00`.")
NO_RESULTS_FILTERED = N_(
    "No results on Pexels for that. Try fewer or more general words, or drop the colour, size or orientation filter."
)
NO_RESULTS = N_("No results on Pexels for that. Try fewer or more general words.")
LOCALE_UNKNOWN = N_("`{value}` isn't a language Pexels supports. Pick one from the list.")

# A result message.
PHOTO_FALLBACK_TITLE = N_("Photo on Pexels")
VIDEO_FALLBACK_TITLE = N_("Video on Pexels")
# i18n: keep both links; {author} is the photographer's name.
PHOTO_CREDIT = N_("📷 Photo by [{author}]({author_url}) on [Pexels]({url})")
# i18n: keep both links; {author} is the name of whoever filmed it.
VIDEO_CREDIT = N_("🎥 Video by [{author}]({author_url}) on [Pexels]({url})")
PLAY_VIDEO = N_("▶ [Play the video (MP4, {width}×{height})]({url})")
# i18n: the credit when Pexels sent no profile page to link to.
PHOTO_CREDIT_UNLINKED = N_("📷 Photo by {author} on [Pexels]({url})")
VIDEO_CREDIT_UNLINKED = N_("🎥 Video by {author} on [Pexels]({url})")
PLAY_VIDEO_UNSIZED = N_("▶ [Play the video (MP4)]({url})")
# i18n: a result's title when Pexels gives nothing more descriptive; {name} is who took it.
PHOTO_TITLE_BY = N_("Photo by {name}")
VIDEO_TITLE_BY = N_("Video by {name}")
# i18n: Pexels' attribution line; the bot makes it a link to Pexels.
PHOTOS_PROVIDED = N_("Photos provided by Pexels")
VIDEOS_PROVIDED = N_("Videos provided by Pexels")
# i18n: stands in a result's footer where a search shows its words.
CURATED_BY_PEXELS = N_("Curated by Pexels")
# i18n: footer of a result someone posted from a private search; {name} is their display name.
SHARED_BY = N_("Shared by {name}")
RESULT_COUNT = Nn_("{n} result", "{n} results")
# i18n: button labels (at most 80 characters).
VIEW_ON_PEXELS = N_("View on Pexels")
WATCH_ON_PEXELS = N_("Watch on Pexels")
# i18n: button that posts the result you picked privately to the channel, for everyone.
POST = N_("Post")
POSTED = N_("📤 Posted to the channel.")
POST_NOT_ALLOWED = N_(
    "This server only allows private results from apps its members installed, so this result can't be posted "
    "here. Keep browsing privately, or ask for the bot to be added to the server."
)
# i18n: 📤 Post is the button; use the same word as its label.
NOT_POSTED = N_(
    "That result couldn't be posted to the channel (Discord refused it). It is still here: try 📤 Post again."
)
NOT_POSTED_AUTOMOD = N_(
    "That result couldn't be posted to the channel (this server's AutoMod blocked it). It is still here: "
    "try 📤 Post again."
)

# The jump-to-a-result form (title and label: at most 45 characters).
JUMP_TITLE = N_("Jump to a result")
JUMP_LABEL = N_("Result number (1 to {total})")
JUMP_LABEL_PLAIN = N_("Result number")
JUMP_OUT_OF_RANGE = N_("Type a result number from 1 to {total}.")

# The Find photos message menu.
NO_TEXT = N_("That message has no words I can search photos for. Try it on a message with some text.")
# i18n: placeholder of the menu of phrases (at most 150 characters).
PICK_PLACEHOLDER = N_("Pick what to look for")
PICK_PROMPT = N_("Pick what to look for on Pexels:")

# /about.
ABOUT_DESCRIPTION = N_("Beautiful, credited photos and videos from Pexels, right in your server.")
FIELD_VERSION = N_("Version")
FIELD_UPTIME = N_("Uptime")
FIELD_SERVERS = N_("Servers")
# i18n: how many people installed the app to their account.
FIELD_USERS = N_("Users")
FIELD_LATENCY = N_("Latency")
FIELD_HIT_RATE = N_("Cache hit rate")
FIELD_SHARED_STATE = N_("Shared state")
FIELD_QUOTA = N_("Pexels quota")
# i18n: how long the bot has been running, short units.
UPTIME_DAYS = N_("{days}d {hours}h {minutes}m")
UPTIME_HOURS = N_("{hours}h {minutes}m")
LATENCY_MS = N_("{ms} ms")
# i18n: requests left of the period's allowance.
QUOTA_LEFT = N_("{remaining} of {limit} this period")
QUOTA_LEFT_RESETS = N_("{remaining} of {limit} this period, resets <t:{at}:R>")
QUOTA_UNKNOWN = N_("not known yet (no request made)")
QUOTA_RESETS = N_("Resets <t:{at}:R>")
# i18n: the plural follows {n}, the hour's allowance.
QUOTA_HOUR = Nn_("{used} of {n} request used in the last hour", "{used} of {n} requests used in the last hour")
QUOTA_PAUSED = N_("Paused: new requests resume <t:{at}:R>")
# i18n: where the shared state lives when there is no Redis (shown under "Shared state").
STATE_MEMORY = N_("memory")

# Pexels' colour names, offered while typing the color option (the value sent to Pexels stays English).
COLOUR_NAMES = (
    N_("red"),
    N_("orange"),
    N_("yellow"),
    N_("green"),
    N_("turquoise"),
    N_("blue"),
    N_("violet"),
    N_("pink"),
    N_("brown"),
    N_("black"),
    N_("gray"),
    N_("white"),
)

# --------------------------------------------------------------------------- the database

SETTINGS_UNAVAILABLE = N_("Settings are unavailable right now. Please try again in a minute.")
SAVED_LIMIT = N_("You already keep {limit} saved items, the most allowed. Remove some in /saved before saving more.")
BLOCKED_WORDS_LIMIT = N_("This server already blocks {limit} words, the most allowed. Unblock one first.")
DISCORD_FAILED = N_("Discord had trouble showing that result. Please try again in a moment.")
MESSAGE_GONE = N_("That result's message is gone (it was deleted). Start a new search with /photo.")
