"""Parsing Pexels items: the video file chosen, titles, cleaned and bounded text, and only Pexels links."""

from __future__ import annotations

import math
import re
from typing import Any

import orjson
import pytest
from hypothesis import given
from hypothesis import strategies as st

from bot.errors import PexelsBadResponse
from bot.models import (
    MAX_ALT,
    MAX_NAME,
    Chunk,
    Photo,
    Video,
    VideoFile,
    best_video_file,
    clean_text,
    item_title,
    page_url,
    title_from_page,
)
from bot.vocab import Kind
from bot.wire import decode_chunk, encode_chunk
from tests.fakes.pexels import JAVASCRIPT_URL, LINK_INJECTION, NOT_A_URL, FakePexels

FAKE = FakePexels()  # never started: only its deterministic content generators are used here


def expected_file(files: list[dict[str, Any]]) -> dict[str, Any] | None:
    """The rule, restated plainly: among MP4s (never HLS) with a known size, the largest whose shorter side is at
    most 1080 (the smallest when none is); of equal size, a frame rate up to 30 first, the lowest; then the
    fewest bytes."""
    mp4 = [
        f
        for f in files
        if f.get("file_type") == "video/mp4"
        and f.get("quality") != "hls"
        and ".m3u8" not in f["link"]
        and f.get("width")
        and f.get("height")
    ]
    if not mp4:
        return None
    fitting = [f for f in mp4 if min(f["width"], f["height"]) <= 1080]
    pool = fitting or mp4
    area = (max if fitting else min)(f["width"] * f["height"] for f in pool)
    same = [f for f in pool if f["width"] * f["height"] == area]
    return min(same, key=lambda f: (f["fps"] > 30, f["fps"], f.get("size", math.inf)))


def mp4(
    width: int | None, height: int | None, fps: float | None = 25.0, size: int | None = None, **extra: Any
) -> dict[str, Any]:
    """One `video_files` entry as recorded."""
    entry: dict[str, Any] = {
        "id": 1,
        "quality": None,
        "file_type": "video/mp4",
        "width": width,
        "height": height,
        "fps": fps,
        "link": f"https://videos.pexels.com/video-files/1/1-hd_{width}_{height}_{fps}fps.mp4",
    }
    if size is not None:
        entry["size"] = size
    entry.update(extra)
    return entry


def chosen(files: list[dict[str, Any]]) -> tuple[int, int] | None:
    file = best_video_file(files)
    return None if file is None else (file.width, file.height)


# ------------------------------------------------------------------------------------------------ video files


@pytest.mark.parametrize(
    ("ladder", "expected"),
    [
        ([(4096, 2160), (2048, 1080), (1366, 720), (960, 506)], (2048, 1080)),
        ([(4004, 2160), (2002, 1080), (1334, 720)], (2002, 1080)),
        ([(4096, 2048), (2048, 1024), (1440, 720)], (2048, 1024)),
        ([(2160, 4096), (1080, 2048), (720, 1366), (506, 960)], (1080, 2048)),  # portrait
        ([(2160, 3840), (1080, 1920), (720, 1280)], (1080, 1920)),
        ([(2160, 2160), (1080, 1080), (720, 720)], (1080, 1080)),
        ([(1280, 720), (640, 360)], (1280, 720)),  # nothing reaches Full HD: the largest there is
        ([(3840, 2160), (4096, 2160)], (3840, 2160)),  # nothing fits: the smallest, not none
    ],
)
def test_the_largest_file_whose_shorter_side_fits(ladder: list[tuple[int, int]], expected: tuple[int, int]) -> None:
    files = [mp4(w, h, size=w * h) for w, h in ladder]
    assert chosen(files) == chosen(files[::-1]) == expected


def test_of_equal_size_the_lower_frame_rate_then_the_fewer_bytes() -> None:
    files = [mp4(2048, 1080, 50, 9_000), mp4(2048, 1080, 25, 5_000), mp4(1366, 720, 25, 2_000)]
    assert best_video_file(files) == VideoFile(files[1]["link"], 2048, 1080)
    files = [mp4(1920, 1080, 59.94, 100), mp4(1920, 1080, 29.97, 900)]
    assert best_video_file(files) == VideoFile(files[1]["link"], 1920, 1080), "fps before bytes"
    files = [mp4(1920, 1080, 30, 900), mp4(1920, 1080, 30, 400), mp4(1920, 1080, 30)]
    assert best_video_file(files) == VideoFile(files[1]["link"], 1920, 1080), "then the fewest bytes"
    files = [mp4(1920, 1080, 60, 100), mp4(1920, 1080, None, 900)]
    assert best_video_file(files) == VideoFile(files[1]["link"], 1920, 1080), "an unknown rate before one over 30"


def test_hls_is_never_chosen_and_labels_are_ignored() -> None:
    hls = mp4(None, None, None, quality="hls", link="https://player.vimeo.com/external/9.m3u8?s=ab")
    lying = mp4(1920, 1080, 25, 10, quality="sd")
    assert chosen([hls, lying, mp4(960, 540, 25, 5, quality="hd")]) == (1920, 1080)
    assert best_video_file([hls]) is None
    assert best_video_file([mp4(3840, 2160, quality="hls")]) is None
    legacy = mp4(1920, 1080, link="https://player.vimeo.com/external/123.hd.mp4?s=ab&profile_id=175")
    assert best_video_file([legacy]) is not None, "older uploads are served from Vimeo's file links"


def test_some_file_whenever_an_mp4_exists() -> None:
    unsized = mp4(None, None, None)
    assert best_video_file([unsized]) == VideoFile(unsized["link"], 0, 0)
    assert best_video_file([unsized, mp4(640, 360)]) == VideoFile(mp4(640, 360)["link"], 640, 360)
    no_type = mp4(1280, 720, file_type=None)
    assert chosen([no_type]) == (1280, 720), "an .mp4 link without a file_type is still an MP4"
    assert best_video_file([mp4(1280, 720, file_type="video/webm")]) is None
    assert best_video_file([]) is None and best_video_file(None) is None and best_video_file("x") is None


@pytest.mark.parametrize(
    "link",
    [
        "https://evil.example/clip.mp4",
        "http://videos.pexels.com/video-files/1/1.mp4",
        "https://player.vimeo.com/video/123",
        "javascript:alert(1)",
        "https://videos.pexels.com/a.mp4) [x](https://evil.example",
    ],
)
def test_video_files_off_pexels_hosts_are_ignored(link: str) -> None:
    assert best_video_file([mp4(1920, 1080, link=link)]) is None


@pytest.mark.parametrize("value", [True, -5, 0, "1920", 1e400, float("nan"), None])
def test_odd_numbers_in_a_rendition_do_not_break_the_choice(value: Any) -> None:
    good = mp4(1280, 720, 25, 100)
    odd = mp4(1920, 1080, value, value)
    odd["width"] = value if value not in (None, True) else 1920
    assert best_video_file([odd, good]) is not None


def test_against_the_fakes_videos() -> None:
    """Hundreds of recorded-like videos: the rule holds, and the cases it is about really occur."""
    duplicate_sizes = portrait = 0
    for query in ("waves", "city", "forest"):
        for index in range(80):
            data = FAKE.video(query, index)
            video = Video.from_api(data)
            want = expected_file(data["video_files"])
            assert want is not None and video.file is not None
            assert (video.file.link, video.file.width, video.file.height) == (
                want["link"],
                want["width"],
                want["height"],
            )
            dims = [(f["width"], f["height"]) for f in data["video_files"] if f["width"]]
            duplicate_sizes += len(dims) != len(set(dims))
            portrait += data["height"] > data["width"]
    assert duplicate_sizes > 10 and portrait > 30


# ------------------------------------------------------------------------------------------------ titles


def test_titles_are_never_generic_when_something_describes_the_item() -> None:
    photo = Photo.from_api(FAKE.photo("red fox", 2))
    assert item_title(photo) == "Red fox photo 2"
    no_alt = Photo.from_api({**FAKE.photo("red fox", 2), "alt": ""})
    assert item_title(no_alt) == "Red fox photo 2", "from the page's address"
    bare = Photo.from_api({**FAKE.photo("red fox", 2), "alt": " ", "url": "https://www.pexels.com/photo/8716832/"})
    assert item_title(bare) == f"Photo by {bare.photographer}"

    video = Video.from_api(FAKE.video("waves", 0))
    assert item_title(video) == "Waves video 0"
    localized = FAKE.video("waves", 0, locale="uk-UA")
    assert localized["url"] == f"https://www.pexels.com/uk-ua/video/{localized['id']}/"
    named = Video.from_api({**localized, "user": {**localized["user"], "name": "Ana  Lima"}})
    assert item_title(named) == "Video by Ana Lima"


@pytest.mark.parametrize(
    ("url", "title"),
    [
        ("https://www.pexels.com/photo/red-fox-standing-in-snowy-forest-8716832/", "Red fox standing in snowy forest"),
        (
            "https://www.pexels.com/uk-ua/video/waves-breaking-on-a-rocky-shore-5752729/",
            "Waves breaking on a rocky shore",
        ),
        ("https://www.pexels.com/uk-ua/video/5752729/", "Fallback"),
        ("https://www.pexels.com/photo/pexels-photo-15286/", "Fallback"),
        ("https://www.pexels.com/video/free-video-15286/", "Fallback"),
        ("https://www.pexels.com/@someone", "Fallback"),
    ],
)
def test_title_from_the_page_address(url: str, title: str) -> None:
    assert title_from_page(url, "Fallback") == title


# ------------------------------------------------------------------------------------------------ text


@pytest.mark.parametrize(
    ("raw", "clean"),
    [
        ("  Mila   Novak ", "Mila Novak"),
        ("Zoë\u00a0\u00a0Müller", "Zoë Müller"),
        ("a\tb\nc\r\nd", "a b c d"),
        ("evil\u202eexe.gpj", "evilexe.gpj"),  # no right-to-left override
        ("zero\u200bwidth\ufeff", "zerowidth"),
        ("bad\ud800surrogate\x00", "badsurrogate"),
        ("山田 太郎", "山田 太郎"),
        ("family 👨\u200d👩\u200d👧", "family 👨\u200d👩\u200d👧"),  # joiners inside emoji stay
        (None, ""),
        (42, ""),
    ],
)
def test_text_is_normalised(raw: Any, clean: str) -> None:
    assert clean_text(raw, 100) == clean


def test_text_is_bounded_and_addresses_are_defused() -> None:
    assert clean_text("x" * 5000, MAX_NAME) == "x" * (MAX_NAME - 1) + "…"
    long_alt = "word " * 10_000
    assert len(clean_text(long_alt, MAX_ALT)) == MAX_ALT
    defused = clean_text("Visit https://evil.example/nitro now", 100)
    assert "https://" not in defused and defused.replace("\u2060", "") == "Visit https://evil.example/nitro now"
    orjson.dumps(clean_text("bad\ud800", 10))  # what is kept can always be encoded


@given(st.text(alphabet=st.sampled_from(list("ab Z09:/.-\t\n\x00\x7f\u200béé👨")), max_size=40), st.integers(2, 30))
def test_text_that_needs_no_cleaning_is_kept_and_any_other_is_cleaned(raw: str, limit: int) -> None:
    """The fast path for plain text gives what the full cleaning gives (stated here as its definition)."""
    full = " ".join(re.sub("[\x00-\x08\x0e-\x1b\x7f\u200b]", "", raw[: limit * 8]).split())
    full = re.sub(r"(?i)\b([a-z][a-z0-9+.\-]{1,20}:)//", lambda m: m[1] + "\u2060//", full)
    expected = full if len(full) <= limit else full[: limit - 1].rstrip() + "…"
    assert clean_text(raw, limit) == expected


# ------------------------------------------------------------------------------------------------ links


@pytest.mark.parametrize(
    "url",
    [
        JAVASCRIPT_URL,
        NOT_A_URL,
        LINK_INJECTION,
        "http://www.pexels.com/photo/x-1/",
        "https://evil.example/photo/x-1/",
        "https://www.pexels.com.evil.example/photo/x-1/",
        "https://evil.example@www.pexels.com/photo/x-1/",
        "https://www.pexels.com@evil.example/photo/x-1/",
        "https://www.pexels.com:8443/photo/x-1/",
        "https://www.pexels.com/photo/x-1/ [y](https://evil.example)",
        "https://www.pexels.com/photo/<script>/",
        "https://www.pexels.com/" + "a" * 600,
        "//www.pexels.com/photo/x-1/",
        "",
        None,
        ["https://www.pexels.com/"],
    ],
)
def test_only_https_pexels_pages_are_links(url: Any) -> None:
    assert page_url(url) is None


@pytest.mark.parametrize(
    "url",
    [
        "https://www.pexels.com/photo/red-fox-8716832/",
        "https://pexels.com/@mila-novak-24391157",
        "https://WWW.PEXELS.COM/uk-ua/video/12345/",
        "https://www.pexels.com/de-de/foto/%C3%BCber-123/",
    ],
)
def test_pexels_pages_are_kept(url: str) -> None:
    assert page_url(url) == url


def test_a_bad_page_or_image_skips_the_item_a_bad_credit_link_is_dropped() -> None:
    data = FAKE.photo("cats", 4)
    for bad in ({"url": JAVASCRIPT_URL}, {"url": NOT_A_URL}, {"src": {"large": NOT_A_URL, "large2x": None}}):
        item = {**data, **bad}
        if "src" in bad:
            item["src"] = {"large": NOT_A_URL, "large2x": "ftp://x", "original": "https://evil.example/a.jpg"}
        with pytest.raises(PexelsBadResponse):
            Photo.from_api(item)

    fallback = Photo.from_api({**data, "src": {**data["src"], "large": NOT_A_URL}})
    assert fallback.image == data["src"]["large2x"], "the next good size of the image"

    problems: list[str] = []
    photo = Photo.from_api({**data, "photographer_url": LINK_INJECTION}, problems)
    assert photo.photographer_url == "" and photo.url == data["url"]
    assert len(problems) == 1 and "photographer_url" in problems[0]

    video = FAKE.video("cats", 4)
    with pytest.raises(PexelsBadResponse):
        Video.from_api({**video, "image": "https://evil.example/p.jpg"})
    kept = Video.from_api({**video, "user": {**video["user"], "url": JAVASCRIPT_URL}}, problems)
    assert kept.user_url == "" and len(problems) == 2


def test_long_names_and_alt_texts_are_stored_bounded() -> None:
    data = {**FAKE.photo("cats", 4), "photographer": "N" * 5000, "alt": "A " * 100_000}
    photo = Photo.from_api(data)
    assert len(photo.photographer) == MAX_NAME and len(photo.alt) == MAX_ALT
    cached = encode_chunk(Chunk((photo,), 1, False))
    assert len(cached) < 2 * (MAX_NAME + MAX_ALT + 3 * 512)
    assert decode_chunk(Kind.PHOTO, cached) == Chunk((photo,), 1, False)


@pytest.mark.parametrize("field", ["id", "width", "height"])
@pytest.mark.parametrize("value", [None, "12", True, 1.5, -1, 2**70])
def test_implausible_numbers_skip_the_item(field: str, value: Any) -> None:
    with pytest.raises(PexelsBadResponse):
        Photo.from_api({**FAKE.photo("cats", 4), field: value})


def test_rows_round_trip() -> None:
    video = Video.from_api(FAKE.video("cats", 4))
    assert decode_chunk(Kind.VIDEO, encode_chunk(Chunk((video,), 1, False))) == Chunk((video,), 1, False)
    photo = Photo.from_api(FAKE.photo("cats", 4))
    assert decode_chunk(Kind.PHOTO, encode_chunk(Chunk((photo,), 1, False))) == Chunk((photo,), 1, False)


def test_the_worst_items_pexels_could_send_fit_discords_limits() -> None:
    """Every text at its bound and made of characters that escaping doubles, every address at its longest."""
    from bot.service import Slot
    from bot.ui import link_button, photo_embed, video_embed
    from bot.vocab import SearchSpec

    page = "https://www.pexels.com/photo/" + "a" * (512 - len("https://www.pexels.com/photo/") - 1) + "/"
    profile = "https://www.pexels.com/@" + "b" * (512 - len("https://www.pexels.com/@"))
    image = "https://images.pexels.com/photos/1/p.jpeg?" + "c" * (
        2048 - len("https://images.pexels.com/photos/1/p.jpeg?")
    )
    link = "https://videos.pexels.com/v/" + "d" * (2048 - len("https://videos.pexels.com/v/") - 4) + ".mp4"
    nasty = "*_[]()~`|>#" * 1000
    photo = Photo.from_api(
        {
            **FAKE.photo("cats", 1),
            "url": page,
            "photographer": nasty,
            "photographer_url": profile,
            "alt": nasty,
            "src": {"large": image},
        }
    )
    video = Video.from_api(
        {
            **FAKE.video("cats", 1),
            "url": page.replace("/photo/", "/video/"),
            "image": image,
            "user": {"id": 1, "name": nasty, "url": profile},
            "video_files": [mp4(1920, 1080, link=link)],
        }
    )
    assert video.file is not None and video.file.link == link
    query = "q" * 100
    for embed in (
        photo_embed(photo, Slot(photo, 239, 240, SearchSpec(Kind.PHOTO, query))),
        video_embed(video, Slot(video, 239, 240, SearchSpec(Kind.VIDEO, query))),
    ):
        assert len(embed.title or "") <= 256 and len(embed.description or "") <= 4096
        assert len(embed.footer.text or "") <= 2048 and len(embed) <= 6000
        assert all(len(url or "") <= 2048 for url in (embed.url, embed.image.url))
        assert (embed.description or "").endswith("provided by Pexels](https://www.pexels.com)"), "nothing was cut"
    for item in (photo, video):
        button = link_button(item)
        assert len(button.url or "") <= 512 and len(button.label or "") <= 80
