"""Discord's wire vocabulary for the loopback Discord: ids, users, guilds, messages and the rules bodies must obey."""

from __future__ import annotations

import base64
import itertools
import json
import re
import time
from collections.abc import Iterator
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from typing import Any, Final

from aiohttp import web

DISCORD_EPOCH_MS: Final = 1_420_070_400_000
API_PREFIX: Final = "/api/v10"

# Message flags (https://discord.com/developers/docs/resources/message#message-object-message-flags)
SUPPRESS_EMBEDS: Final = 1 << 2
EPHEMERAL: Final = 1 << 6
LOADING: Final = 1 << 7
SUPPRESS_NOTIFICATIONS: Final = 1 << 12
IS_COMPONENTS_V2: Final = 1 << 15
_SENDABLE_FLAGS: Final = SUPPRESS_EMBEDS | EPHEMERAL | SUPPRESS_NOTIFICATIONS | IS_COMPONENTS_V2

# Permission bits (https://discord.com/developers/docs/topics/permissions)
ADMINISTRATOR: Final = 1 << 3
MANAGE_GUILD: Final = 1 << 5
ADD_REACTIONS: Final = 1 << 6
VIEW_CHANNEL: Final = 1 << 10
SEND_MESSAGES: Final = 1 << 11
EMBED_LINKS: Final = 1 << 14
ATTACH_FILES: Final = 1 << 15
READ_MESSAGE_HISTORY: Final = 1 << 16
MENTION_EVERYONE: Final = 1 << 17
USE_EXTERNAL_EMOJIS: Final = 1 << 18
USE_APPLICATION_COMMANDS: Final = 1 << 31
SEND_POLLS: Final = 1 << 49
USE_EXTERNAL_APPS: Final = 1 << 50
ALL_PERMISSIONS: Final = 2_251_799_813_685_247  # every bit up to USE_EXTERNAL_APPS

# What `app_permissions` says where the app has no bot member (interaction object docs, footnote on app_permissions)
PRIVATE_CHANNEL_APP_PERMISSIONS: Final = ATTACH_FILES | EMBED_LINKS | MENTION_EVERYONE
BOT_DM_APP_PERMISSIONS: Final = PRIVATE_CHANNEL_APP_PERMISSIONS | USE_EXTERNAL_EMOJIS
USER_INSTALL_GUILD_APP_PERMISSIONS: Final = (
    EMBED_LINKS | ATTACH_FILES | MENTION_EVERYONE | USE_EXTERNAL_EMOJIS | SEND_POLLS
)

# Gateway intents
GUILDS_INTENT: Final = 1 << 0
PRIVILEGED_INTENTS: Final = (1 << 1) | (1 << 8) | (1 << 15)  # members, presences, message content
KNOWN_INTENTS: Final = (1 << 26) - 1

# Interaction contexts and installation (integration) types
GUILD_CONTEXT, BOT_DM_CONTEXT, PRIVATE_CHANNEL_CONTEXT = 0, 1, 2
GUILD_INSTALL, USER_INSTALL = 0, 1

# Channel types
GUILD_TEXT, DM, GROUP_DM = 0, 1, 3

# JSON error codes (https://discord.com/developers/docs/topics/opcodes-and-status-codes#json)
UNKNOWN_MESSAGE: Final = 10008
UNKNOWN_WEBHOOK: Final = 10015
UNKNOWN_INTERACTION: Final = 10062
MISSING_ACCESS: Final = 50001
MISSING_PERMISSIONS: Final = 50013
INVALID_FORM_BODY: Final = 50035
ALREADY_ACKNOWLEDGED: Final = 40060
MAX_FOLLOWUPS: Final = 40094
AUTOMOD_BLOCKED: Final = 200000

ATTACHMENT_SIZE_LIMIT: Final = 10_485_760
HEARTBEAT_INTERVAL_MS: Final = 41_250
TOKEN_TTL_S: Final = 15 * 60.0
USER_INSTALL_MAX_FOLLOWUPS: Final = 5

# Interaction types
PING, APPLICATION_COMMAND, MESSAGE_COMPONENT, AUTOCOMPLETE, MODAL_SUBMIT = 1, 2, 3, 4, 5
# Callback types a bot may answer with, per interaction type
ALLOWED_CALLBACKS: Final[dict[int, frozenset[int]]] = {
    APPLICATION_COMMAND: frozenset({4, 5, 9}),
    MESSAGE_COMPONENT: frozenset({4, 5, 6, 7, 9}),
    AUTOCOMPLETE: frozenset({8}),
    MODAL_SUBMIT: frozenset({4, 5, 6, 7}),
}
SELECT_TYPES: Final = frozenset({3, 5, 6, 7, 8})
_MODAL_LABEL_CHILDREN: Final = frozenset({3, 4, 5, 6, 7, 8, 19, 21, 22, 23})

DISCORD_LOCALES: Final = frozenset(
    {
        "id",
        "da",
        "de",
        "en-GB",
        "en-US",
        "es-ES",
        "es-419",
        "fr",
        "hr",
        "it",
        "lt",
        "hu",
        "nl",
        "no",
        "pl",
        "pt-BR",
        "ro",
        "fi",
        "sv-SE",
        "vi",
        "tr",
        "cs",
        "el",
        "bg",
        "ru",
        "uk",
        "hi",
        "th",
        "zh-CN",
        "ja",
        "zh-TW",
        "ko",
    }
)


def snowflake_time(at: float | None = None, counter: int = 0) -> int:
    """A Discord snowflake for epoch seconds `at` (default now); `counter` fills the low 22 bits."""
    ms = int((time.time() if at is None else at) * 1000)
    return ((ms - DISCORD_EPOCH_MS) << 22) | (counter & 0x3FFFFF)


_counter: Iterator[int] = itertools.count(1)


def snowflake(at: float | None = None) -> int:
    """A fresh, process-unique snowflake whose timestamp is `at` (epoch seconds, default now)."""
    return snowflake_time(at, next(_counter))


def snowflake_seconds(sf: int) -> float:
    """The epoch seconds a snowflake encodes."""
    return ((sf >> 22) + DISCORD_EPOCH_MS) / 1000.0


def guild_on_shard(shard_id: int, shard_count: int, n: int = 0) -> int:
    """A guild id that Discord routes to `shard_id` of `shard_count` ((id >> 22) % count)."""
    base = 157_766_400_000 + n * shard_count  # 2020-01-01 in Discord-epoch ms
    ts = base - base % shard_count + shard_id
    return (ts << 22) | (n + 1)


DEFAULT_GUILD: Final = guild_on_shard(0, 2)  # shard 0 of 1 and of 2
OTHER_GUILD: Final = guild_on_shard(1, 2)  # shard 1 of 2 (shard 0 of 1)
FOREIGN_GUILD: Final = guild_on_shard(0, 2, 7)  # a server that did not install the app (shard 0 of 1 and of 2)
DEFAULT_CHANNEL: Final = ((157_766_400_100) << 22) | 2
OTHER_CHANNEL: Final = ((157_766_400_101) << 22) | 3
FOREIGN_CHANNEL: Final = ((157_766_400_102) << 22) | 4


def bot_token_for(app_id: int) -> str:
    """A token shaped like a real bot token: base64(app id) . timestamp . hmac (the first part is what bots decode)."""
    head = base64.urlsafe_b64encode(str(app_id).encode()).decode().rstrip("=")
    return f"{head}.GfAkEd.{'x' * 38}"


def iso(epoch_s: float) -> str:
    """ISO 8601 timestamp as Discord writes it."""
    return datetime.fromtimestamp(epoch_s, tz=UTC).isoformat(timespec="microseconds")


@dataclass(frozen=True)
class FakeUser:
    """A Discord user who clicks and types; in guilds also a member with `roles` and `permissions`."""

    id: int
    name: str = "user"
    global_name: str | None = None
    bot: bool = False
    roles: tuple[int, ...] = ()
    permissions: int = ALL_PERMISSIONS

    def without(self, permissions: int) -> FakeUser:
        """The same user, as a member lacking `permissions` (e.g. USE_EXTERNAL_APPS)."""
        return replace(self, permissions=self.permissions & ~permissions)

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


@dataclass
class FakeGuild:
    """A server; `installed` = the app was added to it (the bot is a member and gets GUILD_CREATE)."""

    id: int
    channel_id: int
    installed: bool = True
    name: str = "guild"
    locale: str = "en-US"
    features: tuple[str, ...] = ()
    bot_permissions: int = ALL_PERMISSIONS
    everyone_permissions: int = ALL_PERMISSIONS & ~(1 << 3)  # all but ADMINISTRATOR
    owner_id: int = 100000000000000001
    member_count: int = 42

    def partial(self) -> dict[str, Any]:
        """The partial guild object sent with interactions: {id, locale, features}."""
        return {"id": str(self.id), "locale": self.locale, "features": list(self.features)}


def walk_components(components: list[dict[str, Any]]) -> Iterator[dict[str, Any]]:
    """Every component of a tree, depth first (rows, containers, sections' accessories, labels' children)."""
    for comp in components:
        yield comp
        yield from walk_components(comp.get("components") or [])
        if isinstance(comp.get("accessory"), dict):
            yield from walk_components([comp["accessory"]])
        if isinstance(comp.get("component"), dict):
            yield from walk_components([comp["component"]])


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


def message_text(
    content: str | None,
    embeds: list[dict[str, Any]],
    components: list[dict[str, Any]],
    poll: dict[str, Any] | None,
    snapshots: list[dict[str, Any]],
) -> list[str]:
    """The pieces of text a reader sees in a message body, in order."""
    parts: list[str] = [content] if content else []
    for embed in embeds:
        parts.extend(_embed_text(embed))
    parts.extend(str(c["content"]) for c in walk_components(components) if c.get("type") == 10)
    if poll:
        parts.append(str((poll.get("question") or {}).get("text") or ""))
        parts.extend(str((a.get("poll_media") or {}).get("text") or "") for a in poll.get("answers") or [])
    for snap in snapshots:
        m = snap.get("message") or {}
        parts.extend(message_text(m.get("content"), m.get("embeds") or [], m.get("components") or [], None, []))
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
    poll: dict[str, Any] | None = None
    message_snapshots: list[dict[str, Any]] = field(default_factory=list)
    message_reference: dict[str, Any] | None = None
    filled_by: str | None = None  # for a deferred placeholder: "edit_original" or "followup" (deprecated way)

    def buttons(self) -> list[dict[str, Any]]:
        """Every button (type 2) on the message, flattened, in order."""
        return [c for c in walk_components(self.components) if c.get("type") == 2]

    def selects(self) -> list[dict[str, Any]]:
        """Every select menu (types 3, 5-8) on the message, flattened, in order."""
        return [c for c in walk_components(self.components) if c.get("type") in SELECT_TYPES]

    def button(self, emoji_or_label: str) -> dict[str, Any]:
        """The button whose unicode emoji name, label or exact custom_id is `emoji_or_label`; KeyError if absent."""
        for b in self.buttons():
            emoji = b.get("emoji") or {}
            if emoji_or_label in (emoji.get("name"), b.get("label"), b.get("custom_id")):
                return b
        shown = [((b.get("emoji") or {}).get("name"), b.get("label"), b.get("custom_id")) for b in self.buttons()]
        raise KeyError(f"no button {emoji_or_label!r} on message {self.id}; buttons (emoji, label, custom_id): {shown}")

    def image_alts(self) -> list[tuple[str, str | None]]:
        """(url, alt text) of every embed image, thumbnail and video, in order; alt is the `description` or None."""
        out: list[tuple[str, str | None]] = []
        for embed in self.embeds:
            for key in ("image", "thumbnail", "video"):
                media = embed.get(key)
                if isinstance(media, dict) and media.get("url"):
                    out.append((str(media["url"]), media.get("description")))
        return out

    @property
    def text(self) -> str:
        """Content, embed texts, text displays, poll question/answers and forwarded text, newline-joined."""
        if self.loading:
            return self.loading_text
        return "\n".join(message_text(self.content, self.embeds, self.components, self.poll, self.message_snapshots))

    @property
    def is_visible_publicly(self) -> bool:
        """Whether everyone in the channel sees it."""
        return not self.deleted and not self.ephemeral

    def visible_for(self, viewer: int | None) -> bool:
        """Whether `viewer` (None = any member of the channel) sees this message."""
        return not self.deleted and (not self.ephemeral or (viewer is not None and self.visible_to == viewer))

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
            "timestamp": iso(self.created_at),
            "edited_timestamp": None if self.edited_at is None else iso(self.edited_at),
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
        if self.poll is not None:
            payload["poll"] = self.poll
        if self.message_snapshots:
            payload["message_snapshots"] = self.message_snapshots
        if self.message_reference is not None:
            payload["message_reference"] = self.message_reference
        return payload


class HttpError(Exception):
    """A Discord error answer (status + JSON body); raised by `validate_message`."""

    def __init__(self, status: int, body: dict[str, Any]) -> None:
        super().__init__(status, body)
        self.status = status
        self.body = body


def error(status: int, code: int, message: str, errors: dict[str, Any] | None = None) -> HttpError:
    """An HttpError with Discord's {"message", "code", "errors"?} body."""
    body: dict[str, Any] = {"message": message, "code": code}
    if errors:
        body["errors"] = errors
    return HttpError(status, body)


def form_error(path: str, code: str, message: str) -> HttpError:
    """A 400 Invalid Form Body (50035) naming the offending field."""
    return error(400, INVALID_FORM_BODY, "Invalid Form Body", {path: {"_errors": [{"code": code, "message": message}]}})


def json_response(status: int, obj: Any) -> web.Response:
    """A JSON answer with exactly `application/json` (web.json_response would add a charset discord.py rejects)."""
    return web.Response(status=status, body=json.dumps(obj).encode(), content_type="application/json")


def _too_long(value: Any, limit: int) -> bool:
    return isinstance(value, str) and len(value) > limit


def _validate_embed_media(e: dict[str, Any], i: int) -> None:
    for key in ("image", "thumbnail"):
        media = e.get(key)
        if media is None:
            continue
        if not isinstance(media, dict) or not isinstance(media.get("url"), str):
            raise form_error(f"embeds.{i}.{key}.url", "BASE_TYPE_REQUIRED", "This field is required")
        alt = media.get("description")
        if alt is not None and (not isinstance(alt, str) or len(alt) > 1024):
            raise form_error(f"embeds.{i}.{key}.description", "BASE_TYPE_MAX_LENGTH", "alt text is a string ≤ 1024")


def validate_message(data: dict[str, Any], *, creating: bool = True) -> None:
    """Raise HttpError (400) where Discord would reject this message body."""
    flags = int(data.get("flags") or 0)
    if flags & ~(_SENDABLE_FLAGS | LOADING):
        raise form_error("flags", "MESSAGE_FLAGS_INVALID", f"flags {flags} contain bits a bot cannot set")
    content = data.get("content")
    if _too_long(content, 2000):
        raise form_error("content", "BASE_TYPE_MAX_LENGTH", "Must be 2000 or fewer in length.")
    embeds = data.get("embeds") or []
    components = data.get("components") or []
    v2 = bool(flags & IS_COMPONENTS_V2)
    if v2 and (content or embeds):
        raise form_error("content", "MESSAGE_CANNOT_USE_LEGACY_FIELDS_WITH_COMPONENTS_V2", "content/embeds with V2")
    if len(embeds) > 10:
        raise form_error("embeds", "BASE_TYPE_MAX_LENGTH", "Must be 10 or fewer in length.")
    total = 0
    for i, e in enumerate(embeds):
        for key, limit in (("title", 256), ("description", 4096)):
            if _too_long(e.get(key), limit):
                raise form_error(f"embeds.{i}.{key}", "BASE_TYPE_MAX_LENGTH", f"Must be {limit} or fewer in length.")
            total += len(e.get(key) or "")
        fields = e.get("fields") or []
        if len(fields) > 25:
            raise form_error(f"embeds.{i}.fields", "BASE_TYPE_MAX_LENGTH", "Must be 25 or fewer in length.")
        for j, f in enumerate(fields):
            name, value = f.get("name"), f.get("value")
            if not name or not value:
                raise form_error(f"embeds.{i}.fields.{j}", "BASE_TYPE_REQUIRED", "This field is required")
            if _too_long(name, 256) or _too_long(value, 1024):
                raise form_error(f"embeds.{i}.fields.{j}", "BASE_TYPE_MAX_LENGTH", "field name/value too long")
            total += len(name) + len(value)
        footer = (e.get("footer") or {}).get("text")
        author = (e.get("author") or {}).get("name")
        if _too_long(footer, 2048) or _too_long(author, 256):
            raise form_error(f"embeds.{i}", "BASE_TYPE_MAX_LENGTH", "footer/author too long")
        total += len(footer or "") + len(author or "")
        _validate_embed_media(e, i)
    if total > 6000:
        raise form_error("embeds", "MAX_EMBED_SIZE_EXCEEDED", "Embed size exceeds maximum size of 6000")
    _validate_components(components, v2=v2)
    has_body = content or embeds or components or data.get("attachments") or data.get("sticker_ids") or data.get("poll")
    if creating and not has_body:
        raise error(400, 50006, "Cannot send an empty message")


def _validate_button(b: dict[str, Any], path: str) -> None:
    style = b.get("style")
    if style not in (1, 2, 3, 4, 5, 6):
        raise form_error(f"{path}.style", "BUTTON_STYLE_INVALID", f"bad button style {style!r}")
    if style == 5:
        if not b.get("url") or b.get("custom_id"):
            raise form_error(path, "BUTTON_COMPONENT_URL_REQUIRED", "link buttons need url and no custom_id")
    elif style == 6:
        if not b.get("sku_id"):
            raise form_error(path, "BUTTON_COMPONENT_SKU_ID_REQUIRED", "premium buttons need sku_id")
    else:
        if not b.get("custom_id") or b.get("url"):
            raise form_error(path, "BUTTON_COMPONENT_CUSTOM_ID_REQUIRED", "buttons need a custom_id and no url")
        if not b.get("label") and not b.get("emoji"):
            raise form_error(path, "BUTTON_COMPONENT_LABEL_OR_EMOJI_REQUIRED", "buttons need a label or an emoji")
    if _too_long(b.get("label"), 80):
        raise form_error(f"{path}.label", "BASE_TYPE_MAX_LENGTH", "Must be 80 or fewer in length.")


def _validate_select(s: dict[str, Any], path: str) -> None:
    options = s.get("options") or []
    if s.get("type") == 3 and not 1 <= len(options) <= 25:
        raise form_error(f"{path}.options", "BASE_TYPE_BAD_LENGTH", "Must be between 1 and 25 in length.")
    for j, o in enumerate(options):
        if not o.get("label") or _too_long(o.get("label"), 100) or _too_long(o.get("value"), 100):
            raise form_error(f"{path}.options.{j}", "BASE_TYPE_BAD_LENGTH", "option label/value 1-100")
    lo, hi = int(s.get("min_values", 1)), int(s.get("max_values", 1))
    if not 0 <= lo <= hi <= 25 or (s.get("type") == 3 and hi > len(options)):
        raise form_error(path, "SELECT_COMPONENT_MIN_MAX_INVALID", "bad min_values/max_values")
    if _too_long(s.get("placeholder"), 150):
        raise form_error(f"{path}.placeholder", "BASE_TYPE_MAX_LENGTH", "Must be 150 or fewer in length.")


def _check_custom_id(c: dict[str, Any], path: str, seen: set[str]) -> None:
    cid = c.get("custom_id")
    if cid is None:
        return
    if not isinstance(cid, str) or not 1 <= len(cid) <= 100:
        raise form_error(f"{path}.custom_id", "BASE_TYPE_BAD_LENGTH", "Must be between 1 and 100 in length.")
    if cid in seen:
        raise form_error(f"{path}.custom_id", "COMPONENT_CUSTOM_ID_DUPLICATED", "custom_id duplicated")
    seen.add(cid)


def _validate_components(components: list[dict[str, Any]], *, v2: bool) -> None:
    if not v2:
        if len(components) > 5:
            raise form_error("components", "BASE_TYPE_MAX_LENGTH", "Must be 5 or fewer in length.")
        for i, row in enumerate(components):
            if row.get("type") != 1:
                raise form_error(f"components.{i}", "UNION_TYPE_CHOICES", "top-level components must be action rows")
    seen: set[str] = set()
    all_components = list(walk_components(components))
    if v2 and len(all_components) > 40:
        raise form_error("components", "BASE_TYPE_MAX_LENGTH", "Must be 40 or fewer components in total.")
    for k, c in enumerate(all_components):
        path = f"components[{k}]"
        ctype = c.get("type")
        if ctype == 1:
            children = c.get("components") or []
            n_buttons = sum(1 for x in children if x.get("type") == 2)
            n_selects = sum(1 for x in children if x.get("type") in SELECT_TYPES)
            if not children or n_buttons > 5 or (n_selects and (n_selects > 1 or n_buttons)):
                raise form_error(path, "COMPONENT_LAYOUT_WIDTH_EXCEEDED", "a row holds 1-5 buttons or one select")
        elif ctype == 2:
            _validate_button(c, path)
        elif ctype in SELECT_TYPES:
            _validate_select(c, path)
        elif ctype in (4, 18, 19, 21, 22, 23):
            raise form_error(path, "COMPONENT_TYPE_INVALID", f"component type {ctype} is only valid in modals")
        elif ctype not in (9, 10, 11, 12, 13, 14, 17) or not v2:
            raise form_error(path, "COMPONENT_TYPE_INVALID", f"component type {ctype} not allowed here")
        _check_custom_id(c, path, seen)


def _validate_text_input(t: dict[str, Any], path: str, *, needs_label: bool) -> None:
    if t.get("style") not in (1, 2):
        raise form_error(f"{path}.style", "BASE_TYPE_CHOICES", "text input style must be 1 (short) or 2 (paragraph)")
    if not t.get("custom_id"):
        raise form_error(f"{path}.custom_id", "BASE_TYPE_REQUIRED", "This field is required")
    label = t.get("label")
    if needs_label and not label:
        raise form_error(f"{path}.label", "BASE_TYPE_REQUIRED", "a text input in an action row needs a label")
    if label is not None and (not isinstance(label, str) or not 1 <= len(label) <= 45):
        raise form_error(f"{path}.label", "BASE_TYPE_BAD_LENGTH", "Must be between 1 and 45 in length.")
    lo, hi = t.get("min_length"), t.get("max_length")
    if lo is not None and not (isinstance(lo, int) and 0 <= lo <= 4000):
        raise form_error(f"{path}.min_length", "NUMBER_TYPE_MAX", "min_length is 0-4000")
    if hi is not None and not (isinstance(hi, int) and 1 <= hi <= 4000 and hi >= (lo or 0)):
        raise form_error(f"{path}.max_length", "NUMBER_TYPE_MAX", "max_length is 1-4000 and ≥ min_length")
    if _too_long(t.get("value"), 4000) or _too_long(t.get("placeholder"), 100):
        raise form_error(path, "BASE_TYPE_MAX_LENGTH", "value ≤ 4000, placeholder ≤ 100")


def validate_modal(data: dict[str, Any]) -> None:
    """Raise HttpError (400, 50035) unless `data` is a modal Discord accepts (ActionRow+TextInput or Label forms)."""
    if not isinstance(data.get("custom_id"), str) or not 1 <= len(data["custom_id"]) <= 100:
        raise form_error("data.custom_id", "BASE_TYPE_BAD_LENGTH", "custom_id 1-100")
    if not isinstance(data.get("title"), str) or not 1 <= len(data["title"]) <= 45:
        raise form_error("data.title", "BASE_TYPE_BAD_LENGTH", "title 1-45")
    comps = data.get("components")
    if not isinstance(comps, list) or not 1 <= len(comps) <= 5:
        raise form_error("data.components", "BASE_TYPE_BAD_LENGTH", "Must be between 1 and 5 in length.")
    seen: set[str] = set()
    for i, top in enumerate(comps):
        path = f"data.components.{i}"
        if not isinstance(top, dict):
            raise form_error(path, "MODEL_TYPE_CONVERT", "components are objects")
        ttype = top.get("type")
        if ttype == 1:  # deprecated: an action row holding one labelled text input
            children = top.get("components")
            if not isinstance(children, list) or len(children) != 1 or children[0].get("type") != 4:
                raise form_error(f"{path}.components", "COMPONENT_LAYOUT_INVALID", "a modal row holds one text input")
            _validate_text_input(children[0], f"{path}.components.0", needs_label=True)
            _check_custom_id(children[0], f"{path}.components.0", seen)
        elif ttype == 18:  # Label: label, description?, component
            label, child = top.get("label"), top.get("component")
            if not isinstance(label, str) or not 1 <= len(label) <= 45:
                raise form_error(f"{path}.label", "BASE_TYPE_BAD_LENGTH", "Must be between 1 and 45 in length.")
            if _too_long(top.get("description"), 100):
                raise form_error(f"{path}.description", "BASE_TYPE_MAX_LENGTH", "Must be 100 or fewer in length.")
            if not isinstance(child, dict) or child.get("type") not in _MODAL_LABEL_CHILDREN:
                raise form_error(f"{path}.component", "UNION_TYPE_CHOICES", "a Label wraps one input component")
            if child.get("type") == 4:
                _validate_text_input(child, f"{path}.component", needs_label=False)
            elif child.get("type") in SELECT_TYPES:
                _validate_select(child, f"{path}.component")
            _check_custom_id(child, f"{path}.component", seen)
        elif ttype == 10:
            if not isinstance(top.get("content"), str) or not top["content"]:
                raise form_error(f"{path}.content", "BASE_TYPE_REQUIRED", "This field is required")
        else:
            raise form_error(
                path, "UNION_TYPE_CHOICES", f"component type {ttype} is not allowed at a modal's top level"
            )


def number_components(components: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Copy the tree and give every component a numeric `id`, as Discord does in responses."""
    copied: list[dict[str, Any]] = json.loads(json.dumps(components))
    used = {c["id"] for c in walk_components(copied) if isinstance(c.get("id"), int)}
    next_id = itertools.count(1)
    for c in walk_components(copied):
        if not isinstance(c.get("id"), int):
            n = next(next_id)
            while n in used:
                n = next(next_id)
            c["id"] = n
            used.add(n)
    return copied


def normalise_embeds(embeds: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Embeds as Discord returns them (type "rich", content_scan_version)."""
    out: list[dict[str, Any]] = []
    for e in embeds:
        e2 = dict(e)
        e2.setdefault("type", "rich")
        e2.setdefault("content_scan_version", 0)
        out.append(e2)
    return out


def poll_object(question: str, answers: list[str], *, hours: int = 24, multiselect: bool = False) -> dict[str, Any]:
    """A poll as it appears on a message (question, numbered answers, expiry, no votes yet)."""
    return {
        "question": {"text": question},
        "answers": [{"answer_id": k + 1, "poll_media": {"text": a}} for k, a in enumerate(answers)],
        "expiry": iso(time.time() + hours * 3600),
        "allow_multiselect": multiselect,
        "layout_type": 1,
        "results": {"is_finalized": False, "answer_counts": []},
    }


def infer_option_type(value: Any) -> int:
    """The option type a Python value would be entered as (for unregistered commands)."""
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
