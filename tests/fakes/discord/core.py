# The waiting helpers take `timeout=` by design (the tests' interface), hence ASYNC109.
"""FakeDiscord: the loopback Discord's state, lifecycle and queries (gateway, interactions and REST are mixins)."""

from __future__ import annotations

import asyncio
import contextlib
import json
from collections.abc import Callable
from types import TracebackType
from typing import Any, Self

from aiohttp import web

from tests.fakes.discord.gateway import COMPRESSIONS, Conn, GatewayEvent, GatewayMixin, GatewaySession, Zombie
from tests.fakes.discord.interactions import InteractionsMixin
from tests.fakes.discord.records import Call, Fault, InteractionRecord
from tests.fakes.discord.rest import RestMixin, _Rule429
from tests.fakes.discord.wire import (
    API_PREFIX,
    DEFAULT_CHANNEL,
    DEFAULT_GUILD,
    FOREIGN_CHANNEL,
    FOREIGN_GUILD,
    HEARTBEAT_INTERVAL_MS,
    OTHER_CHANNEL,
    OTHER_GUILD,
    PRIVILEGED_INTENTS,
    TOKEN_TTL_S,
    FakeGuild,
    StoredMessage,
    bot_token_for,
)


class FakeDiscord(GatewayMixin, InteractionsMixin, RestMixin):
    """A loopback Discord (REST + gateway) for the real discord.py client. Start it in the test's loop."""

    def __init__(
        self,
        *,
        app_id: int = 900000000000000001,
        token: str | None = None,
        deadline: float = 3.0,
        bot_name: str = "testbot",
        require_registered: bool = True,
        token_ttl: float = TOKEN_TTL_S,
        recommended_shards: int = 1,
        enforce_shards: bool = False,
        gateway_compression: str = "auto",
        heartbeat_interval: float = HEARTBEAT_INTERVAL_MS / 1000,
        privileged_intents: int = PRIVILEGED_INTENTS,
        user_install_enabled: bool = True,
        api_version_close: bool = True,
    ) -> None:
        if gateway_compression not in ("auto", "none", *COMPRESSIONS):
            raise ValueError(f"gateway_compression is 'auto', 'none' or one of {COMPRESSIONS}")
        self.app_id = app_id
        self.token = token if token is not None else bot_token_for(app_id)
        self.deadline = deadline
        self.bot_name = bot_name
        self.require_registered = require_registered
        self.token_ttl = token_ttl
        self.recommended_shards = recommended_shards
        self.enforce_shards = enforce_shards
        self.gateway_compression = gateway_compression
        self.heartbeat_interval_ms = round(heartbeat_interval * 1000)
        self.privileged_intents = privileged_intents
        self.user_install_enabled = user_install_enabled
        self.api_version_close = api_version_close
        self.port = 0
        # REST
        self.calls: list[Call] = []
        self.unexpected_calls: list[Call] = []
        self.faults: list[Fault] = []
        self._rules_429: list[_Rule429] = []
        # the world
        self.messages: dict[int, StoredMessage] = {}
        self.interactions: dict[int, InteractionRecord] = {}
        self._by_token: dict[str, InteractionRecord] = {}
        self.guilds: dict[int, FakeGuild] = {}
        self.channels: dict[int, dict[str, Any]] = {}
        self.channel_contexts: dict[int, int] = {}  # channel id -> interaction context (0, 1, 2)
        self.user_installs: set[int] = set()  # users who added the app to their account
        self.bot_overwrites: dict[int, tuple[int, int]] = {}  # channel id -> (allow, deny) for the bot's member
        self.global_commands: list[dict[str, Any]] = []
        self.guild_commands: dict[int, list[dict[str, Any]]] = {}
        self.syncs: list[tuple[int | None, list[dict[str, Any]]]] = []  # every accepted PUT of commands
        self._command_ids: dict[tuple[int | None, str, int], int] = {}
        self._broken_interactions: list[str] = []
        # gateway
        self.identifies: list[dict[str, Any]] = []
        self.resumes = 0
        self.heartbeats = 0
        self.sessions: list[GatewaySession] = []
        self.gateway_connections = 0
        self.gateway_queries: list[dict[str, str]] = []
        self.gateway_closes: list[int] = []  # close codes the fake sent (4004, …)
        self.gateway_log: list[GatewayEvent] = []
        self.connections: list[Conn] = []
        self.zombies: list[Zombie] = []
        self._identify_rejections: list[tuple[int, int | None]] = []
        self.gateway_down = False  # True: websocket upgrades get HTTP 503 (Discord unreachable for the client)
        self.gateway_refusals = 0
        self._conns: set[Conn] = set()
        self._change = asyncio.Event()
        self._runner: web.AppRunner | None = None
        self.bot_user: dict[str, Any] = {
            "id": str(app_id),
            "username": bot_name,
            "discriminator": "0000",
            "global_name": None,
            "avatar": None,
            "bot": True,
            "public_flags": 0,
            "flags": 0,
            "verified": True,
            "mfa_enabled": False,
        }
        self.add_guild(DEFAULT_GUILD, channel_id=DEFAULT_CHANNEL, name="Default server")
        self.add_guild(OTHER_GUILD, channel_id=OTHER_CHANNEL, name="Other server")
        self.add_guild(FOREIGN_GUILD, channel_id=FOREIGN_CHANNEL, name="Foreign server", installed=False)

    # ---- lifecycle -----------------------------------------------------------------------------
    async def start(self) -> None:
        """Listen on a free port of 127.0.0.1 in the running loop."""
        app = web.Application(client_max_size=64 * 1024 * 1024)
        app.router.add_route("GET", "/gateway", self._gateway)
        app.router.add_route("GET", "/gateway/", self._gateway)
        app.router.add_route("*", API_PREFIX + "/{tail:.*}", self._rest)
        app.router.add_route("*", "/{tail:.*}", self._rest)
        self._runner = web.AppRunner(app, access_log=None, handle_signals=False, shutdown_timeout=0.5)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        self.port = int(self._runner.addresses[0][1])

    async def stop(self) -> None:
        """Close every websocket (1001) and the server."""
        for conn in list(self._conns):
            conn.server_closing = True
            with contextlib.suppress(Exception):
                await asyncio.wait_for(conn.ws.close(code=1001, message=b"fake discord stopping"), 1.0)
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    async def __aenter__(self) -> Self:
        await self.start()
        return self

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        await self.stop()

    @property
    def api_url(self) -> str:
        """Value for discord.http.Route.BASE."""
        return f"http://127.0.0.1:{self.port}{API_PREFIX}"

    @property
    def gateway_url(self) -> str:
        """Value for DiscordWebSocket.DEFAULT_GATEWAY (as a yarl.URL) and for READY's resume_gateway_url."""
        return f"ws://127.0.0.1:{self.port}/gateway"

    # ---- waiting ------------------------------------------------------------------------------
    def _notify(self) -> None:
        event, self._change = self._change, asyncio.Event()
        event.set()

    async def wait_until(
        self, predicate: Callable[[], bool], timeout: float = 5.0, *, what: Callable[[], str] | None = None
    ) -> None:
        """Wait until `predicate()` holds (re-checked on every state change); TimeoutError with `what()` otherwise."""
        loop = asyncio.get_running_loop()
        end = loop.time() + timeout
        while not predicate():
            remaining = end - loop.time()
            if remaining <= 0:
                raise TimeoutError(f"timed out after {timeout}s" + (f": {what()}" if what else ""))
            event = self._change
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(event.wait(), min(remaining, 0.05))

    async def wait_ready(self, count: int = 1, timeout: float = 10.0) -> None:
        """Wait until `count` gateway sessions are READY and connected."""
        await self.wait_until(
            lambda: len(self.live_sessions) >= count, timeout, what=lambda: f"sessions: {self.sessions}"
        )

    async def wait_call(self, method: str, path_contains: str, *, after: int = 0, timeout: float = 5.0) -> Call:
        """Wait for a REST call (index >= `after` in `calls`) and return it."""
        found: list[Call] = []

        def check() -> bool:
            found[:] = [
                c for c in self.calls[after:] if c.method == method and path_contains in c.path and c.status != 0
            ]
            return bool(found)

        await self.wait_until(check, timeout, what=lambda: f"no {method} *{path_contains}*")
        return found[0]

    # ---- queries ------------------------------------------------------------------------------
    @property
    def live_sessions(self) -> list[GatewaySession]:
        """Sessions that are READY, valid and have a websocket attached."""
        return [s for s in self.sessions if s.ready and s.connected]

    def calls_to(self, path_contains: str, method: str | None = None) -> list[Call]:
        """REST calls whose path contains `path_contains` (and whose method matches, if given)."""
        return [c for c in self.calls if path_contains in c.path and (method is None or c.method == method)]

    def calls_on(self, route: str) -> list[Call]:
        """REST calls routed as `route` ("callback", "followup", "edit_original", … see REST_ROUTES)."""
        return [c for c in self.calls if c.route == route]

    def channel_messages(self, channel_id: int, *, viewer: int | None = None) -> list[StoredMessage]:
        """Non-deleted messages of a channel that `viewer` sees (public ones plus their ephemerals), oldest first."""
        return sorted(
            (m for m in self.messages.values() if m.channel_id == channel_id and m.visible_for(viewer)),
            key=lambda m: m.id,
        )

    def transcript(self) -> str:
        """Every REST call, one per line (for failure messages)."""
        return "\n".join(
            f"{c.at:.3f} {c.status} {c.method} {c.path} {json.dumps(c.json)[:200] if c.json else ''}"
            for c in self.calls
        )

    def register_commands(self, commands: list[dict[str, Any]], *, guild_id: int | None = None) -> list[dict[str, Any]]:
        """Store commands as if the bot had PUT them (for bots that do not sync at start-up)."""
        return self._put_commands(guild_id, commands)
