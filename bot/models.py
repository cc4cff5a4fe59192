"""Pexels results as small immutable values, parsed defensively from the API's JSON."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from bot.errors import PexelsBadResponse

_HEX = re.compile(r"#?([0-9a-fA-F]{6})")
_MAX_INLINE_HEIGHT = 1080
"""Discord plays linked MP4s inline; files above Full HD are slow to start and heavy on mobile."""


def _str(data: dict[str, Any], key: str) -> str:
    value = data.get(key)
    if not isinstance(value, str) or not value:
        raise PexelsBadResponse(f"field {key!r} missing or not a string")
    return value


def _int(data: dict[str, Any], key: str) -> int:
    value = data.get(key)
    if not isinstance(value, int) or isinstance(value, bool):
        raise PexelsBadResponse(f"field {key!r} missing or not an integer")
    return value


def _colour(value: object) -> int | None:
    match = _HEX.fullmatch(value) if isinstance(value, str) else None
    return int(match[1], 16) if match else None


@dataclass(frozen=True, slots=True)
class Photo:
    """One Pexels photo, with what an embed needs and nothing more."""

    id: int
    url: str
    image: str
    photographer: str
    photographer_url: str
    colour: int | None
    alt: str
    width: int
    height: int

    @classmethod
    def from_api(cls, data: object) -> Photo:
        """Parse one item of a Pexels `photos` list."""
        if not isinstance(data, dict) or not isinstance(data.get("src"), dict):
            raise PexelsBadResponse("photo is not an object with a src")
        src = data["src"]
        image = src.get("large") or src.get("large2x") or src.get("original")
        if not isinstance(image, str):
            raise PexelsBadResponse("photo has no usable src")
        alt = data.get("alt")
        return cls(
            id=_int(data, "id"),
            url=_str(data, "url"),
            image=image,
            photographer=_str(data, "photographer"),
            photographer_url=_str(data, "photographer_url"),
            colour=_colour(data.get("avg_color")),
            alt=alt.strip() if isinstance(alt, str) else "",
            width=_int(data, "width"),
            height=_int(data, "height"),
        )


@dataclass(frozen=True, slots=True)
class VideoFile:
    """One playable rendition of a video."""

    link: str
    width: int
    height: int


def best_video_file(files: object) -> VideoFile | None:
    """Pick the MP4 Discord plays inline best: the largest with a known size up to Full HD.

    Chosen by width, height and file type only: Pexels fills the `quality` label inconsistently
    ("hd" on 960x540, "sd" on 1920x1080, "hls" with no size), so it is ignored.
    """
    candidates: list[VideoFile] = []
    for item in files if isinstance(files, list) else []:
        if not isinstance(item, dict):
            continue
        link, width, height = item.get("link"), item.get("width"), item.get("height")
        if item.get("file_type") != "video/mp4" or not isinstance(link, str) or ".m3u8" in link:
            continue
        if not isinstance(width, int) or not isinstance(height, int) or width <= 0 or height <= 0:
            continue
        candidates.append(VideoFile(link, width, height))
    if not candidates:
        return None
    fitting = [f for f in candidates if min(f.width, f.height) <= _MAX_INLINE_HEIGHT]
    if fitting:
        return max(fitting, key=lambda f: f.width * f.height)
    return min(candidates, key=lambda f: f.width * f.height)


@dataclass(frozen=True, slots=True)
class Video:
    """One Pexels video: its preview, credit and the file to play."""

    id: int
    url: str
    image: str
    duration: int
    user_name: str
    user_url: str
    file: VideoFile | None
    width: int
    height: int

    @classmethod
    def from_api(cls, data: object) -> Video:
        """Parse one item of a Pexels `videos` list."""
        if not isinstance(data, dict) or not isinstance(data.get("user"), dict):
            raise PexelsBadResponse("video is not an object with a user")
        user = data["user"]
        duration = data.get("duration")
        return cls(
            id=_int(data, "id"),
            url=_str(data, "url"),
            image=_str(data, "image"),
            duration=duration if isinstance(duration, int) and duration >= 0 else 0,
            user_name=_str(user, "name"),
            user_url=_str(user, "url"),
            file=best_video_file(data.get("video_files")),
            width=_int(data, "width"),
            height=_int(data, "height"),
        )


Item = Photo | Video


@dataclass(frozen=True, slots=True)
class Chunk:
    """One Pexels answer of up to 80 results, as cached."""

    items: tuple[Item, ...]
    reported: int
    """`total_results` as Pexels reported it (capped, and sometimes more than it serves)."""
    has_next: bool
    end: int | None = None
    """The real number of results, once we found Pexels serves fewer than it reports."""
