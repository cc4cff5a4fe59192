"""PexelsClient against the loopback FakePexels over a real aiohttp session and a real MemoryQuota."""

from __future__ import annotations

import asyncio
import email.utils
import json
import logging
import math
import time
from collections.abc import AsyncIterator
from typing import Any, Literal

import aiohttp
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bot.config import Secret
from bot.errors import (
    PexelsAccessDisallowed,
    PexelsAuthError,
    PexelsBadResponse,
    PexelsEdgeBlocked,
    PexelsUnavailable,
    QuotaExhausted,
)
from bot.models import MAX_ALT, Photo, Video, item_title
from bot.pexels import MAX_BODY, MAX_PER_PAGE, USER_AGENT, PexelsClient, RawPage
from bot.state.base import HOUR, QuotaPolicy
from bot.state.memory import MemoryQuota
from bot.state.redis import RedisState
from tests.conftest_state import FakeClock, StateFactory
from tests.fakes.pexels import JAVASCRIPT_URL, LINK_INJECTION, NOT_A_URL, FakePexels
from tests.redis_server import RedisServer
from tests.test_models import expected_file

KEY = "sk-UNIQUE-pexels-key-7f3a9c"
"""Distinctive enough that finding it in a log line or a repr can only mean a leak."""


@pytest.fixture
async def fake() -> AsyncIterator[FakePexels]:
    async with FakePexels(api_key=KEY) as server:
        yield server


@pytest.fixture
async def session() -> AsyncIterator[aiohttp.ClientSession]:
    async with aiohttp.ClientSession() as http:
        yield http


@pytest.fixture
def quota() -> MemoryQuota:
    return MemoryQuota(QuotaPolicy(hour_limit=200, month_limit=20_000, reserve=0))


def make_client(
    session: aiohttp.ClientSession, fake: FakePexels, quota: MemoryQuota, *, key: str = KEY, **kwargs: Any
) -> PexelsClient:
    kwargs.setdefault("backoff", 0.01)
    return PexelsClient(session, base_url=fake.url, api_key=Secret(key), quota=quota, **kwargs)


@pytest.fixture
def client(session: aiohttp.ClientSession, fake: FakePexels, quota: MemoryQuota) -> PexelsClient:
    return make_client(session, fake, quota)


# ------------------------------------------------------------------------------------------------ the request


async def test_sends_the_key_exactly_and_an_explicit_user_agent(client: PexelsClient, fake: FakePexels) -> None:
    await client.search_photos("sunset")
    await client.search_videos("waves")
    await client.curated()
    assert [r.path for r in fake.requests] == ["/v1/search", "/videos/search", "/v1/curated"]
    for request in fake.requests:
        assert request.method == "GET"
        assert request.headers["Authorization"] == KEY  # no "Bearer ", no whitespace
        user_agent = request.headers["User-Agent"]
        assert user_agent == USER_AGENT
        assert user_agent.startswith("pexbot/")
        assert not user_agent.startswith(("Python/", "python-requests"))  # aiohttp's default would be blocked


async def test_search_params(client: PexelsClient, fake: FakePexels) -> None:
    await client.search_photos(
        "red flower", page=2, orientation="portrait", size="large", color="#ffaa00", locale="de-DE"
    )
    assert fake.requests[-1].query == {
        "query": "red flower",
        "orientation": "portrait",
        "size": "large",
        "color": "#ffaa00",  # sent as %23ffaa00: a raw '#' would start a URL fragment and be dropped
        "locale": "de-DE",
        "page": "2",
        "per_page": str(MAX_PER_PAGE),
    }
    assert MAX_PER_PAGE == 80


async def test_unset_options_are_not_sent_and_per_page_is_clamped(client: PexelsClient, fake: FakePexels) -> None:
    await client.search_photos("cat", per_page=500)
    assert fake.requests[-1].query == {"query": "cat", "page": "1", "per_page": "80"}
    await client.search_videos("cat", per_page=0)
    assert fake.requests[-1].query == {"query": "cat", "page": "1", "per_page": "1"}


async def test_unicode_and_reserved_characters_in_the_query(client: PexelsClient, fake: FakePexels) -> None:
    query = "café & 日本の 桜 #1 100% a+b=c?/"
    page = await client.search_photos(query)
    assert fake.requests[-1].query["query"] == query
    assert [p.id for p in page.items[:3]] == [fake.photo(query, i)["id"] for i in range(3)]


# ------------------------------------------------------------------------------------------------ parsing


async def test_parses_photos_like_the_api_serves_them(client: PexelsClient, fake: FakePexels) -> None:
    page = await client.search_photos("mountain lake")
    assert isinstance(page, RawPage)
    assert page.total == 240
    assert page.has_next is True
    assert len(page.items) == page.received == 80
    for i, photo in enumerate(page.items):
        data = fake.photo("mountain lake", i)
        assert isinstance(photo, Photo)
        assert photo.id == data["id"]
        assert photo.url == data["url"]
        assert photo.image == data["src"]["large"]
        assert photo.photographer == " ".join(data["photographer"].split())
        assert photo.photographer_url == data["photographer_url"]
        assert (photo.width, photo.height) == (data["width"], data["height"])
        assert photo.alt == data["alt"]
        if data["avg_color"] is None:
            assert photo.colour is None
        else:
            assert photo.colour == int(data["avg_color"].lstrip("#"), 16)
    # the fake's quirks are really in the page, and were handled
    assert page.items[7].alt == ""
    assert page.items[13].colour is None
    assert page.items[33].colour is None
    assert "  " in fake.photo("mountain lake", 9)["photographer"] and "  " not in page.items[9].photographer
    assert len(page.items[5].alt) > 250


async def test_last_page_has_no_next(client: PexelsClient) -> None:
    page = await client.search_photos("mountain lake", page=3)
    assert len(page.items) == 80
    assert page.has_next is False


async def test_parses_videos_and_picks_the_right_file(client: PexelsClient, fake: FakePexels) -> None:
    page = await client.search_videos("ocean waves")
    assert len(page.items) == 80
    for i, video in enumerate(page.items):
        data = fake.video("ocean waves", i)
        assert isinstance(video, Video)
        assert (video.id, video.url, video.image, video.duration) == (
            data["id"],
            data["url"],
            data["image"],
            data["duration"],
        )
        assert (video.user_name, video.user_url) == (data["user"]["name"], data["user"]["url"])
        expected = expected_file(data["video_files"])
        assert expected is not None and video.file is not None
        assert (video.file.link, video.file.width, video.file.height) == (
            expected["link"],
            expected["width"],
            expected["height"],
        )
    hls = fake.video("ocean waves", 11)["video_files"]
    assert any(f["quality"] == "hls" for f in hls) and ".m3u8" not in str(page.items[11].file)


async def test_localized_videos_get_a_title_from_their_credit(client: PexelsClient, fake: FakePexels) -> None:
    page = await client.search_videos("ocean waves", locale="uk-UA")
    data = fake.video("ocean waves", 0, locale="uk-UA")
    assert page.items[0].url == f"https://www.pexels.com/uk-ua/video/{data['id']}/"
    assert item_title(page.items[0]) == f"Video by {data['user']['name']}"


async def test_empty_result(client: PexelsClient, fake: FakePexels) -> None:
    fake.set_total("qwxzv", 0)
    page = await client.search_photos("qwxzv")
    assert page == RawPage(items=(), total=0, has_next=False)
    video_page = await client.search_videos("qwxzv")
    assert video_page.items == ()
    assert video_page.total == 0


async def test_past_the_end_is_an_empty_page(client: PexelsClient, fake: FakePexels) -> None:
    page = await client.search_photos("mountain lake", page=4)
    assert page.items == ()
    assert page.total == 0
    assert page.has_next is False


# ------------------------------------------------------------------------------------------------ quota headers


async def test_rate_limit_headers_are_observed(client: PexelsClient, fake: FakePexels, quota: MemoryQuota) -> None:
    before = await quota.snapshot()
    assert (before.remaining, before.limit, before.reset_at) == (None, None, None)
    await client.search_photos("a")
    await client.search_photos("b")
    snapshot = await quota.snapshot()
    assert fake.remaining == fake.monthly_limit - 2
    assert snapshot.remaining == fake.remaining
    assert snapshot.limit == fake.monthly_limit
    assert snapshot.reset_at == fake.reset_at
    assert snapshot.hour_used == 2
    assert snapshot.blocked_until is None


async def test_probe_spends_one_request(client: PexelsClient, fake: FakePexels) -> None:
    snapshot = await client.probe()
    assert fake.count() == 1
    assert fake.requests[0].path == "/v1/curated"
    assert fake.requests[0].query["per_page"] == "1"
    assert snapshot.remaining == fake.remaining


# ------------------------------------------------------------------------------------------------ failures


@pytest.mark.parametrize("status", [401, 403])
async def test_refused_key_is_an_auth_error_without_retry(
    session: aiohttp.ClientSession, fake: FakePexels, quota: MemoryQuota, status: int
) -> None:
    fake.wrong_key_status = status
    client = make_client(session, fake, quota, key="sk-wrong-key")
    with pytest.raises(PexelsAuthError):
        await client.search_photos("cat")
    assert fake.count() == 1


async def test_429_blocks_for_an_hour_without_further_requests(
    client: PexelsClient, fake: FakePexels, quota: MemoryQuota
) -> None:
    fake.fail_next(429)
    with pytest.raises(QuotaExhausted) as info:
        await client.search_photos("cat")
    assert fake.count() == 1
    assert abs(info.value.retry_at - (time.time() + HOUR)) < 60
    snapshot = await quota.snapshot()
    assert snapshot.blocked_until is not None
    assert abs(snapshot.blocked_until - info.value.retry_at) < 1

    for call in (client.search_photos("dog"), client.search_videos("dog"), client.curated()):
        with pytest.raises(QuotaExhausted) as again:
            await call
        assert again.value.retry_at == pytest.approx(info.value.retry_at, abs=2)
    assert fake.count() == 1


async def test_429_with_the_month_spent_blocks_until_the_reset(
    session: aiohttp.ClientSession, quota: MemoryQuota
) -> None:
    async with FakePexels(api_key=KEY, monthly_limit=2) as fake:
        client = make_client(session, fake, quota)
        await client.search_photos("cat")  # remaining 1
        fake.fail_next(429)
        with pytest.raises(QuotaExhausted) as info:
            await client.search_photos("dog")
        assert info.value.retry_at == pytest.approx(fake.reset_at, abs=1)
        assert fake.count() == 2


async def test_500_html_is_retried(client: PexelsClient, fake: FakePexels) -> None:
    fake.fail_next(500, content_type="text/html; charset=UTF-8")
    page = await client.search_photos("cat")
    assert fake.count() == 2
    assert page.items[0].id == fake.photo("cat", 0)["id"]


@pytest.mark.parametrize("status", [500, 502, 503, 520, 524])
async def test_persistent_5xx_is_unavailable_after_bounded_attempts(
    session: aiohttp.ClientSession, fake: FakePexels, quota: MemoryQuota, status: int
) -> None:
    client = make_client(session, fake, quota, attempt_timeout=0.5, deadline=2.0, backoff=0.05)
    fake.fail_next(status, count=10, content_type="text/html; charset=UTF-8")
    with pytest.raises(PexelsUnavailable):
        await client.search_photos("cat")
    assert 2 <= fake.count() <= 3, "bounded retries"


async def test_slow_answer_is_retried(session: aiohttp.ClientSession, fake: FakePexels, quota: MemoryQuota) -> None:
    client = make_client(session, fake, quota, attempt_timeout=0.3, deadline=1.0, backoff=0.05)
    fake.slow_next(1.5)
    page = await client.search_photos("cat")
    assert fake.count() == 2, "the slow first attempt timed out and the second was answered"
    assert page.items[0].id == fake.photo("cat", 0)["id"]


async def test_always_slow_is_unavailable_within_the_deadline(
    session: aiohttp.ClientSession, fake: FakePexels, quota: MemoryQuota
) -> None:
    client = make_client(session, fake, quota, attempt_timeout=0.3, deadline=1.0, backoff=0.3)
    fake.slow_next(1.5, count=10)
    with pytest.raises(PexelsUnavailable):
        await client.search_photos("cat")
    assert 2 <= fake.count() <= 3, "attempts stop at the deadline"


async def test_connection_refused_is_unavailable(session: aiohttp.ClientSession, quota: MemoryQuota) -> None:
    async with FakePexels(api_key=KEY) as fake:
        url = fake.url
    client = PexelsClient(session, base_url=url, api_key=Secret(KEY), quota=quota, backoff=0.01, deadline=2.0)
    with pytest.raises(PexelsUnavailable):
        await client.search_photos("cat")


async def test_malformed_json_is_a_bad_response(client: PexelsClient, fake: FakePexels) -> None:
    fake.malformed_next()
    with pytest.raises(PexelsBadResponse):
        await client.search_photos("cat")
    assert fake.count() == 1


@pytest.mark.parametrize("kind", ["photos", "videos"])
async def test_wrong_shape_is_a_bad_response(client: PexelsClient, fake: FakePexels, kind: str) -> None:
    fake.wrong_shape_next()
    with pytest.raises(PexelsBadResponse):
        await (client.search_photos("cat") if kind == "photos" else client.search_videos("cat"))
    assert fake.count() == 1


@pytest.mark.parametrize(
    "body",
    [
        [1, 2, 3],
        {"photos": [{"id": "x"}], "total_results": 1},
        {"photos": [], "total_results": "many"},
        {"total_results": 5},
    ],
)
async def test_other_wrong_shapes_are_bad_responses(client: PexelsClient, fake: FakePexels, body: Any) -> None:
    fake.wrong_shape_next(body=body)
    with pytest.raises(PexelsBadResponse):
        await client.search_photos("cat")


async def test_unexpected_status_is_a_bad_response(client: PexelsClient, fake: FakePexels) -> None:
    fake.fail_next(404)
    with pytest.raises(PexelsBadResponse):
        await client.search_photos("cat")
    assert fake.count() == 1


# ------------------------------------------------------------------------------------------------ the quota guard


async def test_hourly_guard_refuses_the_fourth_call(session: aiohttp.ClientSession, fake: FakePexels) -> None:
    quota = MemoryQuota(QuotaPolicy(hour_limit=3, month_limit=20_000, reserve=0))
    client = make_client(session, fake, quota)
    for query in ("a", "b", "c"):
        await client.search_photos(query)
    with pytest.raises(QuotaExhausted) as info:
        await client.search_photos("d")
    assert info.value.reason == "hour"
    assert 0 < info.value.retry_at - time.time() <= HOUR + 5
    assert fake.count() == 3


async def test_reserve_refuses_once_pexels_reports_it(session: aiohttp.ClientSession) -> None:
    async with FakePexels(api_key=KEY, monthly_limit=25) as fake:
        quota = MemoryQuota(QuotaPolicy(hour_limit=200, month_limit=20_000, reserve=20))
        client = make_client(session, fake, quota)
        for n in range(5):
            await client.search_photos(f"q{n}")
        assert fake.remaining == 20
        with pytest.raises(QuotaExhausted) as info:
            await client.search_photos("one more")
        assert info.value.reason == "reserve"
        assert info.value.retry_at == pytest.approx(fake.reset_at, abs=2)
        assert fake.count() == 5


# ------------------------------------------------------------------------------------------------ the secret


async def test_key_never_in_repr_or_logs(
    session: aiohttp.ClientSession, fake: FakePexels, quota: MemoryQuota, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    client = make_client(session, fake, quota)
    assert KEY not in repr(client)
    assert KEY not in str(client)
    assert KEY not in repr(vars(client))

    errors: list[Exception] = []
    await client.search_photos("cat")
    fake.fail_next(500, content_type="text/html; charset=UTF-8")
    await client.search_photos("dog")
    for arm in (fake.malformed_next, fake.wrong_shape_next, lambda: fake.fail_next(404)):
        arm()
        try:
            await client.search_photos("cat")
        except Exception as exc:
            errors.append(exc)
    fake.wrong_key_status = 401
    bad_client = make_client(session, fake, quota, key="sk-wrong-but-also-secret")
    try:
        await bad_client.search_photos("cat")
    except Exception as exc:
        errors.append(exc)
    fake.fail_next(503, count=5)
    try:
        await client.search_photos("cat")
    except Exception as exc:
        errors.append(exc)
    fake.fail_next(429)
    try:
        await client.search_photos("cat")
    except Exception as exc:
        errors.append(exc)

    assert [type(e) for e in errors] == [
        PexelsBadResponse,
        PexelsBadResponse,
        PexelsBadResponse,
        PexelsAuthError,
        PexelsUnavailable,
        QuotaExhausted,
    ]
    assert caplog.records  # something was logged, so the check below means something
    formatter = logging.Formatter("%(name)s %(levelname)s %(message)s")
    for record in caplog.records:
        text = formatter.format(record) + repr(record.args)
        assert KEY not in text
        assert "sk-wrong-but-also-secret" not in text
    for exc in errors:
        assert KEY not in str(exc)
        assert KEY not in exc.user_message()  # type: ignore[attr-defined]


# ------------------------------------------------------------------------------------------------ what really comes in


@pytest.mark.parametrize("header", ["limit", "remaining", "reset"])
@pytest.mark.parametrize("value", ["inf", "Infinity", "1e400", "1e999", "-5", "NaN", "twelve", "", "0x10", "١٢"])
async def test_a_silly_rate_header_never_costs_a_result(
    client: PexelsClient, fake: FakePexels, quota: MemoryQuota, header: str, value: str
) -> None:
    fake.rate_headers_next(**{header: value})
    page = await client.search_photos("cat")
    assert len(page.items) == 80
    snapshot = await quota.snapshot()
    ignored = {"limit": snapshot.limit, "remaining": snapshot.remaining, "reset": snapshot.reset_at}
    assert ignored.pop(header) is None, "the silly value was not used"
    expected = {"limit": fake.monthly_limit, "remaining": fake.remaining, "reset": fake.reset_at}
    del expected[header]
    assert ignored == expected, "the other two headers were"
    await client.search_photos("dog")  # the next answer's true headers are taken
    snapshot = await quota.snapshot()
    assert (snapshot.limit, snapshot.remaining, snapshot.reset_at) == (
        fake.monthly_limit,
        fake.remaining,
        fake.reset_at,
    )


async def test_silly_headers_are_warned_about_once(
    client: PexelsClient, fake: FakePexels, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.WARNING, logger="bot.pexels")
    fake.rate_headers_next(remaining="inf", count=5)
    for n in range(5):
        await client.search_photos(f"q{n}")
    warnings = [r.getMessage() for r in caplog.records if "X-Ratelimit-Remaining" in r.getMessage()]
    assert len(warnings) == 1 and "'inf'" in warnings[0]


async def test_a_far_future_reset_is_ignored_for_that_answer_only(session: aiohttp.ClientSession) -> None:
    """A reset sent in milliseconds must not make every later, correct answer look like a late one."""
    async with FakePexels(api_key=KEY, monthly_limit=500) as fake:
        quota = MemoryQuota(QuotaPolicy(hour_limit=200, month_limit=20_000, reserve=20))
        client = make_client(session, fake, quota)
        fake.rate_headers_next(reset=str(fake.reset_at * 1000))
        await client.search_photos("first")
        snapshot = await quota.snapshot()
        assert snapshot.reset_at is None and snapshot.remaining == 499
        fake.monthly_limit = 12  # somebody else spent this key's month meanwhile: Pexels says 10 are left
        await client.search_photos("second")
        snapshot = await quota.snapshot()
        assert (snapshot.remaining, snapshot.reset_at) == (10, fake.reset_at)
        with pytest.raises(QuotaExhausted) as refused:
            await client.search_photos("third")
        assert refused.value.reason == "reserve"
        assert refused.value.retry_at == pytest.approx(fake.reset_at, abs=2)
        assert fake.count() == 2


@pytest.mark.parametrize(
    ("value", "wait"),
    [("120", 120.0), ("0", 1.0), ("date+300", 300.0), ("soon", HOUR), ("1e999", HOUR), ("-5", HOUR), (None, HOUR)],
)
async def test_429_honours_retry_after(
    client: PexelsClient, fake: FakePexels, quota: MemoryQuota, value: str | None, wait: float
) -> None:
    headers = {}
    if value == "date+300":
        headers["Retry-After"] = email.utils.formatdate(time.time() + 300, usegmt=True)
    elif value is not None:
        headers["Retry-After"] = value
    fake.fail_next(429, headers=headers)
    with pytest.raises(QuotaExhausted) as refused:
        await client.search_photos("cat")
    assert refused.value.retry_at == pytest.approx(time.time() + wait, abs=3)
    assert (await quota.snapshot()).blocked_until == pytest.approx(refused.value.retry_at, abs=1)
    assert "<t:" in refused.value.user_message()


async def test_429_honours_its_own_reset(client: PexelsClient, fake: FakePexels, quota: MemoryQuota) -> None:
    soon = int(time.time()) + 600
    fake.fail_next(429, headers={"X-Ratelimit-Remaining": "57", "X-Ratelimit-Reset": str(soon)})
    with pytest.raises(QuotaExhausted) as refused:
        await client.search_photos("cat")
    assert refused.value.retry_at == pytest.approx(soon, abs=1), "a reset within the hour is when it ends"

    spent = int(time.time()) + 9 * 86_400
    fake.fail_next(429, headers={"X-Ratelimit-Remaining": "0", "X-Ratelimit-Reset": str(spent)})
    quota2 = MemoryQuota(QuotaPolicy(reserve=0))
    client2 = PexelsClient(client._session, base_url=fake.url, api_key=Secret(KEY), quota=quota2)
    with pytest.raises(QuotaExhausted) as refused:
        await client2.search_photos("cat")
    assert refused.value.retry_at == pytest.approx(spent, abs=1), "the month is spent: until it resets"


async def test_the_fakes_own_429_with_retry_after_is_honoured(session: aiohttp.ClientSession) -> None:
    async with FakePexels(api_key=KEY, hourly_limit=1) as fake:
        fake.retry_after_on_429 = True
        client = make_client(session, fake, MemoryQuota(QuotaPolicy(reserve=0)))
        await client.search_photos("one")
        with pytest.raises(QuotaExhausted) as refused:
            await client.search_photos("two")
        assert time.time() + 3500 <= refused.value.retry_at <= time.time() + 3601


@pytest.mark.parametrize("status", [401, 403])
async def test_an_edge_block_is_not_blamed_on_the_key(
    client: PexelsClient, fake: FakePexels, caplog: pytest.LogCaptureFixture, status: int
) -> None:
    fake.edge_block_next(status)
    with pytest.raises(PexelsEdgeBlocked) as blocked:
        await client.search_photos("cat")
    assert not isinstance(blocked.value, PexelsAuthError)
    assert "blocked by Pexels' edge (User-Agent or network), the key may be fine" in caplog.text
    assert "PEXELS_API_KEY" not in caplog.text
    assert "network is blocking" in blocked.value.user_message()
    assert fake.count() == 1


async def test_json_401_is_the_key_and_json_403_is_access_disallowed(
    session: aiohttp.ClientSession, fake: FakePexels, quota: MemoryQuota, caplog: pytest.LogCaptureFixture
) -> None:
    client = make_client(session, fake, quota, key="sk-wrong-key")
    with pytest.raises(PexelsAuthError) as refused:
        await client.search_photos("cat")
    assert type(refused.value) is PexelsAuthError
    assert "check PEXELS_API_KEY" in caplog.text and "refused this bot's key" in refused.value.user_message()
    fake.wrong_key_status = 403
    with pytest.raises(PexelsAccessDisallowed) as disallowed:
        await client.search_photos("cat")
    assert "disallowed access for the API key" in caplog.text
    assert "not allowed this bot's key" in disallowed.value.user_message()


@pytest.mark.parametrize("mode", ["sized", "chunked", "endless", "gzip-bomb", "br-bomb"])
async def test_an_oversized_body_is_abandoned_early(
    client: PexelsClient, fake: FakePexels, quota: MemoryQuota, caplog: pytest.LogCaptureFixture, mode: str
) -> None:
    if mode == "endless":
        fake.endless_next()
    elif mode.endswith("bomb"):
        fake.bomb_next(200 * 1024 * 1024, encoding="gzip" if mode == "gzip-bomb" else "br")
    else:
        fake.huge_next(50 * 1024 * 1024, chunked=mode == "chunked")
    started = time.monotonic()
    with pytest.raises(PexelsBadResponse) as bad:
        await client.search_photos("cat")
    assert time.monotonic() - started < 5
    assert "couldn't read" in bad.value.user_message()
    assert f"more than {MAX_BODY} bytes" in caplog.text
    assert fake.count() == 1, "not retried: the same answer would come again"
    if not mode.endswith("bomb"):
        stream = fake.streams[-1]
        await asyncio.wait_for(stream.done.wait(), 10)
        assert stream.aborted and not stream.complete
        assert stream.bytes_sent < 24 * 1024 * 1024, "the read stopped at the cap, not at the end of the body"
    page = await client.search_photos("cat")  # the connection pool is fine afterwards
    assert len(page.items) == 80


async def test_a_body_just_under_the_cap_is_read(
    session: aiohttp.ClientSession, fake: FakePexels, quota: MemoryQuota
) -> None:
    client = make_client(session, fake, quota, max_body=1024 * 1024)
    fake.huge_next(1024 * 1024 - 10)
    page = await client.search_photos("cat")
    assert len(page.items) == 1 and len(page.items[0].alt) <= MAX_ALT and page.items[0].alt.endswith("…")


@pytest.mark.parametrize("encoding", ["gzip", "br"])
async def test_compressed_answers_are_decoded(
    client: PexelsClient, fake: FakePexels, encoding: Literal["gzip", "br"]
) -> None:
    fake.compression = encoding
    page = await client.search_photos("cat")
    assert [p.id for p in page.items] == [fake.photo("cat", i)["id"] for i in range(80)]
    assert encoding in fake.requests[-1].headers["Accept-Encoding"]


async def test_one_warning_per_malformed_answer(
    client: PexelsClient, fake: FakePexels, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.WARNING, logger="bot.pexels")
    fake.tamper("cat", 3, url=JAVASCRIPT_URL)
    fake.tamper("cat", 4, src={"large": NOT_A_URL, "large2x": NOT_A_URL, "original": NOT_A_URL})
    fake.tamper("cat", 5, photographer_url=LINK_INJECTION)
    fake.tamper("cat", 6, id="x")
    page = await client.search_photos("cat")
    assert (len(page.items), page.received) == (77, 80)
    ids = [p.id for p in page.items]
    assert fake.photo("cat", 2)["id"] in ids and fake.photo("cat", 7)["id"] in ids
    assert next(p for p in page.items if p.id == fake.photo("cat", 5)["id"]).photographer_url == ""
    warnings = [r for r in caplog.records if r.levelno == logging.WARNING]
    assert len(warnings) == 1, [r.getMessage() for r in warnings]
    assert "3 malformed item(s) of 80" in warnings[0].getMessage()
    assert "1 link(s) dropped" in warnings[0].getMessage()


async def test_huge_numbers_and_lone_surrogates_cost_only_their_item(client: PexelsClient, fake: FakePexels) -> None:
    photos = [fake.photo("cat", i) for i in range(3)]
    raw = json.dumps({"page": 1, "per_page": 80, "photos": photos, "total_results": 3})
    raw = raw.replace(f'"id": {photos[0]["id"]}', '"id": 1' + "0" * 30, 1)
    raw = raw.replace('"alt": "Cat photo 1"', '"alt": "Cat \\ud800 photo 1"', 1)
    fake.fail_next(200, body=raw)
    page = await client.search_photos("cat")
    assert [p.id for p in page.items] == [photos[1]["id"], photos[2]["id"]]
    assert page.items[0].alt == "Cat photo 1"


# ------------------------------------------------------------------------------------------------ quota units


async def test_retries_cost_one_unit_and_an_outage_locks_nobody_out(
    session: aiohttp.ClientSession, fake: FakePexels
) -> None:
    quota = MemoryQuota(QuotaPolicy(hour_limit=3, month_limit=20_000, reserve=0))
    client = make_client(session, fake, quota, backoff=0.01)
    fake.fail_next(503, count=6, content_type="text/html")
    for query in ("a", "b"):
        with pytest.raises(PexelsUnavailable):
            await client.search_photos(query)
    assert fake.count() == 6, "each failed search made three attempts"
    assert (await quota.snapshot()).hour_used == 2, "but spent one unit each"
    page = await client.search_photos("c")  # Pexels is back: the third search of the hour still works
    assert len(page.items) == 80
    with pytest.raises(QuotaExhausted):
        await client.search_photos("d")


async def test_a_block_set_meanwhile_stops_the_retries(session: aiohttp.ClientSession, fake: FakePexels) -> None:
    quota = MemoryQuota(QuotaPolicy(reserve=0))
    client = make_client(session, fake, quota, backoff=0.3)
    fake.fail_next(503, count=3, content_type="text/html")

    async def another_search_sees_a_429() -> None:
        await asyncio.sleep(0.1)
        await quota.block(time.time() + 100)

    blocker = asyncio.create_task(another_search_sees_a_429())
    with pytest.raises(QuotaExhausted):
        await client.search_photos("cat")
    await blocker
    assert fake.count() == 1


async def test_both_backends_judge_each_answers_reset_on_its_own(make_state: StateFactory, clock: FakeClock) -> None:
    quota = (await make_state(QuotaPolicy(hour_limit=100, month_limit=1_000, reserve=20))).quota
    reset = float(int(clock()) + 86_400)
    await quota.observe(20_000, 500, reset * 1000)  # in milliseconds: no period is that long
    assert (await quota.snapshot()).reset_at is None
    await quota.observe(20_000, 10, reset)
    snapshot = await quota.snapshot()
    assert (snapshot.remaining, snapshot.reset_at) == (10, reset)
    await quota.observe(20_000, 9, clock() + 45 * 86_400)  # implausible: counts for the known period
    snapshot = await quota.snapshot()
    assert (snapshot.remaining, snapshot.reset_at) == (9, reset)
    await quota.observe(20_000, 8, math.inf)
    await quota.observe(20_000, 8, math.nan)
    refused = await quota.acquire()
    assert (refused.allowed, refused.reason) == (False, "reserve")
    assert refused.retry_after == pytest.approx(reset - clock(), abs=0.01)


async def test_redis_forgets_a_far_future_reset_stored_by_an_older_release(
    redis_server: RedisServer, clock: FakeClock
) -> None:
    redis_server.start()
    redis_server.flushall()
    state = await RedisState.connect(
        redis_server.url, policy=QuotaPolicy(), key_fingerprint="0123456789ab", clock=clock
    )
    try:
        key = "pexbot:v1:quota:0123456789ab:remote"
        await state.link.client.hset(key, mapping={"limit": 20_000, "remaining": 600, "reset": int(clock() * 1e6)})
        reset = float(int(clock()) + 86_400)
        await state.quota.observe(20_000, 10, reset)
        snapshot = await state.quota.snapshot()
        assert (snapshot.remaining, snapshot.reset_at) == (10, reset)
    finally:
        await state.close()


_OPS = st.lists(
    st.one_of(
        st.just(("acquire", 0.0, None)),
        st.tuples(st.just("advance"), st.sampled_from([1.0, 1800.0, 3600.0, 86_400.0, 41 * 86_400.0]), st.none()),
        st.tuples(
            st.just("observe"),
            st.sampled_from([None, -10.0, 10.0, 5000.0, 39 * 86_400.0, 41 * 86_400.0, 1e12, math.inf]),
            st.one_of(st.none(), st.integers(0, 30)),
        ),
    ),
    max_size=20,
)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(ops=_OPS)
def test_memory_and_redis_agree_on_implausible_resets(
    redis_server: RedisServer, ops: list[tuple[str, float | None, int | None]]
) -> None:
    """Far-future, infinite, missing and past resets: both backends end up knowing the same thing."""
    redis_server.start()
    redis_server.flushall()

    async def run() -> None:
        clock = FakeClock(float(int(time.time())))
        policy = QuotaPolicy(hour_limit=5, month_limit=8, reserve=3)
        memory = MemoryQuota(policy, clock)
        shared = await RedisState.connect(redis_server.url, policy=policy, key_fingerprint="0123456789ab", clock=clock)
        try:
            for op, number, remaining in ops:
                if op == "acquire":
                    mine, theirs = await memory.acquire(), await shared.quota.acquire()
                    assert (mine.allowed, mine.reason) == (theirs.allowed, theirs.reason), ops
                    assert mine.retry_after == pytest.approx(theirs.retry_after, abs=0.002), ops
                elif op == "advance":
                    clock.advance(number or 0)
                else:
                    reset = None if number is None else int(clock()) + number
                    await memory.observe(20_000, remaining, reset)
                    await shared.quota.observe(20_000, remaining, reset)
                assert await memory.snapshot() == await shared.quota.snapshot(), ops
        finally:
            await shared.close()

    asyncio.run(run())
