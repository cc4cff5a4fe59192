"""MemoryCache: bounded in entries and in bytes, whatever the values weigh."""

from __future__ import annotations

import logging

import pytest

from bot.state.memory import CACHE_MAX_BYTES, CACHE_MAX_ITEM_BYTES, MemoryCache, MemoryState
from tests.conftest_state import FakeClock


async def test_the_byte_bound_evicts_the_least_recently_used() -> None:
    clock = FakeClock()
    cache = MemoryCache(100, clock, max_bytes=10_000, max_item_bytes=5_000)
    for n in range(5):
        await cache.set(f"k{n}", bytes(3_000), 60)
    assert len(cache) == 3 and cache.size_bytes <= 10_000
    assert [await cache.get(f"k{n}") is not None for n in range(5)] == [False, False, True, True, True]
    await cache.get("k2")  # now the most recently used
    await cache.set("k5", bytes(3_000), 60)
    assert await cache.get("k2") is not None and await cache.get("k3") is None


async def test_a_value_over_the_item_bound_is_not_stored_and_replaces_nothing_stale(
    caplog: pytest.LogCaptureFixture,
) -> None:
    cache = MemoryCache(100, FakeClock(), max_bytes=1_000_000, max_item_bytes=5_000)
    await cache.set("page", b"old", 60)
    with caplog.at_level(logging.WARNING):
        await cache.set("page", bytes(5_001), 60)
    assert await cache.get("page") is None, "the old value is gone too: it was replaced"
    assert cache.size_bytes == 0 and "Not caching 5001 bytes" in caplog.text
    await cache.set("page", bytes(5_000), 60)
    assert await cache.get("page") == bytes(5_000)


async def test_bytes_are_accounted_through_replacement_expiry_and_removal() -> None:
    clock = FakeClock()
    cache = MemoryCache(100, clock)
    await cache.set("a", bytes(1_000), 10)
    await cache.set("a", bytes(2_000), 10)
    await cache.set("b", bytes(500), 5)
    one = cache.size_bytes
    assert 2_500 < one < 3_000
    clock.advance(6)
    assert await cache.get("b") is None
    assert 2_000 < cache.size_bytes < one
    await cache.set("a", b"", 0)  # ttl 0 removes
    assert (len(cache), cache.size_bytes) == (0, 0)


def test_defaults_and_validation() -> None:
    cache = MemoryCache(10)
    assert (cache.max_bytes, cache.max_item_bytes) == (CACHE_MAX_BYTES, CACHE_MAX_ITEM_BYTES)
    assert CACHE_MAX_BYTES == 128 * 1024 * 1024 and CACHE_MAX_ITEM_BYTES == 1024 * 1024
    assert isinstance(MemoryState(cache_max_bytes=5_000).cache, MemoryCache)
    assert MemoryState(cache_max_bytes=5_000).cache.max_bytes == 5_000  # type: ignore[attr-defined]
    with pytest.raises(ValueError):
        MemoryCache(10, max_bytes=0)
