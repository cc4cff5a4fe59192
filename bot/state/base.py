"""The shared-state contracts: cache, cooldowns, quota, de-duplication and IDENTIFY pacing.

Two backends implement them: `bot.state.memory` (one process, the default) and
`bot.state.redis` (several processes sharing one Pexels key). The same contract tests run on both.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Protocol

Clock = Callable[[], float]
"""Seconds since the epoch; injectable so tests can move time without sleeping."""

WALL_CLOCK: Clock = time.time

HOUR = 3600.0


@dataclass(frozen=True, slots=True)
class Decision:
    """The quota guard's answer to "may I make one Pexels request now?"."""

    allowed: bool
    retry_after: float = 0.0
    """Seconds until a request may be allowed again (0 when allowed)."""
    reason: str = ""
    """Why it was refused: "blocked" (after a 429), "hour", "month" or "reserve"."""


@dataclass(frozen=True, slots=True)
class QuotaSnapshot:
    """What the quota guard knows, for /about and `python -m bot check`."""

    hour_used: int
    hour_limit: int
    remaining: int | None
    """Pexels' X-Ratelimit-Remaining as last seen, less the requests spent since (None: unknown)."""
    limit: int | None
    """Pexels' X-Ratelimit-Limit as last seen (the monthly allowance)."""
    reset_at: float | None
    """Epoch seconds when Pexels' monthly period rolls over (X-Ratelimit-Reset)."""
    blocked_until: float | None
    """Epoch seconds until which requests are refused after a 429 (None: not blocked)."""


@dataclass(frozen=True, slots=True)
class QuotaPolicy:
    """The limits the guard enforces."""

    hour_limit: int = 200
    """Requests allowed in any rolling hour (PEXELS_HOURLY_LIMIT)."""
    month_limit: int = 20_000
    """Requests allowed per monthly period while Pexels' own figure is unknown (PEXELS_MONTHLY_LIMIT)."""
    reserve: int = 20
    """Refuse when the remaining monthly allowance is at or below this (PEXELS_QUOTA_RESERVE)."""


class Cache(Protocol):
    """A TTL cache of byte strings, bounded in size."""

    async def get(self, key: str) -> bytes | None:
        """Return the value, or None when missing or expired."""
        ...

    async def set(self, key: str, value: bytes, ttl: float) -> None:
        """Store a value for `ttl` seconds."""
        ...

    def peek(self, key: str) -> bytes | None:
        """The value when this process can tell at once (a cache in its own memory); None when it is missing,
        expired, or can't be known without a round trip (a shared cache): then `get`."""
        ...


class Cooldowns(Protocol):
    """Per-user fixed-window rate limits with discord.py's `Cooldown` semantics."""

    async def hit(self, bucket: str, user_id: int, rate: int, per: float) -> float:
        """Count one use; return 0.0 when allowed, else the seconds until the window ends.

        The window starts at the first use and lasts `per` seconds; `rate` uses fit in it.
        A refused use does not extend the window.
        """
        ...


class Quota(Protocol):
    """The Pexels quota guard: the rolling hour, the monthly figures, and 429 blocks."""

    async def acquire(self) -> Decision:
        """Check every limit and, when allowed, spend one request, atomically.

        Checked in order: "blocked" (until the block ends), "hour" (`hour_limit` requests in the last 3600 s;
        retry when the oldest leaves the hour), "reserve" (Pexels' remaining <= reserve; retry at its reset,
        else in an hour), "month" (remaining unknown and `month_limit` counted locally this period).
        """
        ...

    async def observe(self, limit: int | None, remaining: int | None, reset_at: float | None) -> None:
        """Record the X-Ratelimit-* headers of a successful response.

        A later `reset_at` starts a new period and its figures replace the stored ones; the same `reset_at`
        keeps the lowest `remaining` seen (answers can arrive out of order); an earlier one is ignored.
        """
        ...

    async def block(self, until: float) -> None:
        """Refuse every request until `until` (epoch seconds), after a 429."""
        ...

    async def snapshot(self) -> QuotaSnapshot:
        """Return what the guard knows now."""
        ...


class Dedupe(Protocol):
    """Makes sure one interaction is handled by one process only."""

    async def claim(self, interaction_id: int) -> bool:
        """Return True for the first caller with this id, False for every later one."""
        ...


class IdentifyGate(Protocol):
    """Paces gateway IDENTIFYs across processes (Discord allows one per 5 s per bucket)."""

    async def wait_turn(self, shard_id: int) -> None:
        """Return when this shard may IDENTIFY."""
        ...


class State(Protocol):
    """Everything the bot shares between its processes."""

    cache: Cache
    cooldowns: Cooldowns
    quota: Quota
    dedupe: Dedupe
    identify: IdentifyGate
    backend: str
    """"memory" or "redis"."""

    async def close(self) -> None:
        """Release connections."""
        ...
