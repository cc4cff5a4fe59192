"""A loopback fake of the Pexels API (photos + videos) for unit tests, end-to-end tests and benchmarks.

It follows Pexels' public API documentation and recorded real answers. It is an ``aiohttp.web`` server bound to
``127.0.0.1`` on a random free port, running in the caller's event loop::

    async with FakePexels() as fake:
        fake.set_total("red flower", 200)
        ...  # point the client at fake.url (photos under /v1, videos under /videos)
        assert fake.photo("red flower", 0)["alt"] == "Red flower photo 0"

What it serves, deterministically and lazily (nothing is precomputed), true to 53 recorded Pexels answers:

* Item ``i`` (0-based, across pages) of a search is ``fake.photo(query, i, **options)`` /
  ``fake.video(query, i, **options)``. Curated photos and popular videos use ``query=""``.
* Queries are compared after casefold + whitespace collapse. ``locale`` is case-normalised (``uk-ua`` ->
  ``uk-UA``), hex colours with or without ``#`` and in any case are the same colour.
* Photos: every index ``i % 10 == 7`` has ``alt == ""`` (on curated, every odd index: empty alt is common
  there); every ``i % 10 == 5`` has a long, sentence-like alt; every ``i % 20 == 13`` has ``avg_color is None``;
  every ``i % 20 == 9`` has a credit name with doubled and trailing spaces. Photo page URLs stay English
  whatever the locale (as recorded).
* Videos: rendition ladders of several shapes, most not 16:9 (4096x2160, 2048x1080, 2002x1080, 2048x1024,
  portrait 1080x2048, ...). Every file has ``size`` in bytes except on legacy (Vimeo-hosted) videos; about
  one video in ten has two files of the same size differing only in ``fps`` (25/50, 29.97/59.94); new
  uploads have ``quality: null``. Quirks, once per 40 videos each: index ``i % 40 == 11`` is a legacy video
  with an ``"hls"`` entry (null width/height/fps, ``.m3u8`` link); ``i % 40 == 23`` has a label that contradicts
  its size; ``i % 40 == 29`` has two files of the same size and fps that differ in bytes. With a ``locale``
  other than en-US, video page URLs carry no slug (``https://www.pexels.com/uk-ua/video/12345/``).
* Total results: ``default_total`` unless :meth:`FakePexels.set_total` was called. ``total_results`` reports
  ``min(total, total_cap)``, only ``served`` items are really returned (the "inflated total" quirk).
* ``next_page`` is present when ``page * per_page < total_results`` (so, for an inflated total, it is still there
  on the last page that has data, as observed in reality). Past the end the body is
  ``{"page":1,"per_page":1,"photos":[],"total_results":0}``.
* ``compression = "gzip" | "br"`` compresses every answer whose request accepts that encoding.

Fault modes, each for the next request(s): :meth:`fail_next` (any status, body and headers, e.g. a 429 with
``Retry-After``), :meth:`edge_block_next` (Cloudflare's HTML 401/403), :meth:`malformed_next`,
:meth:`wrong_shape_next`, :meth:`slow_next`, :meth:`rate_headers_next` (silly X-Ratelimit-* values),
:meth:`huge_next` (a 26-50 MB body, sized or chunked), :meth:`endless_next` (a chunked body that never ends),
:meth:`bomb_next` (a small compressed body that expands enormously). Streamed answers are recorded in
``streams`` with the bytes really sent before the client went away. :meth:`tamper` rewrites fields of one
item of a search (hostile values: :data:`LINK_INJECTION`, :data:`JAVASCRIPT_URL`, :data:`NOT_A_URL`).
``retry_after_on_429 = True`` makes the fake's own hourly/monthly 429s carry ``Retry-After``.

Request pipeline, in order: record -> take injected delay/fault -> User-Agent check (403 HTML) ->
``Authorization`` check (401) -> rate limit (429) -> count against the quota -> route (404 / 400 / 200).
Everything is decided when the request arrives; the delay (``latency`` + ``slow_next`` + fault delay) is slept
afterwards, so the order of the counters follows the arrival order. Injected faults (``fail_next`` & co.) are
consumed by the next requests whatever their auth; injected 2xx answers count against the quota and carry the
X-Ratelimit-* headers. 400 and 404 answers to authorised requests count too (the real behaviour is unknown).
``GET /v1/photos/{id}`` and ``/videos/videos/{id}`` know every id the fake has generated (served or via
:meth:`FakePexels.photo` / :meth:`FakePexels.video`); any other id is a 404.
"""

from __future__ import annotations

import asyncio
import collections
import functools
import gzip
import json
import math
import random
import re
import socket
import time
import unicodedata
import zlib
from dataclasses import dataclass, field
from types import TracebackType
from typing import Any, Final, Literal
from urllib.parse import urlencode

import brotli
from aiohttp import web

__all__ = ["JAVASCRIPT_URL", "LINK_INJECTION", "NOT_A_URL", "FakePexels", "RecordedRequest", "StreamRecord"]

LINK_INJECTION: Final = "https://www.pexels.com/@x) · [Claim your Nitro](https://evil.example/nitro"
"""A credit URL crafted to close a markdown link and open one to another site."""
JAVASCRIPT_URL: Final = "javascript:alert(1)"
NOT_A_URL: Final = "not a url at all"

JSON_CT: Final = "application/json; charset=utf-8"
HTML_CT: Final = "text/html; charset=UTF-8"
DEFAULT_PER_PAGE: Final = 15
MAX_PER_PAGE: Final = 80
_HOUR: Final = 3600.0
_THIRTY_DAYS: Final = 30 * 24 * 3600
_ID_SPACE: Final = 2**26  # ids are 1_000_000 + a permutation of this space, unique within one search
_ID_OFFSET: Final = 1_000_000
_PAGE_CACHE_SIZE: Final = 256

_PHOTO_SRC_SUFFIXES: Final[tuple[tuple[str, str], ...]] = (
    ("original", ""),
    ("large2x", "?auto=compress&cs=tinysrgb&dpr=2&h=650&w=940"),
    ("large", "?auto=compress&cs=tinysrgb&h=650&w=940"),
    ("medium", "?auto=compress&cs=tinysrgb&h=350"),
    ("small", "?auto=compress&cs=tinysrgb&h=130"),
    ("portrait", "?auto=compress&cs=tinysrgb&fit=crop&h=1200&w=800"),
    ("landscape", "?auto=compress&cs=tinysrgb&fit=crop&h=627&w=1200"),
    ("tiny", "?auto=compress&cs=tinysrgb&dpr=1&fit=crop&h=200&w=280"),
)

# (display name, user id): a fixed roster so one id always has one name. Some names are non-ASCII on purpose.
_PEOPLE: Final[tuple[tuple[str, int], ...]] = (
    ("Mila Novak", 24391157),
    ("Jonas Weber", 3149039),
    ("José Núñez", 1181292),
    ("Zoë Müller", 5537641),
    ("Aiko Tanaka", 7120455),
    ("山田 太郎", 9938201),
    ("Olu Adeyemi", 2204718),
    ("Chloé Lefèvre", 4471093),
    ("Sven Ødegård", 8123374),
    ("Priya Raman", 1675520),
    ("Łukasz Kowalski", 6390012),
    ("Ana Souza", 3019987),
    ("Emre Yıldız", 1294433),
    ("Nguyễn Văn An", 11120874),
    ("Kateryna Bondar", 20411236),
    ("Liam O'Connor", 773014),
    ("Fatima Zahra", 15502211),
    ("Mateo García", 2890345),
    ("Ingrid Holm", 4012876),
    ("Ahmed Hassan", 13377008),
    ("pixabay", 2659),
    ("Kindel Media", 1437723),
    ("Tima Miroshnichenko", 5392561),
    ("Anna Shvets", 3369),
)

# Rendition ladders as recorded: most recent renditions are not 16:9.
_VIDEO_LADDERS: Final[dict[str, tuple[tuple[tuple[int, int], ...], ...]]] = {
    "landscape": (
        ((3840, 2160), (2560, 1440), (1920, 1080), (1280, 720), (960, 540), (640, 360)),
        ((4096, 2160), (2048, 1080), (1366, 720), (960, 506), (640, 338)),
        ((4004, 2160), (2002, 1080), (1334, 720), (1000, 540), (666, 360)),
        ((4096, 2048), (2048, 1024), (1440, 720), (1280, 640), (640, 320)),
    ),
    "portrait": (
        ((2160, 3840), (1440, 2560), (1080, 1920), (720, 1280), (540, 960), (360, 640)),
        ((2160, 4096), (1080, 2048), (720, 1366), (506, 960), (338, 640)),
    ),
    "square": (((2160, 2160), (1440, 1440), (1080, 1080), (720, 720), (540, 540), (360, 360)),),
}
_VIDEO_FPS: Final = (23.976, 24.0, 25.0, 29.97, 30.0, 50.0, 59.94, 60.0)
_DOUBLED_FPS: Final = {23.976: 47.952, 24.0: 48.0, 25.0: 50.0, 29.97: 59.94, 30.0: 60.0}
_LONG_ALT: Final = (
    "seen from a low angle in the soft light of late afternoon, with people walking past in the background, "
    "a row of trees along the street, warm reflections on the wet pavement after the rain, and a few clouds "
    "drifting across a pale blue sky above the rooftops of the old town"
)
_PHOTO_MIN_MP: Final = {"large": 24.0, "medium": 12.0, "small": 4.0}
_HEX_RE: Final = re.compile(r"#?(?:[0-9a-f]{3}){1,2}")

_CLOUDFLARE_403: Final = """<!DOCTYPE html>
<!--[if lt IE 7]> <html class="no-js ie6 oldie" lang="en-US"> <![endif]-->
<html class="no-js" lang="en-US">
<head>
<title>Attention Required! | Cloudflare</title>
<meta charset="UTF-8" />
</head>
<body>
  <div id="cf-wrapper">
    <h1 data-translate="block_headline">Sorry, you have been blocked</h1>
    <h2 class="cf-subheadline">You are unable to access pexels.com</h2>
    <p>This website is using a security service to protect itself from online attacks.</p>
    <span class="cf-footer-item">Cloudflare Ray ID: <strong>8c1f0e2d9a7b4f21</strong></span>
  </div>
</body>
</html>
"""


def _html_error_page(status: int) -> str:
    return (
        '<!DOCTYPE html>\n<html lang="en-US">\n<head><title>api.pexels.com | '
        f"{status}: Error</title></head>\n<body><h1>Error {status}</h1>"
        "<p>The web server reported an error.</p>"
        "<span>Cloudflare Ray ID: <strong>8c1f0e2d9a7b4f22</strong></span></body>\n</html>\n"
    )


# --------------------------------------------------------------------------------------------------------------
# Small helpers
# --------------------------------------------------------------------------------------------------------------


def normalize_query(query: str) -> str:
    """Casefold and collapse whitespace: the form under which the fake compares queries."""
    return " ".join(query.casefold().split())


def _norm_locale(locale: str | None) -> str | None:
    if locale is None or not locale.strip():
        return None
    parts = locale.strip().replace("_", "-").split("-")
    if len(parts) == 2 and parts[0] and parts[1]:
        return f"{parts[0].lower()}-{parts[1].upper()}"
    return locale.strip()


def _norm_option(value: str | None) -> str | None:
    if value is None or not value.strip():
        return None
    return value.strip().casefold()


def _norm_color(value: str | None) -> str | None:
    v = _norm_option(value)
    if v is not None and _HEX_RE.fullmatch(v) and (v.startswith("#") or any(c.isdigit() for c in v)):
        return "#" + v.lstrip("#")
    return v


@functools.lru_cache(maxsize=8192)
def _slugify(text: str) -> str:
    ascii_text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode("ascii").lower()
    return re.sub(r"[^a-z0-9]+", "-", ascii_text).strip("-")


_PEOPLE_WITH_HANDLES: Final = tuple((name, pid, _slugify(name) or "user") for name, pid in _PEOPLE)


def _capitalize(text: str) -> str:
    return text[:1].upper() + text[1:]


def _canon_header(name: str) -> str:
    return "-".join(part.capitalize() for part in name.split("-"))


def _dumps(obj: Any) -> bytes:
    # Like the real API: raw UTF-8, and '&' inside URLs written as \u0026 ('&' can only occur inside strings).
    return json.dumps(obj, ensure_ascii=False, separators=(",", ":")).replace("&", "\\u0026").encode("utf-8")


class _Headers(dict[str, str]):
    """A dict of request headers stored under Title-Case names; lookups ignore case."""

    def __getitem__(self, key: str) -> str:
        return super().__getitem__(_canon_header(key))

    def __contains__(self, key: object) -> bool:
        return isinstance(key, str) and super().__contains__(_canon_header(key))

    def get(self, key: str, default: Any = None) -> Any:
        return super().get(_canon_header(key), default)


@dataclass
class RecordedRequest:
    """One request as the fake received it. ``headers`` keys are Title-Case; lookups are case-insensitive."""

    method: str
    path: str
    query: dict[str, str]
    headers: dict[str, str]
    at: float  # time.monotonic() at arrival


@dataclass(frozen=True, slots=True)
class _Spec:
    """Identifies one result list: its items depend on nothing else."""

    kind: Literal["photo", "video"]
    query: str  # normalised; "" for curated / popular
    locale: str | None = None
    orientation: str | None = None
    size: str | None = None
    color: str | None = None
    seed: str = field(default="", compare=False)

    @classmethod
    def make(
        cls,
        kind: Literal["photo", "video"],
        query: str,
        *,
        locale: str | None = None,
        orientation: str | None = None,
        size: str | None = None,
        color: str | None = None,
    ) -> _Spec:
        values = (
            normalize_query(query),
            _norm_locale(locale),
            _norm_option(orientation),
            _norm_option(size),
            _norm_color(color) if kind == "photo" else None,
        )
        return cls(kind, *values, seed="\x1f".join((kind, *(v or "" for v in values))))


@dataclass
class StreamRecord:
    """One streamed answer (:meth:`FakePexels.huge_next`, :meth:`FakePexels.endless_next`) as it went."""

    declared: int | None  # Content-Length sent, or None for a chunked body
    bytes_sent: int = 0  # body bytes handed to the transport before it ended
    complete: bool = False  # the whole body was sent
    aborted: bool = False  # the client went away before the end
    done: asyncio.Event = field(default_factory=asyncio.Event)


@dataclass(slots=True)
class _Fault:
    status: int
    body: bytes
    content_type: str
    delay: float = 0.0
    wrong_shape: bool = False  # body chosen per request (photo or video shape) unless given
    headers: dict[str, str] = field(default_factory=dict)
    stream: Literal["sized", "chunked", "endless"] | None = None
    stream_size: int = 0
    encoding: str | None = None  # the body is already encoded so (Content-Encoding)


@dataclass(slots=True)
class _Answer:
    status: int
    body: bytes
    content_type: str = JSON_CT
    counted: bool = False  # a request that passed auth + rate limit; gets X-Ratelimit-* if 2xx
    headers: dict[str, str] = field(default_factory=dict)


_PAD: Final = b"lorem ipsum dolor sit amet " * 2427  # about 64 KB of text that is valid inside a JSON string


# --------------------------------------------------------------------------------------------------------------
# The fake
# --------------------------------------------------------------------------------------------------------------


class FakePexels:
    """Loopback fake of api.pexels.com. See the module docstring for the exact behaviour."""

    def __init__(
        self,
        api_key: str = "test-pexels-key",
        *,
        hourly_limit: int = 10_000,
        monthly_limit: int = 20_000,
        total_cap: int = 8000,
        default_total: int = 240,
        latency: float = 0.0,
        reset_at: int | None = None,
    ) -> None:
        self.api_key = api_key
        self.hourly_limit = hourly_limit
        self.monthly_limit = monthly_limit
        self.total_cap = total_cap
        self.default_total = default_total
        self.latency = latency
        self.reset_at: int = reset_at if reset_at is not None else int(time.time()) + _THIRTY_DAYS
        #: Status for a present-but-wrong key: 401 (current Pexels) or 403 (legacy Tyk "disallowed" body).
        self.wrong_key_status: int = 401
        #: Compress answers with this Content-Encoding when the request accepts it ("gzip", "br" or None).
        self.compression: Literal["gzip", "br"] | None = None
        #: The fake's own hourly/monthly 429s carry Retry-After (real recordings have none).
        self.retry_after_on_429 = False
        #: An endless body stops here even if the client never hangs up.
        self.endless_limit = 1024 * 1024 * 1024
        self.requests: list[RecordedRequest] = []
        self.streams: list[StreamRecord] = []

        self._totals: dict[tuple[str | None, str], tuple[int, int | None]] = {}
        self._faults: collections.deque[_Fault] = collections.deque()
        self._rate_overrides: collections.deque[dict[str, str | None]] = collections.deque()
        self._tampering: dict[tuple[str, str, int], dict[str, Any]] = {}
        self._slow: collections.deque[float] = collections.deque()
        self._hour_window: collections.deque[float] = collections.deque()
        self._monthly_used = 0
        self._id_params: dict[_Spec, tuple[int, int]] = {}
        self._photo_ids: dict[int, tuple[_Spec, int]] = {}
        self._video_ids: dict[int, tuple[_Spec, int]] = {}
        # Serialized list pages (pure function of the key); keeps benchmarks from measuring the fake.
        self._page_cache: collections.OrderedDict[tuple[Any, ...], bytes] = collections.OrderedDict()
        self._runner: web.AppRunner | None = None
        self._url: str | None = None

    # ---------------------------------------------------------------- lifecycle

    async def start(self) -> None:
        if self._runner is not None:
            return
        app = web.Application()
        app.router.add_route("*", "/{tail:.*}", self._handle)
        runner = web.AppRunner(app, access_log=None, shutdown_timeout=0.25)
        await runner.setup()
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        try:
            sock.bind(("127.0.0.1", 0))
            sock.setblocking(False)
            site = web.SockSite(runner, sock, backlog=1024)
            await site.start()
        except BaseException:
            sock.close()
            await runner.cleanup()
            raise
        self._runner = runner
        self._url = f"http://127.0.0.1:{sock.getsockname()[1]}"

    async def stop(self) -> None:
        runner, self._runner = self._runner, None
        if runner is not None:
            await runner.cleanup()

    async def __aenter__(self) -> FakePexels:
        await self.start()
        return self

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        await self.stop()

    @property
    def url(self) -> str:
        """Base URL, ``http://127.0.0.1:<port>`` (no trailing slash). Photos are under /v1, videos under /videos."""
        if self._url is None:
            raise RuntimeError("FakePexels.url is only valid after start()")
        return self._url

    @property
    def photos_base(self) -> str:
        return f"{self.url}/v1"

    @property
    def videos_base(self) -> str:
        return f"{self.url}/videos"

    # ---------------------------------------------------------------- request log and counters

    def count(self, path_prefix: str = "") -> int:
        """Number of recorded requests whose path starts with ``path_prefix``."""
        return sum(1 for r in self.requests if r.path.startswith(path_prefix))

    def reset_counters(self) -> None:
        """Zero the hourly and monthly counters and clear the request log (in place)."""
        self._hour_window.clear()
        self._monthly_used = 0
        self.requests.clear()

    def clear_hourly(self) -> None:
        """Forget the rolling hour (as if an hour had passed), keeping the monthly count."""
        self._hour_window.clear()

    @property
    def remaining(self) -> int:
        """Monthly remaining as reported in X-Ratelimit-Remaining by the most recent counted request."""
        return max(0, self.monthly_limit - self._monthly_used)

    @property
    def monthly_used(self) -> int:
        return self._monthly_used

    @property
    def hourly_used(self) -> int:
        self._prune_hour(time.monotonic())
        return len(self._hour_window)

    # ---------------------------------------------------------------- configuration

    def set_total(
        self,
        query: str,
        total: int,
        *,
        served: int | None = None,
        kind: Literal["photo", "video"] | None = None,
    ) -> None:
        """Searches for ``query`` (any options/locale) report ``min(total, total_cap)`` results but really serve
        only ``served`` items (default: the reported total). ``kind`` limits it to photos or videos
        (default: both). ``query=""`` sets curated / popular."""
        if total < 0 or (served is not None and served < 0):
            raise ValueError("total and served must be >= 0")
        self._totals[(kind, normalize_query(query))] = (total, served)

    def fail_next(
        self,
        status: int,
        *,
        count: int = 1,
        body: str | bytes | None = None,
        content_type: str = JSON_CT,
        delay: float = 0.0,
        headers: dict[str, str] | None = None,
    ) -> None:
        """The next ``count`` requests get this answer instead of the normal one. With ``body=None`` a plausible
        default is used (JSON for a JSON content type, a Cloudflare-like HTML page otherwise). A 2xx status counts
        against the quota and carries X-Ratelimit-* headers; other statuses do not. ``headers`` are added to the
        answer (``{"Retry-After": "120"}`` on a 429, say)."""
        if body is None:
            json_ct = "json" in content_type
            body = _dumps(self._default_error_json(status)) if json_ct else _html_error_page(status)
        raw = body.encode("utf-8") if isinstance(body, str) else body
        for _ in range(count):
            self._faults.append(_Fault(status, raw, content_type, delay, headers=dict(headers or {})))

    def edge_block_next(self, status: int = 403, *, count: int = 1) -> None:
        """The next ``count`` requests are refused by "Cloudflare" with its HTML block page (401 or 403)."""
        self.fail_next(status, count=count, body=_CLOUDFLARE_403, content_type=HTML_CT)

    def rate_headers_next(
        self, *, limit: str | None = None, remaining: str | None = None, reset: str | None = None, count: int = 1
    ) -> None:
        """The next ``count`` counted 2xx answers send these X-Ratelimit-* values (strings, sent verbatim) instead
        of the true ones; a header left at None keeps its true value."""
        override = {"X-Ratelimit-Limit": limit, "X-Ratelimit-Remaining": remaining, "X-Ratelimit-Reset": reset}
        self._rate_overrides.extend(dict(override) for _ in range(count))

    def huge_next(self, size: int = 30 * 1024 * 1024, *, chunked: bool = False) -> None:
        """The next request gets a 200 whose JSON body is ``size`` bytes (one photo with an enormous alt text),
        streamed; sized with Content-Length unless ``chunked``. Recorded in :attr:`streams`."""
        self._faults.append(_Fault(200, b"", JSON_CT, stream="chunked" if chunked else "sized", stream_size=size))

    def endless_next(self) -> None:
        """The next request gets a 200 chunked JSON body that never ends (until the client hangs up, or
        :attr:`endless_limit`). Recorded in :attr:`streams`."""
        self._faults.append(_Fault(200, b"", JSON_CT, stream="endless"))

    def bomb_next(self, decoded_size: int = 200 * 1024 * 1024, *, encoding: Literal["gzip", "br"] = "gzip") -> None:
        """The next request gets a 200 whose small compressed body expands to ``decoded_size`` bytes."""
        if encoding == "gzip":
            packer = zlib.compressobj(9, zlib.DEFLATED, 16 + zlib.MAX_WBITS)
            parts = [packer.compress(b'{"photos":[],"alt":"')]
            block = b" " * (1024 * 1024)
            parts += [packer.compress(block) for _ in range(decoded_size // len(block))]
            parts.append(packer.flush())
        else:
            compressor = brotli.Compressor(quality=5)
            block = b" " * (1024 * 1024)
            parts = [compressor.process(b'{"photos":[],"alt":"')]
            parts += [compressor.process(block) for _ in range(decoded_size // len(block))]
            parts.append(compressor.finish())
        self._faults.append(_Fault(200, b"".join(parts), JSON_CT, encoding=encoding))

    def tamper(self, query: str, index: int, kind: Literal["photo", "video"] = "photo", **fields: Any) -> None:
        """Item ``index`` of every search for ``query`` (any options) gets these fields; a dict value for ``src``
        or ``user`` is merged into the original one. For hostile cases: ``photographer_url=LINK_INJECTION``,
        ``url=JAVASCRIPT_URL``, ``src={"large": NOT_A_URL}``, ``photographer="x" * 5000``, ..."""
        self._tampering[(kind, normalize_query(query), index)] = fields
        self._page_cache.clear()

    def malformed_next(self, count: int = 1) -> None:
        """The next ``count`` responses: 200, JSON content type, a body that is not JSON."""
        self.fail_next(200, count=count, body=b"<html>oops</html>", content_type=JSON_CT)

    def wrong_shape_next(self, count: int = 1, *, body: Any = None) -> None:
        """The next ``count`` responses: 200 with valid JSON of the wrong shape (default ``{"photos": "nope"}``;
        for video paths ``{"videos": "nope"}``)."""
        for _ in range(count):
            payload = _dumps(body) if body is not None else b""
            self._faults.append(_Fault(200, payload, JSON_CT, wrong_shape=True))

    def slow_next(self, delay: float, count: int = 1) -> None:
        """The next ``count`` responses are delayed by ``delay`` seconds (on top of ``latency``)."""
        self._slow.extend([delay] * count)

    def served_query(self, query: str) -> str:
        """The query whose results a search for ``query`` gets: itself (a subclass may map many onto one)."""
        return query

    # ---------------------------------------------------------------- deterministic content

    def photo(
        self,
        query: str,
        index: int,
        *,
        locale: str | None = None,
        orientation: str | None = None,
        size: str | None = None,
        color: str | None = None,
    ) -> dict[str, Any]:
        """The Photo served at 0-based global ``index`` of this search (``query=""`` for curated)."""
        spec = _Spec.make("photo", query, locale=locale, orientation=orientation, size=size, color=color)
        return self._make_photo(spec, index)

    def video(
        self,
        query: str,
        index: int,
        *,
        locale: str | None = None,
        orientation: str | None = None,
        size: str | None = None,
    ) -> dict[str, Any]:
        """The Video served at 0-based global ``index`` of this search (``query=""`` for popular)."""
        spec = _Spec.make("video", query, locale=locale, orientation=orientation, size=size)
        return self._make_video(spec, index)

    def total_for(self, query: str, kind: Literal["photo", "video"] = "photo") -> tuple[int, int]:
        """``(reported total_results, items really served)`` for a search."""
        return self._totals_for(kind, normalize_query(query))

    def photos_for_page(
        self, query: str, page: int = 1, per_page: int = DEFAULT_PER_PAGE, **options: str | None
    ) -> list[dict[str, Any]]:
        """The photos a search page would contain (``[]`` past the end). Options as for :meth:`photo`."""
        spec = _Spec.make("photo", query, **options)
        return [self._make_photo(spec, i) for i in self._page_range(spec, page, per_page)]

    def videos_for_page(
        self, query: str, page: int = 1, per_page: int = DEFAULT_PER_PAGE, **options: str | None
    ) -> list[dict[str, Any]]:
        """The videos a search page would contain (``[]`` past the end). Options as for :meth:`video`."""
        spec = _Spec.make("video", query, **options)
        return [self._make_video(spec, i) for i in self._page_range(spec, page, per_page)]

    # ---------------------------------------------------------------- internals: totals, ids, paging

    def _totals_for(self, kind: str, query: str) -> tuple[int, int]:
        entry = self._totals.get((kind, query)) or self._totals.get((None, query))
        total, served = entry if entry is not None else (self.default_total, None)
        reported = max(0, min(total, self.total_cap))
        return reported, (reported if served is None else served)

    def _page_range(self, spec: _Spec, page: int, per_page: int) -> range:
        page = max(1, page)
        per_page = min(MAX_PER_PAGE, max(1, per_page))
        _reported, served = self._totals_for(spec.kind, spec.query)
        start = (page - 1) * per_page
        return range(start, min(start + per_page, served)) if start < served else range(0)

    def _media_id(self, spec: _Spec, index: int) -> int:
        params = self._id_params.get(spec)
        if params is None:
            rng = random.Random(f"ids\x1f{spec.seed}")
            params = (rng.randrange(_ID_SPACE), rng.randrange(_ID_SPACE) | 1)
            self._id_params[spec] = params
        a, stride = params
        return _ID_OFFSET + (a + index * stride) % _ID_SPACE

    # ---------------------------------------------------------------- internals: generators

    def _make_photo(self, spec: _Spec, index: int) -> dict[str, Any]:
        pid = self._media_id(spec, index)
        self._photo_ids[pid] = (spec, index)
        rng = random.Random(f"photo\x1f{spec.seed}\x1f{index}")

        min_mp = _PHOTO_MIN_MP.get(spec.size or "", 2.0)
        mp = rng.uniform(max(min_mp, 2.0), max(min_mp * 1.6, 30.0)) * 1e6
        orientation = spec.orientation or rng.choices(["landscape", "portrait", "square"], [5, 4, 1])[0]
        if orientation == "square":
            width = height = math.ceil(math.sqrt(mp))
        else:
            ratio = rng.choice((1.25, 4 / 3, 1.5, 16 / 9))
            long_side = math.ceil(math.sqrt(mp * ratio))
            short_side = math.ceil(long_side / ratio)
            width, height = (long_side, short_side) if orientation == "landscape" else (short_side, long_side)

        subject = spec.query or "curated"
        described = f"{_capitalize(subject)} photo {index}"
        if index % 10 == 5:
            described = f"{described}, {_LONG_ALT}"
        no_alt = index % 2 == 1 if not spec.query else index % 10 == 7
        alt = "" if no_alt else (f"{described} ({spec.locale})" if spec.locale else described)
        slug = f"{_slugify(f'{subject} photo') or 'photo'}-{index}"
        name, person_id, handle = rng.choice(_PEOPLE_WITH_HANDLES)
        if index % 20 == 9:
            name = name.replace(" ", "  ") + " "  # recorded: doubled and trailing spaces in a credit name
        ext = "png" if rng.random() < 0.04 else "jpeg"
        base = f"https://images.pexels.com/photos/{pid}/pexels-photo-{pid}.{ext}"
        avg_color = None if index % 20 == 13 else f"#{rng.randrange(0x1000000):06X}"
        photo = {
            "id": pid,
            "width": width,
            "height": height,
            "url": f"https://www.pexels.com/photo/{slug}-{pid}/",
            "photographer": name,
            "photographer_url": f"https://www.pexels.com/@{handle}-{person_id}",
            "photographer_id": person_id,
            "avg_color": avg_color,
            "src": {key: base + suffix for key, suffix in _PHOTO_SRC_SUFFIXES},
            "liked": False,
            "alt": alt,
        }
        return self._tampered("photo", spec, index, photo)

    def _make_video(self, spec: _Spec, index: int) -> dict[str, Any]:
        vid = self._media_id(spec, index)
        self._video_ids[vid] = (spec, index)
        rng = random.Random(f"video\x1f{spec.seed}\x1f{index}")

        orientation = spec.orientation or rng.choices(["landscape", "portrait", "square"], [6, 3, 1])[0]
        ladder = rng.choice(_VIDEO_LADDERS.get(orientation, _VIDEO_LADDERS["landscape"]))
        top = {"large": 0, "medium": rng.randrange(0, 2), "small": rng.randrange(0, 3)}.get(
            spec.size or "", rng.randrange(0, 3)
        )
        n_files = min(len(ladder) - top, rng.randint(3, 5))
        sizes = list(ladder[top : top + n_files])
        width, height = sizes[0]
        duration = rng.randint(5, 60)
        fps = rng.choice(_VIDEO_FPS)
        legacy = index % 40 == 11 or rng.random() < 0.15  # Vimeo links, labels always set, no `size`
        unlabelled = not legacy and rng.random() < 0.35  # new uploads: quality null on every file

        def label(w: int, h: int) -> str:
            short = min(w, h)
            return "uhd" if short >= 2160 and not legacy else "hd" if short >= 720 else "sd"

        def entry(n: int, w: int, h: int, rate: float) -> dict[str, Any]:
            true_label = label(w, h)
            if legacy:
                link = (
                    f"https://player.vimeo.com/external/{vid * 7 + n}.{true_label}.mp4"
                    f"?s={rng.getrandbits(160):040x}&profile_id={164 + n}&oauth2_token_id=57447761"
                )
            else:
                link = f"https://videos.pexels.com/video-files/{vid}/{vid}-{true_label}_{w}_{h}_{round(rate)}fps.mp4"
            file: dict[str, Any] = {
                "id": file_id + n,
                "quality": None if unlabelled else true_label,
                "file_type": "video/mp4",
                "width": w,
                "height": h,
                "fps": rate,
                "link": link,
            }
            if not legacy:
                file["size"] = int(w * h * duration * rate * 0.012 * rng.uniform(0.8, 1.25))
            return file

        file_id = rng.randrange(1_000_000, 20_000_000)
        files = [entry(n, w, h, fps) for n, (w, h) in enumerate(sizes)]
        if fps in _DOUBLED_FPS and rng.random() < 0.15:  # the same size again, at twice the frame rate
            w, h = rng.choice(sizes)
            files.append(entry(len(files), w, h, _DOUBLED_FPS[fps]))
        if index % 40 == 29:  # the same size and frame rate twice, one file smaller
            twin = entry(len(files), *sizes[-1], fps)
            if "size" in twin:
                twin["size"] = max(1, twin["size"] // 3)
            files.append(twin)
        if index % 40 == 23:  # a label that contradicts the size
            fitting = [f for f in files if min(f["width"], f["height"]) >= 1080]
            (fitting[0] if fitting else files[0])["quality"] = "sd"
        rng.shuffle(files)
        if index % 40 == 11:  # a legacy HLS entry: "video/mp4" but no size and a playlist link
            hls = {
                "id": file_id + len(files),
                "quality": "hls",
                "file_type": "video/mp4",
                "width": None,
                "height": None,
                "fps": None,
                "link": f"https://player.vimeo.com/external/{vid * 7 + 9}.m3u8"
                f"?s={rng.getrandbits(160):040x}&oauth2_token_id=57447761",
            }
            files.insert(rng.randrange(len(files) + 1), hls)

        subject = spec.query or "popular"
        slug = f"{_slugify(f'{subject} video') or 'video'}-{index}"
        name, person_id, handle = rng.choice(_PEOPLE_WITH_HANDLES)
        picture_id = rng.randrange(1_000_000, 30_000_000)
        if rng.random() < 0.7:
            image = f"https://images.pexels.com/videos/{vid}/free-video-{vid}.jpg"
        else:
            image = f"https://images.pexels.com/videos/{vid}/pexels-photo-{vid}.jpeg"
        prefix = self._locale_prefix(spec)
        page = (
            f"https://www.pexels.com{prefix}/video/{vid}/" if prefix else f"https://www.pexels.com/video/{slug}-{vid}/"
        )
        video = {
            "id": vid,
            "width": width,
            "height": height,
            "duration": duration,
            "full_res": None,
            "tags": [],
            "url": page,
            "image": image + "?auto=compress&cs=tinysrgb&fit=crop&h=630&w=1200",
            "avg_color": None,
            "user": {"id": person_id, "name": name, "url": f"https://www.pexels.com{prefix}/@{handle}-{person_id}"},
            "video_files": files,
            "video_pictures": [
                {
                    "id": picture_id + nr,
                    "nr": nr,
                    "picture": f"https://images.pexels.com/videos/{vid}/pictures/preview-{nr}.jpg",
                }
                for nr in range(15)
            ],
        }
        return self._tampered("video", spec, index, video)

    def _tampered(self, kind: str, spec: _Spec, index: int, item: dict[str, Any]) -> dict[str, Any]:
        changes = self._tampering.get((kind, spec.query, index))
        if not changes:
            return item
        for name, value in changes.items():
            original = item.get(name)
            item[name] = {**original, **value} if isinstance(value, dict) and isinstance(original, dict) else value
        return item

    @staticmethod
    def _locale_prefix(spec: _Spec) -> str:
        if spec.locale is None or spec.locale == "en-US":
            return ""
        return "/" + spec.locale.lower()

    # ---------------------------------------------------------------- internals: HTTP

    @staticmethod
    def _default_error_json(status: int) -> dict[str, Any]:
        if status == 401:
            return {"status": 401, "code": "Unauthorized"}
        if status == 403:
            return {"error": "Access to this API has been disallowed"}
        if status == 404:
            return {"status": 404, "error": "Not Found"}
        if status == 429:
            return {"error": "Rate limit exceeded"}
        return {"status": status, "error": f"Error {status}"}

    def _prune_hour(self, now: float) -> None:
        window = self._hour_window
        while window and window[0] <= now - _HOUR:
            window.popleft()

    async def _handle(self, request: web.Request) -> web.StreamResponse:
        now = time.monotonic()
        query = {key: request.query[key] for key in request.query}
        headers = _Headers((_canon_header(k), v) for k, v in request.headers.items())
        self.requests.append(RecordedRequest(request.method, request.path, query, headers, now))

        delay = self.latency + (self._slow.popleft() if self._slow else 0.0)
        fault = self._faults.popleft() if self._faults else None
        if fault is not None:
            delay += fault.delay
            body = fault.body
            if fault.wrong_shape and not body:
                body = _dumps({"videos" if "/videos" in request.path else "photos": "nope"})
            answer = _Answer(fault.status, body, fault.content_type, counted=200 <= fault.status < 300)
            answer.headers.update(fault.headers)
            if answer.counted:
                self._count(now)
        else:
            answer = self._answer(request.method, request.path, query, headers, now)

        if delay > 0:
            await asyncio.sleep(delay)
        response_headers = {"Content-Type": answer.content_type}
        if answer.counted and 200 <= answer.status < 300:
            rate = {
                "X-Ratelimit-Limit": str(self.monthly_limit),
                "X-Ratelimit-Remaining": str(self.remaining),
                "X-Ratelimit-Reset": str(self.reset_at),
            }
            override = self._rate_overrides.popleft() if self._rate_overrides else {}
            rate.update({name: value for name, value in override.items() if value is not None})
            response_headers.update(rate)
        response_headers.update(answer.headers)
        if fault is not None and fault.stream is not None:
            return await self._stream(request, fault, response_headers)
        body = answer.body
        if fault is not None and fault.encoding is not None:
            response_headers["Content-Encoding"] = fault.encoding
        elif self.compression is not None and self.compression in headers.get("Accept-Encoding", ""):
            body = gzip.compress(body, 6) if self.compression == "gzip" else brotli.compress(body, quality=5)
            response_headers["Content-Encoding"] = self.compression
        return web.Response(status=answer.status, body=body, headers=response_headers)

    def _stream_parts(self) -> tuple[bytes, bytes]:
        """The start and end of a photo page whose one photo's alt text is left open in between."""
        photo = self._make_photo(_Spec.make("photo", "huge"), 0)
        photo["alt"] = "\x00"
        head, tail = _dumps({"page": 1, "per_page": 80, "photos": [photo], "total_results": 1}).split(b"\\u0000")
        return head, tail

    async def _stream(self, request: web.Request, fault: _Fault, headers: dict[str, str]) -> web.StreamResponse:
        """A huge (or endless) body written 64 KB at a time, counting what the transport accepted."""
        head, tail = self._stream_parts()
        endless = fault.stream == "endless"
        padding = self.endless_limit if endless else max(0, fault.stream_size - len(head) - len(tail))
        record = StreamRecord(declared=len(head) + padding + len(tail) if fault.stream == "sized" else None)
        self.streams.append(record)
        response = web.StreamResponse(status=fault.status, headers=headers)
        if record.declared is not None:
            response.content_length = record.declared
        else:
            response.enable_chunked_encoding()
        try:
            await response.prepare(request)
            await response.write(head)
            record.bytes_sent += len(head)
            while padding > 0:
                chunk = _PAD if padding >= len(_PAD) else _PAD[:padding]
                await response.write(chunk)
                record.bytes_sent += len(chunk)
                padding -= len(chunk)
            if not endless:
                await response.write(tail)
                record.bytes_sent += len(tail)
            await response.write_eof()
            record.complete = not endless
        except (ConnectionError, RuntimeError):  # the client hung up ("Cannot write to closing transport")
            record.aborted = True
        finally:
            record.done.set()
        return response

    def _count(self, now: float) -> None:
        self._hour_window.append(now)
        self._monthly_used += 1

    def _answer(self, method: str, path: str, query: dict[str, str], headers: dict[str, str], now: float) -> _Answer:
        user_agent = headers.get("User-Agent", "").strip()
        if not user_agent or user_agent.lower().startswith("python-requests"):
            return _Answer(403, _CLOUDFLARE_403.encode(), HTML_CT)
        key = headers.get("Authorization", "")
        if not key:
            return _Answer(401, _dumps({"status": 401, "code": "Unauthorized"}))
        if key != self.api_key:
            status = self.wrong_key_status
            return _Answer(status, _dumps(self._default_error_json(status)))

        self._prune_hour(now)
        if len(self._hour_window) >= self.hourly_limit or self._monthly_used >= self.monthly_limit:
            limited = _Answer(429, _dumps({"error": "Rate limit exceeded"}))
            if self.retry_after_on_429:
                if self._monthly_used >= self.monthly_limit:
                    wait = self.reset_at - time.time()
                else:
                    wait = self._hour_window[0] + _HOUR - now if self._hour_window else _HOUR
                limited.headers["Retry-After"] = str(max(1, math.ceil(wait)))
            return limited
        self._count(now)

        not_found = _Answer(404, _dumps({"status": 404, "error": "Not Found"}), counted=True)
        if method not in ("GET", "HEAD"):
            return not_found
        route = path.rstrip("/") or "/"
        if route == "/v1/search":
            return self._list(
                "photo", query, "/v1/search", ("query", "orientation", "size", "color", "locale"), search=True
            )
        if route == "/v1/curated":
            return self._list("photo", query, "/v1/curated", (), search=False)
        if route in ("/videos/search", "/v1/videos/search"):
            return self._list(
                "video", query, "/v1/videos/search", ("query", "orientation", "size", "locale"), search=True
            )
        if route in ("/videos/popular", "/v1/videos/popular"):
            params = ("min_width", "min_height", "min_duration", "max_duration")
            return self._list("video", query, "/v1/videos/popular", params, search=False)
        for prefix, registry, maker in (
            ("/v1/photos/", self._photo_ids, self._make_photo),
            ("/videos/videos/", self._video_ids, self._make_video),
        ):
            if route.startswith(prefix):
                raw_id = route[len(prefix) :]
                found = registry.get(int(raw_id)) if raw_id.isascii() and raw_id.isdigit() else None
                if found is None:
                    return not_found
                return _Answer(200, _dumps(maker(*found)), counted=True)
        return not_found

    def _list(
        self,
        kind: Literal["photo", "video"],
        query: dict[str, str],
        link_path: str,
        echoed: tuple[str, ...],
        *,
        search: bool,
    ) -> _Answer:
        raw_query = self.served_query(query.get("query", "")) if search else ""
        if search and not raw_query.strip():
            return _Answer(400, _dumps({"error": "query is required"}), counted=True)
        page = _int_param(query.get("page"), 1)
        page = page if page >= 1 else 1
        per_page = min(MAX_PER_PAGE, max(1, _int_param(query.get("per_page"), DEFAULT_PER_PAGE)))
        spec = _Spec.make(
            kind,
            raw_query,
            locale=query.get("locale"),
            orientation=query.get("orientation"),
            size=query.get("size"),
            color=query.get("color") if kind == "photo" else None,
        )
        items_key = "photos" if kind == "photo" else "videos"
        reported, served = self._totals_for(kind, spec.query)
        start = (page - 1) * per_page
        if reported == 0 or start >= served:
            # No results at all echoes per_page; past the end comes back as page 1 / per_page 1 (observed).
            empty = {"page": 1, "per_page": per_page if reported == 0 else 1, items_key: [], "total_results": 0}
            return _Answer(200, _dumps(empty), counted=True)

        link_params: dict[str, str] = {}
        for name in echoed:
            value = query.get(name, "").strip()
            if value:
                link_params[name] = (_norm_locale(value) or value) if name == "locale" else value
        link_params["per_page"] = str(per_page)
        cache_key = (spec, link_path, raw_query, page, tuple(link_params.items()), reported, served)
        cached = self._page_cache.get(cache_key)
        if cached is not None:
            self._page_cache.move_to_end(cache_key)
            return _Answer(200, cached, counted=True)

        end = min(start + per_page, served)
        maker = self._make_photo if kind == "photo" else self._make_video
        body: dict[str, Any] = {
            "page": page,
            "per_page": per_page,
            items_key: [maker(spec, i) for i in range(start, end)],
            "total_results": reported,
        }
        if page * per_page < max(reported, served):
            body["next_page"] = self._link(link_path, link_params, page + 1)
        if page > 1:
            body["prev_page"] = self._link(link_path, link_params, page - 1)
        if kind == "video":
            body["url"] = (
                f"https://www.pexels.com/search/videos/{raw_query}/" if search else "https://www.pexels.com/videos/"
            )
        raw = _dumps(body)
        self._page_cache[cache_key] = raw
        if len(self._page_cache) > _PAGE_CACHE_SIZE:
            self._page_cache.popitem(last=False)
        return _Answer(200, _dumps(body), counted=True)

    def _link(self, path: str, params: dict[str, str], page: int) -> str:
        items = sorted({**params, "page": str(page)}.items())
        return f"{self.url}{path}/?{urlencode(items)}"


def _int_param(value: str | None, default: int) -> int:
    if value is None:
        return default
    try:
        return int(value.strip())
    except ValueError:
        return default
