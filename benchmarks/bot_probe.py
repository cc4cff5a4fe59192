"""`python -m benchmarks.bot_probe [args]`: exactly `python -m bot [args]`, plus two probes for the benchmarks.

* SIGUSR1 runs a full `gc.collect()` and appends one JSON line to $BENCH_STATS_FILE: RSS, allocated
  pymalloc blocks, live gc objects, the bot's own counters, and the automatic collections (count, total
  and worst pause per generation) since the previous SIGUSR1. It runs in the main thread between
  bytecodes, so it sees a consistent heap.
* With $BENCH_PROFILE set, the run is under cProfile: SIGUSR2 dumps
  what was profiled since the last SIGUSR2 to $BENCH_PROFILE.<n> (n = 1, 2, …) and starts afresh, so
  each load window gets its own stats.

Nothing else differs from `python -m bot`: same `main()`, same settings, same event loop. With
$BENCH_MAIN=benchmarks.floor_bot it wraps the floor's `main()` instead (for the floor's profile).
"""

from __future__ import annotations

import cProfile
import gc
import importlib
import json
import os
import signal
import sys
import time
from collections.abc import Sized
from types import FrameType
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from bot.app import PexelsBot


def _rss() -> int:
    with open("/proc/self/statm") as f:
        pages = int(f.read().split()[1])
    return pages * os.sysconf("SC_PAGE_SIZE")


_BOTS: list[PexelsBot] = []


def _track_bots() -> None:
    """Keep a handle on every PexelsBot the run creates (gc.get_objects can't see it: the bot freezes its
    start-up heap, and frozen objects are left out of the collector's lists)."""
    from bot.app import PexelsBot

    original = PexelsBot.__init__

    def init(self: PexelsBot, *args: Any, **kwargs: Any) -> None:
        original(self, *args, **kwargs)
        _BOTS.append(self)

    PexelsBot.__init__ = init  # type: ignore[method-assign]


def _bot_counters() -> dict[str, Any]:
    """Sizes of the bot's own tables (in-memory state) and of what discord.py keeps per message."""
    out: dict[str, Any] = {}
    for bot in _BOTS:
        if hasattr(bot, "state"):
            for name in ("cache", "cooldowns", "dedupe"):
                part = getattr(bot.state, name, None)
                if isinstance(part, Sized):
                    out[f"{name}_entries"] = len(part)
            out["discord_cached_messages"] = len(bot.cached_messages)
            out["discord_persistent_views"] = len(bot.persistent_views)
            break
    return out


class _GcPauses:
    """Counts and times the collector's automatic runs, per generation (gc.callbacks)."""

    def __init__(self) -> None:
        self.started = 0.0
        self.count = [0, 0, 0]
        self.total = [0.0, 0.0, 0.0]
        self.worst = [0.0, 0.0, 0.0]
        self.enabled = True

    def __call__(self, phase: str, info: dict[str, int]) -> None:
        if not self.enabled:
            return
        if phase == "start":
            self.started = time.perf_counter()
            return
        took = time.perf_counter() - self.started
        generation = info["generation"]
        self.count[generation] += 1
        self.total[generation] += took
        self.worst[generation] = max(self.worst[generation], took)

    def take(self) -> dict[str, Any]:
        """The figures since the last take, then start afresh."""
        out = {
            "gc_runs": list(self.count),
            "gc_total_ms": [round(t * 1000, 2) for t in self.total],
            "gc_worst_ms": [round(t * 1000, 2) for t in self.worst],
        }
        self.count, self.total, self.worst = [0, 0, 0], [0.0, 0.0, 0.0], [0.0, 0.0, 0.0]
        return out


_PAUSES = _GcPauses()


def _report(signum: int, frame: FrameType | None) -> None:
    path = os.environ.get("BENCH_STATS_FILE")
    if not path:
        return
    pauses = _PAUSES.take()
    rss_before = _rss()
    _PAUSES.enabled = False
    started = time.perf_counter()
    collected = gc.collect()
    full_gc_ms = round((time.perf_counter() - started) * 1000, 2)
    _PAUSES.enabled = True
    line = {
        **pauses,
        "full_gc_ms": full_gc_ms,
        "at": time.time(),
        "rss_before_gc": rss_before,
        "rss": _rss(),
        "gc_collected": collected,
        "allocated_blocks": sys.getallocatedblocks(),
        "gc_objects": len(gc.get_objects()),
        "gc_frozen": gc.get_freeze_count(),
        **_bot_counters(),
    }
    with open(path, "a") as f:
        f.write(json.dumps(line) + "\n")


class _Segments:
    """A cProfile profiler cut into numbered segments by SIGUSR2."""

    def __init__(self, path: str) -> None:
        self.path = path
        self.count = 0
        # The default (wall, cheap) timer: a CPU-time timer costs a system call per event and inflates
        # call-heavy code several times over. Idle time in epoll is left out when the stats are read.
        self.profiler = cProfile.Profile()

    def cut(self, signum: int, frame: FrameType | None) -> None:
        self.count += 1
        self.profiler.dump_stats(f"{self.path}.{self.count}")  # disables it
        self.profiler.clear()
        self.profiler.enable()


def main() -> int:
    target = importlib.import_module(os.environ.get("BENCH_MAIN", "bot.__main__"))
    bot_main = target.main
    if "bot.app" in sys.modules:
        _track_bots()

    signal.signal(signal.SIGUSR1, _report)
    gc.callbacks.append(_PAUSES)
    profile_path = os.environ.get("BENCH_PROFILE")
    if not profile_path:
        return int(bot_main(sys.argv[1:]))
    segments = _Segments(profile_path)
    signal.signal(signal.SIGUSR2, segments.cut)
    return int(segments.profiler.runcall(bot_main, sys.argv[1:]))


if __name__ == "__main__":
    sys.exit(main())
