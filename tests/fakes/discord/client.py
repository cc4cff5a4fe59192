"""Running a real discord.py client against a FakeDiscord, in the test's own event loop."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator

import discord
import yarl
from discord.gateway import DiscordWebSocket

from tests.fakes.discord.core import FakeDiscord


@contextlib.asynccontextmanager
async def pointed_at(fake: FakeDiscord) -> AsyncIterator[None]:
    """Point discord.py's REST base and default gateway at the fake, restoring them afterwards."""
    old_base, old_gateway = discord.http.Route.BASE, DiscordWebSocket.DEFAULT_GATEWAY
    discord.http.Route.BASE = fake.api_url
    DiscordWebSocket.DEFAULT_GATEWAY = yarl.URL(fake.gateway_url)
    try:
        yield
    finally:
        discord.http.Route.BASE, DiscordWebSocket.DEFAULT_GATEWAY = old_base, old_gateway


async def start_client(client: discord.Client, fake: FakeDiscord) -> asyncio.Task[None]:
    """Log `client` in and start its connection task (which may end: the caller watches it)."""
    await client.login(fake.token)
    return asyncio.create_task(client.connect(), name="fake-discord-client")


@contextlib.asynccontextmanager
async def connected(
    client: discord.Client, fake: FakeDiscord, *, views: list[discord.ui.View] | None = None, timeout: float = 5.0
) -> AsyncIterator[asyncio.Task[None]]:
    """Log in, connect, wait for READY; at exit stop `views`, close, and surface a crashed connection task."""
    task = await start_client(client, fake)
    try:
        ready = asyncio.create_task(client.wait_until_ready())
        done, _ = await asyncio.wait({task, ready}, timeout=timeout, return_when=asyncio.FIRST_COMPLETED)
        if task in done:
            ready.cancel()
            raise RuntimeError("client task ended before READY") from task.exception()
        if ready not in done:
            ready.cancel()
            raise TimeoutError(f"client not ready within {timeout} s")
        yield task
    finally:
        for view in views or []:
            view.stop()
        await client.close()
        with contextlib.suppress(Exception):
            await asyncio.wait_for(task, 5)
        if task.done() and not task.cancelled() and task.exception() is not None:
            raise RuntimeError("the client's connection task crashed") from task.exception()
