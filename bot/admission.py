"""The one admission step every interaction passes before the bot acts on it."""

from __future__ import annotations

import logging
from typing import Any, Literal

import discord

from bot.config import RateSpec
from bot.errors import CooldownActive, NotYours
from bot.state.base import Cooldowns, Dedupe

log = logging.getLogger(__name__)

Bucket = Literal["search", "button"]


class Admission:
    """De-duplication, the owner check and the per-user cooldowns, in that order."""

    def __init__(self, dedupe: Dedupe, cooldowns: Cooldowns, *, search: RateSpec, button: RateSpec) -> None:
        self._dedupe = dedupe
        self._cooldowns = cooldowns
        self._rates: dict[Bucket, RateSpec] = {"search": search, "button": button}

    async def claim(self, interaction: discord.Interaction[Any]) -> bool:
        """True for the one process that handles this interaction; False means stay silent, another answers."""
        return await self._dedupe.claim(interaction.id)

    async def admit(self, interaction: discord.Interaction[Any], bucket: Bucket, *, owner: int | None = None) -> None:
        """Raise `NotYours` when `owner` is someone else, `CooldownActive` when the user is over the bucket's rate.

        A refused use costs nothing; an admitted one counts against the user's cooldown.
        """
        if owner is not None and interaction.user.id != owner:
            raise NotYours
        rate = self._rates[bucket]
        retry = await self._cooldowns.hit(bucket, interaction.user.id, rate.rate, rate.per)
        if retry > 0:
            raise CooldownActive(interaction.created_at.timestamp() + retry, bucket)
