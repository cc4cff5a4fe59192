"""A server's settings with SQLite: read once and kept, forgotten by every change made here, never stale."""

from __future__ import annotations

import asyncio
from types import SimpleNamespace
from typing import Any, cast

import pytest

from bot.db import GuildConfig
from bot.db.base import Database, GuildSettings
from bot.features import RememberedSettings, ServerSettings

GUILD = 661720242585600001


class Counted:
    """The database's own settings, counting reads; a read can be held at its start to interleave a change."""

    def __init__(self, inner: GuildSettings) -> None:
        self.inner = inner
        self.reads = 0
        self.hold: asyncio.Event | None = None

    def __getattr__(self, name: str) -> Any:
        return getattr(self.inner, name)

    async def get(self, guild_id: int) -> GuildConfig:
        self.reads += 1
        config = await self.inner.get(guild_id)
        if self.hold is not None:
            await self.hold.wait()  # the read is done, its answer not yet delivered
        return config


def remembered(db: Database) -> tuple[RememberedSettings, Counted]:
    counted = Counted(db.settings)
    return RememberedSettings(cast("GuildSettings", counted), size=3), counted


@pytest.mark.parametrize("db_backend", ["sqlite"], indirect=True)
async def test_a_servers_settings_are_read_once_and_every_change_made_here_shows_at_once(db: Database) -> None:
    settings, counted = remembered(db)
    assert (await settings.get(GUILD)).blocked_words == ()
    assert (await settings.get(GUILD)).private_by_default is False
    assert counted.reads == 1
    await settings.set_private(GUILD, True)
    assert (await settings.get(GUILD)).private_by_default is True
    assert await settings.block_word(GUILD, "Spoiler")
    assert (await settings.get(GUILD)).blocked_words == ("Spoiler",)
    await settings.set_language(GUILD, "de-DE")
    assert (await settings.get(GUILD)).language == "de-DE"
    assert await settings.unblock_word(GUILD, "spoiler")
    assert (await settings.get(GUILD)).blocked_words == ()
    assert counted.reads == 5


@pytest.mark.parametrize("db_backend", ["sqlite"], indirect=True)
async def test_a_read_that_a_change_overtook_is_not_kept(db: Database) -> None:
    settings, counted = remembered(db)
    gate = counted.hold = asyncio.Event()
    stale = asyncio.create_task(settings.get(GUILD))
    for _ in range(100):  # until the read has its (old) answer and waits at the gate
        if counted.reads:
            break
        await asyncio.sleep(0.01)
    await asyncio.sleep(0.05)
    counted.hold = None
    await settings.set_private(GUILD, True)
    gate.set()
    assert (await stale).private_by_default is False, "it was read before the change"
    assert (await settings.get(GUILD)).private_by_default is True, "and is not what is remembered"
    assert counted.reads == 2


@pytest.mark.parametrize("db_backend", ["sqlite"], indirect=True)
async def test_at_most_size_servers_are_remembered(db: Database) -> None:
    settings, counted = remembered(db)
    for guild in range(1, 5):  # one more than it keeps: the first is forgotten
        await settings.get(guild)
    await settings.get(4)
    assert counted.reads == 4
    await settings.get(1)
    assert counted.reads == 5


@pytest.mark.parametrize("db_backend", ["sqlite", "postgresql"], indirect=True)
async def test_only_sqlite_settings_are_remembered(db: Database, make_db: Any) -> None:
    """Several processes share PostgreSQL: a change another one makes applies at the next search here."""
    server = ServerSettings(db)
    assert isinstance(server.store, RememberedSettings) == (db.backend == "sqlite")
    if db.backend == "sqlite":
        return  # one process writes it (design decision 13): checked above
    interaction = cast("Any", SimpleNamespace(guild_id=GUILD))
    assert (await server.of(interaction)).private_by_default is False
    other_process = await make_db()
    await other_process.settings.set_private(GUILD, True)
    assert (await server.of(interaction)).private_by_default is True
