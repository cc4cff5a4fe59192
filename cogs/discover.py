"""The "Find photos" message menu: search phrases from a message, offered in a select, run as a search.

In a server, its settings apply as to /photo: phrases with a blocked word are not offered (nor searched,
if the blocklist changed since), and the server's language is searched in.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

import discord
from discord import app_commands

from bot import messages as M
from bot.answer import Reply, answer_command, fail
from bot.blocklist import find_blocked
from bot.errors import BadInput, Expired
from bot.features import check_blocked
from bot.i18n import LocaleLike, tr
from bot.keywords import find_phrases
from bot.message_text import message_text
from bot.routing import Route, Routed, RouteKey
from bot.ui import custom_ids
from bot.vocab import Kind, SearchSpec, pexels_locale, validate_query
from bot.wire import SELECT_PATTERN, SELECT_PREFIX, SelectState

if TYPE_CHECKING:
    from bot.app import PexelsBot

Interaction = discord.Interaction["PexelsBot"]
_SELECT = re.compile(SELECT_PATTERN)


def phrase_menu(state: SelectState, phrases: list[str], *, locale: LocaleLike = None) -> discord.ui.View:
    """The private menu of search phrases; its custom_id says who may use it and the language to search in."""
    view = discord.ui.View(timeout=None)
    options = [discord.SelectOption(label=p[:100], value=p[:100]) for p in phrases]
    placeholder = tr(locale, M.PICK_PLACEHOLDER)
    view.add_item(discord.ui.Select(custom_id=state.encode(), placeholder=placeholder, options=options))
    view.stop()
    return view


def offered(message: discord.Message | None) -> set[str]:
    """The values the menu on `message` offers (a choice must be one of them)."""
    values: set[str] = set()
    for row in message.components if message is not None else ():
        for child in getattr(row, "children", ()):
            values.update(option.value for option in getattr(child, "options", ()))
    return values


class Discover(Routed):
    """Photos for any message."""

    def __init__(self, bot: PexelsBot) -> None:
        self.bot = bot
        self.menu = app_commands.ContextMenu(name="Find photos", callback=self.find_photos)

    async def cog_load(self) -> None:
        """Register the menu."""
        self.bot.tree.add_command(self.menu)

    async def cog_unload(self) -> None:
        """Unregister the menu."""
        self.bot.tree.remove_command(self.menu.name, type=self.menu.type)

    def routes(self) -> Mapping[RouteKey, Route]:
        """Choices in the menu, by their custom_id (`bot.routing`)."""
        return {(discord.InteractionType.component, SELECT_PREFIX): self.choose}

    async def find_photos(self, interaction: Interaction, message: discord.Message) -> None:
        """Offer up to five photo searches drawn from the message's text (counts as a search for the cooldown)."""
        await self.bot.admission.admit(interaction, "search")
        server = await self.bot.server_settings.of(interaction)
        state = SelectState(interaction.user.id, server.language or pexels_locale(str(interaction.locale)))

        async def menu() -> Reply:
            # In a worker thread, two at a time: ~7 ms a message, ~1.2 s for the first one in a process.
            found = await find_phrases(message_text(message), limit=5)
            phrases = [p for p in found if find_blocked(p, server.blocked_words) is None]  # the server's blocklist
            if found and not phrases:
                check_blocked(interaction.locale, found[0], server)
            if not phrases:
                raise BadInput(M.NO_TEXT)
            locale = interaction.locale
            return Reply(content=tr(locale, M.PICK_PROMPT), view=phrase_menu(state, phrases, locale=locale))

        await answer_command(interaction, menu(), ephemeral=True)

    async def choose(self, interaction: Interaction) -> None:
        """A choice in the menu: run it as a private photo search, in place of the menu."""
        data: Any = interaction.data or {}
        custom_id = str(data.get("custom_id", ""))
        try:
            if not await self.bot.admission.claim(interaction):
                return
            match = _SELECT.fullmatch(custom_id)
            if match is None or custom_id not in custom_ids(interaction.message):
                raise Expired
            try:
                state = SelectState.from_match(match)
            except ValueError:
                raise Expired from None
            values = data.get("values")
            if not isinstance(values, list) or len(values) != 1 or values[0] not in offered(interaction.message):
                raise Expired  # a value the menu never offered
            spec = SearchSpec(Kind.PHOTO, validate_query(str(values[0])), locale=state.locale)
            if interaction.user.id == state.owner:  # someone else is refused by the owner check below
                check_blocked(interaction.locale, spec.query, await self.bot.server_settings.of(interaction))
            await self.bot.admission.admit(interaction, "search", owner=state.owner)
            await self.bot.buttons.open_in_place(interaction, spec)
        except Exception as exc:
            await fail(interaction, exc)


async def setup(bot: PexelsBot) -> None:
    """Load the cog."""
    await bot.add_cog(Discover(bot))
