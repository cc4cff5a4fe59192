"""`python -m benchmarks [--quick | --smoke] [--only SECTIONS] [--out DIR] [--bot-root DIR]`: run, print, write results.

`--smoke` runs every section end to end with tiny counts (under a minute) and fails on an exception, an
ERROR logged by the bot, or an interaction left unanswered; never on speed. CI runs it.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import shlex
import sys
import tempfile
import time
import traceback
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any, Literal

from benchmarks import load, memory, profiling, quota, report, startup
from benchmarks.rig import PEXELS_LATENCY, ROOT, SMOKE_DEADLINE, machine_info, mode, problems

SECTIONS = ("startup", "latency", "profile", "memory", "quota")
Size = Literal["full", "quick", "smoke"]


@dataclass(frozen=True)
class Config:
    """How much of everything to run."""

    size: Size
    rates: tuple[float, ...]
    window: float
    steps: tuple[float, ...]
    step_window: float
    startup_runs: int
    profile_per_kind: int
    open_messages: int
    plateau_queries: int
    quota_sessions: int
    mix_window: float = 10.0
    users: int = load.USERS
    timing_repeats: int = 5

    @property
    def quick(self) -> bool:
        return self.size != "full"

    @classmethod
    def make(cls, size: Size) -> Config:
        if size == "smoke":
            return cls(
                size=size,
                rates=(20,),
                window=0.5,
                steps=(40,),
                step_window=0.5,
                startup_runs=1,
                profile_per_kind=10,
                open_messages=20,
                plateau_queries=20,
                quota_sessions=10,
                mix_window=0.5,
                users=10,
                timing_repeats=1,
            )
        if size == "quick":
            return cls(
                size=size,
                rates=(50, 200),
                window=2.0,
                steps=(150, 300, 450, 600, 900),
                step_window=2.0,
                startup_runs=3,
                profile_per_kind=80,
                open_messages=1000,
                plateau_queries=300,
                quota_sessions=200,
                mix_window=4.0,
            )
        return cls(
            size=size,
            rates=(50, 200),
            window=8.0,
            steps=(100, 200, 300, 400, 500, 600, 800, 1000, 1200),
            step_window=6.0,
            startup_runs=5,
            profile_per_kind=300,
            open_messages=10_000,
            plateau_queries=5_000,
            quota_sessions=2_000,
        )


def notes(cfg: Config) -> list[str]:
    """What the reader must know to read the numbers."""
    return [
        "The bot under test is `python -m bot` in its own process (run from an empty temp folder, so no .env), "
        "after `python -m bot sync`; the floor is `python -m benchmarks.floor_bot` (a discord.py Client with a "
        "command tree carrying the same command names and options, answering every command and press with a fixed "
        "message of the bot's shape (a photo embed, the same 7 buttons + link, built once at start); for a query it "
        "has not seen, it first does one GET of the same Pexels search (per_page=80) from the same loopback Pexels "
        "and parses the JSON). FakeDiscord, FakePexels and the load generator share one other process. All share "
        "the machine's cores (column 'CPU % target / rig / other'; 100 % = one core; 'other' is everything else).",
        "Load runs relax the bot's limits through its environment: SEARCH_COOLDOWN=100000/1, "
        "BUTTON_COOLDOWN=100000/1, PEXELS_HOURLY_LIMIT=PEXELS_MONTHLY_LIMIT=100000000 (defaults 5/60, 20/10, "
        "200/h would refuse most of 500 users' traffic). Everything else is the default configuration.",
        f"FakePexels answers after {PEXELS_LATENCY * 1000:.0f} ms. Uncached searches are new queries to the bot "
        "('fresh <run> <n>'); the fake answers them all with one pre-rendered 80-photo page (108 KB), because "
        "rendering a distinct page costs the fake ~7 ms of CPU and would make the rig, not the bot, the bottleneck.",
        "Bot, floor and plain floor run side by side (each against its own FakeDiscord; only one under load "
        "at a time) and their windows are interleaved kind by kind and rate by rate, so drifts of the shared "
        "machine hit both sides of a ratio alike.",
        "Open loop: interactions are dispatched on a fixed schedule from 500 distinct users whatever the answers. "
        "First response = FakeDiscord's dispatch stamp → the bot's first callback reaching it (ack_latency); final "
        "message = dispatch → the callback, followup or edit that made the outcome final. 'late' = no accepted "
        "callback within 3 s (FakeDiscord answers a later one with 10062). 'not ok' = answered but refused, "
        "errored or never final. Generator lag = how late the rig sent an interaction against its schedule.",
        "The 'plain' floor (FLOOR_SHAPE=ok) is the same floor answering every command with a fixed "
        "`send_message('ok')` + one ▶ button and every press with `edit_message(content='ok')`, no Pexels; it runs "
        "the open-loop windows only. Floor − plain is what discord.py spends on the bot's message shape.",
        f"Mixed window: {load.MIX_RATE:g}/s for {cfg.mix_window:g} s, open loop, "
        f"{', '.join(f'{k} {w:.0%}' for k, w in load.MIX)}, for the bot and the floor: the issue's like-for-like "
        "comparison, reported per class and overall.",
        "Page presses press ▶ on a pool of 500 result messages (one per user, pressed by its owner); cached "
        "searches draw from 50 queries searched once before. The floor's 'search' rows are compared to both "
        "search kinds of the bot.",
        "The rig's garbage collector is paused during each window (collected and frozen between windows): a "
        "full collection of FakeDiscord's growing history stalls the rig's loop for tens of ms, which would be "
        "charged to the bot. The bot's own collector is untouched.",
        f"Throughput: mixed traffic ({', '.join(f'{k} {w:.0%}' for k, w in load.MIX)}) stepped up in "
        f"{cfg.step_window:g}-s windows through {', '.join(f'{r:g}' for r in cfg.steps)}/s, stopping at the first "
        "step with a late answer, a 'not ok' answer, p99 first response ≥ 1 s, or a sent rate < 95 % of the "
        "offered one (the rig could not offer it). The load generator and the fakes use one of the 2 cores at "
        "these rates, so this is the rate one bot process sustains on half a 2-core machine.",
        "Quota runs the bot in-process (tests.harness.running_bot) with the same relaxed limits and the default "
        "cache (2,000 entries, 24 h), one page view at a time so each Pexels request is attributed to the view "
        f"that caused it: {cfg.quota_sessions:,} searches, queries Zipf(s={quota.ZIPF_S}) over "
        f"{quota.VOCABULARY:,} queries, each followed by Geometric(mean {quota.MEAN_PRESSES:g}) ▶ presses.",
        "Memory runs `python -m benchmarks.bot_probe` (the bot's own main() plus a SIGUSR1 handler that runs "
        "gc.collect() and reports RSS, pymalloc blocks and the bot's table sizes). The cache's share is removed "
        f"by opening {cfg.open_messages:,} messages with the same 5 queries (cache stays at 5 entries); the "
        "interaction de-duplication table (every id kept 60 s by design) is measured separately with tracemalloc "
        f"and subtracted. Plateau: CACHE_MAX_ENTRIES=200 and {cfg.plateau_queries:,} distinct queries.",
        "Profiles are cProfile inside the serving process (one segment per kind, at 100/s, well below "
        "saturation). cProfile inflates call-heavy code several times over, so read its shares, take "
        "absolutes from the un-profiled 'CPU ms per interaction' of the load windows, and the cost of single "
        "steps from the real-time micro-benchmarks.",
    ]


async def run(cfg: Config, sections: tuple[str, ...], out: Path, bot_root: Path) -> dict[str, Any]:
    started = time.monotonic()
    asyncio.get_running_loop().set_exception_handler(
        lambda _loop, context: problems.add(f"rig task: {context.get('message')} {context.get('exception')!r}")
    )
    results: dict[str, Any] = {
        "quick": cfg.quick,
        "size": cfg.size,
        "command": " ".join(["python -m benchmarks", shlex.join(sys.argv[1:])]).strip(),
        "machine": machine_info(),
        "config": asdict(cfg),
        "bot_root": str(bot_root),
        "notes": notes(cfg),
        "section_wall_s": {},
        "errors": {},
        "problems": {},
    }
    for name in sections:
        began = time.monotonic()
        print(f"[{time.monotonic() - started:6.1f}s] {name} …", flush=True)
        try:
            if name == "startup":
                results["startup"] = await startup.run(cfg.startup_runs, bot_root)
            elif name == "latency":
                results["latency"] = await load.section(
                    rates=cfg.rates,
                    window=cfg.window,
                    steps=cfg.steps,
                    step_window=cfg.step_window,
                    mix_window=cfg.mix_window,
                    bot_root=bot_root,
                    users=cfg.users,
                )
            elif name == "profile":
                results["profile"] = await profiling.run(
                    cfg.profile_per_kind, out, rate=100.0, bot_root=bot_root, users=cfg.users, repeat=cfg.timing_repeats
                )
            elif name == "memory":
                results["memory"] = await memory.run(cfg.open_messages, cfg.plateau_queries, bot_root, users=cfg.users)
            elif name == "quota":
                results["quota"] = await quota.run(cfg.quota_sessions, users=cfg.users)
        except Exception:
            results["errors"][name] = traceback.format_exc()
            print(results["errors"][name], file=sys.stderr, flush=True)
        seen = problems.take()
        if seen:
            results["problems"][name] = seen
            print(f"  {len(seen)} problem(s) in {name}; the first: {seen[0]}", file=sys.stderr, flush=True)
        results["section_wall_s"][name] = round(time.monotonic() - began, 1)
    results["wall_s"] = round(time.monotonic() - started, 1)
    results["finished_at"] = time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime())
    return results


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks", description=__doc__)
    sizes = parser.add_mutually_exclusive_group()
    sizes.add_argument("--quick", action="store_true", help="a ~2-minute version of the same sections")
    sizes.add_argument(
        "--smoke",
        action="store_true",
        help="every section with tiny counts, writing to a temporary folder unless --out is given: fails on "
        "errors and unanswered interactions, never on speed (CI runs this)",
    )
    parser.add_argument("--only", default=",".join(SECTIONS), help=f"comma-separated subset of {','.join(SECTIONS)}")
    parser.add_argument("--out", type=Path, default=None, help="where results go (default: benchmarks/results)")
    parser.add_argument(
        "--bot-root", type=Path, default=ROOT, help="run the bot/ and cogs/ found here (e.g. a patched copy)"
    )
    args = parser.parse_args(argv)
    sections = tuple(s.strip() for s in args.only.split(",") if s.strip())
    unknown = set(sections) - set(SECTIONS)
    if unknown:
        parser.error(f"unknown sections: {', '.join(sorted(unknown))}")
    cfg = Config.make("smoke" if args.smoke else "quick" if args.quick else "full")
    if args.out is not None:
        return _run_and_write(cfg, sections, args.out, args.bot_root.resolve())
    if cfg.size == "smoke":
        with tempfile.TemporaryDirectory(prefix="pexbench-smoke-") as tmp:
            return _run_and_write(cfg, sections, Path(tmp), args.bot_root.resolve(), keep=False)
    return _run_and_write(cfg, sections, ROOT / "benchmarks" / "results", args.bot_root.resolve())


def _run_and_write(cfg: Config, sections: tuple[str, ...], out: Path, bot_root: Path, *, keep: bool = True) -> int:
    """Run, write results.json, table.md and the chart into `out`, print the table; the exit status.

    A smoke run's numbers mean nothing: its table is printed only when it is kept (`--out`).
    """
    out.mkdir(parents=True, exist_ok=True)
    if cfg.size == "smoke":
        mode.deadline, mode.pauses = SMOKE_DEADLINE, 0.1
    results = asyncio.run(run(cfg, sections, out, bot_root))
    (out / "results.json").write_text(json.dumps(results, indent=2, ensure_ascii=False) + "\n")
    table = report.render(results)
    (out / "table.md").write_text(table)
    drawn = report.plot(results, out / "response_time.png")
    if cfg.size != "smoke" or keep:
        print()
        print(table)
        print(f"wrote {out / 'results.json'}, {out / 'table.md'}" + (f", {out / 'response_time.png'}" if drawn else ""))
    if cfg.size == "smoke":
        return _smoke_verdict(results)
    return 1 if results["errors"] else 0


def _smoke_verdict(results: dict[str, Any]) -> int:
    """A smoke run fails on any section error or problem (never on a number); say which, briefly."""
    failed = {**{k: ["raised an exception (above)"] for k in results["errors"]}, **results["problems"]}
    if not failed:
        print(f"smoke: every section ran end to end, nothing logged at ERROR, every interaction answered "
              f"({results['wall_s']} s)")  # fmt: skip
        return 0
    for section, seen in failed.items():
        for what in seen:
            print(f"smoke FAILED in {section}: {what}", file=sys.stderr)
    return 1


if __name__ == "__main__":
    sys.exit(main())
