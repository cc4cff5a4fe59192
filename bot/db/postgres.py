"""The PostgreSQL backend: an asyncpg pool that connects lazily, so a server that is down at start is not fatal.

Writes that must not race (a limit check, the migrations) take a transaction-scoped advisory lock
(`pg_advisory_xact_lock`, released at commit or rollback); see
https://www.postgresql.org/docs/current/explicit-locking.html#ADVISORY-LOCKS.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import asyncpg

from bot.db.base import DatabaseUnavailable
from bot.db.sql import Row
from bot.db.url import DatabaseTarget

log = logging.getLogger(__name__)

# SQLSTATE classes that mean "the server cannot serve us now", not "this statement is wrong":
# connection exception, invalid transaction state (read-only standby), invalid authorization,
# invalid catalog name (no such database), insufficient resources, operator intervention (shutdown,
# statement timeout), system error. https://www.postgresql.org/docs/current/errcodes-appendix.html
_UNAVAILABLE_CLASSES = frozenset({"08", "25", "28", "3D", "53", "57", "58"})


def _unavailable(exc: BaseException) -> bool:
    if isinstance(exc, OSError | TimeoutError | asyncpg.InterfaceError):
        return True
    if isinstance(exc, asyncpg.PostgresError):
        state = getattr(exc, "sqlstate", None) or ""
        return state[:2] in _UNAVAILABLE_CLASSES
    return False


def _rowcount(status: str) -> int:
    """The row count at the end of a command tag such as "INSERT 0 1" or "DELETE 3"."""
    last = status.rsplit(" ", 1)[-1]
    return int(last) if last.isdigit() else 0


class PostgresConn:
    """`Conn` over an asyncpg connection."""

    def __init__(self, conn: Any) -> None:
        self._conn = conn

    async def execute(self, sql: str, *args: Any) -> int:
        status = await self._conn.execute(sql, *args)
        return _rowcount(str(status))

    async def fetch(self, sql: str, *args: Any) -> list[Row]:
        rows: list[Row] = await self._conn.fetch(sql, *args)
        return rows

    async def fetchrow(self, sql: str, *args: Any) -> Row | None:
        row: Row | None = await self._conn.fetchrow(sql, *args)
        return row


class PostgresDriver:
    """`Driver` for one PostgreSQL database."""

    dialect = "postgresql"

    def __init__(
        self,
        target: DatabaseTarget,
        *,
        max_connections: int = 10,
        connect_timeout: float = 5.0,
        command_timeout: float = 10.0,
    ) -> None:
        self._target = target
        self._max_connections = max_connections
        self._connect_timeout = connect_timeout
        self._command_timeout = command_timeout
        self._pool: Any = None
        self._pool_lock = asyncio.Lock()
        self._closed = False

    def _error(self, exc: BaseException) -> DatabaseUnavailable:
        detail = self._target.redact(str(exc)) or "no detail"
        return DatabaseUnavailable(
            f"PostgreSQL at {self._target.redacted} is unavailable: {type(exc).__name__}: {detail}"
        )

    async def _get_pool(self) -> Any:
        if self._closed:
            raise DatabaseUnavailable("the database has been closed")
        async with self._pool_lock:
            if self._pool is None:
                try:
                    self._pool = await asyncpg.create_pool(
                        self._target.location,
                        min_size=0,
                        max_size=self._max_connections,
                        timeout=self._connect_timeout,
                        command_timeout=self._command_timeout,
                        max_inactive_connection_lifetime=60.0,
                    )
                except Exception as exc:
                    if _unavailable(exc) or isinstance(exc, ValueError):
                        raise self._error(exc) from None
                    raise
            return self._pool

    async def _failed(self, pool: Any) -> None:
        """After a connection failure, replace every idle connection (they likely died together)."""
        try:
            await pool.expire_connections()
        except Exception as exc:
            log.debug("Ignoring an error while expiring connections: %s", self._target.redact(str(exc)))

    @asynccontextmanager
    async def _connection(self) -> AsyncIterator[Any]:
        """A pooled connection; connection failures come out as `DatabaseUnavailable`."""
        pool = await self._get_pool()
        try:
            async with pool.acquire(timeout=self._connect_timeout) as conn:
                yield conn
        except Exception as exc:
            if _unavailable(exc):
                await self._failed(pool)
                raise self._error(exc) from None
            raise

    @asynccontextmanager
    async def transaction(self, lock: tuple[int, int] | None = None) -> AsyncIterator[PostgresConn]:
        """A transaction on a pooled connection, holding the advisory `lock` (namespace, key) if given."""
        async with self._connection() as conn, conn.transaction():
            if lock is not None:
                await conn.execute("SELECT pg_advisory_xact_lock($1, $2)", lock[0], lock[1])
            yield PostgresConn(conn)

    @asynccontextmanager
    async def reader(self) -> AsyncIterator[PostgresConn]:
        """A pooled connection, autocommitting."""
        async with self._connection() as conn:
            yield PostgresConn(conn)

    async def close(self) -> None:
        """Close the pool, waiting at most a few seconds for connections in use (never raises)."""
        self._closed = True
        pool, self._pool = self._pool, None
        if pool is None:
            return
        try:
            await asyncio.wait_for(pool.close(), timeout=5.0)
        except Exception as exc:
            log.debug("Terminating the PostgreSQL pool: %s", self._target.redact(str(exc)) or type(exc).__name__)
            pool.terminate()
