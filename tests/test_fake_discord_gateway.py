"""Self-test of the loopback Discord's gateway: compression, guilds, zombie connections, close codes, bad frames."""

from __future__ import annotations

import asyncio
import json
import os
import sys
import textwrap
import zlib
from collections.abc import AsyncIterator
from typing import Any

import aiohttp
import discord
import orjson
import pytest
import zstandard
from discord import app_commands

from tests.fakes.discord import (
    DEFAULT_GUILD,
    FOREIGN_GUILD,
    OTHER_GUILD,
    FakeDiscord,
    make_user,
)
from tests.fakes.discord.client import connected, pointed_at, start_client


class EchoBot(discord.Client):
    """A client with a command tree: /ping and /echo text."""

    def __init__(self, **options: Any) -> None:
        options.setdefault("intents", discord.Intents.none() | discord.Intents(guilds=True))
        super().__init__(guild_ready_timeout=0.05, **options)
        self.tree = app_commands.CommandTree(self)

        @self.tree.command(description="pong")
        async def ping(interaction: discord.Interaction) -> None:
            await interaction.response.send_message("pong", ephemeral=True)

        @self.tree.command(description="echo")
        async def echo(interaction: discord.Interaction, text: str) -> None:
            await interaction.response.send_message(text, ephemeral=True)

    async def setup_hook(self) -> None:
        await self.tree.sync()


@pytest.fixture
async def fake() -> AsyncIterator[FakeDiscord]:
    async with FakeDiscord(heartbeat_interval=0.25) as server, pointed_at(server):
        yield server
        assert not server.unexpected_calls, server.unexpected_calls


async def _raw_session(fake: FakeDiscord, query: str, frames: int) -> list[aiohttp.WSMessage]:
    """Connect a raw websocket, heartbeat, IDENTIFY with GUILDS; return the first `frames` server frames."""
    out: list[aiohttp.WSMessage] = []
    async with aiohttp.ClientSession() as http, http.ws_connect(fake.gateway_url + query) as ws:
        out.append(await ws.receive(timeout=5))  # HELLO
        await ws.send_json({"op": 1, "d": None})
        out.append(await ws.receive(timeout=5))  # ACK
        await ws.send_json({"op": 2, "d": {"token": fake.token, "intents": 1, "properties": {}}})
        while len(out) < frames:
            out.append(await ws.receive(timeout=5))
    return out


@pytest.mark.parametrize("compress", ["zlib-stream", "zstd-stream", None])
async def test_frames_are_compressed_as_the_client_asks(fake: FakeDiscord, compress: str | None) -> None:
    query = "?v=10&encoding=json" + (f"&compress={compress}" if compress else "")
    frames = await _raw_session(fake, query, 5)
    if compress is None:
        assert all(f.type is aiohttp.WSMsgType.TEXT for f in frames)
        payloads = [json.loads(f.data) for f in frames]
    else:
        assert all(f.type is aiohttp.WSMsgType.BINARY for f in frames)
        if compress == "zlib-stream":
            assert all(f.data.endswith(b"\x00\x00\xff\xff") for f in frames)
            inflater = zlib.decompressobj()
            payloads = [json.loads(inflater.decompress(f.data)) for f in frames]
            with pytest.raises(zlib.error):  # one stream: a later frame means nothing on its own
                zlib.decompressobj().decompress(frames[2].data)
        else:
            reader = zstandard.ZstdDecompressor().decompressobj()
            payloads = [json.loads(reader.decompress(f.data)) for f in frames]
            with pytest.raises(zstandard.ZstdError):
                zstandard.ZstdDecompressor().decompressobj().decompress(frames[2].data)
    assert [p["op"] for p in payloads] == [10, 11, 0, 0, 0]
    assert payloads[0]["d"]["heartbeat_interval"] == 250
    ready, *creates = payloads[2:]
    assert ready["t"] == "READY" and ready["s"] == 1
    assert {g["id"] for g in ready["d"]["guilds"]} == {str(DEFAULT_GUILD), str(OTHER_GUILD)}
    assert [c["t"] for c in creates] == ["GUILD_CREATE", "GUILD_CREATE"]
    assert str(FOREIGN_GUILD) not in {c["d"]["id"] for c in creates}


async def test_discord_py_decodes_zstd_stream_and_caches_installed_guilds(fake: FakeDiscord) -> None:
    bot = EchoBot()
    async with connected(bot, fake):
        assert fake.gateway_queries[0]["compress"] == "zstd-stream"
        assert sorted(g.id for g in bot.guilds) == sorted([DEFAULT_GUILD, OTHER_GUILD])
        assert bot.get_guild(FOREIGN_GUILD) is None
        assert bot.get_guild(DEFAULT_GUILD).name == "Default server"  # type: ignore[union-attr]
        rec = await fake.slash("echo", {"text": "zstd ✓"}, user=make_user(1))
        await rec.wait_done()
        assert rec.ephemeral_reply_text == "zstd ✓"
        sent = fake.frames_sent()
        assert sent["binary"] >= 4 and sent["text"] == 0


async def test_discord_py_without_zstandard_decodes_zlib_stream(fake: FakeDiscord) -> None:
    """A client process where zstandard cannot be imported asks for zlib-stream, and decodes it."""
    script = textwrap.dedent(
        """
        import asyncio, os, sys
        sys.modules["zstandard"] = None  # as if discord.py[speed] were not installed
        import discord, yarl
        from discord.gateway import DiscordWebSocket
        discord.http.Route.BASE = os.environ["FAKE_API"]
        DiscordWebSocket.DEFAULT_GATEWAY = yarl.URL(os.environ["FAKE_GATEWAY"])
        client = discord.Client(intents=discord.Intents(guilds=True), guild_ready_timeout=0.05)

        @client.event
        async def on_ready():
            print(sorted(g.id for g in client.guilds), flush=True)
            await client.close()

        client.run(os.environ["FAKE_TOKEN"], log_handler=None)
        """
    )
    env = {**os.environ, "FAKE_API": fake.api_url, "FAKE_GATEWAY": fake.gateway_url, "FAKE_TOKEN": fake.token}
    proc = await asyncio.create_subprocess_exec(
        sys.executable, "-c", script, env=env, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE
    )
    out, err = await asyncio.wait_for(proc.communicate(), 60)
    assert proc.returncode == 0, err.decode()
    assert out.decode().strip() == str(sorted([DEFAULT_GUILD, OTHER_GUILD]))
    assert fake.gateway_queries[0]["compress"] == "zlib-stream"
    assert fake.frames_sent()["binary"] >= 4


async def test_zombie_connection_is_detected_by_the_client_and_events_replay(fake: FakeDiscord) -> None:
    bot = EchoBot(heartbeat_timeout=1.0)  # discord.py gives up after 1 s without any frame
    async with connected(bot, fake):
        (zombie,) = fake.zombie()
        await asyncio.sleep(0.6)
        assert zombie.heartbeats_unanswered >= 1 and zombie.closed_at is None  # socket still open, no ACKs
        rec = await fake.slash("ping", user=make_user(2))
        assert rec.delivered_at is None, "nothing is dispatched on a zombie connection"
        await fake.wait_until(lambda: fake.resumes == 1, timeout=5)
        assert zombie.closed_by_client and zombie.close_code == 4000
        assert zombie.detected_after is not None and 0.6 < zombie.detected_after < 3
        await rec.wait_done()
        assert rec.ephemeral_reply_text == "pong"
        assert rec.delivery_delay is not None and rec.delivery_delay > 0.1  # written only on RESUME
        kinds = [e.kind for e in fake.gateway_log]
        assert kinds.index("zombie") < kinds.index("client_close") < kinds.index("resume")
        assert len(fake.identifies) == 1


@pytest.mark.parametrize("code", [4004, 4010, 4011, 4012, 4013, 4014])
async def test_fatal_close_codes_end_the_client_and_keep_refusing(fake: FakeDiscord, code: int) -> None:
    bot = EchoBot()
    task = await start_client(bot, fake)
    try:
        await asyncio.wait_for(bot.wait_until_ready(), 5)
        await fake.close_gateway(code)
        with pytest.raises((discord.ConnectionClosed, discord.PrivilegedIntentsRequired)) as info:
            await asyncio.wait_for(task, 5)
        if code == 4014:
            assert isinstance(info.value, discord.PrivilegedIntentsRequired)
        else:
            assert isinstance(info.value, discord.ConnectionClosed) and info.value.code == code
    finally:
        await bot.close()
    assert len(fake.identifies) == 1 and fake.gateway_connections == 1, "discord.py itself does not reconnect"
    assert fake.gateway_closes == [code]

    again = EchoBot()  # a bot that started over would meet the same refusal
    task = await start_client(again, fake)
    with pytest.raises((discord.ConnectionClosed, discord.PrivilegedIntentsRequired)):
        await asyncio.wait_for(task, 5)
    await again.close()
    assert len(fake.identifies) == 2 and fake.gateway_closes == [code, code]


async def test_identify_refusals_for_shards_and_intents() -> None:
    async with FakeDiscord(recommended_shards=2, enforce_shards=True, privileged_intents=0) as fake, pointed_at(fake):
        unsharded = EchoBot()
        task = await start_client(unsharded, fake)
        with pytest.raises(discord.ConnectionClosed) as info:
            await asyncio.wait_for(task, 5)
        await unsharded.close()
        assert info.value.code == 4011

        members = EchoBot(intents=discord.Intents(guilds=True, members=True), shard_id=0, shard_count=2)
        task = await start_client(members, fake)
        with pytest.raises(discord.PrivilegedIntentsRequired):
            await asyncio.wait_for(task, 5)
        await members.close()

        fake.reject_identify(4013)
        sharded = EchoBot(shard_id=0, shard_count=2)
        task = await start_client(sharded, fake)
        with pytest.raises(discord.ConnectionClosed) as info:
            await asyncio.wait_for(task, 5)
        await sharded.close()
        assert info.value.code == 4013
        assert fake.gateway_closes == [4011, 4014, 4013] and len(fake.identifies) == 3

        async with connected(EchoBot(shard_id=0, shard_count=2), fake):
            assert len(fake.live_sessions) == 1  # the one-shot refusal is spent

    async with FakeDiscord() as fake, aiohttp.ClientSession() as http, http.ws_connect(fake.gateway_url + "?v=9") as ws:
        msg = await ws.receive(timeout=5)
        assert msg.type is aiohttp.WSMsgType.CLOSE and msg.data == 4012


async def _crashes(bot: discord.Client, fake: FakeDiscord, trigger: Any) -> BaseException:
    """Connect `bot`, run `trigger()`, and return the exception its connection task ended with."""
    task = await start_client(bot, fake)
    try:
        await asyncio.wait_for(bot.wait_until_ready(), 5)
        await trigger()
        with pytest.raises(BaseException) as info:
            await asyncio.wait_for(task, 5)
        return info.value
    finally:
        await bot.close()


async def test_a_lone_surrogate_frame_is_valid_for_json_but_not_for_orjson(fake: FakeDiscord) -> None:
    raised = await _crashes(EchoBot(), fake, fake.send_undecodable)
    assert isinstance(raised, orjson.JSONDecodeError)
    frame = fake.sessions[0].buffer[-1][1]
    assert "\\ud800" in frame and json.loads(frame)["t"] == "GUILD_UPDATE"
    with pytest.raises(orjson.JSONDecodeError):
        orjson.loads(frame)

    raised = await _crashes(EchoBot(), fake, lambda: fake.slash("echo", {"text": "\ud800"}, user=make_user(3)))
    assert isinstance(raised, orjson.JSONDecodeError), "the same fault inside an interaction's option"


async def test_an_interaction_missing_a_required_field_raises_in_discord_py(fake: FakeDiscord) -> None:
    async def broken() -> None:
        fake.break_next_interaction(drop="attachment_size_limit")
        rec = await fake.slash("ping", user=make_user(4))
        assert "attachment_size_limit" not in rec.payload

    raised = await _crashes(EchoBot(), fake, broken)
    assert isinstance(raised, KeyError) and raised.args == ("attachment_size_limit",)
