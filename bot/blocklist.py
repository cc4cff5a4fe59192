"""Server blocklists: does a search contain a blocked word? Case- and accent-insensitive, whole words.

Text is compared in a folded form: compatibility-normalised (full-width letters, ligatures), case-folded
(ß matches ss), and stripped of the accents that European, Hebrew and Arabic writing put on letters
(é matches e, but a Devanagari or Thai vowel sign is a letter of its own and stays). A word is a run of
letters, marks and digits; so "ass" does not match "class" or "assistant", and a blocked phrase ("hot
dog") matches those words in a row whatever is between them ("Hot-Dog").

Chinese, Japanese, Thai, Lao, Khmer and Myanmar are written without spaces between words, so there
every character counts as a word of its own and a blocked word matches wherever its characters stand
in a row: 色情 is found in 色情图片.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Iterable

from bot.errors import BadInput

MAX_WORD_LENGTH = 50
"""Characters a blocked word or phrase may have."""

# Scripts written without spaces between words: Thai, Lao, Myanmar, Khmer, CJK radicals and symbols'
# iteration marks, Hiragana, Katakana, CJK ideographs (with extensions and compatibility forms).
_SPACELESS = (
    (0x0E00, 0x0EFF),
    (0x1000, 0x109F),
    (0x1780, 0x17FF),
    (0x2E80, 0x2FDF),
    (0x3005, 0x3007),
    (0x3021, 0x3029),
    (0x3031, 0x3035),
    (0x3038, 0x303C),
    (0x3040, 0x30FF),
    (0x31F0, 0x31FF),
    (0x3400, 0x4DBF),
    (0x4E00, 0x9FFF),
    (0xF900, 0xFAFF),
    (0x20000, 0x3FFFF),
)


def _spaceless(char: str) -> bool:
    code = ord(char)
    return any(low <= code <= high for low, high in _SPACELESS)


def _accent_base(char: str) -> bool:
    """True for letters whose combining marks are accents: Latin, Greek, Cyrillic, Armenian, Hebrew, Arabic."""
    code = ord(char)
    return code < 0x0700 or 0x0750 <= code <= 0x077F or 0x1E00 <= code <= 0x1FFF or 0x2C60 <= code <= 0x2C7F


def fold(text: str) -> str:
    """The form text is compared in: NFKC-like, case-folded, accents removed."""
    decomposed = unicodedata.normalize("NFKD", unicodedata.normalize("NFKD", text).casefold())
    kept: list[str] = []
    base = ""
    for char in decomposed:
        if unicodedata.combining(char) or unicodedata.category(char) == "Mn":
            if base and _accent_base(base):
                continue
        elif char == "\u0640":  # Arabic tatweel: elongation, not a letter
            continue
        else:
            base = char
        kept.append(char)
    return unicodedata.normalize("NFC", "".join(kept))


def words(text: str) -> list[str]:
    """The folded words of a text (each character of a spaceless script is a word of its own)."""
    found: list[str] = []
    current: list[str] = []
    in_spaceless = False

    def flush() -> None:
        if current:
            found.append("".join(current))
            current.clear()

    for char in fold(text):
        category = unicodedata.category(char)
        if category[0] == "M":
            if current:  # a mark belongs to the letter before it
                current.append(char)
            continue
        if category[0] not in "LN":
            flush()
            continue
        if _spaceless(char):
            flush()
            current.append(char)
            in_spaceless = True
            continue
        if in_spaceless:
            flush()
            in_spaceless = False
        current.append(char)
    flush()
    return found


def clean_word(word: str) -> str:
    """The word or phrase as it will be stored and shown; raises BadInput when it cannot be blocked."""
    cleaned = " ".join(word.split())
    if not words(cleaned):
        raise BadInput("Give a word to block: it needs at least one letter or digit.")
    if len(cleaned) > MAX_WORD_LENGTH:
        raise BadInput(f"A blocked word can be at most {MAX_WORD_LENGTH} characters long.")
    return cleaned


def word_key(word: str) -> str:
    """The matching form of a blocked word: equal keys block the same searches."""
    return " ".join(words(clean_word(word)))


def find_blocked(query: str, blocked: Iterable[str]) -> str | None:
    """The first blocked word (as it was typed) that `query` contains, else None."""
    query_words = words(query)
    if not query_words:
        return None
    for entry in blocked:
        needle = words(entry)
        if needle and _contains_run(query_words, needle):
            return entry
    return None


def _contains_run(haystack: list[str], needle: list[str]) -> bool:
    size = len(needle)
    first = needle[0]
    return any(
        haystack[start] == first and haystack[start : start + size] == needle
        for start in range(len(haystack) - size + 1)
    )
