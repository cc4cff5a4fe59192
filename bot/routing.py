"""Component presses and modal submits, routed by their custom_id's prefix to the cog that wrote them.

Every custom_id the bot writes starts with one of `bot.wire`'s prefixes ("px:", "pxm:", ...) and carries its
whole state, so a press on a message from before a restart, or from another process, is answered the same.
The bot has one `on_interaction` listener that looks the prefix up: discord.py starts a task per listener for
every interaction, so one listener per cog would cost each interaction a task per cog.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
from typing import Any

import discord
from discord.ext import commands

Route = Callable[[discord.Interaction[Any]], Awaitable[None]]
"""Answers one kind of component press or modal submit."""
RouteKey = tuple[discord.InteractionType, str]
"""The interaction's type and its custom_id's prefix, up to and including the first colon."""


def route_key(interaction: discord.Interaction[Any]) -> RouteKey | None:
    """Where a component press or modal submit goes; None for anything without a custom_id."""
    data: Any = interaction.data
    custom_id = data.get("custom_id") if isinstance(data, dict) else None
    if not isinstance(custom_id, str):
        return None
    head, colon, _ = custom_id.partition(":")
    return interaction.type, head + colon


class Routed(commands.Cog):
    """A cog that answers presses and submits by custom_id prefix: the bot routes them while it is loaded."""

    def routes(self) -> Mapping[RouteKey, Route]:
        """The prefixes this cog's components use, each with its handler."""
        return {}
