"""The database contract, run against SQLite (a temp file) and a real PostgreSQL server."""

from __future__ import annotations

import asyncio
import sqlite3
from datetime import date, timedelta
from typing import Any

import asyncpg
import pytest

from bot.db import (
    MAX_BLOCKED_WORDS,
    MAX_SAVED,
    SCHEMA_VERSION,
    Database,
    DatabaseUnavailable,
    InvalidDatabaseURL,
    ItemSnapshot,
    SavedLimitReached,
    Schedule,
    SchemaTooNew,
    TooManyBlockedWords,
    open_database,
)
from bot.db.schema import MIGRATIONS
from bot.db.url import parse_database_url
from bot.errors import BadInput
from bot.models import Photo, Video, VideoFile
from tests.conftest_db import DatabaseFactory
from tests.conftest_state import FakeClock
from tests.postgres_server import PostgresServer

GUILD = 111_222_333_444_555_666
OTHER_GUILD = 999_888_777_666_555_444
USER = 123_456_789_012_345_678
OTHER_USER = 876_543_210_987_654_321
DAY = date(2025, 3, 14)


async def raw(url: str, sql: str, *args: Any) -> list[tuple[Any, ...]]:
    """Run SQL on the store directly (as another program, or a newer bot, would)."""
    target = parse_database_url(url)
    if target.backend == "sqlite":
        with sqlite3.connect(target.location) as conn:
            return list(conn.execute(sql.replace("$", "?"), args).fetchall())
    conn = await asyncpg.connect(target.location)
    try:
        return [tuple(r) for r in await conn.fetch(sql, *args)]
    finally:
        await conn.close()


def photo(pexels_id: int, **changes: Any) -> ItemSnapshot:
    values: dict[str, Any] = {
        "kind": "photo",
        "pexels_id": pexels_id,
        "title": f"Photo {pexels_id}",
        "page_url": f"https://www.pexels.com/photo/{pexels_id}/",
        "image_url": f"https://images.pexels.com/photos/{pexels_id}/large.jpeg",
        "credit_name": "Ana Lens",
        "credit_url": "https://www.pexels.com/@ana",
        "width": 4000,
        "height": 3000,
    }
    values.update(changes)
    return ItemSnapshot(**values)


def schedule(guild_id: int = GUILD, *, topic: str = "mountains", hour: int = 9, minute: int = 0) -> Schedule:
    return Schedule(guild_id=guild_id, channel_id=42, topic=topic, hour=hour, minute=minute, timezone="Europe/Paris")


# --- schema and migrations -------------------------------------------------------------------------------


async def test_a_new_database_is_migrated_to_the_current_version(db: Database, db_url: str) -> None:
    assert await db.schema_version() == SCHEMA_VERSION
    rows = await raw(db_url, "SELECT version, name FROM schema_migrations ORDER BY version")
    assert rows == [(m.version, m.name) for m in MIGRATIONS]


async def test_migrating_again_changes_nothing(make_db: DatabaseFactory, db_url: str) -> None:
    first = await make_db()
    await first.settings.set_private(GUILD, True)
    await first.close()
    again = await make_db()
    third = await make_db()
    assert await third.schema_version() == SCHEMA_VERSION
    assert len(await raw(db_url, "SELECT version FROM schema_migrations")) == len(MIGRATIONS)
    assert (await again.settings.get(GUILD)).private_by_default is True


async def test_two_processes_migrating_an_empty_database_at_once_both_start(
    make_db: DatabaseFactory, db_url: str
) -> None:
    one, two = await asyncio.gather(make_db(), make_db())
    assert await one.schema_version() == await two.schema_version() == SCHEMA_VERSION
    assert len(await raw(db_url, "SELECT version FROM schema_migrations")) == len(MIGRATIONS)


async def test_a_schema_newer_than_the_code_refuses_to_start(make_db: DatabaseFactory, db_url: str) -> None:
    await make_db()
    await raw(
        db_url,
        "INSERT INTO schema_migrations (version, name, applied_at) VALUES ($1, 'from the future', 0)",
        SCHEMA_VERSION + 1,
    )
    with pytest.raises(SchemaTooNew) as caught:
        await open_database(db_url)
    message = str(caught.value)
    assert "\n" not in message
    assert f"version {SCHEMA_VERSION + 1}" in message
    assert f"({SCHEMA_VERSION})" in message
    assert "DATABASE_URL" in message


async def test_everything_survives_a_restart(make_db: DatabaseFactory) -> None:
    first = await make_db()
    await first.settings.set_private(GUILD, True)
    await first.settings.set_language(GUILD, "fr-FR")
    await first.settings.block_word(GUILD, "Spider")
    await first.saved.save(USER, photo(1))
    await first.schedules.set(schedule(), next_due_at=1_000.0)
    assert await first.schedules.claim(GUILD, DAY, now=1_000.0, next_due_at=2_000.0) is not None
    await first.close()

    second = await make_db()
    config = await second.settings.get(GUILD)
    assert (config.private_by_default, config.language, config.blocked_words) == (True, "fr-FR", ("Spider",))
    assert [e.item for e in await second.saved.page(USER)] == [photo(1)]
    assert await second.schedules.get(GUILD) == schedule()
    assert await second.schedules.next_due(GUILD) == 2_000.0
    assert await second.schedules.claim(GUILD, DAY, now=3_000.0, next_due_at=4_000.0) is None


# --- server settings -------------------------------------------------------------------------------------


async def test_a_server_that_set_nothing_gets_the_defaults(db: Database) -> None:
    config = await db.settings.get(GUILD)
    assert (config.guild_id, config.private_by_default, config.language, config.blocked_words) == (
        GUILD,
        False,
        None,
        (),
    )


async def test_settings_change_at_once_for_every_process(make_db: DatabaseFactory) -> None:
    one, two = await make_db(), await make_db()
    await one.settings.set_private(GUILD, True)
    await one.settings.set_language(GUILD, "pt-BR")
    seen = await two.settings.get(GUILD)
    assert (seen.private_by_default, seen.language) == (True, "pt-BR")
    await two.settings.set_private(GUILD, False)
    await two.settings.set_language(GUILD, None)
    seen = await one.settings.get(GUILD)
    assert (seen.private_by_default, seen.language) == (False, None)
    assert (await one.settings.get(OTHER_GUILD)).private_by_default is False


async def test_blocked_words_ignore_case_and_accents(db: Database) -> None:
    assert await db.settings.block_word(GUILD, "  Café   crème ") is True
    assert await db.settings.block_word(GUILD, "CAFE CREME") is False
    assert await db.settings.block_word(GUILD, "spider") is True
    assert await db.settings.blocked_words(GUILD) == ("Café crème", "spider")
    assert (await db.settings.get(GUILD)).blocked_words == ("Café crème", "spider")
    assert await db.settings.blocked_words(OTHER_GUILD) == ()
    assert await db.settings.unblock_word(GUILD, "cafe Crème") is True
    assert await db.settings.unblock_word(GUILD, "cafe crème") is False
    assert await db.settings.blocked_words(GUILD) == ("spider",)


async def test_a_word_without_letters_is_refused(db: Database) -> None:
    with pytest.raises(BadInput, match="at least one letter"):
        await db.settings.block_word(GUILD, " ?! ")
    with pytest.raises(BadInput, match="at most 50"):
        await db.settings.block_word(GUILD, "x" * 51)
    assert await db.settings.blocked_words(GUILD) == ()


async def test_at_most_50_blocked_words(db: Database) -> None:
    for n in range(MAX_BLOCKED_WORDS):
        assert await db.settings.block_word(GUILD, f"word{n}")
    with pytest.raises(TooManyBlockedWords) as caught:
        await db.settings.block_word(GUILD, "one more")
    assert "50" in caught.value.user_message()
    assert await db.settings.block_word(GUILD, "WORD7") is False  # already there: no error at the limit
    assert len(await db.settings.blocked_words(GUILD)) == MAX_BLOCKED_WORDS
    await db.settings.unblock_word(GUILD, "word0")
    assert await db.settings.block_word(GUILD, "one more") is True


async def test_two_processes_cannot_both_add_the_50th_word(make_db: DatabaseFactory) -> None:
    one, two = await make_db(), await make_db()
    for n in range(MAX_BLOCKED_WORDS - 1):
        await one.settings.block_word(GUILD, f"word{n}")
    results = await asyncio.gather(
        one.settings.block_word(GUILD, "left"), two.settings.block_word(GUILD, "right"), return_exceptions=True
    )
    assert sorted(type(r).__name__ for r in results) == ["TooManyBlockedWords", "bool"]
    assert len(await one.settings.blocked_words(GUILD)) == MAX_BLOCKED_WORDS


# --- saved items -----------------------------------------------------------------------------------------


async def test_saved_items_list_newest_first_with_paging(db: Database, clock: FakeClock) -> None:
    for n in range(1, 8):
        clock.advance(1)
        assert await db.saved.save(USER, photo(n)) is True
    assert await db.saved.count(USER) == 7
    first = await db.saved.page(USER, offset=0, limit=3)
    assert [e.item.pexels_id for e in first] == [7, 6, 5]
    assert [e.item.pexels_id for e in await db.saved.page(USER, offset=3, limit=3)] == [4, 3, 2]
    assert [e.item.pexels_id for e in await db.saved.page(USER, offset=6, limit=3)] == [1]
    assert await db.saved.page(USER, offset=7, limit=3) == []
    assert first[0].saved_at == pytest.approx(clock.now)
    assert await db.saved.count(OTHER_USER) == 0
    with pytest.raises(ValueError):
        await db.saved.page(USER, offset=-1)
    with pytest.raises(ValueError):
        await db.saved.page(USER, limit=0)


async def test_saving_twice_keeps_one_copy_in_its_place(db: Database) -> None:
    await db.saved.save(USER, photo(1))
    await db.saved.save(USER, photo(2))
    assert await db.saved.save(USER, photo(1, title="changed")) is False
    assert [(e.item.pexels_id, e.item.title) for e in await db.saved.page(USER)] == [(2, "Photo 2"), (1, "Photo 1")]
    assert await db.saved.count(USER) == 2


async def test_a_photo_and_a_video_with_the_same_id_are_two_items(db: Database) -> None:
    video = ItemSnapshot.from_item(
        Video(5, "https://www.pexels.com/video/5/", "https://i/5.jpg", 12, "Vi", "https://v", None, 1920, 1080)
    )
    assert await db.saved.save(USER, photo(5))
    assert await db.saved.save(USER, video)
    assert await db.saved.contains(USER, "video", 5) and await db.saved.contains(USER, "photo", 5)
    assert await db.saved.remove(USER, "photo", 5) is True
    assert await db.saved.remove(USER, "photo", 5) is False
    assert [e.item for e in await db.saved.page(USER)] == [video]


async def test_a_saved_item_renders_without_pexels(db: Database) -> None:
    original_photo = Photo(
        7, "https://www.pexels.com/photo/7/", "https://img/7", "Ana", "https://a", 0x336699, "A cat", 10, 20
    )
    original_video = Video(
        8, "https://www.pexels.com/video/8/", "https://img/8", 31, "Bo", "https://b",
        VideoFile("https://videos.pexels.com/8.mp4", 1280, 720), 1920, 1080,
    )  # fmt: skip
    await db.saved.save(USER, ItemSnapshot.from_item(original_photo))
    await db.saved.save(USER, ItemSnapshot.from_item(original_video))
    assert [e.item.to_item() for e in await db.saved.page(USER)] == [original_video, original_photo]


async def test_at_most_500_saved_items(db: Database) -> None:
    for n in range(MAX_SAVED):
        await db.saved.save(USER, photo(n))
    with pytest.raises(SavedLimitReached) as caught:
        await db.saved.save(USER, photo(MAX_SAVED))
    assert "500" in caught.value.user_message()
    assert await db.saved.save(USER, photo(3)) is False  # already saved: fine at the limit
    assert await db.saved.count(USER) == MAX_SAVED
    assert await db.saved.save(OTHER_USER, photo(MAX_SAVED)) is True  # the limit is per user
    await db.saved.remove(USER, "photo", 0)
    assert await db.saved.save(USER, photo(MAX_SAVED)) is True


async def test_two_processes_cannot_both_save_the_500th_item(make_db: DatabaseFactory) -> None:
    one, two = await make_db(), await make_db()
    for n in range(MAX_SAVED - 1):
        await one.saved.save(USER, photo(n))
    results = await asyncio.gather(
        one.saved.save(USER, photo(10_001)), two.saved.save(USER, photo(10_002)), return_exceptions=True
    )
    assert sorted(type(r).__name__ for r in results) == ["SavedLimitReached", "bool"]
    assert await two.saved.count(USER) == MAX_SAVED


async def test_clear_deletes_only_that_users_items(db: Database) -> None:
    for n in range(3):
        await db.saved.save(USER, photo(n))
    await db.saved.save(OTHER_USER, photo(1))
    assert await db.saved.clear(USER) == 3
    assert await db.saved.count(USER) == 0
    assert await db.saved.page(USER) == []
    assert await db.saved.clear(USER) == 0
    assert await db.saved.count(OTHER_USER) == 1


async def test_an_unreadable_saved_row_is_skipped(db: Database, db_url: str) -> None:
    await db.saved.save(USER, photo(1))
    await raw(
        db_url,
        "INSERT INTO saved_items (user_id, kind, pexels_id, saved_at, item) VALUES ($1, 'photo', 2, 0, '{\"v\": 1}')",
        USER,
    )
    assert [e.item.pexels_id for e in await db.saved.page(USER)] == [1]


# --- daily schedules -------------------------------------------------------------------------------------


async def test_a_schedule_is_set_replaced_and_removed(db: Database) -> None:
    assert await db.schedules.get(GUILD) is None
    await db.schedules.set(schedule(), next_due_at=500.0)
    assert await db.schedules.get(GUILD) == schedule()
    replaced = Schedule(GUILD, 77, "city at night", 21, 30, "America/New_York")
    await db.schedules.set(replaced, next_due_at=900.0)
    assert await db.schedules.get(GUILD) == replaced
    assert replaced.hhmm == "21:30"
    assert await db.schedules.next_due(GUILD) == 900.0
    assert await db.schedules.remove(GUILD) is True
    assert await db.schedules.remove(GUILD) is False
    assert await db.schedules.get(GUILD) is None
    assert await db.schedules.next_due(GUILD) is None
    with pytest.raises(ValueError):
        await db.schedules.set(schedule(hour=24), next_due_at=1.0)


async def test_due_lists_schedules_whose_time_has_come(db: Database) -> None:
    await db.schedules.set(schedule(1), next_due_at=300.0)
    await db.schedules.set(schedule(2), next_due_at=100.0)
    await db.schedules.set(schedule(3), next_due_at=200.0)
    await db.schedules.set(schedule(4), next_due_at=400.0)
    assert [s.guild_id for s in await db.schedules.due(300.0)] == [2, 3, 1]
    assert [s.guild_id for s in await db.schedules.due(300.0, limit=2)] == [2, 3]
    assert await db.schedules.due(99.0) == []


async def test_a_day_is_claimed_once(db: Database) -> None:
    await db.schedules.set(schedule(), next_due_at=100.0)
    assert await db.schedules.claim(GUILD, DAY, now=100.0, next_due_at=86_500.0) == schedule()
    assert await db.schedules.next_due(GUILD) == 86_500.0
    assert await db.schedules.claim(GUILD, DAY, now=101.0, next_due_at=86_500.0) is None
    assert await db.schedules.claim(GUILD, DAY + timedelta(days=1), now=86_500.0, next_due_at=172_900.0) is not None
    record = await db.schedules.last_post(GUILD)
    assert record is not None and (record.local_date, record.status) == (DAY + timedelta(days=1), "claimed")


async def test_two_processes_racing_for_a_day_exactly_one_wins(make_db: DatabaseFactory) -> None:
    one, two = await make_db(), await make_db()
    for guild in range(1, 11):
        await one.schedules.set(schedule(guild), next_due_at=100.0)
    for day in range(5):
        local = DAY + timedelta(days=day)
        claims = [
            store.schedules.claim(guild, local, now=100.0 + day, next_due_at=200.0 + day)
            for guild in range(1, 11)
            for store in (one, two, one)
        ]
        won = [r for r in await asyncio.gather(*claims) if r is not None]
        assert sorted(s.guild_id for s in won) == list(range(1, 11))


async def test_claiming_a_removed_schedule_gets_nothing(db: Database) -> None:
    await db.schedules.set(schedule(), next_due_at=100.0)
    await db.schedules.remove(GUILD)
    assert await db.schedules.claim(GUILD, DAY, now=100.0, next_due_at=200.0) is None
    assert await db.schedules.last_post(GUILD) is None


async def test_claim_does_not_undo_a_newer_set(db: Database) -> None:
    await db.schedules.set(schedule(), next_due_at=5_000.0)  # set while the round was running
    assert await db.schedules.claim(GUILD, DAY, now=100.0, next_due_at=200.0) is not None
    assert await db.schedules.next_due(GUILD) == 5_000.0


async def test_postpone_moves_only_a_due_time_that_has_come(db: Database) -> None:
    await db.schedules.set(schedule(), next_due_at=100.0)
    await db.schedules.postpone(GUILD, 700.0, if_due_by=150.0)
    assert await db.schedules.next_due(GUILD) == 700.0
    await db.schedules.postpone(GUILD, 900.0, if_due_by=150.0)
    assert await db.schedules.next_due(GUILD) == 700.0


async def test_a_released_day_can_be_claimed_again(make_db: DatabaseFactory) -> None:
    one, two = await make_db(), await make_db()
    await one.schedules.set(schedule(), next_due_at=100.0)
    assert await one.schedules.claim(GUILD, DAY, now=100.0, next_due_at=86_500.0) is not None
    await one.schedules.release(GUILD, DAY, retry_at=400.0)
    assert await two.schedules.next_due(GUILD) == 400.0
    assert await two.schedules.claim(GUILD, DAY, now=400.0, next_due_at=86_500.0) is not None
    await two.schedules.finish(GUILD, DAY, "posted", photo_id=9, message_id=1234)
    await one.schedules.release(GUILD, DAY, retry_at=500.0)  # a posted day is never given back
    assert await one.schedules.claim(GUILD, DAY, now=500.0, next_due_at=86_500.0) is None
    record = await one.schedules.last_post(GUILD)
    assert record is not None
    assert (record.status, record.photo_id, record.message_id, record.claimed_at) == ("posted", 9, 1234, 400.0)


async def test_history_holds_posted_photos_until_pruned(db: Database) -> None:
    await db.schedules.set(schedule(), next_due_at=0.0)
    for day, (photo_id, status) in enumerate([(1, "posted"), (2, "posted"), (None, "empty"), (1, "posted")]):
        local = DAY + timedelta(days=day)
        assert await db.schedules.claim(GUILD, local, now=day * 1000.0, next_due_at=0.0)
        await db.schedules.finish(GUILD, local, status, photo_id=photo_id)
    assert await db.schedules.history(GUILD, since=0.0) == {1: 3000.0, 2: 1000.0}
    assert await db.schedules.history(GUILD, since=1500.0) == {1: 3000.0}
    assert await db.schedules.history(OTHER_GUILD, since=0.0) == {}
    await db.schedules.remove(GUILD)  # turning the post off keeps the history: no repeats after turning it on
    assert await db.schedules.history(GUILD, since=0.0) == {1: 3000.0, 2: 1000.0}
    await db.schedules.prune(history_before=2500.0, topics_before="2000-01-01")
    assert await db.schedules.history(GUILD, since=0.0) == {1: 3000.0}


async def test_one_process_fetches_a_topic_and_every_server_shares_it(make_db: DatabaseFactory) -> None:
    one, two = await make_db(), await make_db()
    assert await one.schedules.topic_results("mountains", "2025-03-14") is None
    leases = await asyncio.gather(
        one.schedules.lease_topic("mountains", "2025-03-14", now=100.0, until=160.0),
        two.schedules.lease_topic("mountains", "2025-03-14", now=100.0, until=160.0),
    )
    assert sorted(leases) == [False, True]
    assert await two.schedules.lease_topic("mountains", "2025-03-14", now=159.0, until=219.0) is False
    assert await two.schedules.lease_topic("mountains", "2025-03-15", now=100.0, until=160.0) is True
    assert await two.schedules.lease_topic("mountains", "2025-03-14", now=161.0, until=221.0) is True  # expired
    await two.schedules.store_topic_results("mountains", "2025-03-14", [photo(1), photo(2)], 170.0)
    await one.schedules.store_topic_results("mountains", "2025-03-14", [photo(3)], 171.0)  # the first copy wins
    assert await one.schedules.topic_results("mountains", "2025-03-14") == [photo(1), photo(2)]
    assert await one.schedules.lease_topic("mountains", "2025-03-14", now=500.0, until=560.0) is False
    await one.schedules.store_topic_results("lakes", "2025-03-14", [], 171.0)
    assert await one.schedules.topic_results("lakes", "2025-03-14") == []
    await one.schedules.prune(history_before=0.0, topics_before="2025-03-15")
    assert await one.schedules.topic_results("mountains", "2025-03-14") is None
    assert await one.schedules.lease_topic("mountains", "2025-03-15", now=100.0, until=160.0) is False


# --- a database that is down -----------------------------------------------------------------------------


async def test_a_locked_sqlite_file_is_unavailable_not_a_crash(tmp_path: Any, clock: FakeClock) -> None:
    url = f"sqlite:///{tmp_path / 'locked.sqlite3'}"
    database = await open_database(url, clock=clock, retry_interval=0.0, connect_timeout=0.2)
    try:
        blocker = sqlite3.connect(tmp_path / "locked.sqlite3", isolation_level=None)
        blocker.execute("BEGIN EXCLUSIVE")
        with pytest.raises(DatabaseUnavailable) as caught:
            await database.settings.set_private(GUILD, True)
        assert "locked" in str(caught.value)
        assert "unavailable" in caught.value.user_message()
        blocker.execute("ROLLBACK")
        blocker.close()
        await database.settings.set_private(GUILD, True)
        assert (await database.settings.get(GUILD)).private_by_default is True
    finally:
        await database.close()


async def test_an_unopenable_sqlite_path_starts_and_refuses_politely(tmp_path: Any) -> None:
    (tmp_path / "a_directory").mkdir()
    database = await open_database(f"sqlite:///{tmp_path / 'a_directory'}", retry_interval=0.0)
    try:
        assert await database.ping() is False
        with pytest.raises(DatabaseUnavailable, match="unable to open"):
            await database.saved.count(USER)
    finally:
        await database.close()


def _never_shows(text: str, server: PostgresServer) -> None:
    assert server.password not in text
    assert PostgresServer.user not in text


@pytest.mark.parametrize("db_backend", ["postgresql"], indirect=True)
async def test_postgres_stopping_mid_test_is_unavailable_then_recovers(
    db: Database, postgres_server: PostgresServer, caplog: pytest.LogCaptureFixture
) -> None:
    await db.saved.save(USER, photo(1))
    postgres_server.stop()
    try:
        for operation in (
            db.saved.count(USER),
            db.saved.save(USER, photo(2)),
            db.settings.get(GUILD),
            db.schedules.claim(GUILD, DAY, now=1.0, next_due_at=2.0),
        ):
            with pytest.raises(DatabaseUnavailable) as caught:
                await operation
            _never_shows(str(caught.value), postgres_server)
        assert await db.ping() is False
    finally:
        postgres_server.start()
    assert await db.saved.count(USER) == 1
    assert await db.saved.save(USER, photo(2)) is True
    _never_shows(caplog.text, postgres_server)
    assert "unavailable" in caplog.text


@pytest.mark.parametrize("db_backend", ["postgresql"], indirect=True)
async def test_postgres_down_at_start_is_migrated_when_it_comes_back(
    db_url: str, postgres_server: PostgresServer, make_db: DatabaseFactory, caplog: pytest.LogCaptureFixture
) -> None:
    postgres_server.stop()
    try:
        database = await make_db(connect_timeout=1.0)
        assert database.url.startswith("postgresql://***@127.0.0.1:")
        with pytest.raises(DatabaseUnavailable):
            await database.settings.get(GUILD)
    finally:
        postgres_server.start()
    await database.settings.set_private(GUILD, True)
    assert await database.schema_version() == SCHEMA_VERSION
    assert (await database.settings.get(GUILD)).private_by_default is True
    assert "starting without it" in caplog.text
    _never_shows(caplog.text, postgres_server)


@pytest.mark.parametrize("db_backend", ["postgresql"], indirect=True)
async def test_a_newer_schema_found_after_a_late_start_refuses_every_operation(
    db_url: str, postgres_server: PostgresServer, make_db: DatabaseFactory, caplog: pytest.LogCaptureFixture
) -> None:
    await make_db()
    await raw(db_url, "INSERT INTO schema_migrations (version, name, applied_at) VALUES ($1, 'future', 0)", 99)
    postgres_server.stop()
    try:
        late = await make_db(connect_timeout=1.0)  # started while the server was down
    finally:
        postgres_server.start()
    for _ in range(2):
        with pytest.raises(DatabaseUnavailable, match="version 99, newer than this bot knows"):
            await late.settings.get(GUILD)
    errors = [r.getMessage() for r in caplog.records if r.levelname == "ERROR"]
    assert len(errors) == 1 and "version 99, newer" in errors[0]  # said once, not at every operation


@pytest.mark.parametrize("db_backend", ["postgresql"], indirect=True)
async def test_a_wrong_password_is_unavailable_and_never_shown(
    db_url: str, postgres_server: PostgresServer, make_db: DatabaseFactory
) -> None:
    wrong = db_url.replace(postgres_server.password, "not-the-Secret-1")
    database = await make_db(wrong)
    with pytest.raises(DatabaseUnavailable) as caught:
        await database.settings.get(GUILD)
    assert "InvalidPasswordError" in str(caught.value)
    assert "not-the-Secret-1" not in str(caught.value)
    assert "not-the-Secret-1" not in repr(database)


# --- DATABASE_URL ----------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("url", "backend", "location"),
    [
        ("sqlite:///pexbot.sqlite3", "sqlite", "pexbot.sqlite3"),
        ("sqlite:///data/bot.db", "sqlite", "data/bot.db"),
        ("sqlite:////var/lib/pexbot/bot.db", "sqlite", "/var/lib/pexbot/bot.db"),
        ("postgres://u:p@db.example.com:5432/d1", "postgresql", "postgresql://u:p@db.example.com:5432/d1"),
        ("postgresql://u:p@db.example.com/d1?sslmode=require", "postgresql", "postgresql://u:p@db.example.com/d1?sslmode=require"),
    ],
)  # fmt: skip
def test_database_urls_are_understood(url: str, backend: str, location: str) -> None:
    target = parse_database_url(url)
    assert (target.backend, target.location) == (backend, location)


def test_a_url_never_shows_its_password() -> None:
    target = parse_database_url("postgres://heroku_user:s3cr%40t-pw@ec2.example.com:5432/dbname")
    assert target.redacted == "postgres://***@ec2.example.com:5432/dbname"
    assert "s3cr" not in repr(target)
    assert target.redact("FATAL for s3cr@t-pw and s3cr%40t-pw") == "FATAL for *** and ***"
    query = parse_database_url("postgresql://db.example.com/d?user=bob&password=hunter2&sslmode=require")
    assert query.redacted == "postgresql://db.example.com/d?user=***&password=***&sslmode=require"
    assert query.redact("hunter2") == "***"


@pytest.mark.parametrize(
    ("url", "message"),
    [
        ("pexbot.sqlite3", "must look like"),
        ("mysql://u:pw@h/d", "unsupported scheme 'mysql'"),
        ("sqlite://host/file.db", "has no host"),
        ("sqlite:///", "names no file"),
        ("sqlite:///x.db?mode=ro", "takes no options"),
        ("postgresql://u:hunter2@/d", "names no host"),
    ],
)
def test_a_bad_url_is_refused_with_a_clear_message(url: str, message: str) -> None:
    with pytest.raises(InvalidDatabaseURL, match=message) as caught:
        parse_database_url(url)
    assert "hunter2" not in str(caught.value)
