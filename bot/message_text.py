"""Every piece of human-written text in a Discord message, for the "Find photos" menu.

A message carries text in more places than ``content``: embeds, a poll, Components V2 Text Displays
(also nested in Containers and Sections), image alt texts, and for a forwarded message all of the
forwarded message in ``message_snapshots``. See the message object in Discord's API reference:
https://discord.com/developers/docs/resources/message and its components:
https://discord.com/developers/docs/components/reference

Embed author and footer lines are left out on purpose: they name who posted or which site an embed
came from, and a stock photo can show neither. Buttons, selects and other controls are left out too.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence

import discord

__all__ = ["MAX_MESSAGE_TEXT", "message_text"]

#: Upper bound on the text returned, in characters (a long message with ten full embeds stays below it).
MAX_MESSAGE_TEXT = 16_000

# Components V2 nest at most a few levels (Container → Section → Text Display); stop well past that.
_MAX_DEPTH = 8


def _embed_parts(embeds: Iterable[discord.Embed]) -> Iterator[str]:
    for embed in embeds:
        yield from (embed.title or "", embed.description or "")
        for field in embed.fields:
            yield from (field.name or "", field.value or "")


def _component_parts(components: Sequence[object], depth: int = 0) -> Iterator[str]:
    """Text Display contents and media alt texts, depth first, in the order they are shown."""
    if depth > _MAX_DEPTH:
        return
    for component in components:
        if isinstance(component, discord.TextDisplay):
            yield component.content or ""
        elif isinstance(component, discord.ThumbnailComponent):
            yield component.description or ""
        elif isinstance(component, discord.MediaGalleryComponent):
            yield from (item.description or "" for item in component.items)
        elif isinstance(component, discord.SectionComponent):
            yield from _component_parts(component.children, depth + 1)
            yield from _component_parts([component.accessory], depth + 1)
        elif isinstance(component, discord.Container):
            yield from _component_parts(component.children, depth + 1)


def _body_parts(
    content: str,
    components: Sequence[object],
    embeds: Iterable[discord.Embed],
    attachments: Iterable[discord.Attachment],
) -> Iterator[str]:
    yield content
    yield from _component_parts(components)
    yield from _embed_parts(embeds)
    yield from (attachment.description or "" for attachment in attachments)


def _parts(message: discord.Message) -> Iterator[str]:
    # discord.py sets Message.components only when the payload has the key; a payload may omit it.
    components: Sequence[object] = getattr(message, "components", None) or ()
    yield from _body_parts(message.content or "", components, message.embeds, message.attachments)
    poll = message.poll
    if poll is not None:
        yield poll.question or ""
        yield from (answer.text or "" for answer in poll.answers)
    for snapshot in message.message_snapshots:
        yield from _body_parts(snapshot.content or "", snapshot.components, snapshot.embeds, snapshot.attachments)


def message_text(message: discord.Message) -> str:
    """Return the message's text: content, Text Displays, embeds, poll, alt texts, forwarded message.

    Each piece is its own line (so chat lines and poll answers are not glued into one sentence),
    blank pieces are skipped, and the result is at most ``MAX_MESSAGE_TEXT`` characters.
    """
    lines: list[str] = []
    size = 0
    for part in _parts(message):
        text = part.strip()
        if not text:
            continue
        lines.append(text)
        size += len(text) + 1
        if size >= MAX_MESSAGE_TEXT:
            break
    return "\n".join(lines)[:MAX_MESSAGE_TEXT]
