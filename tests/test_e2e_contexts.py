"""Everywhere on today's Discord (issue 10): every flow in every place the app can be used, by its current rules.

The places: a server that installed the bot; a server where only the user installed the app (the bot is not a
member: no guild in its cache, a partial `guild`); the DM with the bot; a DM between users; a group DM. The rules:
edit the original after a defer (never the deprecated first-followup fill), the 3 s window counted from the
interaction's creation, modals in the Label form, alt text on embed images, forced-private results where the
member lacks *Use External Apps*, and AutoMod rejections answered clearly.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass

import pytest

from tests.fakes.discord import (
    DEFAULT_CHANNEL,
    DEFAULT_GUILD,
    FOREIGN_CHANNEL,
    FOREIGN_GUILD,
    USE_EXTERNAL_APPS,
    FakeUser,
    InteractionRecord,
    StoredMessage,
)
from tests.harness import Rig, RigFactory, answered_in_time, embed, footer, refused_privately, result_message

NEWS = (
    "Thousands of runners crossed the Brandenburg Gate on Sunday as the Berlin Marathon finished in warm "
    "autumn weather, while spectators lined the streets around the finish line."
)
PLACES = ["server", "user install in a server without the bot", "DM with the bot", "DM between users", "group DM"]


@dataclass
class Where:
    """Where a user acts: what to pass to the loopback Discord, and who else is in the channel."""

    guild_id: int | None
    channel_id: int
    others: list[FakeUser]
    user_installed_only: bool


def go(rig: Rig, place: str, user: FakeUser) -> Where:
    """Set up `place` for `user` (installing the app to their account where only that reaches it)."""
    friend, third = rig.user(90), rig.user(91)
    if place == "server":
        return Where(DEFAULT_GUILD, DEFAULT_CHANNEL, [friend], False)
    if place == "DM with the bot":
        return Where(None, rig.discord.dm_channel_for(user), [], False)
    rig.discord.install_for_user(user)
    if place == "user install in a server without the bot":
        return Where(FOREIGN_GUILD, FOREIGN_CHANNEL, [friend], True)
    if place == "DM between users":
        return Where(None, rig.discord.user_dm(user, friend), [friend], True)
    assert place == "group DM"
    return Where(None, rig.discord.group_dm([user, friend, third], name="friends"), [friend, third], True)


def names(message: StoredMessage) -> list[str]:
    """What a user reads on the buttons, in order."""
    return [(b.get("emoji") or {}).get("name") or b.get("label") for b in message.buttons()]


def jump_field(opened: InteractionRecord) -> str:
    """The jump modal's text input, which must be wrapped in a Label (type 18), the current form."""
    assert opened.response_type == 9, opened.describe()
    assert opened.modal is not None
    label = opened.modal["components"][0]
    assert label["type"] == 18, "modals use the Label component, not the deprecated ActionRow form"
    assert label["component"]["type"] == 4
    return str(label["component"]["custom_id"])


def no_deprecated_fill(rig: Rig, *records: InteractionRecord) -> None:
    """After a defer the bot edited the original: no placeholder was filled by a followup."""
    for record in records:
        assert record.filled_by != "followup", record.describe()


async def slash(rig: Rig, where: Where, name: str, options: dict[str, object] | None = None, *, user: FakeUser,
                **kwargs: object) -> InteractionRecord:  # fmt: skip
    """A slash command in `where`, waited for."""
    record = await rig.discord.slash(
        name, options or {}, user=user, guild_id=where.guild_id, channel_id=where.channel_id, **kwargs
    )
    await record.wait_done(timeout=10)
    return record


# ------------------------------------------------------------------------------------------------ every place


@pytest.mark.parametrize("place", PLACES)
async def test_every_flow_in_every_place(rig: Rig, place: str) -> None:
    """Search, every button, the jump modal, private browsing and 📤 Post, Find photos and /about all work."""
    user = rig.user(1)
    where = go(rig, place, user)

    record = await slash(rig, where, "photo", {"query": "harbour lights"}, user=user)
    answered_in_time(record)
    assert record.user_installed_only == where.user_installed_only
    message = result_message(record)
    assert not message.ephemeral and footer(message) == '1 / 240 · "harbour lights"'
    for other in where.others:
        assert message.id in [m.id for m in rig.discord.channel_messages(where.channel_id, viewer=other.id)]

    async def press(button: str, expected: str) -> InteractionRecord:
        pressed = await rig.press(rig.discord.messages[message.id], button, user=user)
        answered_in_time(pressed)
        assert footer(rig.discord.messages[message.id]).startswith(expected), pressed.describe()
        return pressed

    await press("▶", "2 / 240")
    await press("⏭", "240 / 240")
    await press("◀", "239 / 240")
    await press("⏮", "1 / 240")
    await press("🔀", "")
    assert footer(rig.discord.messages[message.id]) != '1 / 240 · "harbour lights"'
    opened = await rig.press(rig.discord.messages[message.id], names(rig.discord.messages[message.id])[2], user=user)
    jumped = await rig.discord.submit_modal(opened, {jump_field(opened): "42"}, shape="label")
    await jumped.wait_done()
    answered_in_time(jumped)
    assert footer(rig.discord.messages[message.id]) == '42 / 240 · "harbour lights"'
    deleted = await rig.press(rig.discord.messages[message.id], "🗑", user=user)
    answered_in_time(deleted)
    assert rig.discord.messages[message.id].deleted

    private = await slash(rig, where, "photo", {"query": "lanterns", "private": True}, user=user)
    answered_in_time(private)
    picker = result_message(private)
    assert picker.ephemeral and "📤" in names(picker)
    await rig.press(picker, "▶", user=user)
    posted = await rig.press(rig.discord.messages[picker.id], "📤", user=user)
    answered_in_time(posted)
    await posted.wait_for(lambda r: "Posted" in (rig.discord.messages[picker.id].content or ""))
    public = [m for m in posted.messages if not m.ephemeral and not m.deleted]
    assert len(public) == 1 and footer(public[0]) == f'Shared by {user.name} · "lanterns"'
    assert embed(public[0])["image"]["url"] == rig.pexels.photo("lanterns", 1, locale="en-US")["src"]["large"]
    for other in where.others:
        assert public[0].id in [m.id for m in rig.discord.channel_messages(where.channel_id, viewer=other.id)]

    author = where.others[0] if where.others else user
    target = rig.discord.post_user_message(where.channel_id, NEWS, author=author)
    menu_record = await rig.discord.message_command("Find photos", target, user=user)
    await menu_record.wait_done(timeout=10)
    answered_in_time(menu_record)
    menu = result_message(menu_record)
    assert menu.ephemeral
    choice = next(o["value"] for o in menu.selects()[0]["options"] if "marathon" in o["value"].lower())
    chosen = await rig.discord.select(menu.id, [choice], user=user)
    await chosen.wait_done(timeout=10)
    answered_in_time(chosen)
    found = rig.discord.messages[menu.id]
    assert found.ephemeral and footer(found) == f'1 / 240 · "{choice}"' and "📤" in names(found)

    about = await slash(rig, where, "about", user=user)
    answered_in_time(about)
    assert result_message(about).ephemeral
    fields = {f["name"]: f["value"] for f in embed(result_message(about))["fields"]}
    assert fields["Version"] and fields["Servers"] != "—" and fields["Users"] != "—"

    no_deprecated_fill(rig, record, private, posted, menu_record, chosen, about)
    assert rig.discord.unexpected_calls == []


async def test_the_bot_is_not_a_member_where_only_the_user_installed_it(rig: Rig) -> None:
    """In a server that never added the bot, discord.py has no guild, the owners name only the user, and it works."""
    user = rig.user(1)
    rig.discord.install_for_user(user)
    record = await rig.discord.slash("photo", {"query": "canal"}, user=user, guild_id=FOREIGN_GUILD)
    await record.wait_done()
    answered_in_time(record)
    assert rig.bot.get_guild(FOREIGN_GUILD) is None
    assert record.owners == {"1": str(user.id)} and record.payload["guild"]["id"] == str(FOREIGN_GUILD)
    assert not result_message(record).ephemeral
    visitor = rig.user(2)
    refused_privately(await rig.press(result_message(record), "▶", user=visitor), "belong to the person")


# ------------------------------------------------------------------------------------------------ forced private


async def test_forced_private_without_use_external_apps(rig: Rig) -> None:
    """Where Discord makes every response private, the bot knows: results are private, 📤 is never offered."""
    user = rig.user(1).without(USE_EXTERNAL_APPS)
    rig.discord.install_for_user(user)
    onlooker = rig.user(2)

    record = await rig.discord.slash("photo", {"query": "bridges"}, user=user, guild_id=FOREIGN_GUILD)
    await record.wait_done()
    answered_in_time(record)
    assert record.forced_ephemeral
    message = result_message(record)
    assert message.ephemeral and message.flags & 64
    assert record.responses[0]["data"].get("flags", 0) & 64, "the bot asked for private itself: it knew"
    assert "📤" not in names(message)
    assert rig.discord.channel_messages(FOREIGN_CHANNEL, viewer=onlooker.id) == []
    pressed = await rig.press(message, "▶", user=user)
    answered_in_time(pressed)
    assert footer(rig.discord.messages[message.id]) == '2 / 240 · "bridges"'
    assert "📤" not in names(rig.discord.messages[message.id])

    private = await rig.discord.slash("photo", {"query": "rivers", "private": True}, user=user, guild_id=FOREIGN_GUILD)
    await private.wait_done()
    picker = result_message(private)
    assert picker.ephemeral and "📤" not in names(picker), "no Post where nothing can be posted"
    await rig.press(picker, "▶", user=user)
    assert "📤" not in names(rig.discord.messages[picker.id])

    target = rig.discord.post_user_message(FOREIGN_CHANNEL, NEWS, author=onlooker)
    menu_record = await rig.discord.message_command("Find photos", target, user=user)
    await menu_record.wait_done(timeout=10)
    menu = result_message(menu_record)
    chosen = await rig.discord.select(menu.id, [menu.selects()[0]["options"][0]["value"]], user=user)
    await chosen.wait_done()
    assert "📤" not in names(rig.discord.messages[menu.id])

    assert rig.discord.channel_messages(FOREIGN_CHANNEL, viewer=onlooker.id) == [target]
    assert not any("Posted" in m.text for m in rig.discord.messages.values())


async def test_post_on_a_picker_opened_before_the_permission_was_taken_away(rig: Rig) -> None:
    """A 📤 from a picker that offered it, pressed once the member lacks Use External Apps: explained, and never
    "Posted" (Discord would have made the post private: nothing public would exist)."""
    allowed = rig.user(1)
    rig.discord.install_for_user(allowed)
    record = await rig.discord.slash("photo", {"query": "dunes", "private": True}, user=allowed, guild_id=FOREIGN_GUILD)
    await record.wait_done()
    picker = result_message(record)
    assert "📤" in names(picker)

    restricted = allowed.without(USE_EXTERNAL_APPS)
    posted = await rig.press(picker, "📤", user=restricted)
    refused_privately(posted, "only allows private results")
    assert rig.discord.channel_messages(FOREIGN_CHANNEL, viewer=rig.user(2).id) == []
    current = rig.discord.messages[picker.id]
    assert "Posted" not in current.text and footer(current) == '1 / 240 · "dunes"'
    assert not any("Posted" in m.text for m in rig.discord.messages.values())


# ------------------------------------------------------------------------------------------------ AutoMod


async def test_automod_rejecting_a_result_gets_a_clear_private_reply(rig: Rig) -> None:
    """AutoMod blocks the result (Discord error 200000): the user is told that, privately, not "went wrong"."""
    rig.discord.automod_block("forbidden", count=None)
    record = await rig.photo("forbidden fruit", user=rig.user(1))
    assert record.ack_latency is not None and record.ack_latency < 3, record.describe()
    assert 200000 in record.errors
    assert record.public_reply_text == ""
    assert "AutoMod blocked that result" in record.ephemeral_reply_text, record.describe()
    assert "went wrong" not in record.reply_text.lower()

    rig.pexels.slow_next(1.6)
    deferred = await rig.discord.slash("photo", {"query": "forbidden city"}, user=rig.user(2))
    await deferred.wait_for(lambda r: bool(r.ephemeral_reply_text), timeout=10)
    assert deferred.response_type == 5 and deferred.placeholder is not None and deferred.placeholder.deleted
    assert "AutoMod blocked that result" in deferred.ephemeral_reply_text
    assert deferred.public_reply_text == ""
    assert [m for m in rig.discord.channel_messages(DEFAULT_CHANNEL) if m.is_visible_publicly] == []

    allowed = await rig.photo("orchards", user=rig.user(3))
    answered_in_time(allowed)
    assert not result_message(allowed).ephemeral


# ------------------------------------------------------------------------------------------------ defer rules


async def test_after_a_defer_the_answer_edits_the_original(rig: Rig) -> None:
    """A slow search defers, then puts its result (or, after a private defer, its error) in place with Edit
    Original Interaction Response; a slow press defers and edits the message; nothing fills by followup."""
    user = rig.user(1)
    rig.pexels.set_total("sleet", 0)
    rig.pexels.slow_next(1.5, count=3)
    public, private, failed = await asyncio.gather(
        rig.photo("storm clouds", user=user),
        rig.photo("hail", user=user, private=True),
        rig.photo("sleet", user=user, private=True),
    )
    answered_in_time(public)
    assert public.response_type == 5 and public.filled_by == "edit_original"
    assert not result_message(public).ephemeral and footer(result_message(public)) == '1 / 240 · "storm clouds"'
    assert private.response_type == 5 and private.filled_by == "edit_original"
    assert result_message(private).ephemeral and "📤" in names(result_message(private))
    assert failed.response_type == 5 and failed.filled_by == "edit_original"
    assert "no results" in failed.ephemeral_reply_text.lower() and failed.public_reply_text == ""

    message = result_message(public)
    rig.pexels.slow_next(1.5)
    pressed = await rig.press(message, "⏭", user=user)
    answered_in_time(pressed)
    assert pressed.response_type == 6
    await pressed.wait_for(lambda r: footer(rig.discord.messages[message.id]).startswith("240 / 240"))
    assert [c.route for c in pressed.calls if c.method == "PATCH"] == ["edit_original"]

    assert rig.discord.calls_on("followup") == [], "the deprecated first-followup fill is never used"
    no_deprecated_fill(rig, public, private, failed)


async def test_late_interactions_defer_at_once_and_are_answered_in_time(make_rig: RigFactory) -> None:
    """Interactions created 2.5 s before they reach the bot (a slow gateway, a busy loop) defer at once: the 3 s
    count from creation, not from when the bot read them; then they are answered by editing the original."""
    rig = await make_rig(BUTTON_COOLDOWN="100/10")
    user = rig.user(1)

    rig.pexels.slow_next(0.8)
    record = await rig.discord.slash("photo", {"query": "night train"}, user=user, late=2.5)
    await record.wait_done(timeout=10)
    assert record.delivery_delay is not None and record.delivery_delay >= 2.4
    assert record.response_age is not None and record.response_age < 3, record.describe()
    assert record.response_type == 5 and record.filled_by == "edit_original" and not record.expired
    message = result_message(record)
    assert footer(message) == '1 / 240 · "night train"'

    rig.pexels.slow_next(0.8)
    pressed = await rig.discord.click(message.id, "⏭", user=user, late=2.5)
    await pressed.wait_for(lambda r: footer(rig.discord.messages[message.id]).startswith("240 / 240"), timeout=10)
    assert pressed.response_age is not None and pressed.response_age < 3, pressed.describe()
    assert pressed.response_type == 6 and pressed.errors == []

    opened = await rig.press(rig.discord.messages[message.id], "240 / 240", user=user)
    rig.pexels.slow_next(0.8)
    jumped = await rig.discord.submit_modal(opened, {jump_field(opened): "120"}, late=2.5)
    await jumped.wait_for(lambda r: footer(rig.discord.messages[message.id]).startswith("120 / 240"), timeout=10)
    assert jumped.response_age is not None and jumped.response_age < 3 and jumped.errors == [], jumped.describe()

    target = rig.discord.post_user_message(DEFAULT_CHANNEL, NEWS, author=rig.user(2))
    menu_record = await rig.discord.message_command("Find photos", target, user=user, late=2.5)
    await menu_record.wait_done(timeout=10)
    assert menu_record.response_age is not None and menu_record.response_age < 3, menu_record.describe()
    assert menu_record.filled_by == "edit_original"
    menu = result_message(menu_record)
    assert menu.ephemeral and menu.selects()
    rig.pexels.slow_next(0.8)
    choice = menu.selects()[0]["options"][0]["value"]
    chosen = await rig.discord.select(menu.id, [choice], user=user, late=2.5)
    await chosen.wait_for(lambda r: rig.discord.messages[menu.id].embeds != [], timeout=10)
    assert chosen.response_age is not None and chosen.response_age < 3 and chosen.errors == [], chosen.describe()
    assert footer(rig.discord.messages[menu.id]) == f'1 / 240 · "{choice}"'
    assert rig.discord.calls_on("followup") == []


# ------------------------------------------------------------------------------------------------ shapes


async def test_the_jump_modal_uses_a_label_and_reads_both_shapes(make_rig: RigFactory) -> None:
    """The modal sends its input inside a Label (type 18); a submission in either shape is read."""
    rig = await make_rig(BUTTON_COOLDOWN="100/10")
    user = rig.user(1)
    message = result_message(await rig.photo("windmills", user=user))
    for shape, typed in (("label", "7"), ("row", "9")):
        opened = await rig.press(rig.discord.messages[message.id], names(rig.discord.messages[message.id])[2],
                                 user=user)  # fmt: skip
        field = jump_field(opened)
        assert opened.modal is not None and opened.modal["components"][0]["label"].startswith("Result number")
        jumped = await rig.discord.submit_modal(opened, {field: typed}, shape=shape)
        await jumped.wait_done()
        answered_in_time(jumped)
        assert footer(rig.discord.messages[message.id]) == f'{typed} / 240 · "windmills"'


async def test_embed_images_carry_alt_text(make_rig: RigFactory) -> None:
    """Every image has alt text for screen readers: a photo's alt, a title where Pexels has none, a video's title;
    a posted result too."""
    rig = await make_rig(BUTTON_COOLDOWN="100/10")
    user = rig.user(1)
    photo = rig.pexels.photo("sunset", 0, locale="en-US")
    message = result_message(await rig.photo("sunset", user=user))
    assert message.image_alts() == [(photo["src"]["large"], photo["alt"])]

    rig.pexels.set_total("foggy harbour", 8)
    foggy = result_message(await rig.photo("foggy harbour", user=user))
    await rig.press(foggy, "⏭", user=user)
    assert rig.pexels.photo("foggy harbour", 7, locale="en-US")["alt"] == ""
    assert [alt for _, alt in rig.discord.messages[foggy.id].image_alts()] == ["Foggy harbour photo 7"]

    video = rig.pexels.video("waves", 0, locale="en-US")
    shown = result_message(await rig.command("video", {"query": "waves"}, user=user))
    assert shown.image_alts() == [(video["image"], embed(shown)["title"].replace("\\", ""))]

    picker = result_message(await rig.photo("sunset", user=user, private=True))
    posted = await rig.press(picker, "📤", user=user)
    await posted.wait_for(lambda r: any(not m.ephemeral for m in r.messages))
    public = next(m for m in posted.messages if not m.ephemeral)
    assert public.image_alts() == [(photo["src"]["large"], photo["alt"])]


async def test_alt_text_is_bounded_to_discords_limit(rig: Rig) -> None:
    """A very long alt text still fits the 1,024 characters Discord takes for an image's alt text."""
    rig.pexels.tamper("essay", 0, alt="A long description of a quiet harbour at dawn. " * 60)
    record = await rig.photo("essay", user=rig.user(1))
    answered_in_time(record)
    ((_, alt),) = result_message(record).image_alts()
    assert alt is not None and 200 < len(alt) <= 1024 and alt.startswith("A long description")


# ------------------------------------------------------------------------------------------------ install counts


async def test_about_shows_the_install_counts(rig: Rig) -> None:
    """/about shows how many servers and users have installed the app (Discord's approximate counts)."""
    for n in (1, 2, 3):
        rig.discord.install_for_user(rig.user(n))
    for n in range(3):
        rig.discord.add_guild(661720242585600100 + n)  # installed elsewhere, on a shard this process doesn't run
    record = await rig.command("about", user=rig.user(1))
    answered_in_time(record)
    fields = {f["name"]: f["value"] for f in embed(result_message(record))["fields"]}
    servers = sum(1 for g in rig.discord.guilds.values() if g.installed)
    assert (fields["Servers"], fields["Users"]) == (f"{servers:,}", "3")
    assert servers == len(rig.bot.guilds) + 3, "the counts come from the application, not the guild cache"


async def test_sync_registers_every_command_for_every_install_and_context(rig: Rig) -> None:
    """Every command usable anywhere, the message menu and /saved included, registers integration_types [0, 1] and
    contexts [0, 1, 2]; /settings and /daily, which configure a server, only a server install in servers."""
    commands = {c["name"]: c for c in rig.discord.global_commands}
    everywhere = {"photo", "video", "curated", "about", "Find photos", "saved"}
    assert set(commands) == everywhere | {"settings", "daily"}
    for name in everywhere:
        assert commands[name]["integration_types"] == [0, 1], name
        assert commands[name]["contexts"] == [0, 1, 2], name
    for name in ("settings", "daily"):
        assert commands[name]["integration_types"] == [0], name
        assert commands[name]["contexts"] == [0], name
