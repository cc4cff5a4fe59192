"""Messages of the features that remember (server settings, saved items, the photo of the day), in English.

Marked for the catalogs like `bot.messages`, and shown with `tr(locale, NAME, **params)`. A comment
starting `i18n:` just above a message is a note for translators.
"""

from __future__ import annotations

from bot.i18n import N_, Nn_

# The database.
SETTINGS_UNAVAILABLE = N_("Settings are unavailable right now. Please try again in a minute.")
# i18n: /saved is the command; write it as it is named in your language.
SAVED_FULL = N_("You already keep {limit} saved items, the most allowed. Remove some in /saved before saving more.")
TOO_MANY_BLOCKED = N_("This server already blocks {limit} words, the most allowed. Unblock one first.")
SERVER_ONLY = N_("This command works only in a server that added the bot.")

# Searches in a server with settings.
SEARCH_BLOCKED = N_("This server doesn't allow searching for that. Try other words.")

# /settings.
SETTINGS_TITLE = N_("Settings for this server")
SETTING_PRIVATE = N_("Results start private")
SETTING_LANGUAGE = N_("Search language")
SETTING_BLOCKED = N_("Blocked words ({count} of {limit})")
YES = N_("Yes: members post the one they pick")
NO = N_("No: results are public unless a member asks private:True")
LANGUAGE_AUTO = N_("Each member's Discord language")
NO_BLOCKED_WORDS = N_("None")
# i18n: the value shown for the `auto` choice of /settings language.
AUTO_CHOICE = N_("auto: each member's own language")
PRIVATE_ON = N_("Results in this server now start private: members browse alone and post the one they pick.")
PRIVATE_OFF = N_("Results in this server are now public, unless a member asks for private:True.")
LANGUAGE_SET = N_("Searches in this server now use {language} unless a member picks another language.")
LANGUAGE_CLEARED = N_("Searches in this server now use each member's Discord language.")
LANGUAGE_UNKNOWN = N_("`{value}` isn't a language Pexels supports. Pick one from the list, or `auto`.")
WORD_BLOCKED = N_("Searches containing `{word}` are now refused in this server.")
WORD_ALREADY_BLOCKED = N_("`{word}` was already blocked.")
WORD_UNBLOCKED = N_("`{word}` is no longer blocked.")
WORD_NOT_BLOCKED = N_("`{word}` wasn't blocked.")
WORD_EMPTY = N_("Give a word to block: it needs at least one letter or digit.")
WORD_TOO_LONG = N_("A blocked word can be at most {limit} characters long.")

# ⭐ and /saved.
SAVED = N_("Saved ⭐ ({count} of {limit}). See your saved items with /saved show.")
ALREADY_SAVED = N_("That one is already in your saved items ({count} of {limit}).")
SAVE_LABEL = N_("Save")
NOTHING_SAVED = N_("You have no saved photos or videos yet. Press ⭐ on any result to keep it.")
# i18n: footer of a saved item; {position} of {total} in the user's list.
SAVED_FOOTER = N_("{position} / {total} · Saved")
REMOVED_LAST = N_("🗑 Removed. You have no saved photos or videos any more.")
CLEAR_ASK = Nn_(
    "Delete your {n} saved item? This can't be undone.",
    "Delete all {n} of your saved items? This can't be undone.",
)
CLEAR_CONFIRM = N_("Delete all")
CLEAR_CANCEL = N_("Cancel")
CLEARED = Nn_("🗑 Deleted {n} saved item.", "🗑 Deleted all {n} saved items.")
CLEAR_CANCELLED = N_("Nothing was deleted.")
NOT_YOUR_SAVED = N_("These buttons belong to someone else's saved items. See yours with /saved show.")

# /daily.
DAILY_SET = N_(
    "📅 Every day at {time} ({timezone}) I'll post a photo of “{topic}” in {channel}. The next one: <t:{at}:R>."
)
DAILY_NONE = N_("This server has no photo of the day. Set one up with /daily set.")
DAILY_SHOW = N_("📅 A photo of “{topic}” in {channel} every day at {time} ({timezone}). The next one: <t:{at}:R>.")
DAILY_LAST_POSTED = N_("Last posted on {date}.")
DAILY_LAST_EMPTY = N_("On {date} Pexels had no photo for this topic: try another topic.")
DAILY_LAST_FAILED = N_("On {date} the photo couldn't be posted: check my permissions in that channel.")
DAILY_OFF = N_("The photo of the day is off in this server.")
DAILY_WAS_OFF = N_("This server had no photo of the day to turn off.")
# i18n: {missing} is a list of Discord permission names, already joined.
DAILY_MISSING = N_("I can't post in {channel}: I'm missing {missing} there. Give me those permissions, then try again.")
DAILY_CANT_CHECK = N_(
    "I can't see {channel}. Give me View Channel, Send Messages and Embed Links there, then try again."
)
DAILY_WRONG_CHANNEL = N_("Pick a text or announcement channel of this server for the photo of the day.")
TIME_INVALID = N_("Give the time as HH:MM on a 24-hour clock, like `08:30` or `18:00`.")
TIMEZONE_INVALID = N_("`{value}` is not a time zone name; pick one like `Europe/Paris` or `UTC`.")
TOPIC_EMPTY = N_('Give a topic for the daily photo, like `mountains` or "city at night".')
TOPIC_TOO_LONG = N_("A daily topic can be at most {limit} characters long.")
# i18n: footer of the daily post; {topic} is what the server asked for.
DAILY_FOOTER = N_("Photo of the day · {topic}")
PERMISSION_VIEW = N_("View Channel")
PERMISSION_SEND = N_("Send Messages")
PERMISSION_EMBED = N_("Embed Links")
