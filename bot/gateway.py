"""The gateway connection, hardened where discord.py 2.7's defaults fail a long-running bot.

- A frame discord.py cannot decode or an event it cannot parse is logged once per event type and
  dropped; it never ends the process (discord.py would end the shard, and with it the bot).
- A zombie connection (heartbeats sent, no ACK, nothing received) is closed and resumed at the next
  heartbeat, as Discord asks, instead of after discord.py's fixed 60 s.
- Connecting retries with a growing delay, says plainly when Discord can't be reached, and stops as
  soon as the bot is closing (discord.py's own retry ignores SIGTERM and logs a traceback every 5 s).
- Close codes Discord documents as final (https://discord.com/developers/docs/topics/opcodes-and-status-codes)
  end the process with one line saying what to do: every reconnect would spend one of the 1,000
  IDENTIFYs Discord allows a day.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections import Counter
from collections.abc import Awaitable
from typing import Any, TypeVar

import discord
import yarl
from discord.gateway import DiscordWebSocket, ReconnectWebSocket

log = logging.getLogger(__name__)

T = TypeVar("T")

ZOMBIE_FACTOR = 1.5
"""A heartbeat interval and a half without anything received means the ACK of the last heartbeat is missing."""
RETRY_DELAYS = (1.0, 2.0, 5.0, 10.0, 30.0)
"""Seconds between attempts to open the gateway connection; the last one repeats."""
WARN_EVERY = 60.0

FATAL_CLOSE_CODES = {
    4004: "Discord rejected DISCORD_TOKEN at the gateway (close code 4004); copy a fresh token from the Bot page",
    4010: "Discord says a shard number is invalid (close code 4010); check SHARD_IDS against SHARD_COUNT",
    4011: (
        "Discord requires more shards (close code 4011): the bot is in too many servers for SHARD_COUNT; "
        "set SHARD_COUNT to what Discord recommends (about one shard per 2,500 servers) and scale out"
    ),
    4012: "Discord refused the gateway API version (close code 4012); upgrade discord.py and this bot",
    4013: "Discord refused the gateway intents as invalid (close code 4013); this is a bug in this bot's release",
    4014: (
        "Discord refused a privileged intent (close code 4014); enable it on the Bot page or use a release "
        "that does not ask for it"
    ),
}


def fatal_close_message(error: BaseException) -> str | None:
    """The operator's one line for a connection Discord closed for good (None if the error isn't one)."""
    if isinstance(error, discord.PrivilegedIntentsRequired):
        return FATAL_CLOSE_CODES[4014]
    if isinstance(error, discord.ConnectionClosed):
        return FATAL_CLOSE_CODES.get(error.code or 0)
    return None


class _Dropped:
    """Counts dropped frames per kind, warning once per kind (and again at most once a minute)."""

    def __init__(self) -> None:
        self.counts: Counter[str] = Counter()
        self._warned: dict[str, float] = {}

    def note(self, kind: str, shard_id: int | None, error: BaseException) -> None:
        self.counts[kind] += 1
        now = time.monotonic()
        last = self._warned.get(kind)
        if last is not None and now - last < WARN_EVERY:
            return
        self._warned[kind] = now
        log.warning(
            "Dropped a gateway %s on shard %s that discord.py could not handle (%s: %s); %d dropped so far. "
            "The bot keeps serving; if this repeats, upgrade discord.py.",
            kind,
            shard_id,
            type(error).__name__,
            str(error)[:200],
            self.counts[kind],
        )


DROPPED = _Dropped()


class GuardedWebSocket(DiscordWebSocket):
    """discord.py's gateway socket, where no frame can end the process and zombies are found in time."""

    async def received_message(self, msg: Any, /) -> None:
        """Handle one frame; drop (and report, naming its event) one that discord.py fails on."""
        if type(msg) is bytes:
            try:
                msg = self._decompressor.decompress(msg)
            except Exception as exc:
                # The compressed stream itself is broken: only a new connection fixes it.
                DROPPED.note("compressed frame", self.shard_id, exc)
                await self.close(4000)
                raise ReconnectWebSocket(self.shard_id, resume=True) from exc
            if msg is None:
                return  # part of a message (zlib-stream)
        try:
            await super().received_message(msg)
        except ReconnectWebSocket:
            raise
        except Exception as exc:
            DROPPED.note(_event_type(msg), self.shard_id, exc)
        keep_alive = self._keep_alive
        if keep_alive is not None and keep_alive.interval:
            keep_alive.heartbeat_timeout = keep_alive.interval * ZOMBIE_FACTOR


def _event_type(msg: Any) -> str:
    """A frame's event type for the log, read without trusting the frame."""
    if isinstance(msg, str):
        start = msg.find('"t":')
        if start >= 0:
            return "event " + msg[start + 4 : start + 40].split(",")[0].strip(' "')
        return "text frame"
    return "frame"


def install() -> None:
    """Make discord.py's sharded client open (and re-open) its connections with GuardedWebSocket."""
    discord.shard.DiscordWebSocket = GuardedWebSocket  # type: ignore[misc]


async def launch_shard(client: discord.AutoShardedClient, gateway: yarl.URL, shard_id: int, *, initial: bool) -> bool:
    """Open one shard's connection, retrying until it works or the client closes; True once connected."""
    failures = 0
    warned_at = -WARN_EVERY
    while not client.is_closed():
        try:
            first = initial and not failures
            coro = GuardedWebSocket.from_client(client, initial=first, gateway=gateway, shard_id=shard_id)
            ws = await _unless_closed(client, coro, client.shard_connect_timeout)
            if ws is None:
                return False
        except Exception as exc:
            if client.is_closed():
                return False
            delay = RETRY_DELAYS[min(failures, len(RETRY_DELAYS) - 1)]
            failures += 1
            if time.monotonic() - warned_at >= WARN_EVERY:
                warned_at = time.monotonic()
                log.warning(
                    "Can't reach the Discord gateway at %s for shard %d (%s); retrying (attempt %d, next in %.0fs). "
                    "Check the network and DISCORD_GATEWAY_URL.",
                    gateway,
                    shard_id,
                    f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__,
                    failures,
                    delay,
                )
            await _unless_closed(client, asyncio.sleep(delay), delay + 1)
            continue
        shard = discord.shard.Shard(ws, client, _queue(client).put_nowait)
        _shards(client)[shard_id] = shard
        shard.launch()
        if failures:
            log.info("Shard %d reached the Discord gateway after %d failed attempts", shard_id, failures)
        return True
    return False


async def _unless_closed(client: discord.AutoShardedClient, work: Awaitable[T], limit: float | None) -> T | None:
    """Await `work`, giving up (None) as soon as the client closes: SIGTERM must not wait for a connect."""
    task = asyncio.ensure_future(work)
    deadline = None if limit is None else time.monotonic() + limit
    while not task.done():
        if client.is_closed():
            task.cancel()
            return None
        if deadline is not None and time.monotonic() >= deadline:
            task.cancel()
            raise TimeoutError
        await asyncio.wait({task}, timeout=0.2)
    return task.result()


def _shards(client: discord.AutoShardedClient) -> dict[int, Any]:
    shards: dict[int, Any] = client._AutoShardedClient__shards  # type: ignore[attr-defined]
    return shards


def _queue(client: discord.AutoShardedClient) -> asyncio.PriorityQueue[Any]:
    queue: asyncio.PriorityQueue[Any] = client._AutoShardedClient__queue  # type: ignore[attr-defined]
    return queue
