"""Self-test of the loopback Discord's REST faults: AutoMod, late and expired interactions, 5xx answers."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import aiohttp
import discord
import pytest
from discord import app_commands

from tests.fakes.discord import FakeDiscord, make_user
from tests.fakes.discord.client import connected, pointed_at


class FaultBot(discord.Client):
    """Commands that answer in each way and record the Discord error codes they meet."""

    def __init__(self) -> None:
        super().__init__(intents=discord.Intents.none(), guild_ready_timeout=0.05)
        self.tree = app_commands.CommandTree(self)
        self.codes: list[int] = []
        tree = self.tree
        everywhere = app_commands.allowed_contexts(guilds=True, dms=True, private_channels=True)

        @tree.command(description="say it publicly")
        @everywhere
        async def say(interaction: discord.Interaction, text: str) -> None:
            try:
                await interaction.response.send_message(text)
            except discord.HTTPException as exc:
                self.codes.append(exc.code)

        @tree.command(description="acknowledge privately, then a public followup")
        async def announce(interaction: discord.Interaction, text: str) -> None:
            await interaction.response.send_message("ok", ephemeral=True)
            try:
                await interaction.followup.send(text)
            except discord.HTTPException as exc:
                self.codes.append(exc.code)

        @tree.command(description="answer after a delay")
        async def slow(interaction: discord.Interaction, delay: float) -> None:
            await asyncio.sleep(delay)
            try:
                await interaction.response.send_message("slow pong", ephemeral=True)
            except discord.HTTPException as exc:
                self.codes.append(exc.code)

        @tree.command(description="defer; whatever the defer answered, finish by editing the original")
        async def later(interaction: discord.Interaction, text: str) -> None:
            try:
                await interaction.response.defer()
            except discord.HTTPException as exc:
                self.codes.append(exc.code)
            try:
                await interaction.edit_original_response(content=text)
            except discord.HTTPException as exc:
                self.codes.append(exc.code)

        @tree.command(description="defer privately and stop (tests answer by raw HTTP)")
        async def hold(interaction: discord.Interaction) -> None:
            await interaction.response.defer(ephemeral=True)

    async def setup_hook(self) -> None:
        await self.tree.sync()


@pytest.fixture
async def fake() -> AsyncIterator[FakeDiscord]:
    async with FakeDiscord() as server, pointed_at(server):
        yield server
        assert not server.unexpected_calls, server.unexpected_calls


@pytest.fixture
async def bot(fake: FakeDiscord) -> AsyncIterator[FaultBot]:
    running = FaultBot()
    async with connected(running, fake):
        yield running


async def test_automod_rejects_responses_and_followups_in_servers(fake: FakeDiscord, bot: FaultBot) -> None:
    rule = fake.automod_block("forbidden", count=None)
    blocked = await fake.slash("say", {"text": "a FORBIDDEN word"}, user=make_user(1))
    await fake.wait_until(lambda: bot.codes == [200000])
    assert blocked.errors == [200000] and not blocked.acknowledged and blocked.messages == []
    assert [c.status for c in blocked.calls] == [400] and blocked.calls[0].fault is rule
    assert [(a.status, a.code) for a in blocked.callbacks] == [(400, 200000)] and blocked.response_age is not None

    fine = await fake.slash("say", {"text": "a fine word"}, user=make_user(1))
    await fine.wait_done()
    assert fine.public_reply_text == "a fine word"
    in_dm = await fake.slash("say", {"text": "forbidden in a DM"}, user=make_user(1), guild_id=None)
    await in_dm.wait_done()
    assert in_dm.public_reply_text == "forbidden in a DM", "AutoMod is a server feature"
    fake.clear_faults()

    fake.automod_block(route="followup")
    rec = await fake.slash("announce", {"text": "anything"}, user=make_user(2))
    await fake.wait_until(lambda: bot.codes == [200000, 200000])
    assert rec.ephemeral_reply_text == "ok" and rec.public_reply_text == "" and rec.errors == [200000]


async def test_the_window_counts_from_the_interactions_creation(fake: FakeDiscord, bot: FaultBot) -> None:
    on_time = await fake.slash("slow", {"delay": 0.0}, user=make_user(3), late=2.5)
    await on_time.wait_done()
    assert on_time.ephemeral_reply_text == "slow pong"
    assert on_time.delivery_delay is not None and 2.5 <= on_time.delivery_delay < 2.7
    assert on_time.response_age is not None and 2.5 <= on_time.response_age < fake.deadline

    too_late = await fake.slash("slow", {"delay": 0.7}, user=make_user(4), late=2.5)
    await too_late.wait_done()
    assert too_late.failed and too_late.errors == [10062] and bot.codes == [10062]
    assert too_late.ack_latency is not None and too_late.ack_latency < 1.5, "late only counted from creation"

    expired = await fake.slash("slow", {"delay": 0.0}, user=make_user(5), late=3.5)
    await expired.wait_done()
    assert expired.failed and bot.codes == [10062, 10062]
    assert expired.created_at < expired.delivered_at - 3.4  # type: ignore[operator]


async def test_a_defer_processed_but_answered_5xx_makes_the_retry_meet_40060(fake: FakeDiscord, bot: FaultBot) -> None:
    fault = fake.fail_next("callback", status=500, processed=True, callback_types={5})
    rec = await fake.slash("later", {"text": "done anyway"}, user=make_user(6))
    await rec.wait_done(timeout=10)  # discord.py retries a 5xx after 1 s
    assert [(a.status, a.code) for a in rec.callbacks] == [(500, 0), (400, 40060)]
    assert rec.acknowledged and rec.acked_twice and bot.codes == [40060] and len(fault.hits) == 1
    assert rec.filled_by == "edit_original" and rec.public_reply_text == "done anyway"


async def test_edit_original_failing(fake: FakeDiscord, bot: FaultBot) -> None:
    fake.fail_next("edit_original", status=404, code=10008)
    rec = await fake.slash("later", {"text": "never shown"}, user=make_user(7))
    await fake.wait_until(lambda: bot.codes == [10008])
    assert rec.placeholder is not None and rec.placeholder.loading and not rec.finished
    assert [c.route for c in rec.calls] == ["callback", "edit_original"]


async def test_followups_failing_with_5xx(fake: FakeDiscord, bot: FaultBot) -> None:
    fake.fail_next("followup", status=503)
    rec = await fake.slash("announce", {"text": "second try"}, user=make_user(8))
    await rec.wait_for(lambda r: len(r.messages) == 2, timeout=10)  # discord.py retried once
    assert [c.status for c in rec.calls if c.route == "followup"] == [503, 200]
    assert rec.public_reply_text == "second try"

    held = await fake.slash("hold", user=make_user(9))
    await held.wait_for(lambda r: r.acknowledged)
    other = await fake.slash("hold", user=make_user(10))
    await other.wait_for(lambda r: r.acknowledged)
    always = fake.fail_next("followup", status=500, count=None, interaction=held)
    async with aiohttp.ClientSession() as http:
        url = f"{fake.api_url}/webhooks/{fake.app_id}/{held.token}"
        for _ in range(3):
            async with http.post(url, json={"content": "x"}) as resp:
                assert resp.status == 500
        async with http.post(f"{fake.api_url}/webhooks/{fake.app_id}/{other.token}", json={"content": "y"}) as resp:
            assert resp.status == 200, "the fault is limited to one interaction"
        assert len(always.hits) == 3 and held.placeholder is not None and held.placeholder.loading
        fake.clear_faults()
        fake.fail_next("followup", status=502, processed=True)
        async with http.post(url, json={"content": "made it"}) as resp:
            assert resp.status == 502
    assert held.placeholder.text == "made it" and held.filled_by == "followup", "processed: it exists"


async def test_every_rest_call_is_recorded_with_its_route(fake: FakeDiscord, bot: FaultBot) -> None:
    rec = await fake.slash("later", {"text": "x"}, user=make_user(11))
    await rec.wait_done()
    assert [(c.method, c.route, c.status) for c in rec.calls] == [
        ("POST", "callback", 200),
        ("PATCH", "edit_original", 200),
    ]
    assert rec.calls[1].json["content"] == "x" and fake.calls_on("followup") == []
    with pytest.raises(ValueError, match="unknown route"):
        fake.fail_next("nowhere")


async def test_forged_interactions_arrive_exactly_as_given(fake: FakeDiscord, bot: FaultBot) -> None:
    say = fake.command("say")
    data = {"id": say["id"], "name": "say", "type": 1, "options": [{"name": "text", "type": 3, "value": 5}]}
    wrong_type = await fake.forge(2, data, user=make_user(12))
    await wrong_type.wait_done()
    assert wrong_type.payload["data"] == data and wrong_type.public_reply_text == "5"

    unknown = await fake.forge(2, {"id": "1", "name": "nope", "type": 1}, user=make_user(12))
    await unknown.expect_no_response()
    assert unknown.payload["data"]["name"] == "nope" and unknown.owners == {"0": str(unknown.guild_id)}


async def test_gateway_unreachable_then_back(fake: FakeDiscord, bot: FaultBot) -> None:
    fake.gateway_down = True
    await fake.drop_gateway(wait=False)
    await fake.wait_until(lambda: fake.gateway_refusals >= 1, timeout=10)  # the handshake gets HTTP 503
    assert fake.resumes == 0
    fake.gateway_down = False
    await fake.wait_until(lambda: fake.resumes == 1, timeout=15)
    assert len(fake.identifies) == 1
    rec = await fake.slash("slow", {"delay": 0.0}, user=make_user(13))
    await rec.wait_done()
    assert rec.ephemeral_reply_text == "slow pong"
