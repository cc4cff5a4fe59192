"""The life of a result message: opening it, and every press of its buttons.

Each press passes the one admission step (`bot.admission`), then goes to the handler of its action.
Errors propagate to `answer.fail`, the end of the one error path (`bot.errors`).
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from typing import Any

import discord

from bot.admission import Admission
from bot.answer import Reply, answer_command, answer_update, fail
from bot.errors import Expired
from bot.jump import JumpModal
from bot.service import SearchService
from bot.ui import NO_MENTIONS, footer_of, is_private, result_embed, result_view, shared_embed, shared_view
from bot.vocab import SearchSpec
from bot.wire import Action, ButtonState

log = logging.getLogger(__name__)

Handler = Callable[[discord.Interaction[Any], ButtonState, SearchSpec], Awaitable[None]]


class ResultButtons:
    """Answers searches and everything pressed on their results; holds no state per message."""

    def __init__(self, search: SearchService, admission: Admission) -> None:
        self.search = search
        self.admission = admission
        self.jump = JumpModal(admission, self.show)
        self._handlers: dict[Action, Handler] = {
            Action.FIRST: self._turn,
            Action.PREVIOUS: self._turn,
            Action.NEXT: self._turn,
            Action.LAST: self._turn,
            Action.RANDOM: self._random,
            Action.POST: self._post,
            Action.JUMP: self.jump.open,
        }

    async def open(self, interaction: discord.Interaction[Any], spec: SearchSpec, *, private: bool) -> None:
        """Answer a search with its first result, publicly or only for the searcher (after the cooldown)."""
        await self.admission.admit(interaction, "search")
        await answer_command(interaction, self.page(spec, 0, interaction.user.id, private=private), ephemeral=private)

    async def open_in_place(self, interaction: discord.Interaction[Any], spec: SearchSpec) -> None:
        """Turn the component's (private) message into a private result for `spec` (the caller admitted it)."""
        await answer_update(interaction, self.page(spec, 0, interaction.user.id, private=True))

    async def page(self, spec: SearchSpec, index: int, owner: int, *, private: bool) -> Reply:
        """The result message showing result `index` of `spec`."""
        slot = await self.search.result(spec, index)
        return Reply(embed=result_embed(slot), view=result_view(slot, owner, private=private))

    async def show(self, interaction: discord.Interaction[Any], spec: SearchSpec, index: int, owner: int) -> None:
        """Put result `index` in place of the message the component is on, keeping its visibility."""
        await answer_update(interaction, self.page(spec, index, owner, private=is_private(interaction)))

    async def press(self, interaction: discord.Interaction[Any], state: ButtonState | None) -> None:
        """One press of a result button, from anyone, on any process, after any restart."""
        try:
            if not await self.admission.claim(interaction):
                return
            if state is None:
                raise Expired
            await self.admission.admit(interaction, "button", owner=state.owner)
            if state.action is Action.DELETE:
                await interaction.response.defer()
                await interaction.delete_original_response()
                return
            spec = state.search_of(footer_of(interaction))
            if spec is None:
                raise Expired
            await self._handlers[state.action](interaction, state, spec)
        except Exception as exc:
            await fail(interaction, exc)

    async def _turn(self, interaction: discord.Interaction[Any], state: ButtonState, spec: SearchSpec) -> None:
        await self.show(interaction, spec, state.index, state.owner)

    async def _random(self, interaction: discord.Interaction[Any], state: ButtonState, spec: SearchSpec) -> None:
        await self.show(interaction, spec, await self.search.random_index(spec, state.index), state.owner)

    async def _post(self, interaction: discord.Interaction[Any], state: ButtonState, spec: SearchSpec) -> None:
        """Post the current result publicly, credited and naming the sharer, then close the private picker."""
        found = []

        async def close_picker() -> Reply:
            found.append(await self.search.result(spec, state.index))
            return Reply(content="📤 Posted to the channel.", closes=True)

        await answer_update(interaction, close_picker())
        if found:
            slot = found[0]
            await interaction.followup.send(
                embed=shared_embed(slot, interaction.user.display_name),
                view=shared_view(slot.item),
                allowed_mentions=NO_MENTIONS,
            )
