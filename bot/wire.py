"""Every format the bot writes and later reads back: component ids, the footer, and cached chunks.

Buttons are stateless: each carries what a press needs in its custom_id, so presses work after a
restart and on any process, and an open result message costs no memory. Everything read back here
is untrusted input (a modified client can send any custom_id): parsers raise `ValueError` on
anything the bot would not have written.

| format | example | written / read by |
| --- | --- | --- |
| result button `px:{state}` | `px:n:80351110224678912:3:p.landscape.-.-.de-DE:1f0c9a3b2d4e` | `ui` / `buttons` |
| jump modal `pxm:{state}` | `pxm:j:80351110224678912:3:c.-.-.-.-:0d1e2f3a4b5c` | `jump` / `jump` |
| jump modal's text input | `pxm-number` | `jump` / `jump` |
| Find photos select `pxk:{owner}:{locale}` | `pxk:80351110224678912:de-DE` | `cogs.discover` |
| saved-items button `pxs:{action}:{owner}:{index}[:{item}]` | `pxs:r:80351110224678912:4:p2014422` | `saved` |
| result footer `{position} / {total} · {search}` | `3 / 240 · "sunset"`, `1 / 80 · Kuratiert von Pexels` | `ui` / all |
| cached chunk `{"v": 2, "r": reported, "n": has_next, "e": end, "i": [rows]}` | JSON, zlib | `store` / `store` |

The saved-items browser (`SavedState`) is stateless the same way: `{action}` is one letter of
`SavedAction`, `{index}` the position in the user's list (newest first), and `{item}` (🗑 only) the item
it removes, `p` or `v` and its Pexels id, so a press removes what the user saw even if the list moved.

`{state}` is `{action}:{owner}:{index}:{options}:{key}` (`ButtonState`), the same for buttons and the
modal they open. `{options}` is `{kind}.{orientation}.{size}.{colour}.{locale}` with `-` for "not set" and the kind as
one letter (`p` photo, `v` video, `c` curated). `{key}` is `SearchSpec.key`: a press is acted on only
when the key of the search rebuilt from the custom_id and the footer's query matches it. The query
lives in the footer, not in the custom_id, because a 100-character query would not fit in Discord's
100-character custom_id.

The footer is written in the searcher's language but read back the same from every language: the
numbers are ASCII digits, the `N / M · ` prefix has no words, and the query stands between straight
double quotes. Curated's footer has translated words in place of a query; they are not read back.

Cached rows are positional lists whose fields are named in `PHOTO_FIELDS` / `VIDEO_FIELDS`. A row
shorter than the fields (written by an older release) gets each missing field's default; a longer
one (written by a newer release) has its extra fields ignored. So a new field is added at the end
with a default, and rows from the previous release keep being read. A change that cannot be made
that way bumps `CHUNK_FORMAT`; chunks of another format are ignored (a cache miss), never an error.

Format 2 (this release) is format 1's JSON compressed with zlib (with a preset dictionary of Pexels'
URL shapes), its links written short when they have Pexels' usual shape: a page link as its slug
(`https://www.pexels.com/photo/{slug}-{id}/`), a profile link as `@name`, a photo's image as "" when
it is `https://images.pexels.com/photos/{id}/pexels-photo-{id}.jpeg?` + the usual query. Any other link
is kept whole, so every link reads back exactly. An 80-photo chunk takes about 3 KB instead of 24 KB.
Format-1 chunks (uncompressed JSON, full links) are still read.
"""

from __future__ import annotations

import functools
import logging
import re
import zlib
from dataclasses import dataclass
from enum import StrEnum
from typing import Any, cast

import orjson

from bot.errors import BadInput
from bot.i18n import LocaleLike
from bot.models import Chunk, Item, Photo, Video, VideoFile
from bot.vocab import ORIENTATIONS, PEXELS_LOCALES, SIZES, Kind, SearchSpec, parse_colour

log = logging.getLogger(__name__)


class Action(StrEnum):
    """What a result button does; the value is its letter in the custom_id."""

    FIRST = "f"
    PREVIOUS = "p"
    NEXT = "n"
    LAST = "l"
    RANDOM = "r"
    DELETE = "d"
    POST = "s"
    JUMP = "j"
    SAVE = "k"
    """⭐: keep the result in the presser's saved items (anyone may press it)."""


BUTTON_PREFIX, MODAL_PREFIX, SELECT_PREFIX, SAVED_PREFIX = "px:", "pxm:", "pxk:", "pxs:"
JUMP_FIELD = "pxm-number"

_STATE = (
    r"(?P<action>[" + "".join(a.value for a in Action) + r"]):(?P<owner>[0-9]{1,20}):(?P<index>[0-9]{1,4})"
    r":(?P<spec>[a-zA-Z0-9#.-]{9,40}):(?P<key>[0-9a-f]{12})"
)
BUTTON_PATTERN = re.escape(BUTTON_PREFIX) + _STATE
"""The result buttons' custom_id, as a discord.py DynamicItem template."""
MODAL_PATTERN = re.escape(MODAL_PREFIX) + _STATE
SELECT_PATTERN = re.escape(SELECT_PREFIX) + r"(?P<owner>[0-9]{1,20}):(?P<locale>[a-zA-Z-]{1,5})"
"""The Find photos select's custom_id, as a discord.py DynamicItem template."""

_BUTTON = re.compile(BUTTON_PATTERN)
_MODAL = re.compile(MODAL_PATTERN)
_FOOTER = re.compile(r"(?P<position>\d+) / (?P<total>\d+) · (?P<search>.*)", re.DOTALL)

_KIND_LETTERS = {Kind.PHOTO: "p", Kind.VIDEO: "v", Kind.CURATED: "c"}
_LETTER_KINDS = {letter: kind for kind, letter in _KIND_LETTERS.items()}


def _snowflake(text: str) -> int:
    value = int(text)
    if value >= 2**64:
        raise ValueError("not a snowflake")
    return value


def _colour_of(text: str) -> str | None:
    try:
        return parse_colour(text)
    except BadInput:
        return None


def encode_options(spec: SearchSpec) -> str:
    """The search's options (not its query) as `{kind}.{orientation}.{size}.{colour}.{locale}`."""
    options = (spec.orientation, spec.size, spec.colour, spec.locale)
    return ".".join([_KIND_LETTERS[spec.kind], *(v or "-" for v in options)])


@functools.lru_cache(maxsize=256)
def decode_options(code: str, query: str) -> SearchSpec:
    """Inverse of `encode_options`, with the query read back from the message; ValueError if we didn't write it.

    Memoised (a press decodes its options twice, and the results being browsed recur); errors are not cached."""
    parts = code.split(".")
    if len(parts) != 5:
        raise ValueError("wrong number of fields")
    letter, orientation, size, colour, locale = (None if p == "-" else p for p in parts)
    kind = _LETTER_KINDS.get(letter or "")
    if kind is None:
        raise ValueError("unknown kind")
    if orientation not in (None, *ORIENTATIONS) or size not in (None, *SIZES):
        raise ValueError("bad orientation or size")
    if colour is not None and _colour_of(colour) != colour:
        raise ValueError("bad colour")
    if locale not in (None, *PEXELS_LOCALES):
        raise ValueError("bad locale")
    return SearchSpec(kind, query, cast("Any", orientation), cast("Any", size), colour, locale)


def button_id(action: Action, owner: int, index: int, options: str, key: str, prefix: str = BUTTON_PREFIX) -> str:
    """`ButtonState(action, owner, index, options, key).encode(prefix)` without building the state: a result's
    buttons are written for every page turn."""
    return f"{prefix}{action}:{owner}:{index}:{options}:{key}"


@dataclass(frozen=True, slots=True)
class ButtonState:
    """What one press needs to know, as carried in a result button's (or the jump modal's) custom_id."""

    action: Action
    owner: int
    index: int
    options: str
    key: str

    def encode(self, prefix: str = BUTTON_PREFIX) -> str:
        """The custom_id (at most 100 characters, as Discord requires)."""
        return button_id(self.action, self.owner, self.index, self.options, self.key, prefix)

    @classmethod
    def from_match(cls, match: re.Match[str]) -> ButtonState:
        """Build from a match of BUTTON_PATTERN or MODAL_PATTERN, validating the numbers and the options."""
        decode_options(match["spec"], "")
        return cls(
            Action(match["action"]), _snowflake(match["owner"]), int(match["index"]), match["spec"], match["key"]
        )

    @classmethod
    def parse(cls, custom_id: str, *, modal: bool = False) -> ButtonState:
        """Parse an untrusted custom_id; ValueError on anything we would not have written."""
        match = (_MODAL if modal else _BUTTON).fullmatch(custom_id)
        if not match:
            raise ValueError("not one of our custom_ids")
        return cls.from_match(match)

    def spec(self, query: str) -> SearchSpec:
        """The search this state belongs to, with the query read back from the message."""
        return decode_options(self.options, query)

    def search_of(self, footer: str | None) -> SearchSpec | None:
        """The search, if the footer is ours and its query matches the key (None: not ours, or tampered)."""
        parsed = parse_footer(footer)
        if parsed is None:
            return None
        spec = self.spec(parsed.query)
        return spec if spec.key == self.key else None


@dataclass(frozen=True, slots=True)
class SelectState:
    """The Find photos select's custom_id: who may use it, and the language to search in."""

    owner: int
    locale: str | None

    def encode(self) -> str:
        """The custom_id."""
        return f"{SELECT_PREFIX}{self.owner}:{self.locale or '-'}"

    @classmethod
    def from_match(cls, match: re.Match[str]) -> SelectState:
        """Build from a match of SELECT_PATTERN (an unknown locale reads as "not set")."""
        locale = match["locale"]
        return cls(_snowflake(match["owner"]), locale if locale in PEXELS_LOCALES else None)


class SavedAction(StrEnum):
    """What a button of the saved-items browser does; the value is its letter in the custom_id."""

    FIRST = "f"
    PREVIOUS = "p"
    NEXT = "n"
    LAST = "l"
    COUNTER = "c"
    """The position label: always disabled."""
    REMOVE = "r"
    CLEAR = "x"
    """Confirms /saved clear."""
    KEEP = "q"
    """Cancels /saved clear."""


_SAVED = re.compile(
    re.escape(SAVED_PREFIX)
    + r"(?P<action>["
    + "".join(a.value for a in SavedAction)
    + r"]):(?P<owner>[0-9]{1,20}):(?P<index>[0-9]{1,4})"
    r"(?::(?P<kind>[pv])(?P<id>[0-9]{1,19}))?"
)
_SAVED_KINDS = {"p": "photo", "v": "video"}


@dataclass(frozen=True, slots=True)
class SavedState:
    """One press in the saved-items browser: who it belongs to, where in the list, and (🗑) which item."""

    action: SavedAction
    owner: int
    index: int
    item: tuple[str, int] | None = None
    """(kind, Pexels id) of the item 🗑 removes: kind is "photo" or "video"."""

    def encode(self) -> str:
        """The custom_id."""
        tail = f":{self.item[0][0]}{self.item[1]}" if self.item else ""
        return f"{SAVED_PREFIX}{self.action}:{self.owner}:{self.index}{tail}"

    @classmethod
    def parse(cls, custom_id: str) -> SavedState:
        """Parse an untrusted custom_id; ValueError on anything we would not have written."""
        match = _SAVED.fullmatch(custom_id)
        if not match:
            raise ValueError("not one of our custom_ids")
        action = SavedAction(match["action"])
        item = (_SAVED_KINDS[match["kind"]], int(match["id"])) if match["kind"] else None
        if (action is SavedAction.REMOVE) != (item is not None):
            raise ValueError("only 🗑 carries an item")
        return cls(action, _snowflake(match["owner"]), int(match["index"]), item)


@dataclass(frozen=True, slots=True)
class Footer:
    """What a result footer says: the position, the total and the search's query ("" for curated)."""

    position: int
    total: int
    query: str


def footer_text(position: int, total: int, spec: SearchSpec, locale: LocaleLike = None) -> str:
    """The counter, like `3 / 240 · "sunset"` (positions from 1), the same in every language but for curated's
    words (`1 / 80 · Kuratiert von Pexels`), which are not read back: the kind comes from the custom_id."""
    return f"{position} / {total} · {spec.describe(locale)}"


def parse_footer(text: str | None) -> Footer | None:
    """Read a result footer back (None if it isn't one of ours)."""
    match = _FOOTER.match(text or "")
    if not match:
        return None
    search = match["search"]
    query = search[1:-1] if len(search) >= 2 and search[0] == search[-1] == '"' else ""
    return Footer(int(match["position"]), int(match["total"]), query)


# --------------------------------------------------------------------------- cached chunks

CHUNK_FORMAT = 2
PHOTO_FIELDS: tuple[tuple[str, Any], ...] = (
    ("id", None),
    ("url", None),
    ("image", None),
    ("photographer", None),
    ("photographer_url", None),
    ("colour", None),
    ("alt", ""),
    ("width", 0),
    ("height", 0),
)
"""A photo row's fields in order, with the default a row too short for the field gets (None: required)."""
VIDEO_FIELDS: tuple[tuple[str, Any], ...] = (
    ("id", None),
    ("url", None),
    ("image", None),
    ("duration", 0),
    ("user_name", None),
    ("user_url", None),
    ("file", None),
    ("width", 0),
    ("height", 0),
)
VIDEO_FILE_FIELDS: tuple[tuple[str, Any], ...] = (("link", None), ("width", 0), ("height", 0))


def _row(item: object, fields: tuple[tuple[str, Any], ...]) -> list[Any]:
    return [getattr(item, name) for name, _ in fields]


def _values(row: object, fields: tuple[tuple[str, Any], ...]) -> dict[str, Any]:
    if not isinstance(row, list):
        raise ValueError("row is not a list")
    values = {}
    for position, (name, default) in enumerate(fields):
        if position < len(row):
            values[name] = row[position]
        elif default is None:
            raise ValueError(f"row has no {name}")
        else:
            values[name] = default
    return values


def _item_row(item: Item) -> list[Any]:
    if isinstance(item, Video):
        row = _row(item, VIDEO_FIELDS)
        row[[name for name, _ in VIDEO_FIELDS].index("file")] = item.file and _row(item.file, VIDEO_FILE_FIELDS)
        return row
    return _row(item, PHOTO_FIELDS)


def _item(kind: Kind, row: object) -> Item:
    if kind is not Kind.VIDEO and type(row) is list and len(row) == len(PHOTO_FIELDS):
        return Photo(*row)  # the usual row: every field, in order (the same as the general path below, faster)
    if kind is Kind.VIDEO:
        values = _values(row, VIDEO_FIELDS)
        values["file"] = VideoFile(**_values(values["file"], VIDEO_FILE_FIELDS)) if values["file"] else None
        return Video(**values)
    return Photo(**_values(row, PHOTO_FIELDS))


_PAGE = "https://www.pexels.com/"
_IMAGE = "https://images.pexels.com/photos/{id}/pexels-photo-{id}.jpeg?auto=compress&cs=tinysrgb&h=650&w=940"
CHUNK_DICTIONARY = (
    b'"https://images.pexels.com/photos/","https://images.pexels.com/videos/","https://videos.pexels.com/video-files/'
    b'.jpeg?auto=compress&cs=tinysrgb&fit=crop&h=630&w=1200",".jpeg?auto=compress&cs=tinysrgb&h=650&w=940",'
    b'"https://www.pexels.com/video/","https://www.pexels.com/@","https://www.pexels.com/photo/"'
    b'-photo-",{"v":2,"r":,"n":true,"i":[["'
)
"""zlib's preset dictionary for chunks: fixed for format 2 (changing it is a new format)."""


def _short_page(url: str, item_id: int, section: str) -> str:
    """A page link as its slug when it is `https://www.pexels.com/{section}/{slug}-{id}/`, else whole."""
    prefix, suffix = f"{_PAGE}{section}/", f"-{item_id}/"
    if url.startswith(prefix) and url.endswith(suffix) and len(url) > len(prefix) + len(suffix):
        slug = url[len(prefix) : -len(suffix)]
        if "/" not in slug and ":" not in slug:
            return slug
    return url


def _long_page(short: str, item_id: int, section: str) -> str:
    return short if short.startswith("https://") else f"{_PAGE}{section}/{short}-{item_id}/"


def _short_profile(url: str) -> str:
    """A profile link as `@name` when it is `https://www.pexels.com/@name`, else whole ("" stays "")."""
    return url[len(_PAGE) :] if url.startswith(f"{_PAGE}@") else url


def _long_profile(short: str) -> str:
    return f"{_PAGE}{short}" if short.startswith("@") else short


def _compact_row(item: Item) -> list[Any]:
    if isinstance(item, Video):
        row = _item_row(item)
        row[1] = _short_page(item.url, item.id, "video")
        row[5] = _short_profile(item.user_url)
        return row
    pid = item.id  # PHOTO_FIELDS' order, written out: this runs 80 times per search
    image = "" if item.image == _IMAGE.format(id=pid) else item.image
    url, profile = _short_page(item.url, pid, "photo"), _short_profile(item.photographer_url)
    return [pid, url, image, item.photographer, profile, item.colour, item.alt, item.width, item.height]


def _expand_row(kind: Kind, row: object) -> object:
    """A format-2 row with its short links written out whole again (a row it can't read is left to `_item`)."""
    links = (1, 5) if kind is Kind.VIDEO else (1, 2, 4)
    if not isinstance(row, list) or len(row) <= links[-1] or not isinstance(row[0], int):
        return row
    if not all(isinstance(row[n], str) for n in links):
        return row
    row = list(row)
    item_id = row[0]
    if kind is Kind.VIDEO:
        row[1] = _long_page(row[1], item_id, "video")
        row[5] = _long_profile(row[5])
    else:
        row[1] = _long_page(row[1], item_id, "photo")
        row[2] = row[2] or _IMAGE.format(id=item_id)
        row[4] = _long_profile(row[4])
    return row


def encode_chunk(chunk: Chunk) -> bytes:
    """A chunk as compact, compressed JSON for the cache (format 2)."""
    payload: dict[str, Any] = {
        "v": CHUNK_FORMAT,
        "r": chunk.reported,
        "n": chunk.has_next,
        "i": [_compact_row(item) for item in chunk.items],
    }
    if chunk.end is not None:
        payload["e"] = chunk.end
    # Level 4, memLevel 8: 85 µs and ~3.0 KB for 80 photos, against 237 µs and 2.9 KB at 6 and 9 (timeit).
    packer = zlib.compressobj(4, zlib.DEFLATED, 15, 8, zlib.Z_DEFAULT_STRATEGY, CHUNK_DICTIONARY)
    return packer.compress(orjson.dumps(payload)) + packer.flush()


def decode_chunk(kind: Kind, data: bytes) -> Chunk | None:
    """Inverse of `encode_chunk`, also reading format 1; None (a cache miss) for a chunk we can't read."""
    try:
        if data[:1] != b"{":  # format 1 is plain JSON; format 2 is compressed
            unpacker = zlib.decompressobj(15, CHUNK_DICTIONARY)
            data = unpacker.decompress(data, _MAX_CHUNK_BYTES)
            if unpacker.unconsumed_tail:
                raise ValueError("chunk too large")
        payload = orjson.loads(data)
        version = payload.get("v", 1)
        if version not in (1, CHUNK_FORMAT):
            return None
        rows = payload["i"]
        if version == CHUNK_FORMAT and isinstance(rows, list):
            rows = [_expand_row(kind, row) for row in rows]
        items = tuple(_item(kind, row) for row in rows)
        end = payload.get("e")
        return Chunk(items, int(payload["r"]), bool(payload["n"]), None if end is None else int(end))
    except (orjson.JSONDecodeError, zlib.error, AttributeError, KeyError, TypeError, ValueError) as exc:
        log.warning("Ignoring a cached chunk this release can't read (%s: %s); it will be fetched again", kind, exc)
        return None


_MAX_CHUNK_BYTES = 4 * 1024 * 1024
"""The most a cached chunk may decompress to (80 results take about 25 KB): a corrupt entry is no zlib bomb."""
