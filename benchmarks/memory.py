"""Memory: what an open result message costs the bot process, and the cache's plateau at its bound.

The bot runs as `python -m benchmarks.bot_probe` (the same `main()` as `python -m bot`, plus a SIGUSR1
handler that runs gc.collect() and writes RSS, pymalloc blocks and the bot's table sizes to a file).

Open messages: after a warm-up that searched the same 5 queries from all 500 users (so the cache holds
those 5 entries and every user's cooldown window exists), N more searches for the same 5 queries post N
result messages. The cache cannot grow (same 5 keys), so what grows is per-message state, plus the
interaction de-duplication table, which holds every interaction id for 60 s by design. Its share is
measured separately (bytes per claimed id, with tracemalloc in this process) and subtracted.

Plateau: with CACHE_MAX_ENTRIES=200, a long run of distinct queries; RSS and cache entries are sampled
every tenth of the run.
"""

from __future__ import annotations

import asyncio
import json
import shutil
import signal
import tracemalloc
from pathlib import Path
from typing import Any

from benchmarks.load import USERS, WARM_QUERIES, Load
from benchmarks.rig import RELAXED, ROOT, Child, mode, problems, start_serving, stop_serving, sync_commands, world
from bot.state.memory import MemoryDedupe
from tests.fakes.discord import snowflake

OPEN_QUERIES = WARM_QUERIES[:5]
CACHE_BOUND = 200


def _lines(path: Path) -> list[str]:
    return path.read_text().splitlines() if path.exists() else []


async def probe(child: Child, stats_file: Path, limit: float = 15.0) -> dict[str, Any]:
    """Ask the probe for a gc'd snapshot (SIGUSR1) and return it (waiting at most `limit` seconds)."""
    before = len(_lines(stats_file))
    child.proc.send_signal(signal.SIGUSR1)
    for _ in range(int(limit / 0.02)):
        lines = _lines(stats_file)
        if len(lines) > before:
            return dict(json.loads(lines[-1]))
        await asyncio.sleep(0.02)
    raise TimeoutError(f"the probe wrote no stats:\n{child.log_tail()}")


async def dedupe_bytes_per_id(n: int = 20_000) -> float:
    """Python heap per interaction id held by MemoryDedupe (tracemalloc)."""
    dedupe = MemoryDedupe()
    ids = [snowflake() for _ in range(n)]
    tracemalloc.start()
    try:
        start = tracemalloc.get_traced_memory()[0]
        for i in ids:
            await dedupe.claim(i)
        grown = tracemalloc.get_traced_memory()[0] - start
    finally:
        tracemalloc.stop()
    return grown / n


async def run(results: int, plateau_queries: int, bot_root: Path = ROOT, *, users: int = USERS) -> dict[str, Any]:
    """Open `results` result messages, then `plateau_queries` distinct searches; report the memory figures."""
    per_id = await dedupe_bytes_per_id()
    async with world(**RELAXED, CACHE_MAX_ENTRIES=str(CACHE_BOUND)) as w:
        stats_file = w.workdir / "stats.jsonl"
        await sync_commands(w, "bot", bot_root=bot_root)
        child, _ = await start_serving(
            w, "benchmarks.bot_probe", label="probe", env={"BENCH_STATS_FILE": str(stats_file)}, bot_root=bot_root
        )
        try:
            load = Load(w, child, "bot", users=users)
            load.cached_queries = OPEN_QUERIES
            rate = 250.0
            await load.run("cached", rate, users / rate)  # warm-up: every user's cooldown, the 5 entries
            await mode.pause(1.0)
            base = await probe(child, stats_file)
            first_message = len(w.discord.messages)
            opening = await load.run("cached", rate, results / rate)
            after = await probe(child, stats_file)
            await mode.pause(2.0)
            settled = await probe(child, stats_file)
            opened = [m for m in list(w.discord.messages.values())[first_message:] if m.embeds and m.buttons()]
            still_work = await _press_old(load, opened[:20])

            plateau: list[dict[str, Any]] = []
            step = max(1, plateau_queries // 10)
            done = 0
            plateau_rate = 150.0
            while done < plateau_queries:
                count = min(step, plateau_queries - done)
                await load.run("uncached", plateau_rate, count / plateau_rate)
                done += count
                snap = await probe(child, stats_file)
                plateau.append(
                    {
                        "distinct_queries": done,
                        "rss_mb": round(snap["rss"] / 2**20, 1),
                        "cache_entries": snap.get("cache_entries"),
                        "allocated_blocks": snap["allocated_blocks"],
                        "dedupe_entries": snap.get("dedupe_entries"),
                    }
                )
        finally:
            await stop_serving(w, child)

    footprint = await _footprint_of("bot", plateau_queries, bot_root, users)
    floor_footprint = await _footprint_of("benchmarks.floor_bot", plateau_queries, bot_root, users)
    opened_count = opening.sent
    rss_growth = settled["rss"] - base["rss"]
    dedupe_growth = (settled.get("dedupe_entries", 0) - base.get("dedupe_entries", 0)) * per_id
    blocks_growth = settled["allocated_blocks"] - base["allocated_blocks"]
    second_half = plateau[len(plateau) // 2 :]
    return {
        "open_messages": {
            "messages": opened_count,
            "queries": list(OPEN_QUERIES),
            "rss_before_mb": round(base["rss"] / 2**20, 2),
            "rss_after_mb": round(after["rss"] / 2**20, 2),
            "rss_after_settle_mb": round(settled["rss"] / 2**20, 2),
            "rss_growth_bytes_per_message": round(rss_growth / opened_count, 1),
            "dedupe_entries_before_after": [base.get("dedupe_entries"), settled.get("dedupe_entries")],
            "dedupe_bytes_per_id": round(per_id, 1),
            "dedupe_share_bytes_per_message": round(dedupe_growth / opened_count, 1),
            "rss_growth_bytes_per_message_without_dedupe": round((rss_growth - dedupe_growth) / opened_count, 1),
            "pymalloc_blocks_per_message": round(blocks_growth / opened_count, 2),
            "cache_entries_before_after": [base.get("cache_entries"), settled.get("cache_entries")],
            "discord_persistent_views_after": settled.get("discord_persistent_views"),
            "discord_cached_messages_after": settled.get("discord_cached_messages"),
            "old_messages_pressed_ok": still_work,
            "gc_during_opening": {
                "automatic_runs_per_generation": after.get("gc_runs"),
                "worst_pause_ms_per_generation": after.get("gc_worst_ms"),
                "full_collection_ms": after.get("full_gc_ms"),
                "objects_tracked": after.get("gc_objects"),
            },
            "opening_run": opening.as_dict(),
            "probe_before": base,
            "probe_after": settled,
        },
        "chunk_footprint": {
            **footprint,
            "floor_rss_bytes_per_new_search": floor_footprint["rss_bytes_per_new_search"],
            "rss_bytes_per_new_search_beyond_floor": footprint["rss_bytes_per_new_search"]
            - floor_footprint["rss_bytes_per_new_search"],
            **chunk_bytes(),
        },
        "plateau": {
            "cache_max_entries": CACHE_BOUND,
            "samples": plateau,
            "max_cache_entries_seen": max((p["cache_entries"] or 0) for p in plateau) if plateau else None,
            "rss_second_half_min_mb": min(p["rss_mb"] for p in second_half) if second_half else None,
            "rss_second_half_max_mb": max(p["rss_mb"] for p in second_half) if second_half else None,
        },
    }


FOOTPRINT_FILL = 100
"""New searches made before the footprint is measured: they fill the bot's memo of decoded chunks (96)."""
FOOTPRINT_SEARCHES = 2_000
"""New searches whose RSS growth is the footprint (at most; a run's plateau count when smaller)."""


async def _search_footprint(load: Load, child: Child, stats_file: Path, fill: int, count: int) -> dict[str, Any]:
    """RSS growth per new search once the decoded memo is full: what each cached 80-result chunk costs."""
    rate = 150.0
    await load.run("uncached", rate, fill / rate)
    before = await probe(child, stats_file)
    measured = await load.run("uncached", rate, count / rate)
    after = await probe(child, stats_file)
    return {
        "searches": measured.sent,
        "rss_bytes_per_new_search": round((after["rss"] - before["rss"]) / measured.sent),
        "cache_entries_before_after": [before.get("cache_entries"), after.get("cache_entries")],
    }


async def _footprint_of(module: str, most: int, bot_root: Path, users: int) -> dict[str, Any]:
    """The footprint of the bot or the floor, each in its own world, with a cache that keeps every search."""
    fill, count = min(FOOTPRINT_FILL, most), min(FOOTPRINT_SEARCHES, most)
    async with world(**RELAXED, CACHE_MAX_ENTRIES=str(fill + count + 100)) as w:
        stats_file = w.workdir / "stats.jsonl"
        await sync_commands(w, module, bot_root=bot_root)
        env = {"BENCH_STATS_FILE": str(stats_file), "BENCH_MAIN": "bot.__main__" if module == "bot" else module}
        label = f"probe-footprint-{module.rsplit('.', 1)[-1]}"
        child, _ = await start_serving(w, "benchmarks.bot_probe", label=label, env=env, bot_root=bot_root)
        try:
            load = Load(w, child, module, users=users)
            return await _search_footprint(load, child, stats_file, fill, count)
        finally:
            await stop_serving(w, child)


def chunk_bytes() -> dict[str, Any]:
    """An 80-photo chunk of the fake's as the bot caches it: its bytes, and Redis' MEMORY USAGE of the key."""
    from bot.models import Chunk, Photo
    from bot.wire import encode_chunk
    from tests.fakes.pexels import FakePexels

    photos = tuple(Photo.from_api(p) for p in FakePexels().photos_for_page("sunset sky", 1, 80))
    raw = encode_chunk(Chunk(photos, 8000, True))
    out: dict[str, Any] = {"encoded_bytes": len(raw), "redis_memory_usage_bytes": None}
    binary = shutil.which("redis-server")
    if binary is None:  # the figure is left out, and why
        out["redis_error"] = "redis-server is not on PATH"
        return out
    import redis

    from tests.redis_server import RedisServer

    server = RedisServer(binary)
    server.start()
    key = f"pexbot:v1:cache:search:{'0' * 12}:1"  # the shape of the bot's keys (bot/state/redis.py)
    try:
        client = redis.Redis.from_url(server.url)
        client.set(key, raw, ex=86400)
        out["redis_memory_usage_bytes"] = client.memory_usage(key)
        client.close()
    finally:
        server.stop()
        server.cleanup()
    return out


async def _press_old(load: Load, messages: list[Any]) -> str:
    """▶ on some of the opened messages (buttons are stateless: they must still answer)."""
    ok = 0
    owner_of = {u.id: u for u in load.users}
    for message in messages:
        meta = message.interaction_metadata or {}
        user = owner_of.get(int(meta.get("user", {}).get("id", 0)))
        if user is None:
            continue
        rec = await load.w.discord.click(message.id, "▶", user=user)
        await rec.wait_done(timeout=10)
        answered = rec.acknowledged and not rec.errors and rec.response_type == 7
        ok += answered
        if not answered:
            problems.add(f"memory: ▶ on an old result message was not answered with a new result:\n{rec.describe()}")
    return f"{ok}/{len(messages)}"
