"""/photo, /video and /curated: build the search from the options and hand it to the result buttons.

In a server, its settings apply (`bot.features`): a query with a blocked word is refused, results
start private when the server says so (unless the searcher picked `private`), and the server's
language is searched in unless the searcher picked `locale`. Bad options raise `BadInput` before any
cooldown is spent; every error reaches the command tree's one error handler (`bot.errors`).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING

import discord
from discord import app_commands

from bot.db import GuildConfig
from bot.features import check_blocked
from bot.i18n import language_name, tr
from bot.routing import Route, Routed, RouteKey
from bot.vocab import (
    COLOURS,
    PEXELS_LOCALES,
    Kind,
    Orientation,
    SearchSpec,
    Size,
    curated,
    parse_colour,
    resolve_locale,
    validate_query,
)
from bot.wire import BUTTON_PREFIX, MODAL_PREFIX

if TYPE_CHECKING:
    from bot.app import PexelsBot

Interaction = discord.Interaction["PexelsBot"]


async def colour_choices(interaction: Interaction, current: str) -> list[app_commands.Choice[str]]:
    """Pexels' colour names in the user's language matching what was typed so far, in English or in it (the value
    sent back is the English name; a hex code can be typed freely)."""
    typed = current.strip().casefold()
    named = ((tr(interaction.locale, c), c) for c in COLOURS)
    return [app_commands.Choice(name=n, value=c) for n, c in named if typed in c or typed in n.casefold()][:25]


async def locale_choices(interaction: Interaction, current: str) -> list[app_commands.Choice[str]]:
    """Pexels' languages, named in the user's language, matching what was typed so far (a code or a name)."""
    typed = current.strip().casefold()
    named = ((f"{language_name(interaction.locale, code)} ({code})", code) for code in PEXELS_LOCALES)
    return [app_commands.Choice(name=n, value=c) for n, c in named if typed in n.casefold()][:25]


def _private(asked: bool | None, server: GuildConfig) -> bool:
    """The searcher's `private` choice when they made one, else the server's default."""
    return server.private_by_default if asked is None else asked


class Search(Routed):
    """Photo and video search."""

    def __init__(self, bot: PexelsBot) -> None:
        self.bot = bot

    async def _server(self, interaction: Interaction, query: str | None) -> GuildConfig:
        """The server's settings for this search; refuses (BadInput) a query with one of its blocked words."""
        config = await self.bot.server_settings.of(interaction)
        if query is not None:
            check_blocked(interaction.locale, query, config)
        return config

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
        private: bool | None = None,
        locale: str | None = None,
    ) -> None:
        """Find a photo on Pexels."""
        text, colour = validate_query(query), parse_colour(color, interaction.locale)
        server = await self._server(interaction, text)
        language = resolve_locale(locale or server.language, str(interaction.locale))
        spec = SearchSpec(Kind.PHOTO, text, orientation, size, colour, language)
        await self.bot.buttons.open(interaction, spec, private=_private(private, server))

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
        private: bool | None = None,
        locale: str | None = None,
    ) -> None:
        """Find a video on Pexels."""
        text = validate_query(query)
        server = await self._server(interaction, text)
        language = resolve_locale(locale or server.language, str(interaction.locale))
        spec = SearchSpec(Kind.VIDEO, text, orientation, size, None, language)
        await self.bot.buttons.open(interaction, spec, private=_private(private, server))

    @app_commands.command(name="curated", description="Browse photos hand-picked by the Pexels team")
    @app_commands.describe(private="Browse privately and post only the photo you pick")
    async def curated(self, interaction: Interaction, private: bool | None = None) -> None:
        """Browse photos hand-picked by the Pexels team."""
        server = await self._server(interaction, None)
        await self.bot.buttons.open(interaction, curated(), private=_private(private, server))

    def routes(self) -> Mapping[RouteKey, Route]:
        """Result button presses and jump modals, by their custom_id (`bot.routing`)."""
        return {
            (discord.InteractionType.component, BUTTON_PREFIX): self.bot.buttons.press,
            (discord.InteractionType.modal_submit, MODAL_PREFIX): self.bot.buttons.jump.submit,
        }


async def setup(bot: PexelsBot) -> None:
    """Load the cog."""
    await bot.add_cog(Search(bot))
