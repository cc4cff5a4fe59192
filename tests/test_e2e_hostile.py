"""Hostile or stale interactions, floods and a hung Redis, end to end (issue 12).

What a modified client, or commands registered by an older release, can make Discord deliver (built with the
loopback Discord's `forge`, exactly as given): each gets a clear private answer in time and changes nothing it
shouldn't. Then 15 simultaneous uses of Find photos on one message, and uncached searches while the shared
Redis is stopped with its sockets open.
"""

from __future__ import annotations

import asyncio
import logging
import os
import signal
from collections.abc import Iterator
from typing import Any

import pytest

import bot.invocation
from tests.fakes.discord import DEFAULT_CHANNEL, InteractionRecord, StoredMessage
from tests.harness import Rig, RigFactory, answered_in_time, footer, refused_privately, result_message
from tests.redis_server import RedisServer, redis_server_binary

APPLICATION_COMMAND, MESSAGE_COMPONENT, MODAL_SUBMIT = 2, 3, 5
STRING, BOOLEAN, INTEGER, SUBCOMMAND = 3, 5, 4, 1
STALE = "this command changed"
NEWS = (
    "Thousands of runners crossed the Brandenburg Gate on Sunday as the Berlin Marathon finished in warm "
    "autumn weather, while spectators lined the streets around the finish line."
)


@pytest.fixture
def fresh_warnings(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """The stale-command WARNING is throttled per process: start each test as a fresh process would."""
    monkeypatch.setattr(bot.invocation, "_warned_at", float("-inf"))
    yield


def query(value: Any, option_type: int = STRING) -> dict[str, Any]:
    """The `query` option as a client would send it (any value, any declared type)."""
    return {"name": "query", "type": option_type, "value": value}


async def forged_command(rig: Rig, data: dict[str, Any], *, user_n: int = 1) -> InteractionRecord:
    """Deliver a chat-input command with exactly `data`, and wait for its outcome."""
    record = await rig.discord.forge(APPLICATION_COMMAND, data, user=rig.user(user_n))
    await record.wait_done(timeout=5)
    return record


def photo(rig: Rig, options: Any) -> dict[str, Any]:
    """/photo's data with `options` as given."""
    return {"id": rig.discord.command("photo")["id"], "name": "photo", "type": 1, "options": options}


# ------------------------------------------------------------------------------------------------ options


@pytest.mark.parametrize(
    "options",
    [
        [query(5)],
        [query(2.5)],
        [query(True)],
        [query(None)],
        [query(["sunset"])],
        [query({"text": "sunset"})],
        [query("sea"), {"name": "private", "type": BOOLEAN, "value": "yes"}],
    ],
    ids=["number", "float", "boolean", "null", "list", "object", "string-for-boolean"],
)
async def test_an_option_of_the_wrong_type_is_refused_clearly(rig: Rig, options: list[dict[str, Any]]) -> None:
    """A value of a type the option can't take: a clear private answer, nothing searched."""
    record = await forged_command(rig, photo(rig, options))
    refused_privately(record, "got a value it can't take")
    assert rig.pexels.count() == 0


async def test_a_missing_required_option_is_refused_clearly(rig: Rig) -> None:
    """/photo without its query: the user is told to fill it in."""
    refused_privately(await forged_command(rig, photo(rig, [])), "`query` is required")
    refused_privately(await forged_command(rig, photo(rig, [{"name": "private", "type": BOOLEAN, "value": True}])),
                      "`query` is required")  # fmt: skip
    assert rig.pexels.count() == 0


async def test_a_choice_that_is_not_offered_is_refused_with_the_choices(rig: Rig) -> None:
    """`orientation: diagonal` is refused up front, naming the valid choices (it could not be paged later)."""
    options = [query("roofs"), {"name": "orientation", "type": STRING, "value": "diagonal"}]
    text = refused_privately(await forged_command(rig, photo(rig, options)), "isn't a choice for `orientation`")
    assert "`landscape`" in text and "`portrait`" in text and "`square`" in text
    assert rig.pexels.count() == 0


@pytest.mark.parametrize(
    "data",
    [
        {"name": "photo", "type": 1, "options": [query("sea"), {"name": "sharpness", "type": STRING, "value": "x"}]},
        {"name": "gif", "type": 1, "options": [query("sea")]},
        {"name": "photo", "type": 1, "options": [{"name": "search", "type": SUBCOMMAND, "options": [query("sea")]}]},
        {"type": 1, "options": [query("sea")]},
        {"name": "photo", "type": 1, "options": [query("sea", INTEGER)]},
        {"name": "photo", "type": 1, "options": "sea"},
        {"name": "Find photos", "type": 3},
        {"name": "Find users", "type": 2, "target_id": "1"},
    ],
    ids=[
        "unknown-option",
        "unknown-command",
        "unknown-subcommand",
        "no-name",
        "option-of-another-type",
        "malformed-options",
        "menu-without-target",
        "unknown-menu",
    ],
)
async def test_a_stale_invocation_is_answered_and_the_operator_told_once(
    rig: Rig, data: dict[str, Any], fresh_warnings: None, caplog: pytest.LogCaptureFixture
) -> None:
    """A command, subcommand or option this release does not define: "this command changed, try again in a
    minute" privately, and one WARNING for the operator suggesting `python -m bot sync`."""
    caplog.set_level(logging.WARNING)
    for n in (1, 2):
        refused_privately(await forged_command(rig, {"id": "1", **data}, user_n=n), STALE, "try again in a minute")
    warned = [r for r in caplog.records if "python -m bot sync" in r.getMessage()]
    assert len(warned) == 1 and warned[0].levelno == logging.WARNING, [r.getMessage() for r in caplog.records]
    assert not any(r.exc_info or r.levelno >= logging.ERROR for r in caplog.records)
    assert rig.pexels.count() == 0


# ------------------------------------------------------------------------------------------------ components


async def test_a_press_that_is_not_on_the_message_is_answered(rig: Rig) -> None:
    """A custom_id naming the presser as owner but not on the message (a jump the buttons never offered):
    answered clearly in time, and the message does not move."""
    owner = rig.user(1)
    message = result_message(await rig.photo("lanterns", user=owner))
    real = message.button("▶")["custom_id"]
    action, who, index, spec, key = real.removeprefix("px:").split(":")
    assert (action, who, index) == ("n", str(owner.id), "1")
    for forged in (f"px:n:{owner.id}:150:{spec}:{key}", f"px:s:{owner.id}:0:{spec}:{key}", "px:nonsense"):
        data = {"custom_id": forged, "component_type": 2}
        record = await rig.discord.forge(MESSAGE_COMPONENT, data, user=owner, message=message)
        await record.wait_done()
        refused_privately(record, "can't be browsed any more")
    assert footer(rig.discord.messages[message.id]) == '1 / 240 · "lanterns"'
    assert not any(not m.ephemeral for m in rig.discord.channel_messages(DEFAULT_CHANNEL) if m.id != message.id)
    assert rig.pexels.count() == 1


def jump_input(opened: InteractionRecord) -> str:
    """The jump modal's text input."""
    assert opened.modal is not None
    label = opened.modal["components"][0]
    return str((label.get("component") or label["components"][0])["custom_id"])


def submission(modal_id: str, field: str, value: str) -> dict[str, Any]:
    """A modal submission in the Label shape, exactly as given."""
    return {"custom_id": modal_id, "components": [{"type": 18, "id": 1, "component": {
        "type": 4, "id": 2, "custom_id": field, "value": value}}]}  # fmt: skip


@pytest.mark.parametrize("typed", ["²", "①", "٣", "1e3", " 4 2 "])
async def test_jump_values_that_are_not_plain_numbers(rig: Rig, typed: str) -> None:
    """Unicode digits `str.isdigit` accepts (², ①, Arabic-Indic ٣) and other near-numbers: a clear answer."""
    user = rig.user(1)
    message = result_message(await rig.photo("kites", user=user))
    opened = await rig.press(message, "1 / 240", user=user)
    record = await rig.discord.submit_modal(opened, {jump_input(opened): typed})
    await record.wait_done()
    refused_privately(record, "Type a result number from 1 to 240")
    assert footer(rig.discord.messages[message.id]) == '1 / 240 · "kites"'


async def test_a_5000_digit_jump_is_answered(rig: Rig) -> None:
    """A modified client sends 5,000 digits (the field allows 6): a clear answer, no traceback."""
    user = rig.user(1)
    message = result_message(await rig.photo("kites", user=user))
    opened = await rig.press(message, "1 / 240", user=user)
    assert opened.modal is not None
    data = submission(opened.modal["custom_id"], jump_input(opened), "9" * 5000)
    record = await rig.discord.forge(MODAL_SUBMIT, data, user=user, message=message, opened_by=opened)
    await record.wait_done()
    refused_privately(record, "Type a result number from 1 to 240")


async def test_a_modal_submitted_after_its_message_was_deleted(rig: Rig) -> None:
    """The result was deleted while its jump modal was open: the submission gets a clear answer."""
    user = rig.user(1)
    message = result_message(await rig.photo("kites", user=user))
    opened = await rig.press(message, "1 / 240", user=user)
    answered_in_time(await rig.press(message, "🗑", user=user))
    assert rig.discord.messages[message.id].deleted
    record = await rig.discord.submit_modal(opened, {jump_input(opened): "5"})
    await record.wait_done()
    assert record.ack_latency is not None and record.ack_latency < 3, record.describe()
    assert record.errors == [10008], "only the update of the gone message failed"
    assert record.public_reply_text == "" and "message is gone" in record.ephemeral_reply_text, record.describe()

    assert opened.modal is not None
    data = submission(opened.modal["custom_id"], jump_input(opened), "5")
    orphan = await rig.discord.forge(MODAL_SUBMIT, data, user=user)  # no message at all
    await orphan.wait_done()
    refused_privately(orphan, "can't be browsed any more")


async def test_forged_modal_ids_are_refused(rig: Rig) -> None:
    """A jump modal id the message never offered (another owner, another position, or nonsense): refused, and
    the owner's message does not move."""
    owner, intruder = rig.user(1), rig.user(2)
    message = result_message(await rig.photo("kites", user=owner))
    jump_id = message.button("1 / 240")["custom_id"]
    _, _, _, spec, key = jump_id.removeprefix("px:").split(":")
    forged = [f"pxm:j:{intruder.id}:0:{spec}:{key}", f"pxm:j:{owner.id}:7:{spec}:{key}", "pxm:j:1:2:x:y"]
    for modal_id, user in zip(forged, (intruder, owner, intruder), strict=True):
        record = await rig.discord.forge(MODAL_SUBMIT, submission(modal_id, "pxm-number", "200"), user=user,
                                         message=message)  # fmt: skip
        await record.wait_done()
        refused_privately(record, "can't be browsed any more")
    assert footer(rig.discord.messages[message.id]) == '1 / 240 · "kites"'


async def find_photos_menu(rig: Rig, user_n: int = 1) -> StoredMessage:
    """The Find photos menu on a news message."""
    target = rig.discord.post_user_message(DEFAULT_CHANNEL, NEWS, author=rig.user(50))
    record = await rig.discord.message_command("Find photos", target, user=rig.user(user_n))
    await record.wait_done(timeout=10)
    return result_message(record)


async def test_select_values_never_offered_are_refused(rig: Rig) -> None:
    """A Find photos choice that the menu did not offer, or a menu id naming someone else: refused, not searched."""
    user = rig.user(1)
    menu = await find_photos_menu(rig)
    select_id = menu.selects()[0]["custom_id"]
    offered = [o["value"] for o in menu.selects()[0]["options"]]
    cases = [
        ({"custom_id": select_id, "component_type": 3, "values": ["weapons for sale"]}, user),
        ({"custom_id": select_id, "component_type": 3, "values": offered[:2]}, user),
        ({"custom_id": select_id, "component_type": 3, "values": "marathon"}, user),
        ({"custom_id": f"pxk:{rig.user(2).id}:en-US", "component_type": 3, "values": offered[:1]}, user),
    ]
    for data, presser in cases:
        record = await rig.discord.forge(MESSAGE_COMPONENT, data, user=presser, message=menu)
        await record.wait_done()
        refused_privately(record, "can't be browsed any more")
    assert rig.pexels.count() == 0
    assert rig.discord.messages[menu.id].selects(), "the menu is still there to use"


# ------------------------------------------------------------------------------------------------ floods


async def test_fifteen_simultaneous_find_photos_on_one_message(make_rig: RigFactory) -> None:
    """15 uses of Find photos on one message at once: every one is answered in time, and the search cooldown
    counts them (the fifth use by one user, with 3 a minute allowed, is told when to come back)."""
    rig = await make_rig(SEARCH_COOLDOWN="3/60")
    target = rig.discord.post_user_message(DEFAULT_CHANNEL, NEWS + " " + NEWS.lower(), author=rig.user(50))
    users = [rig.user(n) for n in range(1, 11)] + [rig.user(11)] * 5
    records = await asyncio.gather(*(rig.discord.message_command("Find photos", target, user=u) for u in users))
    await asyncio.gather(*(r.wait_done(timeout=10) for r in records))
    for record in records:
        answered_in_time(record)
        assert record.response_age is not None and record.response_age < 3, record.describe()
    menus = [r for r in records if any(m.selects() for m in r.messages if not m.deleted)]
    refused = [r for r in records if "faster than this bot allows" in r.ephemeral_reply_text]
    assert len(menus) == 13 and len(refused) == 2, [r.reply_text[:60] for r in records]
    assert {r.user_id for r in refused} == {rig.user(11).id}
    assert all(r.public_reply_text == "" for r in records)


# ------------------------------------------------------------------------------------------------ a hung Redis


@pytest.fixture
def redis() -> Iterator[RedisServer]:
    """A redis-server of this test's own (the test stops it with SIGSTOP), resumed and removed afterwards."""
    server = RedisServer(redis_server_binary())
    server.start()
    try:
        yield server
    finally:
        pid = server.pid
        if pid is not None:
            os.kill(pid, signal.SIGCONT)
        server.cleanup()


async def test_uncached_searches_are_answered_in_time_while_redis_hangs(
    make_rig: RigFactory, redis: RedisServer
) -> None:
    """Redis stops answering with its sockets open: 12 new searches at once are each acknowledged inside Discord's
    window (the shared-store calls on the answering path have a budget counted from the interaction's creation,
    so a Redis call that hangs for its 2 s of socket timeouts can't push the answer past 3 s), and each then gets
    its result."""
    rig = await make_rig(REDIS_URL=redis.url, SEARCH_COOLDOWN="100/60")
    answered_in_time(await rig.photo("warm up", user=rig.user(99)))
    assert rig.bot.state.backend == "redis"
    assert redis.pid is not None
    rig.pexels.slow_next(1.1, count=12)  # each search also takes Pexels a second
    os.kill(redis.pid, signal.SIGSTOP)
    try:
        records = await asyncio.gather(
            *(rig.discord.slash("photo", {"query": f"lake {n}"}, user=rig.user(n)) for n in range(12))
        )
        await asyncio.gather(*(r.wait_done(timeout=15) for r in records))
        for record in records:
            assert not record.failed, record.describe()
            assert record.response_age is not None and record.response_age < 3, record.describe()
            assert record.reply_text, record.describe()
        shown = [r for r in records if any(m.embeds for m in r.messages if not m.deleted)]
        assert len(shown) == 12, [r.reply_text[:80] for r in records]
    finally:
        os.kill(redis.pid, signal.SIGCONT)
