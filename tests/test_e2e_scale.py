"""Two `python -m bot` processes, one shard each, sharing quota, cache and cooldowns through one Redis."""

from __future__ import annotations

import asyncio
import signal
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.fakes.discord import DEFAULT_GUILD, OTHER_GUILD, FakeDiscord, InteractionRecord, make_user
from tests.fakes.pexels import FakePexels
from tests.harness import BotProcess, bot_environment, run_bot
from tests.redis_server import RedisServer, redis_server_binary

HOURLY_LIMIT = 6


@dataclass
class Cluster:
    """The loopback world with two bot processes."""

    discord: FakeDiscord
    pexels: FakePexels
    redis: RedisServer
    cwd: Path
    env: dict[str, str]
    processes: dict[int, BotProcess]

    async def start_shard(self, shard: int, *, via_dyno: bool = False) -> None:
        """Start the process for one shard (by SHARD_IDS, or by a worker dyno name)."""
        extra = {"DYNO": f"worker.{shard + 1}"} if via_dyno else {"SHARD_IDS": str(shard)}
        self.processes[shard] = await BotProcess.start(self.cwd, {**self.env, **extra})

    async def stop_shard(self, shard: int) -> int:
        """SIGTERM one process and return its exit code."""
        process = self.processes.pop(shard)
        process.proc.send_signal(signal.SIGTERM)
        try:
            code = await process.finish(timeout=15)
        finally:
            await process.stop()
        process.assert_no_errors()
        return code

    async def search(self, query: str, *, guild: int, user: int = 1) -> InteractionRecord:
        """/photo in a guild (so on that guild's shard), waited for."""
        record = await self.discord.slash("photo", {"query": query}, user=make_user(user), guild_id=guild)
        await record.wait_done(timeout=15)
        assert record.ack_latency is not None and record.ack_latency < 3, record.describe()
        return record


def public(record: InteractionRecord) -> bool:
    """The search produced a public result."""
    return any(not m.ephemeral and not m.deleted and m.embeds for m in record.messages)


@pytest.fixture
async def cluster(tmp_path: Path, request: pytest.FixtureRequest) -> AsyncIterator[Cluster]:
    """Redis, the loopback servers, commands synced once, and the two shards running (Redis with AOF
    persistence when the test is parametrized with persistence=True)."""
    persistent = getattr(request, "param", {}).get("persistence", False)
    extra = ("--appendonly", "yes", "--appendfsync", "always") if persistent else ()
    redis = RedisServer(redis_server_binary(), extra_args=extra)
    redis.start()
    async with FakeDiscord() as discord_fake, FakePexels() as pexels:
        env = bot_environment(
            discord_fake, pexels,
            REDIS_URL=redis.url, SHARD_COUNT="2", PEXELS_HOURLY_LIMIT=str(HOURLY_LIMIT), SEARCH_COOLDOWN="100/60",
        )  # fmt: skip
        code, _, err = await run_bot(tmp_path, {**env, "SHARD_IDS": "0"}, "sync")
        assert code == 0, err
        world = Cluster(discord_fake, pexels, redis, tmp_path, env, {})
        try:
            await world.start_shard(0)
            await world.start_shard(1, via_dyno=True)
            await discord_fake.wait_ready(2, timeout=30)
            yield world
        finally:
            for shard in list(world.processes):
                await world.stop_shard(shard)
            redis.cleanup()


async def test_two_shards_share_cache_quota_and_presses(cluster: Cluster) -> None:
    """A search cached by one process is served by the other; the hourly limit holds across both;
    a press on a message posted by a process that is gone is answered by its replacement."""
    shards = sorted(s.shard for s in cluster.discord.live_sessions)
    assert shards == [(0, 2), (1, 2)]
    started = sorted(s.created_at for s in cluster.discord.live_sessions)
    assert started[1] - started[0] >= 5.0, "IDENTIFYs are paced through Redis: one per 5 s for the app"
    assert len(cluster.discord.global_commands) == 8, "synced once, before the processes started"

    first = await cluster.search("glacier", guild=DEFAULT_GUILD)
    assert public(first) and cluster.pexels.count() == 1
    second = await cluster.search("Glacier", guild=OTHER_GUILD, user=2)
    assert public(second) and cluster.pexels.count() == 1, "the other process served it from the shared cache"

    queries = [f"peak {n}" for n in range(12)]
    records = await asyncio.gather(
        *(cluster.search(q, guild=DEFAULT_GUILD if n % 2 else OTHER_GUILD, user=10 + n) for n, q in enumerate(queries))
    )
    served = sum(public(r) for r in records)
    assert cluster.pexels.count() == HOURLY_LIMIT, "exactly the hourly limit, across both processes"
    assert served == HOURLY_LIMIT - 1
    refused = [r for r in records if not public(r)]
    assert all("allowance" in r.ephemeral_reply_text for r in refused)

    message = first.messages[0]
    assert await cluster.stop_shard(0) == 0
    await cluster.start_shard(0)
    await cluster.discord.wait_ready(2, timeout=30)
    press = await cluster.discord.click(message.id, "▶", user=make_user(1))
    await press.wait_done(timeout=15)
    assert cluster.discord.messages[message.id].embeds[0]["footer"]["text"] == '2 / 240 · "glacier"'
    assert cluster.pexels.count() == HOURLY_LIMIT, "the new process used the shared cache"


async def test_cooldowns_follow_the_user_across_processes(cluster: Cluster) -> None:
    """A user can't dodge the search cooldown by switching to a server on another shard."""
    for shard in list(cluster.processes):
        await cluster.stop_shard(shard)
    cluster.env["SEARCH_COOLDOWN"] = "2/60"
    await cluster.start_shard(0)
    await cluster.start_shard(1)
    await cluster.discord.wait_ready(2, timeout=30)
    assert public(await cluster.search("owl", guild=DEFAULT_GUILD))
    assert public(await cluster.search("owl", guild=OTHER_GUILD))
    third = await cluster.search("owl", guild=OTHER_GUILD)
    assert not public(third) and "try again" in third.ephemeral_reply_text.lower()
    fourth = await cluster.search("owl", guild=DEFAULT_GUILD)
    assert not public(fourth)


async def test_redis_outage_and_recovery(cluster: Cluster) -> None:
    """Redis stops: searches are still answered (each process on its share of the quota); it starts again:
    the shared state is used again without a restart."""
    assert public(await cluster.search("harbour", guild=DEFAULT_GUILD))
    cluster.redis.stop()
    during = [await cluster.search(f"storm {n}", guild=DEFAULT_GUILD, user=20 + n) for n in range(4)]
    assert all(r.ephemeral_reply_text or public(r) for r in during), "every search answered"
    served = sum(public(r) for r in during)
    assert 1 <= served <= HOURLY_LIMIT // 2, "one process may spend only its share while Redis is down"

    cluster.redis.start()
    await asyncio.sleep(1.5)  # the processes' circuit breakers retry Redis after about a second
    before = cluster.pexels.count()
    assert public(await cluster.search("lagoon", guild=OTHER_GUILD, user=40))
    assert public(await cluster.search("LAGOON", guild=DEFAULT_GUILD, user=41))
    assert cluster.pexels.count() == before + 1, "shared cache in use again"
    for shard, process in cluster.processes.items():
        assert process.proc.returncode is None, f"shard {shard} kept running"


@pytest.mark.parametrize(
    "cluster", [{"persistence": False}, {"persistence": True}], indirect=True, ids=["no-persistence", "aof"]
)
async def test_hourly_limit_holds_through_an_outage_and_a_redis_restart(cluster: Cluster) -> None:
    """Searches on both processes before, during and after a Redis outage that ends in a restart (its data lost
    without persistence, kept with AOF): never more Pexels requests in the hour than PEXELS_HOURLY_LIMIT."""
    guilds = (DEFAULT_GUILD, OTHER_GUILD)
    for n in range(2):
        assert public(await cluster.search(f"before {n}", guild=guilds[n % 2], user=100 + n))
    cluster.redis.stop()
    during = [await cluster.search(f"during {n}", guild=guilds[n % 2], user=200 + n) for n in range(8)]
    assert all(r.ephemeral_reply_text or public(r) for r in during), "every search answered"
    cluster.redis.start()
    await asyncio.sleep(2.5)  # the breakers retry after about a second; the upkeep writes back within another
    after = [await cluster.search(f"after {n}", guild=guilds[n % 2], user=300 + n) for n in range(8)]
    assert all(r.ephemeral_reply_text or public(r) for r in after), "every search answered"
    assert cluster.pexels.count("/v1/search") <= HOURLY_LIMIT
    assert sum(public(r) for r in [*during, *after]) == cluster.pexels.count("/v1/search") - 2
