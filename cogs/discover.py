"""The "Find photos" message menu: search phrases from a message, offered in a select, run as a search."""

from __future__ import annotations

import asyncio
import re
from typing import TYPE_CHECKING, Any

import discord
from discord import app_commands
from discord.ext import commands

from bot.answer import fail
from bot.errors import BadInput, Expired
from bot.keywords import search_phrases
from bot.ui import NO_MENTIONS
from bot.vocab import Kind, SearchSpec, pexels_locale, validate_query
from bot.wire import SELECT_PATTERN, SelectState

if TYPE_CHECKING:
    from bot.app import PexelsBot

Interaction = discord.Interaction["PexelsBot"]
NO_TEXT = "That message has no words I can search photos for. Try it on a message with some text."


def _message_text(message: discord.Message) -> str:
    parts = [message.content or ""]
    for embed in message.embeds:
        parts.extend(p for p in (embed.title, embed.description) if p)
    return "\n".join(parts)


class KeywordSelect(discord.ui.DynamicItem[discord.ui.Select[Any]], template=SELECT_PATTERN):
    """The phrase picker: who may use it and the language to search in live in its custom_id."""

    def __init__(self, state: SelectState | None, phrases: list[str] | None = None, *, custom_id: str = "") -> None:
        options = [discord.SelectOption(label=p[:100], value=p[:100]) for p in phrases or []]
        super().__init__(
            discord.ui.Select(
                custom_id=state.encode() if state else custom_id,
                placeholder="Pick what to look for",
                options=options or [discord.SelectOption(label="-")],
            )
        )
        self.state = state
        """None when the choice carried a custom_id we would not have written: it is answered, not acted on."""

    @classmethod
    async def from_custom_id(
        cls, interaction: discord.Interaction[Any], item: discord.ui.Item[Any], match: re.Match[str], /
    ) -> KeywordSelect:
        """Rebuild from a choice (the custom_id is untrusted input)."""
        try:
            return cls(SelectState.from_match(match))
        except ValueError:
            return cls(None, custom_id=match.string)

    async def callback(self, interaction: discord.Interaction[Any]) -> None:
        """Run the chosen phrase as a private photo search, in place of the menu."""
        bot: PexelsBot = interaction.client
        try:
            if not await bot.admission.claim(interaction):
                return
            if self.state is None:
                raise Expired
            data: Any = interaction.data or {}
            values = data.get("values") or [""]
            spec = SearchSpec(Kind.PHOTO, validate_query(str(values[0])), locale=self.state.locale)
            await bot.admission.admit(interaction, "search", owner=self.state.owner)
            await bot.buttons.open_in_place(interaction, spec)
        except Exception as exc:
            await fail(interaction, exc)


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
            raise BadInput(NO_TEXT)
        view = discord.ui.View(timeout=None)
        view.add_item(KeywordSelect(SelectState(interaction.user.id, pexels_locale(str(interaction.locale))), phrases))
        view.stop()
        await interaction.response.send_message(
            "Pick what to look for on Pexels:", view=view, ephemeral=True, allowed_mentions=NO_MENTIONS
        )


async def setup(bot: PexelsBot) -> None:
    """Load the cog."""
    await bot.add_cog(Discover(bot))
