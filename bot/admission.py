"""The one admission step every interaction passes before the bot acts on it."""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable
from typing import Any, Literal, TypeVar

import discord

from bot.answer import age
from bot.config import RateSpec
from bot.errors import CooldownActive, NotYours
from bot.state.base import Cooldowns, Dedupe

log = logging.getLogger(__name__)

T = TypeVar("T")

Bucket = Literal["search", "button"]
DEADLINE = 1.0
"""Seconds after the interaction's creation by which admission's shared-store calls must be done: a hung Redis
must not eat the 3 s Discord gives the first response. Past it, they fail open, as when Redis is down."""
WARN_EVERY = 30.0


class Admission:
    """De-duplication, the owner check and the per-user cooldowns, in that order."""

    def __init__(self, dedupe: Dedupe, cooldowns: Cooldowns, *, search: RateSpec, button: RateSpec) -> None:
        self._dedupe = dedupe
        self._cooldowns = cooldowns
        self._rates: dict[Bucket, RateSpec] = {"search": search, "button": button}
        self._warned_at = -WARN_EVERY

    async def claim(self, interaction: discord.Interaction[Any]) -> bool:
        """True for the one process that handles this interaction; False means stay silent, another answers."""
        return await self._within_deadline(interaction, self._dedupe.claim(interaction.id), True, "de-duplication")

    async def admit(self, interaction: discord.Interaction[Any], bucket: Bucket, *, owner: int | None = None) -> None:
        """Raise `NotYours` when `owner` is someone else, `CooldownActive` when the user is over the bucket's rate.

        A refused use costs nothing; an admitted one counts against the user's cooldown.
        """
        if owner is not None and interaction.user.id != owner:
            raise NotYours
        rate = self._rates[bucket]
        hit = self._cooldowns.hit(bucket, interaction.user.id, rate.rate, rate.per)
        retry = await self._within_deadline(interaction, hit, 0.0, "cooldowns")
        if retry > 0:
            raise CooldownActive(interaction.created_at.timestamp() + retry, bucket)

    async def _within_deadline(
        self, interaction: discord.Interaction[Any], call: Awaitable[T], fallback: T, what: str
    ) -> T:
        try:
            # asyncio.timeout, not wait_for: on Python 3.11 wait_for runs the call in a task of its own.
            async with asyncio.timeout(max(0.05, DEADLINE - age(interaction))):
                return await call
        except TimeoutError:
            now = time.monotonic()
            if now - self._warned_at >= WARN_EVERY:
                self._warned_at = now
                log.warning(
                    "The shared store took too long for %s (interaction %s); going on without it. "
                    "Check that Redis answers (REDIS_URL)",
                    what,
                    interaction.id,
                )
            return fallback
