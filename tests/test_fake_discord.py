"""Self-test of the loopback Discord (tests/fakes/discord/), driven by a real, unpatched discord.py bot."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from typing import Any

import aiohttp
import discord
import pytest
from discord import app_commands
from discord.ext import commands

from tests.fakes.discord import (
    DEFAULT_CHANNEL,
    DEFAULT_GUILD,
    OTHER_GUILD,
    FakeDiscord,
    FakeUser,
    HttpError,
    InteractionRecord,
    StoredMessage,
    make_user,
    validate_message,
)
from tests.fakes.discord.client import connected, pointed_at

FRUITS = ["apple", "apricot", "banana", "cherry"]


class PressView(discord.ui.View):
    """One live button, one disabled button, a link button and a string select."""

    def __init__(self) -> None:
        super().__init__(timeout=30)
        self.add_item(discord.ui.Button(label="docs", url="https://example.com/docs"))

    @discord.ui.button(label="Press", emoji="👍")
    async def press(self, interaction: discord.Interaction, button: discord.ui.Button[PressView]) -> None:
        await interaction.response.edit_message(content=f"pressed by {interaction.user.id}", view=None)

    @discord.ui.button(label="Later")
    async def later(self, interaction: discord.Interaction, button: discord.ui.Button[PressView]) -> None:
        await interaction.response.defer()
        await interaction.edit_original_response(content="edited later")
        await interaction.followup.send("psst", ephemeral=True)

    @discord.ui.button(label="Off", disabled=True)
    async def off(self, interaction: discord.Interaction, button: discord.ui.Button[PressView]) -> None:
        raise AssertionError("a disabled button cannot be clicked")

    @discord.ui.select(options=[discord.SelectOption(label=c.title(), value=c) for c in ("red", "green")])
    async def colour(self, interaction: discord.Interaction, select: discord.ui.Select[PressView]) -> None:
        await interaction.response.send_message(f"chose {select.values[0]}", ephemeral=True)


class Feedback(discord.ui.Modal, title="Feedback"):
    """An old-style text input (wrapped in an action row) and a new-style Label."""

    old: discord.ui.TextInput[Feedback] = discord.ui.TextInput(label="Old style", custom_id="old_in")
    new: discord.ui.Label[Feedback] = discord.ui.Label(
        text="New style", component=discord.ui.TextInput(custom_id="new_in", required=False)
    )

    async def on_submit(self, interaction: discord.Interaction) -> None:
        assert isinstance(self.new.component, discord.ui.TextInput)
        await interaction.response.send_message(f"got {self.old.value}/{self.new.component.value}", ephemeral=True)


class MiniBot(commands.Bot):
    """A tiny bot whose commands exercise every response path the fake models."""

    def __init__(self, **options: Any) -> None:
        super().__init__(
            command_prefix=commands.when_mentioned,
            intents=discord.Intents.none(),
            guild_ready_timeout=0.05,
            allowed_mentions=discord.AllowedMentions.none(),
            **options,
        )
        self.errors: list[BaseException] = []
        self.views: list[discord.ui.View] = []
        self.handled: list[int] = []

    async def setup_hook(self) -> None:
        tree = self.tree

        @tree.error
        async def on_error(interaction: discord.Interaction, error: app_commands.AppCommandError) -> None:
            self.errors.append(error)

        @tree.command(description="pong, privately")
        async def ping(interaction: discord.Interaction) -> None:
            self.handled.append(interaction.id)
            await interaction.response.send_message("pong", ephemeral=True)

        @tree.command(description="defer privately, then follow up")
        async def slow(interaction: discord.Interaction, text: str) -> None:
            await interaction.response.defer(ephemeral=True, thinking=True)
            await asyncio.sleep(0.02)
            await interaction.followup.send(f"echo: {text}", ephemeral=True)

        @tree.command(description="defer publicly, then an 'ephemeral' followup")
        async def oops(interaction: discord.Interaction) -> None:
            await interaction.response.defer()
            await interaction.followup.send("meant for you alone", ephemeral=True)

        @tree.command(description="defer publicly, delete the placeholder, then an ephemeral followup")
        async def careful(interaction: discord.Interaction) -> None:
            await interaction.response.defer()
            await interaction.delete_original_response()
            await interaction.followup.send("really for you alone", ephemeral=True)

        @tree.command(description="a view")
        async def buttons(interaction: discord.Interaction) -> None:
            view = PressView()
            self.views.append(view)
            await interaction.response.send_message("choose", view=view)

        @tree.command(description="misses the deadline")
        async def sleepy(interaction: discord.Interaction) -> None:
            await asyncio.sleep(0.5)
            await interaction.response.send_message("too late")

        @tree.command(description="opens a modal")
        async def feedback(interaction: discord.Interaction) -> None:
            await interaction.response.send_modal(Feedback())

        @tree.command(description="pick a fruit")
        async def pick(interaction: discord.Interaction, fruit: str) -> None:
            await interaction.response.send_message(f"picked {fruit}", ephemeral=True)

        @pick.autocomplete("fruit")
        async def pick_fruit(interaction: discord.Interaction, current: str) -> list[app_commands.Choice[str]]:
            return [app_commands.Choice(name=f, value=f) for f in FRUITS if f.startswith(current)]

        @tree.context_menu(name="Quote")
        async def quote(interaction: discord.Interaction, message: discord.Message) -> None:
            await interaction.response.send_message(f"> {message.content}", ephemeral=True)

        @app_commands.command(description="only in the test guild")
        async def here(interaction: discord.Interaction) -> None:
            await interaction.response.send_message(f"guild {interaction.guild_id}", ephemeral=True)

        tree.add_command(here, guild=discord.Object(DEFAULT_GUILD))
        await tree.sync()
        await tree.sync(guild=discord.Object(DEFAULT_GUILD))


@contextlib.asynccontextmanager
async def bot_on(fake: FakeDiscord, **options: Any) -> AsyncIterator[MiniBot]:
    """Log a MiniBot in, connect it, wait for READY; at exit stop views, close, and surface a crashed task."""
    bot = MiniBot(**options)
    async with connected(bot, fake, views=bot.views):
        yield bot


@pytest.fixture
async def fake() -> AsyncIterator[FakeDiscord]:
    async with FakeDiscord() as server, pointed_at(server):
        yield server
        assert not server.unexpected_calls, server.unexpected_calls


@pytest.fixture
async def bot(fake: FakeDiscord) -> AsyncIterator[MiniBot]:
    async with bot_on(fake) as running:
        yield running


async def done(rec: InteractionRecord) -> InteractionRecord:
    await rec.wait_done()
    return rec


async def test_ping_is_ephemeral_and_commands_are_synced(fake: FakeDiscord, bot: MiniBot) -> None:
    user = make_user(1)
    assert {c["name"] for c in fake.global_commands} >= {"ping", "slow", "pick", "Quote"}
    assert [c["name"] for c in fake.guild_commands[DEFAULT_GUILD]] == ["here"]
    assert all(c["id"] and c["application_id"] == str(fake.app_id) for c in fake.global_commands)
    assert fake.identifies[0]["token"] == fake.token and "shard" not in fake.identifies[0]
    assert fake.calls_to("/users/@me")[0].authorization == f"Bot {fake.token}"

    rec = await done(await fake.slash("ping", user=user))
    assert rec.response_type == 4 and rec.errors == []
    assert rec.ack_latency is not None and rec.ack_latency < fake.deadline
    assert rec.ephemeral_reply_text == "pong"
    (msg,) = rec.messages
    assert msg.ephemeral and msg.visible_to == user.id and msg.flags & 64
    assert msg.allowed_mentions == {"parse": []}
    assert msg not in fake.channel_messages(DEFAULT_CHANNEL)
    assert msg in fake.channel_messages(DEFAULT_CHANNEL, viewer=user.id)
    assert fake.calls_to("/callback")[0].authorization is None

    rec = await done(await fake.slash("here", user=user))
    assert rec.payload["data"]["guild_id"] == str(DEFAULT_GUILD)
    assert rec.ephemeral_reply_text == f"guild {DEFAULT_GUILD}"

    with pytest.raises(LookupError):
        await fake.slash("nope", user=user)
    with pytest.raises(ValueError, match="required"):
        await fake.slash("slow", user=user)


async def test_defer_visibility_follows_discords_rule(fake: FakeDiscord, bot: MiniBot) -> None:
    user = make_user(2)
    rec = await done(await fake.slash("slow", {"text": "hi"}, user=user))
    assert rec.response_type == 5
    assert rec.ephemeral_reply_text == "echo: hi" and rec.public_reply_text == ""
    assert rec.placeholder is rec.messages[0] and not rec.placeholder.loading

    # Deferred publicly: the first followup fills the public placeholder, its own flags 64 ignored.
    rec = await done(await fake.slash("oops", user=user))
    assert rec.public_reply_text == "meant for you alone" and rec.ephemeral_reply_text == ""
    assert rec.messages[0] in fake.channel_messages(DEFAULT_CHANNEL)

    # Deleting the placeholder first lets the followup be truly ephemeral.
    rec = await fake.slash("careful", user=user)
    await rec.wait_for(lambda r: len(r.messages) == 2)
    placeholder, followup = rec.messages
    assert placeholder.deleted and followup.ephemeral
    assert rec.ephemeral_reply_text == "really for you alone" and rec.public_reply_text == ""


async def test_button_view_select_and_click(fake: FakeDiscord, bot: MiniBot) -> None:
    user = make_user(3)
    rec = await done(await fake.slash("buttons", user=user))
    msg = rec.original
    assert isinstance(msg, StoredMessage) and msg.content == "choose" and not msg.ephemeral
    assert [b.get("label") for b in msg.buttons()] == ["Press", "Later", "Off", "docs"]
    assert msg.button("👍") is msg.button("Press")

    with pytest.raises(ValueError, match="disabled"):
        await fake.click(msg.id, "Off", user=user)
    with pytest.raises(ValueError, match="link"):
        await fake.click(msg.id, "docs", user=user)
    with pytest.raises(KeyError):
        msg.button("nope")

    chose = await done(await fake.select(msg.id, ["green"], user=user))
    assert chose.ephemeral_reply_text == "chose green"
    assert chose.payload["message"]["id"] == str(msg.id)

    # Deferred update (6): no placeholder; @original is the component's message; followups keep their flags.
    later = await done(await fake.click(msg.id, "Later", user=user))
    assert later.response_type == 6 and later.original is msg and msg.content == "edited later"
    await later.wait_for(lambda r: len(r.messages) == 1)
    assert later.ephemeral_reply_text == "psst" and msg.edits == 1

    other = make_user(4)
    click = await done(await fake.click(msg.id, "👍", user=other))
    assert click.response_type == 7 and click.original is msg
    assert msg.content == f"pressed by {other.id}" and msg.components == [] and msg.edits == 2

    with pytest.raises(KeyError):
        await fake.click(msg.id, "👍", user=user)


async def test_modal_autocomplete_and_context_menu(fake: FakeDiscord, bot: MiniBot) -> None:
    user = make_user(5)
    opened = await done(await fake.slash("feedback", user=user))
    assert opened.response_type == 9 and opened.modal is not None
    assert [c["type"] for c in opened.modal["components"]] == [1, 18]
    submitted = await done(await fake.submit_modal(opened, {"old_in": "a", "new_in": "b"}))
    assert submitted.ephemeral_reply_text == "got a/b"

    ac = await done(await fake.autocomplete("pick", {"fruit": "ap"}, "fruit", user=user))
    assert [c["value"] for c in ac.choices or []] == ["apple", "apricot"]

    target = fake.post_user_message(DEFAULT_CHANNEL, "hello <@1> world", author=make_user(6))
    quoted = await done(await fake.message_command("Quote", target, user=user))
    assert quoted.ephemeral_reply_text == "> hello <@1> world"
    assert quoted.messages[0].pings() == {"users": [], "roles": [], "everyone": False}


async def test_deadline_gives_unknown_interaction() -> None:
    async with FakeDiscord(deadline=0.3) as fake, pointed_at(fake), bot_on(fake) as bot:
        rec = await done(await fake.slash("sleepy", user=make_user(7)))
        assert rec.failed and rec.errors == [10062] and rec.responses == []
        assert rec.ack_latency is not None and rec.ack_latency > 0.3
        await fake.wait_until(lambda: bool(bot.errors))
        original = getattr(bot.errors[0], "original", None)
        assert isinstance(original, discord.NotFound) and original.code == 10062


async def test_double_ack_and_unknown_webhook(fake: FakeDiscord, bot: MiniBot) -> None:
    rec = await done(await fake.slash("ping", user=make_user(8)))
    async with aiohttp.ClientSession() as http:
        url = f"{fake.api_url}/interactions/{rec.id}/{rec.token}/callback"
        async with http.post(url, json={"type": 4, "data": {"content": "again"}}) as resp:
            assert resp.status == 400 and (await resp.json())["code"] == 40060
            assert resp.headers["Content-Type"] == "application/json"
        async with http.post(f"{fake.api_url}/webhooks/{fake.app_id}/bogus", json={"content": "x"}) as resp:
            assert resp.status == 404 and (await resp.json())["code"] == 10015
        async with http.get(f"{fake.api_url}/nothing/here") as resp:
            assert resp.status == 404 and (await resp.json())["message"] == "Unknown route"
    assert rec.errors == [40060] and len(rec.responses) == 1
    assert [c.path for c in fake.unexpected_calls] == ["/nothing/here"]
    fake.unexpected_calls.clear()


@pytest.mark.parametrize("how", ["close-4000", "abort-1006", "op7"])
async def test_gateway_drop_resumes(fake: FakeDiscord, bot: MiniBot, how: str) -> None:
    if how == "op7":
        await fake.drop_gateway(reconnect_op=True)
    else:
        await fake.drop_gateway(code=int(how.split("-")[1]))
    assert fake.resumes == 1 and len(fake.identifies) == 1 and fake.gateway_connections == 2
    rec = await done(await fake.slash("ping", user=make_user(9)))
    assert rec.ephemeral_reply_text == "pong"


async def test_events_sent_while_disconnected_are_replayed(fake: FakeDiscord, bot: MiniBot) -> None:
    await fake.drop_gateway(wait=False)
    rec = await fake.slash("ping", user=make_user(12))  # buffered, replayed on RESUME
    await fake.wait_until(lambda: fake.resumes == 1)
    assert (await done(rec)).ephemeral_reply_text == "pong"


def test_message_rules() -> None:
    with pytest.raises(HttpError) as info:
        validate_message({"content": "x" * 2001})
    assert info.value.status == 400 and info.value.body["code"] == 50035
    with pytest.raises(HttpError) as info:
        validate_message({"content": ""})
    assert info.value.body["code"] == 50006
    row = {"type": 1, "components": [{"type": 2, "style": 1, "label": "a", "custom_id": "same"}] * 2}
    with pytest.raises(HttpError, match="COMPONENT_CUSTOM_ID_DUPLICATED"):
        validate_message({"content": "x", "components": [row]})
    validate_message({"embeds": [{"title": "t", "description": "d" * 4096}]})


async def test_rate_limited_callback_is_retried(fake: FakeDiscord, bot: MiniBot) -> None:
    fake.rest_429_next("/callback", retry_after=0.2)
    rec = await done(await fake.slash("ping", user=make_user(10)))
    assert [c.status for c in fake.calls_to("/callback")] == [429, 200]
    assert rec.ephemeral_reply_text == "pong" and rec.errors == []


async def test_wrong_token_is_refused(fake: FakeDiscord) -> None:
    bot = MiniBot()
    with pytest.raises(discord.LoginFailure):
        await bot.login("not-the-token")
    await bot.close()
    assert fake.calls_to("/users/@me")[0].status == 401

    async with aiohttp.ClientSession() as http, http.ws_connect(fake.gateway_url + "?v=10&encoding=json") as ws:
        assert (await ws.receive_json())["op"] == 10
        await ws.send_json({"op": 2, "d": {"token": "wrong", "intents": 0, "properties": {}}})
        msg = await ws.receive()
        assert msg.type is aiohttp.WSMsgType.CLOSE and msg.data == 4004


async def test_two_shards_in_two_clients(fake: FakeDiscord) -> None:
    async with bot_on(fake, shard_id=0, shard_count=2) as bot0, bot_on(fake, shard_id=1, shard_count=2) as bot1:
        await fake.wait_ready(2)
        assert sorted(s.shard for s in fake.live_sessions if s.shard) == [(0, 2), (1, 2)]
        user: FakeUser = make_user(11)
        on0 = await done(await fake.slash("ping", user=user, guild_id=DEFAULT_GUILD))
        on1 = await done(await fake.slash("ping", user=user, guild_id=OTHER_GUILD))
        dm = await done(await fake.slash("ping", user=user, guild_id=None))
        assert bot0.handled == [on0.id, dm.id] and bot1.handled == [on1.id]
        assert dm.messages[0].channel_id == fake.dm_channel_for(user)
