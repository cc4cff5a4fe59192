"""What the features that remember share: each server's settings as a search needs them, and database refusals.

With PostgreSQL (several processes), a search reads its server's settings from the database every time
(one indexed row), so a change made on any process applies at once everywhere. With SQLite only this
process writes the database (design decision 13), so they are read once and kept until a change made
here forgets them (`RememberedSettings`): two reads in a worker thread were a quarter of a cached
search's busy time. The read is bounded: when the database is down or slow,
the search goes on with the defaults (public results, the member's language, no blocklist) rather
than fail; commands that change or show data refuse privately instead (`database_errors`).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections import OrderedDict
from collections.abc import Iterator
from typing import Any

import discord
from discord import app_commands

from bot import messages_features as msg
from bot.blocklist import find_blocked
from bot.db import DatabaseUnavailable, GuildConfig, SavedLimitReached, TooManyBlockedWords
from bot.db.base import Database, GuildSettings
from bot.errors import BadInput, BotError
from bot.i18n import LocaleLike, tr

log = logging.getLogger(__name__)

REMEMBERED = 2_000
"""Servers whose settings `RememberedSettings` keeps (least recently searched forgotten first): ~300 B each."""
READ_TIMEOUT = 0.5
"""Seconds a search waits for its server's settings before going on with the defaults."""
WARN_EVERY = 30.0


def server_group(name: str, description: str) -> app_commands.Group:
    """A command group for a server's admins: offered only in servers that added the bot, and by default only to
    members with *Manage Server* (a server can grant it to other roles in its Integrations settings)."""
    return app_commands.Group(
        name=name,
        description=description,
        guild_only=True,
        allowed_contexts=app_commands.AppCommandContext(guild=True, dm_channel=False, private_channel=False),
        allowed_installs=app_commands.AppInstallationType(guild=True, user=False),
        default_permissions=discord.Permissions(manage_guild=True),
    )


class Refusal(BotError):
    """A refusal whose message is already in the reader's language."""

    def user_message(self, locale: LocaleLike = None) -> str:
        return str(self)


def server_of(interaction: discord.Interaction[Any]) -> int:
    """The id of the server the command is used in, which must have added the bot (else a clear refusal)."""
    if interaction.guild_id is None or not interaction.is_guild_integration():
        raise Refusal(tr(interaction.locale, msg.SERVER_ONLY))
    return interaction.guild_id


@contextlib.contextmanager
def database_errors(locale: LocaleLike) -> Iterator[None]:
    """Turn the database's refusals into private answers in the reader's language."""
    try:
        yield
    except DatabaseUnavailable:
        raise Refusal(tr(locale, msg.SETTINGS_UNAVAILABLE)) from None
    except SavedLimitReached as exc:
        raise Refusal(tr(locale, msg.SAVED_FULL, limit=exc.limit)) from None
    except TooManyBlockedWords as exc:
        raise Refusal(tr(locale, msg.TOO_MANY_BLOCKED, limit=exc.limit)) from None


class RememberedSettings:
    """`GuildSettings` for a database only this process writes (SQLite): each server's settings are read once and
    kept (at most `size` servers), and every change made through this object forgets that server's."""

    def __init__(self, inner: GuildSettings, *, size: int = REMEMBERED) -> None:
        self._inner = inner
        self._size = size
        self._configs: OrderedDict[int, GuildConfig] = OrderedDict()
        self._changes = 0

    async def get(self, guild_id: int) -> GuildConfig:
        config = self._configs.get(guild_id)
        if config is not None:
            self._configs.move_to_end(guild_id)
            return config
        changes = self._changes
        config = await self._inner.get(guild_id)
        if changes == self._changes:  # not kept if a change landed while it was read: it may predate it
            self._configs[guild_id] = config
            if len(self._configs) > self._size:
                self._configs.popitem(last=False)
        return config

    async def set_private(self, guild_id: int, value: bool) -> None:
        try:
            await self._inner.set_private(guild_id, value)
        finally:
            self._forget(guild_id)

    async def set_language(self, guild_id: int, language: str | None) -> None:
        try:
            await self._inner.set_language(guild_id, language)
        finally:
            self._forget(guild_id)

    async def block_word(self, guild_id: int, word: str) -> bool:
        try:
            return await self._inner.block_word(guild_id, word)
        finally:
            self._forget(guild_id)

    async def unblock_word(self, guild_id: int, word: str) -> bool:
        try:
            return await self._inner.unblock_word(guild_id, word)
        finally:
            self._forget(guild_id)

    async def blocked_words(self, guild_id: int) -> tuple[str, ...]:
        return await self._inner.blocked_words(guild_id)

    def _forget(self, guild_id: int) -> None:
        self._changes += 1
        self._configs.pop(guild_id, None)


class ServerSettings:
    """Each server's settings for its searches; the defaults when the database can't answer.

    `store` is where the settings are read and changed: the database's own, or with SQLite (one process writes
    it) a `RememberedSettings` over it.
    """

    def __init__(self, database: Database, *, timeout: float = READ_TIMEOUT) -> None:
        self.database = database
        self.store: GuildSettings = (
            RememberedSettings(database.settings) if database.backend == "sqlite" else database.settings
        )
        self.timeout = timeout
        self._warned_at = -WARN_EVERY

    async def of(self, interaction: discord.Interaction[Any]) -> GuildConfig:
        """The settings of the server the interaction happens in (the defaults outside servers)."""
        guild_id = interaction.guild_id
        if guild_id is None:
            return GuildConfig(0)
        try:
            async with asyncio.timeout(self.timeout):  # not wait_for: on 3.11 it runs the read in a task of its own
                return await self.store.get(guild_id)
        except (DatabaseUnavailable, TimeoutError) as exc:
            now = time.monotonic()
            if now - self._warned_at >= WARN_EVERY:
                self._warned_at = now
                log.warning(
                    "Server settings unavailable (%s); searches use the defaults until the database answers",
                    type(exc).__name__,
                )
            return GuildConfig(guild_id)


def check_blocked(locale: LocaleLike, query: str, config: GuildConfig) -> None:
    """Refuse (BadInput) a search that contains one of the server's blocked words."""
    if config.blocked_words and find_blocked(query, config.blocked_words) is not None:
        raise BadInput(tr(locale, msg.SEARCH_BLOCKED))
