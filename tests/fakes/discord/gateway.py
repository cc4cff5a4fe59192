# The waiting helpers take `timeout=` by design (the tests' interface), hence ASYNC109.
"""The loopback Discord's gateway: sessions, compressed frames as Discord sends them, and gateway faults."""

from __future__ import annotations

import asyncio
import contextlib
import json
import time
import uuid
import zlib
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Final

from aiohttp import WSMsgType, web

from tests.fakes.discord.wire import (
    GUILDS_INTENT,
    KNOWN_INTENTS,
    PRIVILEGED_INTENTS,
    FakeGuild,
    iso,
)

try:  # discord.py[speed] brings zstandard up to Python 3.13; 3.14 has compression.zstd
    import zstandard
except ImportError:  # pragma: no cover - Python 3.14 without zstandard
    zstandard = None

COMPRESSIONS: Final = ("zlib-stream", "zstd-stream")
FATAL_CLOSE_CODES: Final = frozenset({4004, 4010, 4011, 4012, 4013, 4014})
_ZLIB_SUFFIX: Final = b"\x00\x00\xff\xff"


class _Compressor:
    """One compression stream per connection, flushed after every message, as Discord's gateway does."""

    def __init__(self, kind: str) -> None:
        self.kind = kind
        if kind == "zlib-stream":
            self._zlib = zlib.compressobj()
        elif zstandard is not None:
            self._zstd = zstandard.ZstdCompressor().compressobj()
        else:  # pragma: no cover - Python 3.14 without zstandard
            from compression import zstd  # type: ignore[import-not-found]

            self._stdlib_zstd = zstd.ZstdCompressor()

    def __call__(self, text: str) -> bytes:
        data = text.encode()
        if self.kind == "zlib-stream":
            out = self._zlib.compress(data) + self._zlib.flush(zlib.Z_SYNC_FLUSH)
            assert out.endswith(_ZLIB_SUFFIX)
            return out
        if zstandard is not None:
            return self._zstd.compress(data) + self._zstd.flush(zstandard.COMPRESSOBJ_FLUSH_BLOCK)
        return self._stdlib_zstd.compress(data, self._stdlib_zstd.FLUSH_BLOCK)  # pragma: no cover


class GatewaySession:
    """One IDENTIFY'd gateway session; its websocket comes and goes across RESUMEs."""

    def __init__(self, session_id: str, identify: dict[str, Any]) -> None:
        self.session_id = session_id
        self.identify = identify
        shard = identify.get("shard")
        self.shard: tuple[int, int] | None = (int(shard[0]), int(shard[1])) if shard else None
        self.intents = int(identify.get("intents") or 0)
        self.seq = 0
        self.ws: web.WebSocketResponse | None = None
        self.conn: Conn | None = None
        self.buffer: list[tuple[int, str]] = []
        self.unsent: dict[int, Callable[[], None]] = {}  # seq -> stamp of frames not yet written
        self.invalid = False
        self.resumes = 0
        self.ready = False
        self.lock = asyncio.Lock()
        self.created_at = time.monotonic()

    def __repr__(self) -> str:
        return f"<GatewaySession {self.session_id} shard={self.shard} connected={self.connected} seq={self.seq}>"

    @property
    def connected(self) -> bool:
        """A websocket is attached and open."""
        return self.ws is not None and not self.ws.closed and not self.invalid

    @property
    def shard_id(self) -> int:
        """Shard number (0 when unsharded)."""
        return 0 if self.shard is None else self.shard[0]

    @property
    def shard_count(self) -> int:
        """Shard count (1 when unsharded)."""
        return 1 if self.shard is None else self.shard[1]

    def owns(self, guild_id: int | None) -> bool:
        """Whether Discord routes events of `guild_id` (None = DMs) to this session."""
        if guild_id is None:
            return self.shard_id == 0
        return (guild_id >> 22) % self.shard_count == self.shard_id


@dataclass(eq=False)
class Conn:
    """One websocket connection; frames go out TEXT or, compressed, BINARY."""

    number: int
    ws: web.WebSocketResponse
    request: web.Request
    query: dict[str, str]
    compression: str | None
    server_closing: bool = False
    session: GatewaySession | None = None
    zombie: Zombie | None = None
    text_frames: int = 0
    binary_frames: int = 0
    lock: asyncio.Lock = field(default_factory=asyncio.Lock)
    _compressor: _Compressor | None = None

    def __post_init__(self) -> None:
        self._compressor = None if self.compression is None else _Compressor(self.compression)

    async def send(self, text: str) -> None:
        """Write one gateway message (compressed in this connection's stream, if it has one)."""
        async with self.lock:
            if self._compressor is None:
                await self.ws.send_str(text)
                self.text_frames += 1
            else:
                await self.ws.send_bytes(self._compressor(text))
                self.binary_frames += 1


@dataclass
class GatewayEvent:
    """One entry of FakeDiscord.gateway_log: connect, identify, resume, server_close, client_close, zombie, …"""

    at: float  # monotonic
    conn: int
    kind: str
    detail: Any = None


@dataclass(eq=False)
class Zombie:
    """A connection the fake stopped serving (no HEARTBEAT_ACK, no dispatch) while keeping the socket open."""

    conn: Conn
    started_at: float  # monotonic
    heartbeats_unanswered: int = 0
    closed_at: float | None = None
    close_code: int | None = None
    closed_by_client: bool | None = None

    @property
    def detected_after(self) -> float | None:
        """Seconds from going zombie until the socket closed (None while still open)."""
        return None if self.closed_at is None else self.closed_at - self.started_at


class GatewayMixin:
    """The gateway half of FakeDiscord."""

    # ---- sessions and dispatch ----------------------------------------------------------------
    def _session_for(self, guild_id: int | None) -> GatewaySession:
        candidates = [s for s in self.sessions if s.ready and not s.invalid and s.owns(guild_id)]
        if not candidates:
            raise RuntimeError(
                f"no gateway session owns guild {guild_id} (is the bot connected? sessions: {self.sessions})"
            )
        candidates.sort(key=lambda s: (s.connected, s.created_at))
        return candidates[-1]

    async def dispatch(self, event: str, data: dict[str, Any], *, guild_id: int | None = None) -> GatewaySession:
        """Send a DISPATCH (op 0) to the session owning `guild_id`; buffered for replay if it is disconnected."""
        session = self._session_for(guild_id)
        await self._send_dispatch(session, event, data)
        return session

    async def dispatch_raw(self, event: str, raw_d: str, *, guild_id: int | None = None) -> GatewaySession:
        """Send a DISPATCH whose `d` is the JSON text `raw_d`, verbatim (for frames a client may fail to decode)."""
        session = self._session_for(guild_id)
        await self._send_dispatch(session, event, None, raw_d=raw_d)
        return session

    async def send_undecodable(self, event: str = "GUILD_UPDATE", *, guild_id: int | None = None) -> GatewaySession:
        """Dispatch an event whose JSON holds a lone surrogate escape ("\\ud800"): stdlib json accepts it, orjson not.

        Like any dispatch it is buffered and replayed on RESUME, as Discord does.
        """
        gid = guild_id if guild_id is not None else next(iter(self.guilds))
        guild = self.guilds.get(gid)
        name = json.dumps(guild.name if guild else "guild")[1:-1]
        raw = f'{{"id": "{gid}", "name": "{name} \\ud800", "features": [], "roles": [], "emojis": [], "stickers": []}}'
        return await self.dispatch_raw(event, raw, guild_id=gid)

    async def _send_dispatch(
        self,
        session: GatewaySession,
        event: str,
        data: dict[str, Any] | None,
        before_send: Callable[[], None] | None = None,
        *,
        raw_d: str | None = None,
    ) -> None:
        d_text = raw_d if raw_d is not None else json.dumps(data)
        async with session.lock:
            session.seq += 1
            frame = f'{{"op": 0, "s": {session.seq}, "t": {json.dumps(event)}, "d": {d_text}}}'
            session.buffer.append((session.seq, frame))
            del session.buffer[:-1000]
            for old in [k for k in session.unsent if k <= session.seq - 1000]:
                del session.unsent[old]
            conn = session.conn
            if conn is not None and not conn.ws.closed and conn.zombie is None:
                if before_send is not None:
                    before_send()
                with contextlib.suppress(ConnectionError, RuntimeError):
                    await conn.send(frame)
            elif before_send is not None:
                session.unsent[session.seq] = before_send  # stamped when a RESUME replays it

    def _log_gateway(self, conn: Conn, kind: str, detail: Any = None) -> None:
        self.gateway_log.append(GatewayEvent(time.monotonic(), conn.number, kind, detail))
        self._notify()

    async def _close_ws(self, conn: Conn, code: int, message: str) -> None:
        self.gateway_closes.append(code)
        self._log_gateway(conn, "server_close", code)
        conn.server_closing = True
        await conn.ws.close(code=code, message=message.encode())

    # ---- the websocket ---------------------------------------------------------------------------
    def _compression_for(self, query: dict[str, str]) -> str | None:
        mode = self.gateway_compression
        if mode == "auto":
            asked = query.get("compress")
            return asked if asked in COMPRESSIONS else None
        return None if mode == "none" else mode

    async def _gateway(self, request: web.Request) -> web.StreamResponse:
        if self.gateway_down:
            self.gateway_refusals += 1
            self._notify()
            return web.Response(status=503, text="upstream connect error")
        ws = web.WebSocketResponse(max_msg_size=0, timeout=2.0)
        await ws.prepare(request)
        query = dict(request.query)
        self.gateway_connections += 1
        conn = Conn(self.gateway_connections, ws, request, query, self._compression_for(query))
        self._conns.add(conn)
        self.connections.append(conn)
        self.gateway_queries.append(query)
        self._log_gateway(conn, "connect", query)
        try:
            if self.api_version_close and query.get("v") not in ("10",):
                await self._close_ws(conn, 4012, "Invalid API version")
                return ws
            await conn.send(json.dumps({"op": 10, "d": {"heartbeat_interval": self.heartbeat_interval_ms}}))
            async for msg in ws:
                if msg.type is not WSMsgType.TEXT:
                    await self._close_ws(conn, 4002, "Decode error")
                    break
                try:
                    payload = json.loads(msg.data)
                except ValueError:
                    await self._close_ws(conn, 4002, "Decode error")
                    break
                await self._gateway_op(conn, payload)
        finally:
            self._conns.discard(conn)
            if not conn.server_closing:
                self._log_gateway(conn, "client_close", ws.close_code)
            if conn.zombie is not None:
                conn.zombie.closed_at = time.monotonic()
                conn.zombie.close_code = ws.close_code
                conn.zombie.closed_by_client = not conn.server_closing
            session = conn.session
            if session is not None and session.conn is conn:
                session.ws = None
                session.conn = None
                if not conn.server_closing and ws.close_code in (1000, 1001):
                    session.invalid = True  # a clean client close ends the session
            self._notify()
        return ws

    async def _gateway_op(self, conn: Conn, payload: dict[str, Any]) -> None:
        op = payload.get("op")
        raw_d = payload.get("d")
        d: dict[str, Any] = raw_d if isinstance(raw_d, dict) else {}
        if op == 1:
            self.heartbeats += 1
            if conn.zombie is not None:
                conn.zombie.heartbeats_unanswered += 1
                self._notify()
                return
            lock = conn.session.lock if conn.session is not None else asyncio.Lock()
            async with lock:
                await conn.send(json.dumps({"op": 11}))
        elif op == 2:
            await self._identify(conn, d)
        elif op == 6:
            await self._resume(conn, d)
        elif conn.session is None:
            await self._close_ws(conn, 4003, "Not authenticated.")
        elif op == 8:
            chunk: dict[str, Any] = {
                "guild_id": d.get("guild_id"),
                "nonce": d.get("nonce"),
                "chunk_index": 0,
                "chunk_count": 1,
                "members": [],
                "not_found": [],
            }
            await self._send_dispatch(conn.session, "GUILD_MEMBERS_CHUNK", chunk)
        elif op in (3, 4):
            pass  # presence / voice state updates: accepted, nothing to model
        else:
            await self._close_ws(conn, 4001, "Unknown opcode.")

    def _identify_refusal(self, d: dict[str, Any]) -> tuple[int, str] | None:
        if d.get("token") != self.token:
            return 4004, "Authentication failed."
        if self._identify_rejections:
            code, left = self._identify_rejections[0]
            if left is not None:
                if left <= 1:
                    self._identify_rejections.pop(0)
                else:
                    self._identify_rejections[0] = (code, left - 1)
            return code, _CLOSE_REASONS.get(code, "Rejected.")
        shard = d.get("shard")
        if shard is not None and (len(shard) != 2 or not 0 <= int(shard[0]) < int(shard[1])):
            return 4010, "Invalid shard."
        count = 1 if shard is None else int(shard[1])
        if self.enforce_shards and count < self.recommended_shards:
            return 4011, "Sharding required."
        intents = d.get("intents")
        if not isinstance(intents, int) or intents < 0 or intents & ~KNOWN_INTENTS:
            return 4013, "Invalid intent(s)."
        if intents & PRIVILEGED_INTENTS & ~self.privileged_intents:
            return 4014, "Disallowed intent(s)."
        return None

    async def _identify(self, conn: Conn, d: dict[str, Any]) -> None:
        self.identifies.append(d)
        self._log_gateway(conn, "identify", {"shard": d.get("shard"), "intents": d.get("intents")})
        if conn.session is not None:
            await self._close_ws(conn, 4005, "Already authenticated.")
            return
        refusal = self._identify_refusal(d)
        if refusal is not None:
            await self._close_ws(conn, *refusal)
            return
        session = GatewaySession(uuid.uuid4().hex, d)
        session.ws, session.conn, conn.session = conn.ws, conn, session
        self.sessions.append(session)
        guilds = [g for g in self.guilds.values() if g.installed and session.owns(g.id)]
        ready: dict[str, Any] = {
            "v": 10,
            "user": self.bot_user,
            "guilds": [{"id": str(g.id), "unavailable": True} for g in guilds],
            "session_id": session.session_id,
            "session_type": "normal",
            "resume_gateway_url": self.gateway_url,
            "application": {"id": str(self.app_id), "flags": 0},
            "private_channels": [],
            "relationships": [],
            "presences": [],
            "geo_ordered_rtc_regions": [],
            "guild_join_requests": [],
            "user_settings": {},
            "_trace": ["fake-discord"],
        }
        if session.shard is not None:
            ready["shard"] = list(session.shard)
        await self._send_dispatch(session, "READY", ready)
        session.ready = True
        self._notify()
        if session.intents & GUILDS_INTENT:
            for g in guilds:
                await self._send_dispatch(session, "GUILD_CREATE", self._guild_create(g))

    async def _resume(self, conn: Conn, d: dict[str, Any]) -> None:
        self._log_gateway(conn, "resume", {"seq": d.get("seq")})
        session = next((s for s in self.sessions if s.session_id == d.get("session_id")), None)
        if d.get("token") != self.token:
            await self._close_ws(conn, 4004, "Authentication failed.")
            return
        if self._identify_rejections and self._identify_rejections[0][1] is None:
            code = self._identify_rejections[0][0]
            await self._close_ws(conn, code, _CLOSE_REASONS.get(code, "Rejected."))
            return
        if session is None or session.invalid:
            await conn.send(json.dumps({"op": 9, "d": False}))
            return
        old = session.conn
        if old is not None and old is not conn:
            old.server_closing = True
            with contextlib.suppress(Exception):
                await old.ws.close(code=4009, message=b"Session resumed elsewhere")
        async with session.lock:
            session.ws, session.conn, conn.session = conn.ws, conn, session
            client_seq = int(d.get("seq") or 0)
            for seq, frame in session.buffer:
                if seq > client_seq:
                    stamp = session.unsent.pop(seq, None)
                    if stamp is not None:
                        stamp()
                    await conn.send(frame)
            session.seq += 1
            await conn.send(json.dumps({"op": 0, "s": session.seq, "t": "RESUMED", "d": {"_trace": []}}))
        session.resumes += 1
        self.resumes += 1
        self._notify()

    def _guild_create(self, g: FakeGuild) -> dict[str, Any]:
        channels = [
            {k: v for k, v in ch.items() if k != "guild_id"}
            for ch in self.channels.values()
            if ch.get("guild_id") == str(g.id)
        ]
        everyone = {
            "id": str(g.id),
            "name": "@everyone",
            "color": 0,
            "colors": {"primary_color": 0, "secondary_color": None, "tertiary_color": None},
            "hoist": False,
            "icon": None,
            "unicode_emoji": None,
            "position": 0,
            "permissions": str(g.everyone_permissions),
            "managed": False,
            "mentionable": False,
            "flags": 0,
        }
        bot_role = {**everyone, "id": str(g.id + 1), "name": self.bot_name, "managed": True, "position": 1}
        bot_role["permissions"] = str(g.bot_permissions)
        bot_role["tags"] = {"bot_id": str(self.app_id)}
        me = {
            "user": self.bot_user,
            "roles": [bot_role["id"]],
            "joined_at": iso(time.time() - 86400),
            "deaf": False,
            "mute": False,
            "flags": 0,
            "nick": None,
            "avatar": None,
            "pending": False,
            "premium_since": None,
            "communication_disabled_until": None,
        }
        return {
            "id": str(g.id),
            "name": g.name,
            "icon": None,
            "splash": None,
            "discovery_splash": None,
            "banner": None,
            "description": None,
            "owner_id": str(g.owner_id),
            "afk_channel_id": None,
            "afk_timeout": 300,
            "verification_level": 0,
            "default_message_notifications": 0,
            "explicit_content_filter": 0,
            "mfa_level": 0,
            "nsfw_level": 0,
            "premium_tier": 0,
            "premium_subscription_count": 0,
            "premium_progress_bar_enabled": False,
            "preferred_locale": g.locale,
            "features": list(g.features),
            "roles": [everyone, bot_role],
            "emojis": [],
            "stickers": [],
            "application_id": None,
            "system_channel_id": None,
            "system_channel_flags": 0,
            "rules_channel_id": None,
            "public_updates_channel_id": None,
            "safety_alerts_channel_id": None,
            "vanity_url_code": None,
            "max_members": 500000,
            "joined_at": me["joined_at"],
            "large": False,
            "unavailable": False,
            "member_count": g.member_count,
            "members": [me],
            "channels": channels,
            "threads": [],
            "presences": [],
            "voice_states": [],
            "stage_instances": [],
            "guild_scheduled_events": [],
            "soundboard_sounds": [],
        }

    # ---- faults and control ----------------------------------------------------------------------
    async def drop_gateway(
        self,
        *,
        code: int = 4000,
        reconnect_op: bool = False,
        shard_id: int | None = None,
        wait: bool = True,
        timeout: float = 10.0,
    ) -> None:
        """Drop live gateway connections (close `code`, 1006 = TCP abort, or op 7) and wait for the RESUMEs."""
        targets = [s for s in self.live_sessions if shard_id is None or s.shard_id == shard_id]
        if not targets:
            raise RuntimeError(f"no live gateway session to drop (shard {shard_id}); sessions: {self.sessions}")
        before = {s.session_id: s.resumes for s in targets}
        for s in targets:
            conn = s.conn
            assert conn is not None
            conn.server_closing = True
            if reconnect_op:
                async with s.lock:
                    await conn.send(json.dumps({"op": 7, "d": None}))
            elif code == 1006:
                self._log_gateway(conn, "server_close", 1006)
                transport = conn.request.transport
                if transport is not None:
                    transport.abort()
            else:
                await self._close_ws(conn, code, "fake discord dropped the connection")
        if wait:
            await self.wait_until(
                lambda: all(s.resumes > before[s.session_id] and s.connected for s in targets),
                timeout,
                what=lambda: f"no RESUME after drop; sessions: {self.sessions}",
            )

    async def close_gateway(self, code: int, *, shard_id: int | None = None, sticky: bool | None = None) -> None:
        """Close the live connections with `code`; for fatal codes (4004, 4010-4014) later IDENTIFY/RESUMEs get it too.

        `sticky` overrides that: True keeps refusing with `code`, False refuses nothing afterwards.
        """
        targets = [s for s in self.live_sessions if shard_id is None or s.shard_id == shard_id]
        if not targets:
            raise RuntimeError(f"no live gateway session to close (shard {shard_id}); sessions: {self.sessions}")
        if sticky if sticky is not None else code in FATAL_CLOSE_CODES:
            self.reject_identify(code, count=None)
        for s in targets:
            if code in FATAL_CLOSE_CODES:
                s.invalid = True
            assert s.conn is not None
            await self._close_ws(s.conn, code, _CLOSE_REASONS.get(code, "Closed."))

    def reject_identify(self, code: int, *, count: int | None = 1) -> None:
        """Close the next `count` IDENTIFYs (None = all, RESUMEs too) with `code`, e.g. 4014 or 4011."""
        self._identify_rejections.append((code, count))

    def clear_identify_rejections(self) -> None:
        """Accept IDENTIFYs again (the operator fixed the token, shards or intents)."""
        self._identify_rejections.clear()

    def zombie(self, *, shard_id: int | None = None) -> list[Zombie]:
        """Stop answering heartbeats and dispatching on the live connections (socket stays open); events buffer."""
        out: list[Zombie] = []
        for s in [s for s in self.live_sessions if shard_id is None or s.shard_id == shard_id]:
            conn = s.conn
            assert conn is not None
            conn.zombie = Zombie(conn, time.monotonic())
            self._log_gateway(conn, "zombie")
            self.zombies.append(conn.zombie)
            out.append(conn.zombie)
        if not out:
            raise RuntimeError(f"no live gateway session to turn zombie (shard {shard_id}); sessions: {self.sessions}")
        return out

    async def invalidate_session(self, *, shard_id: int | None = None, resumable: bool = False) -> None:
        """Send op 9 INVALID_SESSION; with resumable=False the bot must IDENTIFY again."""
        for s in [s for s in self.live_sessions if shard_id is None or s.shard_id == shard_id]:
            assert s.conn is not None
            s.conn.server_closing = True
            if not resumable:
                s.invalid = True
            async with s.lock:
                await s.conn.send(json.dumps({"op": 9, "d": resumable}))

    async def join_guild(self, guild: FakeGuild) -> None:
        """Install the app in `guild` now: GUILD_CREATE goes to the owning session (if it asked for GUILDS)."""
        guild.installed = True
        self.guilds[guild.id] = guild
        self.add_channel(guild.channel_id, guild.id)
        for s in self.sessions:
            if s.ready and not s.invalid and s.owns(guild.id) and s.intents & GUILDS_INTENT:
                await self._send_dispatch(s, "GUILD_CREATE", self._guild_create(guild))

    def frames_sent(self) -> dict[str, int]:
        """How many TEXT and BINARY frames the fake wrote, over every connection."""
        return {
            "text": sum(c.text_frames for c in self.connections),
            "binary": sum(c.binary_frames for c in self.connections),
        }

    def gateway_events(self, kind: str | None = None) -> list[GatewayEvent]:
        """Entries of the gateway log, optionally only of one kind."""
        return [e for e in self.gateway_log if kind is None or e.kind == kind]


_CLOSE_REASONS: Final = {
    4000: "Unknown error.",
    4004: "Authentication failed.",
    4010: "Invalid shard.",
    4011: "Sharding required.",
    4012: "Invalid API version.",
    4013: "Invalid intent(s).",
    4014: "Disallowed intent(s).",
}
