"""Tests for bot.keywords.search_phrases (the "Find photos" context menu)."""

from __future__ import annotations

import asyncio
import logging
import re
import threading
import time
from collections.abc import Iterator
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import bot.keywords
from bot.keywords import EXTRACTION_SLOTS, MAX_PHRASE_LENGTH, clean_discord_text, find_phrases, search_phrases

STORM_NEWS = (
    "A powerful storm slammed into the coastal town of Whitby on Tuesday night, tearing roofs from houses "
    "and flooding the harbour. Fishing boats were thrown onto the quay as waves over 8 metres battered the "
    "sea wall. Emergency crews worked through the night to rescue residents, and the lifeboat station "
    "reported 14 call-outs."
)
MARATHON_NEWS = (
    "More than 40,000 runners crossed the finish line at the Berlin Marathon on Sunday, cheered on by huge "
    "crowds near the Brandenburg Gate. Kenyan athletes dominated the race, and a new course record was set in "
    "the women's event despite warm autumn weather. Marathon organisers said next year's race will open "
    "registration in March."
)
VOLCANO_NEWS = (
    "Mount Etna erupted again overnight, sending a towering column of ash and lava fountains into the sky "
    "above Sicily. Catania airport was closed as volcanic ash drifted over the city, and lava flows crept "
    "down the mountain's eastern slope toward the Valle del Bove."
)
LISBON_NEWS = (
    "Lisbon harbour was packed with sailing ships on Saturday as the Tall Ships Races arrived in Portugal. "
    "Thousands of visitors walked along the waterfront to watch the solar eclipse over the Tagus river at sunset."
)
NEW_YORK_NEWS = "New York was hit by a blizzard. Snow covered Central Park and the Statue of Liberty."
CASUAL_CHAT = "anyone been to the northern lights in iceland?? want to go next winter"
CASUAL_CHAT_2 = "lol my cat just knocked the christmas tree over again 😂 the whole living room is covered in glitter"
RECIPE = (
    "made a lemon drizzle cake yesterday!! just flour, butter, sugar, eggs and loads of fresh lemons. "
    "baked it for 45 mins at 180C, then poured the lemon syrup over while warm. sourdough bread next weekend"
)
MARKUP_HEAVY = (
    "<@123456789012345678> <@&987654321098765432> check this out in <#111222333444555666> **HUGE** wildfire "
    "near ||Los Angeles|| <:fire:123456789012345678> <a:party:876543210987654321> "
    "https://example.com/news/wildfire?id=5 @everyone\n"
    "> smoke over the __Hollywood sign__\n"
    "```py\nprint('hello world')\n```\n"
    "# Evacuation update\n"
    "- firefighters battling ~~fires~~ flames in the hills `inline code` <t:1700000000:R>"
)
SHOUTING = "OMG THE NORTHERN LIGHTS WERE AMAZING LAST NIGHT IN TROMSØ"
CELEBRITY_NEWS = (
    "Taylor Swift and Travis Kelce were spotted holding hands at a beachfront restaurant in Malibu on Saturday, "
    "People magazine reported. Swift, 34, wore a white sundress as the couple watched the sunset over the Pacific "
    "Ocean. Kelce later told Vogue that the pair plan a ski trip to Aspen this winter."
)
ROYAL_PREMIERE = (
    "Prince Harry and Meghan Markle attended the film premiere in Leicester Square, London, where hundreds of fans "
    "lined the red carpet despite heavy rain. Meghan wore an emerald gown by Givenchy, Hello! magazine said, while "
    "Harry posed for selfies with fans."
)
MET_GALA = (
    "Beyoncé stunned fans at the Met Gala in a gown covered in crystals, while Rihanna arrived late in a giant floral "
    "cape. Vanity Fair called it the night's boldest look, and Kim Kardashian posed on the steps of the Metropolitan "
    "Museum of Art."
)
WILDFIRE_NEWS = (
    "Firefighters battled a wildfire in the hills above Athens on Monday as strong winds pushed the flames toward "
    "coastal villages. Prime Minister Kyriakos Mitsotakis said water-bombing planes and helicopters would fly through "
    "the night, and the Acropolis was closed to tourists because of thick smoke."
)
FOOTBALL = (
    "What a match! Manchester City beat Arsenal 2-1 at the Etihad Stadium, with Erling Haaland scoring a header in "
    "the 88th minute. Thousands of fans celebrated in the pouring rain outside the stadium, waving flags and "
    "lighting flares."
)
TENNIS = (
    "Carlos Alcaraz won Wimbledon again after a five-set final on Centre Court. Strawberries and cream sold out by "
    "noon and the queue of tennis fans stretched across the park."
)
TRAVEL = (
    "Just got back from two weeks in Japan! Highlights: the cherry blossoms in Kyoto, climbing Mount Fuji at dawn, "
    "and a night in a traditional ryokan with a hot spring. Next stop is Paris for the Eiffel Tower and the Louvre."
)
SOUP = (
    "Slow-roasted tomato soup: roast the tomatoes with garlic and olive oil for an hour, blend with fresh basil, "
    "then serve with crusty bread and a grilled cheese sandwich."
)
DOG_CHAT = "omg my dog just jumped into the lake chasing ducks again 😂 now the whole car smells like wet dog"
TECH_NEWS = (
    "Apple unveiled its new iPhone at a packed event in Cupertino, while Tim Cook told CNN that the company would "
    "open a flagship store on the Champs-Élysées in Paris next spring."
)

SAMPLES = {
    "storm": STORM_NEWS,
    "marathon": MARATHON_NEWS,
    "volcano": VOLCANO_NEWS,
    "lisbon": LISBON_NEWS,
    "new_york": NEW_YORK_NEWS,
    "chat": CASUAL_CHAT,
    "chat_2": CASUAL_CHAT_2,
    "recipe": RECIPE,
    "markup": MARKUP_HEAVY,
    "shouting": SHOUTING,
    "celebrity": CELEBRITY_NEWS,
    "royal": ROYAL_PREMIERE,
    "met_gala": MET_GALA,
    "wildfire": WILDFIRE_NEWS,
    "football": FOOTBALL,
    "tennis": TENNIS,
    "travel": TRAVEL,
    "soup": SOUP,
    "dog_chat": DOG_CHAT,
    "tech": TECH_NEWS,
}

# A small list of words that must never open or close a phrase.
EDGE_STOP_WORDS = frozenset(
    str.split(
        "a an the of in on at to for from by with and or but is are was were be been it its this that these those "
        "as into onto over under about after before than then so if not no my your our their his her i you we "
        "they he she me us them said says just very also next last anyone want go"
    )
)
NUMERIC_RE = re.compile(r"^[\d\s.,:/%-]+$")


def _lower(phrases: list[str]) -> list[str]:
    return [p.casefold() for p in phrases]


def _assert_well_formed(phrases: list[str], limit: int = 5) -> None:
    assert isinstance(phrases, list)
    assert len(phrases) <= limit
    assert len(set(_lower(phrases))) == len(phrases), phrases
    for phrase in phrases:
        assert isinstance(phrase, str)
        assert phrase == phrase.strip()
        assert len(phrase) >= 3, phrase
        assert len(phrase) <= MAX_PHRASE_LENGTH
        words = phrase.casefold().split()
        assert words, phrase
        assert words[0] not in EDGE_STOP_WORDS, phrase
        assert words[-1] not in EDGE_STOP_WORDS, phrase
        assert not phrase.startswith("new "), phrase  # fine only in names: "New York"
        assert not NUMERIC_RE.match(phrase), phrase
        assert not any(ch.isdigit() for ch in phrase), phrase
        assert "http" not in phrase.casefold(), phrase
        for fragment in ("<@", "<#", "<:", "<a:", "@everyone", "@here", "```", "`", "**", "||", "~~", "__", "://"):
            assert fragment not in phrase, phrase


def _any_contains(phrases: list[str], word: str) -> bool:
    return any(word in p for p in _lower(phrases))


@pytest.mark.parametrize("name", sorted(SAMPLES))
def test_samples_are_well_formed(name: str) -> None:
    phrases = search_phrases(SAMPLES[name])
    print(f"{name}: {phrases}")  # visible with `pytest -s`; handy for judging quality
    assert phrases, name
    _assert_well_formed(phrases)


def test_storm_news() -> None:
    phrases = search_phrases(STORM_NEWS)
    assert _any_contains(phrases, "storm")
    assert _any_contains(phrases, "harbour") or _any_contains(phrases, "coastal town")
    assert "Whitby" in phrases  # proper noun keeps its capital
    assert not _any_contains(phrases, "tuesday")


def test_marathon_news() -> None:
    phrases = search_phrases(MARATHON_NEWS)
    assert _any_contains(phrases, "marathon")
    assert _any_contains(phrases, "brandenburg gate")
    assert not _any_contains(phrases, "sunday")
    assert not any(p.casefold().endswith(("crossed", "dominated", "cheered")) for p in phrases)


def test_volcano_news() -> None:
    phrases = search_phrases(VOLCANO_NEWS)
    assert "Mount Etna" in phrases
    assert _any_contains(phrases, "lava")
    assert not any(p.casefold().endswith("erupted") for p in phrases)


def test_lisbon_news_keeps_names() -> None:
    phrases = search_phrases(LISBON_NEWS)
    assert _any_contains(phrases, "lisbon harbour")
    assert _any_contains(phrases, "sailing ships")
    assert "Portugal" in phrases or "Tall Ships Races" in phrases


def test_multi_word_names_are_not_split() -> None:
    phrases = search_phrases(NEW_YORK_NEWS)
    assert "New York" in phrases
    assert "Central Park" in phrases
    assert "Statue of Liberty" in phrases
    assert "snow covered Central" not in phrases
    assert not any(p.casefold() in {"york", "central", "park", "liberty"} for p in phrases)


def test_casual_chat() -> None:
    phrases = search_phrases(CASUAL_CHAT)
    assert "northern lights" in _lower(phrases)
    assert "iceland" in _lower(phrases)
    assert not _any_contains(phrases, "anyone")
    assert not _any_contains(phrases, "want")


def test_casual_chat_with_emoji() -> None:
    phrases = search_phrases(CASUAL_CHAT_2)
    assert "christmas tree" in phrases
    assert "living room" in phrases
    assert not _any_contains(phrases, "lol")


def test_recipe() -> None:
    phrases = search_phrases(RECIPE)
    assert _any_contains(phrases, "lemon")
    assert _any_contains(phrases, "cake")
    assert not _any_contains(phrases, "yesterday")
    assert not _any_contains(phrases, "mins")


def test_markup_heavy_message() -> None:
    phrases = search_phrases(MARKUP_HEAVY)
    assert _any_contains(phrases, "wildfire")
    assert "Los Angeles" in phrases
    assert _any_contains(phrases, "hollywood")
    for p in _lower(phrases):
        assert "print" not in p
        assert "hello world" not in p
        assert "inline code" not in p
        assert "example" not in p
        assert "party" not in p


def test_shouting_is_lowercased() -> None:
    phrases = search_phrases(SHOUTING)
    assert "northern lights" in phrases
    assert all(p == p.lower() for p in phrases)


def test_contained_fragments_are_dropped() -> None:
    for text in SAMPLES.values():
        phrases = _lower(search_phrases(text))
        for i, a in enumerate(phrases):
            for j, b in enumerate(phrases):
                if i != j:
                    assert f" {a} " not in f" {b} ", (a, b)


@pytest.mark.parametrize(
    "text",
    [
        "",
        "   \n\t  ",
        "<@123456789012345678> <@!123456789012345678> <@&987654321098765432> <#111222333444555666>",
        "@everyone @here",
        "https://example.com/a?b=c http://foo.bar www.pexels.com/photo/123",
        "<https://example.com/suppressed-embed>",
        "<:kekw:123456789012345678> <a:dance:876543210987654321> :fire: 🔥😂👍",
        "```python\nfrom bot import storm\nprint('lighthouse at sunset')\n```",
        "`volcano eruption`",
        "12345 678,90 12/05/2024",
        "the of and to in on",
        "<t:1700000000:R> <t:1700000000>",
        "> \n# \n- \n",
    ],
)
def test_nothing_usable_gives_empty_list(text: str) -> None:
    assert search_phrases(text) == []


def test_limit_is_respected() -> None:
    text = f"{STORM_NEWS} {MARATHON_NEWS} {VOLCANO_NEWS}"
    assert len(search_phrases(text, limit=2)) == 2
    assert search_phrases(text, limit=2) == search_phrases(text)[:2]
    assert search_phrases(text, limit=0) == []
    assert search_phrases(text, limit=-3) == []
    assert len(search_phrases(text, limit=8)) <= 8


def test_deterministic() -> None:
    for text in SAMPLES.values():
        assert search_phrases(text) == search_phrases(text)


def test_clean_discord_text() -> None:
    cleaned = clean_discord_text(MARKUP_HEAVY)
    for fragment in ("<@", "<#", "<:", "<a:", "<t:", "http", "@everyone", "```", "`", "**", "||", "~~", "__", "print"):
        assert fragment not in cleaned
    assert "Los Angeles" in cleaned
    assert "Hollywood sign" in cleaned
    assert "fires" in cleaned  # strikethrough text is kept, only the markers go
    assert clean_discord_text("[the Grand Canyon](https://example.com) at dawn") == "the Grand Canyon at dawn."


def test_masked_links_keep_their_text() -> None:
    phrases = search_phrases("look at [the Grand Canyon](https://example.com/gc) at sunrise")
    assert "Grand Canyon" in phrases
    assert "sunrise" in phrases


def test_non_english_text_does_not_crash() -> None:
    for text in (
        "El volcán de La Palma entró en erupción, con ríos de lava que llegaron hasta el mar en la costa oeste.",
        "Der Sturm traf die Küste von Sylt und überflutete den Hafen.",
        "東京で花火大会がありました。とても綺麗でした",
        "Москва: сильный снегопад парализовал движение в центре города.",
    ):
        _assert_well_formed(search_phrases(text))


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(text=st.text(max_size=400), limit=st.integers(min_value=0, max_value=10))
def test_any_text_gives_well_formed_result(text: str, limit: int) -> None:
    phrases = search_phrases(text, limit=limit)
    assert isinstance(phrases, list)
    assert len(phrases) <= limit
    assert len({p.casefold() for p in phrases}) == len(phrases)
    for phrase in phrases:
        assert isinstance(phrase, str)
        assert phrase.strip()
        assert len(phrase) <= MAX_PHRASE_LENGTH


@settings(max_examples=150, deadline=None)
@given(
    words=st.lists(
        st.sampled_from(
            [
                *("storm", "harbour", "<@123>", "https://x.io/y", "the", "of", "**bold**", "||spoiler||", "@here"),
                *("lighthouse", "2024", "Lisbon", "`code`", "<:e:1>", "\n", ">", "#", "-", "cliffs", "sunset"),
                *("and", "was", "__Lisbon harbour__", "~~old~~", "# Sunset over the bay", "<#42>", ":smile:"),
            ]
        ),
        max_size=40,
    )
)
def test_markup_soup_never_leaks(words: list[str]) -> None:
    _assert_well_formed(search_phrases(" ".join(words)))


# --------------------------------------------------------------------------- #
# What a stock photo can show: no people, no publications
# --------------------------------------------------------------------------- #


def _words_in(phrases: list[str]) -> set[str]:
    return {w.strip("'’").removesuffix("'s") for p in _lower(phrases) for w in p.split()}


def _assert_none_of(phrases: list[str], names: str) -> None:
    """No word of these names appears in any offered phrase."""
    leaked = _words_in(phrases) & set(names.casefold().split())
    assert not leaked, (leaked, phrases)


def test_celebrity_news_offers_the_scene_not_the_people_or_the_magazine() -> None:
    phrases = search_phrases(CELEBRITY_NEWS)
    _assert_well_formed(phrases)
    _assert_none_of(phrases, "Taylor Swift Travis Kelce People Vogue")
    assert len(phrases) == 5
    assert "Malibu" in phrases or "Aspen" in phrases
    assert {"holding hands", "beachfront restaurant", "Pacific Ocean", "sunset", "ski trip"} & set(phrases)


def test_royal_premiere_offers_the_place_and_the_red_carpet() -> None:
    phrases = search_phrases(ROYAL_PREMIERE)
    _assert_none_of(phrases, "Prince Harry Meghan Markle Givenchy Hello")
    assert "Leicester Square" in phrases
    assert "red carpet" in phrases


def test_gala_offers_the_event_not_the_stars_or_the_magazine() -> None:
    phrases = search_phrases(MET_GALA)
    _assert_none_of(phrases, "Rihanna Kim Kardashian Vanity Fair")
    assert "Met Gala" in phrases
    assert _any_contains(phrases, "floral cape") or _any_contains(phrases, "museum")
    assert not any(p.casefold().startswith(("stunned", "arrived")) for p in phrases)


def test_general_news_drops_the_politician() -> None:
    phrases = search_phrases(WILDFIRE_NEWS)
    _assert_none_of(phrases, "Kyriakos Mitsotakis Prime Minister")
    assert "Athens" in phrases
    assert _any_contains(phrases, "wildfire") or _any_contains(phrases, "smoke") or _any_contains(phrases, "winds")


def test_sport_offers_the_stadium_not_the_players_or_the_club() -> None:
    football = search_phrases(FOOTBALL)
    _assert_none_of(football, "Erling Haaland Arsenal")
    assert "Etihad Stadium" in football
    assert _any_contains(football, "flags") or _any_contains(football, "flares") or _any_contains(football, "rain")
    tennis = search_phrases(TENNIS)
    _assert_none_of(tennis, "Carlos Alcaraz")
    assert "Wimbledon" in tennis or "Centre Court" in tennis
    assert _any_contains(tennis, "tennis") or _any_contains(tennis, "strawberries")


def test_travel_offers_landmarks_and_places() -> None:
    phrases = search_phrases(TRAVEL)
    assert "Eiffel Tower" in phrases
    assert _any_contains(phrases, "mount fuji")
    assert "Japan" in phrases or "Kyoto" in phrases
    assert "hot spring" in phrases or "cherry blossoms" in phrases


def test_recipe_offers_the_dish_and_ingredients() -> None:
    phrases = search_phrases(SOUP)
    assert _any_contains(phrases, "tomato soup")
    assert {"fresh basil", "olive oil", "crusty bread", "grilled cheese sandwich"} & set(phrases)
    assert not _any_contains(phrases, "hour")


def test_chat_about_a_dog() -> None:
    phrases = search_phrases(DOG_CHAT)
    assert "wet dog" in phrases
    assert _any_contains(phrases, "lake")
    assert not _any_contains(phrases, "omg")


def test_business_news_drops_the_executive_and_the_broadcaster() -> None:
    phrases = search_phrases(TECH_NEWS)
    _assert_none_of(phrases, "Tim Cook CNN")
    assert "Cupertino" in phrases
    assert _any_contains(phrases, "champs-élysées") or _any_contains(phrases, "flagship store")


def test_places_that_are_also_given_names_are_kept() -> None:
    phrases = search_phrases("Spent a week in Sydney and then flew to Florence. Victoria Falls was the best part.")
    assert {"Sydney", "Florence", "Victoria Falls"} <= set(phrases)


def test_a_person_is_dropped_wherever_they_are_mentioned_again() -> None:
    text = "Emma Watson opened a community garden in Oxford. Watson planted apple trees with local children."
    phrases = search_phrases(text)
    _assert_none_of(phrases, "Emma Watson")
    assert _any_contains(phrases, "community garden") or _any_contains(phrases, "apple trees")


def test_a_lone_unknown_name_is_not_offered_but_a_place_used_as_one_is() -> None:
    # (A lone name that only ever opens a sentence looks like any capitalised first word and is kept.)
    phrases = search_phrases("At the premiere Zendaya wore Valentino. Later she flew to Positano for the weekend.")
    _assert_none_of(phrases, "Zendaya Valentino")
    assert "Positano" in phrases  # not a city of 15,000+, but "flew to Positano"


@pytest.mark.parametrize(
    ("text", "names", "expected"),
    [
        (
            "Der Sturm traf die Küste von Sylt. Bundeskanzler Olaf Scholz besuchte am Montag die zerstörte Promenade.",
            "Olaf Scholz",
            "hafen küste sylt promenade sturm",
        ),
        (
            "Emmanuel Macron a inauguré la cathédrale Notre-Dame de Paris devant des milliers de visiteurs.",
            "Emmanuel Macron",
            "notre-dame cathédrale paris",
        ),
        (
            "El volcán de La Palma entró en erupción, con ríos de lava que llegaron hasta el mar.",
            "",
            "volcán lava erupción palma",
        ),
    ],
)
def test_non_english_best_effort(text: str, names: str, expected: str) -> None:
    phrases = search_phrases(text)
    _assert_well_formed(phrases)
    _assert_none_of(phrases, names)
    assert _words_in(phrases) & set(expected.split()), phrases


# --------------------------------------------------------------------------- #
# The async entry point and failures
# --------------------------------------------------------------------------- #


@pytest.fixture
def concurrency(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[int]]:
    """Record how many extractions run at once (each held for 50 ms); the real extraction still runs."""
    real = bot.keywords.search_phrases
    lock = threading.Lock()
    running = [0]
    peaks: list[int] = []

    def observed(text: str, *, limit: int = 5) -> list[str]:
        with lock:
            running[0] += 1
            peaks.append(running[0])
        try:
            time.sleep(0.05)
            return real(text, limit=limit)
        finally:
            with lock:
                running[0] -= 1

    monkeypatch.setattr(bot.keywords, "search_phrases", observed)
    yield peaks


async def test_find_photos_burst_runs_a_bounded_number_at_once(concurrency: list[int]) -> None:
    """Fifteen simultaneous uses: all get the phrases, never more than EXTRACTION_SLOTS extract at once."""
    results = await asyncio.gather(*(find_phrases(TRAVEL) for _ in range(15)))
    assert all(r == search_phrases(TRAVEL) for r in results)
    assert "Eiffel Tower" in results[0]
    assert max(concurrency) == EXTRACTION_SLOTS == 2
    assert len(concurrency) == 15


async def test_find_phrases_takes_an_injected_semaphore(concurrency: list[int]) -> None:
    slots = asyncio.Semaphore(1)
    results = await asyncio.gather(*(find_phrases(SOUP, 3, slots=slots) for _ in range(4)))
    assert all(len(r) == 3 for r in results)
    assert max(concurrency) == 1


async def test_find_phrases_keeps_the_event_loop_free() -> None:
    """While an extraction runs in its worker thread, the loop keeps serving other work."""
    ticks = 0

    async def ticker() -> None:
        nonlocal ticks
        while True:
            ticks += 1
            await asyncio.sleep(0)

    task = asyncio.create_task(ticker())
    try:
        phrases = await find_phrases(f"{STORM_NEWS} {MARATHON_NEWS} {VOLCANO_NEWS}" * 3)
    finally:
        task.cancel()
    assert phrases
    assert ticks > 1


class _Yake048Extractor:
    """yake 0.4.8's KeywordExtractor signature: camelCase arguments, no dedup_lim/window_size."""

    def __init__(
        self,
        lan: str = "en",
        n: int = 3,
        dedupLim: float = 0.9,
        dedupFunc: str = "seqm",
        windowsSize: int = 1,
        top: int = 20,
        features: Any = None,
        stopwords: Any = None,
    ) -> None:
        raise AssertionError("not reached")


async def test_an_old_yake_is_reported_not_swallowed(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    """yake 0.4.8 raised TypeError on our arguments and Find photos silently found nothing; now it says why."""
    import yake

    bot.keywords._extractor.cache_clear()
    monkeypatch.setattr(yake, "KeywordExtractor", _Yake048Extractor)
    try:
        with caplog.at_level(logging.WARNING, logger="bot.keywords"), pytest.raises(TypeError, match="dedup_lim"):
            await find_phrases(TRAVEL)
    finally:
        bot.keywords._extractor.cache_clear()
    warning = next(r for r in caplog.records if r.name == "bot.keywords")
    assert warning.levelno == logging.WARNING
    assert "yake>=0.6,<1" in warning.getMessage()
    assert "TypeError" in warning.getMessage()


def test_long_input_is_cut() -> None:
    """Text past MAX_INPUT_LENGTH is not read: a place named only there is not offered."""
    filler = "The quiet harbour had fishing boats. " * (bot.keywords.MAX_INPUT_LENGTH // 36 + 10)
    phrases = search_phrases(filler + "Kyoto temples at dawn.")
    assert phrases
    assert not _any_contains(phrases, "kyoto")
