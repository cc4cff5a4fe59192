"""SearchService with a real PexelsClient, the loopback FakePexels and the in-memory cache; query parsing properties."""

from __future__ import annotations

import asyncio
import re
import string
import time
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass

import aiohttp
import discord
import pytest
from hypothesis import assume, given
from hypothesis import strategies as st

from bot.config import Secret
from bot.errors import BadInput, NoResults, PexelsAuthError, QuotaExhausted
from bot.models import Photo, Video
from bot.pexels import PexelsClient
from bot.service import SearchService, pexels_fetcher
from bot.state.base import QuotaPolicy
from bot.state.memory import MemoryState
from bot.store import ResultStore
from bot.vocab import (
    COLOURS,
    MAX_QUERY_LENGTH,
    MAX_RESULTS,
    PEXELS_LOCALES,
    Kind,
    SearchSpec,
    normalise_query,
    parse_colour,
    pexels_locale,
    query_identity,
    validate_query,
)
from tests.fakes.pexels import FakePexels

TTL = 600


class Clock:
    """A clock that moves only when told to."""

    def __init__(self) -> None:
        self.now = time.time()

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


@dataclass
class Env:
    fake: FakePexels
    state: MemoryState
    client: PexelsClient
    service: SearchService
    clock: Clock


@pytest.fixture
async def fake() -> AsyncIterator[FakePexels]:
    async with FakePexels() as server:
        yield server


@pytest.fixture
async def session() -> AsyncIterator[aiohttp.ClientSession]:
    async with aiohttp.ClientSession() as http:
        yield http


def make_env(
    fake: FakePexels, session: aiohttp.ClientSession, *, policy: QuotaPolicy | None = None, ttl: int = TTL
) -> Env:
    clock = Clock()
    state = MemoryState(policy=policy or QuotaPolicy(hour_limit=200, reserve=0), clock=clock)
    client = PexelsClient(
        session, base_url=fake.url, api_key=Secret(fake.api_key), quota=state.quota, backoff=0.01, clock=clock
    )
    return Env(
        fake,
        state,
        client,
        SearchService(ResultStore(state.cache, pexels_fetcher(client), ttl=ttl, clock=clock)),
        clock,
    )


@pytest.fixture
def env(fake: FakePexels, session: aiohttp.ClientSession) -> Env:
    return make_env(fake, session)


def photo(query: str) -> SearchSpec:
    return SearchSpec(Kind.PHOTO, query)


def same_photo(item: object, data: dict[str, object]) -> bool:
    return isinstance(item, Photo) and item.id == data["id"] and item.url == data["url"]


# ------------------------------------------------------------------------------------------------ caching


async def test_case_and_whitespace_variants_share_one_entry(env: Env) -> None:
    variants = ["Red Flower", "red flower", "  RED   flower ", "red\tFlower", "Red\u3000Flower"]
    slots = [await env.service.result(photo(q), 4) for q in variants]
    assert env.fake.count() == 1
    assert {s.item.id for s in slots} == {env.fake.photo("red flower", 4)["id"]}


async def test_options_and_locale_are_cached_apart(env: Env) -> None:
    specs = [
        SearchSpec(Kind.PHOTO, "cat"),
        SearchSpec(Kind.PHOTO, "cat", orientation="portrait"),
        SearchSpec(Kind.PHOTO, "cat", size="large"),
        SearchSpec(Kind.PHOTO, "cat", colour="#ffaa00"),
        SearchSpec(Kind.PHOTO, "cat", colour="red"),
        SearchSpec(Kind.PHOTO, "cat", locale="de-DE"),
        SearchSpec(Kind.VIDEO, "cat"),
    ]
    first = [await env.service.result(spec, 0) for spec in specs]
    assert env.fake.count() == len(specs)
    again = [await env.service.result(spec, 0) for spec in specs]
    assert env.fake.count() == len(specs)
    assert [s.item for s in again] == [s.item for s in first]
    assert len({s.item.id for s in first}) == len(specs)
    assert same_photo(first[1].item, env.fake.photo("cat", 0, orientation="portrait"))
    assert same_photo(first[3].item, env.fake.photo("cat", 0, color="#ffaa00"))
    assert same_photo(first[5].item, env.fake.photo("cat", 0, locale="de-DE"))
    assert env.fake.requests[3].query["color"] == "#ffaa00"
    assert env.fake.requests[5].query["locale"] == "de-DE"


async def test_concurrent_identical_misses_make_one_request(env: Env) -> None:
    env.fake.latency = 0.05
    slots = await asyncio.gather(*(env.service.result(photo("Sea Turtle"), i) for i in range(10)))
    assert env.fake.count() == 1
    assert [s.item.id for s in slots] == [env.fake.photo("sea turtle", i)["id"] for i in range(10)]
    assert env.service.store.misses == 1
    assert env.service.store.hits == 9


async def test_concurrent_misses_share_the_failure(env: Env) -> None:
    env.fake.latency = 0.05
    env.fake.fail_next(401)
    results = await asyncio.gather(*(env.service.result(photo("owl"), 0) for _ in range(10)), return_exceptions=True)
    assert all(isinstance(r, PexelsAuthError) for r in results)
    assert env.fake.count() == 1
    # nothing was cached, and nothing is stuck in flight: the next call asks again and succeeds
    slot = await env.service.result(photo("owl"), 0)
    assert env.fake.count() == 2
    assert same_photo(slot.item, env.fake.photo("owl", 0))


async def test_paging_costs_one_request_per_80(env: Env) -> None:
    spec = photo("forest")
    for i in range(80):
        assert same_photo((await env.service.result(spec, i)).item, env.fake.photo("forest", i))
    assert env.fake.count() == 1
    slot = await env.service.result(spec, 80)
    assert env.fake.count() == 2
    assert env.fake.requests[1].query["page"] == "2"
    assert slot.index == 80
    assert same_photo(slot.item, env.fake.photo("forest", 80))
    for i in range(80, 160):
        assert same_photo((await env.service.result(spec, i)).item, env.fake.photo("forest", i))
    assert env.fake.count() == 2


async def test_every_result_is_the_one_pexels_serves_at_that_index(env: Env) -> None:
    spec = photo("Golden Gate")
    for i in range(MAX_RESULTS):
        slot = await env.service.result(spec, i)
        assert (slot.index, slot.total, slot.spec) == (i, 240, spec)
        assert same_photo(slot.item, env.fake.photo("golden gate", i))
    assert env.fake.count() == 3


async def test_videos_and_curated(env: Env) -> None:
    video = await env.service.result(SearchSpec(Kind.VIDEO, "rain"), 81)
    assert isinstance(video.item, Video)
    assert video.item.id == env.fake.video("rain", 81)["id"]
    assert env.fake.requests[-1].path == "/videos/search"
    curated = await env.service.result(SearchSpec(Kind.CURATED), 5)
    assert same_photo(curated.item, env.fake.photo("", 5))
    assert env.fake.requests[-1].path == "/v1/curated"


@pytest.mark.parametrize(("reported", "expected"), [(5000, 240), (240, 240), (150, 150), (80, 80), (7, 7)])
async def test_total_is_capped_at_max_results(env: Env, reported: int, expected: int) -> None:
    env.fake.set_total("ocean", reported)
    slot = await env.service.result(photo("ocean"), 0)
    assert slot.total == expected == min(reported, MAX_RESULTS)
    last = await env.service.result(photo("ocean"), 10_000)  # clamped to the end
    assert (last.index, last.total) == (expected - 1, expected)
    assert same_photo(last.item, env.fake.photo("ocean", expected - 1))
    first = await env.service.result(photo("ocean"), -5)
    assert first.index == 0


async def test_inflated_total_is_corrected(env: Env) -> None:
    env.fake.set_total("xylophone", 3932, served=100)
    spec = photo("xylophone")
    assert (await env.service.result(spec, 0)).total == 240
    slot = await env.service.result(spec, 239)
    assert (slot.index, slot.total) == (99, 100)
    assert same_photo(slot.item, env.fake.photo("xylophone", 99))
    # page 1, then page 3 (index 239: empty), then back to page 2 where the results really end
    assert [r.query["page"] for r in env.fake.requests] == ["1", "3", "2"]
    count = env.fake.count()

    later = await env.service.result(spec, 0)
    assert later.total == 100
    assert (await env.service.result(spec, 239)).index == 99
    cached = await env.service.cached_result(spec, 50)
    assert cached is not None
    assert cached.total == 100
    assert env.fake.count() == count


async def test_inflated_total_ending_on_an_earlier_page(env: Env) -> None:
    env.fake.set_total("kazoo", 3932, served=150)
    slot = await env.service.result(photo("kazoo"), 239)  # page 3 is empty: walk back to page 2
    assert (slot.index, slot.total) == (149, 150)
    assert same_photo(slot.item, env.fake.photo("kazoo", 149))
    assert (await env.service.result(photo("kazoo"), 0)).total == 150


async def test_zero_results(env: Env) -> None:
    env.fake.set_total("qwxzv", 0)
    with pytest.raises(NoResults):
        await env.service.result(photo("qwxzv"), 0)
    with pytest.raises(NoResults):
        await env.service.result(photo("QWXZV "), 0)
    assert env.fake.count() == 1  # "nothing" is cached too
    assert await env.service.cached_result(photo("qwxzv"), 0) is None
    assert issubclass(NoResults, BadInput)


async def test_cached_result(env: Env) -> None:
    spec = photo("lighthouse")
    assert await env.service.cached_result(spec, 3) is None
    assert env.fake.count() == 0
    fetched = await env.service.result(spec, 3)
    cached = await env.service.cached_result(spec, 3)
    assert cached == fetched
    assert await env.service.cached_result(photo(" LIGHTHOUSE"), 3) is not None
    assert await env.service.cached_result(spec, 100) is None  # its page was never fetched
    assert env.fake.count() == 1


async def test_cache_ttl_expiry_refetches(fake: FakePexels, session: aiohttp.ClientSession) -> None:
    env = make_env(fake, session, ttl=60)
    spec = photo("desert")
    await env.service.result(spec, 0)
    env.clock.advance(59)
    await env.service.result(spec, 0)
    assert fake.count() == 1
    env.clock.advance(2)
    assert await env.service.cached_result(spec, 0) is None
    slot = await env.service.result(spec, 0)
    assert fake.count() == 2
    assert same_photo(slot.item, fake.photo("desert", 0))


async def test_quota_exhausted_still_serves_cached_searches(fake: FakePexels, session: aiohttp.ClientSession) -> None:
    env = make_env(fake, session, policy=QuotaPolicy(hour_limit=1, reserve=0))
    spec = photo("volcano")
    await env.service.result(spec, 0)
    for i in (1, 42, 79):
        slot = await env.service.result(spec, i)
        assert same_photo(slot.item, fake.photo("volcano", i))
    with pytest.raises(QuotaExhausted) as info:
        await env.service.result(photo("glacier"), 0)
    assert info.value.reason == "hour"
    assert fake.count() == 1
    # the failed miss left nothing behind: once the hour passes, the same search works
    env.clock.advance(3601)
    assert same_photo((await env.service.result(photo("glacier"), 0)).item, fake.photo("glacier", 0))


async def test_hit_rate(env: Env) -> None:
    assert env.service.store.hit_rate is None
    await env.service.result(photo("bridge"), 0)
    assert (env.service.store.hits, env.service.store.misses) == (0, 1)
    assert env.service.store.hit_rate == 0.0
    await env.service.result(photo("bridge"), 1)
    assert (env.service.store.hits, env.service.store.misses) == (1, 1)
    assert env.service.store.hit_rate == 0.5
    await env.service.result(photo("bridge"), 85)  # head from the cache, page 2 from Pexels
    assert (env.service.store.hits, env.service.store.misses) == (2, 2)
    await env.service.result(photo("bridge"), 2)
    assert env.service.store.hit_rate == pytest.approx(3 / 5)


# ------------------------------------------------------------------------------------------------ properties

WHITESPACE = st.sampled_from([" ", "  ", "\t", "\n", " \r\n ", "\u3000", "\u00a0", "\u2003"])
WORD = st.text(alphabet=string.ascii_letters + string.digits + "éüøñçåßÆ日本語-'", min_size=1, max_size=8)


@st.composite
def spaced_variants(draw: st.DrawFn) -> tuple[str, str]:
    words = draw(st.lists(WORD, min_size=1, max_size=6))

    def render() -> str:
        parts = [draw(st.sampled_from([str.lower, str.upper, str.title, str.swapcase]))(w) for w in words]
        text = parts[0]
        for part in parts[1:]:
            text += draw(WHITESPACE) + part
        return draw(st.sampled_from(["", " ", "\n"])) + text + draw(st.sampled_from(["", " ", "\t"]))

    return render(), render()


@given(st.text())
def test_normalise_query_is_idempotent(text: str) -> None:
    once = normalise_query(text)
    assert normalise_query(once) == once
    assert once == once.strip()
    assert not re.search(r"\s\s", once)
    assert query_identity(once) == query_identity(text)


@given(spaced_variants())
def test_query_identity_ignores_case_and_spacing(pair: tuple[str, str]) -> None:
    a, b = pair
    assert query_identity(a) == query_identity(b)
    assert SearchSpec(Kind.PHOTO, a).key == SearchSpec(Kind.PHOTO, b).key


@given(WORD, WORD)
def test_different_queries_have_different_keys(a: str, b: str) -> None:
    assume(query_identity(a) != query_identity(b))
    assert SearchSpec(Kind.PHOTO, a).key != SearchSpec(Kind.PHOTO, b).key


@given(st.text(alphabet=" \t\n\r\u3000\u00a0\u2003\u2028\x0b\x0c", max_size=50))
def test_validate_query_rejects_blank(text: str) -> None:
    with pytest.raises(BadInput):
        validate_query(text)


@given(st.text(alphabet=string.ascii_letters + "日本", min_size=MAX_QUERY_LENGTH + 1, max_size=300))
def test_validate_query_rejects_long(text: str) -> None:
    with pytest.raises(BadInput):
        validate_query(text)


@given(st.text(alphabet=string.ascii_letters + "日本 ", max_size=MAX_QUERY_LENGTH))
def test_validate_query_accepts_up_to_the_limit(text: str) -> None:
    assume(text.strip())
    assert validate_query(text) == normalise_query(text)


@given(st.text())
def test_validate_query_only_ever_raises_bad_input(text: str) -> None:
    try:
        query = validate_query(text)
    except BadInput as exc:
        assert exc.user_message()
    else:
        assert query == normalise_query(text)
        assert 1 <= len(query) <= MAX_QUERY_LENGTH


HEX6 = st.text(alphabet="0123456789abcdefABCDEF", min_size=6, max_size=6)
HEX3 = st.text(alphabet="0123456789abcdefABCDEF", min_size=3, max_size=3)
PAD = st.sampled_from(["", " ", "  ", "\t"])


@given(st.sampled_from(COLOURS), st.sampled_from([str.lower, str.upper, str.title]), PAD, PAD)
def test_parse_colour_names(name: str, case: Callable[[str], str], left: str, right: str) -> None:
    assert parse_colour(left + case(name) + right) == name


@given(HEX6, st.booleans(), PAD)
def test_parse_colour_hex6_round_trips(digits: str, hash_sign: bool, pad: str) -> None:
    value = parse_colour(pad + ("#" if hash_sign else "") + digits + pad)
    assert value == "#" + digits.lower()
    assert parse_colour(value) == value


@given(HEX3, st.booleans())
def test_parse_colour_hex3_expands(digits: str, hash_sign: bool) -> None:
    value = parse_colour(("#" if hash_sign else "") + digits)
    assert value == "#" + "".join(c * 2 for c in digits.lower())
    assert parse_colour(value) == value


@pytest.mark.parametrize("text", [None, "", "   ", "\t"])
def test_parse_colour_blank_is_none(text: str | None) -> None:
    assert parse_colour(text) is None


@pytest.mark.parametrize(
    "text", ["purple", "#ffaa0", "#ffaa000", "ffaa0g", "##ffaa00", "#ff aa00", "red!", "rgb(1,2,3)", "０１２３４５"]
)
def test_parse_colour_rejects(text: str) -> None:
    with pytest.raises(BadInput):
        parse_colour(text)


@given(st.text())
def test_parse_colour_never_raises_anything_but_bad_input(text: str) -> None:
    try:
        value = parse_colour(text)
    except BadInput:
        return
    assert value is None or value in COLOURS or re.fullmatch(r"#[0-9a-f]{6}", value)
    assert parse_colour(value) == value


@pytest.mark.parametrize("locale", [locale.value for locale in discord.Locale])
def test_every_discord_locale_maps_to_a_pexels_locale_or_none(locale: str) -> None:
    assert pexels_locale(locale) in (None, *PEXELS_LOCALES)


@pytest.mark.parametrize(
    ("discord_locale", "expected"),
    [
        ("de", "de-DE"),
        ("en-GB", "en-US"),
        ("en-US", "en-US"),
        ("pt-BR", "pt-BR"),
        ("es-419", "es-ES"),
        ("es-ES", "es-ES"),
        ("no", "nb-NO"),
        ("zh-TW", "zh-TW"),
        ("zh-CN", "zh-CN"),
        ("ja", "ja-JP"),
        ("uk", "uk-UA"),
        ("sv-SE", "sv-SE"),
        (None, None),
        ("", None),
    ],
)
def test_pexels_locale_examples(discord_locale: str | None, expected: str | None) -> None:
    assert pexels_locale(discord_locale) == expected


@given(st.text())
def test_pexels_locale_never_raises(text: str) -> None:
    assert pexels_locale(text) in (None, *PEXELS_LOCALES)
