"""The benchmark rig: loopback worlds, when outcomes became final, bot and floor subprocesses, machine facts, stats."""

from __future__ import annotations

import asyncio
import contextlib
import math
import os
import platform
import re
import signal
import sys
import tempfile
import time
from collections.abc import AsyncIterator, Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import psutil

from tests.fakes.discord import FakeDiscord, InteractionRecord
from tests.fakes.pexels import FakePexels
from tests.harness import bot_environment, clean_environment, logged_errors

ROOT = Path(__file__).resolve().parent.parent
PEXELS_LATENCY = 0.08
"""Seconds FakePexels waits before answering: a realistic round trip to api.pexels.com."""
DEADLINE = 3.0
"""Discord's first-response deadline, enforced by FakeDiscord (a later callback gets 10062)."""
SMOKE_DEADLINE = 30.0
"""The deadline of a smoke run: it checks that every interaction is answered, not how fast."""

RELAXED = {
    "SEARCH_COOLDOWN": "100000/1",
    "BUTTON_COOLDOWN": "100000/1",
    "PEXELS_HOURLY_LIMIT": "100000000",
    "PEXELS_MONTHLY_LIMIT": "100000000",
}
"""Load runs send hundreds of interactions a second from 500 users: per-user cooldowns and the hourly
Pexels budget (5/60 s, 20/10 s, 200/h by default) would refuse most of them, so they are lifted."""


class Problems:
    """What went wrong during a run without stopping it: ERROR lines logged, interactions left unanswered.

    A full run records them (saturating the bot is the point of the throughput steps); a smoke run fails on any.
    """

    def __init__(self) -> None:
        self.seen: list[str] = []

    def add(self, what: str) -> None:
        self.seen.append(what)

    def take(self) -> list[str]:
        """Everything recorded since the last take."""
        seen, self.seen = self.seen, []
        return seen


problems = Problems()


_WEBHOOK = re.compile(r"/webhooks/\d+/(?P<token>[^/]+)(?:/messages/(?:@original|\d+))?")
_SETTLING = frozenset({"POST", "PATCH", "DELETE"})
"""After a defer, a followup, an edit or a delete through the interaction's webhook makes the outcome final."""


class Outcomes:
    """When each interaction's visible outcome became final, read from the REST calls FakeDiscord records.

    Made at the start of a window; `finish_times` then scans only the calls made since.
    """

    def __init__(self, fake: FakeDiscord) -> None:
        self._fake = fake
        self._mark = len(fake.calls)

    def finish_times(self, records: Iterable[InteractionRecord]) -> dict[int, float]:
        """Interaction id → monotonic time its outcome became final, for the finished, acknowledged ones."""
        settled: dict[str, float] = {}
        for call in self._fake.calls[self._mark :]:
            if call.method in _SETTLING and 200 <= call.status < 300 and (match := _WEBHOOK.fullmatch(call.path)):
                settled.setdefault(match["token"], call.at)
        out: dict[int, float] = {}
        for rec in records:
            accepted = next((c for c in rec.callbacks if 200 <= c.status < 300), None)
            if not rec.finished or accepted is None:
                continue
            at = settled.get(rec.token) if rec.response_type in (5, 6) else accepted.at
            if at is not None:
                out[rec.id] = at
        return out


FRESH_PREFIX = "fresh "
"""Queries starting with this are "uncached" load: each is new to the bot, but FakePexels answers them all
with one pre-rendered page (see BenchPexels)."""


class BenchPexels(FakePexels):
    """FakePexels that answers every `fresh …` search with the page of the query `fresh` (rendered once).

    Rendering a distinct 80-photo page costs the fake about 7 ms of CPU (108 KB of JSON, serialised
    twice); at 200 uncached searches a second that alone would take more than the rig's core and the
    benchmark would measure the fake. The bot still gets a full, distinct-looking request answered with
    a full page to parse and cache; only the photos are the same. Counting, latency and limits are
    unchanged.
    """

    def served_query(self, query: str) -> str:
        """Every `fresh …` query is answered as `fresh`."""
        return FRESH_PREFIX.strip() if query.startswith(FRESH_PREFIX) else query


def pexels_fake() -> FakePexels:
    """The loopback Pexels of every run: 80 ms per answer, limits far above anything a run can spend."""
    return BenchPexels(latency=PEXELS_LATENCY, hourly_limit=10**9, monthly_limit=10**9)


def child_environment(env: dict[str, str], bot_root: Path = ROOT) -> dict[str, str]:
    """The parent's environment minus the bot's own variables, plus `env`; imports resolve to `bot_root`."""
    base = clean_environment({"PYTHONUNBUFFERED": "1"})
    if bot_root != ROOT:
        base["PYTHONPATH"] = os.pathsep.join([str(bot_root), str(ROOT)])
    base.update(env)
    return base


class Child:
    """One subprocess (`python -m bot`, the floor or the probe wrapper) run in an empty temp folder."""

    def __init__(self, proc: asyncio.subprocess.Process, workdir: Path, label: str) -> None:
        self.proc = proc
        self.workdir = workdir
        self.label = label
        self.ps = psutil.Process(proc.pid)
        self._cpu_mark = self.cpu_seconds()

    @classmethod
    async def start(
        cls, module: str, args: Sequence[str], env: dict[str, str], workdir: Path, *, label: str, bot_root: Path = ROOT
    ) -> Child:
        out = (workdir / f"{label}.log").open("ab")
        try:
            proc = await asyncio.create_subprocess_exec(
                sys.executable, "-m", module, *args, cwd=workdir, env=child_environment(env, bot_root),
                stdout=out, stderr=asyncio.subprocess.STDOUT, stdin=asyncio.subprocess.DEVNULL,
            )  # fmt: skip
        finally:
            out.close()
        return cls(proc, workdir, label)

    @property
    def pid(self) -> int:
        return self.proc.pid

    def log(self) -> str:
        path = self.workdir / f"{self.label}.log"
        return path.read_text(errors="replace") if path.exists() else ""

    def log_tail(self, lines: int = 20) -> str:
        return "\n".join(self.log().splitlines()[-lines:])

    def check_log(self) -> None:
        """Record every ERROR or CRITICAL line, and every traceback, the process printed (in `problems`)."""
        for lines in logged_errors(self.log()):
            problems.add(f"{self.label} logged: {lines}")

    def rss(self) -> int:
        """Resident set size in bytes."""
        return int(self.ps.memory_info().rss)

    def cpu_seconds(self) -> float:
        times = self.ps.cpu_times()
        return float(times.user + times.system)

    def cpu_since_mark(self) -> float:
        """CPU seconds used since the last call (or start)."""
        now = self.cpu_seconds()
        used, self._cpu_mark = now - self._cpu_mark, now
        return used

    async def wait(self, limit: float) -> int:
        """The exit code, waiting at most `limit` seconds (TimeoutError after)."""
        return await asyncio.wait_for(self.proc.wait(), limit)

    async def stop(self, limit: float = 15.0) -> int | None:
        """SIGTERM, then SIGKILL if it does not exit within `limit` seconds; then check its log."""
        try:
            if self.proc.returncode is not None:
                return self.proc.returncode
            with contextlib.suppress(ProcessLookupError):
                self.proc.send_signal(signal.SIGTERM)
            try:
                return await self.wait(limit)
            except TimeoutError:
                with contextlib.suppress(ProcessLookupError):
                    self.proc.kill()
                return await self.wait(5)
        finally:
            self.check_log()


@dataclass
class World:
    """A loopback Discord and Pexels, an empty working folder, and the environment pointing there."""

    discord: FakeDiscord
    pexels: FakePexels
    workdir: Path
    env: dict[str, str] = field(default_factory=dict)

    @property
    def deadline(self) -> float:
        """Seconds FakeDiscord allows for a first response."""
        return float(self.discord.deadline)


@dataclass
class Mode:
    """Run-wide choices every section reads, set once by `python -m benchmarks` (a smoke run shortens them)."""

    deadline: float = DEADLINE
    """FakeDiscord's first-response deadline in every world."""
    pauses: float = 1.0
    """Factor on the settling pauses (idle CPU, RSS after READY, between windows)."""

    async def pause(self, seconds: float) -> None:
        """Sleep `seconds` (scaled)."""
        await asyncio.sleep(seconds * self.pauses)


mode = Mode()


@contextlib.asynccontextmanager
async def world(**overrides: str) -> AsyncIterator[World]:
    """Start both fakes in this loop and make a temp folder (no .env can be read there)."""
    with tempfile.TemporaryDirectory(prefix="pexbench-") as tmp:
        async with FakeDiscord(deadline=mode.deadline) as discord_fake, pexels_fake() as pexels:
            env = bot_environment(discord_fake, pexels, **overrides)
            yield World(discord_fake, pexels, Path(tmp), env)


async def sync_commands(w: World, module: str, *, bot_root: Path = ROOT) -> None:
    """Run `python -m <module> sync` to register the commands, as an operator does once."""
    child = await Child.start(module, ["sync"], w.env, w.workdir, label=f"{module}-sync", bot_root=bot_root)
    code = await child.wait(60)
    child.check_log()
    if code != 0:
        raise RuntimeError(f"`python -m {module} sync` exited {code}:\n{child.log_tail()}")


async def start_serving(
    w: World, module: str, *, label: str, env: dict[str, str] | None = None, bot_root: Path = ROOT
) -> tuple[Child, float]:
    """Spawn a serving process; return it and the seconds from spawn until FakeDiscord saw its READY."""
    before = len(w.discord.live_sessions)
    started = time.monotonic()
    child = await Child.start(module, [], {**w.env, **(env or {})}, w.workdir, label=label, bot_root=bot_root)
    try:
        await w.discord.wait_ready(before + 1, timeout=60)
    except TimeoutError:
        await child.stop()
        raise RuntimeError(f"{label} never became READY:\n{child.log_tail()}") from None
    ready = [s for s in w.discord.sessions if s.ready]
    return child, ready[-1].created_at - started if ready else time.monotonic() - started


async def stop_serving(w: World, child: Child) -> None:
    """Stop a serving process and wait until FakeDiscord has noticed its session is gone."""
    await child.stop()
    with contextlib.suppress(TimeoutError):
        await w.discord.wait_until(lambda: not w.discord.live_sessions, 5)


# ---- statistics ---------------------------------------------------------------------------------


def percentile(values: Sequence[float], q: float) -> float | None:
    """The q-th percentile (0..100), linear between closest ranks; None for no values."""
    if not values:
        return None
    ordered = sorted(values)
    if len(ordered) == 1:
        return ordered[0]
    pos = (len(ordered) - 1) * q / 100
    lo = math.floor(pos)
    hi = min(lo + 1, len(ordered) - 1)
    return ordered[lo] + (ordered[hi] - ordered[lo]) * (pos - lo)


def median(values: Sequence[float]) -> float | None:
    return percentile(values, 50)


def ms(seconds: float | None) -> float | None:
    """Seconds → milliseconds, rounded to 0.1 ms."""
    return None if seconds is None else round(seconds * 1000, 1)


# ---- machine --------------------------------------------------------------------------------------


def machine_info() -> dict[str, Any]:
    """What the numbers were measured on."""
    import aiohttp
    import discord

    model = "unknown"
    with contextlib.suppress(OSError):
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    speedups: dict[str, Any] = {}
    with contextlib.suppress(Exception):
        speedups["orjson (discord.utils.HAS_ORJSON)"] = bool(discord.utils.HAS_ORJSON)
        speedups["gateway compression"] = discord.utils._ActiveDecompressionContext.COMPRESSION_TYPE
        import aiohttp.http_parser

        speedups["aiohttp C http parser"] = aiohttp.http_parser.HttpResponseParser.__module__.endswith("_http_parser")
        import aiohttp.resolver

        speedups["aiohttp resolver"] = aiohttp.resolver.DefaultResolver.__name__
    for name in ("brotli", "zstandard", "aiodns", "orjson"):
        try:
            module = __import__(name)
            speedups[f"{name} installed"] = getattr(module, "__version__", True)
        except ImportError:
            speedups[f"{name} installed"] = False
    load = os.getloadavg()
    return {
        "nproc": os.cpu_count(),
        "cpu_model": model,
        "memory_gb": round(psutil.virtual_memory().total / 2**30, 1),
        "python": platform.python_version(),
        "implementation": platform.python_implementation(),
        "discord.py": discord.__version__,
        "aiohttp": aiohttp.__version__,
        "platform": platform.platform(),
        "loadavg_at_start": [round(x, 2) for x in load],
        "speedups": speedups,
    }
