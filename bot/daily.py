"""A photo of the day: when each server's post is due, which photo it gets, and posting it exactly once.

Times are wall-clock HH:MM in an IANA time zone (`zoneinfo`, https://docs.python.org/3/library/zoneinfo.html).
On the night clocks spring forward a time inside the gap (02:30 where 02:00 jumps to 03:00) is posted
at the same distance past the jump (03:30); on the night they fall back, a repeated time is posted at
its first occurrence. Either way a server gets one post per local day: each day is claimed in the
database before anything is fetched or posted (`Schedules.claim`), so several processes and restarts
can never post it twice. A post missed while the bot was down is made when it comes back the same
local day; a day that ended before it came back is skipped.
"""

from __future__ import annotations

import asyncio
import functools
import logging
import random
import re
import unicodedata
import zoneinfo
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Literal

from bot.db.base import WALL_CLOCK, Clock, DatabaseUnavailable, ItemSnapshot, Schedule, Schedules
from bot.errors import BadInput

log = logging.getLogger(__name__)

HISTORY_DAYS = 30
"""A server sees no photo twice within this many days (unless its topic has too few)."""

RETRY_AFTER = 300.0
"""Seconds before a day whose photos could not be fetched is tried again."""

TOPIC_LEASE = 60.0
"""Seconds one process may take to fetch a topic's photos before another may try."""

LEASE_WAIT = 20.0
"""Seconds to wait for another process that is fetching the same topic."""

MAX_TOPIC_LENGTH = 100
CONCURRENCY = 5
"""Posts made at the same time by one process."""

_TIME = re.compile(r"\s*(\d{1,2})\s*[:h.]\s*(\d{2})\s*")

PhotoSource = Callable[[str], Awaitable[Sequence[ItemSnapshot]]]
"""Fetch the photos for a topic (one Pexels search); raise (e.g. `PexelsError`) when that fails."""

Publisher = Callable[[Schedule, ItemSnapshot], Awaitable[int | None]]
"""Post the photo to the schedule's channel; return the message id. Raising means it was not posted."""


def parse_time(text: str) -> tuple[int, int]:
    """HH:MM (24-hour; 9:05 and 09h05 work too) as (hour, minute); raises BadInput otherwise."""
    match = _TIME.fullmatch(text)
    if match:
        hour, minute = int(match[1]), int(match[2])
        if hour <= 23 and minute <= 59:
            return hour, minute
    raise BadInput("Give the time as HH:MM on a 24-hour clock, like `08:30` or `18:00`.")


@functools.cache
def _zone_names() -> dict[str, str]:
    names = {name.casefold(): name for name in zoneinfo.available_timezones()}
    names["utc"] = "UTC"
    return names


def timezone_names() -> list[str]:
    """Every IANA time zone this machine knows, sorted."""
    return sorted(set(_zone_names().values()))


def parse_timezone(name: str) -> str:
    """The canonical IANA name for `name` (any case); raises BadInput for an unknown zone."""
    found = _zone_names().get(name.strip().casefold())
    if found is None:
        raise BadInput(f"`{name.strip()[:60]}` is not a time zone name; pick one like `Europe/Paris` or `UTC`.")
    return found


def match_timezones(prefix: str, limit: int = 25) -> list[str]:
    """Time zone names containing `prefix` (any case), those starting with it first: for autocomplete."""
    needle = prefix.strip().casefold().replace(" ", "_")
    names = timezone_names()
    if not needle:
        return names[:limit]
    starts = [n for n in names if n.casefold().startswith(needle)]
    inside = [n for n in names if needle in n.casefold() and n not in starts]
    return (starts + inside)[:limit]


def _zone(schedule: Schedule) -> zoneinfo.ZoneInfo:
    try:
        return zoneinfo.ZoneInfo(schedule.timezone)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        log.warning("Schedule of guild %d has unknown time zone %r; using UTC", schedule.guild_id, schedule.timezone)
        return zoneinfo.ZoneInfo("UTC")


def occurrence(schedule: Schedule, day: date) -> float:
    """Epoch seconds of the schedule's time on local `day` (a time skipped by DST moves past the jump)."""
    moment = datetime.combine(day, time(schedule.hour, schedule.minute), tzinfo=_zone(schedule))
    return moment.timestamp()


def local_date(schedule: Schedule, at: float) -> date:
    """The date in the schedule's time zone at epoch seconds `at`."""
    return datetime.fromtimestamp(at, _zone(schedule)).date()


def next_due(schedule: Schedule, after: float) -> float:
    """The first time (epoch seconds) strictly after `after` that the schedule is due."""
    day = local_date(schedule, after)
    for _ in range(4):  # a zone that skipped a whole day (Samoa, 2011) needs a second step
        moment = occurrence(schedule, day)
        if moment > after:
            return moment
        day += timedelta(days=1)
    return after + 86_400.0  # unreachable with real zones; still a sane answer


def clean_topic(topic: str) -> str:
    """The topic as it will be stored and searched; raises BadInput when empty or too long."""
    cleaned = " ".join(topic.split())
    if not cleaned:
        raise BadInput('Give a topic for the daily photo, like `mountains` or "city at night".')
    if len(cleaned) > MAX_TOPIC_LENGTH:
        raise BadInput(f"A daily topic can be at most {MAX_TOPIC_LENGTH} characters long.")
    return cleaned


def topic_key(topic: str) -> str:
    """The form servers share results under: the same words in any case or spacing are one topic."""
    return " ".join(unicodedata.normalize("NFKC", topic).casefold().split())


def pick_photo(
    candidates: Sequence[ItemSnapshot], history: Mapping[int, float], *, guild_id: int, day: date
) -> ItemSnapshot | None:
    """The photo a server gets on `day`: one it has not seen in its history, else the one it saw longest ago.

    The choice among fresh photos is random but repeatable (seeded by server and day), so servers sharing a
    topic do not all post the same photo and a retried day picks the same one.
    """
    photos: list[ItemSnapshot] = []
    seen: set[int] = set()
    for item in candidates:
        if item.kind == "photo" and item.pexels_id not in seen:
            seen.add(item.pexels_id)
            photos.append(item)
    if not photos:
        return None
    fresh = [p for p in photos if p.pexels_id not in history]
    if fresh:
        return random.Random(f"{guild_id}:{day.isoformat()}").choice(fresh)
    return min(photos, key=lambda p: history[p.pexels_id])


OutcomeStatus = Literal["posted", "empty", "failed", "retry", "missed", "taken"]


@dataclass(frozen=True, slots=True)
class Outcome:
    """What one due schedule came to in one round.

    posted: the photo went out. empty: the topic has no photo (recorded; not retried today). failed: the
    post itself failed (recorded; not retried, it may have gone out). retry: the photos could not be
    fetched; the day is given back and tried again later. missed: the day's time is still to come (the
    schedule was due from an earlier day the bot missed). taken: the day was already claimed, here or by
    another process.
    """

    guild_id: int
    status: OutcomeStatus
    local_date: date
    photo_id: int | None = None
    detail: str = ""


class DailyPoster:
    """Makes the posts that are due; the scheduler loop calls `run_once` every minute or so."""

    def __init__(
        self,
        schedules: Schedules,
        *,
        fetch: PhotoSource,
        publish: Publisher,
        clock: Clock = WALL_CLOCK,
        retry_after: float = RETRY_AFTER,
        batch: int = 100,
    ) -> None:
        self.schedules = schedules
        self.fetch = fetch
        self.publish = publish
        self.clock = clock
        self.retry_after = retry_after
        self.batch = batch

    async def run_once(self) -> list[Outcome]:
        """Handle every schedule due now (up to `batch`); returns what happened to each."""
        now = self.clock()
        try:
            due = await self.schedules.due(now, limit=self.batch)
        except DatabaseUnavailable:
            return []  # already logged by the database; the next round tries again
        topic_locks: dict[str, asyncio.Lock] = {}
        slots = asyncio.Semaphore(CONCURRENCY)

        async def one(schedule: Schedule) -> Outcome | None:
            async with slots:
                try:
                    return await self._handle(schedule, now, topic_locks)
                except DatabaseUnavailable:
                    return None

        results = await asyncio.gather(*(one(s) for s in due))
        return [r for r in results if r is not None]

    async def prune(self) -> None:
        """Forget what no longer matters: days older than the history, topic results older than yesterday."""
        now = self.clock()
        yesterday = (datetime.fromtimestamp(now, UTC).date() - timedelta(days=1)).isoformat()
        await self.schedules.prune(history_before=now - (HISTORY_DAYS + 1) * 86_400.0, topics_before=yesterday)

    async def _handle(self, schedule: Schedule, now: float, topic_locks: dict[str, asyncio.Lock]) -> Outcome:
        today = local_date(schedule, now)
        todays_time = occurrence(schedule, today)
        if todays_time > now:
            await self.schedules.postpone(schedule.guild_id, todays_time, if_due_by=now)
            return Outcome(schedule.guild_id, "missed", today)
        claimed = await self.schedules.claim(schedule.guild_id, today, now=now, next_due_at=next_due(schedule, now))
        if claimed is None:
            return Outcome(schedule.guild_id, "taken", today)
        lock = topic_locks.setdefault(topic_key(claimed.topic), asyncio.Lock())
        try:
            async with lock:
                photos = await self._topic_photos(claimed.topic, now)
        except DatabaseUnavailable:
            raise
        except Exception as exc:  # any failure to fetch: nothing was posted, so the day can be retried
            retry_at = max(now + self.retry_after, float(getattr(exc, "retry_at", 0.0) or 0.0))
            await self.schedules.release(claimed.guild_id, today, retry_at=retry_at)
            log.warning(
                "Daily photo for guild %d: could not fetch %r (%s); retrying later",
                claimed.guild_id,
                claimed.topic,
                type(exc).__name__,
            )
            return Outcome(claimed.guild_id, "retry", today, detail=type(exc).__name__)
        if photos is None:
            await self.schedules.release(claimed.guild_id, today, retry_at=now + LEASE_WAIT)
            return Outcome(claimed.guild_id, "retry", today, detail="another process is fetching the topic")
        history = await self.schedules.history(claimed.guild_id, now - HISTORY_DAYS * 86_400.0)
        photo = pick_photo(photos, history, guild_id=claimed.guild_id, day=today)
        if photo is None:
            await self.schedules.finish(claimed.guild_id, today, "empty", detail="no photo for this topic")
            return Outcome(claimed.guild_id, "empty", today)
        try:
            message_id = await self.publish(claimed, photo)
        except Exception as exc:  # it may have gone out: never try this day again
            detail = f"{type(exc).__name__}: {exc}"[:200]
            await self.schedules.finish(claimed.guild_id, today, "failed", photo_id=None, detail=detail)
            log.warning("Daily photo for guild %d could not be posted: %s", claimed.guild_id, detail)
            return Outcome(claimed.guild_id, "failed", today, detail=detail)
        await self.schedules.finish(claimed.guild_id, today, "posted", photo_id=photo.pexels_id, message_id=message_id)
        return Outcome(claimed.guild_id, "posted", today, photo_id=photo.pexels_id)

    async def _topic_photos(self, topic: str, now: float) -> list[ItemSnapshot] | None:
        """The topic's photos for today (UTC), fetched by one process for every server; None: wait for it."""
        key = topic_key(topic)
        day = datetime.fromtimestamp(now, UTC).date().isoformat()
        stored = await self.schedules.topic_results(key, day)
        if stored is not None:
            return stored
        if not await self.schedules.lease_topic(key, day, now=now, until=now + TOPIC_LEASE):
            return None
        photos = list(await self.fetch(topic))
        await self.schedules.store_topic_results(key, day, photos, now)
        stored = await self.schedules.topic_results(key, day)
        return photos if stored is None else stored
