"""Discord faults end to end (issue 12): lost acknowledgements, failing followups, expired interactions, a zombie
gateway, frames discord.py can't read, fatal close codes, an unreachable gateway and SIGTERM mid-answer.

In-process tests run the real bot against the loopback Discord and Pexels; the process-level ones (exit codes,
signals) run `python -m bot` as a child, as an operator would.
"""

from __future__ import annotations

import asyncio
import io
import logging
import signal
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import discord
import pytest

import bot.answer
import bot.gateway
from bot import redact
from tests.fakes.discord import DEFAULT_CHANNEL, FakeDiscord, InteractionRecord
from tests.fakes.pexels import FakePexels
from tests.harness import (
    BotProcess,
    ErrorGuard,
    Rig,
    answered_in_time,
    bot_environment,
    footer,
    logged_errors,
    loopback,
    make_user,
    result_message,
    run_bot,
)

World = tuple[FakeDiscord, FakePexels, Path]


class _QuickRetries:
    """discord.py's webhook module with its retry pauses (1, 3, 5, 7 s after each 5xx) cut to 20 ms: the tests
    judge what the bot does once every retry has failed, not discord.py's pacing."""

    def __getattr__(self, name: str) -> Any:
        return getattr(asyncio, name)

    @staticmethod
    async def sleep(delay: float, result: Any = None) -> Any:
        return await asyncio.sleep(min(delay, 0.02), result)


@pytest.fixture
def quick_webhook_retries(monkeypatch: pytest.MonkeyPatch) -> None:
    """Shorten discord.py's pauses between webhook retries (followups, @original edits) for this test."""
    monkeypatch.setattr(discord.webhook.async_, "asyncio", _QuickRetries())


@pytest.fixture
def fresh_reports(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """Throttled reports (expired interactions, dropped frames) start afresh, whatever earlier tests logged."""
    monkeypatch.setattr(bot.answer, "EXPIRED", bot.answer._Expired())
    monkeypatch.setattr(bot.gateway, "DROPPED", bot.gateway._Dropped())
    yield


def warnings_from(caplog: pytest.LogCaptureFixture, text: str) -> list[logging.LogRecord]:
    """The WARNING records whose message contains `text`."""
    return [r for r in caplog.records if r.levelno == logging.WARNING and text in r.getMessage()]


def no_tracebacks(caplog: pytest.LogCaptureFixture) -> None:
    """No record carried a traceback, and none was logged at ERROR."""
    bad = [r for r in caplog.records if r.exc_info or r.levelno >= logging.ERROR]
    assert bad == [], [f"{r.name}: {r.getMessage()}" for r in bad]


def public_messages(rig: Rig, channel: int = DEFAULT_CHANNEL) -> list[Any]:
    """What an onlooker in the channel sees."""
    return [m for m in rig.discord.channel_messages(channel) if m.is_visible_publicly]


# ------------------------------------------------------------------------------------------------ lost acks


async def test_a_defer_discord_processed_but_answered_5xx(rig: Rig, caplog: pytest.LogCaptureFixture) -> None:
    """The defer got through but its answer was a 500: discord.py retries it and meets 40060. The bot treats the
    defer as sent and finishes by editing the original: the user is never left on "thinking…"."""
    caplog.set_level(logging.INFO)
    rig.discord.fail_next("callback", status=500, processed=True, callback_types={5})
    rig.pexels.slow_next(1.5)
    record = await rig.photo("lost lighthouse", user=rig.user(1))
    assert record.response_type == 5 and record.acked_twice
    assert record.filled_by == "edit_original", record.describe()
    message = result_message(record)
    assert not message.loading and not message.ephemeral
    assert footer(message) == '1 / 240 · "lost lighthouse"'
    assert record.errors.count(40060) == 1 and "went wrong" not in record.reply_text.lower()
    no_tracebacks(caplog)


async def test_a_reply_discord_processed_but_answered_5xx(rig: Rig, caplog: pytest.LogCaptureFixture) -> None:
    """The same for a direct reply and for a press: the result stands, once, with no error shown."""
    caplog.set_level(logging.INFO)
    user = rig.user(1)
    rig.discord.fail_next("callback", status=500, processed=True, callback_types={4})
    record = await rig.photo("windy pier", user=user)
    await record.wait_for(lambda r: len(r.callbacks) >= 2, timeout=5)  # discord.py retries the 500 after 1 s
    await asyncio.sleep(0.2)
    assert record.response_type == 4 and record.acked_twice
    assert [footer(m) for m in record.messages] == ['1 / 240 · "windy pier"']
    assert record.ephemeral_reply_text == ""

    message = result_message(record)
    rig.discord.fail_next("callback", status=500, processed=True, callback_types={7})
    pressed = await rig.press(message, "▶", user=user)
    await pressed.wait_for(lambda r: len(r.callbacks) >= 2, timeout=5)
    await asyncio.sleep(0.2)
    assert footer(rig.discord.messages[message.id]) == '2 / 240 · "windy pier"'
    assert pressed.reply_text == "" and len(pressed.callbacks) == 2
    no_tracebacks(caplog)


async def test_followups_failing_5xx_never_make_an_error_public(
    rig: Rig, quick_webhook_retries: None, caplog: pytest.LogCaptureFixture
) -> None:
    """Every retry of the answer after a public defer fails with 5xx: the error is told privately, the public
    placeholder is deleted, nothing is shown to the channel."""
    rig.discord.fail_next("message", status=500, count=5)
    rig.pexels.slow_next(1.5)
    record = await rig.photo("gale", user=rig.user(1))
    await record.wait_for(lambda r: bool(r.ephemeral_reply_text), timeout=10)
    assert record.response_type == 5
    assert record.placeholder is not None and record.placeholder.deleted
    assert record.public_reply_text == "" and public_messages(rig) == []
    assert "Discord" in record.ephemeral_reply_text, record.ephemeral_reply_text
    no_tracebacks(caplog)


async def test_a_private_error_whose_followup_fails_stays_private(
    rig: Rig, quick_webhook_retries: None, caplog: pytest.LogCaptureFixture
) -> None:
    """Pexels fails after a public defer and the private followup that would say so fails too: the placeholder
    is gone, nothing is public, and the operator gets one WARNING (there is nobody left to tell)."""
    rig.pexels.fail_next(503, count=3, delay=0.5, body="<html>503</html>", content_type="text/html")
    rig.discord.fail_next("followup", status=502, count=None)
    record = await rig.photo("squall", user=rig.user(1))
    await record.wait_for(lambda r: r.placeholder is not None and r.placeholder.deleted, timeout=10)
    await rig.discord.wait_until(lambda: bool(warnings_from(caplog, "Could not tell user")), timeout=5)
    assert record.public_reply_text == "" and public_messages(rig) == []
    assert len(warnings_from(caplog, "Could not tell user")) == 1
    no_tracebacks(caplog)


# ------------------------------------------------------------------------------------------------ expired


async def test_expired_interactions_are_one_warning_each(
    rig: Rig, fresh_reports: None, caplog: pytest.LogCaptureFixture, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Interactions Discord had already expired (10062): one WARNING each naming the interaction and the delay,
    no traceback; a burst is capped at 5 lines a window, the rest summarised in one line when it ends."""
    caplog.set_level(logging.INFO)
    user = rig.user(1)
    message = result_message(await rig.photo("meteor", user=user))
    late = await rig.discord.slash("photo", {"query": "comet"}, user=rig.user(2), late=3.5)
    press = await rig.discord.click(message.id, "▶", user=user, late=3.5)
    for record in (late, press):
        await record.wait_for(lambda r: r.expired, timeout=5)
    await rig.discord.wait_until(lambda: len(warnings_from(caplog, "expired before it was answered")) >= 2, 5)
    await asyncio.sleep(0.3)
    lines = warnings_from(caplog, "expired before it was answered")
    assert len(lines) == 2
    for record in (late, press):
        (line,) = [r.getMessage() for r in lines if str(record.id) in r.getMessage()]
        assert "s after Discord created it" in line, line
    no_tracebacks(caplog)

    monkeypatch.setattr(bot.answer, "EXPIRED", bot.answer._Expired(window=2.0))  # a minute in production
    caplog.clear()
    burst = [
        await rig.discord.slash("photo", {"query": f"star {n}"}, user=rig.user(10 + n), late=3.5) for n in range(8)
    ]
    for record in burst:
        await record.wait_for(lambda r: r.expired, timeout=5)
    await asyncio.sleep(0.3)
    assert len(warnings_from(caplog, "expired before it was answered")) == 5, "at most 5 lines a window"
    await rig.discord.wait_until(lambda: bool(warnings_from(caplog, "more interactions expired")), timeout=3)
    (summary,) = warnings_from(caplog, "more interactions expired")
    assert summary.getMessage().startswith("3 more interactions expired"), summary.getMessage()
    no_tracebacks(caplog)


# ------------------------------------------------------------------------------------------------ gateway


@pytest.fixture
async def quick_heartbeat_rig(errors: ErrorGuard) -> AsyncIterator[Rig]:
    """The bot against a loopback Discord that asks for a heartbeat every half second."""
    async with loopback(discord=FakeDiscord(heartbeat_interval=0.5)) as rig:
        yield rig


async def test_a_zombie_gateway_is_found_at_the_next_heartbeat(
    quick_heartbeat_rig: Rig, caplog: pytest.LogCaptureFixture
) -> None:
    """Heartbeat ACKs stop and nothing arrives: the bot notices at the next heartbeat, reconnects (RESUME), logs
    one WARNING, and serves again, including the interaction sent while the connection was a zombie."""
    rig = quick_heartbeat_rig
    (zombie,) = rig.discord.zombie()
    during = await rig.discord.slash("photo", {"query": "ghost town"}, user=rig.user(1))
    await rig.discord.wait_until(lambda: zombie.detected_after is not None, timeout=6)
    assert zombie.detected_after is not None and zombie.detected_after < 1.5, zombie
    assert zombie.closed_by_client
    await rig.discord.wait_until(lambda: rig.discord.resumes >= 1 and bool(rig.discord.live_sessions), timeout=5)
    await during.wait_done(timeout=5)
    assert footer(result_message(during)) == '1 / 240 · "ghost town"'
    answered_in_time(await rig.photo("lively town", user=rig.user(2)))
    warned = [r for r in caplog.records if r.levelno == logging.WARNING and "responding" in r.getMessage()]
    assert len(warned) == 1, [r.getMessage() for r in caplog.records if r.levelno >= logging.WARNING]
    assert len(rig.discord.identifies) == 1, "resumed, not re-identified"


async def test_frames_discord_py_cannot_read_do_not_stop_the_bot(
    rig: Rig, fresh_reports: None, caplog: pytest.LogCaptureFixture
) -> None:
    """A frame with a lone surrogate (orjson refuses it), an event without a field discord.py requires, and an
    event that is not what its type says: each is dropped with a WARNING naming it; the bot keeps serving."""
    await rig.discord.send_undecodable("GUILD_UPDATE")
    answered_in_time(await rig.photo("after the frame", user=rig.user(1)))

    rig.discord.break_next_interaction(drop="attachment_size_limit")
    lost = await rig.discord.slash("photo", {"query": "never parsed"}, user=rig.user(2))
    answered_in_time(await rig.photo("after the event", user=rig.user(3)))
    assert lost.callbacks == [], "discord.py could not read it: nothing to answer"

    await rig.discord.dispatch_raw("GUILD_UPDATE", '{"id": "not a snowflake", "name": 5}')
    answered_in_time(await rig.photo("after the nonsense", user=rig.user(4)))

    dropped = warnings_from(caplog, "Dropped a gateway")
    assert any("GUILD_UPDATE" in r.getMessage() for r in dropped), [r.getMessage() for r in dropped]
    assert any("INTERACTION_CREATE" in r.getMessage() for r in dropped), [r.getMessage() for r in dropped]
    assert not rig.bot.is_closed()
    assert len(rig.discord.identifies) == 1, "no reconnect, no IDENTIFY spent"
    no_tracebacks(caplog)


# ------------------------------------------------------------------------------------------------ 📤 Post


async def test_a_post_whose_public_message_fails_says_so_and_keeps_the_picker(
    rig: Rig, quick_webhook_retries: None
) -> None:
    """The public followup of 📤 fails (every 5xx retry, or AutoMod): the picker says it failed and stays; never
    "Posted" without a post. Once Discord is well again, 📤 posts."""
    user = rig.user(1)
    picker = result_message(await rig.photo("kites", user=user, private=True))

    async def post() -> InteractionRecord:
        pressed = await rig.press(rig.discord.messages[picker.id], "📤", user=user)
        assert pressed.ack_latency is not None and pressed.ack_latency < 3 and pressed.response_type == 6
        await pressed.wait_for(lambda r: bool(r.ephemeral_reply_text) or bool(r.public_reply_text), timeout=10)
        return pressed

    rig.discord.fail_next("followup", status=500, count=5)
    failed = await post()
    assert "couldn't be posted" in failed.ephemeral_reply_text and failed.public_reply_text == ""
    rig.discord.automod_block(route="followup")
    blocked = await post()
    assert "AutoMod" in blocked.ephemeral_reply_text and blocked.public_reply_text == ""
    current = rig.discord.messages[picker.id]
    assert "Posted" not in current.text and "📤" in [(b.get("emoji") or {}).get("name") for b in current.buttons()]
    assert footer(current) == '1 / 240 · "kites"' and public_messages(rig) == []

    posted = await post()
    await posted.wait_for(lambda r: "Posted" in (rig.discord.messages[picker.id].content or ""))
    assert len(public_messages(rig)) == 1


# ------------------------------------------------------------------------------------------------ the process


@pytest.fixture
async def world(tmp_path: Path) -> AsyncIterator[World]:
    """Both loopback servers and an empty working folder."""
    async with FakeDiscord() as discord_fake, FakePexels() as pexels:
        yield discord_fake, pexels, tmp_path


async def stop(process: BotProcess, sig: signal.Signals = signal.SIGTERM, *, within: float = 10.0) -> int:
    """Send `sig` and return the exit code, failing if the process takes longer than `within` seconds."""
    loop = asyncio.get_running_loop()
    process.proc.send_signal(sig)
    started = loop.time()
    try:
        code = await process.finish(timeout=within + 5)
    finally:
        await process.stop()
    assert loop.time() - started < within, f"took {loop.time() - started:.1f}s to exit"
    return code


async def test_sigterm_finishes_deferred_searches_first(world: World) -> None:
    """A deploy's SIGTERM while searches wait on a slow Pexels: they are finished (the original edited), then the
    process exits 0, well inside the platform's 30 s."""
    discord_fake, pexels, cwd = world
    env = bot_environment(discord_fake, pexels)
    code, _, err = await run_bot(cwd, env, "sync")
    assert code == 0, err
    process = await BotProcess.start(cwd, env)
    try:
        await discord_fake.wait_ready(1, timeout=20)
        pexels.slow_next(3.0, count=3)
        records = [await discord_fake.slash("photo", {"query": f"harbour {n}"}, user=make_user(n)) for n in range(1, 4)]
        for record in records:
            await record.wait_for(lambda r: r.response_type == 5, timeout=5)
        assert await stop(process) == 0, process.stderr.decode()
    finally:
        await process.stop()
    for n, record in enumerate(records, start=1):
        assert record.filled_by == "edit_original", record.describe()
        assert record.original is not None and record.original.embeds, record.describe()
        assert record.original.embeds[0]["footer"]["text"] == f'1 / 240 · "harbour {n}"'
    process.assert_no_errors()
    assert "closed cleanly" in process.stdout.decode() + process.stderr.decode()


@pytest.mark.parametrize("close_code", [4004, 4010, 4011, 4012, 4013, 4014])
async def test_a_fatal_close_code_ends_the_process_with_one_line(world: World, close_code: int) -> None:
    """Discord closes the gateway for good: exit code 3, one line naming the cause and what to do, no traceback,
    and no second IDENTIFY (each counts against Discord's 1,000 a day)."""
    discord_fake, pexels, cwd = world
    discord_fake.reject_identify(close_code, count=None)
    code, out, err = await run_bot(cwd, bot_environment(discord_fake, pexels), timeout=20)
    assert code == 3, out + err
    lines = [line for line in err.splitlines() if line.startswith("error: ")]
    assert len(lines) == 1 and f"close code {close_code}" in lines[0], err
    assert "Traceback" not in out + err and not logged_errors(out + err), out + err
    assert len(discord_fake.identifies) == 1
    if close_code == 4011:
        assert "SHARD_COUNT" in lines[0]
    assert discord_fake.token not in out + err


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGINT])
async def test_signals_work_while_the_gateway_is_unreachable(world: World, sig: signal.Signals) -> None:
    """No route to the gateway: the bot says so (once, without a traceback) and retries; SIGTERM or SIGINT still
    ends it with exit 0 within 10 s."""
    discord_fake, pexels, cwd = world
    discord_fake.gateway_down = True
    process = await BotProcess.start(cwd, bot_environment(discord_fake, pexels))
    try:
        await discord_fake.wait_until(lambda: discord_fake.gateway_refusals >= 2, timeout=20)
        assert await stop(process, sig) == 0, process.stderr.decode()
    finally:
        await process.stop()
    logs = process.stdout.decode() + process.stderr.decode()
    assert "Traceback" not in logs and not logged_errors(logs), logs[-3000:]
    assert logs.count("Can't reach the Discord gateway") == 1, logs[-3000:]


# ------------------------------------------------------------------------------------------------ secrets


async def interactions_of_every_kind(discord_fake: FakeDiscord, pexels: FakePexels) -> list[InteractionRecord]:
    """A direct reply, a deferred one (edit original), a press, a private picker's Post (a followup), Find photos."""
    user = make_user(1)
    records = [await discord_fake.slash("photo", {"query": "token hunt"}, user=user)]
    await records[0].wait_done(timeout=10)
    pexels.slow_next(1.5)
    records.append(await discord_fake.slash("photo", {"query": "slow token hunt"}, user=user))
    records.append(await discord_fake.slash("photo", {"query": "secret garden", "private": True}, user=user))
    for record in records:
        await record.wait_done(timeout=10)
    records.append(await discord_fake.click(records[0].messages[0].id, "▶", user=user))
    records.append(await discord_fake.click(records[2].messages[0].id, "📤", user=user))
    target = discord_fake.post_user_message(DEFAULT_CHANNEL, "A lighthouse on a rocky coast at dusk", author=user)
    records.append(await discord_fake.message_command("Find photos", target, user=make_user(2)))
    for record in records:
        await record.wait_done(timeout=10)
    await records[4].wait_for(lambda r: any(not m.ephemeral for m in r.messages), timeout=10)
    assert records[1].filled_by == "edit_original"
    return records


def leaked(logs: str, records: list[InteractionRecord]) -> list[str]:
    """The lines of `logs` holding any interaction's token (each one answers as the bot for 15 minutes)."""
    return [line[:300] for line in logs.splitlines() if any(r.token in line for r in records)]


async def test_no_interaction_token_in_a_debug_log(world: World) -> None:
    """At LOG_LEVEL=DEBUG the process logs every request, and no line holds an interaction or webhook token."""
    discord_fake, pexels, cwd = world
    env = bot_environment(discord_fake, pexels, LOG_LEVEL="DEBUG")
    code, _, err = await run_bot(cwd, env, "sync")
    assert code == 0, err
    process = await BotProcess.start(cwd, env)
    try:
        await discord_fake.wait_ready(1, timeout=20)
        records = await interactions_of_every_kind(discord_fake, pexels)
        assert await stop(process) == 0
    finally:
        await process.stop()
    logs = process.stdout.decode() + process.stderr.decode()
    assert "DEBUG" in logs and "/webhooks/" in logs, "the debug log shows the webhook requests it made"
    assert leaked(logs, records) == []
    assert discord_fake.token not in logs and pexels.api_key not in logs


async def test_no_interaction_token_in_discord_py_debug_output(world: World, errors: ErrorGuard) -> None:
    """With every discord.py logger at DEBUG (gateway payload dumps, HTTP and webhook requests), the lines that
    reach a handler hold no interaction token, in-process too."""
    discord_fake, pexels, _ = world
    lines: list[str] = []

    class Collect(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            lines.append(self.format(record))

    handler = Collect(level=logging.DEBUG)
    root = logging.getLogger()
    loggers = [logging.getLogger(n) for n in ("", "discord", "discord.http", "discord.gateway", "discord.webhook")]
    levels = [lg.level for lg in loggers]
    root.addHandler(handler)
    for lg in loggers:
        lg.setLevel(logging.DEBUG)
    try:
        async with loopback(discord=discord_fake, pexels=pexels):
            records = await interactions_of_every_kind(discord_fake, pexels)
    finally:
        root.removeHandler(handler)
        for lg, level in zip(loggers, levels, strict=True):
            lg.setLevel(level)
    text = "\n".join(lines)
    assert "WebSocket Event" in text and "/callback" in text, "discord.py's debug output was captured"
    assert leaked(text, records) == []


def test_tokens_in_tracebacks_and_stack_info_are_masked() -> None:
    """A traceback or stack naming a webhook URL is masked too (an aiohttp error's text carries the URL)."""
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(logging.Formatter("%(message)s"))
    redact.install(handler)
    redact.install(handler)
    assert len(handler.filters) == 1
    logger = logging.getLogger("tests.redaction")
    logger.addHandler(handler)
    logger.propagate = False
    url = "http://127.0.0.1:1/api/v10/webhooks/900000000000000001/aW50ZXJhY3Rpb246MTpzZWNyZXQ/messages/@original"
    try:
        try:
            raise RuntimeError(f"500, message='Internal Server Error', url=URL('{url}')")
        except RuntimeError:
            logger.exception("PATCH %s failed", url, stack_info=True)
        logger.warning("callback /interactions/1577276441354043417/aW50ZXJhY3Rpb246Mjpz/callback and %s",
                       {"token": "aW50ZXJhY3Rpb246MzpzZWNyZXQ", "id": "3"})  # fmt: skip
    finally:
        logger.removeHandler(handler)
    text = stream.getvalue()
    assert "aW50ZXJhY3Rpb24" not in text, text
    assert text.count("/webhooks/900000000000000001/********/messages/@original") >= 2
    assert "/interactions/1577276441354043417/********/callback" in text and "'token': '********'" in text
