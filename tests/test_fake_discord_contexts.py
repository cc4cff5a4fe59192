"""Self-test of the loopback Discord's places: server and user installs, the bot DM, user DMs and group DMs."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import aiohttp
import discord
import pytest
from discord import app_commands
from discord.app_commands import locale_str

from tests.fakes.discord import (
    ALL_PERMISSIONS,
    BOT_DM_APP_PERMISSIONS,
    DEFAULT_GUILD,
    FOREIGN_CHANNEL,
    FOREIGN_GUILD,
    PRIVATE_CHANNEL_APP_PERMISSIONS,
    USE_EXTERNAL_APPS,
    USER_INSTALL_GUILD_APP_PERMISSIONS,
    FakeDiscord,
    InteractionRecord,
    container,
    make_user,
    section,
    text_display,
)
from tests.fakes.discord.client import connected, pointed_at

EVERYWHERE_INSTALLS = app_commands.allowed_installs(guilds=True, users=True)
EVERYWHERE_CONTEXTS = app_commands.allowed_contexts(guilds=True, dms=True, private_channels=True)
GERMAN = {"greet": "gruessen", "say hello": "hallo sagen", "tone": "ton", "how warm": "wie warm", "warm": "herzlich"}


class German(app_commands.Translator):
    """Gives German names and descriptions, as a bot's translator does for name_localizations."""

    async def translate(
        self, string: locale_str, locale: discord.Locale, context: app_commands.TranslationContextTypes
    ) -> str | None:
        return GERMAN.get(string.message) if locale is discord.Locale.german else None


def where(interaction: discord.Interaction) -> str:
    """What the bot can tell about where it is."""
    ctx = [interaction.context.guild, interaction.context.dm_channel, interaction.context.private_channel].index(True)
    cached = interaction.guild_id is not None and interaction.client.get_guild(interaction.guild_id) is not None
    return (
        f"ctx={ctx} guild={interaction.guild_id} cached={cached}"
        f" user_int={interaction.is_user_integration()} guild_int={interaction.is_guild_integration()}"
        f" channel={type(interaction.channel).__name__} app={interaction.app_permissions.value}"
        f" ext={interaction.permissions.use_external_apps}"
    )


class Knock(discord.ui.View):
    """One button anyone may press."""

    @discord.ui.button(label="Knock")
    async def knock(self, interaction: discord.Interaction, button: discord.ui.Button[Knock]) -> None:
        await interaction.response.send_message(f"knocked by {interaction.user.id}: {where(interaction)}")


class PlacesBot(discord.Client):
    """Commands usable everywhere (`where`, `deferred`, `many`, `knock`, Read) and one with Discord's defaults."""

    def __init__(self) -> None:
        super().__init__(intents=discord.Intents(guilds=True), guild_ready_timeout=0.05)
        self.tree = app_commands.CommandTree(self)
        self.codes: list[int] = []
        self.views: list[discord.ui.View] = []
        tree = self.tree

        @tree.command(name="where", description="where am I")
        @EVERYWHERE_INSTALLS
        @EVERYWHERE_CONTEXTS
        async def where_cmd(interaction: discord.Interaction) -> None:
            await interaction.response.send_message(where(interaction))

        @tree.command(description="Discord's defaults: no contexts or integration types")
        async def plain(interaction: discord.Interaction) -> None:
            await interaction.response.send_message("plain")

        @tree.command(description="defer publicly, fill with edit-original, then a public followup")
        @EVERYWHERE_INSTALLS
        @EVERYWHERE_CONTEXTS
        async def deferred(interaction: discord.Interaction) -> None:
            await interaction.response.defer()
            await interaction.edit_original_response(content="filled")
            await interaction.followup.send("and more")

        @tree.command(description="six followups")
        @EVERYWHERE_INSTALLS
        @EVERYWHERE_CONTEXTS
        async def many(interaction: discord.Interaction) -> None:
            await interaction.response.send_message("start", ephemeral=True)
            for n in range(6):
                try:
                    await interaction.followup.send(f"followup {n}", ephemeral=True)
                except discord.HTTPException as exc:
                    self.codes.append(exc.code)

        @tree.command(description="a button")
        @EVERYWHERE_INSTALLS
        @EVERYWHERE_CONTEXTS
        async def knock(interaction: discord.Interaction) -> None:
            view = Knock(timeout=30)
            self.views.append(view)
            await interaction.response.send_message("knock knock", view=view)

        @tree.command(name=locale_str("greet"), description=locale_str("say hello"))
        @app_commands.describe(tone=locale_str("how warm"))
        @app_commands.rename(tone=locale_str("tone"))
        @app_commands.choices(tone=[app_commands.Choice(name=locale_str("warm"), value="warm")])
        async def greet(interaction: discord.Interaction, tone: str) -> None:
            await interaction.response.send_message(f"hello ({tone})")

        @tree.context_menu(name="Read")
        @EVERYWHERE_INSTALLS
        @EVERYWHERE_CONTEXTS
        async def read(interaction: discord.Interaction, message: discord.Message) -> None:
            await interaction.response.send_message(" | ".join(read_message(message)), ephemeral=True)

    async def setup_hook(self) -> None:
        await self.tree.set_translator(German())
        await self.tree.sync()


def read_message(message: discord.Message) -> list[str]:
    """Every text discord.py parsed out of a message: content, forwards, V2 text displays, poll, embeds."""
    parts = [message.content] if message.content else []
    parts += [s.content for s in message.message_snapshots]

    def walk(items: list[Any]) -> None:
        for item in items:
            if isinstance(item, discord.components.TextDisplay):
                parts.append(item.content)
            walk(list(getattr(item, "children", []) or []))

    walk(list(message.components))
    if message.poll is not None:
        parts.append(str(message.poll.question))
        parts += [a.text for a in message.poll.answers]
    parts += [e.description for e in message.embeds if e.description]
    return parts


@pytest.fixture
async def fake() -> AsyncIterator[FakeDiscord]:
    async with FakeDiscord() as server, pointed_at(server):
        yield server
        assert not server.unexpected_calls, server.unexpected_calls


@pytest.fixture
async def bot(fake: FakeDiscord) -> AsyncIterator[PlacesBot]:
    running = PlacesBot()
    async with connected(running, fake, views=running.views):
        yield running


async def done(rec: InteractionRecord) -> InteractionRecord:
    await rec.wait_done()
    return rec


async def test_server_install(fake: FakeDiscord, bot: PlacesBot) -> None:
    user = make_user(1)
    rec = await done(await fake.slash("where", user=user))
    assert rec.context == 0 and rec.owners == {"0": str(DEFAULT_GUILD)} and not rec.user_installed_only
    assert rec.public_reply_text == (
        f"ctx=0 guild={DEFAULT_GUILD} cached=True user_int=False guild_int=True channel=TextChannel"
        f" app={ALL_PERMISSIONS} ext=True"
    )
    fake.install_for_user(user)
    both = await done(await fake.slash("where", user=user))
    assert both.owners == {"0": str(DEFAULT_GUILD), "1": str(user.id)}
    assert (await done(await fake.slash("plain", user=user))).owners == {"0": str(DEFAULT_GUILD)}


async def test_user_install_in_a_server_that_never_added_the_bot(fake: FakeDiscord, bot: PlacesBot) -> None:
    user = make_user(2)
    with pytest.raises(PermissionError, match="not reachable"):
        await fake.slash("where", user=user, guild_id=FOREIGN_GUILD)
    fake.install_for_user(user)
    with pytest.raises(PermissionError, match="integration_types None"):
        await fake.slash("plain", user=user, guild_id=FOREIGN_GUILD)
    rec = await done(await fake.slash("where", user=user, guild_id=FOREIGN_GUILD))
    d = rec.payload
    assert d["guild"] == {"id": str(FOREIGN_GUILD), "locale": "en-US", "features": []}
    assert d["member"]["permissions"] == str(user.permissions) and "user" not in d
    assert rec.owners == {"1": str(user.id)} and rec.user_installed_only and d["context"] == 0
    assert rec.app_permissions == USER_INSTALL_GUILD_APP_PERMISSIONS
    assert rec.public_reply_text == (
        f"ctx=0 guild={FOREIGN_GUILD} cached=False user_int=True guild_int=False channel=TextChannel"
        f" app={USER_INSTALL_GUILD_APP_PERMISSIONS} ext=True"
    )
    assert rec.channel_id == FOREIGN_CHANNEL and not rec.forced_ephemeral

    # A button on that message: anyone may press it; the owners are the message's (the installing user's).
    knock = await done(await fake.slash("knock", user=user, guild_id=FOREIGN_GUILD))
    visitor = make_user(3)
    press = await done(await fake.click(knock.messages[0].id, "Knock", user=visitor))
    assert press.owners == {"1": str(user.id)} and press.context == 0
    assert press.public_reply_text.startswith(f"knocked by {visitor.id}: ctx=0 guild={FOREIGN_GUILD} cached=False")

    with pytest.raises(PermissionError):
        await fake.slash("where", user=make_user(4), guild_id=FOREIGN_GUILD)  # not installed for that user


async def test_forced_private_without_use_external_apps(fake: FakeDiscord, bot: PlacesBot) -> None:
    user = make_user(5).without(USE_EXTERNAL_APPS)
    fake.install_for_user(user)
    rec = await done(await fake.slash("where", user=user, guild_id=FOREIGN_GUILD))
    assert rec.forced_ephemeral and rec.responses[0]["data"].get("flags", 0) == 0  # the bot asked for public
    assert rec.public_reply_text == "" and rec.ephemeral_reply_text.endswith("ext=False")
    assert rec.visible_to(None) == [] and rec.visible_to(user) == rec.messages

    deferred = await fake.slash("deferred", user=user, guild_id=FOREIGN_GUILD)
    await deferred.wait_for(lambda r: len(r.messages) == 2)
    placeholder, followup = deferred.messages
    assert placeholder.ephemeral and followup.ephemeral and deferred.filled_by == "edit_original"
    assert deferred.ephemeral_reply_text == "filled\nand more"

    at_home = await done(await fake.slash("where", user=user))  # the server installed the app: public is fine
    assert not at_home.forced_ephemeral and at_home.public_reply_text.endswith("ext=False")


async def test_dm_with_the_bot(fake: FakeDiscord, bot: PlacesBot) -> None:
    user = make_user(6)
    rec = await done(await fake.slash("where", user=user, guild_id=None))
    d = rec.payload
    assert "guild_id" not in d and "member" not in d and d["user"]["id"] == str(user.id)
    assert d["channel"]["type"] == 1 and d["channel"]["recipients"][0]["id"] == str(user.id)
    assert rec.context == 1 and rec.owners == {"0": "0"} and rec.app_permissions == BOT_DM_APP_PERMISSIONS
    assert rec.public_reply_text == (
        f"ctx=1 guild=None cached=False user_int=False guild_int=False channel=DMChannel app={BOT_DM_APP_PERMISSIONS}"
        " ext=False"
    )
    assert (await done(await fake.slash("plain", user=user, guild_id=None))).reply_text == "plain"
    only_user = await done(await fake.slash("where", user=user, guild_id=None, installs={1}))
    assert only_user.owners == {"1": str(user.id)}


async def test_dms_between_users_and_group_dms(fake: FakeDiscord, bot: PlacesBot) -> None:
    alice, bob, carol = make_user(7), make_user(8), make_user(9)
    dm = fake.user_dm(alice, bob)
    with pytest.raises(PermissionError):
        await fake.slash("where", user=alice, guild_id=None, channel_id=dm)  # alice has not installed the app
    fake.install_for_user(alice)
    with pytest.raises(PermissionError, match="not offered in context 2"):
        await fake.slash("plain", user=alice, guild_id=None, channel_id=dm)  # null contexts exclude 2
    with pytest.raises(PermissionError):
        await fake.slash("where", user=carol, guild_id=None, channel_id=dm)  # carol is not in that DM
    rec = await done(await fake.slash("where", user=alice, guild_id=None, channel_id=dm))
    assert rec.context == 2 and rec.owners == {"1": str(alice.id)} and "member" not in rec.payload
    assert [u["id"] for u in rec.payload["channel"]["recipients"]] == [str(bob.id)]
    assert rec.app_permissions == PRIVATE_CHANNEL_APP_PERMISSIONS
    assert "ctx=2 guild=None" in rec.public_reply_text and "channel=DMChannel" in rec.public_reply_text
    assert rec.messages[0] in fake.channel_messages(dm)

    group = fake.group_dm([alice, bob, carol], name="friends")
    rec = await done(await fake.slash("where", user=alice, guild_id=None, channel_id=group))
    assert rec.payload["channel"]["type"] == 3 and "channel=GroupChannel" in rec.public_reply_text
    with pytest.raises(PermissionError, match="server install"):
        await fake.slash("where", user=alice, guild_id=None, channel_id=group, installs={0})


async def test_user_installs_allow_five_followups(fake: FakeDiscord, bot: PlacesBot) -> None:
    user = make_user(10)
    fake.install_for_user(user)
    capped = await fake.slash("many", user=user, guild_id=FOREIGN_GUILD)
    await fake.wait_until(lambda: len(bot.codes) == 1)
    assert bot.codes == [40094] and capped.followups == 5 and len(capped.messages) == 6
    server = await fake.slash("many", user=user)
    await server.wait_for(lambda r: len(r.messages) == 7)
    assert bot.codes == [40094] and server.followups == 6


async def test_synced_commands_and_localizations(fake: FakeDiscord, bot: PlacesBot) -> None:
    where_cmd = fake.command("where")
    assert where_cmd["contexts"] == [0, 1, 2] and where_cmd["integration_types"] == [0, 1]
    plain = fake.command("plain")
    assert plain["contexts"] is None and plain["integration_types"] is None
    assert fake.command_contexts(plain) == [0, 1] and fake.command_installs(plain) == [0]
    assert fake.command("Read", type=3)["contexts"] == [0, 1, 2]
    assert fake.command("greet")["name_localizations"] == {"de": "gruessen"}
    assert fake.localized("greet", "de") == {
        "name": "gruessen",
        "description": "hallo sagen",
        "options": [{"name": "ton", "description": "wie warm", "choices": ["herzlich"]}],
    }
    assert fake.localized("greet", "fr")["name"] == "greet"
    assert "gruessen" in fake.command_names(locale="de") and "greet" in fake.command_names()
    assert fake.syncs[-1][0] is None and len(fake.syncs[-1][1]) == len(fake.global_commands)

    bad = [{"name": "x", "description": "y", "name_localizations": {"xx": "z"}}]
    async with aiohttp.ClientSession() as http:
        url = f"{fake.api_url}/applications/{fake.app_id}/commands"
        async with http.put(url, json=bad, headers={"Authorization": f"Bot {fake.token}"}) as resp:
            assert resp.status == 400 and (await resp.json())["code"] == 50035
        bad = [{"name": "x", "description": "y", "contexts": [3]}]
        async with http.put(url, json=bad, headers={"Authorization": f"Bot {fake.token}"}) as resp:
            assert resp.status == 400 and (await resp.json())["code"] == 50035


async def test_context_menu_targets_forwards_components_v2_polls_embeds(fake: FakeDiscord, bot: PlacesBot) -> None:
    reader, author = make_user(11), make_user(12)
    original = fake.post_user_message(FOREIGN_CHANNEL, "the original words", author=author)
    forward = fake.post_forward(FOREIGN_CHANNEL, original, author=author)
    assert forward.content == "" and forward.text == "the original words"
    v2 = fake.post_components_v2(
        FOREIGN_CHANNEL,
        [text_display("top text"), container(text_display("boxed"), section("beside", "a thumbnail"))],
        author=author,
    )
    poll = fake.post_poll(FOREIGN_CHANNEL, "Best fruit?", ["apple", "pear"], author=author)
    embeds = fake.post_embeds(FOREIGN_CHANNEL, [{"title": "t", "description": "embedded words"}], author=author)
    fake.install_for_user(reader)
    expected = {
        forward.id: "the original words",
        v2.id: "top text | boxed | beside | a thumbnail",
        poll.id: "Best fruit? | apple | pear",
        embeds.id: "embedded words",
    }
    for target in (forward, v2, poll, embeds):
        rec = await done(await fake.message_command("Read", target, user=reader))
        assert rec.context == 0 and rec.owners == {"1": str(reader.id)}
        assert rec.ephemeral_reply_text == expected[target.id], rec.payload["data"]["resolved"]
