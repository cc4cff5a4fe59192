"""What a result message looks like: pure embed and button builders, in the reader's language.

The buttons' custom_ids and the footer the bot reads back are wire formats: see `bot.wire`. Each builder
takes the locale to write in (None: English): the searcher's, for a result.
"""

from __future__ import annotations

from typing import Any

import discord

from bot import messages as M
from bot.i18n import LocaleLike, tr
from bot.models import Item, Photo, Video, item_title
from bot.models import title_from_page as title_from_page  # re-exported: it moved to bot.models
from bot.service import Slot
from bot.wire import Action, button_id, encode_options, footer_text

PEXELS_URL = "https://www.pexels.com"
PEXELS_GREEN = 0x05A081
FIRST, PREVIOUS, NEXT, LAST, RANDOM, DELETE, POST, SAVE = "⏮", "◀", "▶", "⏭", "🔀", "🗑", "📤", "⭐"
NO_MENTIONS = discord.AllowedMentions.none()
MAX_IMAGE_ALT = 1024
"""Discord's limit on an embed image's `description`, its alt text (as for an attachment's description)."""


def footer_of(interaction: discord.Interaction[Any]) -> str | None:
    """The footer of the result message a component is on (None when it has none)."""
    message = interaction.message
    return message.embeds[0].footer.text if message is not None and message.embeds else None


def is_private(interaction: discord.Interaction[Any]) -> bool:
    """Whether the component's message is ephemeral (a private result stays private)."""
    return bool(interaction.message and interaction.message.flags.ephemeral)


def _footer(slot: Slot, locale: LocaleLike) -> str:
    return footer_text(slot.index + 1, slot.total, slot.spec, locale)


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


def attribution(locale: LocaleLike, message: str = M.PHOTOS_PROVIDED) -> str:
    """Pexels' attribution line in the reader's language, linking to Pexels."""
    return f"[{_esc(tr(locale, message))}]({PEXELS_URL})"


def _plain_title(item: Item, locale: LocaleLike) -> str:
    """The result's title in the reader's language, as plain text."""
    # The template keeps its {name} placeholder for item_title, which fills in the credit's name.
    by = tr(locale, M.PHOTO_TITLE_BY if isinstance(item, Photo) else M.VIDEO_TITLE_BY, name="{name}")
    return item_title(item, photo_by=by, video_by=by)


def _set_image(embed: discord.Embed, item: Item, plain_title: str) -> None:
    """The embed's image, with alt text for screen readers: the photo's alt (else its title), a video's title.

    Discord reads alt text from the image's `description`; discord.py 2.7's `set_image` has no parameter for it,
    and `Embed.to_dict` sends the image dict as it is.
    """
    embed.set_image(url=item.image)
    alt = " ".join(plain_title.split())
    if alt:
        embed._image["description"] = _truncate(alt, MAX_IMAGE_ALT)


def _title(plain_title: str) -> str:
    """The result's title, escaped and cut to Discord's 256."""
    return _shown(plain_title, 256)


def photo_embed(photo: Photo, slot: Slot, *, locale: LocaleLike = None) -> discord.Embed:
    """A credited photo: title linking to Pexels, photographer, attribution, alt text and the counter."""
    author, author_url = _esc(photo.photographer), photo.photographer_url
    if author_url:
        credit = tr(locale, M.PHOTO_CREDIT, author=author, author_url=author_url, url=photo.url)
    else:
        credit = tr(locale, M.PHOTO_CREDIT_UNLINKED, author=author, url=photo.url)
    plain_title = _plain_title(photo, locale)
    embed = discord.Embed(
        title=_title(plain_title),
        url=photo.url,
        colour=photo.colour if photo.colour is not None else PEXELS_GREEN,
        description=_truncate(f"{credit}\n{attribution(locale)}", 4096),
    )
    _set_image(embed, photo, plain_title)
    embed.set_footer(text=_truncate(_footer(slot, locale), 2048))
    return embed


def video_embed(video: Video, slot: Slot, *, locale: LocaleLike = None) -> discord.Embed:
    """A credited video: its preview image, duration, the MP4 to play, and the counter."""
    lines = [f"⏱ {_duration(video.duration)} · {video.width}×{video.height}"]
    if video.file is not None:
        file = video.file
        if file.width and file.height:
            lines.append(tr(locale, M.PLAY_VIDEO, width=file.width, height=file.height, url=file.link))
        else:
            lines.append(tr(locale, M.PLAY_VIDEO_UNSIZED, url=file.link))
    author = _esc(video.user_name)
    if video.user_url:
        lines.append(tr(locale, M.VIDEO_CREDIT, author=author, author_url=video.user_url, url=video.url))
    else:
        lines.append(tr(locale, M.VIDEO_CREDIT_UNLINKED, author=author, url=video.url))
    lines.append(attribution(locale, M.VIDEOS_PROVIDED))
    plain_title = _plain_title(video, locale)
    embed = discord.Embed(
        title=_title(plain_title),
        url=video.url,
        colour=PEXELS_GREEN,
        description=_truncate("\n".join(lines), 4096),
    )
    _set_image(embed, video, plain_title)
    embed.set_footer(text=_truncate(_footer(slot, locale), 2048))
    return embed


def result_embed(slot: Slot, *, locale: LocaleLike = None) -> discord.Embed:
    """The embed for whatever kind of result the slot holds."""
    if isinstance(slot.item, Video):
        return video_embed(slot.item, slot, locale=locale)
    return photo_embed(slot.item, slot, locale=locale)


def shared_embed(slot: Slot, sharer: str, *, locale: LocaleLike = None) -> discord.Embed:
    """A result posted from a private picker: full credit, and who shared it (as text: nobody is pinged)."""
    embed = result_embed(slot, locale=locale)
    shared = f"{tr(locale, M.SHARED_BY, name=sharer)} · {slot.spec.describe(locale)}"
    embed.set_footer(text=_truncate(shared, 2048))
    return embed


class Components(discord.ui.View):
    """A finished view whose components are given as Discord's own dicts: what discord.py sends for `view=`.

    A result's nine buttons are rebuilt for every press; as `discord.ui.Button` objects that costs about five times
    what writing their dicts does. Like every view here it is stopped, so discord.py keeps nothing for it.
    """

    def __init__(self, rows: list[dict[str, Any]]) -> None:
        super().__init__(timeout=None)
        self._rows = rows
        self.stop()

    def __len__(self) -> int:
        return sum(len(row["components"]) for row in self._rows)

    def to_components(self) -> list[dict[str, Any]]:
        return self._rows

    def is_dispatchable(self) -> bool:
        return False  # never stored by discord.py: presses are routed by custom_id (`PexelsBot.route`)

    def has_components_v2(self) -> bool:
        return False


_SECONDARY, _PRIMARY, _LINK = (discord.ButtonStyle.secondary.value, discord.ButtonStyle.primary.value,
                               discord.ButtonStyle.link.value)  # fmt: skip


def _button(custom_id: str, *, emoji: str | None = None, label: str | None = None, disabled: bool = False,
            style: int = _SECONDARY) -> dict[str, Any]:  # fmt: skip
    button: dict[str, Any] = {"type": 2, "style": style, "disabled": disabled, "custom_id": custom_id}
    if label is not None:
        button["label"] = label
    if emoji is not None:
        button["emoji"] = {"id": None, "name": emoji}
    return button


def result_view(
    slot: Slot, owner: int, *, private: bool = False, can_post: bool = True, locale: LocaleLike = None
) -> Components:
    """The buttons under a result: ⏮ ◀ counter ▶ ⏭, then 🔀 🗑 ⭐ (📤 when private and posting is possible) and a
    link to Pexels: five a row at most, as Discord allows.

    Plain buttons whose custom_ids say everything (`bot.wire`); discord.py keeps nothing for them, and presses are
    routed by custom_id (`PexelsBot.route`).
    """
    code, key, index, last = encode_options(slot.spec), slot.spec.key, slot.index, slot.total - 1

    def cid(action: Action, target: int) -> str:
        return button_id(action, owner, target, code, key)

    at_start, at_end, alone = index <= 0, index >= last, last <= 0
    pages = [
        _button(cid(Action.FIRST, 0), emoji=FIRST, disabled=at_start),
        _button(cid(Action.PREVIOUS, max(index - 1, 0)), emoji=PREVIOUS, disabled=at_start),
        _button(cid(Action.JUMP, index), label=f"{index + 1} / {slot.total}", disabled=alone),
        _button(cid(Action.NEXT, min(index + 1, last)), emoji=NEXT, disabled=at_end),
        _button(cid(Action.LAST, last), emoji=LAST, disabled=at_end),
    ]
    tools = [
        _button(cid(Action.RANDOM, index), emoji=RANDOM, disabled=alone),
        _button(cid(Action.DELETE, index), emoji=DELETE),
        _button(cid(Action.SAVE, index), emoji=SAVE),
    ]
    if private and can_post:
        tools.append(_button(cid(Action.POST, index), emoji=POST, label=tr(locale, M.POST), style=_PRIMARY))
    tools.append(
        {"type": 2, "style": _LINK, "disabled": False, "label": _link_label(slot.item, locale), "url": slot.item.url}
    )
    return Components([{"type": 1, "components": pages}, {"type": 1, "components": tools}])


def custom_ids(message: discord.Message | None) -> set[str]:
    """Every custom_id on a message's components (what a press may legitimately carry)."""
    found: set[str] = set()
    for row in message.components if message is not None else ():
        for child in getattr(row, "children", ()):
            custom_id = getattr(child, "custom_id", None)
            if custom_id:
                found.add(custom_id)
    return found


def link_button(item: Item, *, row: int = 0, locale: LocaleLike = None) -> discord.ui.Button[Any]:
    """A link to the result's page on Pexels."""
    return discord.ui.Button(style=discord.ButtonStyle.link, url=item.url, label=_link_label(item, locale), row=row)


def _link_label(item: Item, locale: LocaleLike) -> str:
    return tr(locale, M.VIEW_ON_PEXELS if isinstance(item, Photo) else M.WATCH_ON_PEXELS)


def shared_view(item: Item, *, locale: LocaleLike = None) -> discord.ui.View:
    """A posted result keeps only its link to Pexels: channels stay free of page flipping."""
    view = discord.ui.View(timeout=None)
    view.add_item(link_button(item, locale=locale))
    view.stop()
    return view
