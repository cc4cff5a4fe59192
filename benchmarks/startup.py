"""Start-up: process spawn → READY seen by FakeDiscord, for the bot and the floor; and where import time goes."""

from __future__ import annotations

import asyncio
import compileall
import contextlib
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


def compile_sources(bot_root: Path) -> None:
    """Write the bytecode of the bot's and the floor's sources, as any deployment has from its second start on.

    This machine sets PYTHONDONTWRITEBYTECODE=1, so without this every start would compile the bot's ~60 modules
    from source (about 0.15 s here) while the floor, one module on top of site-packages' compiled discord.py,
    compiles almost nothing: the comparison would be of compilers, not of start-ups."""
    for folder in ("bot", "cogs", "benchmarks"):
        compileall.compile_dir(bot_root / folder, quiet=1)


async def _series(
    modules: tuple[str, ...], runs: int, bot_root: Path, guilds: int = 0
) -> dict[str, tuple[list[float], list[float]]]:
    """For each module: spawn → READY seconds of each start, and RSS (MB) one second after READY (with `guilds`
    servers). The modules' starts alternate, so a drifting machine hits each alike."""
    out: dict[str, tuple[list[float], list[float]]] = {m: ([], []) for m in modules}
    async with contextlib.AsyncExitStack() as stack:
        worlds = {}
        for module in modules:
            w = await stack.enter_async_context(world())
            for _ in range(guilds):
                w.discord.add_guild(snowflake())
            await sync_commands(w, module, bot_root=bot_root)
            worlds[module] = w
        for i in range(runs):
            for module, w in worlds.items():
                child, ready = await start_serving(w, module, label=f"start-{i}", bot_root=bot_root)
                out[module][0].append(ready)
                await mode.pause(1.0)
                out[module][1].append(child.rss() / 2**20)
                await stop_serving(w, child)
    return out


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
    compile_sources(bot_root)
    pair = ("bot", "benchmarks.floor_bot")
    starts = await _series(pair, runs, bot_root)
    (bot, bot_rss), (floor, floor_rss) = starts["bot"], starts["benchmarks.floor_bot"]
    many = {m: series[1][0] for m, series in (await _series(pair, 1, bot_root, GUILDS)).items()}
    one = {m: series[1][0] for m, series in (await _series(pair, 1, bot_root, 1)).items()}
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
        "bytecode": "compiled before the runs (compile_sources), as in any deployment after its first start",
        "bot_s": [round(t, 3) for t in bot],
        "floor_s": [round(t, 3) for t in floor],
        "bot_median_s": round(median(bot) or 0, 3),
        "floor_median_s": round(median(floor) or 0, 3),
        "imports_bot": await import_profile(BOT_MODULES, bot_root),
        "imports_floor": await import_profile(("benchmarks.floor_bot",), bot_root),
    }
