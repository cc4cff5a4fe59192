"""The photo of the day as the bot runs it: the scheduler loop, the Pexels search behind it, the post itself,
and checking that the bot may post in a channel.

`bot.daily.DailyPoster` decides what is due and claims each day in the database, so every process can
run this loop: whichever claims a server's day posts it, exactly once. The search goes through the
result store (a topic someone searched today costs nothing) and the database's topic cache (servers
sharing a topic share one Pexels request a day).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import discord

from bot import messages_features as msg
from bot.daily import DailyPoster, Outcome
from bot.db import Clock, Database, DatabaseUnavailable, ItemSnapshot, Schedule
from bot.i18n import LocaleLike, format_list, tr
from bot.models import Photo
from bot.service import Slot
from bot.store import ResultStore
from bot.ui import NO_MENTIONS, result_embed, shared_view
from bot.vocab import Kind, SearchSpec, normalise_query

if TYPE_CHECKING:
    from bot.app import PexelsBot

log = logging.getLogger(__name__)

INTERVAL = 60.0
"""Seconds between rounds of the scheduler."""
PRUNE_EVERY = 3600.0
"""Seconds between clean-ups of old history and topic results."""
NEEDED = (
    (discord.Permissions(view_channel=True), msg.PERMISSION_VIEW),
    (discord.Permissions(send_messages=True), msg.PERMISSION_SEND),
    (discord.Permissions(embed_links=True), msg.PERMISSION_EMBED),
)
"""What the bot needs in a channel to post the photo of the day, with the names users read."""


def daily_embed(photo: ItemSnapshot, topic: str, locale: LocaleLike) -> discord.Embed:
    """The day's photo, credited like every result, with the topic in the footer."""
    item = photo.to_item()
    embed = result_embed(Slot(item, 0, 1, SearchSpec(Kind.PHOTO, topic)))
    embed.set_footer(text=tr(locale, msg.DAILY_FOOTER, topic=topic))
    return embed


def missing_permissions(granted: discord.Permissions, locale: LocaleLike) -> list[str]:
    """The names of what the bot lacks in a channel to post the photo of the day (empty: nothing)."""
    return [tr(locale, name) for needed, name in NEEDED if not needed.is_subset(granted)]


def describe_missing(missing: Sequence[str], locale: LocaleLike) -> str:
    """The missing permissions as the reader's language lists them."""
    return format_list(locale, missing)


async def channel_permissions(http: discord.http.HTTPClient, guild_id: int, channel_id: int, me: int) -> int | None:
    """The bot's permissions in a guild channel, computed from its roles and the channel's overwrites as Discord does
    (https://discord.com/developers/docs/topics/permissions#permission-overwrites); None when the bot can't see
    the channel or it is not one of the server's."""
    try:
        channel: Any = await http.get_channel(channel_id)
        if str(channel.get("guild_id")) != str(guild_id):
            return None
        roles: Any = await http.get_roles(guild_id)
        member: Any = await http.get_member(guild_id, me)
    except (discord.Forbidden, discord.NotFound):
        return None
    role_permissions = {int(role["id"]): int(role["permissions"]) for role in roles}
    member_roles = {int(role) for role in member.get("roles", [])}
    granted = role_permissions.get(guild_id, 0)
    for role in member_roles:
        granted |= role_permissions.get(role, 0)
    if granted & discord.Permissions(administrator=True).value:
        return discord.Permissions.all().value
    overwrites = {
        (int(o["id"]), int(o["type"])): (int(o["allow"]), int(o["deny"]))
        for o in channel.get("permission_overwrites") or []
    }
    allow, deny = overwrites.get((guild_id, 0), (0, 0))
    granted = (granted & ~deny) | allow
    allow = deny = 0
    for role in member_roles:
        role_allow, role_deny = overwrites.get((role, 0), (0, 0))
        allow, deny = allow | role_allow, deny | role_deny
    granted = (granted & ~deny) | allow
    allow, deny = overwrites.get((me, 1), (0, 0))
    return (granted & ~deny) | allow


class DailyScheduler:
    """Runs `DailyPoster.run_once` every `interval` seconds from start to close."""

    def __init__(
        self, bot: PexelsBot, database: Database, store: ResultStore, *, clock: Clock, interval: float = INTERVAL
    ) -> None:
        self.bot = bot
        self.database = database
        self.store = store
        self.clock = clock
        self.interval = interval
        self.poster = DailyPoster(database.schedules, fetch=self.fetch, publish=self.publish, clock=clock)
        self._task: asyncio.Task[None] | None = None
        self._round: asyncio.Future[list[Outcome]] | None = None
        self._pruned_at = -PRUNE_EVERY

    def start(self) -> None:
        """Start the loop (once); the first round runs at once, so a post missed while the bot was down is made."""
        if self._task is None:
            self._task = asyncio.create_task(self._loop(), name="pexbot: daily photos")

    async def stop(self, grace: float) -> None:
        """Stop the loop; a round in progress gets `grace` seconds to finish its posts."""
        task, self._task = self._task, None
        if task is None:
            return
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task
        running = self._round
        if running is not None and not running.done():
            try:
                await asyncio.wait_for(asyncio.shield(running), grace)
            except TimeoutError:
                log.warning("Closing while daily posts were still being made; they are retried after the restart")
                running.cancel()
            except Exception:  # noqa: S110 - already reported by the loop
                pass

    async def run_round(self) -> list[Outcome]:
        """One round: every post due now (the loop calls this; so can a test)."""
        self._round = asyncio.ensure_future(self.poster.run_once())
        outcomes = await asyncio.shield(self._round)
        for outcome in outcomes:
            if outcome.status == "posted":
                log.info("Posted the photo of the day in guild %d (photo %s)", outcome.guild_id, outcome.photo_id)
        now = self.clock()
        if now - self._pruned_at >= PRUNE_EVERY:
            self._pruned_at = now
            with contextlib.suppress(DatabaseUnavailable):
                await self.poster.prune()
        return outcomes

    async def _loop(self) -> None:
        while True:
            try:
                await self.run_round()
            except Exception:
                log.exception("A round of daily posts failed; the next one is in %.0f s", self.interval)
            await asyncio.sleep(self.interval)

    async def fetch(self, topic: str) -> list[ItemSnapshot]:
        """The photos for a topic: the first 80 results of its search (one Pexels request, unless cached)."""
        chunk = await self.store.chunk(SearchSpec(Kind.PHOTO, normalise_query(topic)), 1)
        return [ItemSnapshot.from_item(item) for item in chunk.items if isinstance(item, Photo)]

    async def publish(self, schedule: Schedule, photo: ItemSnapshot) -> int:
        """Post the photo in the schedule's channel, credited, in the server's language when it set one."""
        locale: str | None = None
        with contextlib.suppress(DatabaseUnavailable):
            locale = (await self.database.settings.get(schedule.guild_id)).language
        channel = self.bot.get_partial_messageable(schedule.channel_id, guild_id=schedule.guild_id)
        message = await channel.send(
            embed=daily_embed(photo, schedule.topic, locale),
            view=shared_view(photo.to_item()),
            allowed_mentions=NO_MENTIONS,
        )
        return message.id
