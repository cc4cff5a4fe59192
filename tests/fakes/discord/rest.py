"""The loopback Discord's REST side: routes, interaction callbacks, webhooks, the message store and REST faults."""

from __future__ import annotations

import json
import re
import time
from collections.abc import Callable, Collection
from dataclasses import dataclass
from typing import Any

from aiohttp import BodyPartReader, web

from tests.fakes.discord.records import Call, CallbackAttempt, Fault, InteractionRecord
from tests.fakes.discord.wire import (
    ALLOWED_CALLBACKS,
    ALREADY_ACKNOWLEDGED,
    API_PREFIX,
    APPLICATION_COMMAND,
    AUTOMOD_BLOCKED,
    BOT_DM_CONTEXT,
    DISCORD_LOCALES,
    EPHEMERAL,
    GUILD_CONTEXT,
    LOADING,
    MAX_FOLLOWUPS,
    MISSING_ACCESS,
    MISSING_PERMISSIONS,
    SEND_MESSAGES,
    UNKNOWN_INTERACTION,
    UNKNOWN_MESSAGE,
    UNKNOWN_WEBHOOK,
    USER_INSTALL_MAX_FOLLOWUPS,
    VIEW_CHANNEL,
    HttpError,
    StoredMessage,
    error,
    form_error,
    json_response,
    message_text,
    normalise_embeds,
    number_components,
    snowflake,
    validate_message,
    validate_modal,
)

REST_ROUTES = (
    "callback",
    "followup",
    "get_original",
    "edit_original",
    "delete_original",
    "get_followup",
    "edit_followup",
    "delete_followup",
    "channel_message",
    "commands",
    "message",  # every call that creates or edits a message: callbacks 4 and 7, followups, webhook edits
)
_5XX_MESSAGES = {500: "500: Internal Server Error", 502: "502: Bad Gateway", 503: "503: Service Unavailable"}


@dataclass
class _Rule429:
    path_contains: str
    retry_after: float
    count: int
    is_global: bool
    method: str | None


def _body_text(body: Any) -> str:
    if not isinstance(body, dict):
        return ""
    return "\n".join(
        message_text(body.get("content"), body.get("embeds") or [], body.get("components") or [], None, [])
    )


class RestMixin:
    """The REST half of FakeDiscord."""

    # ---- faults ---------------------------------------------------------------------------------
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

    def fail_next(
        self,
        route: str,
        *,
        status: int = 500,
        code: int | None = None,
        message: str | None = None,
        count: int | None = 1,
        processed: bool = False,
        callback_types: Collection[int] | None = None,
        interaction: InteractionRecord | None = None,
    ) -> Fault:
        """Answer the next `count` calls of `route` (None = all until clear_faults) with `status`/`code`.

        Routes: see REST_ROUTES ("message" = anything creating or editing a message). `processed=True`: Discord did
        the work (an ack is recorded, a followup created) but answered the error, so a retry meets the new state
        (a re-sent defer gets 40060). `callback_types` limits a "callback" fault to those callback types (e.g. {5}).
        """
        if route not in REST_ROUTES:
            raise ValueError(f"unknown route {route!r}; routes: {REST_ROUTES}")
        fault = Fault(
            route=route,
            status=status,
            code=0 if code is None else code,
            message=message or _5XX_MESSAGES.get(status, f"{status}: error"),
            count=count,
            processed=processed,
            callback_types=None if callback_types is None else frozenset(callback_types),
            interaction_id=None if interaction is None else interaction.id,
        )
        self.faults.append(fault)
        return fault

    def automod_block(self, keyword: str | None = None, *, route: str = "message", count: int | None = 1) -> Fault:
        """AutoMod rejects the next `count` messages (in servers; with `keyword`, only those containing it): 200000."""
        fault = self.fail_next(
            route, status=400, code=AUTOMOD_BLOCKED, message="Message was blocked by automatic moderation", count=count
        )
        fault.keyword = keyword
        return fault

    def clear_faults(self) -> None:
        """Drop every injected REST fault and 429 rule."""
        self.faults.clear()
        self._rules_429.clear()

    def _fault_for(self, route: str, call: Call, rec: InteractionRecord | None) -> Fault | None:
        for fault in self.faults:
            if not fault.matches(route, call, None if rec is None else rec.id):
                continue
            if fault.code == AUTOMOD_BLOCKED:
                body = call.json.get("data") if route == "callback" and isinstance(call.json, dict) else call.json
                if rec is None or rec.guild_id is None:
                    continue
                if fault.keyword is not None and fault.keyword.lower() not in _body_text(body).lower():
                    continue
            fault.hits.append(call)
            return fault
        return None

    # ---- REST entry -------------------------------------------------------------------------------
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
            response = self._maybe_429(call)  # not `or`: before aiohttp 3.12 an empty Response is falsy
            response = response if response is not None else await self._route(call, request)
        except HttpError as exc:
            response = json_response(exc.status, exc.body)
            code = exc.body.get("code")
            call.code = code if isinstance(code, int) else None
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
                resp = json_response(429, body)
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
            raise error(401, 0, "401: Unauthorized")

    def _with_faults(
        self, route: str, call: Call, rec: InteractionRecord | None, handler: Callable[[], web.Response]
    ) -> web.Response:
        call.route = route
        fault = self._fault_for(route, call, rec)
        if fault is None:
            return handler()
        call.fault = fault
        if fault.processed:
            handler()
        if route == "callback" and rec is not None:
            if not fault.processed:
                self._note_callback(rec, call)
            rec.callbacks[-1].status, rec.callbacks[-1].code = fault.status, fault.code
        if rec is not None and fault.code:
            rec.errors.append(fault.code)
        raise HttpError(fault.status, {"message": fault.message, "code": fault.code})

    async def _route(self, call: Call, request: web.Request) -> web.Response:
        m, p = call.method, call.path
        app = str(self.app_id)
        if match := re.fullmatch(r"/interactions/(\d+)/([^/]+)/callback", p):
            if m != "POST":
                return self._unexpected(call, 405)
            iid, token = int(match[1]), match[2]
            return self._with_faults(
                "callback", call, self.interactions.get(iid), lambda: self._callback(iid, token, call)
            )
        if match := re.fullmatch(r"/webhooks/(\d+)/([^/]+)(?:/messages/(@original|\d+))?", p):
            if match[1] != app:
                raise error(404, UNKNOWN_WEBHOOK, "Unknown Webhook")
            token, ref = match[2], match[3]
            route = {
                (None, "POST"): "followup",
                ("@original", "GET"): "get_original",
                ("@original", "PATCH"): "edit_original",
                ("@original", "DELETE"): "delete_original",
                ("id", "GET"): "get_followup",
                ("id", "PATCH"): "edit_followup",
                ("id", "DELETE"): "delete_followup",
            }.get(("id" if ref and ref != "@original" else ref, m), "")
            return self._with_faults(route, call, self._by_token.get(token), lambda: self._webhook(token, ref, call))
        bot_routes = (
            r"/users/@me",
            r"/oauth2/applications/@me",
            r"/applications/@me",
            r"/gateway/bot",
            r"/applications/\d+(?:/guilds/\d+)?/commands",
            r"/channels/\d+/messages(?:/\d+)?",
            r"/channels/\d+",
            r"/guilds/\d+/roles",
            r"/guilds/\d+/members/\d+",
        )
        if not any(re.fullmatch(r, p) for r in bot_routes):
            return self._unexpected(call, 404)
        self._require_bot_auth(call)
        if p == "/users/@me" and m == "GET":
            return json_response(200, self.bot_user)
        if p in ("/oauth2/applications/@me", "/applications/@me") and m == "GET":
            return json_response(200, self._app_info())
        if p == "/gateway/bot" and m == "GET":
            limit = {"total": 1000, "remaining": 1000 - len(self.identifies), "reset_after": 86_400_000}
            limit["max_concurrency"] = 1
            return json_response(
                200, {"url": self.gateway_url, "shards": self.recommended_shards, "session_start_limit": limit}
            )
        if match := re.fullmatch(r"/applications/(\d+)(?:/guilds/(\d+))?/commands", p):
            if match[1] != app:
                raise error(403, 20012, "You are not authorized to perform this action on this application")
            guild_id = int(match[2]) if match[2] else None
            if m == "PUT":
                return self._with_faults(
                    "commands", call, None, lambda: json_response(200, self._put_commands(guild_id, call.json))
                )
            if m == "GET":
                stored = self.global_commands if guild_id is None else self.guild_commands.get(guild_id, [])
                return json_response(200, stored)
        if match := re.fullmatch(r"/channels/(\d+)/messages(?:/(\d+))?", p):
            channel_id, message_id = int(match[1]), int(match[2]) if match[2] else None
            return self._with_faults(
                "channel_message" if m == "POST" else "",
                call,
                None,
                lambda: self._channel_messages_route(channel_id, message_id, call),
            )
        if m == "GET" and (match := re.fullmatch(r"/channels/(\d+)", p)):
            return self._get_channel(int(match[1]))
        if m == "GET" and (match := re.fullmatch(r"/guilds/(\d+)/(roles|members/(\d+))", p)):
            return self._guild_route(int(match[1]), None if match[3] is None else int(match[3]))
        return self._unexpected(call, 405)

    def _installed_guild(self, guild_id: int | None) -> Any:
        guild = None if guild_id is None else self.guilds.get(guild_id)
        if guild is None or not guild.installed:
            raise error(403, MISSING_ACCESS, "Missing Access")
        return guild

    def _get_channel(self, channel_id: int) -> web.Response:
        """GET /channels/{id}: a guild channel with its permission overwrites (only the bot's are modelled)."""
        ch = self.channels.get(channel_id)
        if ch is None:
            raise error(404, 10003, "Unknown Channel")
        if ch.get("guild_id") is None:
            return json_response(200, ch)
        self._installed_guild(int(ch["guild_id"]))
        if not self.bot_permissions_in(channel_id) & VIEW_CHANNEL:
            raise error(403, MISSING_ACCESS, "Missing Access")
        allow, deny = self.bot_overwrites.get(channel_id, (0, 0))
        overwrites = []
        if allow or deny:
            overwrites.append({"id": str(self.app_id), "type": 1, "allow": str(allow), "deny": str(deny)})
        return json_response(200, {**ch, "permission_overwrites": overwrites})

    def _guild_route(self, guild_id: int, member_id: int | None) -> web.Response:
        """GET /guilds/{id}/roles and /guilds/{id}/members/{user}: @everyone, the bot's role and the bot's member."""
        guild = self._installed_guild(guild_id)
        created = self._guild_create(guild)
        everyone, bot_role = created["roles"]
        # The guild-wide permissions the bot has are `bot_permissions` (as app_permissions says): @everyone grants
        # no more than that.
        roles = [{**everyone, "permissions": str(guild.everyone_permissions & guild.bot_permissions)}, bot_role]
        if member_id is None:
            return json_response(200, roles)
        if member_id != self.app_id:
            raise error(404, 10007, "Unknown Member")
        return json_response(200, created["members"][0])

    def _unexpected(self, call: Call, status: int) -> web.Response:
        self.unexpected_calls.append(call)
        if status == 405:
            return json_response(405, {"message": "405: Method Not Allowed", "code": 0})
        return json_response(404, {"message": "Unknown route", "code": 0})

    def _app_info(self) -> dict[str, Any]:
        scopes = {"scopes": ["applications.commands", "bot"], "permissions": "0"}
        config: dict[str, Any] = {"0": {"oauth2_install_params": scopes}}
        if self.user_install_enabled:
            config["1"] = {"oauth2_install_params": {"scopes": ["applications.commands"], "permissions": "0"}}
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
            "approximate_guild_count": sum(1 for g in self.guilds.values() if g.installed),
            "approximate_user_install_count": len(self.user_installs),
            "integration_types_config": config,
        }

    # ---- commands ---------------------------------------------------------------------------------
    @staticmethod
    def _check_localizations(obj: dict[str, Any], path: str, *, name_rule: bool) -> None:
        for key, limit in (("name_localizations", 32), ("description_localizations", 100)):
            locs = obj.get(key)
            if locs is None:
                continue
            if not isinstance(locs, dict):
                raise form_error(f"{path}.{key}", "DICT_TYPE_CONVERT", "must be an object")
            for locale, text in locs.items():
                if locale not in DISCORD_LOCALES:
                    raise form_error(f"{path}.{key}", "LOCALE_INVALID", f"{locale!r} is not a valid locale")
                if not isinstance(text, str) or not 1 <= len(text) <= limit:
                    raise form_error(f"{path}.{key}.{locale}", "BASE_TYPE_BAD_LENGTH", f"1-{limit} characters")
                if key == "name_localizations" and name_rule and not re.fullmatch(r"[-_\w]{1,32}", text):
                    raise form_error(f"{path}.{key}.{locale}", "APPLICATION_COMMAND_INVALID_NAME", repr(text))

    def _put_commands(self, guild_id: int | None, body: Any) -> list[dict[str, Any]]:
        if not isinstance(body, list):
            raise form_error("_root", "BASE_TYPE_ARRAY", "expected a list of commands")
        if len(body) > 100:
            raise form_error("_root", "BASE_TYPE_MAX_LENGTH", "Must be 100 or fewer in length.")
        seen: set[tuple[str, int]] = set()
        out: list[dict[str, Any]] = []
        version = str(snowflake())
        for i, cmd in enumerate(body):
            name, ctype = cmd.get("name", ""), int(cmd.get("type", 1))
            bad_name = not re.fullmatch(r"[-_\w]{1,32}", name or "") or name != name.lower()
            if (ctype == 1 and bad_name) or not 1 <= len(name or "") <= 32:
                raise form_error(f"{i}.name", "APPLICATION_COMMAND_INVALID_NAME", f"bad command name {name!r}")
            if ctype == 1 and not 1 <= len(cmd.get("description") or "") <= 100:
                raise form_error(f"{i}.description", "BASE_TYPE_BAD_LENGTH", "Must be between 1 and 100 in length.")
            if (name, ctype) in seen:
                raise form_error(f"{i}.name", "APPLICATION_COMMANDS_DUPLICATE_NAME", f"duplicate command {name!r}")
            seen.add((name, ctype))
            for key, allowed in (("contexts", {0, 1, 2}), ("integration_types", {0, 1})):
                value = cmd.get(key)
                if value is not None and (
                    not isinstance(value, list) or not value or any(v not in allowed for v in value)
                ):
                    raise form_error(f"{i}.{key}", "BASE_TYPE_CHOICES", f"{key} items must be in {sorted(allowed)}")
            self._check_localizations(cmd, str(i), name_rule=ctype == 1)
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
                "integration_types": None,
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
        self.syncs.append((guild_id, out))
        return out

    def _check_command_options(self, options: list[dict[str, Any]], path: str) -> None:
        if len(options) > 25:
            raise form_error(path, "BASE_TYPE_MAX_LENGTH", "Must be 25 or fewer in length.")
        optional_seen = False
        for j, o in enumerate(options):
            self._check_localizations(o, f"{path}.{j}", name_rule=True)
            if o.get("type") in (1, 2):
                self._check_command_options(o.get("options") or [], f"{path}.{j}.options")
                continue
            if o.get("required"):
                if optional_seen:
                    raise form_error(
                        f"{path}.{j}", "APPLICATION_COMMAND_OPTIONS_REQUIRED_INVALID", "required after optional"
                    )
            else:
                optional_seen = True
            choices = o.get("choices") or []
            if len(choices) > 25:
                raise form_error(f"{path}.{j}.choices", "BASE_TYPE_MAX_LENGTH", "Must be 25 or fewer in length.")
            for k, c in enumerate(choices):
                self._check_localizations(c, f"{path}.{j}.choices.{k}", name_rule=False)

    # ---- messages ---------------------------------------------------------------------------------
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
            embeds=normalise_embeds(data.get("embeds") or []),
            components=number_components(data.get("components") or []),
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
            poll=data.get("poll"),
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
        self,
        msg: StoredMessage,
        data: dict[str, Any],
        files: list[dict[str, Any]],
        *,
        fill: bool = False,
        filled_by: str = "edit_original",
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
            msg.embeds = normalise_embeds(data["embeds"] or [])
        if "components" in data:
            msg.components = number_components(data["components"] or [])
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
            msg.filled_by = filled_by
        else:
            msg.edits += 1
            msg.edited_at = time.time()

    # ---- interaction callbacks --------------------------------------------------------------------
    def _age(self, rec: InteractionRecord) -> float:
        """Seconds since the interaction was created (its snowflake; never counted from after delivery)."""
        start = rec.created_at if rec.delivered_at is None else min(rec.created_at, rec.delivered_at)
        return time.time() - start

    @staticmethod
    def _note_callback(rec: InteractionRecord, call: Call) -> CallbackAttempt:
        """Record a callback POST on its interaction (and the first response's time)."""
        if rec.first_response_at is None:
            rec.first_response_at = call.at
            rec.responded_at = time.time()
            rec.ack_latency = call.at - rec.dispatched_at
        attempt = CallbackAttempt(
            at=call.at, body=call.json if isinstance(call.json, dict) else {}, status=0, code=None
        )
        rec.callbacks.append(attempt)
        return attempt

    def _callback(self, iid: int, token: str, call: Call) -> web.Response:
        rec = self.interactions.get(iid)
        if rec is None or rec.token != token:
            raise error(404, UNKNOWN_INTERACTION, "Unknown interaction")
        body = call.json if isinstance(call.json, dict) else {}
        attempt = self._note_callback(rec, call)
        try:
            response = self._accept_callback(rec, body, call)
        except HttpError as exc:
            attempt.status, attempt.code = exc.status, exc.body.get("code")
            if isinstance(attempt.code, int):
                rec.errors.append(attempt.code)
            if attempt.code == UNKNOWN_INTERACTION and not rec.acknowledged:
                rec.finished = True
            raise
        attempt.status = response.status
        return response

    def _accept_callback(self, rec: InteractionRecord, body: dict[str, Any], call: Call) -> web.Response:
        if rec.acknowledged:
            raise error(400, ALREADY_ACKNOWLEDGED, "Interaction has already been acknowledged.")
        if self._age(rec) > self.deadline:
            rec.expired = True
            raise error(404, UNKNOWN_INTERACTION, "Unknown interaction")
        ctype = body.get("type")
        if ctype not in ALLOWED_CALLBACKS[rec.type]:
            raise form_error(
                "type",
                "INTERACTION_RESPONSE_TYPE_INVALID",
                f"callback type {ctype} is invalid for interaction type {rec.type}",
            )
        data: dict[str, Any] = body.get("data") or {}
        forced = EPHEMERAL if rec.forced_ephemeral else 0
        message: StoredMessage | None = None
        if ctype == 4:
            validate_message({**data, "attachments": data.get("attachments") or call.files})
            message = self._new_message(
                data,
                channel_id=rec.channel_id,
                guild_id=rec.guild_id,
                flags=int(data.get("flags") or 0) | forced,
                visible_to=rec.user_id,
                rec=rec,
                msg_type=rec.message_type,
                files=call.files,
            )
            rec.original_id = message.id
            rec.finished = True
        elif ctype == 5:
            if int(data.get("flags") or 0) & ~EPHEMERAL:
                raise form_error("data.flags", "MESSAGE_FLAGS_INVALID", "a deferred response may only set EPHEMERAL")
            message = self._new_message(
                {},
                channel_id=rec.channel_id,
                guild_id=rec.guild_id,
                flags=LOADING | (int(data.get("flags") or 0) & EPHEMERAL) | forced,
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
                raise form_error("type", "INTERACTION_RESPONSE_TYPE_INVALID", "UPDATE_MESSAGE needs a message")
            if source.deleted:
                raise error(404, UNKNOWN_MESSAGE, "Unknown Message")
            self._edit_message(source, data, call.files)
            message = source
            rec.original_id = source.id
            rec.finished = True
        elif ctype == 8:
            choices = data.get("choices")
            if not isinstance(choices, list) or len(choices) > 25:
                raise form_error("data.choices", "BASE_TYPE_MAX_LENGTH", "Must be 25 or fewer in length.")
            for k, c in enumerate(choices):
                if not 1 <= len(str(c.get("name", ""))) <= 100 or "value" not in c:
                    raise form_error(f"data.choices.{k}", "BASE_TYPE_BAD_LENGTH", "choice name 1-100, value required")
            rec.choices = choices
            rec.finished = True
        elif ctype == 9:
            validate_modal(data)
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
        if message is not None and ctype in (4, 7):
            resource["message"] = message.to_payload()
        return json_response(200, {"interaction": interaction, "resource": resource})

    # ---- webhooks (followups, @original) --------------------------------------------------------
    def _webhook(self, token: str, message_ref: str | None, call: Call) -> web.Response:
        rec = self._by_token.get(token)
        if rec is None or not rec.acknowledged or rec.response_type == 8:
            raise self._fail(rec, 404, UNKNOWN_WEBHOOK, "Unknown Webhook")
        if self._age(rec) > self.token_ttl:
            raise self._fail(rec, 401, 50027, "Invalid Webhook Token")
        body: dict[str, Any] = call.json if isinstance(call.json, dict) else {}
        try:
            if message_ref is None:
                if call.method != "POST":
                    return self._unexpected(call, 405)
                return json_response(200, self._followup(rec, body, call).to_payload())
            msg = self._webhook_target(rec, message_ref)
            if call.method == "GET":
                return json_response(200, msg.to_payload())
            if call.method == "PATCH":
                self._edit_message(msg, body, call.files)
                self._settle(rec, msg)
                return json_response(200, msg.to_payload())
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

    @staticmethod
    def _fail(rec: InteractionRecord | None, status: int, code: int, message: str) -> HttpError:
        if rec is not None:
            rec.errors.append(code)
        return error(status, code, message)

    def _webhook_target(self, rec: InteractionRecord, ref: str) -> StoredMessage:
        if ref == "@original":
            msg = rec.original
        else:
            mid = int(ref)
            allowed = {m.id for m in rec.messages} | {rec.source_message_id, rec.original_id}
            msg = self.messages.get(mid) if mid in allowed else None
        if msg is None or msg.deleted:
            raise error(404, UNKNOWN_MESSAGE, "Unknown Message")
        return msg

    @staticmethod
    def _settle(rec: InteractionRecord, msg: StoredMessage) -> None:
        """After a defer (5/6), an edit, fill, delete or followup makes the outcome final."""
        if rec.response_type in (5, 6):
            rec.finished = True

    def _followup(self, rec: InteractionRecord, body: dict[str, Any], call: Call) -> StoredMessage:
        if rec.response_type == 9:
            raise error(404, UNKNOWN_WEBHOOK, "Unknown Webhook")
        validate_message({**body, "attachments": body.get("attachments") or call.files})
        if rec.user_installed_only and rec.followups >= USER_INSTALL_MAX_FOLLOWUPS:
            raise error(400, MAX_FOLLOWUPS, "This interaction has hit the maximum number of follow up messages")
        rec.followups += 1
        placeholder = rec.placeholder
        if placeholder is not None and placeholder.loading and not placeholder.deleted:
            # Deprecated but still live: the first followup fills the "thinking…" message, keeping its visibility.
            own = int(body.get("flags") or 0)
            self._edit_message(
                placeholder, {**body, "flags": own & ~EPHEMERAL}, call.files, fill=True, filled_by="followup"
            )
            self._settle(rec, placeholder)
            return placeholder
        msg = self._new_message(
            body,
            channel_id=rec.channel_id,
            guild_id=rec.guild_id,
            flags=int(body.get("flags") or 0) | (EPHEMERAL if rec.forced_ephemeral else 0),
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
            raise error(404, 10003, "Unknown Channel")
        guild_id = int(ch["guild_id"]) if ch.get("guild_id") else None
        context = self.channel_contexts.get(channel_id)
        guild = None if guild_id is None else self.guilds.get(guild_id)
        if (context == GUILD_CONTEXT and guild is not None and not guild.installed) or context not in (
            GUILD_CONTEXT,
            BOT_DM_CONTEXT,
        ):
            raise error(403, MISSING_ACCESS, "Missing Access")
        body: dict[str, Any] = call.json if isinstance(call.json, dict) else {}
        if message_id is None:
            if call.method == "POST":
                if context == GUILD_CONTEXT:
                    granted = self.bot_permissions_in(channel_id)
                    if not granted & VIEW_CHANNEL:
                        raise error(403, MISSING_ACCESS, "Missing Access")
                    if not granted & SEND_MESSAGES:
                        raise error(403, MISSING_PERMISSIONS, "Missing Permissions")
                if int(body.get("flags") or 0) & EPHEMERAL:
                    raise form_error("flags", "MESSAGE_FLAGS_INVALID", "bots cannot send ephemeral channel messages")
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
                return json_response(200, created.to_payload())
            if call.method == "GET":
                msgs = list(reversed(self.channel_messages(channel_id)))[: int(call.query.get("limit", 50))]
                return json_response(200, [m.to_payload() for m in msgs])
            return self._unexpected(call, 405)
        msg = self.messages.get(message_id)
        if msg is None or msg.deleted or msg.ephemeral or msg.channel_id != channel_id:
            raise error(404, UNKNOWN_MESSAGE, "Unknown Message")
        if call.method == "GET":
            return json_response(200, msg.to_payload())
        if call.method == "PATCH":
            if msg.author_id != self.app_id:
                raise error(403, 50005, "Cannot edit a message authored by another user")
            self._edit_message(msg, body, call.files)
            return json_response(200, msg.to_payload())
        if call.method == "DELETE":
            msg.deleted = True
            return web.Response(status=204)
        return self._unexpected(call, 405)
