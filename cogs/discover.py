"""The "Find photos" message menu: search phrases from a message, offered in a select, run as a search."""

from __future__ import annotations

import asyncio
import re
from typing import TYPE_CHECKING, Any

import discord
from discord import app_commands
from discord.ext import commands

from bot.errors import BadInput
from bot.keywords import search_phrases
from bot.respond import refuse
from bot.results import NOT_YOURS
from bot.search import KIND_PHOTO, PEXELS_LOCALES, SearchSpec, pexels_locale, validate_query
from bot.ui import NO_MENTIONS

if TYPE_CHECKING:
    from bot.app import PexelsBot

Interaction = discord.Interaction["PexelsBot"]
SELECT_PATTERN = r"pxk:(?P<owner>[0-9]{1,20}):(?P<locale>[a-zA-Z-]{2,5})"
NO_TEXT = "That message has no words I can search photos for. Try it on a message with some text."


def _message_text(message: discord.Message) -> str:
    parts = [message.content or ""]
    for embed in message.embeds:
        parts.extend(p for p in (embed.title, embed.description) if p)
    return "\n".join(parts)


class KeywordSelect(discord.ui.DynamicItem[discord.ui.Select[Any]], template=SELECT_PATTERN):
    """The phrase picker: who may use it and the language to search in live in its custom_id."""

    def __init__(self, owner: int, locale: str | None, phrases: list[str] | None = None) -> None:
        options = [discord.SelectOption(label=p[:100], value=p[:100]) for p in phrases or []]
        super().__init__(
            discord.ui.Select(
                custom_id=f"pxk:{owner}:{locale or '-'}",
                placeholder="Pick what to look for",
                options=options or [discord.SelectOption(label="-")],
            )
        )
        self.owner = owner
        self.locale = locale

    @classmethod
    async def from_custom_id(
        cls, interaction: discord.Interaction[Any], item: discord.ui.Item[Any], match: re.Match[str], /
    ) -> KeywordSelect:
        """Rebuild from a choice (the custom_id is untrusted input)."""
        locale = match["locale"]
        return cls(int(match["owner"]), locale if locale in PEXELS_LOCALES else None)

    async def callback(self, interaction: discord.Interaction[Any]) -> None:
        """Run the chosen phrase as a private photo search, in place of the menu."""
        bot: PexelsBot = interaction.client
        if not await bot.state.dedupe.claim(interaction.id):
            return
        if interaction.user.id != self.owner:
            await refuse(interaction, NOT_YOURS)
            return
        data: Any = interaction.data or {}
        values = data.get("values") or [""]
        try:
            spec = SearchSpec(KIND_PHOTO, validate_query(str(values[0])), locale=self.locale)
        except BadInput as exc:
            await refuse(interaction, exc.user_message())
            return
        if await bot.results.search_allowed(interaction):
            await bot.results.open_in_place(interaction, spec)


class Discover(commands.Cog):
    """Photos for any message."""

    def __init__(self, bot: PexelsBot) -> None:
        self.bot = bot
        self.menu = app_commands.ContextMenu(name="Find photos", callback=self.find_photos)

    async def cog_load(self) -> None:
        """Register the menu and route its select."""
        self.bot.tree.add_command(self.menu)
        self.bot.add_dynamic_items(KeywordSelect)

    async def cog_unload(self) -> None:
        """Unregister the menu and its select."""
        self.bot.tree.remove_command(self.menu.name, type=self.menu.type)
        self.bot.remove_dynamic_items(KeywordSelect)

    async def find_photos(self, interaction: Interaction, message: discord.Message) -> None:
        """Offer up to five photo searches drawn from the message's text."""
        # In a worker thread: YAKE is CPU work (~25 ms for a long message, ~0.4 s to import on first use).
        phrases = await asyncio.to_thread(search_phrases, _message_text(message), limit=5)
        if not phrases:
            await refuse(interaction, NO_TEXT)
            return
        view = discord.ui.View(timeout=None)
        view.add_item(KeywordSelect(interaction.user.id, pexels_locale(str(interaction.locale)), phrases))
        view.stop()
        await interaction.response.send_message(
            "Pick what to look for on Pexels:", view=view, ephemeral=True, allowed_mentions=NO_MENTIONS
        )


async def setup(bot: PexelsBot) -> None:
    """Load the cog."""
    await bot.add_cog(Discover(bot))
