"""Fixtures for the database contract tests (a pytest plugin: `pytest_plugins = ["tests.conftest_db"]`).

- `postgres_server`: one real PostgreSQL server for the session (skipped, or failed with REQUIRE_POSTGRES=1,
  without it).
- `db_backend`: "sqlite" or "postgresql"; every test that uses `db`/`make_db`/`db_url` runs once per backend.
- `db_url`: a fresh, empty database of that backend (a temp file, or a new database on the server).
- `make_db(url=db_url)`: another `Database` on the same store, as a second process would open it;
  `db` is the first one. Every one is closed afterwards. They share the `clock` fixture.
"""

from __future__ import annotations

import itertools
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Protocol

import asyncpg
import pytest

from bot.db import Database, open_database
from tests.conftest_state import FakeClock
from tests.postgres_server import PostgresServer, postgres_bindir

_database_numbers = itertools.count(1)


class DatabaseFactory(Protocol):
    """Opens one more `Database` on the test's store."""

    async def __call__(self, url: str | None = None, *, connect_timeout: float = ...) -> Database: ...


@pytest.fixture(scope="session")
def postgres_server() -> Iterator[PostgresServer]:
    """A real PostgreSQL server on a free loopback port, for the whole session."""
    server = PostgresServer(postgres_bindir())
    server.start()
    try:
        yield server
    finally:
        server.cleanup()


@pytest.fixture(params=["sqlite", "postgresql"])
def db_backend(request: pytest.FixtureRequest) -> str:
    """The backend under test; for PostgreSQL the server is (re)started if a previous test stopped it."""
    name: str = request.param
    if name == "postgresql":
        server: PostgresServer = request.getfixturevalue("postgres_server")
        server.start()
    return name


@pytest.fixture
async def db_url(db_backend: str, tmp_path: Path, request: pytest.FixtureRequest) -> str:
    """The URL of a new, empty database."""
    if db_backend == "sqlite":
        return f"sqlite:///{tmp_path / 'pexbot.sqlite3'}"
    server: PostgresServer = request.getfixturevalue("postgres_server")
    name = f"test_{next(_database_numbers)}"
    admin = await asyncpg.connect(server.url())
    try:
        await admin.execute(f'CREATE DATABASE "{name}"')
    finally:
        await admin.close()
    return server.url(name)


@pytest.fixture
async def make_db(db_url: str, clock: FakeClock) -> AsyncIterator[DatabaseFactory]:
    """A factory of `Database` objects on one store; everything it opened is closed afterwards."""
    opened: list[Database] = []

    async def factory(url: str | None = None, *, connect_timeout: float = 5.0) -> Database:
        database = await open_database(url or db_url, clock=clock, retry_interval=0.0, connect_timeout=connect_timeout)
        opened.append(database)
        return database

    yield factory
    for database in opened:
        await database.close()


@pytest.fixture
async def db(make_db: DatabaseFactory) -> Database:
    """The backend under test, freshly migrated."""
    return await make_db()
