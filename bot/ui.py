"""What a result message looks like: pure embed and button builders.

The buttons' custom_ids and the footer the bot reads back are wire formats: see `bot.wire`.
"""

from __future__ import annotations

from typing import Any

import discord

from bot.models import Item, Photo, Video, item_title
from bot.models import title_from_page as title_from_page  # re-exported: it moved to bot.models
from bot.service import Slot
from bot.wire import Action, ButtonState, encode_options, footer_text

PEXELS_URL = "https://www.pexels.com"
PEXELS_GREEN = 0x05A081
FIRST, PREVIOUS, NEXT, LAST, RANDOM, DELETE, POST, SAVE = "⏮", "◀", "▶", "⏭", "🔀", "🗑", "📤", "⭐"
NO_MENTIONS = discord.AllowedMentions.none()


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
    embed.set_footer(text=_truncate(_footer(slot), 2048))
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


def result_view(slot: Slot, owner: int, *, private: bool = False, can_post: bool = True) -> discord.ui.View:
    """The buttons under a result: ⏮ ◀ counter ▶ ⏭, then 🔀 🗑 ⭐ (📤 when private and posting is possible) and a
    link to Pexels: five a row at most, as Discord allows.

    Plain buttons whose custom_ids say everything (`bot.wire`); the view is stopped before it is sent, so
    discord.py keeps nothing for it, and presses are routed by custom_id (`cogs.search`).
    """
    code, key, last = encode_options(slot.spec), slot.spec.key, slot.total - 1

    def button(action: Action, index: int, *, row: int = 0, **options: Any) -> discord.ui.Button[Any]:
        options.setdefault("style", discord.ButtonStyle.secondary)
        return discord.ui.Button(custom_id=ButtonState(action, owner, index, code, key).encode(), row=row, **options)

    at_start, at_end = slot.index <= 0, slot.index >= last
    view = discord.ui.View(timeout=None)
    view.add_item(button(Action.FIRST, 0, emoji=FIRST, disabled=at_start))
    view.add_item(button(Action.PREVIOUS, max(slot.index - 1, 0), emoji=PREVIOUS, disabled=at_start))
    view.add_item(button(Action.JUMP, slot.index, label=f"{slot.index + 1} / {slot.total}", disabled=last <= 0))
    view.add_item(button(Action.NEXT, min(slot.index + 1, last), emoji=NEXT, disabled=at_end))
    view.add_item(button(Action.LAST, last, emoji=LAST, disabled=at_end))
    view.add_item(button(Action.RANDOM, slot.index, emoji=RANDOM, disabled=last <= 0, row=1))
    view.add_item(button(Action.DELETE, slot.index, emoji=DELETE, row=1))
    view.add_item(button(Action.SAVE, slot.index, emoji=SAVE, row=1))
    if private and can_post:
        view.add_item(
            button(Action.POST, slot.index, emoji=POST, label="Post", row=1, style=discord.ButtonStyle.primary)
        )
    view.add_item(link_button(slot.item, row=1))
    view.stop()
    return view


def custom_ids(message: discord.Message | None) -> set[str]:
    """Every custom_id on a message's components (what a press may legitimately carry)."""
    found: set[str] = set()
    for row in message.components if message is not None else ():
        for child in getattr(row, "children", ()):
            custom_id = getattr(child, "custom_id", None)
            if custom_id:
                found.add(custom_id)
    return found


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
