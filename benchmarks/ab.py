"""`python -m benchmarks.ab CANDIDATE [--baseline DIR]`: the same workload on two bot source trees, interleaved.

For checking a change to bot/ or cogs/ before it lands: copy the tree, edit the copy, point CANDIDATE at
it (a folder holding bot/ and cogs/). Both bots run at once, each as `python -m benchmarks.bot_probe`
(the bot's own main() plus gc statistics) against its own loopback Discord and Pexels, and their windows
alternate, so a drifting, shared machine hits both alike. Writes ab.json and ab.md beside the results.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import sys
from pathlib import Path
from typing import Any

from benchmarks.load import Load
from benchmarks.memory import probe
from benchmarks.report import markdown_table
from benchmarks.rig import RELAXED, ROOT, machine_info, median, start_serving, stop_serving, sync_commands, world
from benchmarks.startup import compile_sources

WORKLOAD = (("cached", 200.0), ("press", 200.0), ("uncached", 100.0), ("mix", 300.0))


async def _startup(roots: dict[str, Path], rounds: int) -> dict[str, dict[str, float]]:
    for root in roots.values():
        compile_sources(root)
    ready: dict[str, list[float]] = {name: [] for name in roots}
    rss: dict[str, list[float]] = {name: [] for name in roots}
    async with world() as w:
        for root in roots.values():
            await sync_commands(w, "bot", bot_root=root)
        for _ in range(rounds):
            for name, root in roots.items():
                child, seconds = await start_serving(w, "bot", label=f"start-{name}", bot_root=root)
                ready[name].append(seconds)
                await asyncio.sleep(1.0)
                rss[name].append(child.rss() / 2**20)
                await stop_serving(w, child)
    return {
        name: {"ready_s": round(median(ready[name]) or 0, 3), "rss_mb": round(median(rss[name]) or 0, 1)}
        for name in roots
    }


async def run(roots: dict[str, Path], rounds: int, window: float) -> dict[str, Any]:
    """Start-up medians, then `rounds` × WORKLOAD windows per tree, alternating, then gc statistics."""
    out: dict[str, Any] = {"roots": {k: str(v) for k, v in roots.items()}, "machine": machine_info()}
    out["startup"] = await _startup(roots, rounds)
    windows: dict[str, dict[str, list[dict[str, Any]]]] = {name: {} for name in roots}
    gc_stats: dict[str, dict[str, Any]] = {}
    async with contextlib.AsyncExitStack() as stack:
        loads: dict[str, Load] = {}
        files: dict[str, Path] = {}
        for name, root in roots.items():
            w = await stack.enter_async_context(world(**RELAXED))
            files[name] = w.workdir / "stats.jsonl"
            await sync_commands(w, "bot", bot_root=root)
            env = {"BENCH_STATS_FILE": str(files[name])}
            child, _ = await start_serving(w, "benchmarks.bot_probe", label=name, env=env, bot_root=root)
            stack.push_async_callback(stop_serving, w, child)
            load = Load(w, child, name)
            await load.run("uncached", 20, 1)
            await load.warm()
            await load.build_pool()
            await probe(child, files[name])  # start the gc counters afresh
            loads[name] = load
        names = list(roots)
        for round_ in range(rounds):
            for name in names if round_ % 2 == 0 else reversed(names):
                load = loads[name]
                for kind, rate in WORKLOAD:
                    stats = await load.run(kind, rate, window, load.mixed() if kind == "mix" else None)
                    windows[name].setdefault(f"{kind} @ {rate:g}/s", []).append(stats.as_dict())
        for name, load in loads.items():
            gc_stats[name] = await probe(load.child, files[name])
    out["windows"] = windows
    out["gc"] = gc_stats
    return out


def _summary(result: dict[str, Any]) -> list[list[str]]:
    base, cand = list(result["roots"])
    rows: list[list[str]] = []

    def row(label: str, a: float | None, b: float | None, digits: int = 2) -> None:
        change = "–" if not a or b is None else f"{100 * (b - a) / a:+.0f} %"
        rows.append([label, "–" if a is None else f"{a:.{digits}f}", "–" if b is None else f"{b:.{digits}f}", change])

    row("start-up: spawn → READY, median (s)", result["startup"][base]["ready_s"], result["startup"][cand]["ready_s"])
    row("RSS 1 s after READY, median (MB)", result["startup"][base]["rss_mb"], result["startup"][cand]["rss_mb"], 1)
    for label in result["windows"][base]:
        a_runs, b_runs = result["windows"][base][label], result["windows"][cand][label]
        for key, name in (
            ("target_cpu_ms_per_interaction", "CPU ms per interaction"),
            ("ack_p50_ms", "first response p50 (ms)"),
            ("ack_p99_ms", "first response p99 (ms)"),
        ):
            a = median([r[key] for r in a_runs if r[key] is not None])
            b = median([r[key] for r in b_runs if r[key] is not None])
            row(f"{label}: {name}, median of {len(a_runs)}", a, b)
    for key, name, index in (
        ("gc_worst_ms", "worst automatic gen-2 collection (ms)", 2),
        ("gc_runs", "automatic gen-2 collections", 2),
    ):
        row(name, result["gc"][base][key][index], result["gc"][cand][key][index], 1)
    row("a full gc.collect() at the end (ms)", result["gc"][base]["full_gc_ms"], result["gc"][cand]["full_gc_ms"], 1)
    row("objects tracked by the gc", result["gc"][base]["gc_objects"], result["gc"][cand]["gc_objects"], 0)
    return rows


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.ab", description=__doc__)
    parser.add_argument("candidate", type=Path, help="a folder holding the candidate bot/ and cogs/")
    parser.add_argument("--baseline", type=Path, default=ROOT, help="the folder holding the baseline (this repo)")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--window", type=float, default=5.0, help="seconds per window")
    parser.add_argument("--out", type=Path, default=ROOT / "benchmarks" / "results")
    args = parser.parse_args(argv)
    roots = {"baseline": args.baseline.resolve(), "candidate": args.candidate.resolve()}
    for name, root in roots.items():
        if not (root / "bot" / "__main__.py").is_file():
            parser.error(f"{name}: {root} holds no bot/__main__.py")
    result = asyncio.run(run(roots, max(1, args.rounds), args.window))
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "ab.json").write_text(json.dumps(result, indent=2, ensure_ascii=False) + "\n")
    table = markdown_table(["metric", "baseline", "candidate", "change"], _summary(result))
    header = f"# A/B: {roots['baseline']} vs {roots['candidate']}\n\n"
    (args.out / "ab.md").write_text(header + table + "\n")
    print(header + table)
    return 0


if __name__ == "__main__":
    sys.exit(main())
