"""Start-up: process spawn → READY seen by FakeDiscord, for the bot and the floor; and where import time goes."""

from __future__ import annotations

import asyncio
import re
import sys
from pathlib import Path
from typing import Any

from benchmarks.rig import ROOT, child_environment, median, mode, start_serving, stop_serving, sync_commands, world
from tests.fakes.discord import snowflake

BOT_MODULES = ("bot.__main__", "cogs.search", "cogs.discover", "cogs.meta")
"""What `python -m bot` imports before it can connect (the cogs are loaded in setup_hook)."""


GUILDS = 2_500
"""Servers the loopback Discord lists in READY for the many-servers figure."""


async def _series(module: str, runs: int, bot_root: Path, guilds: int = 0) -> tuple[list[float], list[float]]:
    """Spawn → READY seconds of each start, and RSS (MB) one second after READY (with `guilds` servers)."""
    times: list[float] = []
    rss: list[float] = []
    async with world() as w:
        for _ in range(guilds):
            w.discord.add_guild(snowflake())
        await sync_commands(w, module, bot_root=bot_root)
        for i in range(runs):
            child, ready = await start_serving(w, module, label=f"start-{i}", bot_root=bot_root)
            times.append(ready)
            await mode.pause(1.0)
            rss.append(child.rss() / 2**20)
            await stop_serving(w, child)
    return times, rss


async def import_profile(modules: tuple[str, ...], bot_root: Path = ROOT, top: int = 10) -> dict[str, Any]:
    """`python -X importtime` of `modules`: the total and the heaviest top-level packages (cumulative)."""
    code = "; ".join(f"import {m}" for m in modules)
    proc = await asyncio.create_subprocess_exec(
        sys.executable, "-X", "importtime", "-c", code, env=child_environment({}, bot_root),
        stdout=asyncio.subprocess.DEVNULL, stderr=asyncio.subprocess.PIPE, cwd="/",
    )  # fmt: skip
    _, err = await asyncio.wait_for(proc.communicate(), 60)
    rows: list[tuple[str, int, int]] = []
    for line in err.decode(errors="replace").splitlines():
        match = re.match(r"import time:\s+(\d+)\s+\|\s+(\d+)\s+\|( *)(\S+)", line)
        if match:
            depth = len(match[3]) // 2
            if depth == 0:
                rows.append((match[4], int(match[1]), int(match[2])))
    total_us = sum(cumulative for _, _, cumulative in rows)
    heaviest = sorted(rows, key=lambda r: -r[2])[:top]
    return {
        "modules": list(modules),
        "total_ms": round(total_us / 1000, 1),
        "top_level_cumulative_ms": {name: round(cum / 1000, 1) for name, _, cum in heaviest},
    }


async def run(runs: int, bot_root: Path = ROOT) -> dict[str, Any]:
    """Median spawn → READY of `runs` starts of the bot and of the floor, and the import profiles."""
    bot, bot_rss = await _series("bot", runs, bot_root)
    floor, floor_rss = await _series("benchmarks.floor_bot", runs, bot_root)
    many = {m: (await _series(m, 1, bot_root, GUILDS))[1][0] for m in ("bot", "benchmarks.floor_bot")}
    one = {m: (await _series(m, 1, bot_root, 1))[1][0] for m in ("bot", "benchmarks.floor_bot")}
    return {
        "guilds": {
            "count": GUILDS,
            "bot_rss_mb": round(many["bot"], 1),
            "bot_rss_one_mb": round(one["bot"], 1),
            "floor_rss_mb": round(many["benchmarks.floor_bot"], 1),
            "floor_rss_one_mb": round(one["benchmarks.floor_bot"], 1),
        },
        "bot_rss_after_ready_mb": round(median(bot_rss) or 0, 1),
        "floor_rss_after_ready_mb": round(median(floor_rss) or 0, 1),
        "runs": runs,
        "bot_s": [round(t, 3) for t in bot],
        "floor_s": [round(t, 3) for t in floor],
        "bot_median_s": round(median(bot) or 0, 3),
        "floor_median_s": round(median(floor) or 0, 3),
        "imports_bot": await import_profile(BOT_MODULES, bot_root),
        "imports_floor": await import_profile(("benchmarks.floor_bot",), bot_root),
    }
