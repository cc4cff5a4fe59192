"""Answering interactions inside Discord's rules: a first response within 3 s, and visibility that holds.

Discord gives an interaction 3 seconds for its first response, and one acknowledgement only
(https://discord.com/developers/docs/interactions/receiving-and-responding). Fast work is answered
directly. Work that may be slow (it can call Pexels) races a short deadline and defers only when it
loses, with the visibility the final answer will have: a deferred response's visibility can't be
changed later. A refusal that comes after a public defer deletes the public "thinking…" placeholder
and is sent privately instead.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

import discord
from discord import app_commands

from bot import messages as M
from bot.errors import user_message
from bot.i18n import tr
from bot.metrics import observe_answer, observe_ready, observe_refusal
from bot.ui import NO_MENTIONS

log = logging.getLogger(__name__)

FAST_PATH = 1.2
"""Seconds from the interaction's creation we wait for work before deferring: well inside Discord's 3 s,
with room for the answer's own round trip."""
AUTOMOD_BLOCKED = 200000
"""Discord's error code when a server's AutoMod rejects a message."""
UNKNOWN_INTERACTION = 10062
"""Discord's error code for an interaction past its 3 s (or its token's 15 minutes)."""
ALREADY_ACKNOWLEDGED = 40060
"""Discord's error code for a second acknowledgement: after a 5xx, the first one may have been processed."""
UNKNOWN_MESSAGE = 10008
"""Discord's error code for a message that no longer exists (deleted while a modal on it was open, say)."""


CLEARED: dict[str, Any] = {"embeds": [], "view": None, "allowed_mentions": NO_MENTIONS}
"""Edit arguments that leave a message plain text: no embed, no buttons, nobody pinged."""


def age(interaction: discord.Interaction[Any]) -> float:
    """Seconds since Discord created the interaction (its snowflake time): Discord's 3 s start there."""
    return max(0.0, discord.utils.utcnow().timestamp() - interaction.created_at.timestamp())


@dataclass(slots=True)
class Reply:
    """A message to send, or to put in place of the one a component is on."""

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


async def refuse(interaction: discord.Interaction[Any], message: str) -> None:
    """Tell only the user who acted, whatever state the interaction is in (`message` is in their language)."""
    observe_refusal(interaction, bug=message == tr(interaction.locale, M.SORRY))
    if not interaction.response.is_done():
        await interaction.response.send_message(message, ephemeral=True, allowed_mentions=NO_MENTIONS)
        return
    await interaction.followup.send(message, ephemeral=True, allowed_mentions=NO_MENTIONS)


class _Expired:
    """Reports interactions Discord had already expired: a WARNING each, at most `shown` a window; the rest of a
    burst in one summary line when the window ends."""

    def __init__(self, *, window: float = 60.0, shown: int = 5) -> None:
        self.window = window
        self.shown = shown
        self._window_start = -window
        self._in_window = 0
        self._hidden = 0
        self._summary: asyncio.TimerHandle | None = None

    def note(self, interaction: discord.Interaction[Any]) -> None:
        now = time.monotonic()
        if now - self._window_start >= self.window:
            self._window_start, self._in_window = now, 0
        self._in_window += 1
        if self._in_window <= self.shown:
            log.warning(
                "Interaction %s expired before it was answered (%.1fs after Discord created it; Discord allows 3 s): "
                "the event loop, the gateway or a shared store is too slow",
                interaction.id,
                age(interaction),
            )
            return
        self._hidden += 1
        if self._summary is None:
            delay = max(0.0, self._window_start + self.window - now)
            self._summary = asyncio.get_running_loop().call_later(delay, self._summarise)

    def _summarise(self) -> None:
        self._summary = None
        if self._hidden:
            log.warning("%d more interactions expired before they were answered in the last %.0fs",
                        self._hidden, self.window)  # fmt: skip
            self._hidden = 0


EXPIRED = _Expired()


def _expired(error: BaseException) -> bool:
    if isinstance(error, app_commands.CommandInvokeError):
        error = error.original
    return isinstance(error, discord.NotFound) and error.code == UNKNOWN_INTERACTION


async def acknowledge(interaction: discord.Interaction[Any], first: Awaitable[object]) -> None:
    """Send the first response; a 40060 means an earlier attempt whose answer was lost (a 5xx) got through."""
    try:
        await first
    except discord.HTTPException as exc:
        if exc.code != ALREADY_ACKNOWLEDGED:
            raise
        log.info("Interaction %s: Discord had already processed our first response (its answer was lost)",
                 interaction.id)  # fmt: skip


def _message_for(interaction: discord.Interaction[Any], error: BaseException) -> str:
    """What went wrong, in the language of the user who acted (a refusal is always theirs alone)."""
    if isinstance(error, app_commands.CommandInvokeError):
        error = error.original
    if isinstance(error, discord.HTTPException) and error.code == AUTOMOD_BLOCKED:
        return tr(interaction.locale, M.BLOCKED_BY_AUTOMOD)
    if isinstance(error, discord.NotFound) and error.code == UNKNOWN_MESSAGE:
        return tr(interaction.locale, M.MESSAGE_GONE)
    if isinstance(error, discord.DiscordServerError):
        # Discord itself failing (every one of discord.py's retries answered 5xx) is a fault to expect, not a bug.
        log.warning("Discord failed while answering interaction %s: %s", interaction.id, error)
        return tr(interaction.locale, M.DISCORD_FAILED)
    return user_message(error, interaction.locale, where=f"interaction {interaction.id}")


async def fail(interaction: discord.Interaction[Any], error: BaseException) -> None:
    """The end of the one error path: tell the user privately, in their language, what went wrong (`bot.errors`)."""
    if _expired(error):
        EXPIRED.note(interaction)
        return
    message = _message_for(interaction, error)
    try:
        await refuse(interaction, message)
    except discord.HTTPException as exc:
        if _expired(exc):
            EXPIRED.note(interaction)
            return
        log.warning("Could not tell user %s about an error (%s): %s", interaction.user.id, error, exc)


async def _race(
    interaction: discord.Interaction[Any], work: Awaitable[Reply], defer: Callable[[], Awaitable[object]]
) -> tuple[asyncio.Future[Reply], bool]:
    """Give `work` until FAST_PATH after the interaction's creation; if it needs longer, `defer` (and cancel the
    work if deferring fails). An interaction that arrived late is deferred at once."""
    task = asyncio.ensure_future(work)
    budget = FAST_PATH - age(interaction)
    if budget > 0:
        await asyncio.wait({task}, timeout=budget)
    elif not task.done():
        late = FAST_PATH - budget
        log.info(
            "Interaction %s reached the bot %.1fs after Discord created it: deferring at once", interaction.id, late
        )
    done = task.done()
    if not done:
        try:
            await defer()
        except BaseException:
            task.cancel()
            raise
    return task, done


async def answer_command(
    interaction: discord.Interaction[Any], work: Awaitable[Reply] | Reply, *, ephemeral: bool
) -> None:
    """Send the reply `work` produces (or a reply ready at once) as a new message, public or ephemeral; refusals
    always ephemeral."""
    if isinstance(work, Reply):
        observe_ready(interaction)
        try:
            await acknowledge(interaction, interaction.response.send_message(ephemeral=ephemeral, **work.kwargs()))
        except Exception as exc:
            await _refuse_after(interaction, exc, deferred=False, public=not ephemeral)
        return
    work = observe_answer(interaction, work)
    task, fast = await _race(
        interaction,
        work,
        lambda: acknowledge(interaction, interaction.response.defer(ephemeral=ephemeral, thinking=True)),
    )
    try:
        reply = await task
        if fast:
            await acknowledge(interaction, interaction.response.send_message(ephemeral=ephemeral, **reply.kwargs()))
        else:
            await interaction.edit_original_response(**reply.kwargs())
    except Exception as exc:
        await _refuse_after(interaction, exc, deferred=not fast, public=not ephemeral)


async def _refuse_after(
    interaction: discord.Interaction[Any], error: Exception, *, deferred: bool, public: bool
) -> None:
    """Answer an error privately whatever was sent so far: a private placeholder is edited into the refusal,
    a public one is deleted first (its visibility can't change), nothing sent yet is a private message."""
    if _expired(error):
        EXPIRED.note(interaction)
        return
    message = _message_for(interaction, error)
    try:
        if not deferred:
            await refuse(interaction, message)
        elif public:
            # Only once the public placeholder is gone: a followup would fill it, publicly.
            await interaction.delete_original_response()
            await interaction.followup.send(message, ephemeral=True, allowed_mentions=NO_MENTIONS)
        else:
            await interaction.edit_original_response(
                content=message, embeds=[], view=None, allowed_mentions=NO_MENTIONS
            )
    except discord.HTTPException as exc:
        if _expired(exc):
            EXPIRED.note(interaction)
            return
        log.warning("Could not tell user %s about an error (%s): %s", interaction.user.id, error, exc)


async def answer_update(interaction: discord.Interaction[Any], work: Awaitable[Reply] | Reply) -> None:
    """Put the reply `work` produces (or a reply ready at once) in place of the message the component is on."""
    if isinstance(work, Reply):
        observe_ready(interaction)
        try:
            await acknowledge(interaction, interaction.response.edit_message(**work.kwargs()))
        except Exception as exc:
            await fail(interaction, exc)
        return
    work = observe_answer(interaction, work)
    task, fast = await _race(interaction, work, lambda: acknowledge(interaction, interaction.response.defer()))
    try:
        reply = await task
        if fast:
            await acknowledge(interaction, interaction.response.edit_message(**reply.kwargs()))
        else:
            await interaction.edit_original_response(**reply.kwargs())
    except Exception as exc:
        await fail(interaction, exc)
