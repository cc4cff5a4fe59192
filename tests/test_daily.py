"""The photo of the day: due times across time zones and DST, the photo picked, and posting exactly once.

The flow tests drive `DailyPoster` with a fake clock over the real store (SQLite and PostgreSQL), with a
fake Pexels search and a fake channel standing in for the two network ends.
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime

import pytest

from bot.daily import (
    HISTORY_DAYS,
    DailyPoster,
    clean_topic,
    local_date,
    match_timezones,
    next_due,
    occurrence,
    parse_time,
    parse_timezone,
    pick_photo,
    topic_key,
)
from bot.db import Database, ItemSnapshot, Schedule
from bot.errors import BadInput, PexelsUnavailable, QuotaExhausted
from tests.conftest_db import DatabaseFactory
from tests.conftest_state import FakeClock

DAY = 86_400.0


def at(text: str) -> float:
    """Epoch seconds of an ISO time in UTC."""
    return datetime.fromisoformat(text).replace(tzinfo=UTC).timestamp()


def photo(pexels_id: int, kind: str = "photo") -> ItemSnapshot:
    return ItemSnapshot(
        kind=kind,  # type: ignore[arg-type]
        pexels_id=pexels_id,
        title=f"Photo {pexels_id}",
        page_url=f"https://www.pexels.com/photo/{pexels_id}/",
        image_url=f"https://images.pexels.com/photos/{pexels_id}/large.jpeg",
        credit_name="Ana Lens",
        credit_url="https://www.pexels.com/@ana",
    )


def sched(guild_id: int = 1, hhmm: str = "09:00", zone: str = "UTC", topic: str = "mountains") -> Schedule:
    hour, minute = parse_time(hhmm)
    return Schedule(guild_id=guild_id, channel_id=guild_id * 10, topic=topic, hour=hour, minute=minute, timezone=zone)


# --- parsing -----------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"), [("09:30", (9, 30)), ("9:05", (9, 5)), (" 18h00 ", (18, 0)), ("0:00", (0, 0))]
)
def test_times_are_read_as_24_hour_clock(text: str, expected: tuple[int, int]) -> None:
    assert parse_time(text) == expected


@pytest.mark.parametrize("text", ["24:00", "9:5", "12:60", "noon", "", "9", "-1:00", "09:00pm"])
def test_a_bad_time_says_how_to_write_one(text: str) -> None:
    with pytest.raises(BadInput, match="HH:MM"):
        parse_time(text)


def test_time_zones_are_iana_names_in_any_case() -> None:
    assert parse_timezone("europe/paris") == "Europe/Paris"
    assert parse_timezone(" UTC ") == "UTC"
    assert parse_timezone("America/Argentina/Buenos_Aires") == "America/Argentina/Buenos_Aires"
    for bad in ("Mars/Olympus_Mons", "../../etc/passwd", "", "Paris"):
        with pytest.raises(BadInput, match="not a time zone"):
            parse_timezone(bad)


def test_time_zone_autocomplete() -> None:
    assert match_timezones("europe/par")[0] == "Europe/Paris"
    assert "Europe/Paris" in match_timezones("paris")
    assert match_timezones("new york")[0] == "America/New_York"
    assert len(match_timezones("")) == 25
    assert len(match_timezones("a", limit=5)) == 5
    assert match_timezones("zzzz") == []


def test_topics_are_cleaned_and_shared_by_meaning() -> None:
    assert clean_topic("  city   at night ") == "city at night"
    assert topic_key("City  AT Night") == topic_key("city at night") == "city at night"
    with pytest.raises(BadInput):
        clean_topic("   ")
    with pytest.raises(BadInput, match="100"):
        clean_topic("x" * 101)


# --- due times -------------------------------------------------------------------------------------------


def test_next_due_is_the_next_wall_clock_time_in_the_zone() -> None:
    utc = sched(hhmm="09:00")
    assert next_due(utc, at("2025-06-01T08:00:00")) == at("2025-06-01T09:00:00")
    assert next_due(utc, at("2025-06-01T09:00:00")) == at("2025-06-02T09:00:00")
    paris = sched(hhmm="09:00", zone="Europe/Paris")  # UTC+2 in summer, UTC+1 in winter
    assert next_due(paris, at("2025-06-01T06:00:00")) == at("2025-06-01T07:00:00")
    assert next_due(paris, at("2025-12-01T07:30:00")) == at("2025-12-01T08:00:00")
    auckland = sched(hhmm="07:00", zone="Pacific/Auckland")  # already tomorrow there
    assert local_date(auckland, at("2025-06-01T20:00:00")) == date(2025, 6, 2)
    assert next_due(auckland, at("2025-06-01T18:00:00")) == at("2025-06-01T19:00:00")


def test_a_time_skipped_when_clocks_spring_forward_is_posted_after_the_jump() -> None:
    new_york = sched(hhmm="02:30", zone="America/New_York")  # 2024-03-10: 02:00 EST jumps to 03:00 EDT
    due = next_due(new_york, at("2024-03-10T00:00:00"))
    assert due == at("2024-03-10T07:30:00")  # 03:30 EDT
    assert local_date(new_york, due) == date(2024, 3, 10)
    assert next_due(new_york, due) == at("2024-03-11T06:30:00")  # 02:30 EDT


def test_a_time_repeated_when_clocks_fall_back_is_due_once() -> None:
    new_york = sched(hhmm="01:30", zone="America/New_York")  # 2024-11-03: 01:00-02:00 happens twice
    due = next_due(new_york, at("2024-11-03T00:00:00"))
    assert due == at("2024-11-03T05:30:00")  # the first 01:30 (EDT)
    assert next_due(new_york, due) == at("2024-11-04T06:30:00")  # not the second 01:30, an hour later
    assert occurrence(new_york, date(2024, 11, 4)) == at("2024-11-04T06:30:00")


# --- which photo -----------------------------------------------------------------------------------------


def test_a_photo_from_the_last_30_days_is_not_picked_again() -> None:
    photos = [photo(n) for n in range(1, 6)]
    history = {1: 10.0, 2: 20.0, 4: 30.0}
    for day in range(1, 20):
        picked = pick_photo(photos, history, guild_id=7, day=date(2025, 1, day))
        assert picked is not None and picked.pexels_id in (3, 5)


def test_the_pick_is_repeatable_but_differs_between_servers_and_days() -> None:
    photos = [photo(n) for n in range(1, 81)]
    first = pick_photo(photos, {}, guild_id=7, day=date(2025, 1, 1))
    assert first == pick_photo(photos, {}, guild_id=7, day=date(2025, 1, 1))
    by_guild = {pick_photo(photos, {}, guild_id=g, day=date(2025, 1, 1)) for g in range(20)}
    by_day = {pick_photo(photos, {}, guild_id=7, day=date(2025, 1, d)) for d in range(1, 21)}
    assert len(by_guild) > 5 and len(by_day) > 5


def test_when_every_photo_was_seen_the_oldest_comes_back() -> None:
    photos = [photo(1), photo(2), photo(3)]
    picked = pick_photo(photos, {1: 300.0, 2: 100.0, 3: 200.0}, guild_id=1, day=date(2025, 1, 1))
    assert picked == photo(2)


def test_videos_and_duplicates_are_never_picked() -> None:
    assert pick_photo([photo(1, "video")], {}, guild_id=1, day=date(2025, 1, 1)) is None
    assert pick_photo([], {}, guild_id=1, day=date(2025, 1, 1)) is None
    assert pick_photo([photo(2, "video"), photo(3), photo(3)], {}, guild_id=1, day=date(2025, 1, 1)) == photo(3)


# --- posting exactly once --------------------------------------------------------------------------------


@dataclass
class FakePexels:
    """Answers a topic search with `photos` (or raises the next queued error); counts requests."""

    photos: list[ItemSnapshot] = field(default_factory=lambda: [photo(n) for n in range(1, 41)])
    errors: list[Exception] = field(default_factory=list)
    requests: list[str] = field(default_factory=list)

    async def __call__(self, topic: str) -> Sequence[ItemSnapshot]:
        self.requests.append(topic)
        await asyncio.sleep(0)
        if self.errors:
            raise self.errors.pop(0)
        return self.photos


@dataclass
class FakeChannel:
    """Records every post (guild, channel, photo id); raises the next queued error instead, if any."""

    posts: list[tuple[int, int, int]] = field(default_factory=list)
    errors: list[BaseException] = field(default_factory=list)
    hang: asyncio.Event | None = None

    async def __call__(self, schedule: Schedule, item: ItemSnapshot) -> int:
        if self.hang is not None:
            await self.hang.wait()
        if self.errors:
            raise self.errors.pop(0)
        self.posts.append((schedule.guild_id, schedule.channel_id, item.pexels_id))
        return 1000 + len(self.posts)


async def add(database: Database, schedule: Schedule, now: float) -> None:
    """What `/daily set` does: store the schedule, due at its next time."""
    await database.schedules.set(schedule, next_due_at=next_due(schedule, now))


def poster(database: Database, clock: FakeClock, pexels: FakePexels, channel: FakeChannel) -> DailyPoster:
    return DailyPoster(database.schedules, fetch=pexels, publish=channel, clock=clock)


async def test_posts_at_the_time_once_a_day_with_a_new_photo(db: Database, clock: FakeClock) -> None:
    pexels, channel = FakePexels(), FakeChannel()
    clock.now = at("2025-06-01T08:00:00")
    await add(db, sched(), clock.now)
    daily = poster(db, clock, pexels, channel)
    clock.now = at("2025-06-01T08:59:59")
    assert await daily.run_once() == []
    clock.now = at("2025-06-01T09:00:00")
    [outcome] = await daily.run_once()
    assert (outcome.status, outcome.local_date) == ("posted", date(2025, 6, 1))
    assert channel.posts == [(1, 10, outcome.photo_id)]
    clock.now = at("2025-06-01T09:01:00")
    assert await daily.run_once() == []
    for day in range(2, HISTORY_DAYS + 1):
        clock.now = at(f"2025-06-{day:02d}T09:00:30")
        assert [o.status for o in await daily.run_once()] == ["posted"]
    posted = [p[2] for p in channel.posts]
    assert len(posted) == HISTORY_DAYS and len(set(posted)) == HISTORY_DAYS  # no repeat within 30 days
    assert len(pexels.requests) == HISTORY_DAYS  # one search a day
    record = await db.schedules.last_post(1)
    assert record is not None and (record.status, record.photo_id) == ("posted", posted[-1])
    assert record.message_id == 1000 + HISTORY_DAYS


async def test_servers_with_the_same_topic_share_one_search_a_day(db: Database, clock: FakeClock) -> None:
    pexels, channel = FakePexels(), FakeChannel()
    clock.now = at("2025-06-01T00:00:00")
    for guild, zone in [(1, "UTC"), (2, "UTC"), (3, "Europe/Paris"), (4, "UTC")]:
        topic = "Mountains" if guild != 4 else "lakes"
        await add(db, sched(guild, "09:00", zone, topic=topic), clock.now)
    daily = poster(db, clock, pexels, channel)
    clock.now = at("2025-06-01T09:00:00")
    assert sorted(o.guild_id for o in await daily.run_once() if o.status == "posted") == [1, 2, 3, 4]
    assert sorted(pexels.requests) == ["Mountains", "lakes"]


async def test_two_processes_post_each_server_once_and_search_once(make_db: DatabaseFactory, clock: FakeClock) -> None:
    one, two = await make_db(), await make_db()
    pexels, channel = FakePexels(), FakeChannel()
    clock.now = at("2025-06-01T00:00:00")
    for guild in range(1, 9):
        await add(one, sched(guild), clock.now)
    first, second = poster(one, clock, pexels, channel), poster(two, clock, pexels, channel)
    for minute in range(3):
        clock.now = at("2025-06-01T09:00:00") + minute * 60
        await asyncio.gather(first.run_once(), second.run_once())
    assert sorted(p[0] for p in channel.posts) == list(range(1, 9))
    assert pexels.requests == ["mountains"]


async def test_a_post_missed_while_down_is_made_later_that_day_and_not_after_a_restart(
    make_db: DatabaseFactory, clock: FakeClock
) -> None:
    pexels, channel = FakePexels(), FakeChannel()
    clock.now = at("2025-06-01T08:00:00")
    before = await make_db()
    await add(before, sched(), clock.now)
    await before.close()  # the bot is down from 08:00 to 15:00
    clock.now = at("2025-06-01T15:00:00")
    after = await make_db()
    assert [o.status for o in await poster(after, clock, pexels, channel).run_once()] == ["posted"]
    await after.close()
    clock.now = at("2025-06-01T15:05:00")
    again = await make_db()
    assert await poster(again, clock, pexels, channel).run_once() == []
    assert len(channel.posts) == 1


async def test_a_day_the_bot_missed_entirely_is_skipped(db: Database, clock: FakeClock) -> None:
    pexels, channel = FakePexels(), FakeChannel()
    clock.now = at("2025-06-01T08:00:00")
    await add(db, sched(), clock.now)
    daily = poster(db, clock, pexels, channel)
    clock.now = at("2025-06-02T08:00:00")  # down all of 1 June
    assert [o.status for o in await daily.run_once()] == ["missed"]
    assert channel.posts == [] and pexels.requests == []
    assert await db.schedules.next_due(1) == at("2025-06-02T09:00:00")
    clock.now = at("2025-06-02T09:00:00")
    [outcome] = await daily.run_once()
    assert (outcome.status, outcome.local_date) == ("posted", date(2025, 6, 2))


async def test_a_schedule_set_after_its_time_starts_the_next_day(db: Database, clock: FakeClock) -> None:
    pexels, channel = FakePexels(), FakeChannel()
    clock.now = at("2025-06-01T10:00:00")
    await add(db, sched(hhmm="09:00"), clock.now)
    daily = poster(db, clock, pexels, channel)
    assert await daily.run_once() == []
    clock.now = at("2025-06-02T09:00:00")
    assert [o.status for o in await daily.run_once()] == ["posted"]


async def test_changing_the_time_after_todays_post_does_not_post_twice(db: Database, clock: FakeClock) -> None:
    pexels, channel = FakePexels(), FakeChannel()
    clock.now = at("2025-06-01T08:00:00")
    await add(db, sched(hhmm="09:00"), clock.now)
    daily = poster(db, clock, pexels, channel)
    clock.now = at("2025-06-01T09:00:00")
    await daily.run_once()
    clock.now = at("2025-06-01T12:00:00")
    await add(db, sched(hhmm="18:00"), clock.now)
    clock.now = at("2025-06-01T18:00:00")
    assert [o.status for o in await daily.run_once()] == ["taken"]
    clock.now = at("2025-06-02T18:00:00")
    assert [o.status for o in await daily.run_once()] == ["posted"]
    assert len(channel.posts) == 2


async def test_pexels_failing_is_retried_later_the_same_day(db: Database, clock: FakeClock) -> None:
    pexels, channel = FakePexels(errors=[PexelsUnavailable("down")]), FakeChannel()
    clock.now = at("2025-06-01T08:00:00")
    await add(db, sched(), clock.now)
    daily = poster(db, clock, pexels, channel)
    clock.now = at("2025-06-01T09:00:00")
    assert [o.status for o in await daily.run_once()] == ["retry"]
    assert await db.schedules.next_due(1) == at("2025-06-01T09:05:00")
    clock.now = at("2025-06-01T09:01:00")
    assert await daily.run_once() == []
    clock.now = at("2025-06-01T09:05:00")  # the lease of the failed fetch has expired by then
    assert [o.status for o in await daily.run_once()] == ["posted"]
    assert len(channel.posts) == 1 and len(pexels.requests) == 2


async def test_a_spent_quota_waits_for_its_reset(db: Database, clock: FakeClock) -> None:
    clock.now = at("2025-06-01T08:00:00")
    reset = at("2025-06-01T11:00:00")
    pexels, channel = FakePexels(errors=[QuotaExhausted(reset, "hour")]), FakeChannel()
    await add(db, sched(), clock.now)
    clock.now = at("2025-06-01T09:00:00")
    assert [o.status for o in await poster(db, clock, pexels, channel).run_once()] == ["retry"]
    assert await db.schedules.next_due(1) == reset


async def test_a_failed_post_is_recorded_and_never_retried(db: Database, clock: FakeClock) -> None:
    pexels, channel = FakePexels(), FakeChannel(errors=[PermissionError("Missing Permissions")])
    clock.now = at("2025-06-01T08:00:00")
    await add(db, sched(), clock.now)
    daily = poster(db, clock, pexels, channel)
    clock.now = at("2025-06-01T09:00:00")
    [outcome] = await daily.run_once()
    assert outcome.status == "failed" and "Missing Permissions" in outcome.detail
    clock.now = at("2025-06-01T09:30:00")
    assert await daily.run_once() == []
    record = await db.schedules.last_post(1)
    assert record is not None and record.status == "failed" and "Missing Permissions" in record.detail
    assert channel.posts == []


async def test_a_topic_without_photos_is_recorded_as_empty(db: Database, clock: FakeClock) -> None:
    pexels, channel = FakePexels(photos=[photo(1, "video")]), FakeChannel()
    clock.now = at("2025-06-01T08:00:00")
    await add(db, sched(), clock.now)
    clock.now = at("2025-06-01T09:00:00")
    assert [o.status for o in await poster(db, clock, pexels, channel).run_once()] == ["empty"]
    record = await db.schedules.last_post(1)
    assert record is not None and record.status == "empty"


async def test_a_crash_between_claim_and_post_never_posts_that_day_twice(
    make_db: DatabaseFactory, clock: FakeClock
) -> None:
    pexels = FakePexels()
    stuck = FakeChannel(hang=asyncio.Event())
    clock.now = at("2025-06-01T08:00:00")
    dying = await make_db()
    await add(dying, sched(), clock.now)
    clock.now = at("2025-06-01T09:00:00")
    task = asyncio.create_task(poster(dying, clock, pexels, stuck).run_once())
    for _ in range(200):  # until it is waiting on the channel: the day is claimed
        if (await dying.schedules.last_post(1)) is not None and pexels.requests:
            break
        await asyncio.sleep(0.01)
    task.cancel()  # the process dies mid-post; whether the message went out is unknown
    with pytest.raises(asyncio.CancelledError):
        await task
    clock.now = at("2025-06-01T09:10:00")
    survivor, channel = await make_db(), FakeChannel()
    assert await poster(survivor, clock, pexels, channel).run_once() == []
    clock.now = at("2025-06-02T09:00:00")
    assert [o.status for o in await poster(survivor, clock, pexels, channel).run_once()] == ["posted"]


async def test_a_database_that_is_down_skips_the_round(make_db: DatabaseFactory, clock: FakeClock) -> None:
    database = await make_db(connect_timeout=0.2)
    clock.now = at("2025-06-01T08:00:00")
    await add(database, sched(), clock.now)
    await database.close()  # every operation now raises DatabaseUnavailable
    clock.now = at("2025-06-01T09:00:00")
    assert await poster(database, clock, FakePexels(), FakeChannel()).run_once() == []


async def test_pruning_keeps_the_history_that_prevents_repeats(db: Database, clock: FakeClock) -> None:
    pexels, channel = FakePexels(photos=[photo(n) for n in range(1, 3)]), FakeChannel()
    clock.now = at("2025-06-01T08:00:00")
    await add(db, sched(), clock.now)
    daily = poster(db, clock, pexels, channel)
    clock.now = at("2025-06-01T09:00:00")
    await daily.run_once()
    clock.now = at("2025-06-02T09:00:00")
    await daily.run_once()
    await daily.prune()
    assert set(await db.schedules.history(1, since=0.0)) == {1, 2}
    assert await db.schedules.topic_results("mountains", "2025-06-02") is not None
    assert await db.schedules.topic_results("mountains", "2025-06-01") is not None  # yesterday's stays
    clock.now = at("2025-07-03T10:00:00")
    await daily.prune()
    assert await db.schedules.history(1, since=0.0) == {}
    assert await db.schedules.topic_results("mountains", "2025-06-02") is None
