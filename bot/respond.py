"""Answering interactions inside Discord's rules: a first response within 3 s, and visibility that holds.

Fast work is answered directly. Work that may be slow (it can call Pexels) races a short deadline and
defers only when it loses, with the visibility the final answer will have. A refusal that comes after a
public defer deletes the public "thinking…" placeholder and is sent privately instead
(discord-wire.md §3.4.1): the first followup after a defer keeps the defer's visibility.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

import discord

from bot.errors import BotError
from bot.metrics import observe_answer, observe_refusal
from bot.ui import NO_MENTIONS

log = logging.getLogger(__name__)

FAST_PATH = 1.2
"""Seconds we wait for work before deferring: well inside Discord's 3 s, with room for the callback itself."""
SORRY = "Something went wrong on our side and it has been logged. Please try again."


@dataclass(slots=True)
class Reply:
    """A message to send, or to put in place of the one a button is on."""

    embed: discord.Embed | None = None
    view: discord.ui.View | None = None
    content: str | None = None
    closes: bool = False
    """For edits: the message becomes plain text, its embed and buttons removed."""

    def kwargs(self) -> dict[str, Any]:
        """Keyword arguments for send, followup and edit calls alike."""
        kwargs: dict[str, Any] = {"content": self.content, "allowed_mentions": NO_MENTIONS}
        if self.embed is not None:
            kwargs["embed"] = self.embed
        if self.view is not None:
            kwargs["view"] = self.view
        if self.closes:
            kwargs.update(embeds=[], view=None)
        return kwargs


def user_message(error: BaseException) -> str:
    """What to tell the user about an error; logs the ones that are bugs."""
    if isinstance(error, BotError):
        return error.user_message()
    log.error("Unexpected error while answering an interaction", exc_info=error)
    return SORRY


async def refuse(interaction: discord.Interaction[Any], message: str) -> None:
    """Tell only the user who acted, whatever state the interaction is in."""
    observe_refusal(interaction, bug=message == SORRY)
    if not interaction.response.is_done():
        await interaction.response.send_message(message, ephemeral=True, allowed_mentions=NO_MENTIONS)
        return
    await interaction.followup.send(message, ephemeral=True, allowed_mentions=NO_MENTIONS)


async def _race(work: Awaitable[Reply], defer: Callable[[], Awaitable[object]]) -> tuple[asyncio.Future[Reply], bool]:
    """Give `work` FAST_PATH seconds; if it needs longer, `defer` (and cancel the work if deferring fails)."""
    task = asyncio.ensure_future(work)
    done, _ = await asyncio.wait({task}, timeout=FAST_PATH)
    if not done:
        try:
            await defer()
        except BaseException:
            task.cancel()
            raise
    return task, bool(done)


async def answer_command(interaction: discord.Interaction[Any], work: Awaitable[Reply], *, ephemeral: bool) -> None:
    """Send the reply `work` produces as a new message, public or ephemeral; refusals always ephemeral."""
    work = observe_answer(interaction, work)
    task, fast = await _race(work, lambda: interaction.response.defer(ephemeral=ephemeral, thinking=True))
    try:
        reply = await task
    except Exception as exc:
        message = user_message(exc)
        if fast:
            await refuse(interaction, message)
            return
        if not ephemeral:
            # The placeholder is public: remove it so the refusal can be private.
            await interaction.delete_original_response()
        await interaction.followup.send(message, ephemeral=True, allowed_mentions=NO_MENTIONS)
        return
    if fast:
        await interaction.response.send_message(ephemeral=ephemeral, **reply.kwargs())
    else:
        await interaction.followup.send(ephemeral=ephemeral, **reply.kwargs())


async def answer_update(interaction: discord.Interaction[Any], work: Awaitable[Reply]) -> None:
    """Put the reply `work` produces in place of the message the component is on."""
    work = observe_answer(interaction, work)
    task, fast = await _race(work, interaction.response.defer)
    try:
        reply = await task
    except Exception as exc:
        await refuse(interaction, user_message(exc))
        return
    if fast:
        await interaction.response.edit_message(**reply.kwargs())
    else:
        await interaction.edit_original_response(**reply.kwargs())
