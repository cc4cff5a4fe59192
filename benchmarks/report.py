"""The markdown tables and the response-time chart, from results.json's dictionary."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from benchmarks.load import MIX, MIX_RATE
from benchmarks.profiling import HOT_SPOTS

KIND_NAMES = {"uncached": "uncached search", "cached": "cached search", "press": "page press ▶", "search": "search"}
SHORT = {"uncached": "uncached", "cached": "cached", "press": "press ▶", "search": "search"}
FLOOR_KIND = {"uncached": "uncached", "cached": "search", "press": "press"}
PLAIN_KIND = {"uncached": "search", "cached": "search", "press": "press"}
"""The plain floor answers every command alike, so all searches compare with its 'search' windows."""


def _fmt(value: float | None, digits: int = 1) -> str:
    return "–" if value is None else f"{value:,.{digits}f}"


def _ratio(a: float | None, b: float | None) -> str:
    if a is None or b is None or b <= 0:
        return "–"
    return f"{a / b:.1f}×"


def _find(runs: list[dict[str, Any]], kind: str, rate: float) -> dict[str, Any] | None:
    return next((r for r in runs if r["kind"] == kind and r["rate"] == rate), None)


def headline(results: dict[str, Any]) -> list[list[str]]:
    """Rows of | metric | bot | floor | ratio |."""
    rows: list[list[str]] = []
    startup = results.get("startup") or {}
    if "bot_median_s" in startup:
        rows.append(
            [
                f"start-up: spawn → READY, median of {startup['runs']} (s)",
                _fmt(startup["bot_median_s"], 2),
                _fmt(startup["floor_median_s"], 2),
                _ratio(startup["bot_median_s"], startup["floor_median_s"]),
            ]
        )
        rows.append(
            [
                "RSS 1 s after READY, median (MB)",
                _fmt(startup["bot_rss_after_ready_mb"]),
                _fmt(startup["floor_rss_after_ready_mb"]),
                _ratio(startup["bot_rss_after_ready_mb"], startup["floor_rss_after_ready_mb"]),
            ]
        )
    latency = results.get("latency") or {}
    bot_runs = (latency.get("bot") or {}).get("runs", [])
    floor_runs = (latency.get("floor") or {}).get("runs", [])
    rates = sorted({r["rate"] for r in bot_runs})
    for metric, p50, p99 in (
        ("first response", "ack_p50_ms", "ack_p99_ms"),
        ("final message", "final_p50_ms", "final_p99_ms"),
    ):
        for kind in ("uncached", "cached", "press"):
            for rate in rates:
                bot = _find(bot_runs, kind, rate)
                floor = _find(floor_runs, FLOOR_KIND[kind], rate)
                if bot is None:
                    continue
                f50 = floor[p50] if floor else None
                f99 = floor[p99] if floor else None
                rows.append(
                    [
                        f"{metric} p50 / p99, {KIND_NAMES[kind]} @ {rate:g}/s (ms)",
                        f"{_fmt(bot[p50])} / {_fmt(bot[p99])}",
                        f"{_fmt(f50)} / {_fmt(f99)}",
                        f"{_ratio(bot[p50], f50)} / {_ratio(bot[p99], f99)}",
                    ]
                )
    if bot_runs:
        late_bot = sum(r["late"] for r in bot_runs)
        late_floor = sum(r["late"] for r in floor_runs)
        sent_bot = sum(r["sent"] for r in bot_runs)
        sent_floor = sum(r["sent"] for r in floor_runs)
        rows.append(
            [
                "not answered within 3 s (all windows above)",
                f"{late_bot} of {sent_bot:,}",
                f"{late_floor} of {sent_floor:,}",
                "–",
            ]
        )
        for kind in ("cached", "press"):
            bot = _find(bot_runs, kind, 50)
            floor = _find(floor_runs, FLOOR_KIND[kind], 50)
            if bot and floor:
                rows.append(
                    [
                        f"CPU per interaction, {KIND_NAMES[kind]} @ 50/s (ms)",
                        _fmt(bot["target_cpu_ms_per_interaction"], 2),
                        _fmt(floor["target_cpu_ms_per_interaction"], 2),
                        _ratio(bot["target_cpu_ms_per_interaction"], floor["target_cpu_ms_per_interaction"]),
                    ]
                )
        bot = _find(bot_runs, "uncached", 50)
        if bot:
            rows.append(
                [
                    "CPU per interaction, uncached search @ 50/s (ms)",
                    _fmt(bot["target_cpu_ms_per_interaction"], 2),
                    "–",
                    "–",
                ]
            )
    bot_tp = (latency.get("bot") or {}).get("throughput")
    floor_tp = (latency.get("floor") or {}).get("throughput")
    if bot_tp and floor_tp:
        rows.append(
            [
                "max sustained rate, mixed traffic (interactions/s)",
                _rate(bot_tp),
                _rate(floor_tp),
                _ratio(bot_tp["max_sustained_rate"], floor_tp["max_sustained_rate"]),
            ]
        )
    gc_info = ((results.get("memory") or {}).get("open_messages") or {}).get("gc_during_opening")
    if gc_info and gc_info.get("worst_pause_ms_per_generation"):
        runs = gc_info["automatic_runs_per_generation"]
        rows.append(
            [
                "bot's worst automatic gen-2 GC pause while opening messages (ms)",
                f"{gc_info['worst_pause_ms_per_generation'][2]:g} ({runs[2]} runs; a full collection: "
                f"{gc_info['full_collection_ms']:g} ms over {gc_info['objects_tracked']:,} objects)",
                "–",
                "–",
            ]
        )
    quota = results.get("quota") or {}
    if "requests_per_100_views" in quota:
        rows.append(
            [
                "Pexels requests per 100 page views (floor column: naive bot)",
                _fmt(quota["requests_per_100_views"], 2),
                "100 (naive)",
                f"{quota['requests_per_100_views'] / 100:.3f}×",
            ]
        )
    return rows


def _rate(tp: dict[str, Any]) -> str:
    best = tp["max_sustained_rate"]
    suffix = " (every step passed)" if tp.get("all_passed") else ""
    return f"{best:g}{suffix}"


def targets(results: dict[str, Any]) -> list[list[str]]:
    """Rows of | target | measured | met |."""
    rows: list[list[str]] = []
    latency = results.get("latency") or {}
    bot_runs = (latency.get("bot") or {}).get("runs", [])
    if bot_runs:
        late = sum(r["late"] for r in bot_runs)
        rows.append(
            [
                "every interaction answered within 3 s (open-loop windows, 50 and 200/s)",
                f"{late} late of {sum(r['sent'] for r in bot_runs):,}",
                "yes" if late == 0 else "no",
            ]
        )
    quota = results.get("quota") or {}
    if "requests_per_100_views" in quota:
        per100 = quota["requests_per_100_views"]
        second = quota.get("requests_per_100_views_second_half")
        need = quota.get("model_sessions_per_day_for_2_per_100")
        rows.append(
            [
                "≤ 2 Pexels requests per 100 page views",
                f"{per100:.2f} over the run ({quota['page_views']:,} views, cold cache); {_fmt(second, 2)} in its "
                f"second half; model: ≤ 2 once a cache lifetime (24 h) sees ≥ {need:,} searches",
                "yes" if per100 <= 2 else "no at this volume (1 request per distinct query: the floor for any cache)",
            ]
        )
        inside = quota["requests_inside_first_80_after_search"]
        rows.append(
            [
                "0 requests for page views inside the first 80 results",
                f"{inside} requests in {quota['press_views']['first_80']:,} presses inside the first 80",
                "yes" if inside == 0 else "no",
            ]
        )
    memory = results.get("memory") or {}
    opened = memory.get("open_messages")
    if opened:
        per = opened["rss_growth_bytes_per_message_without_dedupe"]
        rows.append(
            [
                "< 1 KB RSS per open result message",
                f"{per:,.0f} B/message over {opened['messages']:,} messages "
                f"({opened['rss_growth_bytes_per_message']:,.0f} B with the 60-s dedupe table; "
                f"{opened['pymalloc_blocks_per_message']:.1f} pymalloc blocks/message)",
                "yes" if per < 1024 else "no",
            ]
        )
    plateau = memory.get("plateau")
    if plateau and plateau.get("samples"):
        last = plateau["samples"][-1]
        rows.append(
            [
                f"cache within CACHE_MAX_ENTRIES={plateau['cache_max_entries']}",
                f"max {plateau['max_cache_entries_seen']} entries after {last['distinct_queries']:,} distinct "
                f"queries; RSS {plateau['rss_second_half_min_mb']}–{plateau['rss_second_half_max_mb']} MB "
                "over the second half",
                "yes" if plateau["max_cache_entries_seen"] <= plateau["cache_max_entries"] else "no",
            ]
        )
    return rows


def _met(ok: bool | None) -> str:
    return "–" if ok is None else "yes" if ok else "no"


def _within(a: float | None, b: float | None, factor: float) -> bool | None:
    return None if a is None or b is None or b <= 0 else a <= factor * b


def figures(results: dict[str, Any]) -> list[list[str]]:
    """Rows of | figure | target | bot | floor | ratio | met |: each figure of issue 16 beside its target."""
    rows: list[list[str]] = []
    latency = results.get("latency") or {}
    bot_mix = (latency.get("bot") or {}).get("mix")
    floor_mix = (latency.get("floor") or {}).get("mix")
    if bot_mix and floor_mix:
        where = f"mixed @ {MIX_RATE:g}/s, {bot_mix['duration']:g} s"
        classes = [(k, bot_mix["by_kind"].get(k), floor_mix["by_kind"].get(k)) for k in ("uncached", "cached", "press")]
        for name, b, f in [*classes, ("overall", bot_mix, floor_mix)]:
            if not b or not f:
                continue
            label = KIND_NAMES.get(name, name)
            if name in ("cached", "press"):
                rows.append(
                    [
                        f"first response p50, {label} ({where}; ms)",
                        "≤ 1.2× floor",
                        _fmt(b["ack_p50_ms"]),
                        _fmt(f["ack_p50_ms"]),
                        _ratio2(b["ack_p50_ms"], f["ack_p50_ms"]),
                        _met(_within(b["ack_p50_ms"], f["ack_p50_ms"], 1.2)),
                    ]
                )
            rows.append(
                [
                    f"first response p99, {label} ({where}; ms)",
                    "≤ 1.3× floor",
                    _fmt(b["ack_p99_ms"]),
                    _fmt(f["ack_p99_ms"]),
                    _ratio2(b["ack_p99_ms"], f["ack_p99_ms"]),
                    _met(_within(b["ack_p99_ms"], f["ack_p99_ms"], 1.3)),
                ]
            )
    bot_tp = (latency.get("bot") or {}).get("throughput")
    floor_tp = (latency.get("floor") or {}).get("throughput")
    if bot_tp and floor_tp:
        b_rate, f_rate = bot_tp["max_sustained_rate"], floor_tp["max_sustained_rate"]
        rows.append(
            [
                "highest sustained mixed rate, p99 < 1 s (interactions/s)",
                "≥ 0.8× floor",
                _rate(bot_tp),
                _rate(floor_tp),
                _ratio2(b_rate, f_rate),
                _met(None if not f_rate else b_rate >= 0.8 * f_rate),
            ]
        )
    footprint = (results.get("memory") or {}).get("chunk_footprint")
    if footprint:
        rss, floor_rss = footprint.get("rss_bytes_per_new_search"), footprint.get("floor_rss_bytes_per_new_search")
        beyond = footprint.get("rss_bytes_per_new_search_beyond_floor")
        rows.append(
            [
                f"RSS growth per new search beyond the floor's, over {footprint.get('searches')} searches (B)",
                "≤ 5 KB",
                f"{_fmt(beyond, 0)} ({_fmt(rss, 0)} in all)",
                _fmt(floor_rss, 0),
                "–",
                _met(None if beyond is None else beyond <= 5120),
            ]
        )
        redis_bytes = footprint.get("redis_memory_usage_bytes")
        rows.append(
            [
                f"Redis MEMORY USAGE of one cached 80-photo chunk (B; {footprint['encoded_bytes']:,} B encoded)",
                "≤ 5 KB",
                _fmt(redis_bytes, 0),
                "–",
                "–",
                _met(None if redis_bytes is None else redis_bytes <= 5120),
            ]
        )
    startup = results.get("startup") or {}
    guilds = startup.get("guilds")
    if guilds:
        growth = guilds["bot_rss_mb"] - guilds["bot_rss_one_mb"]
        rows.append(
            [
                f"RSS after READY with {guilds['count']:,} servers vs 1 (MB)",
                "≤ +5 MB",
                f"+{growth:.1f} ({guilds['bot_rss_one_mb']:g} → {guilds['bot_rss_mb']:g})",
                f"+{guilds['floor_rss_mb'] - guilds['floor_rss_one_mb']:.1f}",
                "–",
                _met(growth <= 5),
            ]
        )
    if "bot_median_s" in startup:
        rows.append(
            [
                "start-up: spawn → READY, median (s)",
                "≤ 1.1× floor",
                _fmt(startup["bot_median_s"], 2),
                _fmt(startup["floor_median_s"], 2),
                _ratio2(startup["bot_median_s"], startup["floor_median_s"]),
                _met(_within(startup["bot_median_s"], startup["floor_median_s"], 1.1)),
            ]
        )
    return rows


def _ratio2(a: float | None, b: float | None) -> str:
    if a is None or b is None or b <= 0:
        return "–"
    return f"{a / b:.2f}×"


def gap(results: dict[str, Any]) -> list[list[str]]:
    """Rows of | window | plain floor | floor | bot | (CPU ms per interaction and first-response p50)."""
    latency = results.get("latency") or {}
    runs = {t: (latency.get(t) or {}).get("runs", []) for t in ("floor", "plain", "bot")}
    rows: list[list[str]] = []
    for kind in ("cached", "press"):
        for rate in sorted({r["rate"] for r in runs["bot"]}):
            maybe = [
                _find(runs["plain"], PLAIN_KIND[kind], rate),
                _find(runs["floor"], FLOOR_KIND[kind], rate),
                _find(runs["bot"], kind, rate),
            ]
            found = [f for f in maybe if f is not None]
            if len(found) < len(maybe):
                continue
            cells = [
                f"{_fmt(f['target_cpu_ms_per_interaction'], 2)} ms · p50 {_fmt(f['ack_p50_ms'])} ms" for f in found
            ]
            rows.append([f"{KIND_NAMES[kind]} @ {rate:g}/s", *cells])
    return rows


def profile_rows(results: dict[str, Any]) -> list[list[str]]:
    """Rows of | target, kind | profiled CPU ms | top areas | bot code hot spots |."""
    profile = results.get("profile") or {}
    rows: list[list[str]] = []
    for target in ("bot", "floor"):
        for kind, data in (profile.get(target) or {}).items():
            areas = ", ".join(f"{k} {v:g} %" for k, v in list(data["by_area_pct"].items())[:5])
            watched = data.get("watched", {})
            spots = ", ".join(f"{name} {watched[name]['share_pct']:g} %" for name in HOT_SPOTS if name in watched)
            rows.append(
                [
                    f"{target}, {KIND_NAMES.get(kind, kind)}",
                    _fmt(data["profiled_ms_per_interaction"], 2),
                    areas,
                    spots or "–",
                ]
            )
    return rows


def detail(results: dict[str, Any]) -> list[list[str]]:
    """One row per open-loop window."""
    rows: list[list[str]] = []
    latency = results.get("latency") or {}
    for target in ("bot", "floor", "plain"):
        section = latency.get(target) or {}
        mix = [section["mix"]] if section.get("mix") else []
        windows = [*section.get("runs", []), *mix, *(section.get("throughput") or {}).get("steps", [])]
        for r in windows:
            rows.append(
                [
                    target,
                    KIND_NAMES.get(r["kind"], r["kind"]),
                    f"{r['rate']:g}",
                    f"{r['achieved_rate']:g}",
                    str(r["sent"]),
                    f"{_fmt(r['ack_p50_ms'])} / {_fmt(r['ack_p99_ms'])} / {_fmt(r['ack_max_ms'])}",
                    f"{_fmt(r['final_p50_ms'])} / {_fmt(r['final_p99_ms'])}",
                    f"{r['late']} / {r['not_ok']} / {r['deferred']}",
                    _fmt(r["target_cpu_ms_per_interaction"], 2),
                    f"{r['target_cpu_pct']:g} / {r['rig_cpu_pct']:g} / {r['other_cpu_pct']:g}",
                    _fmt(r["generator_lag_p99_ms"]),
                    "pass" if r["passed"] else "FAIL",
                ]
            )
    return rows


def markdown_table(header: list[str], rows: list[list[str]]) -> str:
    lines = ["| " + " | ".join(header) + " |", "|" + "|".join("---" for _ in header) + "|"]
    lines += ["| " + " | ".join(row) + " |" for row in rows]
    return "\n".join(lines)


def render(results: dict[str, Any]) -> str:
    """table.md: the headline, the targets, the per-window detail, and the notes."""
    machine = results.get("machine", {})
    parts = [
        f"# pexbot benchmarks ({results.get('size') or ('quick' if results.get('quick') else 'full')} run)",
        "",
        f"`{results.get('command', 'python -m benchmarks')}` on {machine.get('nproc')} × {machine.get('cpu_model')}, "
        f"Python {machine.get('python')}, discord.py {machine.get('discord.py')}, aiohttp {machine.get('aiohttp')}; "
        f"{results.get('finished_at', '')}, {results.get('wall_s', '?')} s.",
        "",
        "## Figures against their targets (one run)",
        "",
        markdown_table(["figure", "target", "bot", "floor", "ratio", "met"], figures(results)),
        "",
        markdown_table(["metric", "bot", "floor", "ratio"], headline(results)),
        "",
        "## Targets",
        "",
        markdown_table(["target", "measured", "met"], targets(results)),
        "",
        "## Where the gap to the floor goes",
        "",
        "CPU per interaction in the serving process (and first-response p50). The 'plain floor' answers "
        "'ok' with one button; the floor answers with a fixed message of the bot's shape (embed + 7 buttons + "
        "link, built once): floor − plain is what discord.py spends on that shape; bot − floor is the bot's own work.",
        "",
        markdown_table(["window", "plain floor", "floor", "bot"], gap(results)),
        "",
        "Steps of the bot's own path timed directly (µs, real time, warm, in the benchmark process): "
        + "; ".join(
            f"{k} {v:g}"
            for k, v in ((results.get("profile") or {}).get("micro") or {}).items()
            if k.startswith(("bot:", "discord.py:"))
        ),
        "",
        "## Profile (cProfile in the serving process; epoll wait and socket send left out)",
        "",
        markdown_table(
            ["process, kind", "profiled ms / interaction", "by area", "bot hot spots (share, cumulative)"],
            profile_rows(results),
        ),
        "",
        "Other micro-benchmarks (µs per call unless bytes, best of 5, in the benchmark process): "
        + "; ".join(
            f"{k} {v:g}"
            for k, v in ((results.get("profile") or {}).get("micro") or {}).items()
            if not k.startswith(("bot:", "discord.py:"))
        ),
        "",
        "## Every window",
        "",
        markdown_table(
            [
                "target",
                "kind",
                "offered/s",
                "sent/s",
                "n",
                "first response p50 / p99 / max (ms)",
                "final p50 / p99 (ms)",
                "late / not ok / deferred",
                "CPU ms per interaction",
                "CPU % target / rig / other",
                "generator lag p99 (ms)",
                "",
            ],
            detail(results),
        ),
        "",
        "## Notes",
        "",
        *[f"- {note}" for note in results.get("notes", [])],
    ]
    errors = results.get("errors") or {}
    if errors:
        parts += ["", "## Sections that failed", ""]
        parts += [f"- {name}: {error.splitlines()[-1] if error else ''}" for name, error in errors.items()]
    return "\n".join(parts) + "\n"


def plot(results: dict[str, Any], path: Path) -> bool:
    """response_time.png: first-response p50/p99 against offered load, bot and floor. False if nothing to draw."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    latency = results.get("latency") or {}
    if not latency.get("bot"):
        return False
    fig, (left, right) = plt.subplots(1, 2, figsize=(14, 5.4), gridspec_kw={"width_ratios": [1, 1.25]})
    colours = {"bot": "#05a081", "floor": "#555555", "plain": "#8a7fc0"}
    for target in ("bot", "floor"):
        steps = ((latency.get(target) or {}).get("throughput") or {}).get("steps", [])
        if not steps:
            continue
        rates = [s["rate"] for s in steps]
        for key, style, label in (("ack_p50_ms", "-", "p50"), ("ack_p99_ms", "--", "p99")):
            values = [s[key] if s[key] is not None else float("nan") for s in steps]
            left.plot(rates, values, style, marker="o", color=colours[target], label=f"{target} {label}")
        for s in steps:
            if not s["passed"]:
                left.annotate("fail", (s["rate"], s["ack_p99_ms"] or 1), color=colours[target], fontsize=8)
    left.axhline(1000, color="#cc8800", linewidth=0.8, linestyle=":")
    left.axhline(3000, color="#cc0000", linewidth=0.8, linestyle=":")
    left.text(left.get_xlim()[0], 1050, " p99 limit 1 s", color="#cc8800", fontsize=8)
    left.text(left.get_xlim()[0], 3150, " Discord deadline 3 s", color="#cc0000", fontsize=8)
    left.set_yscale("log")
    left.set_xlabel("offered load, mixed traffic (interactions/s)")
    left.set_ylabel("dispatch → first response (ms, log)")
    left.set_title("Throughput steps: " + ", ".join(f"{w:.0%} {k}" for k, w in MIX))
    left.grid(True, which="both", alpha=0.3)
    left.legend(fontsize=8)

    bot_runs = (latency.get("bot") or {}).get("runs", [])
    floor_runs = (latency.get("floor") or {}).get("runs", [])
    plain_runs = (latency.get("plain") or {}).get("runs", [])
    labels: list[str] = []
    p50s: list[float] = []
    p99s: list[float] = []
    bar_colours: list[str] = []
    for kind in ("uncached", "cached", "press"):
        for rate in sorted({r["rate"] for r in bot_runs}):
            for target, runs, k in (
                ("bot", bot_runs, kind),
                ("floor", floor_runs, FLOOR_KIND[kind]),
                ("plain", plain_runs, PLAIN_KIND[kind]),
            ):
                r = _find(runs, k, rate)
                if r is None or (target == "plain" and kind == "cached"):
                    continue
                labels.append(f"{SHORT[k]}\n{rate:g}/s")
                p50s.append(r["ack_p50_ms"] or 0)
                p99s.append(r["ack_p99_ms"] or 0)
                bar_colours.append(colours[target])
    xs = range(len(labels))
    right.bar([x - 0.2 for x in xs], p50s, width=0.4, color=bar_colours, label="p50")
    right.bar([x + 0.2 for x in xs], p99s, width=0.4, color=bar_colours, alpha=0.45, label="p99")
    right.set_xticks(list(xs))
    right.set_xticklabels(labels, fontsize=7)
    right.set_yscale("log")
    right.set_ylabel("dispatch → first response (ms, log)")
    right.set_title("Open-loop windows by kind and offered rate (solid p50, pale p99)")
    from matplotlib.patches import Patch

    right.legend(
        handles=[Patch(color=c, label=t if t != "plain" else "plain floor ('ok')") for t, c in colours.items()],
        fontsize=8,
    )
    right.grid(True, axis="y", which="both", alpha=0.3)
    fig.suptitle("pexbot vs a minimal discord.py photo bot (the floor) on the loopback rig", fontsize=11)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return True
