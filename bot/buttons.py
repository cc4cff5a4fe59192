"""The life of a result message: opening it, and every press of its buttons.

Each press passes the one admission step (`bot.admission`), then goes to the handler of its action.
Errors propagate to `answer.fail`, the end of the one error path (`bot.errors`).
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from typing import Any

import discord

from bot import messages as M
from bot.admission import Admission
from bot.answer import AUTOMOD_BLOCKED, CLEARED, Reply, answer_command, answer_update, fail
from bot.errors import BadInput, Expired
from bot.i18n import LocaleLike, tr
from bot.jump import JumpModal
from bot.models import Item
from bot.service import SearchService, Slot
from bot.ui import NO_MENTIONS, custom_ids, footer_of, is_private, result_embed, result_view, shared_embed, shared_view
from bot.vocab import SearchSpec
from bot.wire import Action, ButtonState

log = logging.getLogger(__name__)

Handler = Callable[[discord.Interaction[Any], ButtonState, SearchSpec], Awaitable[None]]
Saver = Callable[[discord.Interaction[Any], Item], Awaitable[Reply]]
"""Keeps a result in the presser's saved items; returns the private reply."""


def forced_private(interaction: discord.Interaction[Any]) -> bool:
    """Whether Discord makes every response private here: a server that did not install the app, whose member
    lacks *Use External Apps* (the app is only installed to the member's account)."""
    if interaction.guild_id is None or interaction.is_guild_integration():
        return False
    return not interaction.permissions.use_external_apps


def _reply(slot: Slot, owner: int, *, private: bool, can_post: bool, locale: LocaleLike) -> Reply:
    view = result_view(slot, owner, private=private, can_post=can_post, locale=locale)
    return Reply(embed=result_embed(slot, locale=locale), view=view)


class ResultButtons:
    """Answers searches and everything pressed on their results; holds no state per message.

    A result is written in its searcher's language: the invoker's for a search, and for a press the presser's,
    who is the searcher (nobody else may press). Nothing read back from it depends on that language.
    """

    def __init__(self, search: SearchService, admission: Admission, *, save: Saver | None = None) -> None:
        self.search = search
        self.admission = admission
        self.save = save
        self.jump = JumpModal(admission, self.show)
        self._handlers: dict[Action, Handler] = {
            Action.FIRST: self._turn,
            Action.PREVIOUS: self._turn,
            Action.NEXT: self._turn,
            Action.LAST: self._turn,
            Action.RANDOM: self._random,
            Action.POST: self._post,
            Action.JUMP: self.jump.open,
            Action.SAVE: self._save,
        }

    async def open(self, interaction: discord.Interaction[Any], spec: SearchSpec, *, private: bool) -> None:
        """Answer a search with its first result, publicly or only for the searcher (after the cooldown)."""
        await self.admission.admit(interaction, "search")
        locked = forced_private(interaction)
        private = private or locked
        page = self.soon(spec, 0, interaction.user.id, private=private, can_post=not locked, locale=interaction.locale)
        await answer_command(interaction, page, ephemeral=private)

    async def open_in_place(self, interaction: discord.Interaction[Any], spec: SearchSpec) -> None:
        """Turn the component's (private) message into a private result for `spec` (the caller admitted it)."""
        can_post = not forced_private(interaction)
        page = self.soon(spec, 0, interaction.user.id, private=True, can_post=can_post, locale=interaction.locale)
        await answer_update(interaction, page)

    async def page(
        self,
        spec: SearchSpec,
        index: int,
        owner: int,
        *,
        private: bool,
        can_post: bool = True,
        locale: LocaleLike = None,
    ) -> Reply:
        """The result message showing result `index` of `spec`, in the searcher's language."""
        slot = await self.search.result(spec, index)
        return _reply(slot, owner, private=private, can_post=can_post, locale=locale)

    def soon(
        self, spec: SearchSpec, index: int, owner: int, *, private: bool, can_post: bool, locale: LocaleLike
    ) -> Reply | Awaitable[Reply]:
        """`page`'s message at once when a cache in this process holds the result (no task, no race with a
        deadline: the answer goes out in the same step of the event loop), else the work that gets it."""
        slot = self.search.result_now(spec, index)
        if slot is None:
            return self.page(spec, index, owner, private=private, can_post=can_post, locale=locale)
        return _reply(slot, owner, private=private, can_post=can_post, locale=locale)

    async def show(self, interaction: discord.Interaction[Any], spec: SearchSpec, index: int, owner: int) -> None:
        """Put result `index` in place of the message the component is on, keeping its visibility."""
        private, can_post = is_private(interaction), not forced_private(interaction)
        page = self.soon(spec, index, owner, private=private, can_post=can_post, locale=interaction.locale)
        await answer_update(interaction, page)

    async def press(self, interaction: discord.Interaction[Any]) -> None:
        """One press of a result button, from anyone, on any process, after any restart: always answered."""
        try:
            if not await self.admission.claim(interaction):
                return
            data: Any = interaction.data or {}
            custom_id = str(data.get("custom_id", ""))
            try:
                state = ButtonState.parse(custom_id)
            except ValueError:
                raise Expired from None
            if custom_id not in custom_ids(interaction.message):
                raise Expired  # a forged id, or a message that changed since
            # ⭐ is for anyone who sees the result: saving changes nothing on the message.
            owner = None if state.action is Action.SAVE else state.owner
            await self.admission.admit(interaction, "button", owner=owner)
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

    async def _save(self, interaction: discord.Interaction[Any], state: ButtonState, spec: SearchSpec) -> None:
        """Keep the current result in the presser's saved items and tell them privately; the message stays as it is."""
        save = self.save
        if save is None:
            raise Expired

        async def work() -> Reply:
            slot = await self.search.result(spec, state.index)
            return await save(interaction, slot.item)

        await answer_command(interaction, work(), ephemeral=True)

    async def _post(self, interaction: discord.Interaction[Any], state: ButtonState, spec: SearchSpec) -> None:
        """Post the current result publicly, credited and naming the sharer; close the picker only once it exists."""
        if forced_private(interaction):
            raise BadInput(M.POST_NOT_ALLOWED)
        locale = interaction.locale
        await interaction.response.defer()
        slot = await self.search.result(spec, state.index)
        try:
            await interaction.followup.send(
                embed=shared_embed(slot, interaction.user.display_name, locale=locale),
                view=shared_view(slot.item, locale=locale),
                allowed_mentions=NO_MENTIONS,
            )
        except discord.HTTPException as exc:
            refused = M.NOT_POSTED_AUTOMOD if exc.code == AUTOMOD_BLOCKED else M.NOT_POSTED
            log.warning("Posting a result for user %s failed: %s", interaction.user.id, exc)
            await interaction.followup.send(tr(locale, refused), ephemeral=True, allowed_mentions=NO_MENTIONS)
            return
        await interaction.edit_original_response(content=tr(locale, M.POSTED), **CLEARED)
