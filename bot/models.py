"""Pexels results as small immutable values, parsed defensively from the API's JSON.

Everything Pexels sends is treated as untrusted. Text is cleaned: whitespace collapsed, control and invisible
characters removed, web addresses defused so Discord does not turn them into links, and the length bounded.
A link or image is kept only when it is an `https` address on one of Pexels' own hosts, written with
characters that cannot close a markdown link. An item whose page or image fails that check is skipped; a
photographer link that fails it is dropped and the credit is shown without it.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from bot.errors import PexelsBadResponse

_HEX = re.compile(r"#?([0-9a-fA-F]{6})")
_MAX_INLINE_SIDE = 1080
"""Discord plays linked MP4s inline; files above Full HD are slow to start and heavy on mobile."""
_MAX_INLINE_FPS = 30.0

MAX_ALT = 1_000
"""Characters of alt text kept (recent Pexels alt texts are whole sentences; a title shows at most 256)."""
MAX_NAME = 200
"""Characters of a photographer's or videographer's name kept."""
MAX_PAGE_URL = 512
"""Longest page address kept: Discord refuses a link button whose URL is longer than 512 characters."""
MAX_MEDIA_URL = 2_048
"""Longest image or video address kept: Discord refuses embed URLs longer than 2,048 characters."""
_MAX_FILES = 64
"""Video renditions considered per video (real videos have 3 to 15)."""
_MAX_INT = 2**53

PAGE_HOSTS = frozenset({"www.pexels.com", "pexels.com"})
IMAGE_HOSTS = frozenset({"images.pexels.com", "static-videos.pexels.com"})
VIDEO_FILE_HOSTS = frozenset({"videos.pexels.com", "player.vimeo.com"})
"""Where Pexels' video files live: its own CDN, and for older uploads Vimeo's `/external/` file links."""

# RFC 3986 characters, less the ones markdown gives a meaning inside a link: ( ) [ ] < > * ' ` and spaces.
_URL_CHARS = re.compile(r"[A-Za-z0-9\-._~%/?#&=+:@,;!$]+")
_INVISIBLE = re.compile(
    "[\x00-\x08\x0e-\x1b\x7f-\x84\x86-\x9f\u00ad\u061c\u180e\u200b\u200e\u200f\u202a-\u202e"
    "\u2060-\u2064\u2066-\u206f\ufeff\ufff9-\ufffb\ud800-\udfff]"
)
"""Control characters, bidirectional overrides, zero-width and other invisible marks, lone surrogates."""
_SCHEME = re.compile(r"(?i)\b([a-z][a-z0-9+.\-]{1,20}:)//")
_WORD_JOINER = "\u2060"
_SLUG = re.compile(r"/(?:photo|video)/(?P<slug>[A-Za-z0-9-]+?)(?:-\d+)?/?(?:[?#].*)?$")
_GENERIC_SLUGS = frozenset({"pexels photo", "pexels video", "free video", "free photo", "photo", "video"})


def clean_text(value: object, limit: int) -> str:
    """Text from Pexels made safe to show: one space between words, nothing invisible, no live links, bounded."""
    if not isinstance(value, str):
        return ""
    if value.isascii() and value.isprintable() and "://" not in value and "  " not in value and value == value.strip():
        text = value  # nothing to remove, collapse or defuse (most names and alt texts): 5× faster than the below
    else:
        text = _INVISIBLE.sub("", value[: limit * 8])
        text = " ".join(text.split())
        text = _SCHEME.sub(lambda m: m[1] + _WORD_JOINER + "//", text)  # Discord links bare addresses, not these
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


def pexels_url(value: object, hosts: frozenset[str], *, limit: int = MAX_MEDIA_URL) -> str | None:
    """`value` if it is an https address on one of `hosts` that is safe inside a markdown link, else None."""
    if not isinstance(value, str) or len(value) > limit or not _URL_CHARS.fullmatch(value):
        return None
    if value.startswith(_prefixes(hosts)):
        return value  # what urlsplit would find: scheme https, the bare host, a path (the common case, 10× faster)
    try:
        parts = urlsplit(value)
    except ValueError:
        return None
    if parts.scheme != "https" or parts.netloc.lower() not in hosts:
        return None  # also refuses user info and ports: the netloc must be the bare host
    if parts.netloc.lower() == "player.vimeo.com" and not parts.path.startswith("/external/"):
        return None
    return value


_PREFIXES: dict[frozenset[str], tuple[str, ...]] = {}


def _prefixes(hosts: frozenset[str]) -> tuple[str, ...]:
    """`https://{host}/` for each host whose every path is accepted (all but Vimeo's)."""
    found = _PREFIXES.get(hosts)
    if found is None:
        found = _PREFIXES[hosts] = tuple(f"https://{host}/" for host in sorted(hosts) if host != "player.vimeo.com")
    return found


def page_url(value: object) -> str | None:
    """A Pexels web page address (a photo, a video, a profile), or None."""
    return pexels_url(value, PAGE_HOSTS, limit=MAX_PAGE_URL)


def _str(data: dict[str, Any], key: str, limit: int) -> str:
    value = clean_text(data.get(key), limit)
    if not value:
        raise PexelsBadResponse(f"field {key!r} missing or not a string")
    return value


def _int(data: dict[str, Any], key: str, *, minimum: int = 0) -> int:
    value = data.get(key)
    if not isinstance(value, int) or isinstance(value, bool) or not minimum <= value < _MAX_INT:
        raise PexelsBadResponse(f"field {key!r} missing or not a plausible integer")
    return value


def _page(data: dict[str, Any], key: str) -> str:
    url = page_url(data.get(key))
    if url is None:
        raise PexelsBadResponse(f"field {key!r} is not an https address on pexels.com")
    return url


def _colour(value: object) -> int | None:
    match = _HEX.fullmatch(value) if isinstance(value, str) else None
    return int(match[1], 16) if match else None


def _optional_link(data: dict[str, Any], key: str, problems: list[str] | None) -> str:
    """A profile link, or "" (noted in `problems`) when it is missing or not a Pexels address."""
    url = page_url(data.get(key))
    if url is None:
        if problems is not None:
            problems.append(f"dropped a {key!r} that is not an https address on pexels.com")
        return ""
    return url


def title_from_page(url: str, fallback: str) -> str:
    """A readable title from a Pexels page URL: `…/photo/red-fox-in-snow-8716832/` → "Red fox in snow"."""
    match = _SLUG.search(url)
    words = match["slug"].replace("-", " ").strip() if match else ""
    if not words or words.isdigit() or words.lower() in _GENERIC_SLUGS:
        return fallback
    return words[:1].upper() + words[1:]


@dataclass(frozen=True, slots=True)
class Photo:
    """One Pexels photo, with what an embed needs and nothing more."""

    id: int
    url: str
    image: str
    photographer: str
    photographer_url: str
    """"" when Pexels sent no usable profile link: the credit is then shown without one."""
    colour: int | None
    alt: str
    width: int
    height: int

    @classmethod
    def from_api(cls, data: object, problems: list[str] | None = None) -> Photo:
        """Parse one item of a Pexels `photos` list; links that had to be dropped are noted in `problems`."""
        if not isinstance(data, dict) or not isinstance(data.get("src"), dict):
            raise PexelsBadResponse("photo is not an object with a src")
        src = data["src"]
        image = next(
            (url for key in ("large", "large2x", "original") if (url := pexels_url(src.get(key), IMAGE_HOSTS))),
            None,
        )
        if image is None:
            raise PexelsBadResponse("photo has no src that is an https address on images.pexels.com")
        return cls(
            id=_int(data, "id", minimum=1),
            url=_page(data, "url"),
            image=image,
            photographer=_str(data, "photographer", MAX_NAME),
            photographer_url=_optional_link(data, "photographer_url", problems),
            colour=_colour(data.get("avg_color")),
            alt=clean_text(data.get("alt"), MAX_ALT),
            width=_int(data, "width"),
            height=_int(data, "height"),
        )


@dataclass(frozen=True, slots=True)
class VideoFile:
    """One playable rendition of a video (width and height are 0 when Pexels did not say)."""

    link: str
    width: int
    height: int


@dataclass(frozen=True, slots=True)
class _Rendition:
    file: VideoFile
    fps: float | None
    size: int | None

    @property
    def area(self) -> int:
        return self.file.width * self.file.height

    def rank(self) -> tuple[int, float, float]:
        """Lower is better among files of one size: a known fps up to 30 (lowest first), then fewer bytes."""
        if self.fps is None:
            tier, fps = 1, 0.0
        else:
            tier, fps = (0 if self.fps <= _MAX_INLINE_FPS else 2), self.fps
        return tier, fps, float(self.size) if self.size is not None else math.inf


def _positive_int(value: object) -> int | None:
    if isinstance(value, int) and not isinstance(value, bool) and 0 < value < _MAX_INT:
        return value
    return None


def _rendition(item: object) -> _Rendition | None:
    """One entry of `video_files` if it is an MP4 on Pexels' video hosts (never HLS)."""
    if not isinstance(item, dict):
        return None
    link = pexels_url(item.get("link"), VIDEO_FILE_HOSTS)
    if link is None or item.get("quality") == "hls" or ".m3u8" in link:
        return None
    file_type = item.get("file_type")
    if file_type != "video/mp4" and not (file_type is None and urlsplit(link).path.endswith(".mp4")):
        return None
    width, height = _positive_int(item.get("width")), _positive_int(item.get("height"))
    if width is None or height is None:
        width = height = 0
    fps = item.get("fps")
    rate = float(fps) if isinstance(fps, int | float) and not isinstance(fps, bool) else None
    if rate is not None and not (math.isfinite(rate) and rate > 0):
        rate = None
    return _Rendition(VideoFile(link, width, height), rate, _positive_int(item.get("size")))


def best_video_file(files: object) -> VideoFile | None:
    """Pick the MP4 a chat client plays well, whatever the aspect ratio.

    The largest whose shorter side is at most 1080 (when none is, the smallest), then among files of that
    size the lowest frame rate up to 30, then the fewest bytes. HLS playlists are never chosen, and quality
    labels are ignored (new uploads have none, and a few contradict the size). Any MP4 at all beats none.
    """
    renditions = [r for item in (files[:_MAX_FILES] if isinstance(files, list) else []) if (r := _rendition(item))]
    sized = [r for r in renditions if r.area]
    if not sized:
        return renditions[0].file if renditions else None
    fitting = [r for r in sized if min(r.file.width, r.file.height) <= _MAX_INLINE_SIDE]
    pool = fitting or sized
    target = max(r.area for r in pool) if fitting else min(r.area for r in pool)
    return min((r for r in pool if r.area == target), key=_Rendition.rank).file


@dataclass(frozen=True, slots=True)
class Video:
    """One Pexels video: its preview, credit and the file to play."""

    id: int
    url: str
    image: str
    duration: int
    user_name: str
    user_url: str
    """"" when Pexels sent no usable profile link: the credit is then shown without one."""
    file: VideoFile | None
    width: int
    height: int

    @classmethod
    def from_api(cls, data: object, problems: list[str] | None = None) -> Video:
        """Parse one item of a Pexels `videos` list; links that had to be dropped are noted in `problems`."""
        if not isinstance(data, dict) or not isinstance(data.get("user"), dict):
            raise PexelsBadResponse("video is not an object with a user")
        user = data["user"]
        image = pexels_url(data.get("image"), IMAGE_HOSTS)
        if image is None:
            raise PexelsBadResponse("video image is not an https address on images.pexels.com")
        duration = data.get("duration")
        seconds = int(duration) if isinstance(duration, int | float) and not isinstance(duration, bool) else 0
        return cls(
            id=_int(data, "id", minimum=1),
            url=_page(data, "url"),
            image=image,
            duration=seconds if 0 <= seconds < 10**7 else 0,
            user_name=_str(user, "name", MAX_NAME),
            user_url=_optional_link(user, "url", problems),
            file=best_video_file(data.get("video_files")),
            width=_int(data, "width"),
            height=_int(data, "height"),
        )


Item = Photo | Video


def item_title(item: Item, *, photo_by: str = "Photo by {name}", video_by: str = "Video by {name}") -> str:
    """The one place a result's title is chosen; never a generic title when anything descriptive exists.

    A photo: its alt text, else the words of its page address, else `photo_by` with the photographer's name. A
    video: the words of its page address (localized addresses have none), else `video_by` with the videographer's.
    """
    if isinstance(item, Photo):
        return item.alt or title_from_page(item.url, "") or photo_by.format(name=item.photographer)
    return title_from_page(item.url, "") or video_by.format(name=item.user_name)


@dataclass(frozen=True, slots=True)
class Chunk:
    """One Pexels answer of up to 80 results, as cached."""

    items: tuple[Item, ...]
    reported: int
    """`total_results` as Pexels reported it (capped, and sometimes more than it serves)."""
    has_next: bool
    end: int | None = None
    """The real number of results, once we found Pexels serves fewer than it reports."""
