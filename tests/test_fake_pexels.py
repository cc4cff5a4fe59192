"""Self-test of the loopback Pexels fake (tests/fakes/pexels.py)."""

from __future__ import annotations

import json
import re
import time
from collections.abc import AsyncIterator
from typing import Any

import aiohttp
import pytest
from multidict import CIMultiDictProxy

from tests.fakes.pexels import FakePexels

KEY = "test-pexels-key"
UA = "pexbot-tests/1.0"
RATE_HEADERS = ("X-Ratelimit-Limit", "X-Ratelimit-Remaining", "X-Ratelimit-Reset")


@pytest.fixture
async def fake() -> AsyncIterator[FakePexels]:
    async with FakePexels() as server:
        yield server


@pytest.fixture
async def http() -> AsyncIterator[aiohttp.ClientSession]:
    async with aiohttp.ClientSession(headers={"Authorization": KEY, "User-Agent": UA}) as session:
        yield session


async def get_json(
    http: aiohttp.ClientSession, url: str, **params: Any
) -> tuple[int, dict[str, Any], CIMultiDictProxy[str]]:
    async with http.get(url, params={k: str(v) for k, v in params.items()}) as resp:
        return resp.status, await resp.json(content_type=None), resp.headers


async def test_binds_loopback_and_records(fake: FakePexels, http: aiohttp.ClientSession) -> None:
    assert re.fullmatch(r"http://127\.0\.0\.1:\d+", fake.url)
    await get_json(http, f"{fake.url}/v1/curated")
    await get_json(http, f"{fake.url}/videos/popular", per_page=2)
    assert fake.count() == 2
    assert fake.count("/v1/") == 1
    rec = fake.requests[1]
    assert (rec.method, rec.path, rec.query) == ("GET", "/videos/popular", {"per_page": "2"})
    assert rec.headers["authorization"] == KEY
    assert rec.headers["User-Agent"] == UA
    assert rec.at <= time.monotonic()


async def test_auth_and_user_agent(fake: FakePexels) -> None:
    url = f"{fake.url}/v1/search?query=cat"
    cases: list[tuple[dict[str, str], int]] = [
        ({"User-Agent": UA}, 401),
        ({"User-Agent": UA, "Authorization": "nope"}, 401),
        ({"User-Agent": UA, "Authorization": f"Bearer {KEY}"}, 401),
        ({"User-Agent": "python-requests/2.32.3", "Authorization": KEY}, 403),
    ]
    async with aiohttp.ClientSession() as session:
        for headers, status in cases:
            async with session.get(url, headers=headers) as resp:
                assert resp.status == status
                assert not any(h in resp.headers for h in RATE_HEADERS)
                if status == 401:
                    assert resp.headers["Content-Type"] == "application/json; charset=utf-8"
                    assert await resp.json() == {"status": 401, "code": "Unauthorized"}
                else:
                    assert resp.content_type == "text/html"
                    assert "Cloudflare" in await resp.text()
        async with session.get(url, headers={"Authorization": KEY}, skip_auto_headers=["User-Agent"]) as resp:
            assert resp.status == 403
    assert fake.remaining == fake.monthly_limit  # rejected requests do not count


async def test_paging_links_and_last_page(fake: FakePexels, http: aiohttp.ClientSession) -> None:
    fake.set_total("Red  Flower", 200)
    base = f"{fake.url}/v1/search"
    status, body, _ = await get_json(http, base, query="red flower", per_page=80)
    assert status == 200
    assert [p["id"] for p in body["photos"]] == [fake.photo("red flower", i)["id"] for i in range(80)]
    assert body["photos"] == fake.photos_for_page("RED flower", 1, 80)
    assert body["next_page"] == f"{fake.url}/v1/search/?page=2&per_page=80&query=red+flower"
    assert "prev_page" not in body
    assert (body["page"], body["per_page"], body["total_results"]) == (1, 80, 200)

    _, body, _ = await get_json(http, body["next_page"])
    assert body["page"] == 2
    assert body["prev_page"] == f"{fake.url}/v1/search/?page=1&per_page=80&query=red+flower"

    _, body, _ = await get_json(http, base, query="red flower", per_page=80, page=3)
    assert len(body["photos"]) == 40
    assert "next_page" not in body  # exact total: no next page on the last page
    assert body["photos"][-1] == fake.photo("red flower", 199)

    _, body, _ = await get_json(http, base, query="red flower", per_page=80, page=4)
    assert body == {"page": 1, "per_page": 1, "photos": [], "total_results": 0}

    _, body, _ = await get_json(http, base, query="red flower", per_page=500)
    assert body["per_page"] == 80
    _, body, _ = await get_json(http, base, query="red flower")
    assert body["per_page"] == 15 and len(body["photos"]) == 15


async def test_inflated_total_and_cap(fake: FakePexels, http: aiohttp.ClientSession) -> None:
    fake.set_total("xylophone", 3932, served=473)
    base = f"{fake.url}/v1/search"
    _, body, _ = await get_json(http, base, query="xylophone", per_page=80, page=6)
    assert body["total_results"] == 3932
    assert len(body["photos"]) == 73
    assert "next_page" in body  # the quirk: next_page on the last page that had data
    _, body, _ = await get_json(http, base, query="xylophone", per_page=80, page=7)
    assert body == {"page": 1, "per_page": 1, "photos": [], "total_results": 0}

    fake.set_total("cat", 50_000)
    _, body, _ = await get_json(http, base, query="cat", per_page=80, page=100)
    assert body["total_results"] == 8000 and len(body["photos"]) == 80 and "next_page" not in body

    fake.set_total("qwxz", 0)
    _, body, _ = await get_json(http, base, query="qwxz", per_page=7)
    assert body == {"page": 1, "per_page": 7, "photos": [], "total_results": 0}


async def test_rate_headers_and_429(http: aiohttp.ClientSession) -> None:
    async with FakePexels(hourly_limit=2, reset_at=1_900_000_000) as fake:
        for expected in (19_999, 19_998):
            status, _, headers = await get_json(http, f"{fake.url}/v1/curated")
            assert status == 200
            assert headers["x-ratelimit-limit"] == "20000"
            assert headers["X-Ratelimit-Remaining"] == str(expected)
            assert headers["X-Ratelimit-Reset"] == "1900000000"
        assert fake.remaining == 19_998
        status, body, headers = await get_json(http, f"{fake.url}/v1/curated")
        assert status == 429 and body == {"error": "Rate limit exceeded"}
        assert not any(h in headers for h in RATE_HEADERS)
        fake.clear_hourly()
        status, _, _ = await get_json(http, f"{fake.url}/v1/curated")
        assert status == 200

    async with FakePexels(monthly_limit=1) as fake:
        assert (await get_json(http, f"{fake.url}/v1/curated"))[0] == 200
        assert (await get_json(http, f"{fake.url}/v1/curated"))[0] == 429
        fake.reset_counters()
        assert fake.requests == [] and fake.remaining == 1
        assert (await get_json(http, f"{fake.url}/v1/curated"))[0] == 200


async def test_errors_and_fault_injection(fake: FakePexels, http: aiohttp.ClientSession) -> None:
    status, body, headers = await get_json(http, f"{fake.url}/v1/nope")
    assert (status, body) == (404, {"status": 404, "error": "Not Found"})
    assert "X-Ratelimit-Remaining" not in headers
    assert (await get_json(http, f"{fake.url}/v1/photos/12"))[0] == 404
    assert (await get_json(http, f"{fake.url}/v1/search"))[:2] == (400, {"error": "query is required"})

    fake.fail_next(500, count=2, body="<html><body>boom</body></html>", content_type="text/html")
    for _ in range(2):
        async with http.get(f"{fake.url}/v1/curated") as resp:
            assert resp.status == 500 and "boom" in await resp.text()
            assert "X-Ratelimit-Limit" not in resp.headers
    fake.fail_next(502)
    assert (await get_json(http, f"{fake.url}/v1/curated"))[0] == 502

    fake.malformed_next()
    async with http.get(f"{fake.url}/v1/curated") as resp:
        assert resp.status == 200 and resp.content_type == "application/json"
        with pytest.raises(json.JSONDecodeError):
            json.loads(await resp.text())
    fake.wrong_shape_next()
    assert (await get_json(http, f"{fake.url}/v1/curated"))[1] == {"photos": "nope"}
    assert (await get_json(http, f"{fake.url}/v1/curated"))[0] == 200  # back to normal

    fake.slow_next(0.3)
    started = time.monotonic()
    await get_json(http, f"{fake.url}/v1/curated")
    assert time.monotonic() - started >= 0.3
    fake.latency = 0.2
    started = time.monotonic()
    await get_json(http, f"{fake.url}/v1/curated")
    assert time.monotonic() - started >= 0.2


async def test_photo_objects(fake: FakePexels, http: aiohttp.ClientSession) -> None:
    photos = [fake.photo("sunset", i) for i in range(40)]
    assert len({p["id"] for p in photos}) == 40
    first = photos[0]
    assert list(first) == [
        "id", "width", "height", "url", "photographer", "photographer_url",
        "photographer_id", "avg_color", "src", "liked", "alt",
    ]  # fmt: skip
    assert first["alt"] == "Sunset photo 0" and first["liked"] is False
    assert list(first["src"]) == ["original", "large2x", "large", "medium", "small", "portrait", "landscape", "tiny"]
    assert first["src"]["tiny"].endswith("?auto=compress&cs=tinysrgb&dpr=1&fit=crop&h=200&w=280")
    assert all(p["avg_color"] is None or re.fullmatch(r"#[0-9A-F]{6}", p["avg_color"]) for p in photos)
    assert sum(p["alt"] == "" for p in photos) == 4
    assert sum(p["avg_color"] is None for p in photos) == 2
    assert fake.photo("sunset", 3) == fake.photo("  SUNSET ", 3)

    localized = fake.photo("sunset", 3, locale="de-de")
    assert localized["alt"] == "Sunset photo 3 (de-DE)" and "/de-de/photo/" in localized["url"]
    assert localized["id"] != photos[3]["id"] != fake.photo("sunrise", 3)["id"]
    assert fake.photo("sunset", 3, color="#FFAA00") == fake.photo("sunset", 3, color="ffaa00")
    portrait = fake.photo("sunset", 1, orientation="portrait", size="large")
    assert portrait["height"] > portrait["width"] and portrait["width"] * portrait["height"] >= 24e6

    _, body, _ = await get_json(
        http, f"{fake.url}/v1/search", query="sunset", color="#ffaa00", locale="de-de", per_page=2, page=2
    )
    assert body["photos"][0] == fake.photo("sunset", 2, color="#ffaa00", locale="de-DE")
    assert body["next_page"].endswith("/v1/search/?color=%23ffaa00&locale=de-DE&page=3&per_page=2&query=sunset")
    status, single, _ = await get_json(http, f"{fake.url}/v1/photos/{body['photos'][1]['id']}")
    assert status == 200 and single == body["photos"][1]
    _, curated, _ = await get_json(http, f"{fake.url}/v1/curated/", per_page=3)
    assert curated["photos"][0] == fake.photo("", 0)
    assert curated["next_page"] == f"{fake.url}/v1/curated/?page=2&per_page=3"


async def test_video_objects_and_aliases(fake: FakePexels, http: aiohttp.ClientSession) -> None:
    for path in ("/videos/search", "/v1/videos/search"):
        status, body, _ = await get_json(http, f"{fake.url}{path}", query="ocean waves", per_page=5)
        assert status == 200
        assert body["videos"] == [fake.video("ocean waves", i) for i in range(5)]
        assert body["url"] == "https://www.pexels.com/search/videos/ocean waves/"
        assert body["next_page"] == f"{fake.url}/v1/videos/search/?page=2&per_page=5&query=ocean+waves"
    _, popular, _ = await get_json(http, f"{fake.url}/videos/popular", min_width=1920, per_page=2)
    assert popular["videos"][0] == fake.video("", 0)
    assert popular["next_page"] == f"{fake.url}/v1/videos/popular/?min_width=1920&page=2&per_page=2"

    videos = [fake.video("ocean", i) for i in range(30)]
    mislabeled = 0
    for video in videos:
        assert video["full_res"] is None and video["tags"] == [] and video["avg_color"] is None
        assert len(video["video_pictures"]) == 15
        hls = [f for f in video["video_files"] if f["quality"] == "hls"]
        assert len(hls) == 1 and hls[0]["width"] is None and ".m3u8" in hls[0]["link"]
        mp4 = [f for f in video["video_files"] if f["quality"] != "hls"]
        assert len(mp4) >= 3
        assert max(f["width"] * f["height"] for f in mp4) == video["width"] * video["height"]
        mislabeled += any(f["quality"] == "sd" and f["height"] >= 1080 for f in mp4)
    assert 0 < mislabeled < 30
    status, single, _ = await get_json(http, f"{fake.url}/videos/videos/{videos[4]['id']}")
    assert status == 200 and single == videos[4]
    assert "/fr-fr/video/" in fake.video("ocean", 0, locale="fr-FR")["url"]

    fake.set_total("ocean", 3, served=2)
    _, body, _ = await get_json(http, f"{fake.url}/videos/search", query="ocean", per_page=2, page=2)
    assert body == {"page": 1, "per_page": 1, "videos": [], "total_results": 0}
