"""Open-loop load: interactions dispatched at a steady rate whatever the answers, and what each one got."""

from __future__ import annotations

import asyncio
import contextlib
import gc
import itertools
import random
import time
from collections.abc import Awaitable, Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import psutil

from benchmarks.rig import (
    FRESH_PREFIX,
    RELAXED,
    ROOT,
    Child,
    Outcomes,
    World,
    mode,
    ms,
    percentile,
    problems,
    start_serving,
    stop_serving,
    sync_commands,
    world,
)
from tests.fakes.discord import InteractionRecord, StoredMessage, make_user

USERS = 500
WARM_QUERIES = tuple(
    f"{a} {b}"
    for a, b in itertools.product(
        ("sunset", "forest", "ocean", "city", "mountain", "cat", "coffee", "flower", "snow", "desert"),
        ("sky", "light", "night", "road", "river"),
    )
)
"""50 queries searched once before the cached runs, so every later search for them is a cache hit."""
MIX = (("uncached", 0.20), ("cached", 0.50), ("press", 0.30))
"""The mixed traffic of the comparison window and the throughput steps: 20 % new, 50 % repeated, 30 % presses."""
MIX_RATE = 200.0
"""The offered rate of the mixed comparison window."""

Launch = Callable[[int], Awaitable[tuple[str, InteractionRecord]]]


@dataclass
class Sample:
    """One dispatched interaction: its kind, its record, and how late the generator sent it."""

    kind: str
    rec: InteractionRecord
    lag: float


@dataclass
class RunStats:
    """The figures of one open-loop window."""

    target: str
    kind: str
    rate: float
    duration: float
    sent: int
    achieved_rate: float
    ack_p50_ms: float | None
    ack_p99_ms: float | None
    ack_max_ms: float | None
    final_p50_ms: float | None
    final_p99_ms: float | None
    late: int
    """Not answered within 3 s: no callback at all, or one FakeDiscord refused with 10062."""
    not_ok: int
    """Answered, but not with the expected visible outcome (refusal, error code, never final)."""
    deferred: int
    generator_lag_p99_ms: float | None
    generator_lag_max_ms: float | None
    target_cpu_pct: float
    rig_cpu_pct: float
    target_cpu_ms_per_interaction: float
    other_cpu_pct: float
    """CPU used by everything else on the machine during the window (100 = one core): the noise."""
    by_kind: dict[str, dict[str, Any]] = field(default_factory=dict)

    @property
    def passed(self) -> bool:
        """The throughput criterion: all answered within 3 s, p99 first response < 1 s, the rate really offered."""
        return (
            self.late == 0
            and self.not_ok == 0
            and self.ack_p99_ms is not None
            and self.ack_p99_ms < 1000
            and self.achieved_rate >= 0.95 * self.rate
        )

    def as_dict(self) -> dict[str, Any]:
        out = dict(self.__dict__)
        out["passed"] = self.passed
        return out


def _ok(rec: InteractionRecord, finished: Mapping[int, float]) -> bool:
    """Answered in time with a final, public, error-free outcome (a refusal would be ephemeral)."""
    return (
        rec.acknowledged
        and rec.finished
        and not rec.errors
        and not any(m.ephemeral for m in rec.messages)
        and rec.id in finished
    )


def summarise(samples: Sequence[Sample], finished: Mapping[int, float]) -> dict[str, Any]:
    """Latency percentiles and failure counts of a set of samples (`finished`: from `Outcomes.finish_times`)."""
    acks = [s.rec.ack_latency for s in samples if s.rec.acknowledged and s.rec.ack_latency is not None]
    finals = [finished[s.rec.id] - s.rec.dispatched_at for s in samples if s.rec.acknowledged and s.rec.id in finished]
    return {
        "n": len(samples),
        "ack_p50_ms": ms(percentile(acks, 50)),
        "ack_p99_ms": ms(percentile(acks, 99)),
        "ack_max_ms": ms(max(acks)) if acks else None,
        "final_p50_ms": ms(percentile(finals, 50)),
        "final_p99_ms": ms(percentile(finals, 99)),
        "late": sum(1 for s in samples if not s.rec.acknowledged),
        "not_ok": sum(1 for s in samples if s.rec.acknowledged and not _ok(s.rec, finished)),
        "deferred": sum(1 for s in samples if s.rec.response_type in (5, 6)),
    }


async def drive(rate: float, duration: float, launch: Launch) -> tuple[list[Sample], float]:
    """Dispatch round(rate × duration) interactions on a fixed schedule; return them and the wall time taken."""
    loop = asyncio.get_running_loop()
    count = max(1, round(rate * duration))
    start = loop.time() + 0.02
    samples: list[Sample] = []
    for i in range(count):
        due = start + i / rate
        delay = due - loop.time()
        if delay > 0:
            await asyncio.sleep(delay)
        lag = loop.time() - due
        kind, rec = await launch(i)
        samples.append(Sample(kind, rec, lag))
    return samples, loop.time() - start


async def drain(samples: Sequence[Sample], deadline: float, limit: float = 15.0) -> None:
    """Wait until every interaction is final, or past hope (no callback 1 s after the deadline), or `limit`."""
    end = time.monotonic() + max(limit, deadline + 2.0)
    while time.monotonic() < end:
        now = time.monotonic()
        waiting = [
            s for s in samples if not s.rec.finished and (s.rec.callbacks or now - s.rec.dispatched_at < deadline + 1.0)
        ]
        if not waiting:
            return
        await asyncio.sleep(0.05)


class Load:
    """The load generator for one world (bot or floor) and one serving process."""

    def __init__(self, w: World, child: Child, target: str, seed: int = 1, *, users: int = USERS) -> None:
        self.w = w
        self.child = child
        self.target = target
        self.users = [make_user(n) for n in range(1, users + 1)]
        self.pool: list[StoredMessage] = []
        self.cached_queries: Sequence[str] = WARM_QUERIES
        self._press_cursor = 0
        self._uncached = itertools.count()
        self._run_id = 0
        self._rng = random.Random(seed)
        self._me = psutil.Process()

    # ---- the three kinds of interaction -------------------------------------------------------------
    async def uncached(self, i: int) -> tuple[str, InteractionRecord]:
        """A search nobody made before: the bot must ask Pexels."""
        n = next(self._uncached)
        query = f"{FRESH_PREFIX}{self._run_id} {n}"
        rec = await self.w.discord.slash("photo", {"query": query}, user=self.users[n % len(self.users)])
        return "uncached", rec

    async def cached(self, i: int) -> tuple[str, InteractionRecord]:
        """A search for one of the warm queries: answered from the cache."""
        query = self.cached_queries[self._rng.randrange(len(self.cached_queries))]
        rec = await self.w.discord.slash("photo", {"query": query}, user=self.users[i % len(self.users)])
        return "cached", rec

    async def press(self, i: int) -> tuple[str, InteractionRecord]:
        """▶ on a result message of the pool, by the user who owns it."""
        k = self._press_cursor % len(self.pool)
        self._press_cursor += 1
        message = self.pool[k]
        user = self.users[k % len(self.users)]
        try:
            rec = await self.w.discord.click(message.id, "▶", user=user)
        except ValueError:  # ▶ disabled at the last result: go back to the first
            rec = await self.w.discord.click(message.id, "⏮", user=user)
        return "press", rec

    def mixed(self, weights: Sequence[tuple[str, float]] = MIX) -> Launch:
        kinds = [k for k, _ in weights]
        cum = list(itertools.accumulate(w for _, w in weights))
        by_name = {"uncached": self.uncached, "cached": self.cached, "press": self.press}

        async def launch(i: int) -> tuple[str, InteractionRecord]:
            kind = self._rng.choices(kinds, cum_weights=cum)[0]
            return await by_name[kind](i)

        return launch

    # ---- preparation ------------------------------------------------------------------------------
    async def warm(self) -> None:
        """Search every warm query once so later searches for them are cache hits."""
        recs = []
        for n, query in enumerate(WARM_QUERIES):
            recs.append(await self.w.discord.slash("photo", {"query": query}, user=self.users[n % len(self.users)]))
            await asyncio.sleep(0.01)
        for rec in recs:
            await rec.wait_done(timeout=15)

    async def build_pool(self, rate: float = 200.0) -> None:
        """One result message per user (cached searches), pressed later by its owner."""
        self.pool = []
        recs: list[InteractionRecord] = []
        for n, user in enumerate(self.users):
            recs.append(await self.w.discord.slash("photo", {"query": WARM_QUERIES[n % len(WARM_QUERIES)]}, user=user))
            await asyncio.sleep(1 / rate)
        for rec in recs:
            await rec.wait_done(timeout=15)
            message = rec.original
            if message is None or not message.buttons():
                raise RuntimeError(f"{self.target}: a pool search did not leave a message with buttons: {rec}")
            self.pool.append(message)

    async def settle(self, seconds: float = 0.5) -> None:
        """Let the target go idle between windows (and check it is still alive)."""
        await mode.pause(seconds)
        if self.child.proc.returncode is not None:
            raise RuntimeError(f"{self.target} exited with {self.child.proc.returncode}:\n{self.child.log_tail()}")

    # ---- one window --------------------------------------------------------------------------------
    async def run(self, kind: str, rate: float, duration: float, launch: Launch | None = None) -> RunStats:
        """Offer `rate` interactions/s of `kind` for `duration` s; wait for the outcomes; summarise."""
        self._run_id += 1
        if launch is None:
            launch = {"uncached": self.uncached, "cached": self.cached, "press": self.press}[kind]
        self.child.cpu_since_mark()
        system_before = _busy()
        rig_before = _cpu(self._me)
        wall_start = time.monotonic()
        outcomes = Outcomes(self.w.discord)
        with rig_gc_paused():
            samples, elapsed = await drive(rate, duration, launch)
            await drain(samples, self.w.deadline)
        wall = time.monotonic() - wall_start
        finished = outcomes.finish_times(s.rec for s in samples)
        target_cpu = self.child.cpu_since_mark()
        rig_cpu = _cpu(self._me) - rig_before
        other_cpu = _busy() - system_before - rig_cpu - target_cpu
        overall = summarise(samples, finished)
        lags = [s.lag for s in samples]
        by_kind: dict[str, dict[str, Any]] = {}
        kinds = sorted({s.kind for s in samples})
        if len(kinds) > 1:
            by_kind = {k: summarise([s for s in samples if s.kind == k], finished) for k in kinds}
        stats = RunStats(
            target=self.target,
            kind=kind,
            rate=rate,
            duration=duration,
            sent=len(samples),
            achieved_rate=round(len(samples) / elapsed, 1) if elapsed > 0 else float(len(samples)),
            ack_p50_ms=overall["ack_p50_ms"],
            ack_p99_ms=overall["ack_p99_ms"],
            ack_max_ms=overall["ack_max_ms"],
            final_p50_ms=overall["final_p50_ms"],
            final_p99_ms=overall["final_p99_ms"],
            late=overall["late"],
            not_ok=overall["not_ok"],
            deferred=overall["deferred"],
            generator_lag_p99_ms=ms(percentile(lags, 99)),
            generator_lag_max_ms=ms(max(lags)),
            target_cpu_pct=round(100 * target_cpu / wall, 1),
            rig_cpu_pct=round(100 * rig_cpu / wall, 1),
            target_cpu_ms_per_interaction=round(1000 * target_cpu / len(samples), 3),
            other_cpu_pct=round(max(0.0, 100 * other_cpu / wall), 1),
            by_kind=by_kind,
        )
        if stats.late or stats.not_ok:
            bad = next(s.rec for s in samples if not (s.rec.acknowledged and _ok(s.rec, finished)))
            problems.add(
                f"{self.target}, {kind} @ {rate:g}/s: {stats.late} late and {stats.not_ok} not ok of {stats.sent}; "
                f"the first:\n{bad.describe()}"
            )
        await self.settle()
        return stats


@contextlib.contextmanager
def rig_gc_paused() -> Iterator[None]:
    """No garbage collection in the rig (FakeDiscord and this generator) during a window.

    The fake keeps every message and interaction; a full collection of its heap stalls its event loop for
    tens of ms, and the stall lands in the bot's measured latency. Windows are bounded, so the heap is
    collected and frozen between them instead. The bot's own process is untouched.
    """
    gc.collect()
    gc.freeze()
    gc.disable()
    try:
        yield
    finally:
        gc.enable()


def _busy() -> float:
    """CPU seconds the whole machine has been busy (all cores)."""
    times = psutil.cpu_times()
    return float(times.user + times.nice + times.system + times.irq + times.softirq + getattr(times, "steal", 0.0))


def _cpu(process: psutil.Process) -> float:
    times = process.cpu_times()
    return float(times.user + times.system)


TARGETS = ("bot", "floor", "plain")
"""The bot; the floor (the bot's message shape, one Pexels search per new query); the plain floor ("ok", no
Pexels: windows only, no steps)."""


async def section(
    *,
    rates: Sequence[float],
    window: float,
    steps: Sequence[float],
    step_window: float,
    mix_window: float,
    bot_root: Path = ROOT,
    users: int = USERS,
) -> dict[str, Any]:
    """Open-loop windows and throughput steps for the bot and the floors, interleaved window by window.

    All three processes run at once, each against its own FakeDiscord, and only one is under load at a
    time: the bot's window for a kind and rate is followed at once by the floors' windows for the same,
    so slow drifts of a shared, noisy machine hit both sides of each ratio alike.
    """
    root = bot_root
    loads: dict[str, Load] = {}
    runs: dict[str, list[RunStats]] = {t: [] for t in TARGETS}
    idle: dict[str, float] = {}
    async with contextlib.AsyncExitStack() as stack:

        async def start(target: str) -> None:
            """Sync and start one target in its own world (the three start side by side)."""
            module = "bot" if target == "bot" else "benchmarks.floor_bot"
            w = await stack.enter_async_context(world(**RELAXED))
            await sync_commands(w, module, bot_root=root)
            env = {"FLOOR_SHAPE": "ok"} if target == "plain" else {}
            child, _ = await start_serving(w, module, label=target, env=env, bot_root=root)
            stack.push_async_callback(stop_serving, w, child)
            loads[target] = Load(w, child, target, users=users)

        started = await asyncio.gather(*(start(target) for target in TARGETS), return_exceptions=True)
        for failure in started:
            if isinstance(failure, BaseException):
                raise failure
        loads = {target: loads[target] for target in TARGETS}
        for load in loads.values():
            await load.run("uncached", 20, 1)  # first-call costs, not recorded
            load.child.cpu_since_mark()
        idle_from = time.monotonic()
        await mode.pause(2.0)
        idle_s = time.monotonic() - idle_from
        for target, load in loads.items():
            idle[target] = round(100 * load.child.cpu_since_mark() / idle_s, 2)

        bot, floors = loads["bot"], [loads["floor"], loads["plain"]]
        for rate in rates:
            runs["bot"].append(await bot.run("uncached", rate, window))
            runs["floor"].append(await loads["floor"].run("uncached", rate, window))
        for load in (bot, loads["floor"]):
            await load.warm()
        for rate in rates:
            runs["bot"].append(await bot.run("cached", rate, window))
            for floor in floors:
                runs[floor.target].append(await floor.run("search", rate, window, floor.cached))
        for load in loads.values():
            await load.build_pool()
        for rate in rates:
            for load in loads.values():
                runs[load.target].append(await load.run("press", rate, window))

        mixes: dict[str, RunStats] = {}
        for target in ("bot", "floor"):
            mixes[target] = await loads[target].run("mix", MIX_RATE, mix_window, loads[target].mixed())

        stepping = {t: loads[t] for t in ("bot", "floor")}
        tp_steps: dict[str, list[RunStats]] = {t: [] for t in stepping}
        best: dict[str, float] = dict.fromkeys(stepping, 0.0)
        for rate in steps:
            for target, load in list(stepping.items()):
                stats = await load.run("mix", rate, step_window, load.mixed())
                tp_steps[target].append(stats)
                if stats.passed:
                    best[target] = rate
                else:
                    del stepping[target]
            if not stepping:
                break

    out: dict[str, Any] = {}
    for target in TARGETS:
        out[target] = {
            "module": "bot" if target == "bot" else "benchmarks.floor_bot",
            "idle_cpu_pct": idle.get(target),
            "runs": [r.as_dict() for r in runs[target]],
            "mix": mixes[target].as_dict() if target in mixes else None,
            "throughput": None
            if target == "plain"
            else {
                "mix": dict(MIX),
                "window_s": step_window,
                "steps": [s.as_dict() for s in tp_steps[target]],
                "max_sustained_rate": best[target],
                "all_passed": all(s.passed for s in tp_steps[target]),
            },
        }
    return out
