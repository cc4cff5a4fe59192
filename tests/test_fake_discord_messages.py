"""Self-test of the loopback Discord's message store: placeholders, visibility, modals in both forms, alt text."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import aiohttp
import discord
import pytest
from discord import app_commands

from tests.fakes.discord import FakeDiscord, HttpError, InteractionRecord, make_user, validate_message
from tests.fakes.discord.client import connected, pointed_at

FOX = "https://images.example/fox.jpg"


class RowModal(discord.ui.Modal, title="Rows"):
    """The deprecated form: a labelled TextInput in an action row."""

    answer: discord.ui.TextInput[RowModal] = discord.ui.TextInput(label="Answer", custom_id="answer")

    async def on_submit(self, interaction: discord.Interaction) -> None:
        await interaction.response.send_message(f"row modal got {self.answer.value}", ephemeral=True)


class LabelModal(discord.ui.Modal, title="Labels"):
    """The current form: a Label (type 18) around the TextInput."""

    answer: discord.ui.Label[LabelModal] = discord.ui.Label(
        text="Answer", description="type anything", component=discord.ui.TextInput(custom_id="answer")
    )

    async def on_submit(self, interaction: discord.Interaction) -> None:
        assert isinstance(self.answer.component, discord.ui.TextInput)
        await interaction.response.send_message(f"label modal got {self.answer.component.value}", ephemeral=True)


class StoreBot(discord.Client):
    """Commands exercising the placeholder, modals and embeds."""

    def __init__(self) -> None:
        super().__init__(intents=discord.Intents.none(), guild_ready_timeout=0.05)
        self.tree = app_commands.CommandTree(self)
        tree = self.tree

        @tree.command(description="defer, then fill the placeholder by editing the original")
        async def current(interaction: discord.Interaction) -> None:
            await interaction.response.defer()
            await interaction.edit_original_response(content="filled by an edit")

        @tree.command(description="defer, then fill the placeholder with a followup (deprecated)")
        async def deprecated(interaction: discord.Interaction) -> None:
            await interaction.response.defer()
            await interaction.followup.send("filled by a followup", ephemeral=True)

        @tree.command(description="a row modal")
        async def rows(interaction: discord.Interaction) -> None:
            await interaction.response.send_modal(RowModal())

        @tree.command(description="a label modal")
        async def labels(interaction: discord.Interaction) -> None:
            await interaction.response.send_modal(LabelModal())

        @tree.command(description="a photo with alt text")
        async def fox(interaction: discord.Interaction) -> None:
            embed = discord.Embed.from_dict({"title": "Fox", "image": {"url": FOX, "description": "a red fox"}})
            await interaction.response.send_message(embed=embed)

        @tree.command(description="no answer (tests answer by raw HTTP)")
        async def silent(interaction: discord.Interaction) -> None:
            return

    async def setup_hook(self) -> None:
        await self.tree.sync()


@pytest.fixture
async def fake() -> AsyncIterator[FakeDiscord]:
    async with FakeDiscord() as server, pointed_at(server):
        yield server
        assert not server.unexpected_calls, server.unexpected_calls


@pytest.fixture
async def bot(fake: FakeDiscord) -> AsyncIterator[StoreBot]:
    running = StoreBot()
    async with connected(running, fake):
        yield running


async def done(rec: InteractionRecord) -> InteractionRecord:
    await rec.wait_done()
    return rec


async def test_placeholder_filled_by_edit_original_or_by_the_deprecated_followup(
    fake: FakeDiscord, bot: StoreBot
) -> None:
    user, onlooker = make_user(1), make_user(2)
    rec = await done(await fake.slash("current", user=user))
    assert rec.filled_by == "edit_original" and [c.route for c in rec.calls] == ["callback", "edit_original"]
    assert rec.placeholder is not None and rec.placeholder.edits == 0, "a fill is not an edit"
    assert [m.text for m in rec.visible_to(onlooker)] == ["filled by an edit"]
    assert rec.callbacks[0].body == {"type": 5}

    old = await done(await fake.slash("deprecated", user=user))
    assert old.filled_by == "followup" and "followup" in [c.route for c in old.calls]
    assert [m.text for m in old.visible_to(None)] == ["filled by a followup"], "the defer's visibility wins"
    assert old.visible_messages() == {None: old.messages, user.id: old.messages}


async def test_ephemeral_visibility_per_viewer(fake: FakeDiscord, bot: StoreBot) -> None:
    user, other = make_user(3), make_user(4)
    opened = await done(await fake.slash("rows", user=user))
    submitted = await done(await fake.submit_modal(opened, {"answer": "secret"}))
    assert [m.text for m in submitted.visible_to(user)] == ["row modal got secret"]
    assert submitted.visible_to(other) == [] and submitted.visible_to(None) == []


@pytest.mark.parametrize(("command", "shape"), [("rows", None), ("rows", "label"), ("labels", None), ("labels", "row")])
async def test_modals_in_both_forms_and_submissions_in_either_shape(
    fake: FakeDiscord, bot: StoreBot, command: str, shape: str | None
) -> None:
    opened = await done(await fake.slash(command, user=make_user(5)))
    assert opened.modal is not None
    assert [c["type"] for c in opened.modal["components"]] == ([1] if command == "rows" else [18])
    submitted = await done(await fake.submit_modal(opened, {"answer": "42"}, shape=shape))
    sent_shape = [c["type"] for c in submitted.payload["data"]["components"]]
    assert sent_shape == ([1] if (shape or ("row" if command == "rows" else "label")) == "row" else [18])
    assert submitted.ephemeral_reply_text == f"{command[:-1]} modal got 42"


TWO_INPUTS = [{"type": 4, "custom_id": k, "style": 1, "label": "A"} for k in "ab"]
MALFORMED_MODALS: list[tuple[str, dict[str, Any]]] = [
    ("bare text input", {"type": 4, "custom_id": "a", "style": 1, "label": "A"}),
    ("row without label", {"type": 1, "components": [{"type": 4, "custom_id": "a", "style": 1}]}),
    ("two inputs in a row", {"type": 1, "components": TWO_INPUTS}),
    ("label without component", {"type": 18, "label": "A"}),
    ("label too long", {"type": 18, "label": "x" * 46, "component": {"type": 4, "custom_id": "a", "style": 1}}),
    ("bad style", {"type": 18, "label": "A", "component": {"type": 4, "custom_id": "a", "style": 3}}),
    ("button in a modal", {"type": 18, "label": "A", "component": {"type": 2, "custom_id": "a", "style": 1}}),
]  # fmt: skip


async def test_malformed_modals_get_50035(fake: FakeDiscord, bot: StoreBot) -> None:
    rec = await fake.slash("silent", user=make_user(6))
    url = f"{fake.api_url}/interactions/{rec.id}/{rec.token}/callback"
    async with aiohttp.ClientSession() as http:
        for what, component in MALFORMED_MODALS:
            body = {"type": 9, "data": {"custom_id": "m", "title": "T", "components": [component]}}
            async with http.post(url, json=body) as resp:
                assert resp.status == 400 and (await resp.json())["code"] == 50035, what
        async with http.post(url, json={"type": 5, "data": {"flags": 4}}) as resp:
            assert resp.status == 400, "a defer may only carry EPHEMERAL"
        good = {"type": 18, "label": "A", "component": {"type": 4, "custom_id": "a", "style": 1, "label": None}}
        body = {
            "type": 9,
            "data": {"custom_id": "m", "title": "T", "components": [{"type": 10, "content": "hi"}, good]},
        }
        async with http.post(url, json=body) as resp:
            assert resp.status == 200
    assert rec.modal is not None and not rec.acked_twice


async def test_embed_image_alt_text_is_stored(fake: FakeDiscord, bot: StoreBot) -> None:
    rec = await done(await fake.slash("fox", user=make_user(7)))
    (msg,) = rec.messages
    assert msg.image_alts() == [(FOX, "a red fox")]
    assert msg.to_payload()["embeds"][0]["image"]["description"] == "a red fox"
    with pytest.raises(HttpError, match="alt text"):
        validate_message({"embeds": [{"image": {"url": FOX, "description": "x" * 1025}}]})
