"""The input vocabulary: kinds of search, their options, query normalisation, and the search itself.

Everything a user can ask for is declared here once; the cogs import these types, and the wire
formats (`bot.wire`) encode them. Words used throughout the code:

- a *result* is one photo or video, as a user sees it on a result message;
- a *chunk* is one Pexels answer of up to 80 results (Pexels calls it a page);
- a *search* (`SearchSpec`) is everything that decides the list of results.
"""

from __future__ import annotations

import functools
import hashlib
import re
import unicodedata
from dataclasses import dataclass
from enum import StrEnum
from typing import Literal, get_args

from bot import messages as M
from bot.errors import BadInput
from bot.i18n import LocaleLike, format_list, tr, untranslate

MAX_QUERY_LENGTH = 100
CHUNK_SIZE = 80
"""Results per Pexels request (`per_page`, Pexels' maximum)."""
MAX_RESULTS = 240
"""How deep a result list can be browsed: three chunks at most, so one search never costs more than three
requests of the 200 an hour the key allows, and the count we show is one Pexels can really serve."""


class Kind(StrEnum):
    """What is being searched."""

    PHOTO = "photo"
    VIDEO = "video"
    CURATED = "curated"


Orientation = Literal["landscape", "portrait", "square"]
Size = Literal["large", "medium", "small"]
ColourName = Literal[
    "red", "orange", "yellow", "green", "turquoise", "blue", "violet", "pink", "brown", "black", "gray", "white"
]  # fmt: skip
ORIENTATIONS: tuple[Orientation, ...] = get_args(Orientation)
SIZES: tuple[Size, ...] = get_args(Size)
COLOURS: tuple[ColourName, ...] = get_args(ColourName)
# fmt: off
PEXELS_LOCALES = (
    "en-US", "pt-BR", "es-ES", "ca-ES", "de-DE", "it-IT", "fr-FR", "sv-SE", "id-ID", "pl-PL",
    "ja-JP", "zh-TW", "zh-CN", "ko-KR", "th-TH", "nl-NL", "hu-HU", "vi-VN", "cs-CZ", "da-DK",
    "fi-FI", "uk-UA", "el-GR", "ro-RO", "nb-NO", "sk-SK", "tr-TR", "ru-RU",
)
"""The `locale` values Pexels' search accepts."""
# fmt: on

_HEX = re.compile(r"#?([0-9a-fA-F]{6}|[0-9a-fA-F]{3})")
_SPACE = re.compile(r"\s+")


def normalise_query(text: str) -> str:
    """The query as we show and send it: Unicode-normalised, whitespace collapsed, trimmed."""
    return _SPACE.sub(" ", unicodedata.normalize("NFKC", text)).strip()


def query_identity(text: str) -> str:
    """The part of a query that decides its results: case and spacing don't."""
    return normalise_query(text).casefold()


def validate_query(text: str) -> str:
    """Return the normalised query, or raise BadInput saying what to type instead."""
    query = normalise_query(text)
    if not query:
        raise BadInput(M.QUERY_EMPTY)
    if len(query) > MAX_QUERY_LENGTH:
        raise BadInput(M.QUERY_TOO_LONG, n=len(query), limit=MAX_QUERY_LENGTH)
    return query


def colour_list(locale: LocaleLike) -> str:
    """Pexels' colour names in the reader's language, joined as their language lists them ("red, …, and white")."""
    return format_list(locale, (tr(locale, colour) for colour in COLOURS))


def parse_colour(text: str | None, locale: LocaleLike = None) -> str | None:
    """A Pexels colour name (in English or the reader's language) or a hex code (`#ffaa00`, `fa0`), normalised to
    what Pexels takes; BadInput otherwise."""
    if text is None or not text.strip():
        return None
    value = text.strip().lower()
    if value in COLOURS:
        return value
    named = untranslate(locale, value, COLOURS) if locale is not None else None
    if named is not None:
        return named
    match = _HEX.fullmatch(value)
    if not match:
        raise BadInput(M.COLOUR_UNKNOWN, value=value[:30], colours=colour_list)
    digits = match[1]
    if len(digits) == 3:
        digits = "".join(c * 2 for c in digits)
    return "#" + digits


def pexels_locale(discord_locale: str | None) -> str | None:
    """Map a Discord client locale (`de`, `pt-BR`, `en-GB`) to the Pexels locale closest to it."""
    if not discord_locale:
        return None
    if discord_locale in PEXELS_LOCALES:
        return discord_locale
    language = discord_locale.split("-")[0].lower()
    aliases = {"no": "nb", "es-419": "es"}
    language = aliases.get(discord_locale, aliases.get(language, language))
    for locale in PEXELS_LOCALES:
        if locale.split("-")[0].lower() == language:
            return locale
    return None


def resolve_locale(override: str | None, client_locale: str | None) -> str | None:
    """The `locale` option when given (checked), else the user's Discord language mapped to Pexels'."""
    if override:
        locale = pexels_locale(override.strip())
        if locale is None:
            raise BadInput(M.LOCALE_UNKNOWN, value=override[:20])
        return locale
    return pexels_locale(client_locale)


@dataclass(frozen=True, slots=True)
class SearchSpec:
    """Everything that decides a result list; also what a button needs to rebuild its result."""

    kind: Kind
    query: str = ""
    orientation: Orientation | None = None
    size: Size | None = None
    colour: str | None = None
    locale: str | None = None

    @property
    def key(self) -> str:
        """A short, stable id of the results: equal for searches Pexels answers the same way."""
        return _key_of(self)

    def describe(self, locale: LocaleLike = None) -> str:
        """How the search reads in a footer: `"sunset"` (straight quotes in every language: the query is read back
        from them) or `Curated by Pexels` in the reader's language (never read back)."""
        return tr(locale, M.CURATED_BY_PEXELS) if self.kind is Kind.CURATED else f'"{self.query}"'


_KEY_KIND = {Kind.PHOTO: "p", Kind.VIDEO: "v", Kind.CURATED: "c"}
"""The letters result keys were first computed with: changing them would orphan every cached search."""


@functools.lru_cache(maxsize=256)
def _key_of(spec: SearchSpec) -> str:
    # Memoised: a press reads its search's key three times (the footer check, the cache, the new buttons).
    options = (spec.orientation, spec.size, spec.colour, spec.locale)
    ident = "|".join([_KEY_KIND[spec.kind], query_identity(spec.query), *(v or "" for v in options)])
    return hashlib.sha256(ident.encode()).hexdigest()[:12]


def curated() -> SearchSpec:
    """The one curated list."""
    return SearchSpec(Kind.CURATED)
