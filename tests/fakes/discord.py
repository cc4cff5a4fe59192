# The waiting helpers take `timeout=` by design (the tests' interface), hence ASYNC109.
"""A loopback Discord: REST routes and the gateway websocket on 127.0.0.1 for the real discord.py client.

It models what a user would see (messages, ephemeral visibility, the deferred "thinking…" placeholder)
and holds the bot to Discord's rules (3 s first-response deadline, single acknowledgement, message
limits, who may click what). See /work/shared/docs/discord-wire.md for the wire facts it rests on.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import itertools
import json
import re
import secrets
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from types import TracebackType
from typing import Any, Final, Self

from aiohttp import BodyPartReader, WSMsgType, web

__all__ = [
    "DEFAULT_CHANNEL",
    "DEFAULT_GUILD",
    "OTHER_CHANNEL",
    "OTHER_GUILD",
    "Call",
    "FakeDiscord",
    "FakeUser",
    "GatewaySession",
    "HttpError",
    "InteractionRecord",
    "StoredMessage",
    "bot_token_for",
    "guild_on_shard",
    "make_user",
    "snowflake",
    "snowflake_time",
    "validate_message",
]

DISCORD_EPOCH_MS: Final = 1_420_070_400_000
API_PREFIX: Final = "/api/v10"

# Message flags
SUPPRESS_EMBEDS: Final = 1 << 2
EPHEMERAL: Final = 1 << 6
LOADING: Final = 1 << 7
SUPPRESS_NOTIFICATIONS: Final = 1 << 12
IS_COMPONENTS_V2: Final = 1 << 15
_SENDABLE_FLAGS: Final = SUPPRESS_EMBEDS | EPHEMERAL | SUPPRESS_NOTIFICATIONS | IS_COMPONENTS_V2

ALL_PERMISSIONS: Final = 2_251_799_813_685_247
ATTACHMENT_SIZE_LIMIT: Final = 10_485_760
HEARTBEAT_INTERVAL_MS: Final = 41_250
TOKEN_TTL_S: Final = 15 * 60.0

# Interaction types
PING, APPLICATION_COMMAND, MESSAGE_COMPONENT, AUTOCOMPLETE, MODAL_SUBMIT = 1, 2, 3, 4, 5
# Callback types a bot may answer with, per interaction type
_ALLOWED_CALLBACKS: Final[dict[int, frozenset[int]]] = {
    APPLICATION_COMMAND: frozenset({4, 5, 9}),
    MESSAGE_COMPONENT: frozenset({4, 5, 6, 7, 9}),
    AUTOCOMPLETE: frozenset({8}),
    MODAL_SUBMIT: frozenset({4, 5, 6, 7}),
}
_SELECT_TYPES: Final = frozenset({3, 5, 6, 7, 8})


def snowflake_time(at: float | None = None, counter: int = 0) -> int:
    """A Discord snowflake for epoch seconds `at` (default now); `counter` fills the low 22 bits."""
    ms = int((time.time() if at is None else at) * 1000)
    return ((ms - DISCORD_EPOCH_MS) << 22) | (counter & 0x3FFFFF)


_counter: Iterator[int] = itertools.count(1)


def snowflake(at: float | None = None) -> int:
    """A fresh, process-unique snowflake whose timestamp is `at` (epoch seconds, default now)."""
    return snowflake_time(at, next(_counter))


def guild_on_shard(shard_id: int, shard_count: int, n: int = 0) -> int:
    """A guild id that Discord routes to `shard_id` of `shard_count` ((id >> 22) % count)."""
    base = 157_766_400_000 + n * shard_count  # 2020-01-01 in Discord-epoch ms
    ts = base - base % shard_count + shard_id
    return (ts << 22) | (n + 1)


DEFAULT_GUILD: Final = guild_on_shard(0, 2)  # shard 0 of 1 and of 2
OTHER_GUILD: Final = guild_on_shard(1, 2)  # shard 1 of 2 (shard 0 of 1)
DEFAULT_CHANNEL: Final = ((157_766_400_100) << 22) | 2
OTHER_CHANNEL: Final = ((157_766_400_101) << 22) | 3


def bot_token_for(app_id: int) -> str:
    """A token shaped like a real bot token: base64(app id) . timestamp . hmac (the first part is what bots decode)."""
    head = base64.urlsafe_b64encode(str(app_id).encode()).decode().rstrip("=")
    return f"{head}.GfAkEd.{'x' * 38}"


def _iso(epoch_s: float) -> str:
    return datetime.fromtimestamp(epoch_s, tz=UTC).isoformat(timespec="microseconds")


def _sf_seconds(sf: int) -> float:
    return ((sf >> 22) + DISCORD_EPOCH_MS) / 1000.0


@dataclass(frozen=True)
class FakeUser:
    """A Discord user who clicks and types; in guilds also a member with `roles` and `permissions`."""

    id: int
    name: str = "user"
    global_name: str | None = None
    bot: bool = False
    roles: tuple[int, ...] = ()
    permissions: int = ALL_PERMISSIONS

    def to_user(self) -> dict[str, Any]:
        """The user object as Discord sends it."""
        return {
            "id": str(self.id),
            "username": self.name,
            "discriminator": "0",
            "global_name": self.global_name or self.name,
            "avatar": None,
            "public_flags": 0,
            "bot": self.bot,
            "avatar_decoration_data": None,
        }

    def to_member(self, *, with_user: bool = True) -> dict[str, Any]:
        """The guild member object as sent with interactions (`with_user=False` for `resolved.members`)."""
        member: dict[str, Any] = {
            "roles": [str(r) for r in self.roles],
            "flags": 0,
            "joined_at": "2025-01-01T00:00:00.000000+00:00",
            "deaf": False,
            "mute": False,
            "nick": None,
            "avatar": None,
            "banner": None,
            "pending": False,
            "premium_since": None,
            "communication_disabled_until": None,
            "permissions": str(self.permissions),
        }
        if with_user:
            member["user"] = self.to_user()
        return member


def make_user(n: int, name: str | None = None) -> FakeUser:
    """User number `n` with a distinct, snowflake-shaped id (2020-09 timestamps)."""
    return FakeUser(id=((1_600_000_000_000 - DISCORD_EPOCH_MS + n) << 22) | (n & 0xFFF), name=name or f"user{n}")


def _walk_components(components: list[dict[str, Any]]) -> Iterator[dict[str, Any]]:
    for comp in components:
        yield comp
        yield from _walk_components(comp.get("components") or [])
        if isinstance(comp.get("accessory"), dict):
            yield from _walk_components([comp["accessory"]])
        if isinstance(comp.get("component"), dict):
            yield from _walk_components([comp["component"]])


def _embed_text(embed: dict[str, Any]) -> list[str]:
    parts: list[str] = []
    for key in ("title", "description"):
        if embed.get(key):
            parts.append(str(embed[key]))
    for f in embed.get("fields") or []:
        parts.append(f"{f.get('name', '')}: {f.get('value', '')}")
    if (embed.get("footer") or {}).get("text"):
        parts.append(str(embed["footer"]["text"]))
    return parts


@dataclass(eq=False)
class StoredMessage:
    """A message as Discord holds it; `text` is roughly what a viewer reads."""

    id: int
    channel_id: int
    content: str | None
    embeds: list[dict[str, Any]]
    components: list[dict[str, Any]]
    flags: int
    ephemeral: bool
    visible_to: int | None
    deleted: bool
    interaction_id: int | None
    author_id: int
    edits: int
    allowed_mentions: dict[str, Any] | None
    loading: bool
    guild_id: int | None = None
    type: int = 0
    author: dict[str, Any] = field(default_factory=dict)
    attachments: list[dict[str, Any]] = field(default_factory=list)
    tts: bool = False
    created_at: float = field(default_factory=time.time)
    edited_at: float | None = None
    webhook_id: int | None = None
    application_id: int | None = None
    interaction_metadata: dict[str, Any] | None = None
    legacy_interaction: dict[str, Any] | None = None
    loading_text: str = "Bot is thinking…"
    history: list[dict[str, Any]] = field(default_factory=list)  # payload snapshots before each edit
    allowed_mentions_history: list[dict[str, Any] | None] = field(default_factory=list)

    def buttons(self) -> list[dict[str, Any]]:
        """Every button (type 2) on the message, flattened, in order."""
        return [c for c in _walk_components(self.components) if c.get("type") == 2]

    def selects(self) -> list[dict[str, Any]]:
        """Every select menu (types 3, 5-8) on the message, flattened, in order."""
        return [c for c in _walk_components(self.components) if c.get("type") in _SELECT_TYPES]

    def button(self, emoji_or_label: str) -> dict[str, Any]:
        """The button whose unicode emoji name, label or exact custom_id is `emoji_or_label`; KeyError if absent."""
        for b in self.buttons():
            emoji = b.get("emoji") or {}
            if emoji_or_label in (emoji.get("name"), b.get("label"), b.get("custom_id")):
                return b
        shown = [((b.get("emoji") or {}).get("name"), b.get("label"), b.get("custom_id")) for b in self.buttons()]
        raise KeyError(f"no button {emoji_or_label!r} on message {self.id}; buttons (emoji, label, custom_id): {shown}")

    @property
    def text(self) -> str:
        """Content, embed titles/descriptions/fields/footers and text displays, newline-joined."""
        if self.loading:
            return self.loading_text
        parts: list[str] = [self.content] if self.content else []
        for embed in self.embeds:
            parts.extend(_embed_text(embed))
        parts.extend(str(c["content"]) for c in _walk_components(self.components) if c.get("type") == 10)
        return "\n".join(parts)

    @property
    def is_visible_publicly(self) -> bool:
        """Whether everyone in the channel sees it."""
        return not self.deleted and not self.ephemeral

    def pings(self) -> dict[str, Any]:
        """Who this message would notify: {"users": [...], "roles": [...], "everyone": bool}, per allowed_mentions."""
        result: dict[str, Any] = {"users": [], "roles": [], "everyone": False}
        if self.ephemeral or self.loading or not self.content or self.flags & SUPPRESS_NOTIFICATIONS:
            return result
        am = self.allowed_mentions
        parse: list[str] = ["users", "roles", "everyone"] if am is None else list(am.get("parse") or [])
        users = [int(u) for u in re.findall(r"<@!?(\d+)>", self.content)]
        roles = [int(r) for r in re.findall(r"<@&(\d+)>", self.content)]
        allowed_users = {int(u) for u in (am or {}).get("users") or []}
        allowed_roles = {int(r) for r in (am or {}).get("roles") or []}
        result["users"] = [u for u in users if "users" in parse or u in allowed_users]
        result["roles"] = [r for r in roles if "roles" in parse or r in allowed_roles]
        result["everyone"] = "everyone" in parse and ("@everyone" in self.content or "@here" in self.content)
        return result

    def to_payload(self) -> dict[str, Any]:
        """The full message object Discord would return."""
        payload: dict[str, Any] = {
            "id": str(self.id),
            "channel_id": str(self.channel_id),
            "type": self.type,
            "content": self.content or "",
            "author": self.author,
            "embeds": self.embeds,
            "components": self.components,
            "attachments": self.attachments,
            "flags": self.flags,
            "timestamp": _iso(self.created_at),
            "edited_timestamp": None if self.edited_at is None else _iso(self.edited_at),
            "mentions": [],
            "mention_roles": [],
            "mention_everyone": False,
            "pinned": False,
            "tts": self.tts,
            "position": 0,
        }
        if self.webhook_id is not None:
            payload["webhook_id"] = str(self.webhook_id)
        if self.application_id is not None:
            payload["application_id"] = str(self.application_id)
        if self.interaction_metadata is not None:
            payload["interaction_metadata"] = self.interaction_metadata
        if self.legacy_interaction is not None:
            payload["interaction"] = self.legacy_interaction
        return payload


@dataclass
class Call:
    """One REST request: `path` is relative to /api/v10, `query` flattened, `json` the parsed body (or None)."""

    at: float
    method: str
    path: str
    query: dict[str, str]
    json: Any
    status: int = 0
    authorization: str | None = None
    files: list[dict[str, Any]] = field(default_factory=list)


@dataclass
class CallbackAttempt:
    """A POST to /interactions/{id}/{token}/callback that reached the interaction logic (not 429'd)."""

    at: float
    body: dict[str, Any]
    status: int
    code: int | None


class InteractionRecord:
    """One interaction dispatched by the fake, and everything the bot did with it."""

    def __init__(
        self,
        fake: FakeDiscord,
        *,
        id: int,
        token: str,
        type: int,
        user: FakeUser,
        payload: dict[str, Any],
        guild_id: int | None,
        channel_id: int,
        name: str | None,
        message_type: int,
        source_message_id: int | None = None,
        opened_by: InteractionRecord | None = None,
    ) -> None:
        self._fake = fake
        self.id = id
        self.token = token
        self.type = type
        self.user = user
        self.user_id = user.id
        self.payload = payload
        self.guild_id = guild_id
        self.channel_id = channel_id
        self.name = name
        self.message_type = message_type
        self.source_message_id = source_message_id
        self.opened_by = opened_by
        self.dispatched_at: float = 0.0
        self.responses: list[dict[str, Any]] = []
        self.callbacks: list[CallbackAttempt] = []
        self.first_response_at: float | None = None
        self.ack_latency: float | None = None
        self.errors: list[int] = []
        self.messages: list[StoredMessage] = []
        self.original_id: int | None = None
        self.placeholder_id: int | None = None
        self.modal: dict[str, Any] | None = None
        self.modal_submitted = False
        self.choices: list[dict[str, Any]] | None = None
        self.expired = False
        self.finished = False

    def __repr__(self) -> str:
        return (
            f"<InteractionRecord id={self.id} type={self.type} name={self.name!r} response_type={self.response_type}"
            f" errors={self.errors} messages={[m.id for m in self.messages]}>"
        )

    # ---- state -------------------------------------------------------------------------------
    @property
    def response_type(self) -> int | None:
        """Callback type of the first accepted callback."""
        return self.responses[0]["type"] if self.responses else None

    @property
    def acknowledged(self) -> bool:
        """Whether Discord accepted a first callback."""
        return bool(self.responses)

    @property
    def failed(self) -> bool:
        """The user saw "The application did not respond" (the only callback came too late)."""
        return self.expired and not self.acknowledged

    @property
    def original(self) -> StoredMessage | None:
        """The @original message (created by a type 4/5 callback, or the component's message for 6/7)."""
        return None if self.original_id is None else self._fake.messages.get(self.original_id)

    @property
    def placeholder(self) -> StoredMessage | None:
        """The type-5 "thinking…" message (filled or not), if this interaction deferred with one."""
        return None if self.placeholder_id is None else self._fake.messages.get(self.placeholder_id)

    @property
    def source_message(self) -> StoredMessage | None:
        """The message the component (or modal-opening component) is on."""
        return None if self.source_message_id is None else self._fake.messages.get(self.source_message_id)

    def _texts(self, *, ephemeral: bool | None) -> str:
        msgs = [m for m in self.messages if not m.deleted and (ephemeral is None or m.ephemeral == ephemeral)]
        return "\n".join(m.text for m in msgs)

    @property
    def ephemeral_reply_text(self) -> str:
        """Text of the non-deleted ephemeral messages this interaction created."""
        return self._texts(ephemeral=True)

    @property
    def public_reply_text(self) -> str:
        """Text of the non-deleted public messages this interaction created."""
        return self._texts(ephemeral=False)

    @property
    def reply_text(self) -> str:
        """Text of every non-deleted message this interaction created."""
        return self._texts(ephemeral=None)

    def describe(self) -> str:
        """A one-paragraph account for assertion messages."""
        lines = [repr(self)]
        lines += [f"  callback {a.status} {a.code} {json.dumps(a.body)[:300]}" for a in self.callbacks]
        lines += [
            f"  msg {m.id} eph={m.ephemeral} loading={m.loading} deleted={m.deleted}: {m.text[:200]!r}"
            for m in self.messages
        ]
        return "\n".join(lines)

    # ---- waiting -----------------------------------------------------------------------------
    async def wait_for(self, predicate: Callable[[InteractionRecord], bool], timeout: float = 5.0) -> None:
        """Wait until `predicate(self)` holds; TimeoutError otherwise."""
        await self._fake.wait_until(lambda: predicate(self), timeout, what=lambda: self.describe())

    async def wait_response(self, timeout: float = 5.0) -> dict[str, Any]:
        """The body of the first callback the bot POSTed (accepted or not); TimeoutError if none came."""
        await self._fake.wait_until(
            lambda: bool(self.callbacks),
            timeout,
            what=lambda: f"no callback (user sees 'did not respond')\n{self.describe()}",
        )
        return self.callbacks[0].body

    async def wait_done(self, timeout: float = 5.0) -> None:
        """Wait until what the user sees is final: a 4/7/8/9 callback, a filled/deleted defer, or a failure."""
        await self._fake.wait_until(lambda: self.finished, timeout, what=lambda: f"not finished\n{self.describe()}")

    async def expect_no_response(self, within: float = 0.3) -> None:
        """Assert that the bot sends no callback for `within` seconds (e.g. an interaction_check said no)."""
        with contextlib.suppress(TimeoutError):
            await self._fake.wait_until(lambda: bool(self.callbacks), within)
        if self.callbacks:
            raise AssertionError(f"expected no response, got {self.callbacks[0].body}")


class GatewaySession:
    """One IDENTIFY'd gateway session; its websocket comes and goes across RESUMEs."""

    def __init__(self, session_id: str, identify: dict[str, Any]) -> None:
        self.session_id = session_id
        self.identify = identify
        shard = identify.get("shard")
        self.shard: tuple[int, int] | None = (int(shard[0]), int(shard[1])) if shard else None
        self.seq = 0
        self.ws: web.WebSocketResponse | None = None
        self.conn: _Conn | None = None
        self.buffer: list[tuple[int, str]] = []
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
class _Conn:
    ws: web.WebSocketResponse
    request: web.Request
    query: dict[str, str]
    server_closing: bool = False
    session: GatewaySession | None = None


@dataclass
class _Rule429:
    path_contains: str
    retry_after: float
    count: int
    is_global: bool
    method: str | None


class HttpError(Exception):
    """A Discord error answer (status + JSON body); raised by `validate_message`."""

    def __init__(self, status: int, body: dict[str, Any]) -> None:
        super().__init__(status, body)
        self.status = status
        self.body = body


def _error(status: int, code: int, message: str, errors: dict[str, Any] | None = None) -> HttpError:
    body: dict[str, Any] = {"message": message, "code": code}
    if errors:
        body["errors"] = errors
    return HttpError(status, body)


def _form_error(path: str, code: str, message: str) -> HttpError:
    return _error(400, 50035, "Invalid Form Body", {path: {"_errors": [{"code": code, "message": message}]}})


def _json_response(status: int, obj: Any) -> web.Response:
    # web.json_response would add "; charset=utf-8"; discord.py wants exactly application/json.
    return web.Response(status=status, body=json.dumps(obj).encode(), content_type="application/json")


def _too_long(value: Any, limit: int) -> bool:
    return isinstance(value, str) and len(value) > limit


def validate_message(data: dict[str, Any], *, creating: bool = True) -> None:
    """Raise HttpError (400) where Discord would reject this message body."""
    flags = int(data.get("flags") or 0)
    if flags & ~(_SENDABLE_FLAGS | LOADING):
        raise _form_error("flags", "MESSAGE_FLAGS_INVALID", f"flags {flags} contain bits a bot cannot set")
    content = data.get("content")
    if _too_long(content, 2000):
        raise _form_error("content", "BASE_TYPE_MAX_LENGTH", "Must be 2000 or fewer in length.")
    embeds = data.get("embeds") or []
    components = data.get("components") or []
    v2 = bool(flags & IS_COMPONENTS_V2)
    if v2 and (content or embeds):
        raise _form_error("content", "MESSAGE_CANNOT_USE_LEGACY_FIELDS_WITH_COMPONENTS_V2", "content/embeds with V2")
    if len(embeds) > 10:
        raise _form_error("embeds", "BASE_TYPE_MAX_LENGTH", "Must be 10 or fewer in length.")
    total = 0
    for i, e in enumerate(embeds):
        for key, limit in (("title", 256), ("description", 4096)):
            if _too_long(e.get(key), limit):
                raise _form_error(f"embeds.{i}.{key}", "BASE_TYPE_MAX_LENGTH", f"Must be {limit} or fewer in length.")
            total += len(e.get(key) or "")
        fields = e.get("fields") or []
        if len(fields) > 25:
            raise _form_error(f"embeds.{i}.fields", "BASE_TYPE_MAX_LENGTH", "Must be 25 or fewer in length.")
        for j, f in enumerate(fields):
            name, value = f.get("name"), f.get("value")
            if not name or not value:
                raise _form_error(f"embeds.{i}.fields.{j}", "BASE_TYPE_REQUIRED", "This field is required")
            if _too_long(name, 256) or _too_long(value, 1024):
                raise _form_error(f"embeds.{i}.fields.{j}", "BASE_TYPE_MAX_LENGTH", "field name/value too long")
            total += len(name) + len(value)
        footer = (e.get("footer") or {}).get("text")
        author = (e.get("author") or {}).get("name")
        if _too_long(footer, 2048) or _too_long(author, 256):
            raise _form_error(f"embeds.{i}", "BASE_TYPE_MAX_LENGTH", "footer/author too long")
        total += len(footer or "") + len(author or "")
    if total > 6000:
        raise _form_error("embeds", "MAX_EMBED_SIZE_EXCEEDED", "Embed size exceeds maximum size of 6000")
    _validate_components(components, v2=v2)
    has_body = content or embeds or components or data.get("attachments") or data.get("sticker_ids") or data.get("poll")
    if creating and not has_body:
        raise _error(400, 50006, "Cannot send an empty message")


def _validate_button(b: dict[str, Any], path: str) -> None:
    style = b.get("style")
    if style not in (1, 2, 3, 4, 5, 6):
        raise _form_error(f"{path}.style", "BUTTON_STYLE_INVALID", f"bad button style {style!r}")
    if style == 5:
        if not b.get("url") or b.get("custom_id"):
            raise _form_error(path, "BUTTON_COMPONENT_URL_REQUIRED", "link buttons need url and no custom_id")
    elif style == 6:
        if not b.get("sku_id"):
            raise _form_error(path, "BUTTON_COMPONENT_SKU_ID_REQUIRED", "premium buttons need sku_id")
    else:
        if not b.get("custom_id") or b.get("url"):
            raise _form_error(path, "BUTTON_COMPONENT_CUSTOM_ID_REQUIRED", "buttons need a custom_id and no url")
        if not b.get("label") and not b.get("emoji"):
            raise _form_error(path, "BUTTON_COMPONENT_LABEL_OR_EMOJI_REQUIRED", "buttons need a label or an emoji")
    if _too_long(b.get("label"), 80):
        raise _form_error(f"{path}.label", "BASE_TYPE_MAX_LENGTH", "Must be 80 or fewer in length.")


def _validate_select(s: dict[str, Any], path: str) -> None:
    options = s.get("options") or []
    if s.get("type") == 3 and not 1 <= len(options) <= 25:
        raise _form_error(f"{path}.options", "BASE_TYPE_BAD_LENGTH", "Must be between 1 and 25 in length.")
    for j, o in enumerate(options):
        if not o.get("label") or _too_long(o.get("label"), 100) or _too_long(o.get("value"), 100):
            raise _form_error(f"{path}.options.{j}", "BASE_TYPE_BAD_LENGTH", "option label/value 1-100")
    lo, hi = int(s.get("min_values", 1)), int(s.get("max_values", 1))
    if not 0 <= lo <= hi <= 25 or (s.get("type") == 3 and hi > len(options)):
        raise _form_error(path, "SELECT_COMPONENT_MIN_MAX_INVALID", "bad min_values/max_values")
    if _too_long(s.get("placeholder"), 150):
        raise _form_error(f"{path}.placeholder", "BASE_TYPE_MAX_LENGTH", "Must be 150 or fewer in length.")


def _validate_components(components: list[dict[str, Any]], *, v2: bool) -> None:
    if not v2:
        if len(components) > 5:
            raise _form_error("components", "BASE_TYPE_MAX_LENGTH", "Must be 5 or fewer in length.")
        for i, row in enumerate(components):
            if row.get("type") != 1:
                raise _form_error(f"components.{i}", "UNION_TYPE_CHOICES", "top-level components must be action rows")
    seen: set[str] = set()
    all_components = list(_walk_components(components))
    if v2 and len(all_components) > 40:
        raise _form_error("components", "BASE_TYPE_MAX_LENGTH", "Must be 40 or fewer components in total.")
    for k, c in enumerate(all_components):
        path = f"components[{k}]"
        ctype = c.get("type")
        if ctype == 1:
            children = c.get("components") or []
            n_buttons = sum(1 for x in children if x.get("type") == 2)
            n_selects = sum(1 for x in children if x.get("type") in _SELECT_TYPES)
            if not children or n_buttons > 5 or (n_selects and (n_selects > 1 or n_buttons)):
                raise _form_error(path, "COMPONENT_LAYOUT_WIDTH_EXCEEDED", "a row holds 1-5 buttons or one select")
        elif ctype == 2:
            _validate_button(c, path)
        elif ctype in _SELECT_TYPES:
            _validate_select(c, path)
        elif ctype in (4, 18, 19, 21, 22, 23):
            raise _form_error(path, "COMPONENT_TYPE_INVALID", f"component type {ctype} is only valid in modals")
        elif ctype not in (9, 10, 11, 12, 13, 14, 17) or not v2:
            raise _form_error(path, "COMPONENT_TYPE_INVALID", f"component type {ctype} not allowed here")
        cid = c.get("custom_id")
        if cid is not None:
            if _too_long(cid, 100):
                raise _form_error(f"{path}.custom_id", "BASE_TYPE_MAX_LENGTH", "Must be 100 or fewer in length.")
            if cid in seen:
                raise _form_error(f"{path}.custom_id", "COMPONENT_CUSTOM_ID_DUPLICATED", "custom_id duplicated")
            seen.add(cid)


def _number_components(components: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Copy the tree and give every component a numeric `id`, as Discord does in responses."""
    copied: list[dict[str, Any]] = json.loads(json.dumps(components))
    used = {c["id"] for c in _walk_components(copied) if isinstance(c.get("id"), int)}
    next_id = itertools.count(1)
    for c in _walk_components(copied):
        if not isinstance(c.get("id"), int):
            n = next(next_id)
            while n in used:
                n = next(next_id)
            c["id"] = n
            used.add(n)
    return copied


def _normalise_embeds(embeds: list[dict[str, Any]]) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = []
    for e in embeds:
        e2 = dict(e)
        e2.setdefault("type", "rich")
        e2.setdefault("content_scan_version", 0)
        out.append(e2)
    return out


def _infer_option_type(value: Any) -> int:
    if isinstance(value, bool):
        return 5
    if isinstance(value, int):
        return 4
    if isinstance(value, float):
        return 10
    if isinstance(value, FakeUser):
        return 6
    if isinstance(value, str):
        return 3
    raise TypeError(f"cannot infer an option type for {value!r}")


class FakeDiscord:
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
    ) -> None:
        self.app_id = app_id
        self.token = token if token is not None else bot_token_for(app_id)
        self.deadline = deadline
        self.bot_name = bot_name
        self.require_registered = require_registered
        self.token_ttl = token_ttl
        self.recommended_shards = recommended_shards
        self.port = 0
        self.calls: list[Call] = []
        self.unexpected_calls: list[Call] = []
        self.messages: dict[int, StoredMessage] = {}
        self.interactions: dict[int, InteractionRecord] = {}
        self._by_token: dict[str, InteractionRecord] = {}
        self.global_commands: list[dict[str, Any]] = []
        self.guild_commands: dict[int, list[dict[str, Any]]] = {}
        self._command_ids: dict[tuple[int | None, str, int], int] = {}
        self.identifies: list[dict[str, Any]] = []
        self.resumes = 0
        self.heartbeats = 0
        self.sessions: list[GatewaySession] = []
        self.gateway_connections = 0
        self.gateway_queries: list[dict[str, str]] = []
        self.gateway_closes: list[int] = []  # close codes the fake sent (4004, …)
        self.channels: dict[int, dict[str, Any]] = {}
        self._conns: set[_Conn] = set()
        self._rules_429: list[_Rule429] = []
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
        self.add_channel(DEFAULT_CHANNEL, DEFAULT_GUILD, name="general")
        self.add_channel(OTHER_CHANNEL, OTHER_GUILD, name="general")

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

    def channel_messages(self, channel_id: int, *, viewer: int | None = None) -> list[StoredMessage]:
        """Non-deleted messages of a channel that `viewer` sees (public ones plus their ephemerals), oldest first."""
        return sorted(
            (
                m
                for m in self.messages.values()
                if m.channel_id == channel_id and not m.deleted and (not m.ephemeral or m.visible_to == viewer)
            ),
            key=lambda m: m.id,
        )

    def add_channel(self, channel_id: int, guild_id: int | None, *, name: str = "general") -> dict[str, Any]:
        """Register a guild text channel (or DM channel when guild_id is None) and return its object."""
        if channel_id in self.channels:
            return self.channels[channel_id]
        if guild_id is None:
            ch: dict[str, Any] = {
                "id": str(channel_id),
                "type": 1,
                "flags": 0,
                "last_message_id": None,
                "recipients": [],
            }
        else:
            ch = {
                "id": str(channel_id),
                "type": 0,
                "name": name,
                "position": 0,
                "nsfw": False,
                "flags": 0,
                "rate_limit_per_user": 0,
                "parent_id": None,
                "last_message_id": None,
                "topic": None,
                "permissions": str(ALL_PERMISSIONS),
                "guild_id": str(guild_id),
            }
        self.channels[channel_id] = ch
        return ch

    def dm_channel_for(self, user: FakeUser) -> int:
        """The id of the bot's DM channel with `user` (registered on first use)."""
        cid = ((1_500_000_000_000 - DISCORD_EPOCH_MS) << 22) | (user.id & 0x3FFFFF)
        ch = self.add_channel(cid, None)
        ch["recipients"] = [user.to_user()]
        return cid

    def transcript(self) -> str:
        """Every REST call, one per line (for failure messages)."""
        return "\n".join(
            f"{c.at:.3f} {c.status} {c.method} {c.path} {json.dumps(c.json)[:200] if c.json else ''}"
            for c in self.calls
        )

    def register_commands(self, commands: list[dict[str, Any]], *, guild_id: int | None = None) -> list[dict[str, Any]]:
        """Store commands as if the bot had PUT them (for bots that do not sync at start-up)."""
        return self._put_commands(guild_id, commands)

    # ---- faults -------------------------------------------------------------------------------
    def rest_429_next(
        self,
        path_contains: str,
        *,
        retry_after: float = 0.3,
        count: int = 1,
        is_global: bool = False,
        method: str | None = None,
    ) -> None:
        """Answer the next `count` matching REST requests with a 429 that discord.py honours (Via header)."""
        self._rules_429.append(_Rule429(path_contains, retry_after, count, is_global, method))

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
            conn, ws = s.conn, s.ws
            assert conn is not None and ws is not None
            conn.server_closing = True
            if reconnect_op:
                async with s.lock:
                    await ws.send_str(json.dumps({"op": 7, "d": None}))
            elif code == 1006:
                transport = conn.request.transport
                if transport is not None:
                    transport.abort()
            else:
                await ws.close(code=code, message=b"fake discord dropped the connection")
        if wait:
            await self.wait_until(
                lambda: all(s.resumes > before[s.session_id] and s.connected for s in targets),
                timeout,
                what=lambda: f"no RESUME after drop; sessions: {self.sessions}",
            )

    async def invalidate_session(self, *, shard_id: int | None = None, resumable: bool = False) -> None:
        """Send op 9 INVALID_SESSION; with resumable=False the bot must IDENTIFY again."""
        for s in [s for s in self.live_sessions if shard_id is None or s.shard_id == shard_id]:
            assert s.ws is not None and s.conn is not None
            s.conn.server_closing = True
            if not resumable:
                s.invalid = True
            async with s.lock:
                await s.ws.send_str(json.dumps({"op": 9, "d": resumable}))

    # ---- gateway ------------------------------------------------------------------------------
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

    async def _send_dispatch(
        self, session: GatewaySession, event: str, data: dict[str, Any], before_send: Callable[[], None] | None = None
    ) -> None:
        async with session.lock:
            session.seq += 1
            frame = json.dumps({"op": 0, "s": session.seq, "t": event, "d": data})
            session.buffer.append((session.seq, frame))
            del session.buffer[:-1000]
            if before_send is not None:
                before_send()
            ws = session.ws
            if ws is not None and not ws.closed:
                with contextlib.suppress(ConnectionError, RuntimeError):
                    await ws.send_str(frame)

    async def _close_ws(self, conn: _Conn, code: int, message: str) -> None:
        self.gateway_closes.append(code)
        conn.server_closing = True
        await conn.ws.close(code=code, message=message.encode())

    async def _gateway(self, request: web.Request) -> web.WebSocketResponse:
        ws = web.WebSocketResponse(max_msg_size=0, timeout=2.0)
        await ws.prepare(request)
        conn = _Conn(ws=ws, request=request, query=dict(request.query))
        self._conns.add(conn)
        self.gateway_connections += 1
        self.gateway_queries.append(conn.query)
        try:
            await ws.send_str(json.dumps({"op": 10, "d": {"heartbeat_interval": HEARTBEAT_INTERVAL_MS}}))
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
            session = conn.session
            if session is not None and session.conn is conn:
                session.ws = None
                session.conn = None
                if not conn.server_closing and ws.close_code in (1000, 1001):
                    session.invalid = True  # a clean client close ends the session
            self._notify()
        return ws

    async def _gateway_op(self, conn: _Conn, payload: dict[str, Any]) -> None:
        op = payload.get("op")
        raw_d = payload.get("d")
        d: dict[str, Any] = raw_d if isinstance(raw_d, dict) else {}
        ws = conn.ws
        if op == 1:
            self.heartbeats += 1
            lock = conn.session.lock if conn.session is not None else asyncio.Lock()
            async with lock:
                await ws.send_str(json.dumps({"op": 11}))
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

    async def _identify(self, conn: _Conn, d: dict[str, Any]) -> None:
        self.identifies.append(d)
        self._notify()
        if conn.session is not None:
            await self._close_ws(conn, 4005, "Already authenticated.")
            return
        if d.get("token") != self.token:
            await self._close_ws(conn, 4004, "Authentication failed.")
            return
        shard = d.get("shard")
        if shard is not None and (len(shard) != 2 or not 0 <= int(shard[0]) < int(shard[1])):
            await self._close_ws(conn, 4010, "Invalid shard.")
            return
        session = GatewaySession(uuid.uuid4().hex, d)
        session.ws, session.conn, conn.session = conn.ws, conn, session
        self.sessions.append(session)
        ready: dict[str, Any] = {
            "v": 10,
            "user": self.bot_user,
            "guilds": [],
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
        if shard is not None:
            ready["shard"] = [int(shard[0]), int(shard[1])]
        await self._send_dispatch(session, "READY", ready)
        session.ready = True
        self._notify()

    async def _resume(self, conn: _Conn, d: dict[str, Any]) -> None:
        session = next((s for s in self.sessions if s.session_id == d.get("session_id")), None)
        if d.get("token") != self.token:
            await self._close_ws(conn, 4004, "Authentication failed.")
            return
        if session is None or session.invalid:
            await conn.ws.send_str(json.dumps({"op": 9, "d": False}))
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
                    await conn.ws.send_str(frame)
            session.seq += 1
            await conn.ws.send_str(json.dumps({"op": 0, "s": session.seq, "t": "RESUMED", "d": {"_trace": []}}))
        session.resumes += 1
        self.resumes += 1
        self._notify()

    # ---- building interactions ----------------------------------------------------------------
    def _find_command(self, name: str, ctype: int, guild_id: int | None) -> tuple[dict[str, Any] | None, int | None]:
        if guild_id is not None:
            for cmd in self.guild_commands.get(guild_id, []):
                if cmd["name"] == name and cmd.get("type", 1) == ctype:
                    return cmd, guild_id
        for cmd in self.global_commands:
            if cmd["name"] == name and cmd.get("type", 1) == ctype:
                if guild_id is None and (cmd.get("dm_permission") is False or 1 not in (cmd.get("contexts") or [1])):
                    raise PermissionError(f"/{name} is not available in DMs")
                return cmd, None
        if self.require_registered:
            known = [c["name"] for c in self.global_commands] + [
                c["name"] for c in self.guild_commands.get(guild_id or 0, [])
            ]
            raise LookupError(
                f"command {name!r} (type {ctype}) is not registered for guild {guild_id} "
                f"(the user's client would not offer it); registered: {known}"
            )
        return None, None

    def _build_options(
        self,
        schema: list[dict[str, Any]] | None,
        options: dict[str, Any],
        *,
        focused: str | None,
        resolved: dict[str, dict[str, Any]],
        guild: bool,
    ) -> list[dict[str, Any]]:
        out: list[dict[str, Any]] = []
        by_name = {o["name"]: o for o in schema or []}
        for name, value in options.items():
            spec = by_name.get(name)
            if schema is not None and spec is None:
                raise ValueError(f"option {name!r} does not exist; options are {sorted(by_name)}")
            otype = int(spec["type"]) if spec else _infer_option_type(value)
            entry: dict[str, Any] = {"name": name, "type": otype}
            if name == focused:
                entry["value"] = value if isinstance(value, str) else str(value)
                entry["focused"] = True
                out.append(entry)
                continue
            if otype == 6:
                if not isinstance(value, FakeUser):
                    raise TypeError(f"option {name!r} is a user option; pass a FakeUser")
                entry["value"] = str(value.id)
                resolved.setdefault("users", {})[str(value.id)] = value.to_user()
                if guild:
                    resolved.setdefault("members", {})[str(value.id)] = value.to_member(with_user=False)
            elif otype in (7, 8, 9, 11):
                raise NotImplementedError(f"option type {otype} ({name!r}) is not modelled by the fake")
            else:
                ok = {
                    3: isinstance(value, str),
                    4: isinstance(value, int) and not isinstance(value, bool),
                    5: isinstance(value, bool),
                    10: isinstance(value, (int, float)) and not isinstance(value, bool),
                }.get(otype, True)
                if not ok:
                    raise TypeError(f"option {name!r} has type {otype}; {value!r} cannot be entered there")
                if spec:
                    self._check_option_value(spec, value)
                entry["value"] = value
            out.append(entry)
        if schema is not None and focused is None:
            missing = [o["name"] for o in schema if o.get("required") and o["name"] not in options]
            if missing:
                raise ValueError(f"required options missing: {missing}")
        return out

    @staticmethod
    def _check_option_value(spec: dict[str, Any], value: Any) -> None:
        choices = spec.get("choices")
        if choices and value not in [c["value"] for c in choices]:
            raise ValueError(f"{value!r} is not a choice of {spec['name']!r}: {[c['value'] for c in choices]}")
        if isinstance(value, str):
            if len(value) < int(spec.get("min_length") or 0) or len(value) > int(spec.get("max_length") or 6000):
                raise ValueError(f"{spec['name']!r}: length of {value!r} outside min/max_length")
        elif isinstance(value, (int, float)):
            if spec.get("min_value") is not None and value < spec["min_value"]:
                raise ValueError(f"{spec['name']!r}: {value} < min_value {spec['min_value']}")
            if spec.get("max_value") is not None and value > spec["max_value"]:
                raise ValueError(f"{spec['name']!r}: {value} > max_value {spec['max_value']}")

    def _envelope(
        self,
        itype: int,
        data: dict[str, Any],
        *,
        user: FakeUser,
        guild_id: int | None,
        channel_id: int | None,
        locale: str,
        at: float | None,
        message: dict[str, Any] | None = None,
    ) -> tuple[int, str, dict[str, Any], int]:
        iid = snowflake(at)
        raw_token = f"interaction:{iid}:{secrets.token_urlsafe(48)}".encode()
        token = base64.urlsafe_b64encode(raw_token).decode().rstrip("=")
        if guild_id is None:
            channel_id = self.dm_channel_for(user) if channel_id in (None, DEFAULT_CHANNEL) else channel_id
        elif channel_id is None:
            channel_id = DEFAULT_CHANNEL
        channel = self.add_channel(channel_id, guild_id)
        d: dict[str, Any] = {
            "id": str(iid),
            "application_id": str(self.app_id),
            "type": itype,
            "token": token,
            "version": 1,
            "data": data,
            "channel_id": str(channel_id),
            "channel": channel,
            "app_permissions": str(ALL_PERMISSIONS),
            "locale": locale,
            "entitlements": [],
            "attachment_size_limit": ATTACHMENT_SIZE_LIMIT,
        }
        if guild_id is not None:
            d["guild_id"] = str(guild_id)
            d["guild"] = {"id": str(guild_id), "locale": "en-US", "features": []}
            d["guild_locale"] = "en-US"
            d["member"] = user.to_member()
            d["authorizing_integration_owners"] = {"0": str(guild_id)}
            d["context"] = 0
        else:
            d["user"] = user.to_user()
            d["authorizing_integration_owners"] = {"0": "0"}
            d["context"] = 1
        if message is not None:
            d["message"] = message
        return iid, token, d, channel_id

    async def _launch(
        self,
        itype: int,
        data: dict[str, Any],
        *,
        user: FakeUser,
        guild_id: int | None,
        channel_id: int | None,
        locale: str,
        at: float | None,
        name: str | None,
        message_type: int,
        message: StoredMessage | None = None,
        opened_by: InteractionRecord | None = None,
    ) -> InteractionRecord:
        session = self._session_for(guild_id)
        iid, token, d, cid = self._envelope(
            itype,
            data,
            user=user,
            guild_id=guild_id,
            channel_id=channel_id,
            locale=locale,
            at=at,
            message=None if message is None else message.to_payload(),
        )
        rec = InteractionRecord(
            self,
            id=iid,
            token=token,
            type=itype,
            user=user,
            payload=d,
            guild_id=guild_id,
            channel_id=cid,
            name=name,
            message_type=message_type,
            source_message_id=None if message is None else message.id,
            opened_by=opened_by,
        )
        self.interactions[iid] = rec
        self._by_token[token] = rec

        def stamp() -> None:
            rec.dispatched_at = time.monotonic()

        await self._send_dispatch(session, "INTERACTION_CREATE", d, before_send=stamp)
        return rec

    async def slash(
        self,
        name: str,
        options: dict[str, Any] | None = None,
        *,
        user: FakeUser,
        guild_id: int | None = DEFAULT_GUILD,
        channel_id: int | None = None,
        locale: str = "en-US",
        at: float | None = None,
        subcommand: str | None = None,
    ) -> InteractionRecord:
        """Dispatch a chat-input command (type 2); `subcommand` is "sub" or "group sub". Returns at once."""
        cmd, cmd_guild = self._find_command(name, 1, guild_id)
        schema: list[dict[str, Any]] | None = None if cmd is None else list(cmd.get("options") or [])
        schema, chain = self._descend(name, schema, subcommand)
        resolved: dict[str, dict[str, Any]] = {}
        leaf = self._build_options(schema, options or {}, focused=None, resolved=resolved, guild=guild_id is not None)
        data = self._command_data(name, 1, cmd, cmd_guild, self._nest(chain, leaf), resolved)
        return await self._launch(
            APPLICATION_COMMAND,
            data,
            user=user,
            guild_id=guild_id,
            channel_id=channel_id,
            locale=locale,
            at=at,
            name=name,
            message_type=20,
        )

    @staticmethod
    def _descend(
        name: str, schema: list[dict[str, Any]] | None, subcommand: str | None
    ) -> tuple[list[dict[str, Any]] | None, list[tuple[str, int]]]:
        """Walk "group sub" down the registered option tree; returns the leaf schema and the (name, type) chain."""
        parts = subcommand.split() if subcommand else []
        chain: list[tuple[str, int]] = []
        for k, part in enumerate(parts):
            spec = None if schema is None else next((o for o in schema if o["name"] == part), None)
            if schema is not None and (spec is None or spec.get("type") not in (1, 2)):
                raise ValueError(f"/{name} has no subcommand {part!r}")
            chain.append((part, int(spec["type"]) if spec else (2 if k < len(parts) - 1 else 1)))
            schema = None if spec is None else list(spec.get("options") or [])
        if schema is not None and any(o.get("type") in (1, 2) for o in schema):
            raise ValueError(f"/{name} needs a subcommand (subcommand=...)")
        return schema, chain

    @staticmethod
    def _nest(chain: list[tuple[str, int]], leaf: list[dict[str, Any]]) -> list[dict[str, Any]]:
        options = leaf
        for part, ptype in reversed(chain):
            options = [{"name": part, "type": ptype, "options": options}]
        return options

    def _command_data(
        self,
        name: str,
        ctype: int,
        cmd: dict[str, Any] | None,
        cmd_guild: int | None,
        options: list[dict[str, Any]] | None,
        resolved: dict[str, dict[str, Any]],
    ) -> dict[str, Any]:
        data: dict[str, Any] = {"id": cmd["id"] if cmd else str(snowflake()), "name": name, "type": ctype}
        if options is not None:
            data["options"] = options
        if resolved:
            data["resolved"] = resolved
        if cmd_guild is not None:
            data["guild_id"] = str(cmd_guild)
        return data

    async def autocomplete(
        self,
        name: str,
        options: dict[str, Any],
        focused: str,
        *,
        user: FakeUser,
        guild_id: int | None = DEFAULT_GUILD,
        channel_id: int | None = None,
        locale: str = "en-US",
        at: float | None = None,
        subcommand: str | None = None,
    ) -> InteractionRecord:
        """Dispatch an autocomplete (type 4) for option `focused`; choices land in `record.choices`."""
        if focused not in options:
            raise ValueError(f"focused option {focused!r} must be in options")
        cmd, cmd_guild = self._find_command(name, 1, guild_id)
        schema: list[dict[str, Any]] | None = None if cmd is None else list(cmd.get("options") or [])
        schema, chain = self._descend(name, schema, subcommand)
        if schema is not None:
            spec = next((o for o in schema if o["name"] == focused), None)
            if spec is None or not spec.get("autocomplete"):
                raise ValueError(f"option {focused!r} of /{name} has no autocomplete")
        resolved: dict[str, dict[str, Any]] = {}
        leaf = self._build_options(schema, options, focused=focused, resolved=resolved, guild=guild_id is not None)
        data = self._command_data(name, 1, cmd, cmd_guild, self._nest(chain, leaf), resolved)
        return await self._launch(
            AUTOCOMPLETE,
            data,
            user=user,
            guild_id=guild_id,
            channel_id=channel_id,
            locale=locale,
            at=at,
            name=name,
            message_type=20,
        )

    async def message_command(
        self,
        name: str,
        target: StoredMessage | dict[str, Any],
        *,
        user: FakeUser,
        locale: str = "en-US",
        at: float | None = None,
    ) -> InteractionRecord:
        """Dispatch a message context-menu command (type 2, data.type 3) on `target`, in the target's channel."""
        if isinstance(target, StoredMessage):
            if target.deleted:
                raise ValueError(f"message {target.id} is deleted")
            if target.ephemeral and target.visible_to != user.id:
                raise PermissionError(f"user {user.id} cannot see ephemeral message {target.id}")
            payload, channel_id, guild_id = target.to_payload(), target.channel_id, target.guild_id
        else:
            payload = target
            channel_id = int(target["channel_id"])
            guild_id = int(target["guild_id"]) if target.get("guild_id") else DEFAULT_GUILD
        cmd, cmd_guild = self._find_command(name, 3, guild_id)
        data = self._command_data(name, 3, cmd, cmd_guild, None, {"messages": {str(payload["id"]): payload}})
        data["target_id"] = str(payload["id"])
        return await self._launch(
            APPLICATION_COMMAND,
            data,
            user=user,
            guild_id=guild_id,
            channel_id=channel_id,
            locale=locale,
            at=at,
            name=name,
            message_type=23,
        )

    async def user_command(
        self,
        name: str,
        target: FakeUser,
        *,
        user: FakeUser,
        guild_id: int | None = DEFAULT_GUILD,
        channel_id: int | None = None,
        locale: str = "en-US",
        at: float | None = None,
    ) -> InteractionRecord:
        """Dispatch a user context-menu command (type 2, data.type 2) on `target`."""
        cmd, cmd_guild = self._find_command(name, 2, guild_id)
        resolved: dict[str, dict[str, Any]] = {"users": {str(target.id): target.to_user()}}
        if guild_id is not None:
            resolved["members"] = {str(target.id): target.to_member(with_user=False)}
        data = self._command_data(name, 2, cmd, cmd_guild, None, resolved)
        data["target_id"] = str(target.id)
        return await self._launch(
            APPLICATION_COMMAND,
            data,
            user=user,
            guild_id=guild_id,
            channel_id=channel_id,
            locale=locale,
            at=at,
            name=name,
            message_type=23,
        )

    def _clickable(self, message_id: int, user: FakeUser) -> StoredMessage:
        msg = self.messages.get(message_id)
        if msg is None:
            raise KeyError(f"no message {message_id}")
        if msg.deleted:
            raise ValueError(f"message {message_id} is deleted; nobody can click it")
        if msg.loading:
            raise ValueError(f"message {message_id} is still a 'thinking…' placeholder")
        if msg.ephemeral and msg.visible_to != user.id:
            raise PermissionError(f"user {user.id} cannot see ephemeral message {message_id}")
        return msg

    async def click(
        self, message_id: int, button: str, *, user: FakeUser, at: float | None = None, locale: str = "en-US"
    ) -> InteractionRecord:
        """Click a button on a stored message (by unicode emoji name, label or custom_id), as a real client does;
        `locale` is the clicking client's language."""
        msg = self._clickable(message_id, user)
        b = msg.button(button)
        if b.get("disabled"):
            raise ValueError(f"button {button!r} on message {message_id} is disabled")
        if b.get("style") in (5, 6) or "custom_id" not in b:
            raise ValueError(f"button {button!r} is a link/premium button; clicking it sends no interaction")
        data: dict[str, Any] = {"custom_id": b["custom_id"], "component_type": 2}
        if isinstance(b.get("id"), int):
            data["id"] = b["id"]
        return await self._component(msg, data, user=user, at=at, locale=locale)

    async def select(
        self,
        message_id: int,
        values: list[str],
        *,
        user: FakeUser,
        custom_id: str | None = None,
        at: float | None = None,
        locale: str = "en-US",
    ) -> InteractionRecord:
        """Choose `values` in a string select on a stored message (`custom_id` needed if it has several)."""
        msg = self._clickable(message_id, user)
        selects = [s for s in msg.selects() if custom_id is None or s.get("custom_id") == custom_id]
        if len(selects) != 1:
            raise KeyError(f"need exactly one select (custom_id={custom_id!r}) on {message_id}; found {len(selects)}")
        s = selects[0]
        if s.get("disabled"):
            raise ValueError(f"select {s.get('custom_id')!r} is disabled")
        if s.get("type") != 3:
            raise NotImplementedError("only string selects (type 3) are modelled")
        allowed = [o["value"] for o in s.get("options") or []]
        if any(v not in allowed for v in values) or len(set(values)) != len(values):
            raise ValueError(f"values {values} are not distinct options of {allowed}")
        if not int(s.get("min_values", 1)) <= len(values) <= int(s.get("max_values", 1)):
            raise ValueError(f"{len(values)} values outside min/max_values of the select")
        data: dict[str, Any] = {"custom_id": s["custom_id"], "component_type": 3, "values": values}
        if isinstance(s.get("id"), int):
            data["id"] = s["id"]
        return await self._component(msg, data, user=user, at=at, locale=locale)

    async def _component(
        self, msg: StoredMessage, data: dict[str, Any], *, user: FakeUser, at: float | None, locale: str = "en-US"
    ) -> InteractionRecord:
        return await self._launch(
            MESSAGE_COMPONENT,
            data,
            user=user,
            guild_id=msg.guild_id,
            channel_id=msg.channel_id,
            locale=locale,
            at=at,
            name=None,
            message_type=0,
            message=msg,
        )

    async def submit_modal(
        self,
        opened_by: InteractionRecord,
        values: dict[str, str | list[str] | bool],
        *,
        at: float | None = None,
    ) -> InteractionRecord:
        """Submit the modal `opened_by` answered with (callback 9), mirroring its rows (type 1) and labels (type 18)."""
        modal = opened_by.modal
        if modal is None:
            raise ValueError(
                f"interaction {opened_by.id} did not open a modal (response_type={opened_by.response_type})"
            )
        if opened_by.modal_submitted:
            raise ValueError("this modal was already submitted (it closed)")
        unknown = set(values) - {c.get("custom_id") for c in _walk_components(modal["components"])}
        if unknown:
            raise KeyError(f"modal {modal['custom_id']!r} has no inputs {sorted(unknown)}")

        def answer(comp: dict[str, Any]) -> dict[str, Any]:
            ctype, cid = comp.get("type"), comp.get("custom_id")
            out: dict[str, Any] = {"type": ctype, "id": comp.get("id", 0)}
            if cid is None:
                return out
            out["custom_id"] = cid
            given = values.get(cid)
            if ctype == 4:
                text = str(given) if given is not None else str(comp.get("value") or "")
                if comp.get("required", True) and not text:
                    raise ValueError(f"text input {cid!r} is required")
                lo, hi = int(comp.get("min_length") or 0), int(comp.get("max_length") or 4000)
                if text and not lo <= len(text) <= hi:
                    raise ValueError(f"text input {cid!r}: length {len(text)} outside {lo}..{hi}")
                out["value"] = text
            elif ctype == 23:
                out["value"] = bool(given)
            elif ctype == 21:
                out["value"] = given
            else:
                if given is None or isinstance(given, bool):
                    out["values"] = []
                else:
                    out["values"] = [given] if isinstance(given, str) else list(given)
            return out

        components: list[dict[str, Any]] = []
        for top in modal["components"]:
            if top.get("type") == 1:
                components.append(
                    {"type": 1, "id": top.get("id", 0), "components": [answer(c) for c in top["components"]]}
                )
            elif top.get("type") == 18:
                components.append({"type": 18, "id": top.get("id", 0), "component": answer(top["component"])})
            else:
                components.append({"type": top.get("type"), "id": top.get("id", 0)})
        opened_by.modal_submitted = True
        data = {"custom_id": modal["custom_id"], "components": components}
        source = opened_by.source_message if opened_by.type == MESSAGE_COMPONENT else None
        return await self._launch(
            MODAL_SUBMIT,
            data,
            user=opened_by.user,
            guild_id=opened_by.guild_id,
            channel_id=opened_by.channel_id,
            locale=str(opened_by.payload.get("locale", "en-US")),
            at=at,
            name=None,
            message_type=0,
            message=source,
            opened_by=opened_by,
        )

    def post_user_message(
        self, channel_id: int, content: str, *, author: FakeUser, guild_id: int | None = None
    ) -> StoredMessage:
        """Store a plain message written by a user (e.g. a target for a context-menu command)."""
        if guild_id is None:
            ch = self.channels.get(channel_id)
            guild_id = int(ch["guild_id"]) if ch and ch.get("guild_id") else (None if ch else DEFAULT_GUILD)
        self.add_channel(channel_id, guild_id)
        msg = StoredMessage(
            id=snowflake(),
            channel_id=channel_id,
            content=content,
            embeds=[],
            components=[],
            flags=0,
            ephemeral=False,
            visible_to=None,
            deleted=False,
            interaction_id=None,
            author_id=author.id,
            edits=0,
            allowed_mentions=None,
            loading=False,
            guild_id=guild_id,
            type=0,
            author=author.to_user(),
        )
        self.messages[msg.id] = msg
        return msg

    # ---- REST ---------------------------------------------------------------------------------
    async def _rest(self, request: web.Request) -> web.StreamResponse:
        path = request.path[len(API_PREFIX) :] if request.path.startswith(API_PREFIX + "/") else request.path
        body: Any = None
        files: list[dict[str, Any]] = []
        ctype = request.headers.get("Content-Type", "")
        if ctype.startswith("multipart/"):
            reader = await request.multipart()
            async for part in reader:
                if not isinstance(part, BodyPartReader):
                    continue
                raw = await part.read()
                if part.name == "payload_json":
                    body = json.loads(raw)
                else:
                    files.append({"name": part.name, "filename": part.filename, "size": len(raw)})
        elif request.can_read_body:
            raw_text = await request.text()
            if raw_text:
                try:
                    body = json.loads(raw_text)
                except ValueError:
                    body = raw_text
        call = Call(
            at=time.monotonic(),
            method=request.method,
            path=path,
            query=dict(request.query),
            json=body,
            authorization=request.headers.get("Authorization"),
            files=files,
        )
        self.calls.append(call)
        try:
            response = self._maybe_429(call) or await self._route(call, request)
        except HttpError as exc:
            response = _json_response(exc.status, exc.body)
        call.status = response.status
        self._notify()
        return response

    def _maybe_429(self, call: Call) -> web.Response | None:
        for rule in self._rules_429:
            if rule.count > 0 and rule.path_contains in call.path and rule.method in (None, call.method):
                rule.count -= 1
                body = {
                    "message": "You are being rate limited.",
                    "retry_after": rule.retry_after,
                    "global": rule.is_global,
                }
                resp = _json_response(429, body)
                resp.headers["Via"] = "1.1 google"
                resp.headers["Retry-After"] = str(max(1, round(rule.retry_after)))
                resp.headers["X-RateLimit-Scope"] = "global" if rule.is_global else "user"
                if not rule.is_global:
                    resp.headers["X-RateLimit-Limit"] = "5"
                    resp.headers["X-RateLimit-Remaining"] = "0"
                    resp.headers["X-RateLimit-Reset-After"] = f"{rule.retry_after:.3f}"
                    resp.headers["X-RateLimit-Bucket"] = "fakebucket"
                return resp
        return None

    def _require_bot_auth(self, call: Call) -> None:
        if call.authorization != f"Bot {self.token}":
            raise _error(401, 0, "401: Unauthorized")

    async def _route(self, call: Call, request: web.Request) -> web.Response:
        m, p = call.method, call.path
        app = str(self.app_id)
        if match := re.fullmatch(r"/interactions/(\d+)/([^/]+)/callback", p):
            if m != "POST":
                return self._unexpected(call, 405)
            return self._callback(int(match[1]), match[2], call)
        if match := re.fullmatch(r"/webhooks/(\d+)/([^/]+)(?:/messages/(@original|\d+))?", p):
            if match[1] != app:
                raise _error(404, 10015, "Unknown Webhook")
            return self._webhook(match[2], match[3], call)
        bot_routes = (
            r"/users/@me",
            r"/oauth2/applications/@me",
            r"/gateway/bot",
            r"/applications/\d+(?:/guilds/\d+)?/commands",
            r"/channels/\d+/messages(?:/\d+)?",
        )
        if not any(re.fullmatch(r, p) for r in bot_routes):
            return self._unexpected(call, 404)
        self._require_bot_auth(call)
        if p == "/users/@me" and m == "GET":
            return _json_response(200, self.bot_user)
        if p == "/oauth2/applications/@me" and m == "GET":
            return _json_response(200, self._app_info())
        if p == "/gateway/bot" and m == "GET":
            limit = {"total": 1000, "remaining": 999, "reset_after": 86_400_000, "max_concurrency": 1}
            return _json_response(
                200, {"url": self.gateway_url, "shards": self.recommended_shards, "session_start_limit": limit}
            )
        if match := re.fullmatch(r"/applications/(\d+)(?:/guilds/(\d+))?/commands", p):
            if match[1] != app:
                raise _error(403, 20012, "You are not authorized to perform this action on this application")
            guild_id = int(match[2]) if match[2] else None
            if m == "PUT":
                return _json_response(200, self._put_commands(guild_id, call.json))
            if m == "GET":
                stored = self.global_commands if guild_id is None else self.guild_commands.get(guild_id, [])
                return _json_response(200, stored)
        if match := re.fullmatch(r"/channels/(\d+)/messages(?:/(\d+))?", p):
            return self._channel_messages_route(int(match[1]), int(match[2]) if match[2] else None, call)
        return self._unexpected(call, 405)

    def _unexpected(self, call: Call, status: int) -> web.Response:
        self.unexpected_calls.append(call)
        if status == 405:
            return _json_response(405, {"message": "405: Method Not Allowed", "code": 0})
        return _json_response(404, {"message": "Unknown route", "code": 0})

    def _app_info(self) -> dict[str, Any]:
        return {
            "id": str(self.app_id),
            "name": self.bot_name,
            "description": "",
            "icon": None,
            "bot_public": True,
            "bot_require_code_grant": False,
            "owner": {"id": "100000000000000001", "username": "owner", "discriminator": "0", "avatar": None},
            "verify_key": "0" * 64,
            "flags": 0,
            "team": None,
            "interactions_endpoint_url": None,
            "rpc_origins": [],
            "tags": [],
            "bot": self.bot_user,
        }

    def _put_commands(self, guild_id: int | None, body: Any) -> list[dict[str, Any]]:
        if not isinstance(body, list):
            raise _form_error("_root", "BASE_TYPE_ARRAY", "expected a list of commands")
        if len(body) > 100:
            raise _form_error("_root", "BASE_TYPE_MAX_LENGTH", "Must be 100 or fewer in length.")
        seen: set[tuple[str, int]] = set()
        out: list[dict[str, Any]] = []
        version = str(snowflake())
        for i, cmd in enumerate(body):
            name, ctype = cmd.get("name", ""), int(cmd.get("type", 1))
            bad_name = not re.fullmatch(r"[-_\w]{1,32}", name or "") or name != name.lower()
            if (ctype == 1 and bad_name) or not 1 <= len(name or "") <= 32:
                raise _form_error(f"{i}.name", "APPLICATION_COMMAND_INVALID_NAME", f"bad command name {name!r}")
            if ctype == 1 and not 1 <= len(cmd.get("description") or "") <= 100:
                raise _form_error(f"{i}.description", "BASE_TYPE_BAD_LENGTH", "Must be between 1 and 100 in length.")
            if (name, ctype) in seen:
                raise _form_error(f"{i}.name", "APPLICATION_COMMANDS_DUPLICATE_NAME", f"duplicate command {name!r}")
            seen.add((name, ctype))
            self._check_command_options(cmd.get("options") or [], f"{i}.options")
            key = (guild_id, name, ctype)
            cid = self._command_ids.setdefault(key, snowflake())
            stored = {
                "type": 1,
                "description": "",
                "options": [],
                "default_member_permissions": None,
                "dm_permission": True,
                "contexts": None,
                "integration_types": [0],
                "nsfw": False,
                "name_localizations": None,
                "description_localizations": None,
                **cmd,
                "id": str(cid),
                "application_id": str(self.app_id),
                "version": version,
            }
            if guild_id is not None:
                stored["guild_id"] = str(guild_id)
            out.append(stored)
        if guild_id is None:
            self.global_commands = out
        else:
            self.guild_commands[guild_id] = out
        return out

    def _check_command_options(self, options: list[dict[str, Any]], path: str) -> None:
        if len(options) > 25:
            raise _form_error(path, "BASE_TYPE_MAX_LENGTH", "Must be 25 or fewer in length.")
        optional_seen = False
        for j, o in enumerate(options):
            if o.get("type") in (1, 2):
                self._check_command_options(o.get("options") or [], f"{path}.{j}.options")
                continue
            if o.get("required"):
                if optional_seen:
                    raise _form_error(
                        f"{path}.{j}", "APPLICATION_COMMAND_OPTIONS_REQUIRED_INVALID", "required after optional"
                    )
            else:
                optional_seen = True
            if len(o.get("choices") or []) > 25:
                raise _form_error(f"{path}.{j}.choices", "BASE_TYPE_MAX_LENGTH", "Must be 25 or fewer in length.")

    # ---- messages -------------------------------------------------------------------------------
    def _new_message(
        self,
        data: dict[str, Any],
        *,
        channel_id: int,
        guild_id: int | None,
        flags: int,
        visible_to: int | None,
        rec: InteractionRecord | None,
        msg_type: int,
        loading: bool = False,
        files: list[dict[str, Any]] | None = None,
    ) -> StoredMessage:
        ephemeral = bool(flags & EPHEMERAL)
        meta: dict[str, Any] | None = None
        legacy: dict[str, Any] | None = None
        if rec is not None:
            meta = {
                "id": str(rec.id),
                "type": rec.type,
                "user": rec.user.to_user(),
                "authorizing_integration_owners": rec.payload.get("authorizing_integration_owners", {}),
            }
            if rec.type == APPLICATION_COMMAND:
                meta["name"] = rec.name
                meta["command_type"] = rec.payload["data"].get("type", 1)
                legacy = {"id": str(rec.id), "type": rec.type, "name": rec.name, "user": rec.user.to_user()}
                if rec.guild_id is not None:
                    legacy["member"] = rec.user.to_member(with_user=False)
            if rec.source_message_id is not None:
                meta["interacted_message_id"] = str(rec.source_message_id)
            if rec.original_id is not None:
                meta["original_response_message_id"] = str(rec.original_id)
        msg = StoredMessage(
            id=snowflake(),
            channel_id=channel_id,
            content=data.get("content") or "",
            embeds=_normalise_embeds(data.get("embeds") or []),
            components=_number_components(data.get("components") or []),
            flags=flags,
            ephemeral=ephemeral,
            visible_to=visible_to if ephemeral else None,
            deleted=False,
            interaction_id=None if rec is None else rec.id,
            author_id=self.app_id,
            edits=0,
            allowed_mentions=data.get("allowed_mentions"),
            loading=loading,
            guild_id=guild_id,
            type=msg_type,
            author=self.bot_user,
            attachments=self._attachments(data, files or [], []),
            tts=bool(data.get("tts")),
            webhook_id=None if rec is None else self.app_id,
            application_id=None if rec is None else self.app_id,
            interaction_metadata=meta,
            legacy_interaction=legacy,
            loading_text=f"{self.bot_name} is thinking…",
            allowed_mentions_history=[data.get("allowed_mentions")],
        )
        self.messages[msg.id] = msg
        if rec is not None:
            rec.messages.append(msg)
        return msg

    @staticmethod
    def _attachments(
        data: dict[str, Any], files: list[dict[str, Any]], existing: list[dict[str, Any]]
    ) -> list[dict[str, Any]]:
        out: list[dict[str, Any]] = []
        keep = {str(a.get("id")) for a in data.get("attachments") or []}
        out.extend(a for a in existing if str(a["id"]) in keep)
        for f in files:
            aid = snowflake()
            name = f.get("filename") or "file"
            out.append(
                {
                    "id": str(aid),
                    "filename": name,
                    "size": f.get("size", 0),
                    "url": f"https://cdn.discordapp.com/attachments/0/{aid}/{name}",
                    "proxy_url": f"https://media.discordapp.net/attachments/0/{aid}/{name}",
                    "content_type": "application/octet-stream",
                }
            )
        return out

    def _edit_message(
        self, msg: StoredMessage, data: dict[str, Any], files: list[dict[str, Any]], *, fill: bool = False
    ) -> None:
        """Replace only the keys given; a fill of a loading placeholder is not an edit."""
        merged = {
            "content": data.get("content", msg.content),
            "embeds": data.get("embeds", msg.embeds),
            "components": data.get("components", msg.components),
            "attachments": data.get("attachments", msg.attachments),
            "flags": (msg.flags & ~LOADING) if "flags" not in data else int(data["flags"] or 0),
        }
        if files:
            merged["attachments"] = [*(merged["attachments"] or []), {"id": "new"}]
        validate_message(merged, creating=True)
        msg.history.append(msg.to_payload())
        if "content" in data:
            msg.content = data["content"] or ""
        if "embeds" in data:
            msg.embeds = _normalise_embeds(data["embeds"] or [])
        if "components" in data:
            msg.components = _number_components(data["components"] or [])
        if "attachments" in data or files:
            msg.attachments = self._attachments(data, files, msg.attachments)
        if "flags" in data and data["flags"] is not None:
            # visibility can never change by an edit; other bits can
            msg.flags = (int(data["flags"]) & ~(EPHEMERAL | LOADING)) | (msg.flags & EPHEMERAL)
        msg.allowed_mentions = data.get("allowed_mentions")
        msg.allowed_mentions_history.append(data.get("allowed_mentions"))
        if msg.loading or fill:
            msg.loading = False
            msg.flags &= ~LOADING
        else:
            msg.edits += 1
            msg.edited_at = time.time()

    # ---- interaction callbacks ------------------------------------------------------------------
    def _fail(self, rec: InteractionRecord | None, status: int, code: int, message: str) -> HttpError:
        if rec is not None:
            rec.errors.append(code)
        return _error(status, code, message)

    def _callback(self, iid: int, token: str, call: Call) -> web.Response:
        rec = self.interactions.get(iid)
        if rec is None or rec.token != token:
            raise _error(404, 10062, "Unknown interaction")
        body = call.json if isinstance(call.json, dict) else {}
        now = call.at
        if rec.first_response_at is None:
            rec.first_response_at = now
            rec.ack_latency = now - rec.dispatched_at
        attempt = CallbackAttempt(at=now, body=body, status=0, code=None)
        rec.callbacks.append(attempt)
        try:
            response = self._accept_callback(rec, body, call, now)
        except HttpError as exc:
            attempt.status, attempt.code = exc.status, exc.body.get("code")
            if isinstance(attempt.code, int):
                rec.errors.append(attempt.code)
            if attempt.code == 10062 and not rec.acknowledged:
                rec.finished = True
            raise
        attempt.status = response.status
        return response

    def _accept_callback(self, rec: InteractionRecord, body: dict[str, Any], call: Call, now: float) -> web.Response:
        if rec.acknowledged:
            raise _error(400, 40060, "Interaction has already been acknowledged.")
        if now - rec.dispatched_at > self.deadline:
            rec.expired = True
            raise _error(404, 10062, "Unknown interaction")
        ctype = body.get("type")
        if ctype not in _ALLOWED_CALLBACKS[rec.type]:
            raise _form_error(
                "type",
                "INTERACTION_RESPONSE_TYPE_INVALID",
                f"callback type {ctype} is invalid for interaction type {rec.type}",
            )
        data: dict[str, Any] = body.get("data") or {}
        message: StoredMessage | None = None
        if ctype == 4:
            validate_message({**data, "attachments": data.get("attachments") or call.files})
            flags = int(data.get("flags") or 0)
            message = self._new_message(
                data,
                channel_id=rec.channel_id,
                guild_id=rec.guild_id,
                flags=flags,
                visible_to=rec.user_id,
                rec=rec,
                msg_type=rec.message_type,
                files=call.files,
            )
            rec.original_id = message.id
            rec.finished = True
        elif ctype == 5:
            flags = LOADING | (int(data.get("flags") or 0) & EPHEMERAL)
            message = self._new_message(
                {},
                channel_id=rec.channel_id,
                guild_id=rec.guild_id,
                flags=flags,
                visible_to=rec.user_id,
                rec=rec,
                msg_type=rec.message_type,
                loading=True,
            )
            rec.original_id = rec.placeholder_id = message.id
        elif ctype == 6:
            rec.original_id = rec.source_message_id
        elif ctype == 7:
            source = rec.source_message
            if source is None:
                raise _form_error("type", "INTERACTION_RESPONSE_TYPE_INVALID", "UPDATE_MESSAGE needs a message")
            if source.deleted:
                raise _error(404, 10008, "Unknown Message")
            self._edit_message(source, data, call.files)
            message = source
            rec.original_id = source.id
            rec.finished = True
        elif ctype == 8:
            choices = data.get("choices")
            if not isinstance(choices, list) or len(choices) > 25:
                raise _form_error("data.choices", "BASE_TYPE_MAX_LENGTH", "Must be 25 or fewer in length.")
            for k, c in enumerate(choices):
                if not 1 <= len(str(c.get("name", ""))) <= 100 or "value" not in c:
                    raise _form_error(f"data.choices.{k}", "BASE_TYPE_BAD_LENGTH", "choice name 1-100, value required")
            rec.choices = choices
            rec.finished = True
        elif ctype == 9:
            self._validate_modal(data)
            rec.modal = data
            rec.finished = True
        rec.responses.append(body)
        interaction: dict[str, Any] = {
            "id": str(rec.id),
            "type": rec.type,
            "response_message_loading": ctype == 5,
            "response_message_ephemeral": bool(message and message.ephemeral),
        }
        if rec.original_id is not None and ctype in (4, 5, 6, 7):
            interaction["response_message_id"] = str(rec.original_id)
        resource: dict[str, Any] = {"type": ctype}
        if message is not None:
            resource["message"] = message.to_payload()
        return _json_response(200, {"interaction": interaction, "resource": resource})

    @staticmethod
    def _validate_modal(data: dict[str, Any]) -> None:
        if not data.get("custom_id") or _too_long(data.get("custom_id"), 100):
            raise _form_error("data.custom_id", "BASE_TYPE_BAD_LENGTH", "custom_id 1-100")
        if not data.get("title") or _too_long(data.get("title"), 45):
            raise _form_error("data.title", "BASE_TYPE_BAD_LENGTH", "title 1-45")
        comps = data.get("components") or []
        if not 1 <= len(comps) <= 5:
            raise _form_error("data.components", "BASE_TYPE_BAD_LENGTH", "Must be between 1 and 5 in length.")
        for c in _walk_components(comps):
            if c.get("type") == 4 and _too_long(c.get("label"), 45):
                raise _form_error("data.components", "BASE_TYPE_MAX_LENGTH", "text input label max 45")

    # ---- webhooks (followups, @original) --------------------------------------------------------
    def _webhook(self, token: str, message_ref: str | None, call: Call) -> web.Response:
        rec = self._by_token.get(token)
        if rec is None or not rec.acknowledged or rec.response_type == 8:
            raise self._fail(rec, 404, 10015, "Unknown Webhook")
        if time.monotonic() - rec.dispatched_at > self.token_ttl:
            raise self._fail(rec, 401, 50027, "Invalid Webhook Token")
        body: dict[str, Any] = call.json if isinstance(call.json, dict) else {}
        try:
            if message_ref is None:
                if call.method != "POST":
                    return self._unexpected(call, 405)
                return _json_response(200, self._followup(rec, body, call).to_payload())
            msg = self._webhook_target(rec, message_ref)
            if call.method == "GET":
                return _json_response(200, msg.to_payload())
            if call.method == "PATCH":
                self._edit_message(msg, body, call.files)
                self._settle(rec, msg)
                return _json_response(200, msg.to_payload())
            if call.method == "DELETE":
                msg.deleted = True
                self._settle(rec, msg)
                return web.Response(status=204)
            return self._unexpected(call, 405)
        except HttpError as exc:
            code = exc.body.get("code")
            if isinstance(code, int):
                rec.errors.append(code)
            raise

    def _webhook_target(self, rec: InteractionRecord, ref: str) -> StoredMessage:
        if ref == "@original":
            msg = rec.original
        else:
            mid = int(ref)
            allowed = {m.id for m in rec.messages} | {rec.source_message_id, rec.original_id}
            msg = self.messages.get(mid) if mid in allowed else None
        if msg is None or msg.deleted:
            raise _error(404, 10008, "Unknown Message")
        return msg

    def _settle(self, rec: InteractionRecord, msg: StoredMessage) -> None:
        """After a defer (5/6), an edit, fill, delete or followup makes the outcome final."""
        if rec.response_type in (5, 6):
            rec.finished = True

    def _followup(self, rec: InteractionRecord, body: dict[str, Any], call: Call) -> StoredMessage:
        if rec.response_type == 9:
            raise _error(404, 10015, "Unknown Webhook")
        validate_message({**body, "attachments": body.get("attachments") or call.files})
        placeholder = rec.placeholder
        if placeholder is not None and placeholder.loading and not placeholder.deleted:
            # §3.4.1: the first followup fills the "thinking…" message and keeps the defer's visibility.
            own = int(body.get("flags") or 0)
            self._edit_message(placeholder, {**body, "flags": own & ~EPHEMERAL}, call.files, fill=True)
            self._settle(rec, placeholder)
            return placeholder
        flags = int(body.get("flags") or 0)
        msg = self._new_message(
            body,
            channel_id=rec.channel_id,
            guild_id=rec.guild_id,
            flags=flags,
            visible_to=rec.user_id,
            rec=rec,
            msg_type=rec.message_type,
            files=call.files,
        )
        self._settle(rec, msg)
        return msg

    # ---- bot channel routes ---------------------------------------------------------------------
    def _channel_messages_route(self, channel_id: int, message_id: int | None, call: Call) -> web.Response:
        ch = self.channels.get(channel_id)
        if ch is None:
            raise _error(404, 10003, "Unknown Channel")
        guild_id = int(ch["guild_id"]) if ch.get("guild_id") else None
        body: dict[str, Any] = call.json if isinstance(call.json, dict) else {}
        if message_id is None:
            if call.method == "POST":
                if int(body.get("flags") or 0) & EPHEMERAL:
                    raise _form_error("flags", "MESSAGE_FLAGS_INVALID", "bots cannot send ephemeral channel messages")
                validate_message({**body, "attachments": body.get("attachments") or call.files})
                created = self._new_message(
                    body,
                    channel_id=channel_id,
                    guild_id=guild_id,
                    flags=int(body.get("flags") or 0),
                    visible_to=None,
                    rec=None,
                    msg_type=0,
                    files=call.files,
                )
                return _json_response(200, created.to_payload())
            if call.method == "GET":
                msgs = list(reversed(self.channel_messages(channel_id)))[: int(call.query.get("limit", 50))]
                return _json_response(200, [m.to_payload() for m in msgs])
            return self._unexpected(call, 405)
        msg = self.messages.get(message_id)
        if msg is None or msg.deleted or msg.ephemeral or msg.channel_id != channel_id:
            raise _error(404, 10008, "Unknown Message")
        if call.method == "GET":
            return _json_response(200, msg.to_payload())
        if call.method == "PATCH":
            if msg.author_id != self.app_id:
                raise _error(403, 50005, "Cannot edit a message authored by another user")
            self._edit_message(msg, body, call.files)
            return _json_response(200, msg.to_payload())
        if call.method == "DELETE":
            msg.deleted = True
            return web.Response(status=204)
        return self._unexpected(call, 405)
