"""The life of a result message: opening it, every button press, the jump modal and posting."""

from __future__ import annotations

import logging
import random
import re
from typing import Any

import discord

from bot.config import RateSpec
from bot.errors import BadInput
from bot.respond import Reply, answer_command, answer_update, refuse, user_message
from bot.search import SearchService, SearchSpec, Slot
from bot.state.base import Cooldowns, Dedupe
from bot.ui import (
    NO_MENTIONS,
    ButtonState,
    query_from_message,
    result_embed,
    result_view,
    shared_embed,
    shared_view,
)

log = logging.getLogger(__name__)

NOT_YOURS = "These buttons belong to the person who searched. Start your own search with /photo."
EXPIRED = "This result can't be browsed any more. Start a new search with /photo."
MODAL_PREFIX = "pxm:"
_MODAL_ID = re.compile(
    r"pxm:(?P<action>j):(?P<owner>[0-9]{1,20}):(?P<index>[0-9]{1,4}):(?P<spec>[a-zA-Z0-9#.-]{9,40}):(?P<key>[0-9a-f]{12})"
)
_JUMP_FIELD = "pxm-number"


def cooldown_message(retry_after: float, now: float, what: str) -> str:
    """A refusal that says when to come back, as a Discord relative timestamp."""
    return f"You're {what} faster than this bot allows. Try again <t:{int(now + retry_after) + 1}:R>."


class ResultsController:
    """Answers everything that happens on a result message; holds no state per message."""

    def __init__(
        self,
        search: SearchService,
        cooldowns: Cooldowns,
        dedupe: Dedupe,
        *,
        search_cooldown: RateSpec,
        button_cooldown: RateSpec,
    ) -> None:
        self.search = search
        self._cooldowns = cooldowns
        self._dedupe = dedupe
        self._search_cooldown = search_cooldown
        self._button_cooldown = button_cooldown

    async def search_allowed(self, interaction: discord.Interaction[Any]) -> bool:
        """Count a search against the user's cooldown; refuse (and return False) when over it."""
        spec = self._search_cooldown
        retry = await self._cooldowns.hit("search", interaction.user.id, spec.rate, spec.per)
        if retry > 0:
            await refuse(interaction, cooldown_message(retry, interaction.created_at.timestamp(), "searching"))
            return False
        return True

    async def open(self, interaction: discord.Interaction[Any], spec: SearchSpec, *, private: bool) -> None:
        """Answer a search with the first result, publicly or only for the searcher."""
        await answer_command(interaction, self._page(spec, 0, interaction.user.id, private=private), ephemeral=private)

    async def open_in_place(self, interaction: discord.Interaction[Any], spec: SearchSpec) -> None:
        """Turn the component's (ephemeral) message into a private picker for `spec`."""
        await answer_update(interaction, self._page(spec, 0, interaction.user.id, private=True))

    async def _page(self, spec: SearchSpec, index: int, owner: int, *, private: bool) -> Reply:
        slot = await self.search.result(spec, index)
        return Reply(embed=result_embed(slot), view=result_view(slot, owner, private=private))

    async def press(self, interaction: discord.Interaction[Any], state: ButtonState | None) -> None:
        """One press of a result button, from anyone, on any process, after any restart."""
        try:
            await self._press(interaction, state)
        except Exception as exc:
            await self._fail(interaction, exc)

    async def _fail(self, interaction: discord.Interaction[Any], exc: Exception) -> None:
        message = user_message(exc)
        try:
            await refuse(interaction, message)
        except discord.HTTPException:
            log.warning("Could not tell user %s about an error: %s", interaction.user.id, exc)

    async def _press(self, interaction: discord.Interaction[Any], state: ButtonState | None) -> None:
        if not await self._dedupe.claim(interaction.id):
            return
        if state is None:
            await refuse(interaction, EXPIRED)
            return
        if interaction.user.id != state.owner:
            await refuse(interaction, NOT_YOURS)
            return
        rate = self._button_cooldown
        retry = await self._cooldowns.hit("button", interaction.user.id, rate.rate, rate.per)
        if retry > 0:
            await refuse(interaction, cooldown_message(retry, interaction.created_at.timestamp(), "pressing buttons"))
            return
        if state.action == "d":
            await interaction.response.defer()
            await interaction.delete_original_response()
            return
        spec = self._spec_of(interaction, state)
        if spec is None:
            await refuse(interaction, EXPIRED)
            return
        if state.action == "j":
            await self._open_jump(interaction, state)
            return
        if state.action == "s":
            await self._post(interaction, spec, state.index)
            return
        private = bool(interaction.message and interaction.message.flags.ephemeral)
        index = state.index
        if state.action == "r":
            index = await self._random_index(spec, state.index)
        await answer_update(interaction, self._page(spec, index, state.owner, private=private))

    @staticmethod
    def _spec_of(interaction: discord.Interaction[Any], state: ButtonState) -> SearchSpec | None:
        query = query_from_message(interaction.message)
        if query is None:
            return None
        spec = state.spec(query)
        return spec if spec.key == state.key else None

    async def _random_index(self, spec: SearchSpec, current: int) -> int:
        """A random other result among those already fetched: 🔀 never costs quota."""
        cached = await self.search.cached_result(spec, current)
        loaded = await self.search.loaded_count(spec, cached.total) if cached else 0
        if loaded <= 1:
            return current
        choice = random.randrange(loaded - 1)
        return choice + 1 if choice >= current else choice

    async def _post(self, interaction: discord.Interaction[Any], spec: SearchSpec, index: int) -> None:
        """Post the current result publicly, credited and naming the sharer, then close the private picker."""
        found: list[Slot] = []

        async def close_picker() -> Reply:
            found.append(await self.search.result(spec, index))
            return Reply(content="📤 Posted to the channel.", closes=True)

        await answer_update(interaction, close_picker())
        if found:
            slot = found[0]
            await interaction.followup.send(
                embed=shared_embed(slot, interaction.user.display_name),
                view=shared_view(slot.item),
                allowed_mentions=NO_MENTIONS,
            )

    async def _open_jump(self, interaction: discord.Interaction[Any], state: ButtonState) -> None:
        total = _total_from_message(interaction.message)
        modal = discord.ui.Modal(title="Jump to a result", custom_id=MODAL_PREFIX + state.encode().removeprefix("px:"))
        modal.add_item(
            discord.ui.TextInput(
                label=f"Result number (1 to {total})" if total else "Result number",
                custom_id=_JUMP_FIELD,
                placeholder=str(min(state.index + 2, total or 1)),
                min_length=1,
                max_length=6,
            )
        )
        await interaction.response.send_modal(modal)
        modal.stop()  # answered statelessly by `submit_jump`: nothing stays in memory per open modal

    async def submit_jump(self, interaction: discord.Interaction[Any]) -> None:
        """A submitted jump modal: show the result whose number the user typed."""
        try:
            await self._submit_jump(interaction)
        except Exception as exc:
            await self._fail(interaction, exc)

    async def _submit_jump(self, interaction: discord.Interaction[Any]) -> None:
        data: Any = interaction.data or {}
        match = _MODAL_ID.fullmatch(str(data.get("custom_id", "")))
        if match is None:
            return
        if not await self._dedupe.claim(interaction.id):
            return
        try:
            state = ButtonState.from_match(match)
        except ValueError:
            return
        if interaction.user.id != state.owner:
            await refuse(interaction, NOT_YOURS)
            return
        spec = self._spec_of(interaction, state)
        if spec is None:
            await refuse(interaction, EXPIRED)
            return
        total = _total_from_message(interaction.message) or 1
        raw = _modal_value(data.get("components", []), _JUMP_FIELD).strip().replace(",", "")
        if not raw.isdigit() or not 1 <= int(raw) <= total:
            raise BadInput(f"Type a result number from 1 to {total}.")
        private = bool(interaction.message and interaction.message.flags.ephemeral)
        await answer_update(interaction, self._page(spec, int(raw) - 1, state.owner, private=private))


def _total_from_message(message: discord.Message | None) -> int | None:
    if message is None or not message.embeds:
        return None
    match = re.match(r"\d+ / (\d+) ·", message.embeds[0].footer.text or "")
    return int(match[1]) if match else None


def _modal_value(components: object, custom_id: str) -> str:
    """Find a text input's value in a modal submission (action rows or labels, any depth)."""
    if isinstance(components, list):
        for component in components:
            found = _modal_value(component, custom_id)
            if found:
                return found
    elif isinstance(components, dict):
        if components.get("custom_id") == custom_id and isinstance(components.get("value"), str):
            return str(components["value"])
        for child in ("components", "component"):
            if child in components:
                found = _modal_value(components[child], custom_id)
                if found:
                    return found
    return ""
