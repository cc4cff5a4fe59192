"""The pure builders of bot/ui.py: the custom_id codec, embeds, the footer round trip and the result view."""

from __future__ import annotations

import re
import string
from dataclasses import replace
from types import SimpleNamespace
from typing import Any, cast

import discord
import pytest
from hypothesis import Phase, example, given, settings
from hypothesis import strategies as st

from bot.errors import BadInput
from bot.models import Photo, Video, VideoFile
from bot.service import Slot
from bot.ui import (
    DELETE,
    FIRST,
    LAST,
    NEXT,
    PEXELS_GREEN,
    PEXELS_URL,
    POST,
    PREVIOUS,
    RANDOM,
    SAVE,
    photo_embed,
    result_embed,
    result_view,
    title_from_page,
    video_embed,
)
from bot.vocab import COLOURS, ORIENTATIONS, PEXELS_LOCALES, SIZES, Kind, SearchSpec, parse_colour, validate_query
from bot.wire import Action, ButtonState, decode_options, encode_options, footer_text, parse_footer
from tests.fakes.pexels import FakePexels

ACTIONS = list(Action)

FAKE = FakePexels()  # never started: only its deterministic content generators are used here

# ------------------------------------------------------------------------------------------------ strategies

HEX = "0123456789abcdef"
colours = st.one_of(
    st.none(),
    st.sampled_from(COLOURS),
    st.text(alphabet=HEX + "ABCDEF", min_size=6, max_size=6).map(parse_colour),
    st.text(alphabet=HEX + "ABCDEF", min_size=3, max_size=3).map(lambda d: parse_colour("#" + d)),
)
specs = st.builds(
    SearchSpec,
    kind=st.sampled_from([Kind.PHOTO, Kind.VIDEO, Kind.CURATED]),
    query=st.just(""),
    orientation=st.one_of(st.none(), st.sampled_from(ORIENTATIONS)),
    size=st.one_of(st.none(), st.sampled_from(SIZES)),
    colour=colours,
    locale=st.one_of(st.none(), st.sampled_from(PEXELS_LOCALES)),
)
states = st.builds(
    ButtonState,
    action=st.sampled_from(sorted(ACTIONS)),
    owner=st.integers(0, 2**64 - 1),
    index=st.integers(0, 239),
    options=specs.map(encode_options),
    key=st.text(alphabet=HEX, min_size=12, max_size=12),
)
VALID_ID = "px:n:123456789012345678:4:p.portrait.-.#ffaa00.de-DE:0123456789ab"


# ------------------------------------------------------------------------------------------------ custom_id codec


def test_a_known_custom_id() -> None:
    state = ButtonState.parse(VALID_ID)
    assert state == ButtonState("n", 123456789012345678, 4, "p.portrait.-.#ffaa00.de-DE", "0123456789ab")
    assert state.spec("sunset") == SearchSpec(Kind.PHOTO, "sunset", "portrait", None, "#ffaa00", "de-DE")
    assert state.encode() == VALID_ID


@given(states)
@example(ButtonState("l", 2**64 - 1, 239, "p.landscape.medium.turquoise.en-US", "f" * 12))
@example(ButtonState("f", 0, 0, "c.-.-.-.-", "0" * 12))
def test_button_state_round_trip(state: ButtonState) -> None:
    custom_id = state.encode()
    assert len(custom_id) <= 100
    assert ButtonState.parse(custom_id) == state
    spec = state.spec("any query")
    assert encode_options(spec) == state.options
    assert spec.query == "any query"


@given(specs, st.text(min_size=1, max_size=100))
def test_spec_code_round_trip(spec: SearchSpec, query: str) -> None:
    assert decode_options(encode_options(spec), query) == replace(spec, query=query)


@given(st.text())
@example("")
@example("px:")
@example(VALID_ID + "\n")
def test_arbitrary_text_is_rejected_with_value_error(custom_id: str) -> None:
    with pytest.raises(ValueError):
        ButtonState.parse(custom_id)


@st.composite
def mutated_ids(draw: st.DrawFn) -> str:
    custom_id = draw(states).encode()
    for _ in range(draw(st.integers(1, 3))):
        position = draw(st.integers(0, len(custom_id)))
        op = draw(st.sampled_from(["insert", "delete", "replace"]))
        char = draw(st.sampled_from(list(string.printable + "١٢#.-:é\x00")))
        if op == "insert":
            custom_id = custom_id[:position] + char + custom_id[position:]
        elif op == "delete":
            custom_id = custom_id[:position] + custom_id[position + 1 :]
        else:
            custom_id = custom_id[:position] + char + custom_id[position + 1 :]
    return custom_id


@settings(phases=[Phase.explicit, Phase.reuse, Phase.generate])  # no shrinking: HOSTILE has readable repros
@given(mutated_ids())
@example("px:d:0:0:p.-.-.0-.-:000000000000")
def test_mutated_custom_ids_parse_or_raise_value_error(custom_id: str) -> None:
    try:
        state = ButtonState.parse(custom_id)
    except ValueError:
        return
    # whatever is accepted is something we could have written
    assert state.action in ACTIONS
    assert 0 <= state.owner < 2**64
    assert re.fullmatch(r"[0-9a-f]{12}", state.key)
    assert encode_options(decode_options(state.options, "")) == state.options


HOSTILE = [
    "",
    "px",
    "px:f:1:0:p.-.-.-.-",
    "xx:f:1:0:p.-.-.-.-:0123456789ab",
    "PX:f:1:0:p.-.-.-.-:0123456789ab",
    " px:f:1:0:p.-.-.-.-:0123456789ab",
    "px:x:1:0:p.-.-.-.-:0123456789ab",
    "px:ff:1:0:p.-.-.-.-:0123456789ab",
    "px:f:-1:0:p.-.-.-.-:0123456789ab",
    "px:f:18446744073709551616:0:p.-.-.-.-:0123456789ab",  # 2**64
    "px:f:99999999999999999999:0:p.-.-.-.-:0123456789ab",
    "px:f:123456789012345678901:0:p.-.-.-.-:0123456789ab",
    "px:f:1:99999:p.-.-.-.-:0123456789ab",
    "px:f:1:-1:p.-.-.-.-:0123456789ab",
    "px:f:1:1e3:p.-.-.-.-:0123456789ab",
    "px:f:١:0:p.-.-.-.-:0123456789ab",  # non-ASCII digits
    "px:f:1:0:p.x.-.-.-:0123456789ab",
    "px:f:1:0:q.-.-.-.-:0123456789ab",
    "px:f:1:0:p.-.-.-:0123456789ab",
    "px:f:1:0:p.-.-.-.-.-:0123456789ab",
    "px:f:1:0:p.-.huge.-.-:0123456789ab",
    "px:f:1:0:p.-.-.purple.-:0123456789ab",
    "px:f:1:0:p.-.-.--.-:0123456789ab",
    "px:f:1:0:p.-.-.#fa0.-:0123456789ab",
    "px:f:1:0:p.-.-.#FFAA00.-:0123456789ab",
    "px:f:1:0:p.-.-.ffaa00.-:0123456789ab",
    "px:f:1:0:p.-.-.-.xx-XX:0123456789ab",
    "px:f:1:0:p.-.-.-.de-de:0123456789ab",
    "px:f:1:0:p.-.-.-.-:0123456789AB",
    "px:f:1:0:p.-.-.-.-:0123456789a",
    "px:f:1:0:p.-.-.-.-:0123456789abc",
    "px:f:1:0:p.-.-.-.-:0123456789ab:extra",
    "px:f:1:0:p.-.-.-.-:0123456789ab\n",
    "px:f:1:0:p.-.-.-.-:0123456789ab; DROP TABLE users",
    "px:f:1:0:p.-.-.-.-:0123456789ab\x00",
    "px:f:1:0:p.-.-.-.-:../../etc/passwd",
    "px:f:1:0:{{7*7}}:0123456789ab",
    "px:f:1:0:p.-.-.-.-:0123456789ab" + "0" * 10_000,
    "px:f:" + "9" * 10_000 + ":0:p.-.-.-.-:0123456789ab",
]


@pytest.mark.parametrize("custom_id", HOSTILE)
def test_hostile_custom_ids_raise_value_error(custom_id: str) -> None:
    with pytest.raises(ValueError):
        ButtonState.parse(custom_id)


# ------------------------------------------------------------------------------------------------ embeds


def a_photo(index: int = 2, query: str = "sunset") -> Photo:
    return Photo.from_api(FAKE.photo(query, index))


def a_slot(item: Photo | Video, index: int = 2, total: int = 240, spec: SearchSpec | None = None) -> Slot:
    return Slot(item, index, total, spec or SearchSpec(Kind.PHOTO, "sunset"))


_LINK = re.compile(r"(?<!\\)\[((?:\\.|[^\]\\])*)\]\(([^)\s]*)\)")


def link_targets(markdown: str) -> list[str]:
    """The URLs of the masked links Discord would render (backslash-escaped brackets are text)."""
    return [m[2] for m in _LINK.finditer(markdown)]


def test_photo_embed() -> None:
    data = FAKE.photo("sunset", 2)
    photo = Photo.from_api(data)
    assert data["alt"] and data["avg_color"]
    embed = photo_embed(photo, a_slot(photo))
    assert embed.title == data["alt"]
    assert embed.url == data["url"]
    assert embed.author.name is None, "credited once, in the description"
    assert data["photographer_url"] in link_targets(embed.description or "")
    assert embed.image.url == data["src"]["large"]
    assert embed.colour is not None
    assert embed.colour.value == int(data["avg_color"][1:], 16)
    assert embed.description is not None
    assert f"[Photos provided by Pexels]({PEXELS_URL})" in embed.description
    assert PEXELS_URL == "https://www.pexels.com"
    assert data["photographer_url"] in link_targets(embed.description)
    assert discord.utils.escape_markdown(data["photographer"]) in embed.description
    assert embed.footer.text == '3 / 240 · "sunset"'
    assert len(embed) <= 6000


def test_photo_embed_without_alt_or_colour() -> None:
    photo = Photo.from_api(FAKE.photo("sunset", 33))  # 33 % 10 == 3, 33 % 20 == 13: colour null
    photo = replace(photo, alt="")
    assert photo.colour is None
    embed = photo_embed(photo, a_slot(photo, 32))
    assert embed.title  # a title is still there to carry the link
    assert embed.url == photo.url
    assert embed.colour is not None
    assert embed.colour.value == PEXELS_GREEN
    assert embed.footer.text == '33 / 240 · "sunset"'


def test_photo_embed_long_alt_is_truncated() -> None:
    photo = replace(a_photo(), alt="a" * 1000)
    embed = photo_embed(photo, a_slot(photo))
    assert embed.title is not None
    assert len(embed.title) <= 256


@pytest.mark.parametrize(
    "name", ["under_score *star*", "[x](https://evil.example)", "x](https://evil.example) [y", "a]b(c)"]
)
def test_photographer_name_cannot_inject_markdown_links(name: str) -> None:
    photo = replace(a_photo(), photographer=name)
    embed = photo_embed(photo, a_slot(photo))
    assert embed.description is not None
    targets = link_targets(embed.description)
    assert "https://evil.example" not in targets
    assert set(targets) <= {photo.photographer_url, photo.url, PEXELS_URL}
    assert photo.photographer_url in targets


def test_footer_text() -> None:
    assert footer_text(1, 1, SearchSpec(Kind.PHOTO, "sunset")) == '1 / 1 · "sunset"'
    assert footer_text(3, 240, SearchSpec(Kind.CURATED)) == "3 / 240 · Curated by Pexels"


def query_from_message(message: Any) -> str | None:
    """What a press reads back: the query in the footer of the message's first embed."""
    if message is None or not message.embeds:
        return None
    footer = parse_footer(message.embeds[0].footer.text)
    return footer.query if footer else None


def message_with(embed: discord.Embed) -> Any:
    """A stand-in for the discord.Message Discord sends with a press: the embed comes back through JSON."""
    return SimpleNamespace(embeds=[discord.Embed.from_dict(embed.to_dict())])


@given(st.text(min_size=1, max_size=120))
@example('say "hi" · 1 / 2 · "x"')
@example("3 / 240 · Curated by Pexels")
def test_query_round_trips_through_the_footer(text: str) -> None:
    try:
        query = validate_query(text)
    except BadInput:
        return  # not a query anybody could have searched for
    photo = a_photo()
    embed = photo_embed(photo, a_slot(photo, 5, 17, SearchSpec(Kind.PHOTO, query)))
    assert query_from_message(message_with(embed)) == query


def test_query_from_other_messages() -> None:
    photo = a_photo()
    curated = photo_embed(photo, a_slot(photo, 0, 240, SearchSpec(Kind.CURATED)))
    assert query_from_message(message_with(curated)) == ""
    assert query_from_message(None) is None
    assert query_from_message(SimpleNamespace(embeds=[])) is None  # type: ignore[arg-type]
    assert query_from_message(message_with(discord.Embed(title="hi"))) is None
    assert query_from_message(message_with(discord.Embed().set_footer(text="not ours"))) is None


def a_video(index: int = 0, **changes: Any) -> Video:
    return replace(Video.from_api(FAKE.video("ocean", index)), **changes)


@pytest.mark.parametrize(
    ("seconds", "shown"), [(17, "0:17"), (0, "0:00"), (60, "1:00"), (605, "10:05"), (3725, "1:02:05")]
)
def test_video_embed_duration(seconds: int, shown: str) -> None:
    video = a_video(duration=seconds)
    embed = video_embed(video, a_slot(video, spec=SearchSpec(Kind.VIDEO, "ocean")))
    assert embed.description is not None
    assert f"⏱ {shown} ·" in embed.description


def test_video_embed() -> None:
    data = FAKE.video("ocean", 0)
    video = a_video(duration=17)
    assert video.file is not None
    embed = video_embed(video, a_slot(video, 0, 240, SearchSpec(Kind.VIDEO, "ocean")))
    assert embed.description is not None
    assert "0:17" in embed.description
    assert video.file.link in link_targets(embed.description)
    assert video.file.link in [f["link"] for f in data["video_files"]]
    assert not any(".m3u8" in target for target in link_targets(embed.description))
    assert embed.url == data["url"]
    assert embed.image.url == data["image"]
    assert data["user"]["url"] in link_targets(embed.description)
    assert f"({PEXELS_URL})" in embed.description
    assert embed.footer.text == '1 / 240 · "ocean"'
    assert result_embed(a_slot(video, 0, 240, SearchSpec(Kind.VIDEO, "ocean"))).to_dict() == embed.to_dict()


def test_video_embed_without_a_playable_file() -> None:
    video = a_video(file=None)
    embed = video_embed(video, a_slot(video, spec=SearchSpec(Kind.VIDEO, "ocean")))
    assert embed.description is not None
    assert ".mp4" not in embed.description
    assert video.url in link_targets(embed.description)


def test_video_embed_links_exactly_the_chosen_file() -> None:
    video = a_video(file=VideoFile("https://videos.example/clip_1280_720.mp4", 1280, 720))
    embed = video_embed(video, a_slot(video, spec=SearchSpec(Kind.VIDEO, "ocean")))
    assert embed.description is not None
    assert "https://videos.example/clip_1280_720.mp4" in link_targets(embed.description)
    assert "1280×720" in embed.description


# ------------------------------------------------------------------------------------------------ the view


def buttons(view: discord.ui.View) -> list[discord.Button]:
    """The view's buttons as Discord receives them (what discord.py sends for `view=`)."""
    out: list[discord.Button] = []
    for row in view.to_components():
        assert row["type"] == discord.ComponentType.action_row.value
        out.extend(discord.Button(cast("Any", button)) for button in row["components"])
    return out


def face(button: discord.Button) -> str:
    return str(button.emoji) if button.emoji is not None else str(button.label)


@pytest.mark.parametrize("private", [False, True])
async def test_result_view_layout(private: bool) -> None:
    photo = a_photo()
    spec = SearchSpec(Kind.PHOTO, "sunset", colour="#ffaa00")
    view = result_view(Slot(photo, 2, 240, spec), owner=4242, private=private)
    found = buttons(view)
    expected = [FIRST, PREVIOUS, "3 / 240", NEXT, LAST, RANDOM, DELETE, SAVE, *([POST] if private else [])]
    expected.append("View on Pexels")
    assert [face(b) for b in found] == expected
    rows = [len(row["components"]) for row in view.to_components()]
    assert rows == [5, 5 if private else 4], "Discord allows five buttons a row"
    link = found[-1]
    assert link.style is discord.ButtonStyle.link
    assert link.url == photo.url
    assert link.custom_id is None
    custom_ids = [b.custom_id for b in found[:-1]]
    assert all(custom_ids)
    assert len(set(custom_ids)) == len(custom_ids)
    parsed = [ButtonState.parse(c) for c in custom_ids if c is not None]
    assert all(len(c or "") <= 100 for c in custom_ids)
    assert {p.owner for p in parsed} == {4242}
    assert {p.options for p in parsed} == {encode_options(spec)}
    assert {p.key for p in parsed} == {spec.key}
    targets = {p.action: p.index for p in parsed}
    assert (targets["f"], targets["p"], targets["n"], targets["l"]) == (0, 1, 3, 239)
    assert view.is_finished()
    assert view.timeout is None
    assert not any(b.disabled for b in found)


@given(total=st.integers(1, 240), data=st.data())
async def test_result_view_disables_what_leads_nowhere(total: int, data: st.DataObject) -> None:
    index = data.draw(st.integers(0, total - 1))
    photo = a_photo()
    view = result_view(Slot(photo, index, total, SearchSpec(Kind.PHOTO, "sunset")), owner=1)
    by_face = {face(b): b for b in buttons(view)}
    assert by_face[FIRST].disabled == by_face[PREVIOUS].disabled == (index == 0)
    assert by_face[NEXT].disabled == by_face[LAST].disabled == (index == total - 1)
    assert by_face[RANDOM].disabled == (total == 1)
    assert not by_face[DELETE].disabled
    assert f"{index + 1} / {total}" in by_face
    for button in buttons(view)[:-1]:
        assert button.custom_id is not None
        state = ButtonState.parse(button.custom_id)
        assert 0 <= state.index < total
    assert view.is_finished()


async def test_result_view_for_a_video() -> None:
    video = a_video()
    view = result_view(Slot(video, 0, 1, SearchSpec(Kind.VIDEO, "ocean")), owner=7)
    found = buttons(view)
    assert face(found[-1]) == "Watch on Pexels"
    assert found[-1].url == video.url
    assert [face(b) for b in found if b.disabled] == [FIRST, PREVIOUS, "1 / 1", NEXT, LAST, RANDOM]


@pytest.mark.parametrize(
    ("url", "title"),
    [
        ("https://www.pexels.com/photo/red-fox-standing-in-snowy-forest-8716832/", "Red fox standing in snowy forest"),
        (
            "https://www.pexels.com/uk-ua/video/waves-breaking-on-a-rocky-shore-5752729/",
            "Waves breaking on a rocky shore",
        ),
        ("https://www.pexels.com/photo/8716832/", "Fallback"),
        ("https://www.pexels.com/photo/pexels-photo-15286/", "Fallback"),
        ("https://www.pexels.com/@someone", "Fallback"),
    ],
)
def test_title_from_the_page_address(url: str, title: str) -> None:
    """Photos without alt text and videos get a readable title from their Pexels page's address."""
    assert title_from_page(url, "Fallback") == title
