"""Building interactions as Discord would send them: places (servers, DMs, group DMs), installs, commands, targets."""

from __future__ import annotations

import base64
import secrets
import time
from collections.abc import Collection
from dataclasses import dataclass
from typing import Any

from tests.fakes.discord.records import InteractionRecord
from tests.fakes.discord.wire import (
    ADMINISTRATOR,
    ALL_PERMISSIONS,
    APPLICATION_COMMAND,
    ATTACHMENT_SIZE_LIMIT,
    AUTOCOMPLETE,
    BOT_DM_APP_PERMISSIONS,
    BOT_DM_CONTEXT,
    DEFAULT_CHANNEL,
    DEFAULT_GUILD,
    DISCORD_EPOCH_MS,
    DM,
    GROUP_DM,
    GUILD_CONTEXT,
    GUILD_INSTALL,
    IS_COMPONENTS_V2,
    MESSAGE_COMPONENT,
    MODAL_SUBMIT,
    PRIVATE_CHANNEL_APP_PERMISSIONS,
    PRIVATE_CHANNEL_CONTEXT,
    USE_EXTERNAL_APPS,
    USER_INSTALL,
    USER_INSTALL_GUILD_APP_PERMISSIONS,
    FakeGuild,
    FakeUser,
    StoredMessage,
    infer_option_type,
    poll_object,
    snowflake,
    snowflake_seconds,
    walk_components,
)


@dataclass(frozen=True)
class Place:
    """Where an interaction happens: its context (0 server, 1 bot DM, 2 private channel), guild and channel."""

    context: int
    guild: FakeGuild | None
    channel_id: int

    @property
    def guild_id(self) -> int | None:
        """The guild's id, or None outside servers."""
        return None if self.guild is None else self.guild.id


class InteractionsMixin:
    """The interaction-building half of FakeDiscord."""

    # ---- the world: guilds, channels, installs ------------------------------------------------
    def add_guild(
        self,
        guild_id: int,
        *,
        installed: bool = True,
        channel_id: int | None = None,
        name: str = "guild",
        locale: str = "en-US",
        features: Collection[str] = (),
        bot_permissions: int = ALL_PERMISSIONS,
    ) -> FakeGuild:
        """Register a server; `installed=False` = the app was never added there (only user installs reach it).

        Register guilds before the bot connects: installed ones are listed in READY and get GUILD_CREATE.
        (Use `join_guild` to add one while it runs.)
        """
        if guild_id in self.guilds:
            return self.guilds[guild_id]
        cid = channel_id if channel_id is not None else snowflake()
        guild = FakeGuild(
            id=guild_id,
            channel_id=cid,
            installed=installed,
            name=name,
            locale=locale,
            features=tuple(features),
            bot_permissions=bot_permissions,
        )
        self.guilds[guild_id] = guild
        self.add_channel(cid, guild_id, name="general")
        return guild

    def add_channel(
        self, channel_id: int, guild_id: int | None, *, name: str = "general", recipients: list[FakeUser] | None = None
    ) -> dict[str, Any]:
        """Register a guild text channel (or, with guild_id None, a DM with the bot) and return its object."""
        if channel_id in self.channels:
            return self.channels[channel_id]
        if guild_id is None:
            ch: dict[str, Any] = {
                "id": str(channel_id),
                "type": DM,
                "flags": 0,
                "last_message_id": None,
                "recipients": [u.to_user() for u in recipients or []],
            }
            self.channel_contexts[channel_id] = BOT_DM_CONTEXT
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
            self.channel_contexts[channel_id] = GUILD_CONTEXT
        self.channels[channel_id] = ch
        return ch

    def set_bot_overwrite(self, channel_id: int, *, allow: int = 0, deny: int = 0) -> None:
        """A permission overwrite for the bot's member in a guild channel (what a server admin sets on a channel)."""
        self.bot_overwrites[channel_id] = (allow, deny)

    def bot_permissions_in(self, channel_id: int) -> int:
        """The bot's permissions in a guild channel: its guild permissions with the channel's overwrite applied."""
        ch = self.channels.get(channel_id) or {}
        guild = self.guilds.get(int(ch["guild_id"])) if ch.get("guild_id") else None
        if guild is None:
            return 0
        base = guild.bot_permissions
        if base & ADMINISTRATOR:
            return ALL_PERMISSIONS
        allow, deny = self.bot_overwrites.get(channel_id, (0, 0))
        return (base & ~deny) | allow

    def dm_channel_for(self, user: FakeUser) -> int:
        """The id of the bot's DM channel with `user` (registered on first use)."""
        cid = ((1_500_000_000_000 - DISCORD_EPOCH_MS) << 22) | (user.id & 0x3FFFFF)
        ch = self.add_channel(cid, None)
        ch["recipients"] = [user.to_user()]
        return cid

    def user_dm(self, a: FakeUser, b: FakeUser) -> int:
        """A DM channel between two users (not the bot): interactions there are context 2, user installs only."""
        cid = snowflake()
        self.channels[cid] = {
            "id": str(cid),
            "type": DM,
            "flags": 0,
            "last_message_id": None,
            "recipients": [a.to_user(), b.to_user()],
        }
        self.channel_contexts[cid] = PRIVATE_CHANNEL_CONTEXT
        return cid

    def group_dm(self, members: list[FakeUser], *, name: str | None = None) -> int:
        """A group DM (channel type 3) of `members` (the first owns it): context 2, user installs only."""
        if len(members) < 2:
            raise ValueError("a group DM has at least two members")
        cid = snowflake()
        self.channels[cid] = {
            "id": str(cid),
            "type": GROUP_DM,
            "flags": 0,
            "last_message_id": None,
            "name": name,
            "icon": None,
            "owner_id": str(members[0].id),
            "recipients": [u.to_user() for u in members],
        }
        self.channel_contexts[cid] = PRIVATE_CHANNEL_CONTEXT
        return cid

    def install_for_user(self, user: FakeUser) -> None:
        """`user` added the app to their account (user install): it now works for them everywhere commands allow."""
        self.user_installs.add(user.id)

    def uninstall_for_user(self, user: FakeUser) -> None:
        """`user` removed the app from their account."""
        self.user_installs.discard(user.id)

    def _place(self, user: FakeUser, guild_id: int | None, channel_id: int | None) -> Place:
        if guild_id is not None:
            guild = self.guilds.get(guild_id) or self.add_guild(guild_id, channel_id=channel_id)
            cid = guild.channel_id if channel_id is None else channel_id
            if self.add_channel(cid, guild_id).get("guild_id") != str(guild_id):
                raise ValueError(f"channel {cid} is not a channel of guild {guild_id}")
            return Place(GUILD_CONTEXT, guild, cid)
        if channel_id is not None and self.channel_contexts.get(channel_id) == PRIVATE_CHANNEL_CONTEXT:
            recipients = {int(u["id"]) for u in self.channels[channel_id].get("recipients") or []}
            if user.id not in recipients:
                raise PermissionError(f"user {user.id} is not in private channel {channel_id}")
            return Place(PRIVATE_CHANNEL_CONTEXT, None, channel_id)
        if channel_id in (None, DEFAULT_CHANNEL):
            channel_id = self.dm_channel_for(user)
        else:
            self.add_channel(channel_id, None, recipients=[user])
        return Place(BOT_DM_CONTEXT, None, channel_id)

    def _place_of_message(self, msg: StoredMessage) -> Place:
        context = self.channel_contexts.get(msg.channel_id, GUILD_CONTEXT if msg.guild_id else BOT_DM_CONTEXT)
        guild = None if msg.guild_id is None else self.guilds.get(msg.guild_id)
        if context == GUILD_CONTEXT and guild is None and msg.guild_id is not None:
            guild = self.add_guild(msg.guild_id, channel_id=msg.channel_id)
        return Place(context, guild, msg.channel_id)

    def _installs(self, place: Place, user: FakeUser, installs: Collection[int] | None) -> dict[str, str]:
        """authorizing_integration_owners before the command's own integration_types filter it."""
        kinds = set(installs) if installs is not None else None
        owners: dict[str, str] = {}
        guild_ok = place.context == BOT_DM_CONTEXT or (place.guild is not None and place.guild.installed)
        if (kinds is None and guild_ok) or (kinds is not None and GUILD_INSTALL in kinds):
            if place.context == PRIVATE_CHANNEL_CONTEXT:
                raise PermissionError("a server install cannot be used in DMs between users or group DMs")
            owners[str(GUILD_INSTALL)] = str(place.guild_id) if place.guild is not None else "0"
        if (kinds is None and user.id in self.user_installs) or (kinds is not None and USER_INSTALL in kinds):
            owners[str(USER_INSTALL)] = str(user.id)
        return owners

    # ---- commands --------------------------------------------------------------------------------
    def _find_command(self, name: str, ctype: int, guild_id: int | None) -> tuple[dict[str, Any] | None, int | None]:
        if guild_id is not None:
            for cmd in self.guild_commands.get(guild_id, []):
                if cmd["name"] == name and cmd.get("type", 1) == ctype:
                    return cmd, guild_id
        for cmd in self.global_commands:
            if cmd["name"] == name and cmd.get("type", 1) == ctype:
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

    @staticmethod
    def command_contexts(cmd: dict[str, Any]) -> list[int]:
        """Where Discord offers a global command: its `contexts`, or for null [0, 1] ([0] with dm_permission false)."""
        if cmd.get("contexts") is not None:
            return [int(c) for c in cmd["contexts"]]
        return [GUILD_CONTEXT] if cmd.get("dm_permission") is False else [GUILD_CONTEXT, BOT_DM_CONTEXT]

    @staticmethod
    def command_installs(cmd: dict[str, Any]) -> list[int]:
        """Which installations a global command works through: its `integration_types`, or for null [0]."""
        kinds = cmd.get("integration_types")
        return [GUILD_INSTALL] if kinds is None else [int(k) for k in kinds]

    def _owners_for_command(
        self,
        name: str,
        cmd: dict[str, Any] | None,
        cmd_guild: int | None,
        place: Place,
        user: FakeUser,
        installs: Collection[int] | None,
    ) -> dict[str, str]:
        """The authorizing owners of a command used at `place`; PermissionError where Discord would not offer it."""
        owners = self._installs(place, user, installs)
        if cmd is not None and cmd_guild is not None:
            owners = {k: v for k, v in owners.items() if k == str(GUILD_INSTALL)}
            if place.context != GUILD_CONTEXT or not owners:
                raise PermissionError(f"guild command {name!r} is only offered in its server, through its install")
            return owners
        if cmd is not None:
            contexts = self.command_contexts(cmd)
            if place.context not in contexts:
                raise PermissionError(
                    f"{name!r} is not offered in context {place.context} (its contexts: {cmd.get('contexts')},"
                    f" dm_permission: {cmd.get('dm_permission')})"
                )
            allowed = {str(k) for k in self.command_installs(cmd)}
            owners = {k: v for k, v in owners.items() if k in allowed}
            if not owners:
                raise PermissionError(
                    f"{name!r} (integration_types {cmd.get('integration_types')}) is not reachable here for user"
                    f" {user.id}: context {place.context}, guild installed="
                    f"{None if place.guild is None else place.guild.installed}, user installed="
                    f"{user.id in self.user_installs} (see install_for_user / installs=)"
                )
            return owners
        if not owners:
            raise PermissionError(f"no installation of the app reaches user {user.id} in context {place.context}")
        return owners

    def command(self, name: str, *, type: int = 1, guild_id: int | None = None) -> dict[str, Any]:
        """The stored (synced) command `name` of `type` (1 slash, 2 user, 3 message), global or of `guild_id`."""
        stored = self.global_commands if guild_id is None else self.guild_commands.get(guild_id, [])
        for cmd in stored:
            if cmd["name"] == name and int(cmd.get("type", 1)) == type:
                return cmd
        raise KeyError(f"no synced command {name!r} of type {type} (guild {guild_id}): {[c['name'] for c in stored]}")

    def command_names(self, *, guild_id: int | None = None, locale: str | None = None) -> list[str]:
        """Names of the synced commands, as a user with `locale` sees them (their name_localizations)."""
        stored = self.global_commands if guild_id is None else self.guild_commands.get(guild_id, [])
        return [(c.get("name_localizations") or {}).get(locale or "", c["name"]) for c in stored]

    def localized(self, name: str, locale: str, *, type: int = 1, guild_id: int | None = None) -> dict[str, Any]:
        """What a user with `locale` sees of a command: name, description, options (name, description, choices)."""
        cmd = self.command(name, type=type, guild_id=guild_id)

        def pick(obj: dict[str, Any], key: str) -> Any:
            return (obj.get(f"{key}_localizations") or {}).get(locale, obj.get(key))

        def option(o: dict[str, Any]) -> dict[str, Any]:
            out: dict[str, Any] = {"name": pick(o, "name"), "description": pick(o, "description")}
            if o.get("choices"):
                out["choices"] = [pick(c, "name") for c in o["choices"]]
            if o.get("options"):
                out["options"] = [option(sub) for sub in o["options"]]
            return out

        return {
            "name": pick(cmd, "name"),
            "description": pick(cmd, "description"),
            "options": [option(o) for o in cmd.get("options") or []],
        }

    def _build_options(
        self,
        schema: list[dict[str, Any]] | None,
        options: dict[str, Any],
        *,
        focused: str | None,
        resolved: dict[str, dict[str, Any]],
        guild: bool,
        member_permissions: int = ALL_PERMISSIONS,
    ) -> list[dict[str, Any]]:
        out: list[dict[str, Any]] = []
        by_name = {o["name"]: o for o in schema or []}
        for name, value in options.items():
            spec = by_name.get(name)
            if schema is not None and spec is None:
                raise ValueError(f"option {name!r} does not exist; options are {sorted(by_name)}")
            otype = int(spec["type"]) if spec else infer_option_type(value)
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
            elif otype == 7:
                ch = self.channels.get(value) if isinstance(value, int) else None
                if ch is None or not guild or ch.get("guild_id") is None:
                    raise TypeError(f"option {name!r} is a channel option; pass the id of a channel of this server")
                allowed_types = spec.get("channel_types") if spec else None
                if allowed_types and ch["type"] not in allowed_types:
                    raise ValueError(f"channel {value} (type {ch['type']}) is not offered for {name!r}")
                entry["value"] = str(value)
                resolved.setdefault("channels", {})[str(value)] = {
                    key: ch.get(key)
                    for key in (
                        "id",
                        "name",
                        "type",
                        "guild_id",
                        "parent_id",
                        "nsfw",
                        "position",
                        "rate_limit_per_user",
                        "topic",
                        "last_message_id",
                        "flags",
                    )
                } | {"permissions": str(member_permissions)}  # the invoking member's, as Discord sends them
            elif otype in (8, 9, 11):
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

    # ---- the INTERACTION_CREATE payload ----------------------------------------------------------
    def _app_permissions(self, place: Place, user: FakeUser) -> int:
        if place.context == BOT_DM_CONTEXT:
            return BOT_DM_APP_PERMISSIONS
        if place.context == PRIVATE_CHANNEL_CONTEXT:
            return PRIVATE_CHANNEL_APP_PERMISSIONS
        assert place.guild is not None
        if place.guild.installed:
            return self.bot_permissions_in(place.channel_id)
        return USER_INSTALL_GUILD_APP_PERMISSIONS & user.permissions

    def _channel_for(self, place: Place, user: FakeUser) -> dict[str, Any]:
        ch = dict(self.channels[place.channel_id])
        if place.context == GUILD_CONTEXT:
            ch["permissions"] = str(user.permissions)
        elif place.context == PRIVATE_CHANNEL_CONTEXT:
            ch["recipients"] = [u for u in ch.get("recipients") or [] if u["id"] != str(user.id)]
        return ch

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
        place: Place | None = None,
        owners: dict[str, str] | None = None,
    ) -> tuple[int, str, dict[str, Any], int]:
        place = place or self._place(user, guild_id, channel_id)
        if owners is None:
            owners = self._installs(place, user, None) or {str(GUILD_INSTALL): str(place.guild_id or 0)}
        iid = snowflake(at)
        raw_token = f"interaction:{iid}:{secrets.token_urlsafe(48)}".encode()
        token = base64.urlsafe_b64encode(raw_token).decode().rstrip("=")
        d: dict[str, Any] = {
            "id": str(iid),
            "application_id": str(self.app_id),
            "type": itype,
            "token": token,
            "version": 1,
            "data": data,
            "channel_id": str(place.channel_id),
            "channel": self._channel_for(place, user),
            "app_permissions": str(self._app_permissions(place, user)),
            "locale": locale,
            "entitlements": [],
            "authorizing_integration_owners": owners,
            "context": place.context,
            "attachment_size_limit": ATTACHMENT_SIZE_LIMIT,
        }
        if place.guild is not None:
            d["guild_id"] = str(place.guild.id)
            d["guild"] = place.guild.partial()
            d["guild_locale"] = place.guild.locale
            d["member"] = user.to_member()
        else:
            d["user"] = user.to_user()
        if message is not None:
            d["message"] = message
        return iid, token, d, place.channel_id

    def break_next_interaction(self, *, drop: str = "attachment_size_limit", count: int = 1) -> None:
        """Remove field `drop` (dotted path, e.g. "data.name") from the next `count` INTERACTION_CREATEs.

        discord.py raises on such an event inside its gateway reader (see the module docstring).
        """
        self._broken_interactions.extend([drop] * count)

    def _break(self, d: dict[str, Any]) -> None:
        if not self._broken_interactions:
            return
        *parents, leaf = self._broken_interactions.pop(0).split(".")
        node: Any = d
        for key in parents:
            node = node.get(key) if isinstance(node, dict) else None
        if isinstance(node, dict):
            node.pop(leaf, None)

    async def _launch(
        self,
        itype: int,
        data: dict[str, Any],
        *,
        user: FakeUser,
        place: Place,
        owners: dict[str, str],
        locale: str,
        at: float | None,
        late: float,
        name: str | None,
        message_type: int,
        message: StoredMessage | None = None,
        opened_by: InteractionRecord | None = None,
    ) -> InteractionRecord:
        session = self._session_for(place.guild_id)
        created = (time.time() if at is None else at) - late
        iid, token, d, cid = self._envelope(
            itype,
            data,
            user=user,
            guild_id=place.guild_id,
            channel_id=place.channel_id,
            locale=locale,
            at=created,
            message=None if message is None else message.to_payload(),
            place=place,
            owners=owners,
        )
        forced = (
            place.context == GUILD_CONTEXT
            and place.guild is not None
            and not place.guild.installed
            and not user.permissions & USE_EXTERNAL_APPS
        )
        rec = InteractionRecord(
            self,
            id=iid,
            token=token,
            type=itype,
            user=user,
            payload=d,
            guild_id=place.guild_id,
            channel_id=cid,
            name=name,
            message_type=message_type,
            source_message_id=None if message is None else message.id,
            opened_by=opened_by,
            created_at=snowflake_seconds(iid),
            forced_ephemeral=forced,
        )
        self.interactions[iid] = rec
        self._by_token[token] = rec
        self._break(d)

        def stamp() -> None:
            rec.dispatched_at = time.monotonic()
            rec.delivered_at = time.time()

        await self._send_dispatch(session, "INTERACTION_CREATE", d, before_send=stamp)
        return rec

    # ---- application commands ----------------------------------------------------------------------
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
        late: float = 0.0,
        installs: Collection[int] | None = None,
        subcommand: str | None = None,
    ) -> InteractionRecord:
        """Dispatch a chat-input command (type 2); `subcommand` is "sub" or "group sub". Returns at once."""
        place = self._place(user, guild_id, channel_id)
        cmd, cmd_guild = self._find_command(name, 1, place.guild_id)
        owners = self._owners_for_command(name, cmd, cmd_guild, place, user, installs)
        schema: list[dict[str, Any]] | None = None if cmd is None else list(cmd.get("options") or [])
        schema, chain = self._descend(name, schema, subcommand)
        resolved: dict[str, dict[str, Any]] = {}
        self._check_member_permissions(name, cmd, place, user)
        leaf = self._build_options(
            schema,
            options or {},
            focused=None,
            resolved=resolved,
            guild=place.guild is not None,
            member_permissions=user.permissions,
        )
        data = self._command_data(name, 1, cmd, cmd_guild, self._nest(chain, leaf), resolved)
        return await self._launch(
            APPLICATION_COMMAND,
            data,
            user=user,
            place=place,
            owners=owners,
            locale=locale,
            at=at,
            late=late,
            name=name,
            message_type=20,
        )

    @staticmethod
    def _check_member_permissions(name: str, cmd: dict[str, Any] | None, place: Place, user: FakeUser) -> None:
        """A command with `default_member_permissions` is offered in servers only to members who have them."""
        needed = None if cmd is None else cmd.get("default_member_permissions")
        if needed is None or place.context != GUILD_CONTEXT or user.permissions & ADMINISTRATOR:
            return
        if int(needed) & ~user.permissions:
            raise PermissionError(f"/{name} needs permissions {needed}; user {user.id} lacks some (not offered)")

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
        late: float = 0.0,
        installs: Collection[int] | None = None,
        subcommand: str | None = None,
    ) -> InteractionRecord:
        """Dispatch an autocomplete (type 4) for option `focused`; choices land in `record.choices`."""
        if focused not in options:
            raise ValueError(f"focused option {focused!r} must be in options")
        place = self._place(user, guild_id, channel_id)
        cmd, cmd_guild = self._find_command(name, 1, place.guild_id)
        owners = self._owners_for_command(name, cmd, cmd_guild, place, user, installs)
        schema: list[dict[str, Any]] | None = None if cmd is None else list(cmd.get("options") or [])
        schema, chain = self._descend(name, schema, subcommand)
        if schema is not None:
            spec = next((o for o in schema if o["name"] == focused), None)
            if spec is None or not spec.get("autocomplete"):
                raise ValueError(f"option {focused!r} of /{name} has no autocomplete")
        resolved: dict[str, dict[str, Any]] = {}
        leaf = self._build_options(schema, options, focused=focused, resolved=resolved, guild=place.guild is not None)
        data = self._command_data(name, 1, cmd, cmd_guild, self._nest(chain, leaf), resolved)
        return await self._launch(
            AUTOCOMPLETE,
            data,
            user=user,
            place=place,
            owners=owners,
            locale=locale,
            at=at,
            late=late,
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
        late: float = 0.0,
        installs: Collection[int] | None = None,
    ) -> InteractionRecord:
        """Dispatch a message context-menu command (type 2, data.type 3) on `target`, in the target's channel."""
        if isinstance(target, StoredMessage):
            if target.deleted:
                raise ValueError(f"message {target.id} is deleted")
            if target.ephemeral and target.visible_to != user.id:
                raise PermissionError(f"user {user.id} cannot see ephemeral message {target.id}")
            payload = target.to_payload()
            place = self._place_of_message(target)
            if place.context != GUILD_CONTEXT:
                place = self._place(user, None, target.channel_id)
        else:
            payload = target
            gid = int(target["guild_id"]) if target.get("guild_id") else DEFAULT_GUILD
            place = self._place(user, gid, int(target["channel_id"]))
        cmd, cmd_guild = self._find_command(name, 3, place.guild_id)
        owners = self._owners_for_command(name, cmd, cmd_guild, place, user, installs)
        data = self._command_data(name, 3, cmd, cmd_guild, None, {"messages": {str(payload["id"]): payload}})
        data["target_id"] = str(payload["id"])
        return await self._launch(
            APPLICATION_COMMAND,
            data,
            user=user,
            place=place,
            owners=owners,
            locale=locale,
            at=at,
            late=late,
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
        late: float = 0.0,
        installs: Collection[int] | None = None,
    ) -> InteractionRecord:
        """Dispatch a user context-menu command (type 2, data.type 2) on `target`."""
        place = self._place(user, guild_id, channel_id)
        cmd, cmd_guild = self._find_command(name, 2, place.guild_id)
        owners = self._owners_for_command(name, cmd, cmd_guild, place, user, installs)
        resolved: dict[str, dict[str, Any]] = {"users": {str(target.id): target.to_user()}}
        if place.guild is not None:
            resolved["members"] = {str(target.id): target.to_member(with_user=False)}
        data = self._command_data(name, 2, cmd, cmd_guild, None, resolved)
        data["target_id"] = str(target.id)
        return await self._launch(
            APPLICATION_COMMAND,
            data,
            user=user,
            place=place,
            owners=owners,
            locale=locale,
            at=at,
            late=late,
            name=name,
            message_type=23,
        )

    # ---- components and modals --------------------------------------------------------------------
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
        self,
        message_id: int,
        button: str,
        *,
        user: FakeUser,
        at: float | None = None,
        late: float = 0.0,
        locale: str = "en-US",
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
        return await self._component(msg, data, user=user, at=at, late=late, locale=locale)

    async def select(
        self,
        message_id: int,
        values: list[str],
        *,
        user: FakeUser,
        custom_id: str | None = None,
        at: float | None = None,
        late: float = 0.0,
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
        return await self._component(msg, data, user=user, at=at, late=late, locale=locale)

    def _message_owners(self, msg: StoredMessage) -> dict[str, str]:
        meta = msg.interaction_metadata or {}
        owners = meta.get("authorizing_integration_owners")
        if owners:
            return dict(owners)
        return {str(GUILD_INSTALL): str(msg.guild_id or 0)}

    async def _component(
        self,
        msg: StoredMessage,
        data: dict[str, Any],
        *,
        user: FakeUser,
        at: float | None,
        late: float,
        locale: str = "en-US",
    ) -> InteractionRecord:
        place = self._place_of_message(msg)
        return await self._launch(
            MESSAGE_COMPONENT,
            data,
            user=user,
            place=place,
            owners=self._message_owners(msg),
            locale=locale,
            at=at,
            late=late,
            name=None,
            message_type=0,
            message=msg,
        )

    async def submit_modal(
        self,
        opened_by: InteractionRecord,
        values: dict[str, str | list[str] | bool],
        *,
        shape: str | None = None,
        at: float | None = None,
        late: float = 0.0,
    ) -> InteractionRecord:
        """Submit the modal `opened_by` answered with (callback 9).

        `shape` None mirrors the modal as sent (ActionRow type 1 or Label type 18 per input); "row" or "label"
        wraps every input that way (a client's answer in the deprecated or the current form).
        """
        modal = opened_by.modal
        if modal is None:
            raise ValueError(
                f"interaction {opened_by.id} did not open a modal (response_type={opened_by.response_type})"
            )
        if opened_by.modal_submitted:
            raise ValueError("this modal was already submitted (it closed)")
        if shape not in (None, "row", "label"):
            raise ValueError(f"shape is None, 'row' or 'label', not {shape!r}")
        unknown = set(values) - {c.get("custom_id") for c in walk_components(modal["components"])}
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
            ttype = top.get("type")
            child = (
                (top.get("components") or [None])[0] if ttype == 1 else top.get("component") if ttype == 18 else None
            )
            if child is None:
                components.append({"type": ttype, "id": top.get("id", 0)})
                continue
            as_row = shape == "row" or (shape is None and ttype == 1)
            if as_row:
                components.append({"type": 1, "id": top.get("id", 0), "components": [answer(child)]})
            else:
                components.append({"type": 18, "id": top.get("id", 0), "component": answer(child)})
        opened_by.modal_submitted = True
        data = {"custom_id": modal["custom_id"], "components": components}
        source = opened_by.source_message if opened_by.type == MESSAGE_COMPONENT else None
        place = (
            self._place_of_message(source)
            if source is not None
            else self._place(opened_by.user, opened_by.guild_id, opened_by.channel_id)
        )
        return await self._launch(
            MODAL_SUBMIT,
            data,
            user=opened_by.user,
            place=place,
            owners=opened_by.owners,
            locale=str(opened_by.payload.get("locale", "en-US")),
            at=at,
            late=late,
            name=None,
            message_type=0,
            message=source,
            opened_by=opened_by,
        )

    async def forge(
        self,
        itype: int,
        data: dict[str, Any],
        *,
        user: FakeUser,
        guild_id: int | None = DEFAULT_GUILD,
        channel_id: int | None = None,
        message: StoredMessage | None = None,
        opened_by: InteractionRecord | None = None,
        locale: str = "en-US",
        at: float | None = None,
        late: float = 0.0,
        installs: Collection[int] | None = None,
    ) -> InteractionRecord:
        """Dispatch an interaction with `data` exactly as given: no command gating, no option or component checks.

        For what a modified client or a stale command registration can make Discord deliver (wrong option
        types, unknown commands, custom_ids that are not on the message, select values never offered).
        With `message`, the interaction happens on it (place and owners from the message).
        """
        if message is not None:
            place, owners = self._place_of_message(message), self._message_owners(message)
        else:
            place = self._place(user, guild_id, channel_id)
            owners = self._installs(place, user, installs) or {str(GUILD_INSTALL): str(place.guild_id or 0)}
        if opened_by is not None:
            owners = opened_by.owners
        name = data.get("name") if itype in (APPLICATION_COMMAND, AUTOCOMPLETE) else None
        return await self._launch(
            itype,
            data,
            user=user,
            place=place,
            owners=owners,
            locale=locale,
            at=at,
            late=late,
            name=name if isinstance(name, str) else None,
            message_type=20 if itype == APPLICATION_COMMAND else 0,
            message=message,
            opened_by=opened_by,
        )

    # ---- messages users post (context-menu targets) -------------------------------------------------
    def post_message(
        self,
        channel_id: int,
        *,
        author: FakeUser,
        content: str = "",
        embeds: list[dict[str, Any]] | None = None,
        components: list[dict[str, Any]] | None = None,
        flags: int = 0,
        poll: dict[str, Any] | None = None,
        message_snapshots: list[dict[str, Any]] | None = None,
        message_reference: dict[str, Any] | None = None,
        guild_id: int | None = None,
    ) -> StoredMessage:
        """Store a message written by a user (or another app), e.g. a target for a context-menu command."""
        ch = self.channels.get(channel_id)
        if guild_id is None and ch is not None and ch.get("guild_id"):
            guild_id = int(ch["guild_id"])
        elif guild_id is None and ch is None:
            guild_id = DEFAULT_GUILD
        if ch is None:
            self.add_channel(channel_id, guild_id)
        msg = StoredMessage(
            id=snowflake(),
            channel_id=channel_id,
            content=content,
            embeds=list(embeds or []),
            components=list(components or []),
            flags=flags,
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
            poll=poll,
            message_snapshots=list(message_snapshots or []),
            message_reference=message_reference,
        )
        self.messages[msg.id] = msg
        return msg

    def post_user_message(
        self, channel_id: int, content: str, *, author: FakeUser, guild_id: int | None = None
    ) -> StoredMessage:
        """Store a plain message written by a user (e.g. a target for a context-menu command)."""
        return self.post_message(channel_id, author=author, content=content, guild_id=guild_id)

    def post_forward(self, channel_id: int, original: StoredMessage, *, author: FakeUser) -> StoredMessage:
        """`author` forwards `original` into `channel_id`: empty content, the text in `message_snapshots[0].message`."""
        snap = original.to_payload()
        snapshot = {
            key: snap[key]
            for key in (
                "type",
                "content",
                "embeds",
                "attachments",
                "timestamp",
                "edited_timestamp",
                "flags",
                "mentions",
            )
        }
        snapshot.update({"mention_roles": [], "components": snap["components"], "sticker_items": []})
        reference: dict[str, Any] = {
            "type": 1,
            "message_id": str(original.id),
            "channel_id": str(original.channel_id),
        }
        if original.guild_id is not None:
            reference["guild_id"] = str(original.guild_id)
        return self.post_message(
            channel_id, author=author, message_snapshots=[{"message": snapshot}], message_reference=reference
        )

    def post_components_v2(
        self, channel_id: int, components: list[dict[str, Any]], *, author: FakeUser
    ) -> StoredMessage:
        """A Components V2 message (flag IS_COMPONENTS_V2): no content, text in Text Displays (see text_display…)."""
        return self.post_message(channel_id, author=author, components=components, flags=IS_COMPONENTS_V2)

    def post_poll(
        self, channel_id: int, question: str, answers: list[str], *, author: FakeUser, content: str = ""
    ) -> StoredMessage:
        """A poll message: the text is in `poll.question.text` and `poll.answers[].poll_media.text`."""
        return self.post_message(channel_id, author=author, content=content, poll=poll_object(question, answers))

    def post_embeds(
        self, channel_id: int, embeds: list[dict[str, Any]], *, author: FakeUser, content: str = ""
    ) -> StoredMessage:
        """A message with embeds (e.g. what another bot posted)."""
        return self.post_message(channel_id, author=author, content=content, embeds=embeds)


def text_display(content: str) -> dict[str, Any]:
    """A Text Display component (type 10)."""
    return {"type": 10, "content": content}


def container(*children: dict[str, Any], accent_color: int | None = None) -> dict[str, Any]:
    """A Container component (type 17) holding `children`."""
    out: dict[str, Any] = {"type": 17, "components": list(children)}
    if accent_color is not None:
        out["accent_color"] = accent_color
    return out


def section(*texts: str, thumbnail_url: str = "https://images.example/t.png") -> dict[str, Any]:
    """A Section component (type 9): 1-3 Text Displays with a Thumbnail (type 11) accessory."""
    return {
        "type": 9,
        "components": [text_display(t) for t in texts],
        "accessory": {"type": 11, "media": {"url": thumbnail_url}},
    }
