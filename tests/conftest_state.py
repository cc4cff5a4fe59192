"""Fixtures for the shared-state contract tests (a pytest plugin: `pytest_plugins = ["tests.conftest_state"]`).

- `redis_server`: one real redis-server for the session (skipped, or failed with REQUIRE_REDIS=1, without it).
- `clock`: a `FakeClock` starting at the wall clock's time, moved with `.advance(seconds)`.
- `backend`: "memory" or "redis"; every test that uses `state`/`make_state` runs once per backend.
- `make_state(policy=..., shard_count=...)`: another client of the same shared store (for memory, the
  same object: one process has one store); `state` is the first one.
"""

from __future__ import annotations

import time
from collections.abc import AsyncIterator, Awaitable, Iterator
from typing import Protocol

import pytest

from bot.state import MemoryState, QuotaPolicy, State
from bot.state.redis import RedisState
from tests.redis_server import RedisServer, redis_server_binary

KEY_FINGERPRINT = "0123456789ab"
DEFAULT_POLICY = QuotaPolicy(hour_limit=20, month_limit=1_000, reserve=2)


class FakeClock:
    """A clock that only moves when told to."""

    def __init__(self, start: float | None = None) -> None:
        self.now = time.time() if start is None else start

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        """Move time forward."""
        self.now += seconds


class StateFactory(Protocol):
    """Builds one more client of the test's shared store."""

    def __call__(self, policy: QuotaPolicy = ..., *, shard_count: int = ...) -> Awaitable[State]: ...


@pytest.fixture(scope="session")
def redis_server() -> Iterator[RedisServer]:
    """A real redis-server on a free loopback port, for the whole session."""
    server = RedisServer(redis_server_binary())
    server.start()
    try:
        yield server
    finally:
        server.cleanup()


@pytest.fixture
def clock() -> FakeClock:
    """A fake clock, injected into every backend the test builds."""
    return FakeClock()


@pytest.fixture(params=["memory", "redis"])
def backend(request: pytest.FixtureRequest) -> str:
    """The backend under test; for Redis, the server is (re)started if needed and emptied."""
    name: str = request.param
    if name == "redis":
        server: RedisServer = request.getfixturevalue("redis_server")
        server.start()  # a no-op unless a previous test left it stopped
        server.flushall()
    return name


@pytest.fixture
async def make_state(backend: str, clock: FakeClock, request: pytest.FixtureRequest) -> AsyncIterator[StateFactory]:
    """A factory of clients sharing one store; everything it built is closed afterwards."""
    built: list[State] = []
    memory: MemoryState | None = None

    async def factory(policy: QuotaPolicy = DEFAULT_POLICY, *, shard_count: int = 1) -> State:
        nonlocal memory
        if backend == "memory":
            if memory is None:
                memory = MemoryState(policy=policy, cache_max_entries=100, clock=clock)
                built.append(memory)
            return memory
        server: RedisServer = request.getfixturevalue("redis_server")
        state = await RedisState.connect(
            server.url, policy=policy, shard_count=shard_count, key_fingerprint=KEY_FINGERPRINT, clock=clock
        )
        built.append(state)
        return state

    yield factory
    for state in built:
        await state.close()


@pytest.fixture
async def state(make_state: StateFactory) -> State:
    """The backend under test, with the default policy."""
    return await make_state()
