"""The jump modal: "go to result number N", opened from a result's counter and answered statelessly.

The modal's custom_id carries the same state as the button that opened it (`bot.wire`), and the
submission is routed by that id alone, so nothing is kept in memory per open modal.
"""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable
from typing import Any

import discord

from bot import messages as M
from bot.admission import Admission
from bot.answer import fail
from bot.errors import BadInput, Expired
from bot.i18n import tr
from bot.ui import custom_ids, footer_of
from bot.vocab import SearchSpec
from bot.wire import BUTTON_PREFIX, JUMP_FIELD, MODAL_PREFIX, ButtonState, parse_footer

_NUMBER = re.compile(r"[0-9]{1,6}")
"""ASCII digits only: `str.isdigit` also accepts "²" and "①", which `int` then refuses."""
_FULL_WIDTH_DIGITS = str.maketrans("０１２３４５６７８９", "0123456789")
"""What a Japanese, Chinese or Korean input method types for digits, read as the digits they are."""

Show = Callable[[discord.Interaction[Any], SearchSpec, int, int], Awaitable[None]]
"""Puts result `index` of a search, owned by `owner`, in place of the component's message."""


class JumpModal:
    """Opens the modal from the counter button, and answers its submission."""

    def __init__(self, admission: Admission, show: Show) -> None:
        self._admission = admission
        self._show = show

    async def open(self, interaction: discord.Interaction[Any], state: ButtonState, spec: SearchSpec) -> None:
        """Ask for a result number (the press has been admitted)."""
        footer = parse_footer(footer_of(interaction))
        total = footer.total if footer else None
        locale = interaction.locale
        modal = discord.ui.Modal(title=tr(locale, M.JUMP_TITLE), custom_id=state.encode(MODAL_PREFIX))
        field: discord.ui.TextInput[Any] = discord.ui.TextInput(
            custom_id=JUMP_FIELD, placeholder=str(min(state.index + 2, total or 1)), min_length=1, max_length=6
        )
        # The Label component (type 18) is Discord's current form for a modal's inputs.
        label = tr(locale, M.JUMP_LABEL, total=total) if total else tr(locale, M.JUMP_LABEL_PLAIN)
        modal.add_item(discord.ui.Label(text=label, component=field))
        await interaction.response.send_modal(modal)
        modal.stop()  # answered statelessly by `submit`: nothing stays in memory per open modal

    async def submit(self, interaction: discord.Interaction[Any]) -> None:
        """A submitted jump modal: show the result whose number the user typed."""
        try:
            if not await self._admission.claim(interaction):
                return
            data: Any = interaction.data or {}
            try:
                state = ButtonState.parse(str(data.get("custom_id", "")), modal=True)
            except ValueError:
                raise Expired from None
            if state.encode(BUTTON_PREFIX) not in custom_ids(interaction.message):
                raise Expired  # not opened from this message (forged), or the message changed or is gone
            await self._admission.admit(interaction, "button", owner=state.owner)
            footer = footer_of(interaction)
            spec = state.search_of(footer)
            if spec is None:
                raise Expired
            parsed = parse_footer(footer)
            total = parsed.total if parsed else 1
            raw = _modal_value(data.get("components", []), JUMP_FIELD).strip().replace(",", "")
            raw = raw.translate(_FULL_WIDTH_DIGITS)
            if not _NUMBER.fullmatch(raw) or not 1 <= int(raw) <= total:
                raise BadInput(M.JUMP_OUT_OF_RANGE, total=total)
            await self._show(interaction, spec, int(raw) - 1, state.owner)
        except Exception as exc:
            await fail(interaction, exc)


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
