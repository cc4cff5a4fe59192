"""The Redis backend: several processes share one Pexels quota, cache, cooldowns, dedupe and IDENTIFY lock.

Key names (`kf` is a 12-hex sha256 prefix of the API key, never the key itself):

- `pexbot:v1:cache:{key}`: cached bytes, `SET … PX ttl`.
- `pexbot:v1:cd:{bucket}:{user_id}`: cooldown counter, `MULTI; SET NX PX; INCR; PTTL; EXEC`.
- `pexbot:v1:quota:{kf}:h`: ZSET sliding log of the last hour's requests (score = epoch ms).
- `pexbot:v1:quota:{kf}:m`: hash `{count, end}`: requests counted locally in this monthly period.
- `pexbot:v1:quota:{kf}:remote`: hash `{limit, remaining, reset}` mirrored from Pexels' headers.
- `pexbot:v1:quota:{kf}:blocked`: epoch ms until which every request is refused (after a 429).
- `pexbot:v1:quota:{kf}:epoch`: a random id; when it is gone the store lost the hour log, and each process
  puts its own spends of the hour back.
- `pexbot:v1:ix:{interaction_id}`: dedupe claim, `SET NX EX 60`.
- `pexbot:v1:identify:{shard_id % max_concurrency}`: IDENTIFY lock, `SET NX PX 5500`.

Quota times are epoch milliseconds from the injectable clock (not Redis `TIME`), so every expiry the
guard reasons about is checked in the script; Redis TTLs on those keys are only garbage collection.

Failure policy: no method raises because Redis is down. The cache misses, cooldowns and dedupe fail
open, IDENTIFY proceeds, and the quota falls back to this process's share of the limits. After a
failure Redis is left alone for `retry_interval` seconds, then tried again; shared state resumes
by itself when it answers.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import logging
import os
import random
import re
import socket
import ssl
import time
import uuid
from collections import deque
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar
from urllib.parse import parse_qs, unquote, urlsplit

from redis.asyncio import BlockingConnectionPool, Redis
from redis.asyncio.retry import Retry
from redis.backoff import NoBackoff

from bot.state.base import (
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
from bot.state.memory import MAX_RESET_AHEAD, MONTH_FALLBACK, MemoryQuota, plausible_reset

log = logging.getLogger(__name__)

T = TypeVar("T")

PREFIX = "pexbot:v1:"
DEDUPE_TTL = 60
WARN_EVERY = 30.0
"""Seconds between two warnings about the same component."""
KEEP_EVERY = 1.0
"""Seconds between two upkeep rounds (writing back the quota spent while Redis was unreachable)."""

_HOUR_MS = 3_600_000
_GC_MARGIN_MS = 60_000
_FINGERPRINT = re.compile(r"[0-9a-f]{12}")

# KEYS: h, m, remote, blocked, epoch. ARGV: now_ms, hour_limit, month_limit, reserve, member, month_fallback_ms,
# the caller's epoch id, then (score, member) pairs the caller spent while Redis was unreachable.
# Returns {-1, 'resync', 0} when the caller's epoch is not the store's (run RESYNC_LUA, then again); otherwise
# writes the pairs back, then {allowed (0/1), reason, retry_ms, score...}: the same rules, in the same order, as
# MemoryQuota.acquire, followed by the hour log's scores (what the caller's fallback judges by while Redis is down).
ACQUIRE_LUA = """
local now = tonumber(ARGV[1])
local hour_limit = tonumber(ARGV[2])
local month_limit = tonumber(ARGV[3])
local reserve = tonumber(ARGV[4])
local month_fallback = tonumber(ARGV[6])
local hour = 3600000
local margin = 60000


local epoch = redis.call('GET', KEYS[5])
if (not epoch) or epoch ~= ARGV[7] then
  return {-1, 'resync', 0}
end
redis.call('PEXPIRE', KEYS[5], hour + margin)
for i = 8, #ARGV, 2 do
  local score = tonumber(ARGV[i])
  if score > now - hour then
    redis.call('ZADD', KEYS[1], score, ARGV[i + 1])
  end
end

local function decide()
  local blocked = tonumber(redis.call('GET', KEYS[4]))
  if blocked and blocked > now then
    return {0, 'blocked', blocked - now}
  end

  redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now - hour)
  if redis.call('ZCARD', KEYS[1]) >= hour_limit then
    local oldest = redis.call('ZRANGE', KEYS[1], 0, 0, 'WITHSCORES')
    local retry = hour
    if oldest[2] then retry = tonumber(oldest[2]) + hour - now end
    return {0, 'hour', retry}
  end

  local remote = redis.call('HMGET', KEYS[3], 'remaining', 'reset')
  local remaining = tonumber(remote[1])
  local reset = tonumber(remote[2])
  if reset and reset <= now then
    redis.call('DEL', KEYS[3])
    remaining = nil
    reset = nil
  end
  if remaining and remaining <= reserve then
    local retry = hour
    if reset and reset > now then retry = reset - now end
    return {0, 'reserve', retry}
  end

  local month = redis.call('HMGET', KEYS[2], 'count', 'end')
  local count = tonumber(month[1]) or 0
  local month_end = tonumber(month[2])
  if month_end and month_end <= now then
    count = 0
    month_end = nil
  end
  if (not remaining) and count >= month_limit then
    local retry = month_fallback
    if month_end then retry = month_end - now end
    return {0, 'month', retry}
  end

  redis.call('ZADD', KEYS[1], now, ARGV[5])
  redis.call('PEXPIRE', KEYS[1], hour + margin)
  if not month_end then
    if reset then month_end = reset else month_end = now + month_fallback end
  end
  redis.call('HSET', KEYS[2], 'count', count + 1, 'end', month_end)
  redis.call('PEXPIRE', KEYS[2], month_end - now + margin)
  if remaining then
    redis.call('HSET', KEYS[3], 'remaining', remaining - 1)
  end
  return {1, '', 0}
end

local result = decide()
local seen = redis.call('ZRANGEBYSCORE', KEYS[1], string.format('(%d', now - hour), '+inf', 'WITHSCORES')
for i = 2, #seen, 2 do
  result[#result + 1] = seen[i]
end
return result
"""

# KEYS: h, epoch. ARGV: now_ms, a new epoch id, then (score, member) pairs: this process's spends of the last
# hour. Puts them back into the hour log (a no-op for those already there) and returns the store's epoch id,
# creating it when the store lost it (a restart without persistence, or a flush).
RESYNC_LUA = """
local now = tonumber(ARGV[1])
local hour = 3600000
for i = 3, #ARGV, 2 do
  local score = tonumber(ARGV[i])
  if score > now - hour then
    redis.call('ZADD', KEYS[1], score, ARGV[i + 1])
  end
end
if redis.call('EXISTS', KEYS[1]) == 1 then
  redis.call('PEXPIRE', KEYS[1], hour + 60000)
end
local epoch = redis.call('GET', KEYS[2])
if not epoch then
  redis.call('SET', KEYS[2], ARGV[2], 'PX', hour + 60000)
  epoch = ARGV[2]
end
return epoch
"""

# KEYS: remote, m. ARGV: now_ms, limit, remaining, reset_ms ('' when unknown), month_fallback_ms, max_ahead_ms.
# Same rules as MemoryQuota.observe: a later reset starts a new period, the same one keeps the lowest
# remaining, an earlier one (a late answer) is ignored; an answer without a (plausible) reset belongs to
# the period already known. A stored reset further ahead than max_ahead (written by an older release) is
# forgotten, so it cannot make every later answer look late.
OBSERVE_LUA = """
local now = tonumber(ARGV[1])
local limit = tonumber(ARGV[2])
local remaining = tonumber(ARGV[3])
local reset = tonumber(ARGV[4])
local max_ahead = tonumber(ARGV[6])
local margin = 60000

local cur = redis.call('HMGET', KEYS[1], 'limit', 'remaining', 'reset')
local cur_limit = tonumber(cur[1])
local cur_remaining = tonumber(cur[2])
local cur_reset = tonumber(cur[3])
if cur_reset and (cur_reset <= now or cur_reset > now + max_ahead) then
  cur_limit = nil
  cur_remaining = nil
  cur_reset = nil
end
if not reset then reset = cur_reset end

if reset and cur_reset and reset < cur_reset then
  return 0
end
if reset ~= cur_reset then
  if cur_reset and reset then
    redis.call('DEL', KEYS[2])
  end
else
  if limit == nil then limit = cur_limit end
  if remaining == nil then
    remaining = cur_remaining
  elseif cur_remaining and cur_remaining < remaining then
    remaining = cur_remaining
  end
end

redis.call('DEL', KEYS[1])
if reset and reset <= now then
  return 0
end
if limit then redis.call('HSET', KEYS[1], 'limit', limit) end
if remaining then redis.call('HSET', KEYS[1], 'remaining', remaining) end
if reset then
  redis.call('HSET', KEYS[1], 'reset', reset)
  redis.call('PEXPIRE', KEYS[1], reset - now + margin)
  if redis.call('HEXISTS', KEYS[2], 'end') == 1 then
    redis.call('HSET', KEYS[2], 'end', reset)
    redis.call('PEXPIRE', KEYS[2], reset - now + margin)
  end
elseif redis.call('EXISTS', KEYS[1]) == 1 then
  redis.call('PEXPIRE', KEYS[1], tonumber(ARGV[5]) + margin)
end
return 1
"""

# KEYS: blocked. ARGV: until_ms, now_ms. Never shortens an existing block.
BLOCK_LUA = """
local untl = tonumber(ARGV[1])
local now = tonumber(ARGV[2])
local cur = tonumber(redis.call('GET', KEYS[1]))
if cur and cur > untl then untl = cur end
if untl > now then
  redis.call('SET', KEYS[1], untl, 'PX', untl - now + 60000)
end
return 1
"""

# KEYS: h, remote, blocked. ARGV: now_ms. Returns {hour_used, limit, remaining, reset_ms, blocked_ms}.
SNAPSHOT_LUA = """
local now = tonumber(ARGV[1])
local used = redis.call('ZCOUNT', KEYS[1], string.format('(%d', now - 3600000), '+inf')
local remote = redis.call('HMGET', KEYS[2], 'limit', 'remaining', 'reset')
local reset = tonumber(remote[3])
if reset and reset <= now then
  remote = {false, false, false}
end
local blocked = redis.call('GET', KEYS[3])
if blocked and tonumber(blocked) <= now then blocked = false end
return {used, remote[1], remote[2], remote[3], blocked}
"""


class _Down(Exception):
    """Redis did not answer (or the breaker is open): use the fallback."""


class RedisLink:
    """The client plus what every component shares: a circuit breaker and rate-limited warnings."""

    def __init__(self, client: Redis, *, secrets: tuple[str, ...] = (), retry_interval: float = 1.0) -> None:
        self.client = client
        self.retry_interval = retry_interval
        self._secrets = tuple(s for s in secrets if s)
        self._open_until = 0.0
        self._failing = False
        self._warned_at: dict[str, float] = {}

    @property
    def healthy(self) -> bool:
        """False from a failure until Redis answers again."""
        return not self._failing

    def redact(self, text: str) -> str:
        """Hide the URL's credentials in a message."""
        for secret in self._secrets:
            text = text.replace(secret, "********")
        return text

    async def run(self, component: str, op: Callable[[], Awaitable[T]]) -> T:
        """Run one Redis operation; raise `_Down` (after noting the failure) when Redis does not answer."""
        if time.monotonic() < self._open_until:
            raise _Down
        try:
            result = await op()
        except Exception as exc:  # every Redis failure, whatever its type, means "use the fallback"
            self._failed(component, exc)
            raise _Down from exc
        if self._failing:
            self._failing = False
            log.info("Redis is back: shared state is in use again")
        return result

    def _failed(self, component: str, exc: Exception) -> None:
        now = time.monotonic()
        self._open_until = now + self.retry_interval
        self._failing = True
        last = self._warned_at.get(component)
        if last is None or now - last >= WARN_EVERY:
            self._warned_at[component] = now
            log.warning(
                "Redis unavailable for %s (%s: %s); using the fallback",
                component,
                type(exc).__name__,
                self.redact(str(exc)) or "no detail",
            )


class RedisCache:
    """Shared cache of byte strings (`SET … PX`); a miss when Redis is down."""

    def __init__(self, link: RedisLink) -> None:
        self._link = link

    async def get(self, key: str) -> bytes | None:
        """Return the value, or None when missing, expired or Redis is down."""
        try:
            value: Any = await self._link.run("cache", lambda: self._link.client.get(PREFIX + "cache:" + key))
        except _Down:
            return None
        return bytes(value) if value is not None else None

    def peek(self, key: str) -> bytes | None:
        """Always None: only Redis knows what it holds (another process may have changed it)."""
        return None

    async def set(self, key: str, value: bytes, ttl: float) -> None:
        """Store a value for `ttl` seconds; a no-op when Redis is down."""
        ttl_ms = int(ttl * 1000)
        if ttl_ms <= 0:
            return
        try:
            await self._link.run("cache", lambda: self._link.client.set(PREFIX + "cache:" + key, value, px=ttl_ms))
        except _Down:
            return


class RedisCooldowns:
    """Shared discord.py-style cooldowns: `MULTI; SET k 0 NX PX per; INCR k; PTTL k; EXEC`. Fails open."""

    def __init__(self, link: RedisLink) -> None:
        self._link = link

    async def hit(self, bucket: str, user_id: int, rate: int, per: float) -> float:
        """Count one use; return 0.0 when allowed (or Redis is down), else the seconds until the window ends."""
        key = f"{PREFIX}cd:{bucket}:{user_id}"
        per_ms = max(1, int(per * 1000))

        async def op() -> list[Any]:
            async with self._link.client.pipeline(transaction=True) as pipe:
                pipe.set(key, 0, nx=True, px=per_ms)
                pipe.incr(key)
                pipe.pttl(key)
                result: list[Any] = await pipe.execute()
                return result

        try:
            _, count, pttl = await self._link.run("cooldowns", op)
        except _Down:
            return 0.0
        # A refused use still increments the counter, which is harmless: the window was fixed by the
        # first use's PX and INCR does not move it.
        if int(count) <= rate:
            return 0.0
        pttl = int(pttl)
        return pttl / 1000 if pttl > 0 else per


class RedisQuota:
    """The shared quota guard: one Lua script per operation; this process's share in memory when Redis is down."""

    def __init__(self, link: RedisLink, policy: QuotaPolicy, key_fingerprint: str, shard_count: int, clock: Clock):
        self._link = link
        self.policy = policy
        self._clock = clock
        base = f"{PREFIX}quota:{key_fingerprint}:"
        self._hour_key, self._month_key = base + "h", base + "m"
        self._remote_key, self._blocked_key = base + "remote", base + "blocked"
        client = link.client
        self._acquire = client.register_script(ACQUIRE_LUA)
        self._observe = client.register_script(OBSERVE_LUA)
        self._block = client.register_script(BLOCK_LUA)
        self._snapshot = client.register_script(SNAPSHOT_LUA)
        self._resync = client.register_script(RESYNC_LUA)
        self._epoch_key = base + "epoch"
        self._epoch = ""
        """The store's epoch id as last seen: a different (or missing) one means the store lost the hour log."""
        self._mine: deque[tuple[int, str]] = deque()
        """This process's spends of the last hour (epoch ms, log member), to put back if the store loses them."""
        self._pending: list[tuple[int, str]] = []
        """Spends made while Redis was unreachable, written back by the next acquire that reaches it."""
        self._seen: list[int] = []
        """The shared hour log's scores as of the last acquire that reached Redis."""
        shards = max(1, shard_count)
        self.fallback = MemoryQuota(
            QuotaPolicy(
                hour_limit=max(1, policy.hour_limit // shards),
                month_limit=max(1, policy.month_limit // shards),
                reserve=policy.reserve,
            ),
            clock,
        )
        """Used while Redis is down; it also sees every observe/block and shared spend, so it starts informed."""

    def _now_ms(self) -> int:
        return int(self._clock() * 1000)

    async def acquire(self) -> Decision:
        """Check every limit and, when allowed, spend one request, atomically across processes.

        While Redis is unreachable, a request is allowed only within this process's share of the hourly limit
        (counting its own spends of the hour) and within what the shared log held when last seen plus what this
        process spent since; those spends are written back as soon as Redis answers. When the store has lost the
        hour log (a restart without persistence), each process puts its own spends of the hour back first.
        """
        now_ms = self._now_ms()
        while self._mine and self._mine[0][0] <= now_ms - _HOUR_MS:
            self._mine.popleft()
        member = f"{now_ms}:{uuid.uuid4().hex}"
        keys = [self._hour_key, self._month_key, self._remote_key, self._blocked_key, self._epoch_key]
        for _ in range(2):
            args: list[int | str] = [
                now_ms,
                self.policy.hour_limit,
                self.policy.month_limit,
                self.policy.reserve,
                member,
                int(MONTH_FALLBACK * 1000),
                self._epoch,
                *(value for pair in self._pending for value in pair),
            ]
            try:
                result = await self._link.run("quota", functools.partial(self._acquire, keys=keys, args=args))
                if int(result[0]) == -1:
                    await self._resync_log(now_ms)
                    continue
            except _Down:
                return await self._acquire_alone(now_ms, member)
            self._pending.clear()
            self._seen = [int(float(score)) for score in result[3:]]
            if int(result[0]):
                self._mine.append((now_ms, member))
                self.fallback.spend()
                return Decision(True)
            reason = result[1].decode() if isinstance(result[1], bytes) else str(result[1])
            return Decision(False, max(0, int(result[2])) / 1000, reason)
        return Decision(False, 1.0, "hour")  # the store lost its log twice in a row: refuse, it costs no quota

    async def _resync_log(self, now_ms: int) -> None:
        """Put this process's spends of the hour back into the store's log and adopt its epoch (raises _Down)."""
        args: list[int | str] = [now_ms, uuid.uuid4().hex, *(value for pair in self._mine for value in pair)]
        epoch = await self._link.run("quota", lambda: self._resync(keys=[self._hour_key, self._epoch_key], args=args))
        if self._epoch:
            log.warning(
                "The shared quota log in Redis was lost (a restart without persistence?); this process put back "
                "its %d request(s) of the last hour. Enable Redis persistence (AOF) to keep it exact.",
                len(self._mine),
            )
        self._epoch = epoch.decode() if isinstance(epoch, bytes) else str(epoch)
        self._pending.clear()

    async def keep_in_sync(self) -> None:
        """Write back spends made during an outage and, when the store lost the hour log, put ours back (raises
        nothing). Run every second, so every living process has done it within about a second of Redis returning."""
        try:
            epoch = await self._link.run("quota", lambda: self._link.client.get(self._epoch_key))
            current = epoch.decode() if isinstance(epoch, bytes) else epoch
            if current != self._epoch or self._pending:
                await self._resync_log(self._now_ms())
        except _Down:
            return

    async def _acquire_alone(self, now_ms: int, member: str) -> Decision:
        """Redis is unreachable: this process's share, within what the shared log held plus what we spent since."""
        cutoff = now_ms - _HOUR_MS
        known = sorted([s for s in self._seen if s > cutoff] + [s for s, _ in self._pending if s > cutoff])
        if len(known) >= self.policy.hour_limit:
            return Decision(False, (known[0] + _HOUR_MS - now_ms) / 1000, "hour")
        decision = await self.fallback.acquire()
        if decision.allowed:
            self._mine.append((now_ms, member))
            self._pending.append((now_ms, member))
        return decision

    async def observe(self, limit: int | None, remaining: int | None, reset_at: float | None) -> None:
        """Record the X-Ratelimit-* headers of a successful response (in memory too, for the fallback)."""
        await self.fallback.observe(limit, remaining, reset_at)
        reset_at = plausible_reset(reset_at, self._clock())
        if limit is None and remaining is None and reset_at is None:
            return
        args: list[int | str] = [
            self._now_ms(),
            "" if limit is None else int(limit),
            "" if remaining is None else int(remaining),
            "" if reset_at is None else round(reset_at * 1000),
            int(MONTH_FALLBACK * 1000),
            int(MAX_RESET_AHEAD * 1000),
        ]
        keys = [self._remote_key, self._month_key]
        try:
            await self._link.run("quota", lambda: self._observe(keys=keys, args=args))
        except _Down:
            return

    async def block(self, until: float) -> None:
        """Refuse every request until `until` (epoch seconds), in every process."""
        await self.fallback.block(until)
        args = [round(until * 1000), self._now_ms()]
        try:
            await self._link.run("quota", lambda: self._block(keys=[self._blocked_key], args=args))
        except _Down:
            return

    async def snapshot(self) -> QuotaSnapshot:
        """Return what the shared guard knows now (this process's fallback when Redis is down)."""
        keys = [self._hour_key, self._remote_key, self._blocked_key]
        try:
            used, limit, remaining, reset_ms, blocked_ms = await self._link.run(
                "quota", lambda: self._snapshot(keys=keys, args=[self._now_ms()])
            )
        except _Down:
            return await self.fallback.snapshot()
        return QuotaSnapshot(
            hour_used=int(used),
            hour_limit=self.policy.hour_limit,
            remaining=None if remaining is None else int(remaining),
            limit=None if limit is None else int(limit),
            reset_at=None if reset_ms is None else int(reset_ms) / 1000,
            blocked_until=None if blocked_ms is None else int(blocked_ms) / 1000,
        )


class RedisDedupe:
    """`SET pexbot:v1:ix:{id} <token> NX EX 60`: the first process wins. Fails open."""

    def __init__(self, link: RedisLink, token: str) -> None:
        self._link = link
        self._token = token

    async def claim(self, interaction_id: int) -> bool:
        """Return True for the first caller with this id (or when Redis is down), False for every later one."""
        key = f"{PREFIX}ix:{interaction_id}"
        try:
            won = await self._link.run(
                "dedupe", lambda: self._link.client.set(key, self._token, nx=True, ex=DEDUPE_TTL)
            )
        except _Down:
            return True
        return bool(won)


class RedisIdentifyGate:
    """A cross-process IDENTIFY lock: loop on `SET pexbot:v1:identify:{n} NX PX 5500`, give up after ~30 s."""

    def __init__(
        self,
        link: RedisLink,
        token: str,
        *,
        max_concurrency: int = 1,
        lock_seconds: float = 5.5,
        give_up_after: float = 30.0,
        poll: tuple[float, float] = (0.25, 0.5),
    ) -> None:
        self._link = link
        self._token = token
        self.max_concurrency = max_concurrency
        self.lock_seconds = lock_seconds
        self.give_up_after = give_up_after
        self.poll = poll

    async def wait_turn(self, shard_id: int) -> None:
        """Return when this shard holds the lock, when Redis is down, or after `give_up_after` seconds."""
        key = f"{PREFIX}identify:{shard_id % max(1, self.max_concurrency)}"
        lock_ms = max(1, int(self.lock_seconds * 1000))
        deadline = time.monotonic() + self.give_up_after
        while True:
            try:
                won = await self._link.run(
                    "identify", lambda: self._link.client.set(key, self._token, nx=True, px=lock_ms)
                )
            except _Down:
                return
            if won:
                return
            if time.monotonic() >= deadline:
                log.warning(
                    "Shard %d waited %.0fs for the IDENTIFY lock; identifying anyway", shard_id, self.give_up_after
                )
                return
            await asyncio.sleep(random.uniform(*self.poll))


def _secrets_of(url: str) -> tuple[str, ...]:
    """The credentials a Redis URL carries (raw and percent-decoded), to keep them out of logs."""
    parts = urlsplit(url)
    found: list[str] = []
    for value in (parts.password, parts.username):
        if value:
            found += [value, unquote(value)]
    for name, values in parse_qs(parts.query).items():
        if name.lower() in ("password", "username"):
            found += values
    return tuple(sorted(set(found), key=len, reverse=True))


def _ssl_option(cert_reqs: str | None) -> ssl.VerifyMode | None:
    """REDIS_SSL_CERT_REQS → redis-py's `ssl_cert_reqs` ("none" → CERT_NONE)."""
    modes = {"none": ssl.CERT_NONE, "optional": ssl.CERT_OPTIONAL, "required": ssl.CERT_REQUIRED}
    if cert_reqs is None:
        return None
    try:
        return modes[cert_reqs.strip().lower()]
    except KeyError:
        raise ValueError(f"ssl_cert_reqs must be none, optional or required (got {cert_reqs!r})") from None


class RedisState:
    """All shared state in Redis, with in-process fallbacks while Redis is unreachable."""

    backend = "redis"

    def __init__(
        self,
        client: Redis,
        pool: BlockingConnectionPool,
        *,
        policy: QuotaPolicy,
        key_fingerprint: str,
        shard_count: int = 1,
        clock: Clock = WALL_CLOCK,
        secrets: tuple[str, ...] = (),
        retry_interval: float = 1.0,
    ) -> None:
        if not _FINGERPRINT.fullmatch(key_fingerprint):
            raise ValueError("key_fingerprint must be 12 lowercase hex characters (a sha256 prefix, not the key)")
        self._client = client
        self._pool = pool
        self.link = RedisLink(client, secrets=secrets, retry_interval=retry_interval)
        token = f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"
        self.cache: Cache = RedisCache(self.link)
        self.cooldowns: Cooldowns = RedisCooldowns(self.link)
        self._quota = RedisQuota(self.link, policy, key_fingerprint, shard_count, clock)
        self.quota: Quota = self._quota
        self._keeper: asyncio.Task[None] | None = None
        self._stopping = asyncio.Event()
        self.dedupe: Dedupe = RedisDedupe(self.link, token)
        self.identify: IdentifyGate = RedisIdentifyGate(self.link, token)

    @classmethod
    async def connect(
        cls,
        url: str,
        *,
        policy: QuotaPolicy,
        shard_count: int = 1,
        key_fingerprint: str,
        ssl_cert_reqs: str | None = None,
        clock: Clock = WALL_CLOCK,
        max_connections: int = 20,
        retry_interval: float = 1.0,
    ) -> RedisState:
        """Build the client (no round trip: an unreachable Redis is not an error, see `ping`)."""
        options: dict[str, Any] = {
            "max_connections": max_connections,
            "timeout": 2.0,
            "socket_connect_timeout": 0.5,
            "socket_timeout": 1.0,
            "retry": Retry(NoBackoff(), 1),
            "decode_responses": False,
        }
        if urlsplit(url).scheme == "rediss" and ssl_cert_reqs is not None:
            mode = _ssl_option(ssl_cert_reqs)
            options["ssl_cert_reqs"] = mode
            if mode == ssl.CERT_NONE:
                options["ssl_check_hostname"] = False
        pool = BlockingConnectionPool.from_url(url, **options)
        client = Redis(connection_pool=pool)
        return cls(
            client,
            pool,
            policy=policy,
            key_fingerprint=key_fingerprint,
            shard_count=shard_count,
            clock=clock,
            secrets=_secrets_of(url),
            retry_interval=retry_interval,
        )

    async def ping(self) -> bool:
        """Return True when Redis answers now."""
        try:
            return bool(await self.link.run("ping", self._client.ping))
        except _Down:
            return False

    def start(self) -> None:
        """Start the background upkeep (the quota log's write-back after an outage or a Redis restart)."""
        if self._keeper is None:
            self._keeper = asyncio.create_task(self._keep(), name="pexbot-redis-upkeep")

    async def _keep(self) -> None:
        # Stopped by an event, not by cancelling: redis-py can turn a cancellation inside a call into a timeout.
        while not self._stopping.is_set():
            await self._quota.keep_in_sync()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._stopping.wait(), KEEP_EVERY)

    async def close(self) -> None:
        """Stop the upkeep, close the client and disconnect the pool (never raises)."""
        if self._keeper is not None:
            self._stopping.set()
            _, running = await asyncio.wait({self._keeper}, timeout=3)
            for task in running:
                task.cancel()
        try:
            await self._client.aclose()
            await self._pool.disconnect()
        except Exception as exc:
            log.debug("Ignoring an error while closing Redis: %s", self.link.redact(str(exc)))
