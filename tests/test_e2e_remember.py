"""Server settings, saved items and the photo of the day, end to end: the real bot against the loopback Discord and
Pexels, on SQLite and on a real PostgreSQL server, across restarts and (with Redis) two bots on one database."""

from __future__ import annotations

import asyncio
import contextlib
import signal
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from bot.app import PexelsBot
from bot.config import load_settings
from bot.db import ItemSnapshot
from tests.conftest_state import FakeClock
from tests.fakes.discord import (
    ALL_PERMISSIONS,
    DEFAULT_CHANNEL,
    DEFAULT_GUILD,
    EMBED_LINKS,
    FOREIGN_GUILD,
    OTHER_CHANNEL,
    OTHER_GUILD,
    FakeDiscord,
    FakeUser,
    InteractionRecord,
    StoredMessage,
    make_user,
)
from tests.fakes.discord.wire import ADMINISTRATOR, MANAGE_GUILD, SEND_MESSAGES, VIEW_CHANNEL
from tests.fakes.pexels import FakePexels
from tests.harness import (
    BotProcess,
    ErrorGuard,
    Rig,
    answered_in_time,
    bot_environment,
    embed,
    footer,
    result_message,
    run_bot,
    running_bot,
)
from tests.postgres_server import PostgresServer
from tests.redis_server import RedisServer

T0 = datetime(2031, 3, 10, 6, 0, tzinfo=UTC).timestamp()
"""A Monday, 06:00 UTC: where the injected clock starts."""
PHOTOS_CHANNEL = 661720242585600777
"""A second text channel of the default server."""


@dataclass
class World:
    """The loopback Discord and Pexels, one database, and the bots started on it (each closed at the end)."""

    discord: FakeDiscord
    pexels: FakePexels
    url: str
    clock: FakeClock
    stack: contextlib.AsyncExitStack
    running: dict[int, contextlib.AbstractAsyncContextManager[PexelsBot]] = field(default_factory=dict)

    async def start(self, *, url: str | None = None, **env: str) -> Rig:
        """Start a bot on the world's database (or `url`), with the injected clock and no scheduler rounds but the
        first (tests run rounds themselves with `bot.scheduler.run_round()`)."""
        env = {"SEARCH_COOLDOWN": "100/60", "BUTTON_COOLDOWN": "100/10", **env}
        environment = bot_environment(self.discord, self.pexels, DATABASE_URL=url or self.url, **env)
        settings = load_settings(environment, env_file=None)
        context = running_bot(settings, self.discord, clock=self.clock, daily_interval=3600)
        bot = await context.__aenter__()
        self.running[id(bot)] = context
        return Rig(self.discord, self.pexels, bot)

    async def stop(self, rig: Rig) -> None:
        """Close that bot, as a deploy stops a process."""
        await self.running.pop(id(rig.bot)).__aexit__(None, None, None)

    async def close(self) -> None:
        for context in reversed(list(self.running.values())):
            await context.__aexit__(None, None, None)
        self.running.clear()


@pytest.fixture
async def world(discord_fake: FakeDiscord, pexels: FakePexels, db_url: str, errors: ErrorGuard) -> AsyncIterator[World]:
    """A world per database backend (SQLite file, PostgreSQL database), its clock at T0."""
    discord_fake.add_channel(PHOTOS_CHANNEL, DEFAULT_GUILD, name="photos")
    for guild in (DEFAULT_GUILD, OTHER_GUILD):  # a bot without Administrator: channel overwrites apply to it
        discord_fake.guilds[guild].bot_permissions = ALL_PERMISSIONS & ~ADMINISTRATOR
    async with contextlib.AsyncExitStack() as stack:
        created = World(discord_fake, pexels, db_url, FakeClock(T0), stack)
        try:
            yield created
        finally:
            await created.close()


async def run(rig: Rig, command: str, sub: str, options: dict[str, Any] | None = None, *, user: FakeUser,
              **kwargs: Any) -> InteractionRecord:  # fmt: skip
    """`/command sub options…`, waited for."""
    return await rig.command(command, options or {}, user=user, subcommand=sub, **kwargs)


def private_text(record: InteractionRecord) -> str:
    """What only the user who acted reads; nothing public appeared."""
    answered_in_time(record)
    assert record.public_reply_text == "", record.describe()
    assert record.ephemeral_reply_text, record.describe()
    return record.ephemeral_reply_text


def is_public(record: InteractionRecord) -> bool:
    """The search produced a public result (not an ephemeral one)."""
    return not result_message(record).ephemeral


def button_names(message: StoredMessage) -> list[str]:
    """What a user reads on the buttons, in order."""
    return [(b.get("emoji") or {}).get("name") or b.get("label") for b in message.buttons()]


def newest(rig: Rig, record: InteractionRecord) -> StoredMessage:
    """The current state of the message an interaction created or acted on."""
    message = record.original or result_message(record)
    return rig.discord.messages[message.id]


# --------------------------------------------------------------------------- /settings


async def test_server_settings_apply_to_every_search_at_once(world: World) -> None:
    """/settings private, language and block change what the next search does, in that server only."""
    rig = await world.start()
    admin, member = rig.user(1), rig.user(2)
    assert is_public(await rig.photo("harbour", user=member)), "defaults: results are public"

    assert "start private" in private_text(await run(rig, "settings", "private", {"value": True}, user=admin))
    private = result_message(await rig.photo("harbour", user=member))
    assert private.ephemeral and private.visible_to == member.id
    assert "📤" in button_names(private)
    assert is_public(await rig.photo("harbour", user=member, private=False)), "an explicit private:False wins"
    assert not is_public(await rig.command("curated", {}, user=member))
    elsewhere = await rig.command("photo", {"query": "harbour"}, user=member, guild_id=OTHER_GUILD)
    assert is_public(elsewhere), "another server keeps its own settings"
    dm = await rig.command("photo", {"query": "harbour"}, user=member, guild_id=None)
    assert is_public(dm)

    assert "de-DE" in private_text(await run(rig, "settings", "language", {"code": "de-DE"}, user=admin))
    await rig.photo("Hafen", user=member)
    assert rig.pexels.requests[-1].query.get("locale") == "de-DE"
    await rig.photo("port", user=member, locale="fr-FR")
    assert rig.pexels.requests[-1].query.get("locale") == "fr-FR", "the searcher's own pick wins"
    assert "each member" in private_text(await run(rig, "settings", "language", {"code": "auto"}, user=admin))
    await rig.photo("puerto", user=member)
    assert rig.pexels.requests[-1].query.get("locale") == "en-US", "back to the member's Discord language"

    assert "now refused" in private_text(await run(rig, "settings", "block", {"word": "Café"}, user=admin))
    before = rig.pexels.count()
    for query in ("CAFE au lait", "un café"):
        refused = await rig.photo(query, user=member)
        assert "doesn't allow" in private_text(refused)
    refused_video = await rig.command("video", {"query": "café"}, user=member)
    assert "doesn't allow" in private_text(refused_video)
    assert rig.pexels.count() == before, "refused without a Pexels request"
    assert is_public(await rig.photo("cafeteria", user=member, private=False)), "whole words only"
    assert "already" in private_text(await run(rig, "settings", "block", {"word": "cafe"}, user=admin))

    shown = await run(rig, "settings", "show", user=admin)
    answered_in_time(shown)
    settings_embed = embed(result_message(shown))
    values = {f["name"]: f["value"] for f in settings_embed["fields"]}
    assert values["Results start private"].startswith("Yes")
    assert values["Search language"] == "Each member's Discord language"
    assert values["Blocked words (1 of 50)"] == "`Café`"

    choices = await rig.discord.autocomplete("settings", {"word": "ca"}, "word", user=admin, subcommand="unblock")
    await choices.wait_done()
    assert [c["value"] for c in choices.choices or []] == ["Café"]
    assert "no longer blocked" in private_text(await run(rig, "settings", "unblock", {"word": "CAFÉ"}, user=admin))
    assert not refused_privately_for(await rig.photo("un café", user=member, private=False))


async def test_find_photos_follows_the_server_settings(world: World) -> None:
    """The message menu leaves out phrases with a blocked word and searches in the server's language; a phrase
    blocked after the menu opened is refused when chosen."""
    rig = await world.start()
    admin, user = rig.user(1), rig.user(2)
    await run(rig, "settings", "block", {"word": "marathon"}, user=admin)
    await run(rig, "settings", "language", {"code": "de-DE"}, user=admin)
    news = (
        "Thousands of runners crossed the Brandenburg Gate on Sunday as the Berlin Marathon finished in warm "
        "autumn weather, while spectators lined the streets around the finish line."
    )
    target = rig.discord.post_user_message(DEFAULT_CHANNEL, news, author=admin)
    record = await rig.discord.message_command("Find photos", target, user=user)
    await record.wait_done()
    options = [o["value"] for o in result_message(record).selects()[0]["options"]]
    assert options and not any("marathon" in o.lower() for o in options), options

    chosen = await rig.discord.select(result_message(record).id, [options[0]], user=user)
    await chosen.wait_done()
    assert rig.pexels.requests[-1].query.get("locale") == "de-DE"
    again = await rig.discord.message_command("Find photos", target, user=user)
    await again.wait_done()
    await run(rig, "settings", "block", {"word": options[0]}, user=admin)
    requests = rig.pexels.count()
    refused = await rig.discord.select(result_message(again).id, [options[0]], user=user)
    await refused.wait_done()
    assert "doesn't allow" in private_text(refused)
    assert rig.pexels.count() == requests


def refused_privately_for(record: InteractionRecord) -> bool:
    """The search was refused (an ephemeral text, no result)."""
    return not any(m.embeds for m in record.messages if not m.deleted)


async def test_server_commands_are_for_the_servers_admins(world: World) -> None:
    """/settings and /daily: Manage Server by default, only where a server added the bot; /saved everywhere."""
    rig = await world.start()
    for name in ("settings", "daily"):
        synced = rig.discord.command(name)
        assert int(synced["default_member_permissions"]) == MANAGE_GUILD
        assert synced["contexts"] == [0] and synced["integration_types"] == [0]
    saved = rig.discord.command("saved")
    assert saved["default_member_permissions"] is None
    assert saved["contexts"] == [0, 1, 2] and saved["integration_types"] == [0, 1]

    member = rig.user(3).without(MANAGE_GUILD | ADMINISTRATOR)
    with pytest.raises(PermissionError):
        await rig.discord.slash("settings", {}, user=member, subcommand="show")
    with pytest.raises(PermissionError):
        await rig.discord.slash("daily", {}, user=rig.user(1), subcommand="show", guild_id=None)
    installer = rig.user(4)
    rig.discord.install_for_user(installer)
    with pytest.raises(PermissionError):
        await rig.discord.slash("settings", {}, user=installer, subcommand="show", guild_id=FOREIGN_GUILD)
    assert "no saved" in private_text(await run(rig, "saved", "show", user=installer, guild_id=FOREIGN_GUILD))
    assert "no saved" in private_text(await run(rig, "saved", "show", user=installer, guild_id=None))


# --------------------------------------------------------------------------- ⭐ and /saved


async def test_anyone_saves_with_the_star_and_browses_privately(world: World) -> None:
    """⭐ on someone else's public result saves it for the presser and changes nothing on the message; /saved show
    renders what was stored, credit included, with no Pexels request; 🗑 and /saved clear forget."""
    rig = await world.start()
    searcher, fan = rig.user(1), rig.user(2)
    result = result_message(await rig.photo("lighthouse", user=searcher))
    before = (result.embeds, result.components, result.edits)

    star = await rig.press(result, "⭐", user=fan)
    assert "Saved ⭐ (1 of 500)" in private_text(star)
    reply = [m for m in star.messages if not m.deleted]
    assert len(reply) == 1 and reply[0].ephemeral and reply[0].visible_to == fan.id
    current = rig.discord.messages[result.id]
    assert (current.embeds, current.components, current.edits) == before, "saving changes nothing on the message"
    assert "already" in private_text(await rig.press(result, "⭐", user=fan))

    await rig.press(result, "▶", user=searcher)
    assert "(2 of 500)" in private_text(await rig.press(rig.discord.messages[result.id], "⭐", user=fan))
    video = result_message(await rig.command("video", {"query": "waves", "private": True}, user=searcher))
    assert "(1 of 500)" in private_text(await rig.press(video, "⭐", user=searcher)), "private results too"

    requests = rig.pexels.count()
    opened = await run(rig, "saved", "show", user=fan)
    browser = result_message(opened)
    assert browser.ephemeral and browser.visible_to == fan.id
    shown, photo = embed(browser), rig.pexels.photo("lighthouse", 1, locale="en-US")
    assert shown["image"]["url"] == photo["src"]["large"], "newest first"
    assert f"Photo by [{photo['photographer']}]({photo['photographer_url']})" in shown["description"]
    assert "[Photos provided by Pexels](https://www.pexels.com)" in shown["description"]
    assert footer(browser) == "1 / 2 · Saved"
    assert button_names(browser) == ["⏮", "◀", "1 / 2", "▶", "⏭", "🗑", "View on Pexels"]

    await rig.press(browser, "▶", user=fan)
    browser = rig.discord.messages[browser.id]
    assert footer(browser) == "2 / 2 · Saved"
    assert embed(browser)["image"]["url"] == rig.pexels.photo("lighthouse", 0, locale="en-US")["src"]["large"]
    with pytest.raises(PermissionError):
        await rig.discord.click(browser.id, "◀", user=searcher)  # it is private to the fan
    forged = await rig.discord.forge(3, {"custom_id": browser.button("◀")["custom_id"], "component_type": 2},
                                     user=searcher, message=browser)  # fmt: skip
    await forged.wait_done()
    assert "someone else's saved items" in private_text(forged)

    await rig.press(browser, "🗑", user=fan)
    browser = rig.discord.messages[browser.id]
    assert footer(browser) == "1 / 1 · Saved"
    assert embed(browser)["image"]["url"] == photo["src"]["large"]
    await rig.press(browser, "🗑", user=fan)
    assert "no saved photos or videos any more" in rig.discord.messages[browser.id].text
    assert rig.discord.messages[browser.id].buttons() == []

    videos = result_message(await run(rig, "saved", "show", user=searcher))
    assert "Play the video" in embed(videos)["description"]
    assert button_names(videos)[-1] == "Watch on Pexels"
    assert rig.pexels.count() == requests, "browsing saved items costs no Pexels request"

    ask = await run(rig, "saved", "clear", user=searcher)
    assert "Delete your 1 saved item?" in private_text(ask)
    await rig.press(result_message(ask), "Cancel", user=searcher)
    assert "Nothing was deleted" in rig.discord.messages[result_message(ask).id].text
    ask = await run(rig, "saved", "clear", user=searcher)
    await rig.press(result_message(ask), "Delete all", user=searcher)
    assert "Deleted 1 saved item" in rig.discord.messages[result_message(ask).id].text
    assert "no saved photos" in private_text(await run(rig, "saved", "show", user=searcher))


async def test_the_501st_save_is_refused(world: World) -> None:
    """A user keeps up to 500 items; ⭐ on one more says so and saves nothing."""
    rig = await world.start()
    user = rig.user(1)
    base = rig.pexels.photo("filler", 0, locale="en-US")
    for n in range(500):
        filler = ItemSnapshot("photo", 10_000 + n, "", base["url"], base["src"]["large"], "P", base["photographer_url"])
        assert await rig.bot.database.saved.save(user.id, filler)
    result = result_message(await rig.photo("owl", user=user))
    text = private_text(await rig.press(result, "⭐", user=user))
    assert "already keep 500 saved items" in text and "/saved" in text
    assert await rig.bot.database.saved.count(user.id) == 500


# --------------------------------------------------------------------------- the database down


async def test_a_database_down_refuses_clearly_and_search_keeps_working(
    world: World, db_backend: str, request: pytest.FixtureRequest, tmp_path: Any
) -> None:
    """Down at start (an unusable SQLite path; a stopped PostgreSQL) and, for PostgreSQL, down while running: every
    command that needs it says so privately, searches and page turns carry on, and it comes back by itself."""
    server: PostgresServer | None = request.getfixturevalue("postgres_server") if db_backend == "postgresql" else None
    if server is None:
        rig = await world.start(url="sqlite:////proc/pexbot-cannot-be-here/pexbot.sqlite3")
    else:
        await asyncio.to_thread(server.stop)
        rig = await world.start()
    admin, user = rig.user(1), rig.user(2)
    result = result_message(await rig.photo("meadow", user=user))
    assert not result.ephemeral, "searches work without the database"
    await rig.press(result, "▶", user=user)
    assert footer(rig.discord.messages[result.id]) == '2 / 240 · "meadow"'
    unavailable = "settings are unavailable right now"
    assert unavailable in private_text(await rig.press(rig.discord.messages[result.id], "⭐", user=user)).lower()
    for command, sub, options in (
        ("saved", "show", {}),
        ("saved", "clear", {}),
        ("settings", "show", {}),
        ("settings", "private", {"value": True}),
        ("daily", "show", {}),
        ("daily", "set", {"channel": PHOTOS_CHANNEL, "topic": "lakes", "time": "08:00"}),
    ):
        assert unavailable in private_text(await run(rig, command, sub, options, user=admin)).lower(), command
    if server is None:
        return

    await asyncio.to_thread(server.start)
    await asyncio.sleep(1.2)  # the database is tried again a second after a failure
    assert "Saved ⭐" in private_text(await rig.press(rig.discord.messages[result.id], "⭐", user=user))
    await asyncio.to_thread(server.stop)
    assert is_public(await rig.photo("meadow", user=user)), "down while running: searches carry on"
    text = private_text(await run(rig, "saved", "show", user=user))
    assert unavailable in text.lower()
    await asyncio.to_thread(server.start)
    await asyncio.sleep(1.2)
    assert footer(result_message(await run(rig, "saved", "show", user=user))) == "1 / 1 · Saved"


# --------------------------------------------------------------------------- restarts


async def test_everything_survives_a_restart(world: World) -> None:
    """Settings, saved items and the schedule outlive the process that wrote them."""
    first = await world.start()
    admin, user = first.user(1), first.user(2)
    await run(first, "settings", "private", {"value": True}, user=admin)
    await run(first, "settings", "block", {"word": "spider"}, user=admin)
    result = result_message(await first.photo("beetle", user=user))
    await first.press(result, "⭐", user=user)
    daily = {"channel": PHOTOS_CHANNEL, "topic": "forests", "time": "09:30", "timezone": "Europe/Berlin"}
    assert "forests" in private_text(await run(first, "daily", "set", daily, user=admin))
    await world.stop(first)

    second = await world.start()
    assert second.bot is not first.bot
    assert not is_public(await second.photo("beetle", user=user)), "still private by default"
    assert refused_privately_for(await second.photo("Spider web", user=user))
    browser = result_message(await run(second, "saved", "show", user=user))
    assert embed(browser)["image"]["url"] == world.pexels.photo("beetle", 0, locale="en-US")["src"]["large"]
    shown = private_text(await run(second, "daily", "show", user=admin))
    assert "forests" in shown and f"<#{PHOTOS_CHANNEL}>" in shown and "09:30 (Europe/Berlin)" in shown


# --------------------------------------------------------------------------- the photo of the day


def photos_in(rig: Rig, channel: int) -> list[StoredMessage]:
    """What the bot posted in a channel by itself (not in answer to an interaction)."""
    return [
        m
        for m in rig.discord.channel_messages(channel)
        if m.interaction_id is None and m.author_id == rig.discord.app_id
    ]


def topic_images(pexels: FakePexels, topic: str) -> set[str]:
    """The images of the first 80 results of a topic's search (the daily search sends no locale)."""
    return {pexels.photo(topic, n)["src"]["large"] for n in range(80)}


async def test_the_photo_of_the_day_is_posted_once_a_day(world: World) -> None:
    """/daily set; at the time the credited photo goes to the channel, once; the next day another one; servers with
    the same topic share one Pexels request; /daily show and off."""
    rig = await world.start()
    admin = rig.user(1)
    setting = {"channel": PHOTOS_CHANNEL, "topic": "Mountains", "time": "8:00"}
    text = private_text(await run(rig, "daily", "set", setting, user=admin))
    assert "08:00 (UTC)" in text and f"<#{PHOTOS_CHANNEL}>" in text and f"<t:{int(T0 + 7200)}:R>" in text
    other = {"channel": OTHER_CHANNEL, "topic": "mountains ", "time": "08:00"}
    private_text(await run(rig, "daily", "set", other, user=admin, guild_id=OTHER_GUILD))

    assert await rig.bot.scheduler.run_round() == []
    assert photos_in(rig, PHOTOS_CHANNEL) == []
    world.clock.advance(2 * 3600 + 30)
    requests = rig.pexels.count()
    outcomes = await rig.bot.scheduler.run_round()
    assert sorted(o.status for o in outcomes) == ["posted", "posted"]
    assert rig.pexels.count() == requests + 1, "two servers, one topic: one Pexels request"
    [post] = photos_in(rig, PHOTOS_CHANNEL)
    shown = embed(post)
    assert shown["footer"]["text"] == "Photo of the day · Mountains"
    assert shown["image"]["url"] in topic_images(rig.pexels, "mountains")
    assert "📷 Photo by [" in shown["description"] and "[Photos provided by Pexels]" in shown["description"]
    assert button_names(post) == ["View on Pexels"] and post.pings() == {"users": [], "roles": [], "everyone": False}
    assert len(photos_in(rig, OTHER_CHANNEL)) == 1

    world.clock.advance(600)
    assert await rig.bot.scheduler.run_round() == []
    assert len(photos_in(rig, PHOTOS_CHANNEL)) == 1, "never twice a day"
    assert "Last posted on 2031-03-10" in private_text(await run(rig, "daily", "show", user=admin))

    world.clock.advance(86_400)
    await rig.bot.scheduler.run_round()
    first, second = photos_in(rig, PHOTOS_CHANNEL)
    assert embed(first)["image"]["url"] != embed(second)["image"]["url"], "a different photo each day"

    assert "off" in private_text(await run(rig, "daily", "off", user=admin))
    assert "no photo of the day" in private_text(await run(rig, "daily", "show", user=admin))
    assert "had no photo of the day" in private_text(await run(rig, "daily", "off", user=admin))
    world.clock.advance(86_400)
    await rig.bot.scheduler.run_round()
    assert len(photos_in(rig, PHOTOS_CHANNEL)) == 2


async def test_a_post_missed_while_down_is_made_on_return_and_never_twice(world: World) -> None:
    """The bot is down at the time: the new process posts as soon as it starts, the same day; a further restart
    that day posts nothing."""
    first = await world.start()
    admin = first.user(1)
    setting = {"channel": PHOTOS_CHANNEL, "topic": "lakes", "time": "07:30", "timezone": "Europe/Paris"}
    text = private_text(await run(first, "daily", "set", setting, user=admin))
    assert f"<t:{int(T0) + 1800}:R>" in text, "07:30 in Paris is 06:30 UTC in March"
    await world.stop(first)

    world.clock.advance(3 * 3600)  # 10:00 in Paris: the post was missed
    second = await world.start()
    await world.discord.wait_until(lambda: len(photos_in(second, PHOTOS_CHANNEL)) == 1, 10)
    await world.stop(second)
    world.clock.advance(3600)
    third = await world.start()
    assert await third.bot.scheduler.run_round() == []
    assert len(photos_in(third, PHOTOS_CHANNEL)) == 1


async def test_daily_set_checks_what_the_bot_may_do_in_the_channel(world: World) -> None:
    """Missing View Channel, Send Messages or Embed Links: /daily set says which, in the channel it is used in and
    in another one; a bad time, time zone or blocked topic is refused; time zones are autocompleted."""
    rig = await world.start()
    admin = rig.user(1)
    base = {"channel": PHOTOS_CHANNEL, "topic": "rivers", "time": "08:00"}

    rig.discord.set_bot_overwrite(PHOTOS_CHANNEL, deny=EMBED_LINKS)
    text = private_text(await run(rig, "daily", "set", base, user=admin))
    assert "I'm missing Embed Links there" in text and f"<#{PHOTOS_CHANNEL}>" in text
    rig.discord.set_bot_overwrite(PHOTOS_CHANNEL, deny=VIEW_CHANNEL)
    assert "I can't see" in private_text(await run(rig, "daily", "set", base, user=admin))
    rig.discord.set_bot_overwrite(DEFAULT_CHANNEL, deny=SEND_MESSAGES | EMBED_LINKS)
    here = {**base, "channel": DEFAULT_CHANNEL}
    text = private_text(await run(rig, "daily", "set", here, user=admin))
    assert "I'm missing Send Messages and Embed Links there" in text
    assert "no photo of the day" in private_text(await run(rig, "daily", "show", user=admin))

    for options, phrase in (({"time": "25:00"}, "HH:MM"), ({"timezone": "Mars/Olympus"}, "not a time zone")):
        assert phrase in private_text(await run(rig, "daily", "set", {**here, **options}, user=admin)), options
    await run(rig, "settings", "block", {"word": "rivers"}, user=admin)
    assert "doesn't allow" in private_text(await run(rig, "daily", "set", {**base, "channel": PHOTOS_CHANNEL},
                                                      user=admin))  # fmt: skip

    completed = await rig.discord.autocomplete(
        "daily", {**base, "timezone": "paris"}, "timezone", user=admin, subcommand="set"
    )
    await completed.wait_done()
    assert [c["value"] for c in completed.choices or []] == ["Europe/Paris"]

    rig.discord.set_bot_overwrite(PHOTOS_CHANNEL)
    await run(rig, "settings", "unblock", {"word": "rivers"}, user=admin)
    assert "Every day at 08:00" in private_text(await run(rig, "daily", "set", base, user=admin))
    rig.discord.set_bot_overwrite(PHOTOS_CHANNEL, deny=SEND_MESSAGES)  # taken away after /daily set
    world.clock.advance(2 * 3600)
    [outcome] = await rig.bot.scheduler.run_round()
    assert outcome.status == "failed"
    assert "couldn't be posted" in private_text(await run(rig, "daily", "show", user=admin))


# --------------------------------------------------------------------------- two bots, one PostgreSQL


@pytest.fixture
async def redis_url(redis_server: RedisServer) -> str:
    """The shared Redis, emptied."""
    redis_server.start()
    redis_server.flushall()
    return redis_server.url


@pytest.mark.parametrize("db_backend", ["postgresql"], indirect=True)
async def test_two_bots_share_saved_items_and_post_each_day_once(world: World, redis_url: str) -> None:
    """Two shards on one PostgreSQL (and Redis): an item saved through one is browsed through the other; both
    schedulers run the same round and each server still gets exactly one post."""
    env = {"REDIS_URL": redis_url, "SHARD_COUNT": "2"}
    shard0 = await world.start(SHARD_IDS="0", **env)
    shard1 = await world.start(SHARD_IDS="1", **env)
    assert sorted(s.shard for s in world.discord.live_sessions) == [(0, 2), (1, 2)]
    assert (DEFAULT_GUILD >> 22) % 2 != (OTHER_GUILD >> 22) % 2, "each server is served by another bot"

    user, admin = shard0.user(1), shard0.user(2)
    result = result_message(await shard0.command("photo", {"query": "glacier"}, user=user, guild_id=DEFAULT_GUILD))
    assert "Saved ⭐" in private_text(await shard0.press(result, "⭐", user=user))
    elsewhere = result_message(await shard0.command("saved", {}, user=user, subcommand="show", guild_id=OTHER_GUILD))
    assert embed(elsewhere)["image"]["url"] == world.pexels.photo("glacier", 0, locale="en-US")["src"]["large"]

    for guild, channel in ((DEFAULT_GUILD, PHOTOS_CHANNEL), (OTHER_GUILD, OTHER_CHANNEL)):
        options = {"channel": channel, "topic": "volcanoes", "time": "08:00"}
        private_text(await run(shard0, "daily", "set", options, user=admin, guild_id=guild))
    world.clock.advance(2 * 3600)
    for _ in range(3):  # a round that found the other process fetching the topic retries it 20 s later
        await asyncio.gather(shard0.bot.scheduler.run_round(), shard1.bot.scheduler.run_round())
        world.clock.advance(30)
    assert len(photos_in(shard0, PHOTOS_CHANNEL)) == 1
    assert len(photos_in(shard0, OTHER_CHANNEL)) == 1
    assert world.pexels.count("/v1/search") == 2, "glacier, and volcanoes once for both servers"


# --------------------------------------------------------------------------- python -m bot


async def test_python_m_bot_keeps_its_data_in_the_default_file_across_restarts(tmp_path: Path) -> None:
    """With DATABASE_URL unset the bot keeps a SQLite file in its working folder; a new process finds what the
    previous one saved."""
    async with FakeDiscord() as discord_fake, FakePexels() as pexels:
        env = bot_environment(discord_fake, pexels, DATABASE_URL="")
        code, _out, err = await run_bot(tmp_path, env, "sync")
        assert code == 0, err
        user = make_user(1)
        first = await BotProcess.start(tmp_path, env)
        try:
            await discord_fake.wait_ready(1, timeout=20)
            search = await discord_fake.slash("photo", {"query": "canyon"}, user=user)
            await search.wait_done(timeout=10)
            star = await discord_fake.click(result_message(search).id, "⭐", user=user)
            await star.wait_done(timeout=10)
            assert "Saved ⭐ (1 of 500)" in private_text(star)
            first.proc.send_signal(signal.SIGTERM)
            assert await first.finish(timeout=15) == 0
        finally:
            await first.stop()
        first.assert_no_errors()
        assert (tmp_path / "pexbot.sqlite3").is_file()

        second = await BotProcess.start(tmp_path, env)
        try:
            await discord_fake.wait_ready(1, timeout=20)
            shown = await discord_fake.slash("saved", {}, user=user, subcommand="show")
            await shown.wait_done(timeout=10)
            image = embed(result_message(shown))["image"]["url"]
            assert image == pexels.photo("canyon", 0, locale="en-US")["src"]["large"]
            second.proc.send_signal(signal.SIGTERM)
            assert await second.finish(timeout=15) == 0
        finally:
            await second.stop()
        second.assert_no_errors()
