"""Quota: Pexels requests per 100 page views under a realistic mix, with the bot in-process (counts, not time).

Queries follow a Zipf law over a fixed vocabulary; each search is followed by a geometric number of ▶
presses on its result by the searcher. Every page view (a search's first result or a press that shows
a result) is run to completion before the next, so each Pexels request is attributed to the view that
caused it. The naive bot asks Pexels once per page view: 100 per 100.
"""

from __future__ import annotations

import asyncio
import itertools
import random
import time
from typing import Any

from benchmarks.rig import RELAXED, problems
from bot.vocab import CHUNK_SIZE, MAX_RESULTS
from tests.fakes.discord import make_user
from tests.fakes.pexels import FakePexels
from tests.harness import guarding_errors, loopback

VOCABULARY = 2000
ZIPF_S = 1.1
MEAN_PRESSES = 5.0
USERS = 500


def zipf_weights(n: int, s: float) -> list[float]:
    """Cumulative weights of ranks 1..n under P(k) ∝ k^-s."""
    return list(itertools.accumulate(k**-s for k in range(1, n + 1)))


def geometric(rng: random.Random, mean: float) -> int:
    """A draw from {0, 1, 2, …} with the given mean (P(k) = (1-p)^k p, p = 1 / (1 + mean))."""
    p = 1 / (1 + mean)
    k = 0
    while rng.random() >= p and k < 10_000:
        k += 1
    return k


def expected_requests_per_100(sessions: int, cum: list[float], mean_presses: float = MEAN_PRESSES) -> float:
    """The model's expectation for `sessions` searches inside one cache lifetime (TTL 24 h, no eviction).

    One request per distinct query (the first page holds 80 results; geometric browsing almost never
    leaves it), so E[requests] = Σ_k 1 - (1 - p_k)^N over the vocabulary, and page views = N (1 + mean).
    """
    total = cum[-1]
    previous = 0.0
    distinct = 0.0
    for c in cum:
        p = (c - previous) / total
        previous = c
        distinct += 1 - (1 - p) ** sessions
    return 100 * distinct / (sessions * (1 + mean_presses))


def sessions_for_target(cum: list[float], target: float = 2.0) -> int:
    """The fewest searches per cache lifetime for which the expected rate is at most `target` per 100 views."""
    lo, hi = 1, 10_000_000
    while lo < hi:
        mid = (lo + hi) // 2
        if expected_requests_per_100(mid, cum) <= target:
            hi = mid
        else:
            lo = mid + 1
    return lo


async def run(sessions: int, *, seed: int = 7, checkpoints: int = 10, users: int = USERS) -> dict[str, Any]:
    """Run `sessions` search sessions through the real bot; count Pexels requests per kind of page view."""
    rng = random.Random(seed)
    cum = zipf_weights(VOCABULARY, ZIPF_S)
    vocabulary = [f"topic {k}" for k in range(1, VOCABULARY + 1)]
    people = [make_user(n) for n in range(1, users + 1)]
    views = searches = presses = 0
    requests = {"search": 0, "press_first_80": 0, "press_beyond_80": 0}
    press_views = {"first_80": 0, "beyond_80": 0}
    search_hits = 0
    seen: set[str] = set()
    failures = 0
    curve: list[dict[str, Any]] = []
    started = time.monotonic()
    every = max(1, sessions // checkpoints)
    pexels_fake = FakePexels(hourly_limit=10**9, monthly_limit=10**9)
    with guarding_errors(asyncio.get_running_loop()) as guard:
        async with loopback(RELAXED, pexels=pexels_fake) as rig:
            discord_fake, pexels = rig.discord, rig.pexels
            for n in range(sessions):
                query = rng.choices(vocabulary, cum_weights=cum)[0]
                user = people[n % users]
                seen.add(query)
                before = pexels.count()
                rec = await discord_fake.slash("photo", {"query": query}, user=user)
                await rec.wait_done(timeout=15)
                spent = pexels.count() - before
                requests["search"] += spent
                searches += 1
                views += 1
                search_hits += spent == 0
                message = rec.original
                if message is None or not message.embeds:
                    failures += 1
                    continue
                for index in range(1, min(geometric(rng, MEAN_PRESSES), MAX_RESULTS - 1) + 1):
                    before = pexels.count()
                    press = await discord_fake.click(message.id, "▶", user=user)
                    await press.wait_done(timeout=15)
                    spent = pexels.count() - before
                    where = "first_80" if index < CHUNK_SIZE else "beyond_80"
                    press_views[where] += 1
                    requests[f"press_{where}"] += spent
                    presses += 1
                    views += 1
                    if press.errors or any(m.ephemeral for m in press.messages):
                        failures += 1
                if (n + 1) % every == 0:
                    total = sum(requests.values())
                    curve.append(
                        {"sessions": n + 1, "page_views": views, "requests": total, "per_100": 100 * total / views}
                    )
    for line in guard.unexpected():
        problems.add(f"quota: the bot logged {line}")
    if failures:
        problems.add(f"quota: {failures} of {views} page views were not answered with a result")
    total = sum(requests.values())
    half = next((c for c in curve if c["sessions"] >= sessions // 2), None)
    second_half = None
    if half is not None and views > half["page_views"]:
        second_half = 100 * (total - half["requests"]) / (views - half["page_views"])
    return {
        "sessions": sessions,
        "vocabulary": VOCABULARY,
        "zipf_s": ZIPF_S,
        "mean_presses": MEAN_PRESSES,
        "distinct_queries": len(seen),
        "page_views": views,
        "searches": searches,
        "presses": presses,
        "search_cache_hit_rate": round(search_hits / searches, 3) if searches else None,
        "pexels_requests": total,
        "requests_by_view": requests,
        "press_views": press_views,
        "requests_per_100_views": round(100 * total / views, 2) if views else None,
        "requests_per_100_views_second_half": None if second_half is None else round(second_half, 2),
        "naive_requests_per_100_views": 100.0,
        "requests_inside_first_80_after_search": requests["press_first_80"],
        "failures": failures,
        "curve": [{**c, "per_100": round(c["per_100"], 2)} for c in curve],
        "model_expected_per_100": {
            str(n): round(expected_requests_per_100(n, cum), 2) for n in (sessions, 1000, 5000, 10_000, 50_000)
        },
        "model_sessions_per_day_for_2_per_100": sessions_for_target(cum),
        "wall_s": round(time.monotonic() - started, 1),
    }
