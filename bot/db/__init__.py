"""Durable data (server settings, saved items, daily schedules) in SQLite or PostgreSQL; see `bot.db.base`."""

from __future__ import annotations

import logging

from bot.db.base import (
    MAX_BLOCKED_WORDS,
    MAX_SAVED,
    WALL_CLOCK,
    Clock,
    DailyRecord,
    Database,
    DatabaseError,
    DatabaseUnavailable,
    GuildConfig,
    GuildSettings,
    InvalidDatabaseURL,
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
)
from bot.db.schema import SCHEMA_VERSION
from bot.db.sql import Driver, SqlDatabase
from bot.db.url import DEFAULT_DATABASE_URL, DatabaseTarget, parse_database_url

log = logging.getLogger(__name__)

__all__ = [
    "DEFAULT_DATABASE_URL",
    "MAX_BLOCKED_WORDS",
    "MAX_SAVED",
    "SCHEMA_VERSION",
    "WALL_CLOCK",
    "Clock",
    "DailyRecord",
    "Database",
    "DatabaseError",
    "DatabaseTarget",
    "DatabaseUnavailable",
    "GuildConfig",
    "GuildSettings",
    "InvalidDatabaseURL",
    "ItemSnapshot",
    "Kind",
    "PostStatus",
    "SavedEntry",
    "SavedItems",
    "SavedLimitReached",
    "Schedule",
    "Schedules",
    "SchemaTooNew",
    "TooManyBlockedWords",
    "open_database",
    "parse_database_url",
]


async def open_database(
    url: str = DEFAULT_DATABASE_URL,
    *,
    clock: Clock = WALL_CLOCK,
    connect_timeout: float = 5.0,
    command_timeout: float = 5.0,
    retry_interval: float = 1.0,
    max_connections: int = 10,
) -> Database:
    """Open the database at `url` and migrate its schema forward.

    Raises `InvalidDatabaseURL` for a URL this bot cannot use and `SchemaTooNew` when a newer bot migrated
    the database: both should stop the start. A database that does not answer is not fatal: a warning is
    logged, every operation raises `DatabaseUnavailable` until it answers, and the schema is migrated then.
    `connect_timeout` bounds connecting (PostgreSQL) or waiting for SQLite's write lock; `command_timeout` one
    PostgreSQL statement. `retry_interval` is how long operations fail fast after a failure before the database
    is tried again.
    """
    target = parse_database_url(url)
    driver: Driver
    if target.backend == "sqlite":
        from bot.db.sqlite import SqliteDriver  # each driver is imported only when it is used

        driver = SqliteDriver(target, busy_timeout=connect_timeout)
    else:
        from bot.db.postgres import PostgresDriver

        driver = PostgresDriver(
            target, max_connections=max_connections, connect_timeout=connect_timeout, command_timeout=command_timeout
        )
    database = SqlDatabase(driver, url=target.redacted, clock=clock, retry_interval=retry_interval)
    try:
        version = await database.gate.migrate()
    except SchemaTooNew:
        await database.close()
        raise
    except DatabaseUnavailable as exc:
        log.warning("%s; starting without it (settings, saved items and daily posts wait until it answers)", exc)
        return database
    log.info("Database: %s at %s, schema version %d", target.backend, target.redacted, version)
    return database
