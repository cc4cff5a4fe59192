"""Saved photos and videos: ⭐ on a result keeps it, /saved browses and removes them, /saved clear forgets them.

The browser is private and stateless like result messages: each button's custom_id says whose list it
is and where in it (`bot.wire.SavedState`), and every page is read from the database and rendered
with the result embeds from what was stored, credit included: browsing costs no Pexels request.
"""

from __future__ import annotations

import logging
from typing import Any

import discord

from bot import messages_features as msg
from bot.admission import Admission
from bot.answer import Reply, answer_command, answer_update, fail
from bot.db import MAX_SAVED, Database, ItemSnapshot, SavedEntry
from bot.errors import Expired
from bot.features import Refusal, database_errors
from bot.i18n import format_number, tr, trn
from bot.models import Item
from bot.service import Slot
from bot.ui import DELETE, FIRST, LAST, NEXT, PREVIOUS, custom_ids, link_button, result_embed
from bot.vocab import Kind, SearchSpec
from bot.wire import SavedAction, SavedState

log = logging.getLogger(__name__)

Interaction = discord.Interaction[Any]
_TURNS = (SavedAction.FIRST, SavedAction.PREVIOUS, SavedAction.NEXT, SavedAction.LAST)


def saved_embed(entry: SavedEntry, index: int, total: int, locale: discord.Locale | str | None) -> discord.Embed:
    """A saved item as a result embed (title, credit, image), with its place in the user's list as the footer."""
    kind = Kind.VIDEO if entry.item.kind == "video" else Kind.PHOTO
    embed = result_embed(Slot(entry.item.to_item(), index, total, SearchSpec(kind)))
    embed.set_footer(text=tr(locale, msg.SAVED_FOOTER, position=index + 1, total=total))
    return embed


def saved_view(entry: SavedEntry, owner: int, index: int, total: int) -> discord.ui.View:
    """⏮ ◀ counter ▶ ⏭, then 🗑 (removes this item) and the link to Pexels."""
    last = total - 1

    def button(action: SavedAction, to: int, *, row: int = 0, **options: Any) -> discord.ui.Button[Any]:
        item = (entry.item.kind, entry.item.pexels_id) if action is SavedAction.REMOVE else None
        custom_id = SavedState(action, owner, to, item).encode()
        return discord.ui.Button(style=discord.ButtonStyle.secondary, custom_id=custom_id, row=row, **options)

    at_start, at_end = index <= 0, index >= last
    view = discord.ui.View(timeout=None)
    view.add_item(button(SavedAction.FIRST, 0, emoji=FIRST, disabled=at_start))
    view.add_item(button(SavedAction.PREVIOUS, max(index - 1, 0), emoji=PREVIOUS, disabled=at_start))
    view.add_item(button(SavedAction.COUNTER, index, label=f"{index + 1} / {total}", disabled=True))
    view.add_item(button(SavedAction.NEXT, min(index + 1, last), emoji=NEXT, disabled=at_end))
    view.add_item(button(SavedAction.LAST, last, emoji=LAST, disabled=at_end))
    view.add_item(button(SavedAction.REMOVE, index, emoji=DELETE, row=1))
    view.add_item(link_button(entry.item.to_item(), row=1))
    view.stop()
    return view


def clear_view(owner: int, locale: discord.Locale | str | None) -> discord.ui.View:
    """The confirmation under /saved clear: delete everything, or keep it."""
    view = discord.ui.View(timeout=None)
    for action, label, style in (
        (SavedAction.CLEAR, msg.CLEAR_CONFIRM, discord.ButtonStyle.danger),
        (SavedAction.KEEP, msg.CLEAR_CANCEL, discord.ButtonStyle.secondary),
    ):
        custom_id = SavedState(action, owner, 0).encode()
        view.add_item(discord.ui.Button(style=style, label=tr(locale, label), custom_id=custom_id))
    view.stop()
    return view


def _pressed(interaction: Interaction) -> SavedState:
    """The state of the pressed button; Expired unless the message carries it (forged, or changed since)."""
    data: Any = interaction.data or {}
    custom_id = str(data.get("custom_id", ""))
    try:
        state = SavedState.parse(custom_id)
    except ValueError:
        raise Expired from None
    if custom_id in custom_ids(interaction.message) and state.action is not SavedAction.COUNTER:
        return state
    raise Expired


class SavedItemsUI:
    """⭐ presses, the /saved commands and every press in the saved-items browser; holds no state per message."""

    def __init__(self, database: Database, admission: Admission) -> None:
        self.database = database
        self.admission = admission

    async def save(self, interaction: Interaction, item: Item) -> Reply:
        """Keep `item` in the presser's saved items (⭐); the private reply says how many they keep now."""
        locale, user = interaction.locale, interaction.user.id
        with database_errors(locale):
            added = await self.database.saved.save(user, ItemSnapshot.from_item(item))
            count = await self.database.saved.count(user)
        text = msg.SAVED if added else msg.ALREADY_SAVED
        shown, limit = format_number(locale, count), format_number(locale, MAX_SAVED)
        return Reply(content=tr(locale, text, count=shown, limit=limit))

    async def show(self, interaction: Interaction) -> None:
        """/saved show: the newest saved item, privately, with the browser's buttons."""
        await self.admission.admit(interaction, "button")
        await answer_command(interaction, self._page(interaction, 0, editing=False), ephemeral=True)

    async def ask_clear(self, interaction: Interaction) -> None:
        """/saved clear: ask before deleting everything."""
        await self.admission.admit(interaction, "button")

        async def ask() -> Reply:
            locale = interaction.locale
            with database_errors(locale):
                count = await self.database.saved.count(interaction.user.id)
            if count == 0:
                return Reply(content=tr(locale, msg.NOTHING_SAVED))
            return Reply(content=trn(locale, *msg.CLEAR_ASK, count), view=clear_view(interaction.user.id, locale))

        await answer_command(interaction, ask(), ephemeral=True)

    async def press(self, interaction: Interaction) -> None:
        """One press in the browser or on the clear confirmation: always answered, privately."""
        try:
            if not await self.admission.claim(interaction):
                return
            state = _pressed(interaction)
            if interaction.user.id != state.owner:
                raise Refusal(tr(interaction.locale, msg.NOT_YOUR_SAVED))
            await self.admission.admit(interaction, "button")
            await answer_update(interaction, self._act(interaction, state))
        except Exception as exc:
            await fail(interaction, exc)

    async def _act(self, interaction: Interaction, state: SavedState) -> Reply:
        locale, user, saved = interaction.locale, state.owner, self.database.saved
        if state.action in _TURNS:
            return await self._page(interaction, state.index, editing=True)
        with database_errors(locale):
            if state.action is SavedAction.REMOVE and state.item is not None:
                kind, pexels_id = state.item
                await saved.remove(user, "video" if kind == "video" else "photo", pexels_id)
                if await saved.count(user) == 0:
                    return Reply(content=tr(locale, msg.REMOVED_LAST), closes=True)
                return await self._page(interaction, state.index, editing=True)
            if state.action is SavedAction.CLEAR:
                removed = await saved.clear(user)
                log.info("User %s cleared their %d saved items", user, removed)
                return Reply(content=trn(locale, *msg.CLEARED, removed), closes=True)
        return Reply(content=tr(locale, msg.CLEAR_CANCELLED), closes=True)

    async def _page(self, interaction: Interaction, index: int, *, editing: bool) -> Reply:
        """Saved item `index` (clamped to the list) of the user the browser belongs to; `editing`: in place of
        the browser's message (which becomes plain text when nothing is left)."""
        locale = interaction.locale
        user = interaction.user.id
        with database_errors(locale):
            for _ in range(2):  # the list may shrink between counting and reading (another process removed one)
                total = await self.database.saved.count(user)
                if total == 0:
                    return Reply(content=tr(locale, msg.NOTHING_SAVED), closes=editing)
                index = max(0, min(index, total - 1))
                entries = await self.database.saved.page(user, offset=index, limit=1)
                if entries:
                    embed = saved_embed(entries[0], index, total, locale)
                    return Reply(embed=embed, view=saved_view(entries[0], user, index, total))
        return Reply(content=tr(locale, msg.NOTHING_SAVED), closes=editing)
