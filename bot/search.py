"""The search service: normalised queries, the shared cache, single-flight fetches and local paging."""

from __future__ import annotations

import asyncio
import hashlib
import logging
import re
import unicodedata
from collections import OrderedDict
from dataclasses import dataclass, replace
from typing import Any

import orjson

from bot.errors import BadInput
from bot.models import Item, Photo, Video
from bot.pexels import MAX_PER_PAGE, PexelsClient, RawPage
from bot.state.base import Cache

log = logging.getLogger(__name__)

MAX_QUERY_LENGTH = 100
MAX_RESULTS = 240
"""How deep a result can be browsed: three Pexels pages at most, so one search never costs more than three
requests of the 200 an hour the key allows, and the count we show is one Pexels can really serve."""
DECODED_CHUNKS = 64
"""Decoded result pages kept beside the cache (about 40 KB each): the pages being browsed right now."""
EMPTY_TTL = 3600
CURATED_TTL = 3600
"""Pexels adds curated photos every hour."""

ORIENTATIONS = ("landscape", "portrait", "square")
SIZES = ("large", "medium", "small")
COLOURS = ("red", "orange", "yellow", "green", "turquoise", "blue", "violet", "pink", "brown", "black", "gray", "white")
# fmt: off
PEXELS_LOCALES = (
    "en-US", "pt-BR", "es-ES", "ca-ES", "de-DE", "it-IT", "fr-FR", "sv-SE", "id-ID", "pl-PL",
    "ja-JP", "zh-TW", "zh-CN", "ko-KR", "th-TH", "nl-NL", "hu-HU", "vi-VN", "cs-CZ", "da-DK",
    "fi-FI", "uk-UA", "el-GR", "ro-RO", "nb-NO", "sk-SK", "tr-TR", "ru-RU",
)
# fmt: on

KIND_PHOTO, KIND_VIDEO, KIND_CURATED = "p", "v", "c"
_HEX = re.compile(r"#?([0-9a-fA-F]{6}|[0-9a-fA-F]{3})")
_SPACE = re.compile(r"\s+")


class NoResults(BadInput):
    """Pexels has nothing for this search."""


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
        raise BadInput("Type something to search for, like `/photo sunset`.")
    if len(query) > MAX_QUERY_LENGTH:
        raise BadInput(f"That search is {len(query)} characters long; keep it under {MAX_QUERY_LENGTH}.")
    return query


def parse_colour(text: str | None) -> str | None:
    """A Pexels colour name or a hex code (`#ffaa00`, `fa0`), normalised; BadInput otherwise."""
    if text is None or not text.strip():
        return None
    value = text.strip().lower()
    if value in COLOURS:
        return value
    match = _HEX.fullmatch(value)
    if not match:
        raise BadInput(
            f"`{value[:30]}` isn't a colour I know. Pick one of {', '.join(COLOURS)}, or a hex code like `#ffaa00`."
        )
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


@dataclass(frozen=True, slots=True)
class SearchSpec:
    """Everything that decides a result list; also what a button needs to rebuild its page."""

    kind: str
    query: str = ""
    orientation: str | None = None
    size: str | None = None
    colour: str | None = None
    locale: str | None = None

    @property
    def key(self) -> str:
        """A short, stable id of the results: equal for searches Pexels answers the same way."""
        ident = "|".join([self.kind, query_identity(self.query), *(v or "" for v in self._options())])
        return hashlib.sha256(ident.encode()).hexdigest()[:12]

    def _options(self) -> tuple[str | None, ...]:
        return (self.orientation, self.size, self.colour, self.locale)

    def code(self) -> str:
        """The options as a compact string for a button's custom_id (the query lives in the message)."""
        return ".".join([self.kind, *(v or "-" for v in self._options())])

    @classmethod
    def from_code(cls, code: str, query: str) -> SearchSpec:
        """Inverse of `code`; raises ValueError on anything we would not have written."""
        parts = code.split(".")
        if len(parts) != 5:
            raise ValueError("wrong number of fields")
        kind, orientation, size, colour, locale = (None if p == "-" else p for p in parts)
        if kind not in (KIND_PHOTO, KIND_VIDEO, KIND_CURATED):
            raise ValueError("unknown kind")
        if orientation not in (None, *ORIENTATIONS) or size not in (None, *SIZES):
            raise ValueError("bad orientation or size")
        try:
            if colour is not None and parse_colour(colour) != colour:
                raise ValueError("bad colour")
        except BadInput:
            raise ValueError("bad colour") from None
        if locale not in (None, *PEXELS_LOCALES):
            raise ValueError("bad locale")
        return cls(kind, query, orientation, size, colour, locale)

    def describe(self) -> str:
        """How the search reads in a footer: `"sunset"` or `Curated by Pexels`."""
        return "Curated by Pexels" if self.kind == KIND_CURATED else f'"{self.query}"'


@dataclass(frozen=True, slots=True)
class Chunk:
    """One Pexels page of up to 80 results, as cached."""

    items: tuple[Item, ...]
    reported: int
    has_next: bool
    end: int | None = None
    """The real number of results when we found Pexels serves fewer than it reports."""

    def encode(self) -> bytes:
        """Compact JSON for the cache."""
        payload: dict[str, Any] = {"r": self.reported, "n": self.has_next, "i": [i.to_row() for i in self.items]}
        if self.end is not None:
            payload["e"] = self.end
        return orjson.dumps(payload)

    @classmethod
    def decode(cls, kind: str, data: bytes) -> Chunk:
        """Inverse of `encode`."""
        payload = orjson.loads(data)
        row_type: type[Photo] | type[Video] = Video if kind == KIND_VIDEO else Photo
        items = tuple(row_type.from_row(row) for row in payload["i"])
        return cls(items, payload["r"], payload["n"], payload.get("e"))


@dataclass(frozen=True, slots=True)
class Slot:
    """One result at a position of a result list."""

    item: Item
    index: int
    total: int
    spec: SearchSpec


def _total(head: Chunk) -> int:
    """How many results we can truthfully offer, judged from the first chunk."""
    if head.end is not None:
        return min(head.end, MAX_RESULTS)
    if not head.has_next or len(head.items) < MAX_PER_PAGE:
        return len(head.items)
    return max(len(head.items), min(head.reported, MAX_RESULTS))


class SearchService:
    """Turns (search, position) into a result, asking Pexels only when the cache can't answer."""

    def __init__(self, client: PexelsClient, cache: Cache, *, ttl: int) -> None:
        self._client = client
        self._cache = cache
        self._ttl = ttl
        self._inflight: dict[str, asyncio.Task[Chunk]] = {}
        self._decoded: OrderedDict[str, tuple[bytes, Chunk]] = OrderedDict()
        self.hits = 0
        self.misses = 0

    @property
    def hit_rate(self) -> float | None:
        """Share of result lookups served from the cache since start (None before the first)."""
        looked = self.hits + self.misses
        return self.hits / looked if looked else None

    async def result(self, spec: SearchSpec, index: int) -> Slot:
        """The result at `index` (clamped to the list), fetching the Pexels page that holds it if needed."""
        head = await self._chunk(spec, 1)
        total = _total(head)
        if total == 0:
            raise NoResults(
                "No results on Pexels for that. Try fewer or more general words"
                + (", or drop the colour, size or orientation filter." if spec.kind == KIND_PHOTO else ".")
            )
        index = max(0, min(index, total - 1))
        page, offset = divmod(index, MAX_PER_PAGE)
        if page == 0:
            return Slot(head.items[offset], index, total, spec)
        chunk = await self._chunk(spec, page + 1)
        if len(chunk.items) < MAX_PER_PAGE or not chunk.has_next:
            head = await self._found_end(spec, head, page * MAX_PER_PAGE + len(chunk.items))
        if offset < len(chunk.items):
            return Slot(chunk.items[offset], index, _total(head), spec)
        return await self._last_served(spec, head, page)

    async def cached_result(self, spec: SearchSpec, index: int) -> Slot | None:
        """The result at `index` if the cache holds it, without asking Pexels."""
        raw = await self._cache.get(self._cache_key(spec, 1))
        if raw is None:
            return None
        head = self._decode(spec, 1, raw)
        total = _total(head)
        if total == 0:
            return None
        index = max(0, min(index, total - 1))
        page, offset = divmod(index, MAX_PER_PAGE)
        chunk = head
        if page:
            raw = await self._cache.get(self._cache_key(spec, page + 1))
            if raw is None:
                return None
            chunk = self._decode(spec, page + 1, raw)
        if offset >= len(chunk.items):
            return None
        return Slot(chunk.items[offset], index, total, spec)

    async def loaded_count(self, spec: SearchSpec, total: int) -> int:
        """How many leading results are in the cache now (for a 🔀 that costs no quota)."""
        count = 0
        for page in range(1, (total - 1) // MAX_PER_PAGE + 2):
            raw = await self._cache.get(self._cache_key(spec, page))
            if raw is None:
                break
            count = min(total, (page - 1) * MAX_PER_PAGE + len(self._decode(spec, page, raw).items))
        return count

    async def _last_served(self, spec: SearchSpec, head: Chunk, empty_page: int) -> Slot:
        """Pexels reported more than it serves: walk back to the last page with results and remember the end."""
        for page in range(empty_page - 1, 0, -1):
            chunk = await self._chunk(spec, page + 1)
            if chunk.items:
                head = await self._found_end(spec, head, page * MAX_PER_PAGE + len(chunk.items))
                return Slot(chunk.items[-1], _total(head) - 1, _total(head), spec)
        head = await self._found_end(spec, head, len(head.items))
        return Slot(head.items[-1], _total(head) - 1, _total(head), spec)

    async def _found_end(self, spec: SearchSpec, head: Chunk, end: int) -> Chunk:
        """Remember (for every process) that this search really ends at `end`; return the updated head."""
        if head.end is not None and head.end <= end:
            return head
        head = replace(head, end=end)
        log.info("Pexels serves %d results for search %s, not the %d it reports", end, spec.key, head.reported)
        await self._cache.set(self._cache_key(spec, 1), head.encode(), self._ttl_for(spec, head))
        return head

    def _cache_key(self, spec: SearchSpec, page: int) -> str:
        return f"search:{spec.key}:{page}"

    def _ttl_for(self, spec: SearchSpec, chunk: Chunk) -> int:
        if not chunk.items:
            return min(self._ttl, EMPTY_TTL)
        return min(self._ttl, CURATED_TTL) if spec.kind == KIND_CURATED else self._ttl

    async def _chunk(self, spec: SearchSpec, page: int) -> Chunk:
        key = self._cache_key(spec, page)
        raw = await self._cache.get(key)
        if raw is not None:
            self.hits += 1
            return self._decode(spec, page, raw)
        task = self._inflight.get(key)
        if task is None:
            self.misses += 1
            task = asyncio.create_task(self._fetch_and_store(spec, page, key))
            self._inflight[key] = task
            task.add_done_callback(lambda done: self._forget(key, done))
        else:
            self.hits += 1
        # Shielded: one waiter giving up (its interaction cancelled) must not cancel the fetch for the others.
        return await asyncio.shield(task)

    def _decode(self, spec: SearchSpec, page: int, raw: bytes) -> Chunk:
        """Decode a cached chunk, reusing the last decoding of the same bytes: a page turn reads one result
        of 80, and decoding all 80 again was most of a press's own CPU time."""
        key = self._cache_key(spec, page)
        memo = self._decoded.get(key)
        if memo is not None and (memo[0] is raw or memo[0] == raw):
            self._decoded.move_to_end(key)
            return memo[1]
        chunk = Chunk.decode(spec.kind, raw)
        self._remember(key, raw, chunk)
        return chunk

    def _remember(self, key: str, raw: bytes, chunk: Chunk) -> None:
        self._decoded[key] = (raw, chunk)
        self._decoded.move_to_end(key)
        if len(self._decoded) > DECODED_CHUNKS:
            self._decoded.popitem(last=False)

    def _forget(self, key: str, task: asyncio.Task[Chunk]) -> None:
        del self._inflight[key]
        if not task.cancelled():
            task.exception()  # retrieved here too: every waiter may have given up

    async def _fetch_and_store(self, spec: SearchSpec, page: int, key: str) -> Chunk:
        chunk = await self._fetch(spec, page)
        raw = chunk.encode()
        await self._cache.set(key, raw, self._ttl_for(spec, chunk))
        self._remember(key, raw, chunk)
        return chunk

    async def _fetch(self, spec: SearchSpec, page: int) -> Chunk:
        raw: RawPage
        if spec.kind == KIND_CURATED:
            raw = await self._client.curated(page=page)
        elif spec.kind == KIND_VIDEO:
            raw = await self._client.search_videos(
                spec.query, page=page, orientation=spec.orientation, size=spec.size, locale=spec.locale
            )
        else:
            raw = await self._client.search_photos(
                spec.query,
                page=page,
                orientation=spec.orientation,
                size=spec.size,
                color=spec.colour,
                locale=spec.locale,
            )
        return Chunk(raw.items, raw.total, raw.has_next)
