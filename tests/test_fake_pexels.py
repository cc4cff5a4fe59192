"""Self-test of the loopback Pexels fake (tests/fakes/pexels.py)."""

from __future__ import annotations

import asyncio
import collections
import gzip
import json
import re
import time
from collections.abc import AsyncIterator
from typing import Any

import aiohttp
import brotli
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
    assert localized["alt"] == "Sunset photo 3 (de-DE)"
    assert localized["url"].startswith("https://www.pexels.com/photo/sunset-photo-3-"), "photo URLs stay English"
    assert len(photos[5]["alt"]) > 250 and photos[5]["alt"].startswith("Sunset photo 5, ")  # recent, long alt
    assert "  " in photos[9]["photographer"] and photos[9]["photographer"].endswith(" ")  # odd spaces
    curated = [fake.photo("", i) for i in range(30)]
    assert sum(p["alt"] == "" for p in curated) == 15, "empty alt is common on curated photos"
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

    videos = [fake.video("ocean", i) for i in range(120)]
    shapes: set[tuple[int, int]] = set()
    duplicate_fps = unlabelled = 0
    for i, video in enumerate(videos):
        assert video["full_res"] is None and video["tags"] == [] and video["avg_color"] is None
        assert len(video["video_pictures"]) == 15
        hls = [f for f in video["video_files"] if f["quality"] == "hls"]
        assert len(hls) == (1 if i % 40 == 11 else 0), "HLS is a legacy quirk, not the norm"
        assert all(f["width"] is None and ".m3u8" in f["link"] for f in hls)
        mp4 = [f for f in video["video_files"] if f["quality"] != "hls"]
        assert len(mp4) >= 3
        assert max(f["width"] * f["height"] for f in mp4) == video["width"] * video["height"]
        shapes |= {(f["width"], f["height"]) for f in mp4}
        if "videos.pexels.com" in mp4[0]["link"]:
            assert all(isinstance(f["size"], int) and f["size"] > 0 for f in mp4), "recent files all have a size"
        else:
            assert all("player.vimeo.com/external/" in f["link"] for f in mp4)  # legacy uploads
        by_size = collections.Counter((f["width"], f["height"]) for f in mp4)
        duplicate_fps += any(
            n > 1 and len({f["fps"] for f in mp4 if (f["width"], f["height"]) == dims}) > 1
            for dims, n in by_size.items()
        )
        unlabelled += all(f["quality"] is None for f in mp4)
        lying = any(f["quality"] == "sd" and min(f["width"], f["height"]) >= 1080 for f in mp4)
        assert lying == (i % 40 == 23), "one lying label per 40 videos, as a quirk"
    assert {(2048, 1080), (1080, 2048), (2002, 1080), (4096, 2160), (2048, 1024)} <= shapes
    assert 5 <= duplicate_fps <= 40, duplicate_fps
    assert 10 <= unlabelled <= 70, unlabelled
    twins = [f for f in videos[29]["video_files"] if f["quality"] != "hls"]
    assert len(twins) > len({(f["width"], f["height"], f["fps"]) for f in twins}), "same size and fps, twice"
    status, single, _ = await get_json(http, f"{fake.url}/videos/videos/{videos[4]['id']}")
    assert status == 200 and single == videos[4]
    localized = fake.video("ocean", 0, locale="fr-FR")
    assert localized["url"] == f"https://www.pexels.com/fr-fr/video/{localized['id']}/", "no slug when localized"
    assert localized["user"]["url"].startswith("https://www.pexels.com/fr-fr/@")
    assert fake.video("ocean", 0, locale="en-US")["url"].startswith("https://www.pexels.com/video/ocean-video-0-")

    fake.set_total("ocean", 3, served=2)
    _, body, _ = await get_json(http, f"{fake.url}/videos/search", query="ocean", per_page=2, page=2)
    assert body == {"page": 1, "per_page": 1, "videos": [], "total_results": 0}


# ------------------------------------------------------------------------------------------------ fault modes


@pytest.mark.parametrize("encoding", ["gzip", "br"])
async def test_compressed_answers(fake: FakePexels, http: aiohttp.ClientSession, encoding: str) -> None:
    fake.compression = encoding  # type: ignore[assignment]
    async with http.get(f"{fake.url}/v1/curated", params={"per_page": "80"}) as resp:
        assert resp.headers["Content-Encoding"] == encoding
        body = await resp.json()
    assert body["photos"] == [fake.photo("", i) for i in range(80)]
    async with http.get(f"{fake.url}/v1/curated", headers={"Accept-Encoding": "identity"}) as resp:
        assert "Content-Encoding" not in resp.headers, "only what the client accepts"


async def test_edge_blocks_retry_after_and_silly_rate_headers(http: aiohttp.ClientSession) -> None:
    async with FakePexels(hourly_limit=1) as fake:
        for status in (401, 403):
            fake.edge_block_next(status)
            async with http.get(f"{fake.url}/v1/curated") as resp:
                assert resp.status == status and resp.content_type == "text/html"
                assert "Cloudflare" in await resp.text()
        fake.fail_next(429, headers={"Retry-After": "7"})
        status, _, headers = await get_json(http, f"{fake.url}/v1/curated")
        assert (status, headers["Retry-After"]) == (429, "7")

        fake.rate_headers_next(remaining="inf", reset="1e999")
        status, _, headers = await get_json(http, f"{fake.url}/v1/curated")
        assert status == 200
        assert (headers["X-Ratelimit-Remaining"], headers["X-Ratelimit-Reset"]) == ("inf", "1e999")
        assert headers["X-Ratelimit-Limit"] == "20000"

        assert (await get_json(http, f"{fake.url}/v1/curated"))[2].get("Retry-After") is None  # real 429s have none
        fake.retry_after_on_429 = True
        status, _, headers = await get_json(http, f"{fake.url}/v1/curated")
        assert status == 429 and 3500 <= int(headers["Retry-After"]) <= 3600


async def test_tamper_rewrites_one_item(fake: FakePexels, http: aiohttp.ClientSession) -> None:
    from tests.fakes.pexels import LINK_INJECTION, NOT_A_URL

    fake.tamper("cats", 1, photographer_url=LINK_INJECTION, src={"large": NOT_A_URL})
    fake.tamper("cats", 0, kind="video", user={"name": "x" * 5000})
    _, body, _ = await get_json(http, f"{fake.url}/v1/search", query="Cats", per_page=3)
    first, second, third = body["photos"]
    assert second["photographer_url"] == LINK_INJECTION and second["src"]["large"] == NOT_A_URL
    assert second["src"]["original"].startswith("https://images.pexels.com/"), "the rest of src is kept"
    assert first == fake.photo("cats", 0) and "pexels.com/@" in third["photographer_url"]
    _, videos, _ = await get_json(http, f"{fake.url}/videos/search", query="cats", per_page=1)
    assert videos["videos"][0]["user"]["name"] == "x" * 5000
    assert videos["videos"][0]["user"]["url"].startswith("https://www.pexels.com/@")


async def test_huge_bodies_are_streamed_and_counted(fake: FakePexels, http: aiohttp.ClientSession) -> None:
    fake.huge_next(300_000)
    status, body, headers = await get_json(http, f"{fake.url}/v1/curated")
    assert status == 200 and int(headers["Content-Length"]) == 300_000
    assert len(body["photos"]) == 1 and len(body["photos"][0]["alt"]) > 290_000
    assert (fake.streams[0].bytes_sent, fake.streams[0].complete) == (300_000, True)

    fake.huge_next(30 * 1024 * 1024, chunked=True)
    received = 0
    async with http.get(f"{fake.url}/v1/curated") as resp:
        assert "Content-Length" not in resp.headers
        async for chunk in resp.content.iter_chunked(1 << 20):
            received += len(chunk)
    assert received == fake.streams[1].bytes_sent == 30 * 1024 * 1024 and fake.streams[1].complete

    fake.endless_next()
    async with http.get(f"{fake.url}/v1/curated") as resp:
        received = 0
        async for chunk in resp.content.iter_chunked(1 << 16):
            received += len(chunk)
            if received > 5_000_000:
                break
        resp.close()
    await asyncio.wait_for(fake.streams[2].done.wait(), 10)
    endless = fake.streams[2]
    assert endless.aborted and not endless.complete
    assert received <= endless.bytes_sent < 64 * 1024 * 1024, "it stopped when the client hung up"


@pytest.mark.parametrize("encoding", ["gzip", "br"])
async def test_compression_bomb(fake: FakePexels, http: aiohttp.ClientSession, encoding: str) -> None:
    fake.bomb_next(64 * 1024 * 1024, encoding=encoding)  # type: ignore[arg-type]
    async with http.get(f"{fake.url}/v1/curated", auto_decompress=False) as resp:
        raw = await resp.read()
        assert resp.headers["Content-Encoding"] == encoding
    assert len(raw) < 1024 * 1024
    decoded = gzip.decompress(raw) if encoding == "gzip" else brotli.decompress(raw)
    assert len(decoded) >= 64 * 1024 * 1024
