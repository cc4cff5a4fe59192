"""The result store: chunks of results in the shared cache, fetched once however many ask at once."""

from __future__ import annotations

import asyncio
import logging
from collections import OrderedDict
from collections.abc import Awaitable, Callable
from dataclasses import replace

from bot.models import Chunk
from bot.state.base import WALL_CLOCK, Cache, Clock
from bot.vocab import Kind, SearchSpec
from bot.wire import decode_chunk, encode_chunk

log = logging.getLogger(__name__)

DECODED_CHUNKS = 64
"""Decoded chunks kept beside the cache (about 40 KB each, against 3 KB cached): the ones being browsed right now.
They also serve page turns while the shared cache can't (Redis down), until their own TTL ends."""
NEW_CHUNKS = 32
"""Decoded chunks seen once only, kept apart until a second use: a stream of new searches must not push out the
chunks being browsed (segmented LRU). 96 decoded chunks at most in all."""
EMPTY_TTL = 3600
CURATED_TTL = 3600
"""Pexels adds curated photos every hour."""

Fetch = Callable[[SearchSpec, int], Awaitable[Chunk]]
"""Asks Pexels for chunk `n` (from 1) of a search."""


class ResultStore:
    """Chunks by (search, number): from the cache, else from Pexels through one shared fetch per chunk."""

    def __init__(self, cache: Cache, fetch: Fetch, *, ttl: int, clock: Clock = WALL_CLOCK) -> None:
        self._cache = cache
        self._clock = clock
        self._fetch = fetch
        self._ttl = ttl
        self._inflight: dict[str, asyncio.Task[Chunk]] = {}
        self._decoded: OrderedDict[str, tuple[bytes, Chunk, float]] = OrderedDict()
        """cache key → (the cached bytes, their decoding, when they expire): chunks used twice or more."""
        self._new: OrderedDict[str, tuple[bytes, Chunk, float]] = OrderedDict()
        """The same for chunks used once so far."""
        self.hits = 0
        self.misses = 0

    @property
    def hit_rate(self) -> float | None:
        """Share of chunk lookups served from the cache since start (None before the first)."""
        looked = self.hits + self.misses
        return self.hits / looked if looked else None

    async def chunk(self, spec: SearchSpec, number: int) -> Chunk:
        """Chunk `number` (from 1), asking Pexels when the cache doesn't hold it."""
        key = _cache_key(spec, number)
        cached = await self._cached(spec, key)
        if cached is not None:
            self.hits += 1
            return cached
        task = self._inflight.get(key)
        if task is None:
            self.misses += 1
            task = asyncio.create_task(self._fetch_and_store(spec, number, key))
            self._inflight[key] = task
            task.add_done_callback(lambda done: self._forget(key, done))
        else:
            self.hits += 1
        # Shielded: one waiter giving up (its interaction cancelled) must not cancel the fetch for the others.
        return await asyncio.shield(task)

    def chunk_now(self, spec: SearchSpec, number: int) -> Chunk | None:
        """Chunk `number` when it can be had without waiting (the cache is in this process and holds it), else None.

        Not counted as a hit: the caller counts what it served (`SearchService.result_now`)."""
        key = _cache_key(spec, number)
        raw = self._cache.peek(key)
        return None if raw is None else self._from_raw(spec, key, raw)

    async def cached_chunk(self, spec: SearchSpec, number: int) -> Chunk | None:
        """Chunk `number` if the cache holds it, without asking Pexels."""
        return await self._cached(spec, _cache_key(spec, number))

    async def record_end(self, spec: SearchSpec, head: Chunk, end: int) -> Chunk:
        """Remember (for every process) that this search really ends at `end`; return the updated first chunk."""
        if head.end is not None and head.end <= end:
            return head
        head = replace(head, end=end)
        log.info("Pexels serves %d results for search %s, not the %d it reports", end, spec.key, head.reported)
        await self._store(spec, _cache_key(spec, 1), head)
        return head

    async def _cached(self, spec: SearchSpec, key: str) -> Chunk | None:
        raw = await self._cache.get(key)
        if raw is None:
            # Not in the shared cache: evicted, or the cache is unreachable. A chunk used here recently still is.
            memo = self._decoded.get(key) or self._new.get(key)
            if memo is not None and memo[2] > self._clock():
                self._used_again(key, memo)
                return memo[1]
            return None
        return self._from_raw(spec, key, raw)

    def _from_raw(self, spec: SearchSpec, key: str, raw: bytes) -> Chunk | None:
        """The chunk the cache holds as `raw`, decoded once and reused while the cache holds the same bytes."""
        memo = self._decoded.get(key) or self._new.get(key)
        # A page turn reads one result of 80; decoding all 80 again was most of a press's own CPU time.
        if memo is not None and (memo[0] is raw or memo[0] == raw):
            self._used_again(key, memo)
            return memo[1]
        chunk = decode_chunk(spec.kind, raw)
        if chunk is not None:
            # Read back from the cache: its second use at least (the first stored it, maybe in another process).
            memo = (raw, chunk, self._clock() + self._ttl_for(spec, chunk))
            self._new.pop(key, None)
            self._decoded[key] = memo
            self._used_again(key, memo)
        return chunk

    def _remember(self, key: str, raw: bytes, chunk: Chunk, ttl: float) -> None:
        """Keep the decoding of a chunk just fetched (a second use moves it among the chunks being browsed)."""
        self._decoded.pop(key, None)
        self._new[key] = (raw, chunk, self._clock() + ttl)
        self._new.move_to_end(key)
        if len(self._new) > NEW_CHUNKS:
            self._new.popitem(last=False)

    def _used_again(self, key: str, memo: tuple[bytes, Chunk, float]) -> None:
        if self._new.pop(key, None) is not None:
            self._decoded[key] = memo
        self._decoded.move_to_end(key)
        if len(self._decoded) > DECODED_CHUNKS:
            self._decoded.popitem(last=False)

    def _forget(self, key: str, task: asyncio.Task[Chunk]) -> None:
        del self._inflight[key]
        if not task.cancelled():
            task.exception()  # retrieved here too: every waiter may have given up

    async def _fetch_and_store(self, spec: SearchSpec, number: int, key: str) -> Chunk:
        chunk = await self._fetch(spec, number)
        await self._store(spec, key, chunk)
        return chunk

    async def _store(self, spec: SearchSpec, key: str, chunk: Chunk) -> None:
        raw, ttl = encode_chunk(chunk), self._ttl_for(spec, chunk)
        await self._cache.set(key, raw, ttl)
        self._remember(key, raw, chunk, ttl)

    def _ttl_for(self, spec: SearchSpec, chunk: Chunk) -> int:
        if not chunk.items:
            return min(self._ttl, EMPTY_TTL)
        return min(self._ttl, CURATED_TTL) if spec.kind is Kind.CURATED else self._ttl


def _cache_key(spec: SearchSpec, number: int) -> str:
    return f"search:{spec.key}:{number}"
