"""Pexels as it answers in the wild, and hostile or broken answers, end to end.

Each case runs the real bot against the loopback Discord and Pexels: the user gets a clear answer in time,
nothing unsafe reaches the channel, memory stays bounded, and the next search still works.
"""

from __future__ import annotations

import asyncio
import json
import re
import time
import tracemalloc
from typing import Any

import discord
import pytest

from bot.models import MAX_NAME
from bot.state.memory import MemoryCache
from tests.conftest import ErrorGuard, RigFactory
from tests.fakes.discord import StoredMessage
from tests.fakes.pexels import JAVASCRIPT_URL, LINK_INJECTION, NOT_A_URL
from tests.harness import Rig
from tests.test_e2e_photo import answered_in_time, embed, footer, refused_privately, result_message
from tests.test_models import expected_file

_MASKED = re.compile(r"(?<!\\)\[((?:\\.|[^\]\\])*)\]\(([^)\s]*)\)")
_BARE = re.compile(r"(?i)\b[a-z][a-z0-9+.\-]*://[^\s<>()\[\]]+")
_PEXELS = re.compile(
    r"https://(?:www\.pexels\.com|pexels\.com|images\.pexels\.com|videos\.pexels\.com|player\.vimeo\.com/external)(?:/|$)"
)


def clickable(message: StoredMessage) -> list[str]:
    """Every address a viewer could follow: embed links and images, masked and bare links, link buttons."""
    found: list[str] = []
    for shown in message.embeds:
        found += [shown.get("url") or "", (shown.get("image") or {}).get("url") or ""]
        texts = [
            shown.get("title") or "",
            shown.get("description") or "",
            (shown.get("footer") or {}).get("text") or "",
        ]
        for text in texts:
            found += [m[2] for m in _MASKED.finditer(text)]
            found += _BARE.findall(_MASKED.sub(r"\1", text))
    found += [b["url"] for b in message.buttons() if b.get("url")]
    return [address for address in found if address]


def only_pexels_links(message: StoredMessage) -> None:
    """Nothing in the message leads anywhere but Pexels."""
    for address in clickable(message):
        assert _PEXELS.match(address), f"{address!r} is clickable in {message.embeds}"


async def a_second_search_works(rig: Rig, query: str = "quiet harbour") -> None:
    """The bot keeps serving."""
    again = await rig.photo(query, user=rig.user(9))
    answered_in_time(again)
    message = result_message(again)
    assert not message.ephemeral
    assert embed(message)["image"]["url"] == rig.pexels.photo(query, 0, locale="en-US")["src"]["large"]


# ------------------------------------------------------------------------------------------------ as recorded


async def test_videos_as_pexels_serves_them_today(rig: Rig) -> None:
    """A Ukrainian user's video is titled by its credit (localized addresses have no slug); the file linked is
    the right one for portrait and non-16:9 ladders, whatever the quality labels say."""
    user = rig.user(1)
    record = await rig.discord.slash("video", {"query": "хвилі"}, user=user, locale="uk")
    await record.wait_done()
    answered_in_time(record)
    message = result_message(record)
    for index in range(3):
        data = rig.pexels.video("хвилі", index, locale="uk-UA")
        shown = embed(rig.discord.messages[message.id])
        assert data["url"] == f"https://www.pexels.com/uk-ua/video/{data['id']}/"
        assert shown["title"] == "Video by " + discord.utils.escape_markdown(" ".join(data["user"]["name"].split()))
        best = expected_file(data["video_files"])
        assert best is not None and f"]({best['link']})" in shown["description"]
        await rig.press(rig.discord.messages[message.id], "▶", user=user)

    portrait = result_message(await rig.command("video", {"query": "city", "orientation": "portrait"}, user=user))
    data = rig.pexels.video("city", 0, locale="en-US", orientation="portrait")
    best = expected_file(data["video_files"])
    assert best is not None and best["height"] > best["width"]
    assert f"]({best['link']})" in embed(portrait)["description"]
    assert embed(portrait)["title"] == "City video 0"


async def test_photos_as_pexels_serves_them_today(rig: Rig) -> None:
    """A curated photo without alt text gets a title from its address; a name with doubled spaces reads normally."""
    user = rig.user(1)
    curated = result_message(await rig.command("curated", user=user))
    await rig.press(curated, "▶", user=user)
    assert rig.pexels.photo("", 1)["alt"] == ""
    assert embed(rig.discord.messages[curated.id])["title"] == "Curated photo 1"

    rig.pexels.set_total("pier", 10)
    message = result_message(await rig.photo("pier", user=user))
    await rig.press(message, "⏭", user=user)
    data = rig.pexels.photo("pier", 9, locale="en-US")
    assert "  " in data["photographer"]
    name = " ".join(data["photographer"].split())
    shown = embed(rig.discord.messages[message.id])
    assert f"Photo by [{discord.utils.escape_markdown(name)}](" in shown["description"]


# ------------------------------------------------------------------------------------------------ headers


@pytest.mark.parametrize("value", ["inf", "Infinity", "1e400", "1e999"])
async def test_silly_rate_headers_cost_no_result(rig: Rig, value: str) -> None:
    """X-Ratelimit-* of inf or 1e999 (once an OverflowError for every search): the result is shown all the same."""
    rig.pexels.rate_headers_next(limit=value, remaining=value, reset=value, count=2)
    record = await rig.photo("lighthouse", user=rig.user(1))
    answered_in_time(record)
    assert footer(result_message(record)) == '1 / 240 · "lighthouse"'
    await a_second_search_works(rig)


async def test_a_reset_in_milliseconds_does_not_blind_the_quota(rig: Rig) -> None:
    """After one far-future reset, the next answers' correct headers still count: the reserve is kept."""
    rig.pexels.monthly_limit = 500
    rig.pexels.rate_headers_next(reset=str(rig.pexels.reset_at * 1000))
    result_message(await rig.photo("canal", user=rig.user(1)))
    rig.pexels.monthly_limit = 12  # the key's month was spent elsewhere: Pexels now says 10 are left
    result_message(await rig.photo("bridge", user=rig.user(1)))
    text = refused_privately(await rig.photo("tower", user=rig.user(1)), "allowance")
    assert f"<t:{rig.pexels.reset_at}:R>" in text or re.search(r"<t:\d+:R>", text)
    assert rig.pexels.count() == 2


# ------------------------------------------------------------------------------------------------ 429 and refusals


async def test_retry_after_on_a_429_is_honoured(rig: Rig) -> None:
    """A 429 saying Retry-After: 2 blocks new searches for two seconds, not an hour."""
    result_message(await rig.photo("beach", user=rig.user(1)))
    rig.pexels.fail_next(429, headers={"Retry-After": "2"})
    asked = time.time()
    text = refused_privately(await rig.photo("desert", user=rig.user(1)), "allowance")
    until = int(re.search(r"<t:(\d+):R>", text)[1])  # type: ignore[index]
    assert asked + 1 <= until <= asked + 4, text
    refused_privately(await rig.photo("jungle", user=rig.user(2)), "allowance")
    assert rig.pexels.count() == 2, "no request while blocked"
    await asyncio.sleep(max(0.0, until + 1 - time.time()) + 0.2)  # the message shows whole seconds
    await a_second_search_works(rig, "jungle")


@pytest.mark.parametrize("status", [401, 403])
async def test_an_edge_block_is_explained_without_blaming_the_key(
    rig: Rig, errors: ErrorGuard, caplog: pytest.LogCaptureFixture, status: int
) -> None:
    """Cloudflare's HTML refusal: the user hears Pexels' network blocks the bot; the log says the key may be fine."""
    errors.expect(r"blocked by Pexels' edge \(User-Agent or network\), the key may be fine")
    rig.pexels.edge_block_next(status)
    refused_privately(await rig.photo("volcano", user=rig.user(1)), "network is blocking")
    assert "the key may be fine" in caplog.text and "check PEXELS_API_KEY" not in caplog.text
    await a_second_search_works(rig)


async def test_a_json_403_is_access_disallowed_for_the_key(rig: Rig, errors: ErrorGuard) -> None:
    """Pexels' own 403: the operator is told the key may not use the API; the user gets a clear line."""
    errors.expect(r"disallowed access for the API key")
    rig.pexels.fail_next(403, body='{"error":"Access to this API has been disallowed"}')
    refused_privately(await rig.photo("volcano", user=rig.user(1)), "not allowed this bot's key")
    await a_second_search_works(rig)


async def test_an_outage_does_not_spend_the_hour(make_rig: RigFactory) -> None:
    """Three searches during an outage (nine attempts) cost three of four units: the next one works."""
    rig = await make_rig(PEXELS_HOURLY_LIMIT="4")
    rig.pexels.fail_next(503, count=9, body="<html>503</html>", content_type="text/html")
    for n, query in enumerate(("storm", "hail", "fog")):
        refused_privately(await rig.photo(query, user=rig.user(n + 1)), "isn't answering")
    assert rig.pexels.count() == 9
    await a_second_search_works(rig)


# ------------------------------------------------------------------------------------------------ hostile items


async def test_a_bad_image_or_page_address_skips_only_that_photo(rig: Rig) -> None:
    """A src that is not an address and a javascript: page: those two are skipped, the rest is served."""
    rig.pexels.tamper("tulips", 0, src={"large": NOT_A_URL, "large2x": NOT_A_URL, "original": NOT_A_URL})
    rig.pexels.tamper("tulips", 1, url=JAVASCRIPT_URL)
    user = rig.user(1)
    record = await rig.photo("tulips", user=user)
    answered_in_time(record)
    message = result_message(record)
    assert embed(message)["image"]["url"] == rig.pexels.photo("tulips", 2, locale="en-US")["src"]["large"]
    only_pexels_links(message)
    await rig.press(message, "▶", user=user)
    shown = rig.discord.messages[message.id]
    assert embed(shown)["image"]["url"] == rig.pexels.photo("tulips", 3, locale="en-US")["src"]["large"]
    assert "javascript" not in str(shown.embeds) + str(shown.components)
    await a_second_search_works(rig)


async def test_link_injection_never_yields_a_working_link(rig: Rig) -> None:
    """A credit URL or name crafted to close the markdown link: the photographer is credited, nothing links away."""
    crafted = "x) · [Claim your Nitro](https://evil.example/nitro"
    rig.pexels.tamper("nitro", 0, photographer_url=LINK_INJECTION, alt="[Free Nitro](https://evil.example/n) *now*")
    rig.pexels.tamper("nitro", 1, photographer=crafted, url=LINK_INJECTION)
    rig.pexels.tamper("nitro", 2, photographer="Visit https://evil.example/nitro")
    user = rig.user(1)
    message = result_message(await rig.photo("nitro", user=user))
    for index in (0, 2):
        shown = rig.discord.messages[message.id]
        only_pexels_links(shown)
        text = shown.text
        assert "Photo by" in text and "on [Pexels](" in text
        if index == 2:
            assert "Visit https://evil.example" in text.replace("\u2060", "")  # shown, but not a live address
        await rig.press(shown, "▶", user=user)
    rig.pexels.tamper("nitro", 0, kind="video", user={"name": crafted, "url": LINK_INJECTION})
    video = result_message(await rig.command("video", {"query": "nitro"}, user=user))
    only_pexels_links(video)
    assert "Video by x) · " in video.text.replace("\\", "")


async def test_a_5000_character_name_fits_discords_limits(rig: Rig) -> None:
    """A 5,000-character photographer name once made Discord reject the message (50035)."""
    rig.pexels.tamper("marathon", 0, photographer="N" * 5000, alt="A" * 5000)
    record = await rig.photo("marathon", user=rig.user(1))
    answered_in_time(record)
    shown = embed(result_message(record))
    assert "N" * MAX_NAME not in shown["description"] and "N" * (MAX_NAME - 1) + "…" in shown["description"]
    assert len(shown["title"]) <= 256
    rig.pexels.tamper("marathon", 0, kind="video", user={"name": "V" * 5000})
    video = await rig.command("video", {"query": "marathon"}, user=rig.user(2))
    answered_in_time(video)
    assert "V" * (MAX_NAME - 1) + "…" in embed(result_message(video))["description"]
    await a_second_search_works(rig)


async def test_huge_numbers_and_lone_surrogates_cost_only_their_photo(rig: Rig) -> None:
    """JSON orjson refuses (a 30-digit id, a lone surrogate) still gives the other photos, sent cleanly."""
    photos = [rig.pexels.photo("moss", i, locale="en-US") for i in range(3)]
    broken = [{**photos[0], "id": 10**30}, {**photos[1], "alt": "Moss \ud800 photo"}, photos[2]]
    rig.pexels.fail_next(200, body=json.dumps({"page": 1, "per_page": 80, "total_results": 3, "photos": broken}))
    message = result_message(await rig.photo("moss", user=rig.user(1)))
    assert embed(message)["image"]["url"] == photos[1]["src"]["large"]
    assert embed(message)["title"] == "Moss photo"
    assert footer(message) == '1 / 2 · "moss"'


# ------------------------------------------------------------------------------------------------ bodies and memory


@pytest.mark.parametrize("encoding", ["gzip", "br"])
async def test_compressed_answers(rig: Rig, encoding: Any) -> None:
    """Pexels sends gzip and brotli on the wire; both are read."""
    rig.pexels.compression = encoding
    record = await rig.photo("cliffs", user=rig.user(1))
    answered_in_time(record)
    assert (
        embed(result_message(record))["image"]["url"] == rig.pexels.photo("cliffs", 0, locale="en-US")["src"]["large"]
    )


@pytest.mark.parametrize("mode", ["26 MB", "50 MB chunked", "endless", "gzip bomb", "brotli bomb"])
async def test_an_oversized_answer_is_refused_with_bounded_memory(rig: Rig, mode: str) -> None:
    """26-50 MB bodies, an endless one and compression bombs: "couldn't read", a few MB of memory at most."""
    if mode == "endless":
        rig.pexels.endless_next()
    elif mode.endswith("bomb"):
        rig.pexels.bomb_next(200 * 1024 * 1024, encoding="gzip" if mode.startswith("gzip") else "br")
    else:
        rig.pexels.huge_next(int(mode.split()[0]) * 1024 * 1024, chunked="chunked" in mode)
    tracemalloc.start()
    try:
        record = await rig.photo("glacier", user=rig.user(1))
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    refused_privately(record, "couldn't read")
    assert peak < 40 * 1024 * 1024, f"{peak / 2**20:.0f} MB traced at the peak"
    if not mode.endswith("bomb"):
        stream = rig.pexels.streams[-1]
        await asyncio.wait_for(stream.done.wait(), 10)
        assert stream.aborted and stream.bytes_sent < 24 * 1024 * 1024, stream
    await a_second_search_works(rig)


async def test_very_long_alt_texts_are_stored_bounded(rig: Rig) -> None:
    """Four searches of 80 photos with 40,000-character alt texts once held hundreds of MB in the cache."""
    sentence = "A very long description of what the photo shows, written out in full. " * 570
    queries = ("meadow", "harvest", "orchard", "vineyard")
    for query in queries:
        for index in range(80):
            rig.pexels.tamper(query, index, alt=sentence)
    for query in queries:
        record = await rig.photo(query, user=rig.user(1))
        answered_in_time(record)
        assert len(embed(result_message(record))["title"]) <= 256
    cache = rig.bot.state.cache
    assert isinstance(cache, MemoryCache)
    assert cache.size_bytes < 4 * 200 * 1024, f"{cache.size_bytes} bytes cached for four searches"
