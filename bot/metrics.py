"""What an operator can scrape or read: Prometheus metrics, a health check, and a summary logged every 5 minutes.

One `Metrics` per bot, with its own registry (several bots can share a process, as in the tests). The
figures come from three places: the bot notes each interaction as it arrives (`received`) and how its
answer ends (`observe_answer`, `observe_refusal`); aiohttp traces on the bot's Discord and Pexels sessions
see every first response and every Pexels request, whichever code made it; the cache's counts are read
when scraped. `/healthz` answers 200 while every gateway connection of this process is up.
"""

from __future__ import annotations

import asyncio
import logging
import math
import os
import re
import time
from collections import OrderedDict
from collections.abc import Awaitable, Callable, Iterator
from types import SimpleNamespace
from typing import TYPE_CHECKING, Any, TypeVar

import aiohttp
import yarl
from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, Counter, Gauge, Histogram, generate_latest
from prometheus_client.core import CounterMetricFamily, Metric

from bot.errors import BotError, PexelsError, QuotaExhausted

if TYPE_CHECKING:
    from aiohttp import web

log = logging.getLogger(__name__)

T = TypeVar("T")

SUMMARY_EVERY = 300.0
"""Seconds between two summary lines in the log (worker dynos cannot be scraped)."""
UNANSWERED_AFTER = 10.0
"""Seconds after which an interaction this process never answered counts as `unanswered` (Discord allows 3)."""
MAX_PENDING = 10_000
RESPONSE_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 1.5, 2.0, 2.5, 3.0, 5.0, 10.0)
OUTCOMES = ("ok", "refused", "quota", "pexels-error", "error", "cancelled", "unanswered")

_KIND = "pexbot.kind"
_ANSWERING = "pexbot.answering"
_COUNTED = "pexbot.counted"
_CALLBACK = re.compile(r"/interactions/(?P<id>[0-9]{1,20})/[^/]+/callback$")
_ENDPOINT = re.compile(r"/(?:v1|videos)/[a-z]+")
# The result buttons' custom_ids are `px:<action>:…` (bot/ui.py), the jump modal's `pxm:j:…`, the menu's `pxk:…`.
_BUTTONS = {
    "f": "first",
    "p": "previous",
    "n": "next",
    "l": "last",
    "r": "random",
    "d": "delete",
    "s": "post",
    "j": "jump",
}


class MetricsServerError(Exception):
    """The metrics server could not listen where METRICS_HOST and METRICS_PORT say; the message says what to do."""


def interaction_kind(interaction: Any) -> str:
    """A short, bounded label for what the user did: `photo`, `Find photos`, `button:next`, `modal:jump`."""
    data = interaction.data if isinstance(interaction.data, dict) else {}
    kind = getattr(interaction.type, "value", 0)
    if kind in (2, 4):  # an application command, or autocomplete for one of its options
        name = str(data.get("name", "?"))[:32]
        return name if kind == 2 else f"{name}:autocomplete"
    custom_id = str(data.get("custom_id", ""))
    if kind == 3:
        if custom_id.startswith("px:"):
            return "button:" + _BUTTONS.get(custom_id[3:4], "other")
        return "select:find-photos" if custom_id.startswith("pxk:") else "component:other"
    if kind == 5:
        return "modal:jump" if custom_id.startswith("pxm:j:") else "modal:other"
    return "other"


def outcome_of(error: BaseException) -> str:
    """The outcome label for an answer that ended in `error`."""
    if isinstance(error, QuotaExhausted):
        return "quota"
    if isinstance(error, PexelsError):
        return "pexels-error"
    if isinstance(error, BotError):
        return "refused"
    if isinstance(error, asyncio.CancelledError):
        return "cancelled"
    return "error"


def _metrics_of(interaction: Any) -> Metrics | None:
    metrics = getattr(getattr(interaction, "client", None), "metrics", None)
    return metrics if isinstance(metrics, Metrics) else None


def observe_answer(interaction: Any, work: Awaitable[T]) -> Awaitable[T]:
    """`work`, which answers `interaction`: its outcome is counted when it ends, not at a defer."""
    metrics = _metrics_of(interaction)
    if metrics is None:
        return work
    interaction.extras[_ANSWERING] = True
    return metrics._observe(interaction.extras, work)


def observe_ready(interaction: Any) -> None:
    """`interaction` is answered with a reply that was ready at once: counted now, as `observe_answer` counts
    when its work ends."""
    metrics = _metrics_of(interaction)
    if metrics is not None:
        interaction.extras[_ANSWERING] = True
        metrics._count(interaction.extras, "ok")


def observe_refusal(interaction: Any, *, bug: bool) -> None:
    """`interaction` is being refused (or, with `bug`, told something went wrong on our side)."""
    metrics = _metrics_of(interaction)
    if metrics is not None:
        metrics._count(interaction.extras, "error" if bug else "refused")


class _CacheCollector:
    """Reads the cache's hit and miss counts when scraped."""

    def __init__(self) -> None:
        self.source: Callable[[], tuple[int, int]] = lambda: (0, 0)

    def describe(self) -> list[Metric]:
        return [self._family()]

    def collect(self) -> Iterator[Metric]:
        hits, misses = self.source()
        family = self._family()
        family.add_metric(["hit"], hits)
        family.add_metric(["miss"], misses)
        yield family

    @staticmethod
    def _family() -> CounterMetricFamily:
        return CounterMetricFamily(
            "pexbot_cache_requests",
            "Result-page lookups served from the cache (hit) or fetched from Pexels (miss)",
            labels=["result"],
        )


class Metrics:
    """The bot's figures, as Prometheus metrics and as a periodic log line."""

    def __init__(self, *, summary_every: float = SUMMARY_EVERY, clock: Callable[[], float] = time.monotonic) -> None:
        self.registry = CollectorRegistry(auto_describe=True)
        self._interactions = Counter(
            "pexbot_interactions",
            "Interactions by what the user did (command, button, modal or menu) and how the answer ended",
            ["kind", "outcome"],
            registry=self.registry,
        )
        self._response = Histogram(
            "pexbot_response_seconds",
            "Seconds from receiving an interaction to its first response (a message, an update or a defer)",
            buckets=RESPONSE_BUCKETS,
            registry=self.registry,
        )
        self._pexels = Counter(
            "pexbot_pexels_requests",
            "HTTP requests to Pexels by endpoint and status (timeout or error when no answer came)",
            ["endpoint", "status"],
            registry=self.registry,
        )
        self._quota = Gauge(
            "pexbot_pexels_quota_remaining",
            "Requests left this period, as Pexels' last X-Ratelimit-Remaining said (NaN until then)",
            registry=self.registry,
        )
        self._quota.set(math.nan)
        self._cache = _CacheCollector()
        self.registry.register(self._cache)
        self._summary_every = summary_every
        self._clock = clock
        self._pending: OrderedDict[int, tuple[float, dict[Any, Any]]] = OrderedDict()
        self._runner: web.AppRunner | None = None
        self._summariser: asyncio.Task[None] | None = None
        self.port: int | None = None
        """The port /metrics is served on (None: not served)."""

    # ---- what the bot reports -----------------------------------------------------------------

    def received(self, interaction: Any) -> None:
        """An interaction arrived: note what it is and when, to time its first response."""
        interaction.extras[_KIND] = interaction_kind(interaction)
        self._expire()
        self._pending[int(interaction.id)] = (self._clock(), interaction.extras)

    def interaction(self, kind: str, outcome: str) -> None:
        """Count one interaction of `kind` that ended with `outcome`."""
        self._interactions.labels(kind, outcome).inc()

    def first_response(self, seconds: float) -> None:
        """Record how long an interaction waited for its first response."""
        self._response.observe(max(0.0, seconds))

    def pexels_request(self, endpoint: str, status: int | str) -> None:
        """Count one HTTP request to Pexels."""
        self._pexels.labels(endpoint, str(status)).inc()

    def quota_remaining(self, remaining: int) -> None:
        """Pexels said how many requests are left this period."""
        self._quota.set(remaining)

    def cache_counts(self, source: Callable[[], tuple[int, int]]) -> None:
        """Where to read the cache's (hits, misses) from when scraped."""
        self._cache.source = source

    def _count(self, extras: dict[Any, Any], outcome: str) -> None:
        """Count the interaction these extras belong to, once, whichever path reports it first."""
        if not extras.get(_COUNTED):
            extras[_COUNTED] = True
            self.interaction(str(extras.get(_KIND, "other")), outcome)

    async def _observe(self, extras: dict[Any, Any], work: Awaitable[T]) -> T:
        try:
            result = await work
        except BaseException as exc:
            self._count(extras, outcome_of(exc))
            raise
        self._count(extras, "ok")
        return result

    def _responded(self, interaction_id: int) -> None:
        """The first response to an interaction went out (seen on the wire)."""
        entry = self._pending.pop(interaction_id, None)
        if entry is None:
            return
        received, extras = entry
        self.first_response(self._clock() - received)
        if not extras.get(_ANSWERING):
            self._count(extras, "ok")  # answered directly (a menu, a modal, /about) unless refused already

    def _expire(self) -> None:
        """Forget interactions nobody here answered in time; they count as `unanswered`."""
        deadline = self._clock() - UNANSWERED_AFTER
        while self._pending:
            _, (received, extras) = next(iter(self._pending.items()))
            if received > deadline and len(self._pending) < MAX_PENDING:
                break
            self._pending.popitem(last=False)
            self._count(extras, "unanswered")

    # ---- the aiohttp traces -------------------------------------------------------------------

    def discord_trace(self) -> aiohttp.TraceConfig:
        """For discord.py's `http_trace`: sees each interaction's first response (its callback)."""

        async def on_end(_: aiohttp.ClientSession, __: SimpleNamespace, params: aiohttp.TraceRequestEndParams) -> None:
            if params.method == "POST":
                match = _CALLBACK.search(params.url.path)
                if match:
                    self._responded(int(match["id"]))

        trace = aiohttp.TraceConfig()
        trace.on_request_end.append(on_end)
        return trace

    def pexels_trace(self, base_url: str) -> aiohttp.TraceConfig:
        """For the Pexels session: counts every request by endpoint and status, and reads the quota left."""
        prefix = yarl.URL(base_url).path.rstrip("/")

        def endpoint(url: Any) -> str:
            path = str(url.path)
            path = path[len(prefix) :] if prefix and path.startswith(prefix) else path
            return path if _ENDPOINT.fullmatch(path) else "other"

        async def on_end(_: aiohttp.ClientSession, __: SimpleNamespace, params: aiohttp.TraceRequestEndParams) -> None:
            self.pexels_request(endpoint(params.url), params.response.status)
            remaining = params.response.headers.get("X-Ratelimit-Remaining", "")
            if remaining.isdigit():
                self.quota_remaining(int(remaining))

        async def on_error(
            _: aiohttp.ClientSession, __: SimpleNamespace, params: aiohttp.TraceRequestExceptionParams
        ) -> None:
            failure = "timeout" if isinstance(params.exception, TimeoutError) else "error"
            self.pexels_request(endpoint(params.url), failure)

        trace = aiohttp.TraceConfig()
        trace.on_request_end.append(on_end)
        trace.on_request_exception.append(on_error)
        return trace

    # ---- serving and summarising ----------------------------------------------------------------

    async def start(self, *, host: str, port: int | None, healthy: Callable[[], bool]) -> None:
        """Log a summary every few minutes; serve /metrics and /healthz when a port is given."""
        if self._summariser is None:
            self._summariser = asyncio.create_task(self._summarise_forever(), name="pexbot-metrics-summary")
        if port is None or self._runner is not None:
            return
        from aiohttp import web  # only with a metrics port: the web server adds ~25 ms to every start

        async def metrics(_: web.Request) -> web.Response:
            response = web.Response(body=generate_latest(self.registry))
            response.headers["Content-Type"] = CONTENT_TYPE_LATEST
            return response

        async def healthz(_: web.Request) -> web.Response:
            if healthy():
                return web.Response(text="ok: connected to the Discord gateway\n")
            return web.Response(status=503, text="not connected to the Discord gateway\n")

        app = web.Application()
        app.router.add_get("/metrics", metrics)
        app.router.add_get("/healthz", healthz)
        runner = web.AppRunner(app, access_log=None)
        await runner.setup()
        try:
            await web.TCPSite(runner, host, port).start()
        except OSError as exc:
            await runner.cleanup()
            raise MetricsServerError(
                f"cannot serve metrics on {host}:{port} ({os.strerror(exc.errno) if exc.errno else exc}); "
                "choose a free METRICS_PORT, or unset it to serve no metrics"
            ) from None
        self._runner, self.port = runner, port
        log.info("Serving metrics on http://%s:%d/metrics and health on /healthz", host, port)

    async def stop(self) -> None:
        """Stop serving and summarising (safe to call more than once)."""
        if self._summariser is not None:
            self._summariser.cancel()
            self._summariser = None
        if self._runner is not None:
            runner, self._runner, self.port = self._runner, None, None
            await runner.cleanup()

    async def _summarise_forever(self) -> None:
        while True:
            await asyncio.sleep(self._summary_every)
            self._expire()
            log.info("%s", self.summary())

    def summary(self) -> str:
        """One line with every figure /metrics has, totals since start."""
        interactions: dict[str, float] = {}
        pexels: dict[str, float] = {}
        cache: dict[str, float] = {}
        buckets: list[tuple[float, float]] = []
        quota = math.nan
        for family in self.registry.collect():
            for sample in family.samples:
                name, labels, value = sample.name, sample.labels, sample.value
                if name == "pexbot_interactions_total":
                    interactions[labels["outcome"]] = interactions.get(labels["outcome"], 0) + value
                elif name == "pexbot_pexels_requests_total":
                    pexels[labels["status"]] = pexels.get(labels["status"], 0) + value
                elif name == "pexbot_cache_requests_total":
                    cache[labels["result"]] = value
                elif name == "pexbot_response_seconds_bucket":
                    buckets.append((float(labels["le"]), value))
                elif name == "pexbot_pexels_quota_remaining":
                    quota = value
        total = int(sum(interactions.values()))
        by_outcome = ", ".join(f"{o} {int(interactions[o])}" for o in OUTCOMES if interactions.get(o))
        hits, misses = int(cache.get("hit", 0)), int(cache.get("miss", 0))
        hit_rate = f" ({hits / (hits + misses):.0%} hits)" if hits + misses else ""
        by_status = ", ".join(f"{s}: {int(n)}" for s, n in sorted(pexels.items()))
        return (
            f"Since start: {total} interactions{f' ({by_outcome})' if by_outcome else ''}; "
            f"first response {_quantiles(sorted(buckets))}; "
            f"{int(sum(pexels.values()))} Pexels requests{f' ({by_status})' if by_status else ''}, "
            f"quota left {'unknown' if math.isnan(quota) else f'{int(quota):,}'}; "
            f"cache {hits} hits, {misses} misses{hit_rate}"
        )


def _quantiles(buckets: list[tuple[float, float]]) -> str:
    """p50/p95/p99 as the histogram's bucket bounds, like `p50 <= 0.05 s`."""
    total = buckets[-1][1] if buckets else 0
    if not total:
        return "n/a (no interaction yet)"
    parts = []
    for q in (0.5, 0.95, 0.99):
        bound = next(le for le, count in buckets if count >= q * total)
        parts.append(f"p{round(q * 100)} <= {bound:g} s" if math.isfinite(bound) else f"p{round(q * 100)} > 10 s")
    return ", ".join(parts)
