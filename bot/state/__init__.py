"""Shared state: the cache, cooldowns, quota guard, dedupe and IDENTIFY gate, in memory or in Redis."""

from __future__ import annotations

import logging

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
    State,
)
from bot.state.memory import MemoryState

log = logging.getLogger(__name__)

__all__ = [
    "HOUR",
    "WALL_CLOCK",
    "Cache",
    "Clock",
    "Cooldowns",
    "Decision",
    "Dedupe",
    "IdentifyGate",
    "MemoryState",
    "Quota",
    "QuotaPolicy",
    "QuotaSnapshot",
    "State",
    "build_state",
]


async def build_state(
    *,
    redis_url: str | None,
    policy: QuotaPolicy,
    shard_count: int,
    key_fingerprint: str,
    cache_max_entries: int,
    redis_ssl_cert_reqs: str | None = None,
    clock: Clock = WALL_CLOCK,
) -> State:
    """Return the Redis backend when `redis_url` is set (even if Redis is down right now), else the memory one."""
    if not redis_url:
        log.info("Shared state: in memory (REDIS_URL is unset)")
        return MemoryState(policy=policy, cache_max_entries=cache_max_entries, clock=clock)

    from bot.state.redis import RedisState  # redis-py is only imported when it is used

    state = await RedisState.connect(
        redis_url,
        policy=policy,
        shard_count=shard_count,
        key_fingerprint=key_fingerprint,
        ssl_cert_reqs=redis_ssl_cert_reqs,
        clock=clock,
    )
    state.start()
    if await state.ping():
        log.info("Shared state: Redis (%d shard(s) share the quota)", shard_count)
    else:
        log.warning(
            "Shared state: Redis is unreachable at start; running on in-memory fallbacks "
            "(this process's share of the quota) until it answers"
        )
    return state
