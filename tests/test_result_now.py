"""Results ready at once: from a cache in this process's memory only, and the same as the awaited path gives."""

from __future__ import annotations

import pytest

from bot.models import Chunk, Photo
from bot.service import SearchService
from bot.state import State
from bot.store import ResultStore
from bot.vocab import CHUNK_SIZE, Kind, SearchSpec
from tests.fakes.pexels import FakePexels

FAKE = FakePexels()  # never started: only its deterministic content generators are used here
SPEC = SearchSpec(Kind.PHOTO, "lighthouse in fog")


class Pages:
    """A search Pexels says has 100 results: a full first chunk, then the 20 that are left."""

    def __init__(self) -> None:
        self.asked: list[int] = []

    async def __call__(self, spec: SearchSpec, number: int) -> Chunk:
        self.asked.append(number)
        first = (number - 1) * CHUNK_SIZE
        count = CHUNK_SIZE if number == 1 else 20
        items = tuple(Photo.from_api(FAKE.photo(spec.query, first + i)) for i in range(count))
        return Chunk(items, 100, number == 1)


def service(state: State, pages: Pages) -> SearchService:
    return SearchService(ResultStore(state.cache, pages, ttl=600))


async def test_nothing_is_ready_before_the_search_was_made(state: State) -> None:
    assert service(state, Pages()).result_now(SPEC, 0) is None


async def test_a_cached_result_is_ready_at_once_only_when_the_cache_is_in_this_process(state: State) -> None:
    pages = Pages()
    search = service(state, pages)
    awaited = await search.result(SPEC, 7)
    now = search.result_now(SPEC, 7)
    if state.backend == "memory":
        assert now == awaited
    else:
        assert now is None, "only Redis knows what it holds: another process may have changed it"
    assert pages.asked == [1]


@pytest.mark.parametrize("backend", ["memory"], indirect=True)
async def test_a_later_chunk_is_ready_only_once_it_is_fetched_and_the_end_recorded(state: State) -> None:
    pages = Pages()
    search = service(state, pages)
    first = await search.result(SPEC, 0)
    assert first.total == 100
    assert search.result_now(SPEC, 85) is None, "chunk 2 is not fetched yet"
    awaited = await search.result(SPEC, 85)
    assert search.result_now(SPEC, 85) == awaited
    assert search.result_now(SPEC, 500) == await search.result(SPEC, 500), "clamped to the last, as awaited"
    assert pages.asked == [1, 2]


@pytest.mark.parametrize("backend", ["memory"], indirect=True)
async def test_results_served_at_once_count_as_cache_hits(state: State) -> None:
    search = service(state, Pages())
    await search.result(SPEC, 0)
    hits = search.store.hits
    assert search.result_now(SPEC, 3) is not None
    assert search.store.hits == hits + 1
