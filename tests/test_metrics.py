"""Metrics: what an operator scrapes from /metrics and /healthz, and reads in the five-minute summary."""

from __future__ import annotations

import asyncio
import logging
import math
import socket
from collections.abc import AsyncIterator
from types import SimpleNamespace
from typing import Any

import aiohttp
import pytest
from prometheus_client import generate_latest
from prometheus_client.parser import text_string_to_metric_families

from bot.errors import BadInput, PexelsUnavailable, QuotaExhausted
from bot.metrics import Metrics, MetricsServerError, interaction_kind, observe_answer, observe_refusal
from tests.conftest import ErrorGuard, RigFactory
from tests.harness import Rig
from tests.redis_server import free_port

Samples = dict[tuple[str, tuple[tuple[str, str], ...]], float]


async def get(url: str) -> tuple[int, str, str]:
    """GET a loopback URL: (status, content type, body)."""
    async with aiohttp.ClientSession() as session, session.get(url) as resp:
        return resp.status, resp.headers.get("Content-Type", ""), await resp.text()


def parse(exposition: str) -> Samples:
    """Every sample in a Prometheus text exposition, keyed by name and sorted labels."""
    samples: Samples = {}
    for family in text_string_to_metric_families(exposition):
        for sample in family.samples:
            samples[(sample.name, tuple(sorted(sample.labels.items())))] = sample.value
    return samples


async def scrape(port: int) -> Samples:
    """Every sample /metrics serves."""
    status, content_type, body = await get(f"http://127.0.0.1:{port}/metrics")
    assert status == 200 and content_type.startswith("text/plain"), (status, content_type)
    return parse(body)


def value(samples: Samples, name: str, **labels: str) -> float:
    """One sample's value (0 when the series does not exist yet)."""
    return samples.get((name, tuple(sorted(labels.items()))), 0.0)


def interactions(samples: Samples) -> dict[tuple[str, str], float]:
    """pexbot_interactions_total as {(kind, outcome): count}."""
    found = {}
    for (name, labels), count in samples.items():
        if name == "pexbot_interactions_total":
            found[dict(labels)["kind"], dict(labels)["outcome"]] = count
    return found


@pytest.fixture
async def metrics_rig(make_rig: RigFactory) -> tuple[Rig, int]:
    """The bot serving metrics on a free loopback port."""
    port = free_port()
    rig = await make_rig(METRICS_PORT=str(port), METRICS_HOST="127.0.0.1")
    return rig, port


async def test_metrics_count_what_users_did(metrics_rig: tuple[Rig, int], errors: ErrorGuard) -> None:
    """Searches, a press, a refusal, a Pexels outage and /about show up with the right labels and counts."""
    rig, port = metrics_rig
    user = rig.user(1)
    first = await rig.photo("lighthouse", user=user)
    await rig.press(first.messages[0], "▶", user=user)
    await rig.photo("lighthouse", user=rig.user(2), color="mauve")
    rig.pexels.fail_next(500, count=3, body="<html>502 Bad Gateway</html>", content_type="text/html")
    down = await rig.photo("volcano", user=rig.user(3))
    assert "isn't answering" in down.ephemeral_reply_text
    await rig.command("about", user=user)

    samples = await scrape(port)
    assert interactions(samples) == {
        ("photo", "ok"): 1,
        ("button:next", "ok"): 1,
        ("photo", "refused"): 1,
        ("photo", "pexels-error"): 1,
        ("about", "ok"): 1,
    }
    assert value(samples, "pexbot_response_seconds_count") == 5
    assert value(samples, "pexbot_response_seconds_bucket", le="3.0") == 5  # all inside Discord's 3 s
    assert value(samples, "pexbot_pexels_requests_total", endpoint="/v1/search", status="200") == 1
    assert value(samples, "pexbot_pexels_requests_total", endpoint="/v1/search", status="500") == 3
    assert value(samples, "pexbot_pexels_quota_remaining") == rig.pexels.remaining
    assert value(samples, "pexbot_cache_requests_total", result="miss") == 2  # lighthouse, then volcano
    assert value(samples, "pexbot_cache_requests_total", result="hit") == 1  # the press on lighthouse

    line = rig.bot.metrics.summary()
    assert "5 interactions (ok 3, refused 1, pexels-error 1)" in line
    assert "4 Pexels requests (200: 1, 500: 3)" in line
    assert f"quota left {rig.pexels.remaining:,}" in line
    assert "cache 1 hits, 2 misses (33% hits)" in line


async def test_a_deferred_search_counts_once_when_it_ends(metrics_rig: tuple[Rig, int]) -> None:
    """A slow Pexels: the defer is the first response (timed), the search counts as ok when it is posted."""
    rig, port = metrics_rig
    rig.pexels.slow_next(1.6)
    record = await rig.photo("thunderstorm", user=rig.user(1))
    assert record.response_type == 5
    samples = await scrape(port)
    assert interactions(samples) == {("photo", "ok"): 1}
    assert value(samples, "pexbot_response_seconds_count") == 1
    assert value(samples, "pexbot_response_seconds_bucket", le="1.0") == 0  # the defer came after 1.2 s
    assert value(samples, "pexbot_response_seconds_bucket", le="1.5") == 1


async def test_the_quota_guard_and_a_stranger_are_counted(make_rig: RigFactory) -> None:
    """Refusals by the quota guard and by the owner check get their own outcomes."""
    port = free_port()
    rig = await make_rig(METRICS_PORT=str(port), METRICS_HOST="127.0.0.1", PEXELS_HOURLY_LIMIT="1")
    record = await rig.photo("harbour", user=rig.user(1))
    await rig.press(record.messages[0], "▶", user=rig.user(2))
    await rig.photo("canyon", user=rig.user(1))
    assert interactions(await scrape(port)) == {
        ("photo", "ok"): 1,
        ("button:next", "refused"): 1,
        ("photo", "quota"): 1,
    }


async def test_healthz_while_connected(metrics_rig: tuple[Rig, int]) -> None:
    """/healthz answers 200 while the gateway is connected; the bot's own predicate agrees."""
    rig, port = metrics_rig
    status, _, body = await get(f"http://127.0.0.1:{port}/healthz")
    assert (status, body) == (200, "ok: connected to the Discord gateway\n")
    assert rig.bot.connected()
    await rig.bot.close()
    assert not rig.bot.connected()
    with pytest.raises(aiohttp.ClientConnectionError):
        await get(f"http://127.0.0.1:{port}/healthz")  # closing the bot stops its server


@pytest.fixture
async def served() -> AsyncIterator[tuple[Metrics, int, list[bool]]]:
    """A Metrics serving on a free port, with a health flag the test sets."""
    metrics, port, up = Metrics(), free_port(), [False]
    await metrics.start(host="127.0.0.1", port=port, healthy=lambda: up[0])
    try:
        yield metrics, port, up
    finally:
        await metrics.stop()


async def test_healthz_follows_the_gateway(served: tuple[Metrics, int, list[bool]]) -> None:
    _, port, up = served
    status, _, body = await get(f"http://127.0.0.1:{port}/healthz")
    assert (status, body) == (503, "not connected to the Discord gateway\n")
    up[0] = True
    assert (await get(f"http://127.0.0.1:{port}/healthz"))[0] == 200
    assert (await get(f"http://127.0.0.1:{port}/nothing"))[0] == 404


async def test_a_port_in_use_is_a_clear_error() -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        metrics = Metrics()
        with pytest.raises(MetricsServerError) as info:
            await metrics.start(host="127.0.0.1", port=port, healthy=lambda: True)
        await metrics.stop()
    assert f"127.0.0.1:{port}" in str(info.value) and "METRICS_PORT" in str(info.value)


async def test_two_bots_in_one_process_keep_their_own_figures(
    served: tuple[Metrics, int, list[bool]],
) -> None:
    mine, port, _ = served
    other = Metrics()
    other.interaction("photo", "ok")
    mine.interaction("video", "ok")
    assert interactions(await scrape(port)) == {("video", "ok"): 1}


async def test_the_summary_is_logged_every_few_minutes(caplog: pytest.LogCaptureFixture) -> None:
    metrics = Metrics(summary_every=0.05)
    metrics.interaction("photo", "ok")
    metrics.first_response(0.02)
    caplog.set_level(logging.INFO, logger="bot.metrics")
    await metrics.start(host="127.0.0.1", port=None, healthy=lambda: True)
    try:
        for _ in range(100):
            if any("Since start" in r.getMessage() for r in caplog.records):
                break
            await asyncio.sleep(0.02)
    finally:
        await metrics.stop()
    lines = [r.getMessage() for r in caplog.records if "Since start" in r.getMessage()]
    assert lines, "no summary was logged"
    assert lines[0] == (
        "Since start: 1 interactions (ok 1); first response p50 <= 0.025 s, p95 <= 0.025 s, p99 <= 0.025 s; "
        "0 Pexels requests, quota left unknown; cache 0 hits, 0 misses"
    )
    assert metrics.port is None  # no port, no server


def fake_interaction(metrics: Metrics | None, kind: int, **data: Any) -> Any:
    """The parts of a discord.Interaction that the metrics read."""
    client = SimpleNamespace(metrics=metrics)
    return SimpleNamespace(id=1234, type=SimpleNamespace(value=kind), data=data, extras={}, client=client)


@pytest.mark.parametrize(
    ("kind", "data", "label"),
    [
        (2, {"name": "photo"}, "photo"),
        (2, {"name": "Find photos"}, "Find photos"),
        (4, {"name": "photo"}, "photo:autocomplete"),
        (3, {"custom_id": "px:n:1:0:p.-.-.-.-:0123456789ab"}, "button:next"),
        (3, {"custom_id": "px:z:1"}, "button:other"),
        (3, {"custom_id": "pxk:1:en-US"}, "select:find-photos"),
        (3, {"custom_id": "something else entirely"}, "component:other"),
        (5, {"custom_id": "pxm:j:1:0:p.-.-.-.-:0123456789ab"}, "modal:jump"),
        (5, {"custom_id": "x"}, "modal:other"),
        (1, {}, "other"),
    ],
)
def test_interaction_kinds_are_bounded_labels(kind: int, data: dict[str, str], label: str) -> None:
    assert interaction_kind(fake_interaction(None, kind, **data)) == label


async def test_each_interaction_counts_once_and_unanswered_ones_expire() -> None:
    now = [100.0]
    metrics = Metrics(clock=lambda: now[0])
    refused = fake_interaction(metrics, 2, name="photo")
    metrics.received(refused)
    observe_refusal(refused, bug=False)
    observe_refusal(refused, bug=True)  # a second report of the same interaction changes nothing
    failing = fake_interaction(metrics, 2, name="video")
    metrics.received(failing)

    async def boom() -> None:
        raise PexelsUnavailable("HTTP 502")

    with pytest.raises(PexelsUnavailable):
        await observe_answer(failing, boom())
    ignored = fake_interaction(metrics, 3, custom_id="px:n:1")
    ignored.id = 99
    metrics.received(ignored)
    now[0] += 11
    metrics.received(fake_interaction(metrics, 2, name="about"))  # arriving later expires the old ones
    assert interactions(parse(generate_latest(metrics.registry).decode())) == {
        ("photo", "refused"): 1,
        ("video", "pexels-error"): 1,
        ("button:next", "unanswered"): 1,
    }


@pytest.mark.parametrize(
    ("error", "outcome"),
    [(BadInput("x"), "refused"), (QuotaExhausted(0, "hour"), "quota"), (ValueError(), "error")],
)
async def test_the_outcome_of_an_answer_that_failed(error: Exception, outcome: str) -> None:
    metrics = Metrics()
    interaction = fake_interaction(metrics, 2, name="photo")
    metrics.received(interaction)

    async def fail() -> None:
        raise error

    with pytest.raises(type(error)):
        await observe_answer(interaction, fail())
    assert metrics.summary().startswith(f"Since start: 1 interactions ({outcome} 1)")


def test_the_quota_is_unknown_until_pexels_says() -> None:
    metrics = Metrics()
    assert math.isnan(value(parse(generate_latest(metrics.registry).decode()), "pexbot_pexels_quota_remaining"))
    metrics.quota_remaining(19_876)
    assert "quota left 19,876" in metrics.summary()
