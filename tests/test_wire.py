"""The cached chunk format across releases, in memory and in Redis: old rows are read, unreadable ones refetched."""

from __future__ import annotations

import zlib
from dataclasses import replace

import orjson
import pytest

from bot.errors import PexelsUnavailable
from bot.models import Chunk, Photo
from bot.service import SearchService
from bot.state import State
from bot.store import ResultStore
from bot.vocab import Kind, SearchSpec
from bot.wire import CHUNK_DICTIONARY, CHUNK_FORMAT, decode_chunk, encode_chunk
from tests.fakes.pexels import FakePexels

FAKE = FakePexels()  # never started: only its deterministic content generators are used here
SPEC = SearchSpec(Kind.PHOTO, "harbour at dusk")
KEY = f"search:{SPEC.key}:1"

# The exact bytes release 1.0.0 cached for a two-photo chunk: no format number, positional rows.
RELEASE_1_0 = orjson.dumps(
    {
        "r": 2,
        "n": False,
        "i": [
            [11, "https://www.pexels.com/photo/boats-11/", "https://images.pexels.com/11.jpeg", "Ana Lima",
             "https://www.pexels.com/@ana", 0x334455, "Boats in a harbour", 4000, 3000],
            [12, "https://www.pexels.com/photo/pier-12/", "https://images.pexels.com/12.jpeg", "Bo Chen",
             "https://www.pexels.com/@bo", None, "", 3000, 4000],
        ],
    }
)  # fmt: skip


class Fetches:
    """A Pexels stand-in for the store that counts requests, answering from the fake's generators or failing."""

    def __init__(self, *, fail: bool = False) -> None:
        self.count = 0
        self.fail = fail

    async def __call__(self, spec: SearchSpec, number: int) -> Chunk:
        self.count += 1
        if self.fail:
            raise PexelsUnavailable("test: Pexels is down")
        items = tuple(Photo.from_api(FAKE.photo(spec.query, i)) for i in range(3))
        return Chunk(items, 3, False)


def service(state: State, fetch: Fetches) -> SearchService:
    return SearchService(ResultStore(state.cache, fetch, ttl=600))


async def test_a_chunk_cached_by_the_previous_release_is_served_without_pexels(state: State) -> None:
    await state.cache.set(KEY, RELEASE_1_0, 600)
    fetch = Fetches(fail=True)
    slot = await service(state, fetch).result(SPEC, 1)
    assert fetch.count == 0
    assert isinstance(slot.item, Photo)
    assert (slot.item.id, slot.item.photographer, slot.item.alt, slot.total) == (12, "Bo Chen", "", 2)


async def test_rows_written_by_a_newer_release_with_more_fields_are_read(state: State) -> None:
    payload = orjson.loads(RELEASE_1_0)
    payload["v"] = CHUNK_FORMAT
    payload["i"] = [[*row, "a field added later", {"x": 1}] for row in payload["i"]]
    await state.cache.set(KEY, orjson.dumps(payload), 600)
    fetch = Fetches(fail=True)
    slot = await service(state, fetch).result(SPEC, 0)
    assert fetch.count == 0
    assert slot.item.id == 11


async def test_rows_missing_trailing_fields_get_their_defaults() -> None:
    payload = orjson.loads(RELEASE_1_0)
    payload["i"] = [row[:6] for row in payload["i"]]  # as if alt, width and height were added after it was cached
    chunk = decode_chunk(Kind.PHOTO, orjson.dumps(payload))
    assert chunk is not None
    photo = chunk.items[0]
    assert isinstance(photo, Photo)
    assert (photo.alt, photo.width, photo.height) == ("", 0, 0)


@pytest.mark.parametrize(
    "raw",
    [
        orjson.dumps({"v": CHUNK_FORMAT + 1, "r": 2, "n": False, "i": [["a new layout"]]}),
        orjson.dumps({"r": 2, "n": False, "i": [[11, "https://www.pexels.com/photo/x-11/"]]}),  # required fields gone
        orjson.dumps({"r": 2, "n": False, "i": "not rows"}),
        orjson.dumps(["not", "an", "object"]),
        b"\x00\xffnot json",
    ],
    ids=["newer-format", "short-row", "rows-not-a-list", "not-an-object", "not-json"],
)
async def test_unreadable_chunks_are_a_miss_and_fetched_again(state: State, raw: bytes) -> None:
    await state.cache.set(KEY, raw, 600)
    fetch = Fetches()
    slot = await service(state, fetch).result(SPEC, 2)
    assert fetch.count == 1
    assert slot.item.id == Photo.from_api(FAKE.photo(SPEC.query, 2)).id
    # and what was fetched replaced the unreadable entry
    again = await service(state, Fetches(fail=True)).result(SPEC, 0)
    assert again.total == 3


def test_encoding_round_trips_and_names_its_format() -> None:
    items = tuple(Photo.from_api(FAKE.photo("fox", i)) for i in range(80))
    chunk = Chunk(items, 8000, True, end=150)
    raw = encode_chunk(chunk)
    assert orjson.loads(zlib.decompressobj(15, CHUNK_DICTIONARY).decompress(raw))["v"] == CHUNK_FORMAT
    assert decode_chunk(Kind.PHOTO, raw) == chunk
    assert len(raw) <= 5 * 1024  # a day of quota (4,800 chunks) fits in the smallest hosted Redis plans


def test_links_of_another_shape_are_kept_whole() -> None:
    photo = Photo.from_api(FAKE.photo("fox", 0))
    odd = replace(
        photo,
        url="https://www.pexels.com/photo/no-id-here/",
        image="https://images.pexels.com/photos/1/other.png",
        photographer_url="https://www.pexels.com/fr-fr/@someone",
    )
    for chunk in (Chunk((photo, odd), 2, False), Chunk((replace(photo, photographer_url=""),), 1, False)):
        assert decode_chunk(Kind.PHOTO, encode_chunk(chunk)) == chunk


def test_a_corrupt_compressed_chunk_is_a_miss() -> None:
    raw = encode_chunk(Chunk((Photo.from_api(FAKE.photo("fox", 0)),), 1, False))
    assert decode_chunk(Kind.PHOTO, raw[:-8]) is None
    assert decode_chunk(Kind.PHOTO, zlib.compress(b"[1, 2]")) is None


class DownableCache:
    """A dict cache that can become unreachable (every get a miss), as Redis does when it goes away."""

    def __init__(self) -> None:
        self.values: dict[str, bytes] = {}
        self.down = False

    async def get(self, key: str) -> bytes | None:
        return None if self.down else self.values.get(key)

    async def set(self, key: str, value: bytes, ttl: float) -> None:
        if not self.down:
            self.values[key] = value

    def peek(self, key: str) -> bytes | None:
        return None  # like Redis: only a round trip can tell


async def test_a_result_being_browsed_outlives_a_stream_of_new_searches_in_memory() -> None:
    cache, fetch = DownableCache(), Fetches()
    store = ResultStore(cache, fetch, ttl=600)
    browsed = SearchSpec(Kind.PHOTO, "browsed all along")
    await store.chunk(browsed, 1)
    await store.chunk(browsed, 1)  # a page turn: it is being browsed
    for n in range(200):  # more than both segments hold
        await store.chunk(SearchSpec(Kind.PHOTO, f"searched once {n}"), 1)
    cache.down = True
    fetch.fail = True
    chunk = await store.chunk(browsed, 1)  # served from this process's memory, without Pexels
    assert chunk.items[0].id == Photo.from_api(FAKE.photo(browsed.query, 0)).id
    with pytest.raises(PexelsUnavailable):
        await store.chunk(SearchSpec(Kind.PHOTO, "searched once 0"), 1)  # a one-off search is not kept
