"""A loopback Discord: REST routes and the gateway websocket on 127.0.0.1 for the real, unpatched discord.py client.

It models what users see (messages, ephemeral visibility, the deferred "thinking…" placeholder) and holds
the bot to Discord's rules (3 s first-response window from the interaction's creation, one acknowledgement,
message and modal shapes, who may click what, where a command is offered). Wire facts: the Discord API
documentation (https://discord.com/developers/docs) and discord.py 2.7's source.

Modules: `wire` (ids, users, guilds, messages, validation), `records` (calls, faults, interaction records),
`gateway` (sessions, compression, gateway faults), `interactions` (places, installs, commands, targets),
`rest` (routes, callbacks, webhooks, REST faults), `core` (FakeDiscord itself).

Gateway
    Frames are compressed the way the client asks in its URL: `compress=zstd-stream` (discord.py 2.7 with
    `zstandard` importable) gives BINARY frames of one zstd stream flushed per message; `compress=zlib-stream`
    one zlib stream, each message ending in the Z_SYNC_FLUSH suffix 00 00 ff ff; no `compress` gives TEXT.
    `FakeDiscord(gateway_compression="auto"|"none"|"zlib-stream"|"zstd-stream")` overrides ("auto" default).
    READY lists the installed guilds of the session's shard; GUILD_CREATE follows when IDENTIFY asked for the
    GUILDS intent. DMs (contexts 1 and 2) arrive on shard 0. Every event is buffered and replayed on RESUME.

Places, installs and contexts
    Pre-registered: DEFAULT_GUILD/DEFAULT_CHANNEL and OTHER_GUILD/OTHER_CHANNEL (the app is installed there) and
    FOREIGN_GUILD/FOREIGN_CHANNEL (it is not: no GUILD_CREATE, only user installs reach it).
    - server install:       slash(..., guild_id=DEFAULT_GUILD)          context 0, owners {"0": guild}
    - user install, server: install_for_user(u); slash(..., guild_id=FOREIGN_GUILD)
                            context 0, owners {"1": user}, partial `guild` {id, locale, features}, `member`
                            with `permissions`; app_permissions = USER_INSTALL_GUILD_APP_PERMISSIONS & member's
    - DM with the bot:      slash(..., guild_id=None)                    context 1, channel type 1, `user`
    - DM between users:     slash(..., guild_id=None, channel_id=fake.user_dm(u, v))   context 2, user install
    - group DM:             slash(..., guild_id=None, channel_id=fake.group_dm([u, v, w]))  channel type 3
    `installs={0, 1}` on any interaction method overrides which installations authorize it. A command is
    delivered only where its synced `contexts`/`integration_types` allow (null contexts = [0, 1], or [0] with
    dm_permission false; null integration_types = [0]); otherwise PermissionError, as the client would not
    offer it. Forced-private: in a server that did not install the app, a member lacking USE_EXTERNAL_APPS
    (`user.without(USE_EXTERNAL_APPS)`) gets every response and followup ephemeral (record.forced_ephemeral).
    User-install-only interactions allow 5 followups (the 6th gets 40094).

Rules enforced
    10062 for a first callback later than `deadline` (3 s) after the interaction's snowflake time; 40060 for a
    second ack; 10015 for webhooks before an ack; 50027 after `token_ttl`; 50035 for bodies Discord rejects
    (messages, modals in both the ActionRow+TextInput and the Label forms, commands, localizations); a type 5
    defer may only carry EPHEMERAL. After a defer, PATCH @original fills the placeholder (the current way,
    `record.filled_by == "edit_original"`); the deprecated first-followup fill is still modelled
    (`filled_by == "followup"`, the defer's visibility wins over the followup's flags).

API reference (FakeDiscord; all interaction methods return an InteractionRecord at once)
    FakeDiscord(*, deadline=3.0, token_ttl=900, gateway_compression="auto", heartbeat_interval=41.25 (s, HELLO),
                recommended_shards=1, enforce_shards=False, privileged_intents=PRIVILEGED_INTENTS,
                user_install_enabled=True, require_registered=True, app_id=…, token=None, bot_name="testbot")
    World:   add_guild(id, *, installed=True, channel_id=None, name, locale, features, bot_permissions) -> FakeGuild
             await join_guild(guild); add_channel(cid, guild_id); dm_channel_for(user); user_dm(a, b);
             group_dm([users], name=None); install_for_user(user); uninstall_for_user(user)
             set_bot_overwrite(channel_id, *, allow=0, deny=0) (a channel overwrite for the bot's member);
             bot_permissions_in(channel_id) (the guild's bot_permissions with it applied; ADMINISTRATOR passes
             all): what app_permissions says there, what GET /channels/{id}, /guilds/{id}/roles and
             /guilds/{id}/members/{bot} let the bot compute, and what channel messages need (no View Channel:
             403/50001, no Send Messages: 403/50013; Embed Links is not enforced)
    Act:     slash(name, options, *, user, guild_id=DEFAULT_GUILD, channel_id=None, locale, at=None, late=0.0,
                   installs=None, subcommand=None); autocomplete(name, options, focused, …);
             message_command(name, target, *, user, late, installs); user_command(name, target, *, user, …);
             click(message_id, button, *, user, late); select(message_id, values, *, user, custom_id, late);
             submit_modal(opened_by, values, *, shape=None|"row"|"label", late)
             forge(itype, data, *, user, guild_id, channel_id, message=None, opened_by=None, late, installs)
             (data exactly as given: wrong option types, unknown commands, custom_ids not on the message)
             Options: str, int, float, bool, FakeUser for user options, a channel id for channel options
             (checked against `channel_types`; resolved with the invoking member's permissions, as Discord does).
             A command with `default_member_permissions` is offered in servers only to members who have them
             (or ADMINISTRATOR): otherwise PermissionError.
             `late=N`: the interaction was created N s before delivery (its snowflake is N s old).
    Targets: post_message(cid, *, author, content, embeds, components, flags, poll, message_snapshots);
             post_user_message(cid, content, *, author); post_forward(cid, original, *, author);
             post_components_v2(cid, [text_display(..), container(..), section(..)], *, author);
             post_poll(cid, question, answers, *, author); post_embeds(cid, embeds, *, author)
    Commands: global_commands, guild_commands, syncs; command(name, *, type=1, guild_id=None);
             command_names(*, guild_id, locale); localized(name, locale, *, type=1) -> {name, description,
             options: [{name, description, choices}]}; command_contexts(cmd); command_installs(cmd)
    REST faults: fail_next(route, *, status=500, code=None, message=None, count=1 (None=always),
             processed=False, callback_types=None, interaction=None) -> Fault; automod_block(keyword=None, *,
             route="message", count=1) -> Fault (400/200000, servers only); rest_429_next(path, …); clear_faults()
             routes: callback followup get_original edit_original delete_original get_followup edit_followup
             delete_followup channel_message commands message(= any message create/edit)
    Gateway faults: await close_gateway(code, *, shard_id=None, sticky=None) (4004/4010-4014 keep refusing
             IDENTIFY/RESUME); reject_identify(code, *, count=1|None); clear_identify_rejections();
             zombie(*, shard_id=None) -> [Zombie] (no ACKs, no dispatch, socket open; .detected_after,
             .close_code, .closed_by_client); await drop_gateway(code=4000|1006, reconnect_op=False);
             await invalidate_session(resumable=False); await send_undecodable(event="GUILD_UPDATE") (a lone
             "\\ud800" escape: stdlib json accepts it, orjson rejects it; a str option holding "\\ud800" does
             the same inside an interaction); await dispatch_raw(event, raw_d_json);
             break_next_interaction(drop="attachment_size_limit"|"data.name"|…, count=1); await dispatch(event, d);
             gateway_down = True (websocket upgrades answered HTTP 503; gateway_refusals counts them)
    Observe: calls (Call: method, path, query, json, status, route, code, fault), calls_to(path, method),
             calls_on(route), unexpected_calls, messages, channel_messages(cid, viewer=None), interactions,
             identifies, resumes, heartbeats, gateway_connections, gateway_queries, gateway_closes,
             gateway_log / gateway_events(kind) (connect identify resume server_close client_close zombie),
             frames_sent() -> {"text", "binary"}, sessions, live_sessions, zombies, transcript()
    Wait:    wait_until(pred, timeout), wait_ready(count), wait_call(method, path, after=i)
    Client helpers (tests.fakes.discord.client): pointed_at(fake) patches discord.py's Route.BASE and
             DEFAULT_GATEWAY; await start_client(client, fake) -> task; connected(client, fake, views=[…])
    InteractionRecord: created_at (epoch, snowflake), delivered_at, responded_at, response_age, delivery_delay,
             ack_latency, context, owners, user_installed_only, app_permissions, forced_ephemeral, response_type,
             responses, callbacks, acknowledged, acked_twice, errors, expired, failed, finished, followups,
             messages, original, placeholder, filled_by, modal, choices, calls, visible_to(viewer),
             visible_messages(), reply_text / public_reply_text / ephemeral_reply_text, describe(),
             wait_done(), wait_for(pred), wait_response(), expect_no_response(within)
    StoredMessage: text, content, embeds, components, flags, ephemeral, visible_to, visible_for(viewer), deleted,
             loading, filled_by, edits, history, buttons(), button(x), selects(), image_alts(), pings(), poll,
             message_snapshots, to_payload()
"""

from __future__ import annotations

from tests.fakes.discord.core import FakeDiscord
from tests.fakes.discord.gateway import FATAL_CLOSE_CODES, GatewayEvent, GatewaySession, Zombie
from tests.fakes.discord.interactions import Place, container, section, text_display
from tests.fakes.discord.records import Call, CallbackAttempt, Fault, InteractionRecord
from tests.fakes.discord.rest import REST_ROUTES
from tests.fakes.discord.wire import (
    ALL_PERMISSIONS,
    ATTACH_FILES,
    AUTOMOD_BLOCKED,
    BOT_DM_APP_PERMISSIONS,
    DEFAULT_CHANNEL,
    DEFAULT_GUILD,
    EMBED_LINKS,
    EPHEMERAL,
    FOREIGN_CHANNEL,
    FOREIGN_GUILD,
    IS_COMPONENTS_V2,
    MAX_FOLLOWUPS,
    MENTION_EVERYONE,
    OTHER_CHANNEL,
    OTHER_GUILD,
    PRIVATE_CHANNEL_APP_PERMISSIONS,
    SEND_POLLS,
    USE_EXTERNAL_APPS,
    USE_EXTERNAL_EMOJIS,
    USER_INSTALL_GUILD_APP_PERMISSIONS,
    FakeGuild,
    FakeUser,
    HttpError,
    StoredMessage,
    bot_token_for,
    guild_on_shard,
    make_user,
    number_components,
    poll_object,
    snowflake,
    snowflake_seconds,
    snowflake_time,
    validate_message,
    validate_modal,
)

_number_components = number_components  # the name benchmarks/profiling.py imports

__all__ = [
    "ALL_PERMISSIONS",
    "ATTACH_FILES",
    "AUTOMOD_BLOCKED",
    "BOT_DM_APP_PERMISSIONS",
    "DEFAULT_CHANNEL",
    "DEFAULT_GUILD",
    "EMBED_LINKS",
    "EPHEMERAL",
    "FATAL_CLOSE_CODES",
    "FOREIGN_CHANNEL",
    "FOREIGN_GUILD",
    "IS_COMPONENTS_V2",
    "MAX_FOLLOWUPS",
    "MENTION_EVERYONE",
    "OTHER_CHANNEL",
    "OTHER_GUILD",
    "PRIVATE_CHANNEL_APP_PERMISSIONS",
    "REST_ROUTES",
    "SEND_POLLS",
    "USER_INSTALL_GUILD_APP_PERMISSIONS",
    "USE_EXTERNAL_APPS",
    "USE_EXTERNAL_EMOJIS",
    "Call",
    "CallbackAttempt",
    "FakeDiscord",
    "FakeGuild",
    "FakeUser",
    "Fault",
    "GatewayEvent",
    "GatewaySession",
    "HttpError",
    "InteractionRecord",
    "Place",
    "StoredMessage",
    "Zombie",
    "bot_token_for",
    "container",
    "guild_on_shard",
    "make_user",
    "poll_object",
    "section",
    "snowflake",
    "snowflake_seconds",
    "snowflake_time",
    "text_display",
    "validate_message",
    "validate_modal",
]
