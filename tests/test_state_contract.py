"""One contract suite for both shared-state backends (memory and a real redis-server), plus Redis's failure policy.

Fixtures come from `tests.conftest_state`. "Two clients" means two independent RedisState objects (two
pools), the stand-in for two dynos; the memory backend has one store per process, so it gets the same object.
Quota tests move the injected clock; Redis-side TTLs (cooldowns, cache) use short real windows (≤ 1.1 s).
"""

from __future__ import annotations

import asyncio
import logging
import shutil
import subprocess
import time
from collections.abc import Iterator
from typing import Any, cast

import pytest
import redis
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bot.state import HOUR, MemoryState, QuotaPolicy, State, build_state
from bot.state.memory import (
    MONTH_FALLBACK,
    MemoryCache,
    MemoryCooldowns,
    MemoryDedupe,
    MemoryQuota,
)
from bot.state.redis import RedisIdentifyGate, RedisQuota, RedisState
from tests.conftest_state import KEY_FINGERPRINT, FakeClock, StateFactory
from tests.redis_server import RedisServer, free_port, redis_server_binary

pytestmark = pytest.mark.timeout(20)


async def elapse(backend: str, clock: FakeClock, seconds: float) -> None:
    """Let `seconds` pass: on the fake clock, and for real when Redis-side TTLs are involved."""
    clock.advance(seconds)
    if backend == "redis":
        await asyncio.sleep(seconds)


async def connect(server: RedisServer, clock: FakeClock, **options: Any) -> RedisState:
    """A RedisState on `server`, started and emptied first."""
    server.start()
    server.flushall()
    options.setdefault("policy", QuotaPolicy())
    return await RedisState.connect(server.url, key_fingerprint=KEY_FINGERPRINT, clock=clock, **options)


# --- cache -------------------------------------------------------------------------------------------


async def test_cache_round_trip(state: State) -> None:
    assert await state.cache.get("search:missing") is None
    await state.cache.set("search:a", b"\x00\xffbytes", 60)
    assert await state.cache.get("search:a") == b"\x00\xffbytes"
    await state.cache.set("search:a", b"new", 60)
    assert await state.cache.get("search:a") == b"new"


async def test_cache_entries_expire(state: State, backend: str, clock: FakeClock) -> None:
    await state.cache.set("k", b"v", 0.3)
    await elapse(backend, clock, 0.1)
    assert await state.cache.get("k") == b"v"
    await elapse(backend, clock, 0.3)
    assert await state.cache.get("k") is None


async def test_memory_cache_is_lru_bounded(clock: FakeClock) -> None:
    cache = MemoryCache(3, clock)
    for key in "abc":
        await cache.set(key, key.encode(), 60)
    assert await cache.get("a") == b"a"  # a is now the most recently used
    await cache.set("d", b"d", 60)
    assert len(cache) == 3
    assert await cache.get("b") is None
    assert [await cache.get(k) for k in "acd"] == [b"a", b"c", b"d"]


# --- cooldowns ---------------------------------------------------------------------------------------


async def test_cooldown_is_exact_under_concurrency_from_two_clients(make_state: StateFactory) -> None:
    one, two = await make_state(), await make_state()
    results = await asyncio.gather(*((one if i % 2 else two).cooldowns.hit("search", 42, 3, 2.0) for i in range(30)))
    assert sum(r == 0.0 for r in results) == 3
    assert all(0.0 < r <= 2.0 for r in results if r)
    assert await one.cooldowns.hit("search", 43, 3, 2.0) == 0.0  # another user has their own window
    assert await one.cooldowns.hit("button", 42, 3, 2.0) == 0.0  # and so has another bucket


async def test_cooldown_window_starts_at_first_use_and_refusals_do_not_extend_it(
    state: State, backend: str, clock: FakeClock
) -> None:
    hit = state.cooldowns.hit
    started, real_start = clock(), time.monotonic()

    def window_left() -> float:
        """What remains of the window opened by the first use (real time for Redis's PX)."""
        return 1.0 - (time.monotonic() - real_start if backend == "redis" else clock() - started)

    assert await hit("search", 7, 2, 1.0) == 0.0  # t=0: the window is [0, 1)
    await elapse(backend, clock, 0.4)
    assert await hit("search", 7, 2, 1.0) == 0.0  # t=0.4: second use, the window does not move
    await elapse(backend, clock, 0.1)
    retry = await hit("search", 7, 2, 1.0)  # t=0.5: refused until t=1
    assert 0 < retry == pytest.approx(window_left(), abs=0.05)
    await elapse(backend, clock, 0.3)
    retry = await hit("search", 7, 2, 1.0)  # t=0.8: still refused, and the refusal at 0.5 added nothing
    assert 0 < retry == pytest.approx(window_left(), abs=0.05)
    await elapse(backend, clock, 0.3)
    assert await hit("search", 7, 2, 1.0) == 0.0  # t=1.1: a new window


async def test_memory_cooldowns_forget_finished_windows(clock: FakeClock) -> None:
    cooldowns = MemoryCooldowns(clock)
    for user in range(3000):
        await cooldowns.hit("search", user, 1, 10.0)
    assert len(cooldowns) == 3000  # every window is still running
    clock.advance(61)
    for user in range(3000, 3100):
        await cooldowns.hit("search", user, 1, 10.0)
    assert len(cooldowns) == 100  # the finished ones were swept


# --- quota -------------------------------------------------------------------------------------------


async def test_quota_allows_exactly_the_hour_limit_across_two_clients(
    make_state: StateFactory, clock: FakeClock
) -> None:
    policy = QuotaPolicy(hour_limit=20, month_limit=10_000, reserve=2)
    one, two = await make_state(policy), await make_state(policy)
    decisions = await asyncio.gather(*((one if i % 2 else two).quota.acquire() for i in range(70)))
    assert sum(d.allowed for d in decisions) == 20
    refused = [d for d in decisions if not d.allowed]
    assert {d.reason for d in refused} == {"hour"}
    assert all(d.retry_after == pytest.approx(HOUR, abs=1) for d in refused)
    assert (await two.quota.snapshot()).hour_used == 20

    clock.advance(1800)
    later = await one.quota.acquire()
    assert (later.allowed, later.reason) == (False, "hour")
    assert later.retry_after == pytest.approx(1800, abs=1)

    clock.advance(1800.01)
    assert (await two.quota.acquire()).allowed
    assert (await one.quota.snapshot()).hour_used == 1


async def test_quota_is_a_rolling_hour_not_a_fixed_window(make_state: StateFactory, clock: FakeClock) -> None:
    quota = (await make_state(QuotaPolicy(hour_limit=2, month_limit=100, reserve=0))).quota
    assert (await quota.acquire()).allowed  # t=0
    clock.advance(1000)
    assert (await quota.acquire()).allowed  # t=1000
    clock.advance(2700)  # t=3700: the first has left the hour, the second has not
    assert (await quota.acquire()).allowed
    refused = await quota.acquire()
    assert (refused.allowed, refused.reason) == (False, "hour")
    assert refused.retry_after == pytest.approx(1000 + HOUR - 3700, abs=0.01)


async def test_quota_refuses_at_the_reserve(make_state: StateFactory, clock: FakeClock) -> None:
    quota = (await make_state(QuotaPolicy(hour_limit=100, month_limit=10_000, reserve=2))).quota
    reset = clock() + 1000
    await quota.observe(20_000, 3, reset)
    assert (await quota.acquire()).allowed
    assert (await quota.snapshot()).remaining == 2  # the mirror is decremented per request
    refused = await quota.acquire()
    assert (refused.allowed, refused.reason) == (False, "reserve")
    assert refused.retry_after == pytest.approx(1000, abs=0.01)

    clock.advance(1000.5)  # Pexels' period rolled over: its old figures no longer apply
    assert (await quota.acquire()).allowed
    snap = await quota.snapshot()
    assert (snap.remaining, snap.limit, snap.reset_at) == (None, None, None)

    await quota.observe(20_000, 1, None)  # reset unknown: retry in an hour
    refused = await quota.acquire()
    assert refused.reason == "reserve"
    assert refused.retry_after == pytest.approx(HOUR)


async def test_quota_observe_keeps_the_lowest_remaining_within_a_period(
    make_state: StateFactory, clock: FakeClock
) -> None:
    one, two = await make_state(), await make_state()
    reset = float(int(clock()) + 86_400)
    await one.quota.observe(20_000, 500, reset)
    await two.quota.observe(20_000, 600, reset)  # an answer that was overtaken
    snap = await one.quota.snapshot()
    assert (snap.limit, snap.remaining, snap.reset_at) == (20_000, 500, reset)
    await two.quota.observe(20_000, 400, reset)
    assert (await one.quota.snapshot()).remaining == 400

    next_reset = reset + 30 * 86_400
    await one.quota.observe(25_000, 24_999, next_reset)  # a new period replaces everything
    snap = await two.quota.snapshot()
    assert (snap.limit, snap.remaining, snap.reset_at) == (25_000, 24_999, next_reset)
    await two.quota.observe(20_000, 10, reset)  # a late answer from the old period changes nothing
    assert (await one.quota.snapshot()).remaining == 24_999
    await one.quota.observe(None, None, None)  # no headers: nothing to learn
    assert (await one.quota.snapshot()).remaining == 24_999


async def test_quota_block_refuses_until_the_time_passes(make_state: StateFactory, clock: FakeClock) -> None:
    one, two = await make_state(), await make_state()
    until = clock() + 30
    await one.quota.block(until)
    await two.quota.block(clock() + 10)  # never shortens a block
    refused = await two.quota.acquire()
    assert (refused.allowed, refused.reason) == (False, "blocked")
    assert refused.retry_after == pytest.approx(30, abs=0.01)
    assert (await two.quota.snapshot()).blocked_until == pytest.approx(until, abs=0.01)

    clock.advance(30.01)
    assert (await one.quota.acquire()).allowed
    assert (await two.quota.snapshot()).blocked_until is None


async def test_quota_counts_the_month_while_pexels_figures_are_unknown(
    make_state: StateFactory, clock: FakeClock
) -> None:
    quota = (await make_state(QuotaPolicy(hour_limit=100, month_limit=3, reserve=0))).quota
    assert [(await quota.acquire()).allowed for _ in range(3)] == [True] * 3
    refused = await quota.acquire()
    assert (refused.allowed, refused.reason) == (False, "month")
    assert refused.retry_after == pytest.approx(MONTH_FALLBACK, abs=0.01)

    clock.advance(MONTH_FALLBACK + 1)  # the local period is over
    assert (await quota.acquire()).allowed

    await quota.observe(20_000, 500, clock() + 86_400)  # Pexels' own figure takes over from the count
    assert [(await quota.acquire()).allowed for _ in range(5)] == [True] * 5


async def test_quota_month_period_follows_pexels_reset(make_state: StateFactory, clock: FakeClock) -> None:
    quota = (await make_state(QuotaPolicy(hour_limit=100, month_limit=2, reserve=0))).quota
    reset = clock() + 5000
    await quota.observe(20_000, None, reset)  # a reset time but no remaining figure
    assert [(await quota.acquire()).allowed for _ in range(3)] == [True, True, False]
    refused = await quota.acquire()
    assert refused.reason == "month"
    assert refused.retry_after == pytest.approx(5000, abs=0.01)


# --- dedupe and identify -----------------------------------------------------------------------------


async def test_dedupe_first_claim_wins_across_two_clients(make_state: StateFactory) -> None:
    one, two = await make_state(), await make_state()
    claims = await asyncio.gather(*((one if i % 2 else two).dedupe.claim(1234567890) for i in range(10)))
    assert sorted(claims) == [False] * 9 + [True]
    assert await two.dedupe.claim(1234567891)


async def test_memory_dedupe_forgets_after_a_minute(clock: FakeClock) -> None:
    dedupe = MemoryDedupe(clock)
    assert await dedupe.claim(1)
    assert not await dedupe.claim(1)
    for i in range(2, 500):
        await dedupe.claim(i)
    clock.advance(61)
    assert await dedupe.claim(1)
    assert len(dedupe) == 1


async def test_identify_gate_paces_two_clients(make_state: StateFactory, backend: str) -> None:
    one, two = await make_state(), await make_state()
    if backend == "redis":
        for gate in (one.identify, two.identify):
            cast(RedisIdentifyGate, gate).lock_seconds = 0.5
            cast(RedisIdentifyGate, gate).poll = (0.05, 0.1)
    started = time.monotonic()
    await one.identify.wait_turn(0)
    assert time.monotonic() - started < 0.2
    await two.identify.wait_turn(0)
    waited = time.monotonic() - started
    if backend == "redis":
        assert 0.4 <= waited < 1.5
    else:
        assert waited < 0.2


async def test_identify_gate_gives_up_and_proceeds(
    redis_server: RedisServer, clock: FakeClock, caplog: pytest.LogCaptureFixture
) -> None:
    one = await connect(redis_server, clock)
    two = await RedisState.connect(redis_server.url, policy=QuotaPolicy(), key_fingerprint=KEY_FINGERPRINT)
    try:
        await one.identify.wait_turn(0)  # holds the lock for 5.5 s
        gate = cast(RedisIdentifyGate, two.identify)
        gate.give_up_after, gate.poll = 0.3, (0.05, 0.1)
        started = time.monotonic()
        with caplog.at_level(logging.WARNING, logger="bot.state.redis"):
            await gate.wait_turn(0)
        assert time.monotonic() - started < 1.0
        assert "identifying anyway" in caplog.text
    finally:
        await one.close()
        await two.close()


# --- memory and Redis agree, op for op ---------------------------------------------------------------

_OPS = st.lists(
    st.one_of(
        st.just(("acquire", 0, None, None)),
        st.tuples(
            st.just("advance"), st.sampled_from([1, 599, 1800, 3599, 3600, 86_400, 31 * 86_400]), st.none(), st.none()
        ),
        st.tuples(
            st.just("observe"),
            st.sampled_from([-10, 0, 10, 1000, 5000]),
            st.one_of(st.none(), st.integers(0, 6)),
            st.sampled_from([20_000, None]),
        ),
        st.tuples(st.just("block"), st.sampled_from([-5, 30, 4000]), st.none(), st.none()),
    ),
    max_size=25,
)


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(ops=_OPS)
def test_memory_and_redis_quota_agree(
    redis_server: RedisServer, ops: list[tuple[str, int, int | None, int | None]]
) -> None:
    """Random sequences of acquire/observe/block/advance give the same answers on both backends."""
    redis_server.start()
    redis_server.flushall()

    async def run() -> None:
        clock = FakeClock(float(int(time.time())))
        policy = QuotaPolicy(hour_limit=3, month_limit=5, reserve=2)
        memory = MemoryQuota(policy, clock)
        shared = await RedisState.connect(redis_server.url, policy=policy, key_fingerprint=KEY_FINGERPRINT, clock=clock)
        try:
            for op, number, remaining, limit in ops:
                if op == "acquire":
                    mine, theirs = await memory.acquire(), await shared.quota.acquire()
                    assert (mine.allowed, mine.reason) == (theirs.allowed, theirs.reason), ops
                    assert mine.retry_after == pytest.approx(theirs.retry_after, abs=0.002), ops
                elif op == "advance":
                    clock.advance(number)
                elif op == "observe":
                    reset = int(clock()) + number
                    await memory.observe(limit, remaining, reset)
                    await shared.quota.observe(limit, remaining, reset)
                else:
                    await memory.block(clock() + number)
                    await shared.quota.block(clock() + number)
                assert await memory.snapshot() == await shared.quota.snapshot(), ops
            assert shared.link.healthy
        finally:
            await shared.close()

    asyncio.run(run())


# --- Redis specifics ---------------------------------------------------------------------------------


async def test_redis_keys_are_namespaced_and_never_hold_the_api_key(
    redis_server: RedisServer, clock: FakeClock
) -> None:
    state = await connect(redis_server, clock)
    await state.cache.set("search:abc", b"x", 60)
    await state.cooldowns.hit("search", 1, 1, 5)
    await state.quota.observe(20_000, 100, time.time() + 1000)
    await state.quota.acquire()
    await state.quota.block(time.time() + 5)
    await state.dedupe.claim(99)
    await state.identify.wait_turn(0)
    with redis.Redis(host="127.0.0.1", port=redis_server.port) as raw:
        keys = sorted(k.decode() for k in raw.keys("*"))
        assert keys == [
            "pexbot:v1:cache:search:abc",
            "pexbot:v1:cd:search:1",
            "pexbot:v1:identify:0",
            "pexbot:v1:ix:99",
            f"pexbot:v1:quota:{KEY_FINGERPRINT}:blocked",
            f"pexbot:v1:quota:{KEY_FINGERPRINT}:epoch",
            f"pexbot:v1:quota:{KEY_FINGERPRINT}:h",
            f"pexbot:v1:quota:{KEY_FINGERPRINT}:m",
            f"pexbot:v1:quota:{KEY_FINGERPRINT}:remote",
        ]
        assert all(raw.pttl(k) > 0 for k in keys)  # everything expires: safe under volatile-lru
        raw.script_flush()  # as after a Redis restart: the scripts are reloaded transparently
    decision = await state.quota.acquire()
    assert decision.reason == "blocked"  # the script ran again (the block above still holds)
    assert state.link.healthy
    await state.close()


async def test_redis_rejects_a_fingerprint_that_is_not_one() -> None:
    with pytest.raises(ValueError, match="12 lowercase hex"):
        await RedisState.connect("redis://127.0.0.1:1/0", policy=QuotaPolicy(), key_fingerprint="my-api-key")


async def test_redis_blocking_pool_waits_instead_of_failing(redis_server: RedisServer, clock: FakeClock) -> None:
    policy = QuotaPolicy(hour_limit=150, month_limit=10_000, reserve=0)
    state = await connect(redis_server, clock, policy=policy, max_connections=3)
    try:
        decisions = await asyncio.gather(*(state.quota.acquire() for _ in range(200)))
        assert sum(d.allowed for d in decisions) == 150
        assert state.link.healthy
    finally:
        await state.close()


# --- Redis failure policy ----------------------------------------------------------------------------


async def test_unreachable_redis_falls_back_without_raising(clock: FakeClock, caplog: pytest.LogCaptureFixture) -> None:
    url = f"redis://:s3cret-pass@127.0.0.1:{free_port()}/0"
    policy = QuotaPolicy(hour_limit=10, month_limit=1000, reserve=2)
    caplog.set_level(logging.INFO)
    started = time.monotonic()
    state = await build_state(
        redis_url=url, policy=policy, shard_count=2, key_fingerprint=KEY_FINGERPRINT, cache_max_entries=10, clock=clock
    )
    assert state.backend == "redis"
    assert "unreachable at start" in caplog.text

    await state.cache.set("k", b"v", 60)
    assert await state.cache.get("k") is None
    assert [await state.cooldowns.hit("search", 1, 1, 60) for _ in range(3)] == [0.0] * 3
    assert await state.dedupe.claim(5)
    assert await state.dedupe.claim(5)
    await state.identify.wait_turn(0)
    decisions = [await state.quota.acquire() for _ in range(8)]
    assert sum(d.allowed for d in decisions) == 5  # this process's share: 10 // 2
    assert decisions[-1].reason == "hour"
    await state.quota.observe(20_000, 100, clock() + 1000)
    await state.quota.block(clock() + 1)
    snap = await state.quota.snapshot()
    assert (snap.hour_limit, snap.hour_used, snap.remaining) == (5, 5, 100)
    await state.close()

    assert time.monotonic() - started < 1.0  # the breaker keeps a dead Redis from adding latency
    assert "s3cret" not in caplog.text
    warnings = [r for r in caplog.records if r.levelno == logging.WARNING and r.name == "bot.state.redis"]
    assert 1 <= len(warnings) <= 5  # at most one per component


async def test_failure_warnings_are_rate_limited(clock: FakeClock, caplog: pytest.LogCaptureFixture) -> None:
    state = await RedisState.connect(
        f"redis://127.0.0.1:{free_port()}/0",
        policy=QuotaPolicy(),
        key_fingerprint=KEY_FINGERPRINT,
        clock=clock,
        retry_interval=0.0,  # try Redis on every call
    )
    with caplog.at_level(logging.WARNING, logger="bot.state.redis"):
        for _ in range(5):
            assert await state.cache.get("k") is None
            assert (await state.quota.acquire()).allowed
    await state.close()
    messages = [r.getMessage() for r in caplog.records if r.name == "bot.state.redis"]
    assert len(messages) == 2
    assert any("for cache" in m for m in messages)
    assert any("for quota" in m for m in messages)


async def test_redis_outage_and_recovery_without_restarting(
    redis_server: RedisServer, clock: FakeClock, caplog: pytest.LogCaptureFixture
) -> None:
    redis_server.start()
    redis_server.flushall()
    policy = QuotaPolicy(hour_limit=10, month_limit=1000, reserve=0)

    async def connect() -> RedisState:
        return await RedisState.connect(
            redis_server.url, policy=policy, shard_count=2, key_fingerprint=KEY_FINGERPRINT, clock=clock,
            retry_interval=0.2,
        )  # fmt: skip

    one, two = await connect(), await connect()
    caplog.set_level(logging.INFO, logger="bot.state.redis")
    try:
        assert [(await one.quota.acquire()).allowed for _ in range(2)] == [True, True]
        assert (await two.quota.snapshot()).hour_used == 2
        assert await one.dedupe.claim(1) and not await two.dedupe.claim(1)

        redis_server.stop()
        assert await one.cache.get("k") is None
        assert await one.cooldowns.hit("search", 1, 1, 60) == 0.0
        assert await two.dedupe.claim(1)  # fails open
        fallback = [await one.quota.acquire() for _ in range(5)]
        # The fallback allows 10 // 2 = 5 an hour and already counts the 2 this process spent via Redis.
        assert [d.allowed for d in fallback] == [True, True, True, False, False]
        assert (await one.quota.snapshot()).hour_limit == 5
        assert not one.link.healthy

        redis_server.start()  # same port, empty
        await asyncio.sleep(0.25)  # let the breaker close
        assert await one.dedupe.claim(2) and not await two.dedupe.claim(2)
        assert (await two.quota.acquire()).allowed
        assert (await one.quota.snapshot()).hour_used == 1  # the shared log again (a fresh server)
        assert one.link.healthy and two.link.healthy
        assert "Redis is back" in caplog.text
    finally:
        redis_server.start()
        await one.close()
        await two.close()


# --- build_state -------------------------------------------------------------------------------------


@pytest.mark.parametrize("url", [None, ""])
async def test_build_state_is_memory_without_a_url(url: str | None) -> None:
    state = await build_state(
        redis_url=url, policy=QuotaPolicy(), shard_count=1, key_fingerprint=KEY_FINGERPRINT, cache_max_entries=5
    )
    assert isinstance(state, MemoryState)
    assert state.backend == "memory"
    await state.close()


async def test_build_state_uses_redis_when_reachable(
    redis_server: RedisServer, caplog: pytest.LogCaptureFixture
) -> None:
    redis_server.start()
    caplog.set_level(logging.WARNING)
    state = await build_state(
        redis_url=redis_server.url,
        policy=QuotaPolicy(),
        shard_count=3,
        key_fingerprint=KEY_FINGERPRINT,
        cache_max_entries=5,
    )
    try:
        assert isinstance(state, RedisState)
        assert isinstance(state.quota, RedisQuota)
        assert state.quota.fallback.policy.hour_limit == 200 // 3
        assert not caplog.records
    finally:
        await state.close()


async def test_rediss_url_accepts_cert_reqs_none() -> None:
    state = await RedisState.connect(
        f"rediss://:pw@127.0.0.1:{free_port()}/0",
        policy=QuotaPolicy(),
        key_fingerprint=KEY_FINGERPRINT,
        ssl_cert_reqs="none",
    )
    try:
        assert not await state.ping()  # nothing listens; the point is that the options are accepted
    finally:
        await state.close()


@pytest.fixture
def tls_redis() -> Iterator[str]:
    """A redis-server with TLS (self-signed certificate) and a password; yields its rediss:// URL."""
    openssl = shutil.which("openssl")
    if openssl is None:
        pytest.skip("openssl is needed to make a test certificate")
    tls_port = free_port()
    server = RedisServer(redis_server_binary())
    cert, key = server.workdir / "cert.pem", server.workdir / "key.pem"
    key_options = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes", "-days", "1"]
    subprocess.run(
        [openssl, "req", "-x509", *key_options, "-keyout", str(key), "-out", str(cert), "-subj", "/CN=redis.invalid"],
        check=True,
        capture_output=True,
        timeout=30,
    )
    server.extra_args = ("--tls-port", str(tls_port), "--tls-cert-file", str(cert), "--tls-key-file", str(key),
                         "--tls-auth-clients", "no", "--requirepass", "tls-s3cret")  # fmt: skip
    try:
        server.start()
    except RuntimeError as exc:
        server.cleanup()
        pytest.skip(f"this redis-server has no TLS support: {exc}")
    try:
        yield f"rediss://:tls-s3cret@127.0.0.1:{tls_port}/0"
    finally:
        server.cleanup()


async def test_rediss_with_a_self_signed_certificate(
    tls_redis: str, clock: FakeClock, caplog: pytest.LogCaptureFixture
) -> None:
    """Heroku's case: TLS with a self-signed chain works with ssl_cert_reqs="none" and fails safely without it."""
    trusting = await RedisState.connect(
        tls_redis, policy=QuotaPolicy(), key_fingerprint=KEY_FINGERPRINT, clock=clock, ssl_cert_reqs="none"
    )
    assert await trusting.ping()
    assert await trusting.dedupe.claim(1) and not await trusting.dedupe.claim(1)
    await trusting.close()

    caplog.set_level(logging.WARNING, logger="bot.state.redis")
    verifying = await RedisState.connect(tls_redis, policy=QuotaPolicy(), key_fingerprint=KEY_FINGERPRINT, clock=clock)
    assert not await verifying.ping()  # certificate verify failed: treated as unreachable, never raised
    await verifying.close()
    assert "CERTIFICATE_VERIFY_FAILED" in caplog.text
    assert "tls-s3cret" not in caplog.text
