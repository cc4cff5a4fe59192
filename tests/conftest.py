"""Shared fixtures: the loopback Pexels and Discord, a running bot, and a guard against unexpected errors."""

from __future__ import annotations

import asyncio
import logging
import re
from collections.abc import AsyncIterator, Callable
from contextlib import AsyncExitStack
from typing import Any, Protocol

import pytest

from bot.config import load_settings
from tests.fakes.discord import FakeDiscord
from tests.fakes.pexels import FakePexels
from tests.harness import Rig, bot_environment, running_bot

pytest_plugins = ["tests.conftest_state", "tests.conftest_db"]


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


@pytest.fixture
async def errors() -> AsyncIterator[ErrorGuard]:
    """Fails the test on any ERROR log or unhandled task exception it did not `expect`."""
    guard = ErrorGuard()
    root = logging.getLogger()
    root.addHandler(guard)
    loop = asyncio.get_running_loop()
    previous = loop.get_exception_handler()
    loop.set_exception_handler(lambda _loop, context: guard.loop_errors.append(context))
    try:
        yield guard
    finally:
        root.removeHandler(guard)
        loop.set_exception_handler(previous)
    problems = guard.unexpected()
    if problems:
        pytest.fail("unexpected errors during the test:\n" + "\n".join(problems), pytrace=False)


@pytest.fixture
async def pexels() -> AsyncIterator[FakePexels]:
    """A loopback Pexels."""
    async with FakePexels() as fake:
        yield fake


@pytest.fixture
async def discord_fake() -> AsyncIterator[FakeDiscord]:
    """A loopback Discord."""
    async with FakeDiscord() as fake:
        yield fake


class RigFactory(Protocol):
    """Starts the bot with extra environment variables."""

    async def __call__(self, **env: str) -> Rig: ...


@pytest.fixture
async def make_rig(
    discord_fake: FakeDiscord, pexels: FakePexels, errors: ErrorGuard
) -> AsyncIterator[Callable[..., Any]]:
    """Start the real bot against the loopback servers, configured as an operator would (environment)."""
    async with AsyncExitStack() as stack:

        async def start(**env: str) -> Rig:
            settings = load_settings(bot_environment(discord_fake, pexels, **env), env_file=None)
            bot = await stack.enter_async_context(running_bot(settings, discord_fake))
            return Rig(discord_fake, pexels, bot)

        yield start


@pytest.fixture
async def rig(make_rig: RigFactory) -> Rig:
    """The bot with its default configuration."""
    return await make_rig()
