"""Tests for bot.keywords.search_phrases (the "Find photos" context menu)."""

from __future__ import annotations

import re

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bot.keywords import MAX_PHRASE_LENGTH, clean_discord_text, search_phrases

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
