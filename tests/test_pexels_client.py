"""PexelsClient against the loopback FakePexels over a real aiohttp session and a real MemoryQuota."""

from __future__ import annotations

import logging
import time
from collections.abc import AsyncIterator
from typing import Any

import aiohttp
import pytest

from bot.config import Secret
from bot.errors import PexelsAuthError, PexelsBadResponse, PexelsUnavailable, QuotaExhausted
from bot.models import Photo, Video
from bot.pexels import MAX_PER_PAGE, USER_AGENT, PexelsClient, RawPage
from bot.state.base import HOUR, QuotaPolicy
from bot.state.memory import MemoryQuota
from tests.fakes.pexels import FakePexels

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
    assert len(page.items) == 80
    for i, photo in enumerate(page.items):
        data = fake.photo("mountain lake", i)
        assert isinstance(photo, Photo)
        assert photo.id == data["id"]
        assert photo.url == data["url"]
        assert photo.image == data["src"]["large"]
        assert photo.photographer == data["photographer"]
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


async def test_last_page_has_no_next(client: PexelsClient) -> None:
    page = await client.search_photos("mountain lake", page=3)
    assert len(page.items) == 80
    assert page.has_next is False


def _expected_video_file(files: list[dict[str, Any]]) -> dict[str, Any]:
    """The spec of best_video_file: the largest MP4 with a known size whose short side is at most 1080."""
    fitting = [
        f
        for f in files
        if f["file_type"] == "video/mp4"
        and isinstance(f["width"], int)
        and isinstance(f["height"], int)
        and ".m3u8" not in f["link"]
        and min(f["width"], f["height"]) <= 1080
    ]
    return max(fitting, key=lambda f: f["width"] * f["height"])


async def test_parses_videos_and_picks_the_right_file(client: PexelsClient, fake: FakePexels) -> None:
    page = await client.search_videos("ocean waves")
    assert len(page.items) == 80
    mislabelled = 0
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
        assert any(f["quality"] == "hls" for f in data["video_files"])  # there was a trap to avoid
        expected = _expected_video_file(data["video_files"])
        assert video.file is not None
        assert video.file.link == expected["link"]
        assert (video.file.width, video.file.height) == (expected["width"], expected["height"])
        assert ".m3u8" not in video.file.link
        assert min(video.file.width, video.file.height) <= 1080
        if any(f["quality"] not in ("hd", "sd", "uhd", "hls") for f in data["video_files"]) or any(
            f["quality"] == "sd" and max(f["width"], f["height"]) >= 1280
            for f in data["video_files"]
            if f["width"] is not None
        ):
            mislabelled += 1
    assert mislabelled > 0  # the labels lied for some videos, and the choice was still right


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
