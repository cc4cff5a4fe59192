"""The SQLite backend (the default): one file, one connection per process, WAL journal.

Writes take the file's write lock up front (`BEGIN IMMEDIATE`), so two processes on the same file
serialise their transactions instead of deadlocking; a lock held longer than `busy_timeout` counts as
the database being unavailable. Inside one process an asyncio lock serialises use of the connection.
"""

from __future__ import annotations

import asyncio
import functools
import logging
import re
import sqlite3
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import aiosqlite

from bot.db.base import DatabaseUnavailable
from bot.db.sql import Row
from bot.db.url import DatabaseTarget

log = logging.getLogger(__name__)

_PLACEHOLDER = re.compile(r"\$(\d+)")


@functools.lru_cache(maxsize=256)
def to_sqlite(sql: str) -> str:
    """PostgreSQL's `$1` placeholders as SQLite's numbered `?1`."""
    return _PLACEHOLDER.sub(r"?\1", sql)


def _unavailable(exc: BaseException) -> bool:
    """True for failures of the database itself (locked, unreadable, disk full), not of a statement."""
    return isinstance(exc, sqlite3.OperationalError | OSError) or type(exc) is sqlite3.DatabaseError


class SqliteConn:
    """`Conn` over an aiosqlite connection."""

    def __init__(self, conn: aiosqlite.Connection) -> None:
        self._conn = conn

    async def execute(self, sql: str, *args: Any) -> int:
        cursor = await self._conn.execute(to_sqlite(sql), args)
        try:
            return max(cursor.rowcount, 0)
        finally:
            await cursor.close()

    async def fetch(self, sql: str, *args: Any) -> list[Row]:
        return list(await self._conn.execute_fetchall(to_sqlite(sql), args))

    async def fetchrow(self, sql: str, *args: Any) -> Row | None:
        async with self._conn.execute(to_sqlite(sql), args) as cursor:
            row: Row | None = await cursor.fetchone()
            return row


class SqliteDriver:
    """`Driver` for one SQLite file."""

    dialect = "sqlite"

    def __init__(self, target: DatabaseTarget, *, busy_timeout: float = 5.0) -> None:
        self._target = target
        self._path = target.location
        self._busy_timeout = busy_timeout
        self._conn: aiosqlite.Connection | None = None
        self._lock = asyncio.Lock()
        self._closed = False

    def _error(self, exc: BaseException) -> DatabaseUnavailable:
        detail = self._target.redact(str(exc)) or "no detail"
        return DatabaseUnavailable(f"SQLite database {self._path!r} is unavailable: {type(exc).__name__}: {detail}")

    async def _connection(self) -> aiosqlite.Connection:
        if self._closed:
            raise DatabaseUnavailable("the database has been closed")
        if self._conn is not None:
            return self._conn
        try:
            if self._path != ":memory:":
                # Opened once here first: aiosqlite leaves its worker thread running briefly after a failed
                # connect, which outlives the event loop when a caller gives up at once.
                await asyncio.to_thread(_probe, self._path)
            conn = await aiosqlite.connect(self._path, timeout=self._busy_timeout, isolation_level=None)
        except Exception as exc:
            if _unavailable(exc):
                raise self._error(exc) from None
            raise
        try:
            await conn.execute(f"PRAGMA busy_timeout = {int(self._busy_timeout * 1000)}")
            if self._path != ":memory:":
                await conn.execute("PRAGMA journal_mode = WAL")
                await conn.execute("PRAGMA synchronous = NORMAL")
        except Exception as exc:
            await _quietly_close(conn)
            if _unavailable(exc):
                raise self._error(exc) from None
            raise
        self._conn = conn
        return conn

    async def _drop(self) -> None:
        """Forget a connection that failed (a fresh one is opened next time)."""
        conn, self._conn = self._conn, None
        if conn is not None:
            await _quietly_close(conn)

    @asynccontextmanager
    async def transaction(self, lock: tuple[int, int] | None = None) -> AsyncIterator[SqliteConn]:
        """`BEGIN IMMEDIATE` … `COMMIT`; SQLite has one writer at a time, so `lock` needs nothing more."""
        async with self._lock:
            conn = await self._connection()
            try:
                await conn.execute("BEGIN IMMEDIATE")
            except Exception as exc:
                if _unavailable(exc):
                    raise self._error(exc) from None
                raise
            try:
                yield SqliteConn(conn)
                await conn.execute("COMMIT")
            except BaseException as exc:
                await self._rollback(conn)
                if _unavailable(exc):
                    raise self._error(exc) from None
                raise

    @asynccontextmanager
    async def reader(self) -> AsyncIterator[SqliteConn]:
        """The connection, autocommitting."""
        async with self._lock:
            conn = await self._connection()
            try:
                yield SqliteConn(conn)
            except Exception as exc:
                if _unavailable(exc):
                    raise self._error(exc) from None
                raise

    async def _rollback(self, conn: aiosqlite.Connection) -> None:
        try:
            if conn.in_transaction:
                await conn.execute("ROLLBACK")
        except Exception as exc:
            log.debug("Dropping the SQLite connection after a failed rollback: %s", self._target.redact(str(exc)))
            await self._drop()

    async def close(self) -> None:
        """Close the connection (never raises)."""
        self._closed = True
        async with self._lock:
            await self._drop()


def _probe(path: str) -> None:
    """Create the file's folder and open the file once, so that an unusable path fails here."""
    Path(path).parent.mkdir(parents=True, exist_ok=True)
    sqlite3.connect(path).close()


async def _quietly_close(conn: aiosqlite.Connection) -> None:
    try:
        await conn.close()
    except Exception as exc:
        log.debug("Ignoring an error while closing SQLite: %s", exc)
