"""/saved show and /saved clear, and the presses in the saved-items browser (routed by their custom_id).

/saved is a group because Discord does not let a command with subcommands be used alone: browsing is
`/saved show`, forgetting everything is `/saved clear`. Both work everywhere the bot does (servers,
DMs, user installs): saved items belong to the user, not to a server.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING

import discord
from discord import app_commands

from bot.routing import Route, Routed, RouteKey
from bot.wire import SAVED_PREFIX

if TYPE_CHECKING:
    from bot.app import PexelsBot

Interaction = discord.Interaction["PexelsBot"]


class SavedCog(Routed):
    """Each user's saved photos and videos."""

    saved = app_commands.Group(name="saved", description="The photos and videos you saved with ⭐")

    def __init__(self, bot: PexelsBot) -> None:
        self.bot = bot

    @saved.command(name="show", description="Browse the photos and videos you saved, newest first")
    async def show(self, interaction: Interaction) -> None:
        """A private browser over the user's saved items."""
        await self.bot.saved.show(interaction)

    @saved.command(name="clear", description="Delete everything you saved (asks first)")
    async def clear(self, interaction: Interaction) -> None:
        """Ask for confirmation, then delete every saved item of the user."""
        await self.bot.saved.ask_clear(interaction)

    def routes(self) -> Mapping[RouteKey, Route]:
        """The browser's presses, by their custom_id (`bot.routing`): they carry their whole state."""
        return {(discord.InteractionType.component, SAVED_PREFIX): self.bot.saved.press}


async def setup(bot: PexelsBot) -> None:
    """Load the cog."""
    await bot.add_cog(SavedCog(bot))
