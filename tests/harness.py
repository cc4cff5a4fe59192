"""Every test helper in one place: the loopback world, the real bot in it, and what a user sees.

- `bot_environment`, `running_bot`, `loopback`: the real bot against the loopback Discord and Pexels,
  in-process (the tests, the playground and the quota benchmark use these).
- `clean_environment`, `BotProcess`, `run_bot`: `python -m bot` as a child process.
- `ErrorGuard`, `guarding_errors`: collect ERROR logs and unhandled task errors (the `errors` fixture).
- `Rig`: a test's handle on Discord, Pexels and the bot, with waited-for commands and presses.
- `embed`, `footer`, `result_message`, `answered_in_time`, `refused_privately`: assertions on what users see.

The fixtures built from these live in `tests/conftest.py`.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import re
import sys
from collections.abc import AsyncIterator, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

from bot.app import PexelsBot
from bot.config import VARIABLES, Settings, load_settings
from tests.fakes.discord import DEFAULT_CHANNEL, FakeDiscord, FakeUser, InteractionRecord, StoredMessage, make_user
from tests.fakes.pexels import FakePexels

__all__ = [
    "BOT_VARIABLES",
    "DEADLINE",
    "DEFAULT_CHANNEL",
    "ROOT",
    "BotProcess",
    "ErrorGuard",
    "Rig",
    "RigFactory",
    "answered_in_time",
    "bot_environment",
    "clean_environment",
    "embed",
    "footer",
    "guarding_errors",
    "logged_errors",
    "loopback",
    "make_user",
    "refused_privately",
    "result_message",
    "run_bot",
    "running_bot",
]

ROOT = Path(__file__).resolve().parent.parent
DEADLINE = 3.0
"""Discord's first-response deadline (the loopback Discord enforces it too)."""
BOT_VARIABLES = frozenset(variable.name for variable in VARIABLES) | {"NO_COLOR"}
"""Environment variables the bot reads: a child process gets none of the parent's."""


# --------------------------------------------------------------------------- the bot in-process


def bot_environment(discord: FakeDiscord, pexels: FakePexels, **overrides: str) -> dict[str, str]:
    """The environment an operator would set, pointing at the loopback servers (and a database in memory, unless
    `DATABASE_URL` is given: nothing is left behind in the working folder)."""
    env = {
        "DISCORD_TOKEN": discord.token,
        "PEXELS_API_KEY": pexels.api_key,
        "DISCORD_API_URL": discord.api_url,
        "DISCORD_GATEWAY_URL": discord.gateway_url,
        "PEXELS_API_URL": pexels.url,
        "LOG_LEVEL": "INFO",
        "DATABASE_URL": "sqlite:///:memory:",
    }
    env.update(overrides)
    return env


@contextlib.asynccontextmanager
async def running_bot(
    settings: Settings, discord: FakeDiscord, *, sync: bool = True, **bot_options: Any
) -> AsyncIterator[PexelsBot]:
    """Log in (syncing the commands, as `python -m bot sync` does), connect, wait for READY; close afterwards.

    `bot_options` go to `PexelsBot` (for example `clock=` and `daily_interval=`)."""
    bot = PexelsBot(settings, guild_ready_timeout=0.05, **bot_options)
    ready_before = len(discord.live_sessions)
    await bot.login(settings.discord_token.get())
    if sync:
        await bot.tree.sync()
    task = asyncio.create_task(bot.connect(reconnect=True), name="bot-connect")
    try:
        await discord.wait_ready(count=ready_before + 1, timeout=10)
        await asyncio.wait_for(bot.wait_until_ready(), 10)
        yield bot
    finally:
        await bot.close()
        await asyncio.wait_for(task, 10)


@contextlib.asynccontextmanager
async def loopback(
    env: Mapping[str, str] | None = None, *, discord: FakeDiscord | None = None, pexels: FakePexels | None = None
) -> AsyncIterator[Rig]:
    """Start a loopback Discord and Pexels (new ones, or the given unstarted ones) and the bot configured by `env`."""
    async with contextlib.AsyncExitStack() as stack:
        discord = await stack.enter_async_context(discord or FakeDiscord())
        pexels = await stack.enter_async_context(pexels or FakePexels())
        settings = load_settings(bot_environment(discord, pexels, **(env or {})), env_file=None)
        bot = await stack.enter_async_context(running_bot(settings, discord))
        yield Rig(discord, pexels, bot)


# --------------------------------------------------------------------------- the bot as a process


_ANSI = re.compile(r"\x1b\[[0-9;]*m")
_ERROR_LINE = re.compile(r"^\[?\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\]? +\[?(?:ERROR|CRITICAL)\b|^Traceback ")


def logged_errors(output: str) -> list[str]:
    """The lines of a bot's output logged at ERROR or CRITICAL, and tracebacks, with what follows each.

    discord.py's log format is `[time] [LEVEL   ] name: message`, or coloured without the brackets when it
    thinks the stream is a terminal (it does in Docker, whatever the stream): both are read here.
    """
    lines = _ANSI.sub("", output).splitlines()
    return [" | ".join(lines[n : n + 3])[:600] for n, line in enumerate(lines) if _ERROR_LINE.search(line)]


def clean_environment(env: Mapping[str, str] | None = None, *, root: Path = ROOT) -> dict[str, str]:
    """The parent's environment without any of the bot's variables, imports resolving to `root`, plus `env`."""
    base = {k: v for k, v in os.environ.items() if k not in BOT_VARIABLES}
    base["PYTHONPATH"] = str(root)
    base.update(env or {})
    return base


class BotProcess:
    """One `python -m bot ...` child process, run from an empty folder (no stray .env)."""

    def __init__(self, proc: asyncio.subprocess.Process) -> None:
        self.proc = proc
        self.stdout = b""
        self.stderr = b""

    @classmethod
    async def start(cls, cwd: Path, env: dict[str, str], *args: str) -> BotProcess:
        proc = await asyncio.create_subprocess_exec(
            sys.executable, "-m", "bot", *args, cwd=cwd, env=clean_environment(env),
            stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
        )  # fmt: skip
        return cls(proc)

    async def finish(self, timeout: float = 30) -> int:
        """Wait for the exit; keep what it printed."""
        out, err = await asyncio.wait_for(self.proc.communicate(), timeout)
        self.stdout, self.stderr = out, err
        assert self.proc.returncode is not None
        return self.proc.returncode

    def assert_no_errors(self) -> None:
        """Nothing was logged at ERROR or above, and no traceback was printed."""
        logs = (self.stdout + self.stderr).decode()
        assert not logged_errors(logs), logs[-3000:]

    async def stop(self) -> None:
        if self.proc.returncode is None:
            self.proc.kill()
            await self.proc.wait()


async def run_bot(cwd: Path, env: dict[str, str], *args: str, timeout: float = 30) -> tuple[int, str, str]:
    """Run a command to completion; return (exit code, stdout, stderr)."""
    process = await BotProcess.start(cwd, env, *args)
    try:
        code = await process.finish(timeout)
    finally:
        await process.stop()
    return code, process.stdout.decode(), process.stderr.decode()


# --------------------------------------------------------------------------- errors nobody expected


class ErrorGuard(logging.Handler):
    """Collects ERROR records and unhandled task exceptions; a test fails on any it did not expect."""

    def __init__(self) -> None:
        super().__init__(level=logging.ERROR)
        self.records: list[logging.LogRecord] = []
        self.loop_errors: list[dict[str, Any]] = []
        self.expected: list[re.Pattern[str]] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(record)

    def expect(self, pattern: str) -> None:
        """Allow ERROR records (or task errors) whose message matches `pattern`."""
        self.expected.append(re.compile(pattern))

    def unexpected(self) -> list[str]:
        """What was logged at ERROR or raised in a task that no `expect` covers."""
        messages = [
            f"{r.name}: {r.getMessage()}" + (f" ({r.exc_info[1]!r})" if r.exc_info else "") for r in self.records
        ]
        messages += [f"task: {c.get('message')} {c.get('exception')!r}" for c in self.loop_errors]
        return [m for m in messages if not any(p.search(m) for p in self.expected)]


@contextlib.contextmanager
def guarding_errors(loop: asyncio.AbstractEventLoop) -> Iterator[ErrorGuard]:
    """Collect ERROR logs (root logger) and the loop's unhandled task errors while inside."""
    guard = ErrorGuard()
    root = logging.getLogger()
    root.addHandler(guard)
    previous = loop.get_exception_handler()
    loop.set_exception_handler(lambda _loop, context: guard.loop_errors.append(context))
    try:
        yield guard
    finally:
        root.removeHandler(guard)
        loop.set_exception_handler(previous)


# --------------------------------------------------------------------------- a test's world


@dataclass
class Rig:
    """The loopback world of one test: Discord, Pexels and a running bot."""

    discord: FakeDiscord
    pexels: FakePexels
    bot: PexelsBot
    users: dict[int, FakeUser] = field(default_factory=dict)

    def user(self, n: int) -> FakeUser:
        """A distinct user per number."""
        if n not in self.users:
            self.users[n] = make_user(n)
        return self.users[n]

    async def command(self, name: str, options: Mapping[str, Any] | None = None, *, user: FakeUser,
                      **kwargs: Any) -> InteractionRecord:  # fmt: skip
        """Run a slash command and wait until its outcome is final."""
        record = await self.discord.slash(name, dict(options or {}), user=user, **kwargs)
        await record.wait_done(timeout=15)
        return record

    async def photo(self, query: str, *, user: FakeUser, **options: Any) -> InteractionRecord:
        """`/photo query ...`, waited for."""
        return await self.command("photo", {"query": query, **options}, user=user)

    async def press(self, message: StoredMessage, button: str, *, user: FakeUser, **kwargs: Any) -> InteractionRecord:
        """Press a button that is on the message, and wait until the outcome is final."""
        record = await self.discord.click(message.id, button, user=user, **kwargs)
        await record.wait_done(timeout=15)
        return record


class RigFactory(Protocol):
    """Starts the bot with extra environment variables."""

    async def __call__(self, **env: str) -> Rig: ...


# --------------------------------------------------------------------------- what users see


def embed(message: StoredMessage) -> dict[str, Any]:
    """The one embed of a result message."""
    assert len(message.embeds) == 1, message.embeds
    return message.embeds[0]


def footer(message: StoredMessage) -> str:
    """The counter line."""
    return str(embed(message)["footer"]["text"])


def result_message(record: InteractionRecord) -> StoredMessage:
    """The message a search produced (the first live one)."""
    live = [m for m in record.messages if not m.deleted]
    assert live, record.describe()
    return live[0]


def answered_in_time(record: InteractionRecord) -> None:
    """Discord's rule: the first response within 3 s, and it was accepted."""
    assert record.ack_latency is not None, record.describe()
    assert record.ack_latency < DEADLINE, record.describe()
    assert record.errors == [], record.describe()


def refused_privately(record: InteractionRecord, *phrases: str) -> str:
    """The user (only) got an ephemeral message containing every phrase; nothing public appeared."""
    answered_in_time(record)
    assert record.public_reply_text == "", record.describe()
    text = record.ephemeral_reply_text
    for phrase in phrases:
        assert phrase.lower() in text.lower(), text
    return text
