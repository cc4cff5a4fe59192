"""The three stores in SQL, shared by both backends; a `Driver` supplies connections and the dialect.

Statements use PostgreSQL's `$1` placeholders; the SQLite driver rewrites them to SQLite's `?1`.
Writes that check a limit first (50 blocked words, 500 saved items) run in a transaction that holds a
per-server or per-user lock, so two processes can never both slip under the limit.
"""

from __future__ import annotations

import logging
import time
import zlib
from collections.abc import AsyncIterator, Callable, Sequence
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from datetime import date
from typing import Any, Protocol

from bot import blocklist
from bot.db.base import (
    MAX_BLOCKED_WORDS,
    MAX_SAVED,
    WALL_CLOCK,
    Clock,
    DailyRecord,
    DatabaseUnavailable,
    GuildConfig,
    GuildSettings,
    ItemSnapshot,
    Kind,
    PostStatus,
    SavedEntry,
    SavedItems,
    SavedLimitReached,
    Schedule,
    Schedules,
    SchemaTooNew,
    TooManyBlockedWords,
    items_from_json,
    items_to_json,
)
from bot.db.schema import MIGRATIONS, MIGRATIONS_TABLE, SCHEMA_VERSION

log = logging.getLogger(__name__)

Row = Sequence[Any]

LOCK_MIGRATIONS = 0
LOCK_BLOCKED_WORDS = 1
LOCK_SAVED = 2
MAX_PAGE = 100
WARN_EVERY = 30.0
"""Seconds between two warnings that the database is unavailable."""


class Conn(Protocol):
    """One connection (inside a transaction, or autocommitting reads)."""

    async def execute(self, sql: str, *args: Any) -> int:
        """Run a statement; return the number of rows it changed."""
        ...

    async def fetch(self, sql: str, *args: Any) -> list[Row]:
        """Run a query; return every row."""
        ...

    async def fetchrow(self, sql: str, *args: Any) -> Row | None:
        """Run a query; return its first row, if any."""
        ...


class Driver(Protocol):
    """What a backend provides: connections, with its failures already turned into `DatabaseUnavailable`."""

    dialect: str

    def transaction(self, lock: tuple[int, int] | None = None) -> AbstractAsyncContextManager[Conn]:
        """A write transaction, committed on success; `lock` (namespace, key) serialises it with others."""
        ...

    def reader(self) -> AbstractAsyncContextManager[Conn]:
        """A connection for reads."""
        ...

    async def close(self) -> None:
        """Release every connection (never raises)."""
        ...


class _FailFast(DatabaseUnavailable):
    """Refused without trying: the database failed less than `retry_interval` ago."""


def lock_key(value: int) -> int:
    """A signed 32-bit key for a 64-bit id (collisions only serialise two unrelated writers)."""
    key = zlib.crc32(str(value).encode())
    return key - (1 << 32) if key >= 1 << 31 else key


async def insert_capped(
    conn: Conn,
    table: str,
    *,
    owner: tuple[str, int],
    key: dict[str, Any],
    values: dict[str, Any],
    limit: int,
    refuse: Callable[[], Exception],
) -> bool:
    """Insert one row unless the owner already has it (False) or has `limit` rows (raise `refuse()`).

    The caller holds the owner's lock, so the count cannot change between the check and the insert.
    `table` and the column names are constants of this module, never user input.
    """
    owner_column, owner_id = owner
    where = " AND ".join(f"{column} = ${n}" for n, column in enumerate([owner_column, *key], 1))
    if await conn.fetchrow(f"SELECT 1 FROM {table} WHERE {where}", owner_id, *key.values()):  # noqa: S608
        return False
    row = await conn.fetchrow(f"SELECT COUNT(*) FROM {table} WHERE {owner_column} = $1", owner_id)  # noqa: S608
    if row is not None and int(row[0]) >= limit:
        raise refuse()
    columns = [owner_column, *key, *values]
    placeholders = ", ".join(f"${n}" for n in range(1, len(columns) + 1))
    await conn.execute(
        f"INSERT INTO {table} ({', '.join(columns)}) VALUES ({placeholders})",  # noqa: S608
        owner_id,
        *key.values(),
        *values.values(),
    )
    return True


class SchemaGate:
    """Migrates the schema forward once, before the first operation, and fails fast while the database is down."""

    def __init__(self, driver: Driver, *, clock: Clock = WALL_CLOCK, retry_interval: float = 1.0) -> None:
        self.driver = driver
        self.clock = clock
        self.retry_interval = retry_interval
        self._version: int | None = None
        self._down_until = 0.0
        self._too_new: SchemaTooNew | None = None
        self._failing = False
        self._warned_at = 0.0

    @property
    def ready(self) -> bool:
        """True once the schema is known to be current."""
        return self._version is not None

    async def migrate(self) -> int:
        """Apply every pending migration; return the version. Raises SchemaTooNew or DatabaseUnavailable."""
        async with self.driver.transaction(lock=(LOCK_MIGRATIONS, 0)) as conn:
            await conn.execute(MIGRATIONS_TABLE.strip())
            row = await conn.fetchrow("SELECT MAX(version) FROM schema_migrations")
            current = int(row[0]) if row and row[0] is not None else 0
            if current > SCHEMA_VERSION:
                self._too_new = SchemaTooNew(current, SCHEMA_VERSION)
                raise self._too_new
            for migration in MIGRATIONS:
                if migration.version <= current:
                    continue
                for statement in migration.statements(self.driver.dialect):
                    await conn.execute(statement)
                await conn.execute(
                    "INSERT INTO schema_migrations (version, name, applied_at) VALUES ($1, $2, $3)",
                    migration.version,
                    migration.name,
                    float(self.clock()),
                )
                log.info("Database schema migrated to version %d (%s)", migration.version, migration.name)
        self._version = SCHEMA_VERSION
        return SCHEMA_VERSION

    async def ensure(self) -> None:
        """Make sure the schema is current; raise DatabaseUnavailable (at once, while it is known down)."""
        if time.monotonic() < self._down_until:
            raise _FailFast("the database did not answer a moment ago; not retrying yet")
        if self._version is not None:
            return
        if self._too_new is not None:
            raise DatabaseUnavailable(str(self._too_new))
        try:
            await self.migrate()
        except SchemaTooNew as exc:
            log.error("%s", exc)
            raise DatabaseUnavailable(str(exc)) from None

    def _down(self, exc: DatabaseUnavailable) -> None:
        self._down_until = time.monotonic() + self.retry_interval
        now = time.monotonic()
        if not self._failing or now - self._warned_at >= WARN_EVERY:
            self._warned_at = now
            log.warning("%s; commands that need the database are refused until it answers", exc)
        self._failing = True

    def _up(self) -> None:
        if self._failing:
            self._failing = False
            log.info("The database answers again")

    def transaction(self, lock: tuple[int, int] | None = None) -> AbstractAsyncContextManager[Conn]:
        """A write transaction on a current schema."""
        return self._guarded(lambda: self.driver.transaction(lock))

    def reader(self) -> AbstractAsyncContextManager[Conn]:
        """A read connection on a current schema."""
        return self._guarded(self.driver.reader)

    @asynccontextmanager
    async def _guarded(self, open_conn: Callable[[], AbstractAsyncContextManager[Conn]]) -> AsyncIterator[Conn]:
        try:
            await self.ensure()
            async with open_conn() as conn:
                yield conn
        except DatabaseUnavailable as exc:
            if not isinstance(exc, _FailFast):
                self._down(exc)
            raise
        self._up()


class SqlGuildSettings:
    """`GuildSettings` in SQL."""

    def __init__(self, gate: SchemaGate) -> None:
        self._gate = gate

    async def get(self, guild_id: int) -> GuildConfig:
        async with self._gate.reader() as conn:
            row = await conn.fetchrow(
                "SELECT private_by_default, language FROM guild_settings WHERE guild_id = $1", guild_id
            )
            words = await conn.fetch("SELECT word FROM blocked_words WHERE guild_id = $1 ORDER BY word_key", guild_id)
        return GuildConfig(
            guild_id=guild_id,
            private_by_default=bool(row[0]) if row else False,
            language=row[1] if row else None,
            blocked_words=tuple(str(w[0]) for w in words),
        )

    async def set_private(self, guild_id: int, value: bool) -> None:
        async with self._gate.transaction() as conn:
            await conn.execute(
                "INSERT INTO guild_settings (guild_id, private_by_default, language, updated_at) "
                "VALUES ($1, $2, NULL, $3) ON CONFLICT (guild_id) DO UPDATE SET "
                "private_by_default = excluded.private_by_default, updated_at = excluded.updated_at",
                guild_id,
                int(bool(value)),
                float(self._gate.clock()),
            )

    async def set_language(self, guild_id: int, language: str | None) -> None:
        if language is not None and not (0 < len(language) <= 16):
            raise ValueError("language must be a short locale code such as fr-FR, or None")
        async with self._gate.transaction() as conn:
            await conn.execute(
                "INSERT INTO guild_settings (guild_id, private_by_default, language, updated_at) "
                "VALUES ($1, 0, $2, $3) ON CONFLICT (guild_id) DO UPDATE SET "
                "language = excluded.language, updated_at = excluded.updated_at",
                guild_id,
                language,
                float(self._gate.clock()),
            )

    async def block_word(self, guild_id: int, word: str) -> bool:
        shown = blocklist.clean_word(word)
        async with self._gate.transaction(lock=(LOCK_BLOCKED_WORDS, lock_key(guild_id))) as conn:
            return await insert_capped(
                conn,
                "blocked_words",
                owner=("guild_id", guild_id),
                key={"word_key": blocklist.word_key(shown)},
                values={"word": shown, "added_at": float(self._gate.clock())},
                limit=MAX_BLOCKED_WORDS,
                refuse=TooManyBlockedWords,
            )

    async def unblock_word(self, guild_id: int, word: str) -> bool:
        key = blocklist.word_key(word)
        async with self._gate.transaction() as conn:
            removed = await conn.execute(
                "DELETE FROM blocked_words WHERE guild_id = $1 AND word_key = $2", guild_id, key
            )
        return removed > 0

    async def blocked_words(self, guild_id: int) -> tuple[str, ...]:
        async with self._gate.reader() as conn:
            rows = await conn.fetch("SELECT word FROM blocked_words WHERE guild_id = $1 ORDER BY word_key", guild_id)
        return tuple(str(r[0]) for r in rows)


_ONE_ITEM = "user_id = $1 AND kind = $2 AND pexels_id = $3"


class SqlSavedItems:
    """`SavedItems` in SQL."""

    def __init__(self, gate: SchemaGate) -> None:
        self._gate = gate

    async def save(self, user_id: int, item: ItemSnapshot) -> bool:
        async with self._gate.transaction(lock=(LOCK_SAVED, lock_key(user_id))) as conn:
            return await insert_capped(
                conn,
                "saved_items",
                owner=("user_id", user_id),
                key={"kind": item.kind, "pexels_id": item.pexels_id},
                values={"saved_at": float(self._gate.clock()), "item": item.to_json()},
                limit=MAX_SAVED,
                refuse=SavedLimitReached,
            )

    async def page(self, user_id: int, offset: int = 0, limit: int = 10) -> list[SavedEntry]:
        if offset < 0 or not 1 <= limit <= MAX_PAGE:
            raise ValueError(f"offset must be >= 0 and limit between 1 and {MAX_PAGE}")
        async with self._gate.reader() as conn:
            rows = await conn.fetch(
                "SELECT item, saved_at, id FROM saved_items WHERE user_id = $1 ORDER BY id DESC LIMIT $2 OFFSET $3",
                user_id,
                limit,
                offset,
            )
        entries: list[SavedEntry] = []
        for text, saved_at, row_id in rows:
            try:
                entries.append(SavedEntry(ItemSnapshot.from_json(text), float(saved_at)))
            except ValueError as exc:
                log.warning("Skipping unreadable saved item %s: %s", row_id, exc)
        return entries

    async def count(self, user_id: int) -> int:
        async with self._gate.reader() as conn:
            row = await conn.fetchrow("SELECT COUNT(*) FROM saved_items WHERE user_id = $1", user_id)
        return int(row[0]) if row else 0

    async def contains(self, user_id: int, kind: Kind, pexels_id: int) -> bool:
        async with self._gate.reader() as conn:
            row = await conn.fetchrow(f"SELECT 1 FROM saved_items WHERE {_ONE_ITEM}", user_id, kind, pexels_id)  # noqa: S608
        return row is not None

    async def remove(self, user_id: int, kind: Kind, pexels_id: int) -> bool:
        async with self._gate.transaction() as conn:
            removed = await conn.execute(f"DELETE FROM saved_items WHERE {_ONE_ITEM}", user_id, kind, pexels_id)  # noqa: S608
        return removed > 0

    async def clear(self, user_id: int) -> int:
        async with self._gate.transaction() as conn:
            return await conn.execute("DELETE FROM saved_items WHERE user_id = $1", user_id)


_SCHEDULE_COLUMNS = "guild_id, channel_id, topic, hour, minute, timezone"


def _schedule(row: Row) -> Schedule:
    return Schedule(
        guild_id=int(row[0]),
        channel_id=int(row[1]),
        topic=str(row[2]),
        hour=int(row[3]),
        minute=int(row[4]),
        timezone=str(row[5]),
    )


class SqlSchedules:
    """`Schedules` in SQL."""

    def __init__(self, gate: SchemaGate) -> None:
        self._gate = gate

    async def set(self, schedule: Schedule, next_due_at: float) -> None:
        if not (0 <= schedule.hour <= 23 and 0 <= schedule.minute <= 59):
            raise ValueError("hour must be 0-23 and minute 0-59")
        async with self._gate.transaction() as conn:
            await conn.execute(
                f"INSERT INTO daily_schedules ({_SCHEDULE_COLUMNS}, next_due_at, updated_at) "  # noqa: S608
                "VALUES ($1, $2, $3, $4, $5, $6, $7, $8) ON CONFLICT (guild_id) DO UPDATE SET "
                "channel_id = excluded.channel_id, topic = excluded.topic, hour = excluded.hour, "
                "minute = excluded.minute, timezone = excluded.timezone, next_due_at = excluded.next_due_at, "
                "updated_at = excluded.updated_at",
                schedule.guild_id,
                schedule.channel_id,
                schedule.topic,
                schedule.hour,
                schedule.minute,
                schedule.timezone,
                float(next_due_at),
                float(self._gate.clock()),
            )

    async def get(self, guild_id: int) -> Schedule | None:
        async with self._gate.reader() as conn:
            row = await conn.fetchrow(
                f"SELECT {_SCHEDULE_COLUMNS} FROM daily_schedules WHERE guild_id = $1",  # noqa: S608
                guild_id,
            )
        return _schedule(row) if row else None

    async def next_due(self, guild_id: int) -> float | None:
        async with self._gate.reader() as conn:
            row = await conn.fetchrow("SELECT next_due_at FROM daily_schedules WHERE guild_id = $1", guild_id)
        return float(row[0]) if row else None

    async def remove(self, guild_id: int) -> bool:
        async with self._gate.transaction() as conn:
            return await conn.execute("DELETE FROM daily_schedules WHERE guild_id = $1", guild_id) > 0

    async def due(self, now: float, limit: int = 100) -> list[Schedule]:
        async with self._gate.reader() as conn:
            rows = await conn.fetch(
                f"SELECT {_SCHEDULE_COLUMNS} FROM daily_schedules WHERE next_due_at <= $1 "  # noqa: S608
                "ORDER BY next_due_at, guild_id LIMIT $2",
                float(now),
                limit,
            )
        return [_schedule(row) for row in rows]

    async def postpone(self, guild_id: int, next_due_at: float, *, if_due_by: float) -> None:
        async with self._gate.transaction() as conn:
            await conn.execute(
                "UPDATE daily_schedules SET next_due_at = $2 WHERE guild_id = $1 AND next_due_at <= $3",
                guild_id,
                float(next_due_at),
                float(if_due_by),
            )

    async def claim(self, guild_id: int, local_date: date, *, now: float, next_due_at: float) -> Schedule | None:
        async with self._gate.transaction() as conn:
            row = await conn.fetchrow(
                f"SELECT {_SCHEDULE_COLUMNS} FROM daily_schedules WHERE guild_id = $1",  # noqa: S608
                guild_id,
            )
            if row is None:
                return None
            # The primary key (guild_id, local_date) makes this the one claim of the day, whoever races for it.
            claimed = await conn.execute(
                "INSERT INTO daily_posts (guild_id, local_date, status, claimed_at) VALUES ($1, $2, 'claimed', $3) "
                "ON CONFLICT (guild_id, local_date) DO NOTHING",
                guild_id,
                local_date.isoformat(),
                float(now),
            )
            await conn.execute(
                "UPDATE daily_schedules SET next_due_at = $2 WHERE guild_id = $1 AND next_due_at <= $3",
                guild_id,
                float(next_due_at),
                float(now),
            )
        return _schedule(row) if claimed else None

    async def release(self, guild_id: int, local_date: date, *, retry_at: float) -> None:
        async with self._gate.transaction() as conn:
            await conn.execute(
                "DELETE FROM daily_posts WHERE guild_id = $1 AND local_date = $2 AND status = 'claimed'",
                guild_id,
                local_date.isoformat(),
            )
            await conn.execute(
                "UPDATE daily_schedules SET next_due_at = $2 WHERE guild_id = $1 AND next_due_at > $2",
                guild_id,
                float(retry_at),
            )

    async def finish(
        self,
        guild_id: int,
        local_date: date,
        status: PostStatus,
        *,
        photo_id: int | None = None,
        message_id: int | None = None,
        detail: str = "",
    ) -> None:
        async with self._gate.transaction() as conn:
            await conn.execute(
                "UPDATE daily_posts SET status = $3, photo_id = $4, message_id = $5, detail = $6 "
                "WHERE guild_id = $1 AND local_date = $2",
                guild_id,
                local_date.isoformat(),
                status,
                photo_id,
                message_id,
                detail[:500],
            )

    async def last_post(self, guild_id: int) -> DailyRecord | None:
        async with self._gate.reader() as conn:
            row = await conn.fetchrow(
                "SELECT local_date, status, claimed_at, photo_id, message_id, detail FROM daily_posts "
                "WHERE guild_id = $1 ORDER BY local_date DESC LIMIT 1",
                guild_id,
            )
        if row is None:
            return None
        return DailyRecord(
            guild_id=guild_id,
            local_date=date.fromisoformat(str(row[0])),
            status=row[1],
            claimed_at=float(row[2]),
            photo_id=None if row[3] is None else int(row[3]),
            message_id=None if row[4] is None else int(row[4]),
            detail=str(row[5]),
        )

    async def history(self, guild_id: int, since: float) -> dict[int, float]:
        async with self._gate.reader() as conn:
            rows = await conn.fetch(
                "SELECT photo_id, MAX(claimed_at) FROM daily_posts "
                "WHERE guild_id = $1 AND photo_id IS NOT NULL AND claimed_at >= $2 GROUP BY photo_id",
                guild_id,
                float(since),
            )
        return {int(r[0]): float(r[1]) for r in rows}

    async def topic_results(self, topic_key: str, day: str) -> list[ItemSnapshot] | None:
        async with self._gate.reader() as conn:
            row = await conn.fetchrow(
                "SELECT results FROM daily_topics WHERE topic_key = $1 AND day = $2", topic_key, day
            )
        if row is None or row[0] is None:
            return None
        return items_from_json(row[0])

    async def lease_topic(self, topic_key: str, day: str, *, now: float, until: float) -> bool:
        async with self._gate.transaction() as conn:
            taken = await conn.execute(
                "INSERT INTO daily_topics (topic_key, day, results, lease_until) VALUES ($1, $2, NULL, $3) "
                "ON CONFLICT (topic_key, day) DO UPDATE SET lease_until = excluded.lease_until "
                "WHERE daily_topics.results IS NULL AND daily_topics.lease_until <= $4",
                topic_key,
                day,
                float(until),
                float(now),
            )
        return taken > 0

    async def store_topic_results(self, topic_key: str, day: str, items: Sequence[ItemSnapshot], now: float) -> None:
        async with self._gate.transaction() as conn:
            await conn.execute(
                "INSERT INTO daily_topics (topic_key, day, results, lease_until, fetched_at) "
                "VALUES ($1, $2, $3, 0, $4) ON CONFLICT (topic_key, day) DO UPDATE SET "
                "results = excluded.results, fetched_at = excluded.fetched_at WHERE daily_topics.results IS NULL",
                topic_key,
                day,
                items_to_json(items),
                float(now),
            )

    async def prune(self, *, history_before: float, topics_before: str) -> None:
        async with self._gate.transaction() as conn:
            await conn.execute("DELETE FROM daily_posts WHERE claimed_at < $1", float(history_before))
            await conn.execute("DELETE FROM daily_topics WHERE day < $1", topics_before)


class SqlDatabase:
    """A `Database` over one driver."""

    def __init__(self, driver: Driver, *, url: str, clock: Clock = WALL_CLOCK, retry_interval: float = 1.0) -> None:
        self.backend = driver.dialect
        self.url = url
        self.gate = SchemaGate(driver, clock=clock, retry_interval=retry_interval)
        self.settings: GuildSettings = SqlGuildSettings(self.gate)
        self.saved: SavedItems = SqlSavedItems(self.gate)
        self.schedules: Schedules = SqlSchedules(self.gate)

    def __repr__(self) -> str:
        return f"<SqlDatabase {self.backend} {self.url}>"

    async def ping(self) -> bool:
        try:
            async with self.gate.reader() as conn:
                await conn.fetchrow("SELECT 1")
        except DatabaseUnavailable:
            return False
        return True

    async def schema_version(self) -> int:
        async with self.gate.reader() as conn:
            row = await conn.fetchrow("SELECT MAX(version) FROM schema_migrations")
        return int(row[0]) if row and row[0] is not None else 0

    async def close(self) -> None:
        await self.gate.driver.close()
