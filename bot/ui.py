"""What a result message looks like: pure embed and button builders, and the custom_id codec.

Buttons carry their whole state in their custom_id (design decision 4): who may press them, which result
they lead to, the search's options and a key of its results. The query itself is read back from the
message's footer, which Discord sends with every press. Nothing is kept in memory per message.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

import discord

from bot.models import Item, Photo, Video, item_title
from bot.models import title_from_page as title_from_page  # re-exported: it moved to bot.models
from bot.search import KIND_CURATED, SearchSpec, Slot

PEXELS_URL = "https://www.pexels.com"
PEXELS_GREEN = 0x05A081
FIRST, PREVIOUS, NEXT, LAST, RANDOM, DELETE, POST = "⏮", "◀", "▶", "⏭", "🔀", "🗑", "📤"
NO_MENTIONS = discord.AllowedMentions.none()

ACTIONS = {"f": FIRST, "p": PREVIOUS, "n": NEXT, "l": LAST, "r": RANDOM, "d": DELETE, "s": POST, "j": "jump"}
CUSTOM_ID_PATTERN = (
    r"px:(?P<action>[fpnlrdsj]):(?P<owner>[0-9]{1,20}):(?P<index>[0-9]{1,4}):(?P<spec>[a-zA-Z0-9#.-]{9,40})"
    r":(?P<key>[0-9a-f]{12})"
)
_CUSTOM_ID = re.compile(CUSTOM_ID_PATTERN)
_FOOTER = re.compile(r"(?P<position>\d+) / (?P<total>\d+) · (?:\"(?P<query>.*)\"|Curated by Pexels)", re.DOTALL)


@dataclass(frozen=True, slots=True)
class ButtonState:
    """What one button press needs to know, as carried in its custom_id."""

    action: str
    owner: int
    index: int
    spec_code: str
    key: str

    def encode(self) -> str:
        """The custom_id (at most 100 characters, as Discord requires)."""
        return f"px:{self.action}:{self.owner}:{self.index}:{self.spec_code}:{self.key}"

    @classmethod
    def parse(cls, custom_id: str) -> ButtonState:
        """Parse an untrusted custom_id; raise ValueError on anything we would not have written."""
        match = _CUSTOM_ID.fullmatch(custom_id)
        if not match:
            raise ValueError("not a result button")
        return cls.from_match(match)

    @classmethod
    def from_match(cls, match: re.Match[str]) -> ButtonState:
        """Build from a match of CUSTOM_ID_PATTERN, validating the numbers and the options."""
        owner, index = int(match["owner"]), int(match["index"])
        if owner >= 2**64:
            raise ValueError("owner is not a snowflake")
        SearchSpec.from_code(match["spec"], "")
        return cls(match["action"], owner, index, match["spec"], match["key"])

    def spec(self, query: str) -> SearchSpec:
        """The search this button belongs to, with the query read back from the message."""
        return SearchSpec.from_code(self.spec_code, query)


def footer_text(slot: Slot) -> str:
    """The counter, like `3 / 240 · "sunset"`."""
    return f"{slot.index + 1} / {slot.total} · {slot.spec.describe()}"


def query_from_message(message: discord.Message | None) -> str | None:
    """Read the query back from a result message's footer (None if it isn't one of ours)."""
    if message is None or not message.embeds:
        return None
    footer = message.embeds[0].footer.text or ""
    match = _FOOTER.search(footer)
    if not match:
        return None
    return match["query"] or ""


def _duration(seconds: int) -> str:
    minutes, secs = divmod(seconds, 60)
    hours, minutes = divmod(minutes, 60)
    return f"{hours}:{minutes:02}:{secs:02}" if hours else f"{minutes}:{secs:02}"


_LINK_SYNTAX = str.maketrans({c: "\\" + c for c in "[]()"})


def _esc(text: str) -> str:
    """Text safe inside a markdown link's label: no formatting, and no way to close the link early."""
    return discord.utils.escape_markdown(text).translate(_LINK_SYNTAX)


def _truncate(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _shown(text: str, limit: int) -> str:
    """Pexels text for a title: markdown escaped, and cut so that the escaped form fits `limit` characters."""
    escaped = discord.utils.escape_markdown(text)
    cut = limit - 1
    while len(escaped) > limit and cut > 0:
        escaped = discord.utils.escape_markdown(text[:cut].rstrip()) + "…"
        cut -= max(1, len(escaped) - limit)
    return escaped


def _credit(name: str, profile: str) -> str:
    """The photographer's name, linked to their Pexels profile when Pexels sent a usable one."""
    return f"[{_esc(name)}]({profile})" if profile else _esc(name)


def photo_embed(photo: Photo, slot: Slot) -> discord.Embed:
    """A credited photo: title linking to Pexels, photographer, attribution, alt text and the counter."""
    embed = discord.Embed(
        title=_shown(item_title(photo), 256),
        url=photo.url,
        colour=photo.colour if photo.colour is not None else PEXELS_GREEN,
        description=_truncate(
            f"📷 Photo by {_credit(photo.photographer, photo.photographer_url)} on [Pexels]({photo.url})\n"
            f"[Photos provided by Pexels]({PEXELS_URL})",
            4096,
        ),
    )
    embed.set_image(url=photo.image)
    embed.set_footer(text=_truncate(footer_text(slot), 2048))
    return embed


def video_embed(video: Video, slot: Slot) -> discord.Embed:
    """A credited video: its preview image, duration, the MP4 to play, and the counter."""
    lines = [f"⏱ {_duration(video.duration)} · {video.width}×{video.height}"]
    if video.file is not None:
        size = f", {video.file.width}×{video.file.height}" if video.file.width and video.file.height else ""
        lines.append(f"▶ [Play the video (MP4{size})]({video.file.link})")
    lines.append(f"🎥 Video by {_credit(video.user_name, video.user_url)} on [Pexels]({video.url})")
    lines.append(f"[Videos provided by Pexels]({PEXELS_URL})")
    embed = discord.Embed(
        title=_shown(item_title(video), 256),
        url=video.url,
        colour=PEXELS_GREEN,
        description=_truncate("\n".join(lines), 4096),
    )
    embed.set_image(url=video.image)
    embed.set_footer(text=_truncate(footer_text(slot), 2048))
    return embed


def result_embed(slot: Slot) -> discord.Embed:
    """The embed for whatever kind of result the slot holds."""
    return video_embed(slot.item, slot) if isinstance(slot.item, Video) else photo_embed(slot.item, slot)


def shared_embed(slot: Slot, sharer: str) -> discord.Embed:
    """A result posted from a private picker: full credit, and who shared it (as text: nobody is pinged)."""
    embed = result_embed(slot)
    embed.set_footer(text=_truncate(f"Shared by {sharer} · {slot.spec.describe()}", 2048))
    return embed


class PageButton(discord.ui.DynamicItem[discord.ui.Button[Any]], template=CUSTOM_ID_PATTERN):
    """Every result button: its custom_id says what it does; the bot's results controller does it."""

    def __init__(
        self,
        state: ButtonState | None,
        *,
        custom_id: str | None = None,
        label: str | None = None,
        emoji: str | None = None,
        disabled: bool = False,
        row: int = 0,
        style: discord.ButtonStyle = discord.ButtonStyle.secondary,
    ) -> None:
        super().__init__(
            discord.ui.Button(
                custom_id=custom_id or (state.encode() if state else None),
                label=label,
                emoji=emoji,
                disabled=disabled,
                row=row,
                style=style,
            )
        )
        self.state = state
        """None when the press carried a custom_id we would not have written: it is answered, not acted on."""

    @classmethod
    async def from_custom_id(
        cls, interaction: discord.Interaction[Any], item: discord.ui.Item[Any], match: re.Match[str], /
    ) -> PageButton:
        """Rebuild the button from a press (the custom_id is untrusted input)."""
        try:
            return cls(ButtonState.from_match(match))
        except ValueError:
            return cls(None, custom_id=match.string)

    async def callback(self, interaction: discord.Interaction[Any]) -> None:
        """Hand the press to the bot's results controller."""
        await interaction.client.results.press(interaction, self.state)


def result_view(slot: Slot, owner: int, *, private: bool = False) -> discord.ui.View:
    """The buttons under a result: ⏮ ◀ counter ▶ ⏭, then 🔀 🗑 (📤 when private) and a link to Pexels.

    The view is stopped before it is sent, so discord.py keeps nothing for it: presses are routed
    by the PageButton template alone.
    """
    code, key, last = slot.spec.code(), slot.spec.key, slot.total - 1

    def state(action: str, index: int) -> ButtonState:
        return ButtonState(action, owner, index, code, key)

    at_start, at_end = slot.index <= 0, slot.index >= last
    view = discord.ui.View(timeout=None)
    view.add_item(PageButton(state("f", 0), emoji=FIRST, disabled=at_start))
    view.add_item(PageButton(state("p", max(slot.index - 1, 0)), emoji=PREVIOUS, disabled=at_start))
    view.add_item(PageButton(state("j", slot.index), label=f"{slot.index + 1} / {slot.total}", disabled=last <= 0))
    view.add_item(PageButton(state("n", min(slot.index + 1, last)), emoji=NEXT, disabled=at_end))
    view.add_item(PageButton(state("l", last), emoji=LAST, disabled=at_end))
    view.add_item(PageButton(state("r", slot.index), emoji=RANDOM, disabled=last <= 0, row=1))
    view.add_item(PageButton(state("d", slot.index), emoji=DELETE, row=1))
    if private:
        view.add_item(
            PageButton(state("s", slot.index), emoji=POST, label="Post", row=1, style=discord.ButtonStyle.primary)
        )
    view.add_item(link_button(slot.item, row=1))
    view.stop()
    return view


def link_button(item: Item, *, row: int = 0) -> discord.ui.Button[Any]:
    """A link to the result's page on Pexels."""
    label = "View on Pexels" if isinstance(item, Photo) else "Watch on Pexels"
    return discord.ui.Button(style=discord.ButtonStyle.link, url=item.url, label=label, row=row)


def shared_view(item: Item) -> discord.ui.View:
    """A posted result keeps only its link to Pexels: channels stay free of page flipping."""
    view = discord.ui.View(timeout=None)
    view.add_item(link_button(item))
    view.stop()
    return view


def curated_spec() -> SearchSpec:
    """The one curated list."""
    return SearchSpec(KIND_CURATED)
