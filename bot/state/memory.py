"""The in-process backend: correct for one process, and the Redis backend's fallback when Redis is down."""

from __future__ import annotations

import logging
import math
from collections import OrderedDict, deque

from bot.state.base import (
    HOUR,
    WALL_CLOCK,
    Cache,
    Clock,
    Cooldowns,
    Decision,
    Dedupe,
    IdentifyGate,
    Quota,
    QuotaPolicy,
    QuotaSnapshot,
)

log = logging.getLogger(__name__)

MONTH_FALLBACK = 31 * 24 * HOUR
"""How long a locally counted monthly period lasts while Pexels' reset time is unknown."""

MAX_RESET_AHEAD = 40 * 24 * HOUR
"""A reset further ahead than this is not a monthly period (a reset sent in milliseconds, say): ignored."""

CACHE_MAX_BYTES = 128 * 1024 * 1024
"""Default bound on what the in-process cache holds, keys and values plus a per-entry overhead: 2,000 real
result pages (25-30 KB each) fit well inside it; pages whose every text is at its bound (about 120 KB) do not."""
CACHE_MAX_ITEM_BYTES = 1024 * 1024
"""Default bound on one cached value (a page of 80 results encodes to at most about 120 KB)."""
_ENTRY_OVERHEAD = 160
"""Bytes an entry costs beyond its key and value (the dict slot, the tuple, two objects' headers)."""

DEDUPE_TTL = 60.0
"""Seconds an interaction id stays claimed."""

_PRUNE_MIN = 1024
_SWEEP_EVERY = 60.0


def plausible_reset(reset_at: float | None, now: float) -> float | None:
    """`reset_at` if it can be the end of a monthly period seen from `now`, else None (ignored)."""
    if reset_at is None or not math.isfinite(reset_at) or reset_at > now + MAX_RESET_AHEAD:
        return None
    return reset_at


class MemoryCache:
    """An LRU cache whose entries also expire, bounded in entries and in bytes; least recently used go first.

    `max_bytes` bounds the keys, values and a per-entry overhead together (default 128 MiB); a value longer
    than `max_item_bytes` (default 1 MiB) is not stored at all.
    """

    def __init__(
        self,
        max_entries: int,
        clock: Clock = WALL_CLOCK,
        *,
        max_bytes: int = CACHE_MAX_BYTES,
        max_item_bytes: int = CACHE_MAX_ITEM_BYTES,
    ) -> None:
        if max_entries < 1:
            raise ValueError("max_entries must be at least 1")
        if max_bytes < 1 or max_item_bytes < 1:
            raise ValueError("max_bytes and max_item_bytes must be at least 1")
        self.max_entries = max_entries
        self.max_bytes = max_bytes
        self.max_item_bytes = max_item_bytes
        self._clock = clock
        self._data: OrderedDict[str, tuple[float, bytes]] = OrderedDict()
        self._bytes = 0

    def __len__(self) -> int:
        return len(self._data)

    @property
    def size_bytes(self) -> int:
        """What the entries held now count against `max_bytes`."""
        return self._bytes

    @staticmethod
    def _cost(key: str, value: bytes) -> int:
        return len(key) + len(value) + _ENTRY_OVERHEAD

    def _drop(self, key: str) -> None:
        entry = self._data.pop(key, None)
        if entry is not None:
            self._bytes -= self._cost(key, entry[1])

    async def get(self, key: str) -> bytes | None:
        """Return the value, or None when missing or expired."""
        return self.peek(key)

    def peek(self, key: str) -> bytes | None:
        """The same as `get`, at once: the cache is in this process's memory."""
        entry = self._data.get(key)
        if entry is None:
            return None
        expires, value = entry
        if expires <= self._clock():
            self._drop(key)
            return None
        self._data.move_to_end(key)
        return value

    async def set(self, key: str, value: bytes, ttl: float) -> None:
        """Store a value for `ttl` seconds (a ttl <= 0, or a value over `max_item_bytes`, removes it)."""
        self._drop(key)
        cost = self._cost(key, value)
        if ttl <= 0 or len(value) > self.max_item_bytes or cost > self.max_bytes:
            if ttl > 0:
                bound = min(self.max_item_bytes, self.max_bytes)
                log.warning("Not caching %d bytes under %s: more than one entry may hold (%d)", len(value), key, bound)
            return
        self._data[key] = (self._clock() + ttl, value)
        self._bytes += cost
        while len(self._data) > self.max_entries or self._bytes > self.max_bytes:
            oldest, (_, old_value) = self._data.popitem(last=False)
            self._bytes -= self._cost(oldest, old_value)


class MemoryCooldowns:
    """discord.py `Cooldown` semantics per (bucket, user): a fixed window that starts at the first use."""

    def __init__(self, clock: Clock = WALL_CLOCK) -> None:
        self._clock = clock
        self._windows: dict[tuple[str, int], tuple[int, float]] = {}
        """(bucket, user) → (uses counted, window end)."""
        self._prune_at = _PRUNE_MIN
        self._next_sweep = clock() + _SWEEP_EVERY

    def __len__(self) -> int:
        return len(self._windows)

    async def hit(self, bucket: str, user_id: int, rate: int, per: float) -> float:
        """Count one use; return 0.0 when allowed, else the seconds until the window ends."""
        now = self._clock()
        self._prune(now)
        key = (bucket, user_id)
        count, end = self._windows.get(key, (0, 0.0))
        if end <= now:
            count, end = 0, now + per
        if count + 1 > rate:
            self._windows[key] = (count, end)
            return end - now
        self._windows[key] = (count + 1, end)
        return 0.0

    def _prune(self, now: float) -> None:
        """Drop finished windows once a minute, or sooner when the table has doubled (amortised O(1))."""
        if len(self._windows) < self._prune_at and now < self._next_sweep:
            return
        self._windows = {k: v for k, v in self._windows.items() if v[1] > now}
        self._prune_at = max(_PRUNE_MIN, 2 * len(self._windows))
        self._next_sweep = now + _SWEEP_EVERY


class MemoryQuota:
    """The quota guard for one process: a deque for the rolling hour, a local month counter, Pexels' figures."""

    def __init__(self, policy: QuotaPolicy, clock: Clock = WALL_CLOCK) -> None:
        self.policy = policy
        self._clock = clock
        self._hour: deque[float] = deque()
        self._month_count = 0
        self._month_end: float | None = None
        self._limit: int | None = None
        self._remaining: int | None = None
        self._reset_at: float | None = None
        self._blocked_until: float | None = None

    def _refresh(self, now: float) -> None:
        """Forget what time has made stale: hour entries, a finished month, a remote view past its reset."""
        cutoff = now - HOUR
        while self._hour and self._hour[0] <= cutoff:
            self._hour.popleft()
        if self._month_end is not None and self._month_end <= now:
            self._month_count, self._month_end = 0, None
        if self._reset_at is not None and self._reset_at <= now:
            self._limit = self._remaining = self._reset_at = None

    async def acquire(self) -> Decision:
        """Check every limit and, when allowed, spend one request, atomically."""
        now = self._clock()
        self._refresh(now)
        policy = self.policy
        if self._blocked_until is not None and self._blocked_until > now:
            return Decision(False, self._blocked_until - now, "blocked")
        if len(self._hour) >= policy.hour_limit:
            retry = self._hour[0] + HOUR - now if self._hour else HOUR
            return Decision(False, retry, "hour")
        if self._remaining is not None and self._remaining <= policy.reserve:
            retry = self._reset_at - now if self._reset_at is not None and self._reset_at > now else HOUR
            return Decision(False, retry, "reserve")
        if self._remaining is None and self._month_count >= policy.month_limit:
            end = self._month_end if self._month_end is not None else now + MONTH_FALLBACK
            return Decision(False, end - now, "month")
        self._spend(now)
        return Decision(True)

    def spend(self) -> None:
        """Count one request allowed elsewhere (the shared guard), without checking any limit."""
        now = self._clock()
        self._refresh(now)
        self._spend(now)

    def _spend(self, now: float) -> None:
        self._hour.append(now)
        if self._month_end is None:
            self._month_end = self._reset_at if self._reset_at is not None else now + MONTH_FALLBACK
        self._month_count += 1
        if self._remaining is not None:
            self._remaining -= 1

    async def observe(self, limit: int | None, remaining: int | None, reset_at: float | None) -> None:
        """Record the X-Ratelimit-* headers of a successful response.

        A later reset time starts a new period (its figures replace ours); the same one keeps the lowest
        `remaining` seen, since answers can arrive out of order; an earlier one is a late answer and is ignored.
        A reset that is missing, not finite or more than MAX_RESET_AHEAD away says nothing about the period:
        the answer's other figures count for the period already known, and no later answer is judged by it.
        """
        now = self._clock()
        reset_at = plausible_reset(reset_at, now)
        if limit is None and remaining is None and reset_at is None:
            return
        self._refresh(now)
        if reset_at is None:
            reset_at = self._reset_at  # this answer did not say: it belongs to the period we know
        if reset_at is not None and self._reset_at is not None and reset_at < self._reset_at:
            return  # a late answer from the previous period
        if reset_at != self._reset_at:
            if self._reset_at is not None and reset_at is not None:
                self._month_count, self._month_end = 0, None
            self._limit, self._remaining, self._reset_at = limit, remaining, reset_at
        else:
            if limit is not None:
                self._limit = limit
            if remaining is not None:
                self._remaining = remaining if self._remaining is None else min(self._remaining, remaining)
        if reset_at is not None and self._month_end is not None:
            self._month_end = reset_at
        self._refresh(now)

    async def block(self, until: float) -> None:
        """Refuse every request until `until` (never shortens an existing block)."""
        if self._blocked_until is None or until > self._blocked_until:
            self._blocked_until = until

    async def snapshot(self) -> QuotaSnapshot:
        """Return what the guard knows now."""
        now = self._clock()
        self._refresh(now)
        blocked = self._blocked_until if self._blocked_until is not None and self._blocked_until > now else None
        return QuotaSnapshot(
            hour_used=len(self._hour),
            hour_limit=self.policy.hour_limit,
            remaining=self._remaining,
            limit=self._limit,
            reset_at=self._reset_at,
            blocked_until=blocked,
        )


class MemoryDedupe:
    """Claims interaction ids in this process; each claim is forgotten after `ttl` seconds."""

    def __init__(self, clock: Clock = WALL_CLOCK, ttl: float = DEDUPE_TTL) -> None:
        self._clock = clock
        self._ttl = ttl
        self._claimed: OrderedDict[int, float] = OrderedDict()
        """id → expiry, in claim order (so expiries are ascending)."""

    def __len__(self) -> int:
        return len(self._claimed)

    async def claim(self, interaction_id: int) -> bool:
        """Return True for the first caller with this id, False for every later one."""
        now = self._clock()
        while self._claimed:
            oldest, expires = next(iter(self._claimed.items()))
            if expires > now:
                break
            del self._claimed[oldest]
        if interaction_id in self._claimed:
            return False
        self._claimed[interaction_id] = now + self._ttl
        return True


class NoIdentifyGate:
    """One process paces its own IDENTIFYs (discord.py does), so there is nothing to wait for."""

    async def wait_turn(self, shard_id: int) -> None:
        """Return at once."""


class MemoryState:
    """All state in this process: the default when REDIS_URL is unset."""

    backend = "memory"

    def __init__(
        self,
        *,
        policy: QuotaPolicy | None = None,
        cache_max_entries: int = 2_000,
        cache_max_bytes: int = CACHE_MAX_BYTES,
        clock: Clock = WALL_CLOCK,
    ) -> None:
        self.cache: Cache = MemoryCache(cache_max_entries, clock, max_bytes=cache_max_bytes)
        self.cooldowns: Cooldowns = MemoryCooldowns(clock)
        self.quota: Quota = MemoryQuota(policy or QuotaPolicy(), clock)
        self.dedupe: Dedupe = MemoryDedupe(clock)
        self.identify: IdentifyGate = NoIdentifyGate()

    async def close(self) -> None:
        """Nothing to release."""
