"""Blocked words: which searches a server's blocklist refuses."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bot.blocklist import MAX_WORD_LENGTH, clean_word, find_blocked, word_key, words
from bot.errors import BadInput


@pytest.mark.parametrize(
    ("query", "blocked", "found"),
    [
        ("Spider on a web", ["spider"], "spider"),
        ("SPIDER", ["spider"], "spider"),
        ("spiders", ["spider"], None),
        ("classic car", ["ass"], None),
        ("assistant at work", ["ass"], None),
        ("an ass in a field", ["ass"], "ass"),
        ("café au lait", ["cafe"], "cafe"),
        ("cafe", ["Café"], "Café"),
        ("CAFÉ", ["café"], "café"),
        ("Ｃａｆｅ", ["cafe"], "cafe"),
        ("strasse", ["Straße"], "Straße"),
        ("ﬁsh", ["fish"], "fish"),
        ("İstanbul at night", ["istanbul"], "istanbul"),
        ("Ελληνικά νησιά", ["ελληνικα"], "ελληνικα"),
        ("МОСКВА́", ["москва"], "москва"),
        ("a hot-dog stand", ["hot dog"], "hot dog"),
        ("hot  dog", ["hot dog"], "hot dog"),
        ("hotdog", ["hot dog"], None),
        ("dog hot", ["hot dog"], None),
        ("don't", ["don't"], "don't"),
        ("sunset", ["spider", "sun"], None),
        ("sun set", ["spider", "sun"], "sun"),
        ("", ["sun"], None),
        ("!!!", ["sun"], None),
        ("mountains", [], None),
    ],
)
def test_whole_words_in_any_case_and_accent(query: str, blocked: list[str], found: str | None) -> None:
    assert find_blocked(query, blocked) == found


@pytest.mark.parametrize(
    ("query", "blocked", "found"),
    [
        ("色情图片", ["色情"], "色情"),  # Chinese has no spaces: a blocked word matches inside the text
        ("风景", ["色情"], None),
        ("情色", ["色情"], None),  # the same characters in another order are another word
        ("cute 猫 photos", ["猫"], "猫"),
        ("猫cats", ["cats"], "cats"),
        ("ガンダム", ["ガンダム"], "ガンダム"),
        ("ｶﾞﾝﾀﾞﾑ", ["ガンダム"], "ガンダム"),  # half-width katakana
        ("カンタム", ["ガンダム"], None),  # a voicing mark changes a Japanese word: it is not an accent
        ("ภาพทะเล", ["ทะเล"], "ทะเล"),  # Thai
        ("한국어 사진", ["사진"], "사진"),  # Korean puts spaces between words: whole words
        ("사진들", ["사진"], None),
        ("हिंदी फ़िल्म", ["फ़िल्म"], "फ़िल्म"),  # Devanagari vowel signs are letters, not accents
        ("हिंदी फिल्म", ["फ़िल्म"], None),
        ("مَرْحَبًا", ["مرحبا"], "مرحبا"),  # Arabic vowel marks are ignored
        ("שָׁלוֹם", ["שלום"], "שלום"),  # so are Hebrew points
    ],
)
def test_scripts_without_spaces_and_their_marks(query: str, blocked: list[str], found: str | None) -> None:
    assert find_blocked(query, blocked) == found


def test_the_first_blocked_word_found_is_named_as_typed() -> None:
    assert find_blocked("a Spider and a SNAKE", ["Snake", "SPIDER"]) == "Snake"


def test_equivalent_spellings_share_one_key() -> None:
    assert word_key("Café  Crème") == word_key("cafe creme") == "cafe creme"
    assert word_key("Hot-Dog") == word_key("hot dog")
    assert word_key("spider") != word_key("spiders")


def test_a_word_is_cleaned_and_checked() -> None:
    assert clean_word("  hot \t dog ") == "hot dog"
    assert clean_word("x" * MAX_WORD_LENGTH) == "x" * MAX_WORD_LENGTH
    with pytest.raises(BadInput, match="at most 50"):
        clean_word("x" * (MAX_WORD_LENGTH + 1))
    for empty in ("", "   ", "?!", "🙂"):
        with pytest.raises(BadInput, match="at least one letter"):
            clean_word(empty)


@given(st.text(max_size=40), st.text(min_size=1, max_size=12))
def test_a_blocked_word_is_always_found_standing_alone(prefix: str, word: str) -> None:
    if not words(word):
        return
    assert find_blocked(f"{prefix} {word} end", [word]) == word
