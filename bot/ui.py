"""What a result message looks like: pure embed and button builders.

The buttons' custom_ids and the footer the bot reads back are wire formats: see `bot.wire`.
"""

from __future__ import annotations

import re
from typing import Any

import discord

from bot.models import Item, Photo, Video
from bot.service import Slot
from bot.wire import BUTTON_PATTERN, Action, ButtonState, encode_options, footer_text

PEXELS_URL = "https://www.pexels.com"
PEXELS_GREEN = 0x05A081
FIRST, PREVIOUS, NEXT, LAST, RANDOM, DELETE, POST = "⏮", "◀", "▶", "⏭", "🔀", "🗑", "📤"
NO_MENTIONS = discord.AllowedMentions.none()

_SLUG = re.compile(r"/(?:photo|video)/(?P<slug>[^/?#]+?)(?:-\d+)?/?(?:[?#].*)?$")


def title_from_page(url: str, fallback: str) -> str:
    """A readable title from a Pexels page URL: `…/photo/red-fox-in-snow-8716832/` → "Red fox in snow"."""
    match = _SLUG.search(url)
    words = match["slug"].replace("-", " ").strip() if match else ""
    if not words or words.isdigit() or words.lower() in ("pexels photo", "pexels video", "free video"):
        return fallback
    return words[:1].upper() + words[1:]


def footer_of(interaction: discord.Interaction[Any]) -> str | None:
    """The footer of the result message a component is on (None when it has none)."""
    message = interaction.message
    return message.embeds[0].footer.text if message is not None and message.embeds else None


def is_private(interaction: discord.Interaction[Any]) -> bool:
    """Whether the component's message is ephemeral (a private result stays private)."""
    return bool(interaction.message and interaction.message.flags.ephemeral)


def _footer(slot: Slot) -> str:
    return footer_text(slot.index + 1, slot.total, slot.spec)


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


def photo_embed(photo: Photo, slot: Slot) -> discord.Embed:
    """A credited photo: title linking to Pexels, photographer, attribution, alt text and the counter."""
    embed = discord.Embed(
        title=_truncate(photo.alt or title_from_page(photo.url, "Photo on Pexels"), 256),
        url=photo.url,
        colour=photo.colour if photo.colour is not None else PEXELS_GREEN,
        description=(
            f"📷 Photo by [{_esc(photo.photographer)}]({photo.photographer_url}) on [Pexels]({photo.url})\n"
            f"[Photos provided by Pexels]({PEXELS_URL})"
        ),
    )
    embed.set_image(url=photo.image)
    embed.set_footer(text=_truncate(_footer(slot), 2048))
    return embed


def video_embed(video: Video, slot: Slot) -> discord.Embed:
    """A credited video: its preview image, duration, the MP4 to play, and the counter."""
    lines = [f"⏱ {_duration(video.duration)} · {video.width}×{video.height}"]
    if video.file is not None:
        lines.append(f"▶ [Play the video (MP4, {video.file.width}×{video.file.height})]({video.file.link})")
    lines.append(f"🎥 Video by [{_esc(video.user_name)}]({video.user_url}) on [Pexels]({video.url})")
    lines.append(f"[Videos provided by Pexels]({PEXELS_URL})")
    embed = discord.Embed(
        title=_truncate(title_from_page(video.url, "Video on Pexels"), 256),
        url=video.url,
        colour=PEXELS_GREEN,
        description="\n".join(lines),
    )
    embed.set_image(url=video.image)
    embed.set_footer(text=_truncate(_footer(slot), 2048))
    return embed


def result_embed(slot: Slot) -> discord.Embed:
    """The embed for whatever kind of result the slot holds."""
    return video_embed(slot.item, slot) if isinstance(slot.item, Video) else photo_embed(slot.item, slot)


def shared_embed(slot: Slot, sharer: str) -> discord.Embed:
    """A result posted from a private picker: full credit, and who shared it (as text: nobody is pinged)."""
    embed = result_embed(slot)
    embed.set_footer(text=_truncate(f"Shared by {sharer} · {slot.spec.describe()}", 2048))
    return embed


class PageButton(discord.ui.DynamicItem[discord.ui.Button[Any]], template=BUTTON_PATTERN):
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
        await interaction.client.buttons.press(interaction, self.state)


def result_view(slot: Slot, owner: int, *, private: bool = False, can_post: bool = True) -> discord.ui.View:
    """The buttons under a result: ⏮ ◀ counter ▶ ⏭, then 🔀 🗑 (📤 when private and posting is possible) and a link
    to Pexels.

    The view is stopped before it is sent, so discord.py keeps nothing for it: presses are routed
    by the PageButton template alone.
    """
    code, key, last = encode_options(slot.spec), slot.spec.key, slot.total - 1

    def state(action: Action, index: int) -> ButtonState:
        return ButtonState(action, owner, index, code, key)

    at_start, at_end = slot.index <= 0, slot.index >= last
    view = discord.ui.View(timeout=None)
    view.add_item(PageButton(state(Action.FIRST, 0), emoji=FIRST, disabled=at_start))
    view.add_item(PageButton(state(Action.PREVIOUS, max(slot.index - 1, 0)), emoji=PREVIOUS, disabled=at_start))
    view.add_item(
        PageButton(state(Action.JUMP, slot.index), label=f"{slot.index + 1} / {slot.total}", disabled=last <= 0)
    )
    view.add_item(PageButton(state(Action.NEXT, min(slot.index + 1, last)), emoji=NEXT, disabled=at_end))
    view.add_item(PageButton(state(Action.LAST, last), emoji=LAST, disabled=at_end))
    view.add_item(PageButton(state(Action.RANDOM, slot.index), emoji=RANDOM, disabled=last <= 0, row=1))
    view.add_item(PageButton(state(Action.DELETE, slot.index), emoji=DELETE, row=1))
    if private:
        view.add_item(
            PageButton(
                state(Action.POST, slot.index), emoji=POST, label="Post", row=1, style=discord.ButtonStyle.primary
            )
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
