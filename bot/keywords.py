"""Offline extraction of photo-searchable phrases from Discord message text.

Used by the "Find photos" message context menu: :func:`search_phrases` turns a
message into up to five short phrases (places, events, objects, scenes) that a
Pexels photo search can show.

Pipeline:

1. Strip Discord markup (mentions, custom emoji, timestamps, URLs, code,
   markdown, spoiler bars, quotes, headings) and turn line breaks into
   sentence breaks so chat lines are not glued together.
2. Guess the language from stop-word coverage (YAKE ships stop lists for many
   languages); English is the default and wins every tie.
3. Run YAKE! (statistical, offline, no model download) with n-grams up to 3.
4. Post-filter the ranked candidates: no stop word, date word, filler or
   obvious verb at either end, no function word inside unless the phrase is a
   proper name ("Statue of Liberty"), no numbers, no fragments that are
   contained in a better-ranked phrase, case-insensitive de-duplication.
5. Restore capitalisation only for proper nouns (words seen capitalised in
   the middle of a sentence and never in lower case); everything else is
   lower-cased. A word seen only at the start of a sentence cannot be told
   apart from an ordinary word and is lower-cased ("lisbon harbour"); Pexels
   search ignores case anyway.

The function is pure, synchronous and deterministic. A 2,000-character message
takes roughly 25 ms (YAKE itself is most of it), so calling it directly from an interaction handler is
fine; use ``asyncio.to_thread`` if you would rather keep the event loop free.
"""

from __future__ import annotations

import functools
import re
import threading
import unicodedata
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass
from importlib import resources
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import yake

__all__ = ["MAX_PHRASE_LENGTH", "clean_discord_text", "search_phrases"]

#: Discord select-menu option labels and values are capped at 100 characters.
MAX_PHRASE_LENGTH = 100

_MAX_NGRAM = 3
_DEDUP_LIMIT = 0.8
_YAKE_TOP = 60
_MAX_TOKEN_LENGTH = 30
_MIN_PHRASE_LENGTH = 3

# --------------------------------------------------------------------------- #
# Discord markup
# --------------------------------------------------------------------------- #

_CODE_BLOCK_RE = re.compile(r"```.*?(?:```|$)", re.DOTALL)
_INLINE_CODE_RE = re.compile(r"``.+?``|`[^`]+`", re.DOTALL)
_MASKED_LINK_RE = re.compile(r"\[([^\]\n]*)\]\(\s*<?[^)\s]*>?\s*(?:\"[^\"]*\")?\s*\)")
# <@123> <@!123> <@&123> <#123> <:name:123> <a:name:123> </cmd sub:123> <t:123:R> <id:customize> <https://...>
_ANGLE_RE = re.compile(
    r"<(?:[@#][!&]?\d+|a?:\w*:\d+|/[^<>\n]{1,100}:\d+|t:-?\d+(?::\w)?|id:\w+|[a-z][\w+.-]*:[^\s<>]*)>", re.I
)
_URL_RE = re.compile(r"(?:\b[a-z][\w+.-]*://|\bwww\.)\S+|\b[\w.+-]+@[\w-]+\.[\w.-]+", re.I)
_BARE_DOMAIN_RE = re.compile(
    r"\b[\w-]+(?:\.[\w-]+)*\.(?:com|net|org|io|gg|co|uk|de|app|dev|me|tv|ly|be)\b(?:/\S*)?", re.I
)
_AT_RE = re.compile(r"@\S*")
_SHORTCODE_RE = re.compile(r":[\w+-]{2,}:")
_LINE_PREFIX_RE = re.compile(r"^\s*(?:>>>|>|-#|#{1,6}(?=\s)|[-*+•](?=\s)|\d{1,3}[.)](?=\s))\s*")
_EMPHASIS_RE = re.compile(r"\*\*|__|~~|\|\||\*|(?<![^\W_])_|_(?![^\W_])")
_HASHTAG_RE = re.compile(r"#(?=\w)")
_SPACES_RE = re.compile(r"[ \t\u00a0\u2000-\u200b\u202f\u205f\u3000]+")
_WORD_RE = re.compile(r"[^\W\d_](?:[\w'’-]*\w)?")
_SENTENCE_END = frozenset(".!?;:…")
_SENTENCE_SPLIT_RE = re.compile(r"(?<=[.!?;:…])\s+")
_CJK_STOP_RE = re.compile(r"[。！？｡]+")
_CJK_COMMA_RE = re.compile(r"[、，､]+")


def _drop_symbols(text: str) -> str:
    """Remove emoji, pictographs, control and other non-linguistic symbols."""
    out: list[str] = []
    for ch in text:
        cat = unicodedata.category(ch)
        if cat in ("So", "Sk", "Cs", "Co", "Cn") or (cat == "Cf" and ch not in "\u200c"):
            out.append(" ")
        elif cat == "Mn" and "\ufe00" <= ch <= "\ufe0f":  # variation selectors
            continue
        elif cat == "Cc" and ch != "\n":
            out.append(" ")
        else:
            out.append(ch)
    return "".join(out)


def clean_discord_text(text: str) -> str:
    """Return the human-readable prose of a Discord message.

    Mentions, channel links, custom emoji, timestamps, URLs, code and markdown
    are removed; each non-empty line becomes its own sentence.
    """
    text = unicodedata.normalize("NFC", text).replace("\r\n", "\n").replace("\r", "\n")
    text = _CODE_BLOCK_RE.sub(" ", text)
    text = _INLINE_CODE_RE.sub(" ", text)
    text = _MASKED_LINK_RE.sub(r" \1 ", text)
    text = _ANGLE_RE.sub(" ", text)
    text = _URL_RE.sub(" ", text)
    text = _BARE_DOMAIN_RE.sub(" ", text)
    text = _AT_RE.sub(" ", text)  # @everyone, @here, unresolved @names
    text = _SHORTCODE_RE.sub(" ", text)
    text = _drop_symbols(text)
    text = _CJK_STOP_RE.sub(". ", text)
    text = _CJK_COMMA_RE.sub(", ", text)
    text = text.replace("\\", " ").replace("`", " ")

    sentences: list[str] = []
    for raw_line in text.split("\n"):
        line = raw_line
        # Nested prefixes such as "> - item" or "> ## heading".
        for _ in range(4):
            stripped = _LINE_PREFIX_RE.sub("", line, count=1)
            if stripped == line:
                break
            line = stripped
        line = _EMPHASIS_RE.sub("", line)
        line = _HASHTAG_RE.sub("", line)
        line = _SPACES_RE.sub(" ", line).strip(" -|>*_~")
        if not _WORD_RE.search(line):
            continue
        if line[-1] not in _SENTENCE_END:
            line += "."
        sentences.append(line)
    return " ".join(sentences)


# --------------------------------------------------------------------------- #
# Word lists
# --------------------------------------------------------------------------- #


def _words(text: str) -> frozenset[str]:
    return frozenset(text.split())


# Languages with a YAKE stop list ("cz" is YAKE's code for Czech); English must come first.
_DETECTABLE_LANGUAGES = (
    *("en", "es", "fr", "de", "it", "pt", "nl", "sv", "da", "no", "fi", "pl", "ro", "tr", "ru", "uk", "bg"),
    *("cz", "sk", "hu", "hr", "sl", "lt", "lv", "et", "id"),
)

# Words that YAKE's English list treats as stop words but that start common
# photo subjects ("New York", "old town", "golf course"). They are still
# rejected at a phrase edge unless they are part of a proper name.
_YAKE_EN_KEEP = _words("new old course novel inner outside zero value welcome well")

# Name particles: fine inside or at the start of a proper name ("Los Angeles",
# "Valle del Bove"), never at the end of a phrase.
_NAME_PARTICLES = _words(
    "al da das de del della der des di do dos du el la las le les los san santa st van von new old"
)

# Function words that may still open a lower-case phrase ("old town", "old man").
_EDGE_START_OK = _words("old")

_DATE_WORDS = _words(
    "monday tuesday wednesday thursday friday saturday sunday mon tue tues wed thu thur thurs fri sat sun january "
    "february april june july august september october november december jan feb mar apr jun jul aug sep sept oct "
    "nov dec today tonight tomorrow yesterday overnight weekend weekends week weeks weekly month months monthly "
    "year years yearly annual day days daily hour hours hr hrs minute minutes min mins sec secs seconds time "
    "times am pm ago earlier later recently tmrw tmr tonite yday asap soon"
)

_FILLER_WORDS = _words(
    "lol lmao lmfao rofl omg omfg wtf idk imo imho tbh btw fyi pls plz thx ty np yeah yea yep yup nope nah hey "
    "hiya guys gonna wanna gotta kinda sorta dunno stuff thing things lot lots loads bit bits anyone someone "
    "everyone literally basically honestly totally pretty super guess thought thoughts love loved hope feel felt "
    "make makes making made tell told telling reported reports report according including amid also via etc hmm "
    "umm uh oh ah wow yay ugh haha hahaha lel xd ngl fr irl rn u ur meet check checks checking checked watch "
    "watching pic pics photo photos picture pictures image images video videos link links post posts message "
    "messages channel server discord thread emoji mention ping reply edit edited deleted spoiler spoilers news "
    "update updates amazing awesome cool nice great good bad stunning beautiful gorgeous incredible insane crazy "
    "epic wonderful fantastic perfect cute terrible horrible best worst huge big small whole many much several "
    "various another next last first second third final approximately around nearly almost despite said says "
    "saying claimed announced confirmed officials official spokesperson spokesman spokeswoman statement thanks "
    "thank please sorry maybe probably definitely actually really just still even ever never always sometimes "
    "often again already yet got get gets getting go goes going went gone come comes coming came take takes "
    "taking took taken give gives giving gave given put puts putting keep keeps kept let lets letting want wants "
    "wanted wanting need needs needed try tries tried trying know knows knew known think thinks thinking see sees "
    "seeing saw seen look looks looking looked find finds finding found use uses using used sending sent send "
    "sends bring brings bringing brought leave leaves leaving left become becomes became seem seems seemed happen "
    "happens happened happening begin begins began begun start starts started starting continue continues "
    "continued ongoing set sets hit hits struck ran broke fell rose grew drew threw tore wore won lost held led "
    "met paid spent stood sat sold bought caught taught fought dealt meant crept swept slept wept flew drove rode "
    "wrote spoke woke chose froze shook forgot forgotten showed shown shows beat ate eaten anyway someday "
    "somewhere everywhere something anything everything nothing one ones kind sort type way ways part parts place "
    "places area areas side sides end ends number numbers half rest couple few per each every mr mrs ms dr prof "
    "sir madam n't 's 're 'll 've 'd 'm"
)

# Nouns/adjectives ending in "-ed" that may end a phrase ("flower bed").
_ED_NOUNS = _words(
    "bed beds red shed sled shred hundred hundreds sacred naked wicked kindred seabed riverbed flatbed hotbed "
    "sunbed sickbed deathbed daybed waterbed bobsled infrared ted fred ned ed med biped moped coed rugged ragged "
    "crooked beloved learned aged wretched jagged talented dogged crabbed blessed cursed"
)

# Nouns ending in "-ly" that may sit at a phrase edge.
_LY_NOUNS = _words(
    "family italy july fly butterfly dragonfly firefly housefly jelly belly lily holly rally ally assembly "
    "anomaly monopoly supply reply bully gully tally folly trolley melancholy homily lolly dolly sally billy "
    "molly polly emily kelly early daily ugly friendly holy only curly silly lonely lovely chilly hilly woolly "
    "jolly oily smelly sly wily burly surly elderly costly deadly orderly lively stately cuddly bubbly wobbly "
    "sparkly knobbly prickly wiggly"
)

_LANG_STOPWORDS: dict[str, frozenset[str]] = {}
_LOCK = threading.Lock()


def _load_stopwords(lang: str) -> frozenset[str]:
    cached = _LANG_STOPWORDS.get(lang)
    if cached is not None:
        return cached
    try:
        raw = (resources.files("yake.core") / "StopwordsList" / f"stopwords_{lang}.txt").read_bytes()
    except (OSError, ModuleNotFoundError):
        words: frozenset[str] = frozenset()
    else:
        try:
            decoded = raw.decode("utf-8")
        except UnicodeDecodeError:
            decoded = raw.decode("iso-8859-1")
        words = frozenset(w.strip() for w in decoded.lower().splitlines() if w.strip())
    _LANG_STOPWORDS[lang] = words
    return words


@functools.cache
def _english_edge_words() -> frozenset[str]:
    return _load_stopwords("en") | _FILLER_WORDS | _DATE_WORDS


@functools.cache
def _extractor(lang: str) -> yake.KeywordExtractor:
    """One shared YAKE extractor per language (construction reads stop lists)."""
    # Imported on first use: YAKE brings numpy and networkx (~24 MB, ~0.4 s) that only "Find photos" needs.
    import yake

    stopwords = set(_load_stopwords(lang))
    if lang == "en":
        stopwords -= _YAKE_EN_KEEP
        stopwords |= {"n't", "'s", "'re", "'ll", "'ve", "'d", "'m"}
    return yake.KeywordExtractor(
        lan=lang,
        n=_MAX_NGRAM,
        dedup_lim=_DEDUP_LIMIT,
        dedup_func="seqm",
        window_size=1,
        top=_YAKE_TOP,
        stopwords=stopwords or None,
    )


def _detect_language(words: list[str]) -> str:
    """Pick the YAKE stop-word language that covers the most words (English wins ties)."""
    lowered = [w.lower() for w in words]
    if len(lowered) < 6:
        return "en"
    en_hits = sum(w in _load_stopwords("en") for w in lowered)
    best, best_hits = "en", en_hits
    for lang in _DETECTABLE_LANGUAGES[1:]:
        stop = _load_stopwords(lang)
        hits = sum(w in stop for w in lowered)
        if hits > best_hits:
            best, best_hits = lang, hits
    if best != "en" and (best_hits < 3 or best_hits < 1.5 * en_hits):
        return "en"
    return best


# --------------------------------------------------------------------------- #
# Capitalisation
# --------------------------------------------------------------------------- #


@dataclass(frozen=True)
class _TextStats:
    """Orthographic facts about the cleaned text, keyed by lower-cased word."""

    proper: frozenset[str]  # capitalised mid-sentence and never lower-case
    cut_after: frozenset[str]  # every occurrence is followed by another name word ("Central" → "Central Park")
    cut_before: frozenset[str]  # every occurrence is preceded by another name word ("Park" ← "Central Park")


def _text_stats(clean_text: str, edge: frozenset[str]) -> _TextStats:
    capitalised: set[str] = set()
    lower: set[str] = set()
    occurrences: Counter[str] = Counter()
    followed: Counter[str] = Counter()
    preceded: Counter[str] = Counter()
    for sentence in _SENTENCE_SPLIT_RE.split(clean_text):
        prev: re.Match[str] | None = None
        for index, match in enumerate(_WORD_RE.finditer(sentence)):
            word = match.group()
            key = word.lower()
            occurrences[key] += 1
            if word == key:
                lower.add(key)
            elif index > 0 and word[0].isupper():
                capitalised.add(key)
            if (
                prev is not None
                and word[0].isupper()
                and prev.group()[0].isupper()
                and sentence[prev.end() : match.start()] == " "
                and prev.group().lower() not in edge
            ):
                followed[prev.group().lower()] += 1
                preceded[key] += 1
            prev = match
    return _TextStats(
        proper=frozenset(capitalised - lower),
        cut_after=frozenset(k for k, v in followed.items() if v >= occurrences[k]),
        cut_before=frozenset(k for k, v in preceded.items() if v >= occurrences[k]),
    )


def _is_acronym(token: str) -> bool:
    letters = [c for c in token if c.isalpha()]
    return 2 <= len(letters) <= 6 and all(c.isupper() for c in letters)


def _recase(tokens: list[str], proper: frozenset[str]) -> list[str]:
    """Keep proper-noun / acronym capitalisation, lower-case everything else."""
    lowered = [t.lower() for t in tokens]
    is_proper = [low in proper or _is_acronym(tok) for tok, low in zip(tokens, lowered, strict=True)]
    titled = [tok[:1].isupper() or low in _NAME_PARTICLES for tok, low in zip(tokens, lowered, strict=True)]
    # A run of title-case words containing a confirmed proper noun is a name ("New York", "Los Angeles").
    if any(is_proper) and all(titled):
        return list(tokens)
    return [tok if prop else low for tok, low, prop in zip(tokens, lowered, is_proper, strict=True)]


# --------------------------------------------------------------------------- #
# Candidate filtering
# --------------------------------------------------------------------------- #


def _looks_like_adverb(word: str) -> bool:
    return word.endswith("ly") and len(word) >= 5 and word not in _LY_NOUNS


def _looks_like_verb(word: str) -> bool:
    """Crude English test for a past-tense verb or adverb ending a phrase ("storm slammed", "ran quickly")."""
    if word.endswith("ed") and len(word) >= 5 and not word.endswith("eed") and word not in _ED_NOUNS:
        return True
    return _looks_like_adverb(word)


def _norm(word: str) -> str:
    """Fold case and a plural "s" so "Lemons" and "lemon" compare equal."""
    word = word.lower().replace("’", "'")
    if len(word) > 3 and word.endswith("s") and not word.endswith(("ss", "us", "is")):
        word = word[:-1]
    return word


def _contains(haystack: tuple[str, ...], needle: tuple[str, ...]) -> bool:
    n = len(needle)
    return any(haystack[i : i + n] == needle for i in range(len(haystack) - n + 1))


def _acceptable(
    tokens: list[str], lowered: list[str], recased: list[str], stop: frozenset[str], edge: frozenset[str], english: bool
) -> bool:
    if not tokens or any(len(t) > _MAX_TOKEN_LENGTH for t in tokens):
        return False
    if any(not any(c.isalpha() for c in t) for t in tokens):
        return False  # numbers, dates such as 12/05, stray punctuation
    if any(c.isdigit() for t in tokens for c in t):
        return False
    phrase = " ".join(lowered)
    if len(phrase) < _MIN_PHRASE_LENGTH or len(phrase) > MAX_PHRASE_LENGTH:
        return False
    if "http" in phrase or "www." in phrase or any(c in phrase for c in '<>@`*|[]{}()/\\=#:;"“”'):
        return False

    first, last = lowered[0], lowered[-1]

    def in_name(i: int) -> bool:
        # "Great Barrier Reef", "Los Angeles": kept capitalised, title case (not SHOUTING), not a function word.
        word = recased[i]
        return word[:1].isupper() and not word.isupper() and (lowered[i] not in stop or lowered[i] in _NAME_PARTICLES)

    if (
        (first in edge and first not in _EDGE_START_OK and not in_name(0))
        or (last in edge and not in_name(-1))
        or last in _NAME_PARTICLES
    ):
        return False
    if english and not in_name(-1) and _looks_like_verb(last):
        return False
    if english and len(tokens) > 1 and not in_name(0) and _looks_like_adverb(first):
        return False
    if english and any(t in _DATE_WORDS for t in lowered):
        return False
    # Function words inside a phrase are only fine in proper names ("Statue of Liberty").
    inner = lowered[1:-1]
    if any(t in stop for t in inner):
        content = [tok for tok, low in zip(tokens, lowered, strict=True) if low not in stop]
        if not all(tok[:1].isupper() for tok in content):
            return False
    return True


def _candidates(text: str, lang: str) -> list[str]:
    with _LOCK:  # the extractor keeps internal caches; keep it single-threaded
        ranked = _extractor(lang).extract_keywords(text)
    out: list[str] = []
    for item in ranked:
        kw = item[0]
        if isinstance(kw, str):
            out.append(kw)
    return out


def _word_sets(lang: str) -> tuple[frozenset[str], frozenset[str]]:
    """(function words, words that may not start or end a phrase) for ``lang``."""
    stop = _load_stopwords(lang)
    if lang == "en":
        return stop, _english_edge_words()
    # Discord chat mixes languages: English function words never make a good phrase edge either.
    return stop, stop | _load_stopwords("en")


def _select(candidates: Iterable[str], stats: _TextStats, lang: str, limit: int) -> list[str]:
    english = lang == "en"
    stop, edge = _word_sets(lang)
    chosen: list[str] = []
    chosen_keys: list[tuple[str, ...]] = []
    for candidate in candidates:
        tokens = candidate.split()
        lowered = [t.lower().replace("’", "'") for t in tokens]
        recased = _recase(tokens, stats.proper)
        if not _acceptable(tokens, lowered, recased, stop, edge, english):
            continue
        # Half of a multi-word name ("snow covered Central" from "... Central Park").
        if (tokens[-1][:1].isupper() and lowered[-1] in stats.cut_after) or (
            tokens[0][:1].isupper() and lowered[0] in stats.cut_before
        ):
            continue
        key = tuple(_norm(t) for t in tokens)
        if len(set(key)) < len(key):
            continue  # "wildfire wildfire"
        # Drop repeats and fragments of better-ranked phrases, and phrases that only
        # pad a better-ranked one with an extra word ("storm" → "powerful storm").
        if any(_contains(prev, key) or _contains(key, prev) for prev in chosen_keys):
            continue
        phrase = " ".join(recased)
        chosen.append(phrase)
        chosen_keys.append(key)
        if len(chosen) >= limit:
            break
    return chosen


def search_phrases(text: str, *, limit: int = 5) -> list[str]:
    """Return up to ``limit`` photo-searchable phrases from a Discord message, best first.

    Phrases are unique (case-insensitively), at most 100 characters long, and
    never empty. Text without usable prose (empty, only links, mentions, emoji
    or code) gives ``[]``. Proper nouns keep their capitalisation
    ("Central Park", "Whitby harbour"), other words are lower-cased.
    """
    if limit <= 0 or not text or not text.strip():
        return []
    clean = clean_discord_text(text)
    words = _WORD_RE.findall(clean)
    if not words:
        return []
    letters = [c for c in clean if c.isalpha()]
    if len(letters) >= 12 and sum(c.isupper() for c in letters) > 0.6 * len(letters):
        clean = clean.lower()  # SHOUTING: casing carries no information
        words = [w.lower() for w in words]
    lang = _detect_language(words)
    try:
        candidates = _candidates(clean, lang)
    except Exception:  # YAKE already swallows most errors; never break the command
        return []
    return _select(candidates, _text_stats(clean, _word_sets(lang)[1]), lang, limit)
