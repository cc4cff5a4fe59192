"""Shared fixtures: the loopback Pexels and Discord, a running bot, and a guard against unexpected errors.

The helpers they are built from (and every other test helper) live in `tests/harness.py`.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import AsyncExitStack

import pytest

from bot.config import load_settings
from tests.fakes.discord import FakeDiscord
from tests.fakes.pexels import FakePexels
from tests.harness import ErrorGuard, Rig, RigFactory, bot_environment, guarding_errors, running_bot

pytest_plugins = ["tests.conftest_state", "tests.conftest_db"]


@pytest.fixture
async def errors() -> AsyncIterator[ErrorGuard]:
    """Fails the test on any ERROR log or unhandled task exception it did not `expect`."""
    with guarding_errors(asyncio.get_running_loop()) as guard:
        yield guard
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


@pytest.fixture
async def make_rig(discord_fake: FakeDiscord, pexels: FakePexels, errors: ErrorGuard) -> AsyncIterator[RigFactory]:
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
