"""/photo, /video and /curated: validate, apply the cooldown, and hand the search to the results controller."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any, Literal

import discord
from discord import app_commands
from discord.ext import commands

from bot.errors import BadInput
from bot.respond import refuse
from bot.results import MODAL_PREFIX
from bot.search import (
    COLOURS,
    KIND_PHOTO,
    KIND_VIDEO,
    PEXELS_LOCALES,
    SearchSpec,
    parse_colour,
    pexels_locale,
    validate_query,
)
from bot.ui import PageButton, curated_spec

if TYPE_CHECKING:
    from bot.app import PexelsBot

Interaction = discord.Interaction["PexelsBot"]
Orientation = Literal["landscape", "portrait", "square"]
Size = Literal["large", "medium", "small"]


def resolve_locale(interaction: Interaction, override: str | None) -> str | None:
    """The `locale` option when given (checked), else the user's Discord language mapped to Pexels'."""
    if override:
        locale = pexels_locale(override.strip())
        if locale is None:
            raise BadInput(f"`{override[:20]}` isn't a language Pexels supports. Pick one from the list.")
        return locale
    return pexels_locale(str(interaction.locale))


async def colour_choices(interaction: Interaction, current: str) -> list[app_commands.Choice[str]]:
    """Pexels' colour names matching what was typed so far (a hex code can be typed freely)."""
    typed = current.strip().lower()
    return [app_commands.Choice(name=c, value=c) for c in COLOURS if typed in c][:25]


async def locale_choices(interaction: Interaction, current: str) -> list[app_commands.Choice[str]]:
    """Pexels' languages matching what was typed so far."""
    typed = current.strip().lower()
    return [app_commands.Choice(name=code, value=code) for code in PEXELS_LOCALES if typed in code.lower()][:25]


class Search(commands.Cog):
    """Photo and video search."""

    def __init__(self, bot: PexelsBot) -> None:
        self.bot = bot

    async def cog_load(self) -> None:
        """Route every result button press, including those on messages from before a restart."""
        self.bot.add_dynamic_items(PageButton)

    async def cog_unload(self) -> None:
        """Stop routing result buttons."""
        self.bot.remove_dynamic_items(PageButton)

    async def _run(self, interaction: Interaction, build: Callable[[], SearchSpec], private: bool) -> None:
        """Check the options (a mistake costs no cooldown), then the cooldown, then search."""
        try:
            spec = build()
        except BadInput as exc:
            await refuse(interaction, exc.user_message())
            return
        if await self.bot.results.search_allowed(interaction):
            await self.bot.results.open(interaction, spec, private=private)

    @app_commands.command(name="photo", description="Find a photo on Pexels")
    @app_commands.describe(
        query="What to look for, like: sunset over the sea",
        orientation="Only photos of this shape",
        size="Only photos at least this large",
        color="A colour name from the list, or a hex code like #ffaa00",
        private="Browse privately and post only the photo you pick",
        locale="The language of your search (default: your Discord language)",
    )
    @app_commands.autocomplete(color=colour_choices, locale=locale_choices)
    async def photo(
        self,
        interaction: Interaction,
        query: app_commands.Range[str, 1, 100],
        orientation: Orientation | None = None,
        size: Size | None = None,
        color: str | None = None,
        private: bool = False,
        locale: str | None = None,
    ) -> None:
        """Find a photo on Pexels."""
        await self._run(
            interaction,
            lambda: SearchSpec(
                KIND_PHOTO,
                validate_query(query),
                orientation,
                size,
                parse_colour(color),
                resolve_locale(interaction, locale),
            ),
            private,
        )

    @app_commands.command(name="video", description="Find a video on Pexels")
    @app_commands.describe(
        query="What to look for, like: waves on a beach",
        orientation="Only videos of this shape",
        size="Only videos at least this large (large 4K, medium Full HD, small HD)",
        private="Browse privately and post only the video you pick",
        locale="The language of your search (default: your Discord language)",
    )
    @app_commands.autocomplete(locale=locale_choices)
    async def video(
        self,
        interaction: Interaction,
        query: app_commands.Range[str, 1, 100],
        orientation: Orientation | None = None,
        size: Size | None = None,
        private: bool = False,
        locale: str | None = None,
    ) -> None:
        """Find a video on Pexels."""
        await self._run(
            interaction,
            lambda: SearchSpec(
                KIND_VIDEO, validate_query(query), orientation, size, None, resolve_locale(interaction, locale)
            ),
            private,
        )

    @app_commands.command(name="curated", description="Browse photos hand-picked by the Pexels team")
    @app_commands.describe(private="Browse privately and post only the photo you pick")
    async def curated(self, interaction: Interaction, private: bool = False) -> None:
        """Browse photos hand-picked by the Pexels team."""
        await self._run(interaction, curated_spec, private)

    @commands.Cog.listener()
    async def on_interaction(self, interaction: Interaction) -> None:
        """Answer jump-to-result modals, which carry their state in their custom_id like the buttons."""
        if interaction.type is discord.InteractionType.modal_submit:
            data: Any = interaction.data or {}
            custom_id = str(data.get("custom_id", ""))
            if custom_id.startswith(MODAL_PREFIX):
                await self.bot.results.submit_jump(interaction)


async def setup(bot: PexelsBot) -> None:
    """Load the cog."""
    await bot.add_cog(Search(bot))
