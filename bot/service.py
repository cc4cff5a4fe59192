"""The search service: (search, position) → a result, with totals that tell the truth."""

from __future__ import annotations

import random
from dataclasses import dataclass

from bot import messages as M
from bot.errors import NoResults
from bot.models import Chunk, Item
from bot.pexels import PexelsClient
from bot.store import Fetch, ResultStore
from bot.vocab import CHUNK_SIZE, MAX_RESULTS, Kind, SearchSpec


@dataclass(frozen=True, slots=True)
class Slot:
    """One result at a position of a result list."""

    item: Item
    index: int
    total: int
    spec: SearchSpec


def _total(head: Chunk) -> int:
    """How many results we can truthfully offer, judged from the first chunk."""
    if head.end is not None:
        return min(head.end, MAX_RESULTS)
    if not head.has_next or len(head.items) < CHUNK_SIZE:
        # Also when Pexels sent 80 but some were unusable: positions past them can't be shown truthfully.
        return len(head.items)
    return max(len(head.items), min(head.reported, MAX_RESULTS))


def pexels_fetcher(client: PexelsClient) -> Fetch:
    """The store's fetch function: one Pexels request for chunk `number` of a search."""

    async def fetch(spec: SearchSpec, number: int) -> Chunk:
        if spec.kind is Kind.CURATED:
            raw = await client.curated(page=number)
        elif spec.kind is Kind.VIDEO:
            raw = await client.search_videos(
                spec.query, page=number, orientation=spec.orientation, size=spec.size, locale=spec.locale
            )
        else:
            raw = await client.search_photos(
                spec.query,
                page=number,
                orientation=spec.orientation,
                size=spec.size,
                color=spec.colour,
                locale=spec.locale,
            )
        return Chunk(raw.items, raw.total, raw.has_next)

    return fetch


class SearchService:
    """Turns (search, position) into a result, asking Pexels only when the cache can't answer."""

    def __init__(self, store: ResultStore) -> None:
        self.store = store

    async def result(self, spec: SearchSpec, index: int) -> Slot:
        """The result at `index` (clamped to the list), fetching the chunk that holds it if needed."""
        head = await self.store.chunk(spec, 1)
        total = _total(head)
        if total == 0:
            raise NoResults(M.NO_RESULTS_FILTERED if spec.kind is Kind.PHOTO else M.NO_RESULTS)
        index = max(0, min(index, total - 1))
        number, offset = divmod(index, CHUNK_SIZE)
        if number == 0:
            return Slot(head.items[offset], index, total, spec)
        chunk = await self.store.chunk(spec, number + 1)
        if len(chunk.items) < CHUNK_SIZE or not chunk.has_next:
            head = await self.store.record_end(spec, head, number * CHUNK_SIZE + len(chunk.items))
        if offset < len(chunk.items):
            return Slot(chunk.items[offset], index, _total(head), spec)
        return await self._last_served(spec, head, number)

    def result_now(self, spec: SearchSpec, index: int) -> Slot | None:
        """The result at `index` (clamped) when it can be had without waiting, from a cache in this process's
        memory; None otherwise (a shared cache, a chunk to fetch, an end to record): then `result`."""
        head = self.store.chunk_now(spec, 1)
        total = _total(head) if head is not None else 0
        if head is None or total == 0:
            return None
        index = max(0, min(index, total - 1))
        number, offset = divmod(index, CHUNK_SIZE)
        chunk = head if number == 0 else self.store.chunk_now(spec, number + 1)
        if chunk is None or offset >= len(chunk.items):
            return None
        end = number * CHUNK_SIZE + len(chunk.items)
        if number and (len(chunk.items) < CHUNK_SIZE or not chunk.has_next) and (head.end is None or head.end > end):
            return None  # the list's real end is to be recorded first (`result` does)
        self.store.hits += 1 if number == 0 else 2
        return Slot(chunk.items[offset], index, total, spec)

    async def cached_result(self, spec: SearchSpec, index: int) -> Slot | None:
        """The result at `index` (clamped) if the cache holds it, without asking Pexels."""
        head = await self.store.cached_chunk(spec, 1)
        total = _total(head) if head else 0
        if head is None or total == 0:
            return None
        index = max(0, min(index, total - 1))
        number, offset = divmod(index, CHUNK_SIZE)
        chunk = head if number == 0 else await self.store.cached_chunk(spec, number + 1)
        if chunk is None or offset >= len(chunk.items):
            return None
        return Slot(chunk.items[offset], index, total, spec)

    async def random_index(self, spec: SearchSpec, current: int) -> int:
        """A random other result among those already fetched: 🔀 never costs quota."""
        cached = await self.cached_result(spec, current)
        loaded = 0
        for number in range(1, (cached.total - 1) // CHUNK_SIZE + 2) if cached else ():
            chunk = await self.store.cached_chunk(spec, number)
            if chunk is None:
                break
            loaded = min(cached.total if cached else 0, (number - 1) * CHUNK_SIZE + len(chunk.items))
        if loaded <= 1:
            return current
        choice = random.randrange(loaded - 1)
        return choice + 1 if choice >= current else choice

    async def _last_served(self, spec: SearchSpec, head: Chunk, empty: int) -> Slot:
        """Pexels reported more than it serves: walk back to the last chunk with results and remember the end."""
        for number in range(empty - 1, 0, -1):
            chunk = await self.store.chunk(spec, number + 1)
            if chunk.items:
                head = await self.store.record_end(spec, head, number * CHUNK_SIZE + len(chunk.items))
                return Slot(chunk.items[-1], _total(head) - 1, _total(head), spec)
        head = await self.store.record_end(spec, head, len(head.items))
        return Slot(head.items[-1], _total(head) - 1, _total(head), spec)
