"""Running the real bot against the loopback Discord and Pexels, in the test's own event loop."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Mapping
from dataclasses import dataclass, field
from typing import Any

from bot.app import PexelsBot
from bot.config import Settings
from tests.fakes.discord import DEFAULT_CHANNEL, FakeDiscord, FakeUser, InteractionRecord, StoredMessage, make_user
from tests.fakes.pexels import FakePexels

__all__ = ["DEFAULT_CHANNEL", "Rig", "bot_environment", "make_user", "running_bot"]


def bot_environment(discord: FakeDiscord, pexels: FakePexels, **overrides: str) -> dict[str, str]:
    """The environment an operator would set, pointing at the loopback servers."""
    env = {
        "DISCORD_TOKEN": discord.token,
        "PEXELS_API_KEY": pexels.api_key,
        "DISCORD_API_URL": discord.api_url,
        "DISCORD_GATEWAY_URL": discord.gateway_url,
        "PEXELS_API_URL": pexels.url,
        "LOG_LEVEL": "INFO",
    }
    env.update(overrides)
    return env


@contextlib.asynccontextmanager
async def running_bot(settings: Settings, discord: FakeDiscord, *, sync: bool = True) -> AsyncIterator[PexelsBot]:
    """Log in (syncing the commands, as `python -m bot sync` does), connect, wait for READY; close afterwards."""
    bot = PexelsBot(settings, guild_ready_timeout=0.05)
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
