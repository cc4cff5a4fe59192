"""The floor: the least a discord.py photo bot can do on the same rig. `python -m benchmarks.floor_bot [sync]`.

It registers the bot's command names (with the same options, so the same interactions reach it) and
answers every interaction with a fixed message of the bot's shape (a photo embed with a title, links,
author, image and footer, and the same 7 buttons plus a link button), built once at start. For a query
it has not seen it first does the least any correct photo bot must: one GET of the same Pexels search
(`per_page=80`) from the same Pexels, and a JSON parse. A seen query and a press are answered at once.
No cache of results, no state but the set of queries seen. It reads the same DISCORD_* and PEXELS_*
variables as the bot.

With FLOOR_SHAPE=ok it is the plain floor instead: a fixed "ok" and one ▶ button for every command,
no Pexels. The plain floor against this one is what discord.py spends on the bot's message shape.
"""

from __future__ import annotations

import asyncio
import logging
import os
import signal
import sys
from typing import Literal

import aiohttp
import discord
import orjson
import yarl
from discord import app_commands

log = logging.getLogger("floor")

Orientation = Literal["landscape", "portrait", "square"]
Size = Literal["large", "medium", "small"]


class Floor(discord.Client):
    """A client with a command tree whose every command answers "ok" at once."""

    def __init__(self) -> None:
        super().__init__(intents=discord.Intents.none(), allowed_mentions=discord.AllowedMentions.none())
        self.tree = app_commands.CommandTree(self)
        self.view: discord.ui.View | None = None
        self.embed: discord.Embed | None = None
        self.shaped = os.environ.get("FLOOR_SHAPE", "result") == "result"
        self.pexels_url = os.environ.get("PEXELS_API_URL", "https://api.pexels.com").rstrip("/")
        self.seen: set[tuple[str, str]] = set()
        self.session: aiohttp.ClientSession | None = None
        _register(self.tree, self)

    async def setup_hook(self) -> None:
        if self.shaped:
            headers = {"Authorization": os.environ.get("PEXELS_API_KEY", "")}
            self.session = aiohttp.ClientSession(headers=headers, timeout=aiohttp.ClientTimeout(total=10))
        view = discord.ui.View(timeout=None)
        if self.shaped:
            self.embed = _result_embed()
            for n, (emoji, label, row) in enumerate(_RESULT_BUTTONS):
                view.add_item(discord.ui.Button(custom_id=f"floor:{n}", emoji=emoji, label=label, row=row))
            view.add_item(discord.ui.Button(url="https://www.pexels.com/photo/1/", label="View on Pexels", row=1))
        else:
            view.add_item(discord.ui.Button(custom_id="floor:next", emoji="▶"))
        view.stop()  # nothing is kept per message: presses are answered in on_interaction
        self.view = view

    async def close(self) -> None:
        if self.session is not None:
            await self.session.close()
        await super().close()

    async def search(self, path: str, query: str) -> None:
        """One GET of a Pexels search the first time a query is seen, and its JSON parsed."""
        if self.session is None or (path, query) in self.seen:
            return
        if len(self.seen) >= MAX_SEEN:
            self.seen.clear()
        self.seen.add((path, query))
        params = {"query": query, "per_page": "80"}
        async with self.session.get(f"{self.pexels_url}{path}", params=params) as response:
            orjson.loads(await response.read())

    async def ok(self, interaction: discord.Interaction[Floor], search: tuple[str, str] | None = None) -> None:
        """The fixed answer to a command (after one Pexels search if it is a query not seen before)."""
        assert self.view is not None
        if search is not None:
            await self.search(*search)
        if self.embed is not None:
            await interaction.response.send_message(embed=self.embed, view=self.view)
        else:
            await interaction.response.send_message("ok", view=self.view)

    async def on_interaction(self, interaction: discord.Interaction[Floor]) -> None:
        """The fixed answer to a press: the message becomes "ok" again (a type-7 update, as the bot's pages)."""
        if interaction.type is discord.InteractionType.component:
            if self.embed is not None:
                await interaction.response.edit_message(embed=self.embed, view=self.view)
            else:
                await interaction.response.edit_message(content="ok")


MAX_SEEN = 100_000
"""Queries remembered as seen (then forgotten all at once): memory stays bounded."""

_RESULT_BUTTONS = (
    ("⏮", None, 0),
    ("◀", None, 0),
    (None, "2 / 240", 0),
    ("▶", None, 0),
    ("⏭", None, 0),
    ("🔀", None, 1),
    ("🗑", None, 1),
)


def _result_embed() -> discord.Embed:
    """A photo embed of the size the bot sends (the same fields, typical lengths)."""
    url = "https://www.pexels.com/photo/sunset-over-the-sea-1234567/"
    embed = discord.Embed(
        title="Orange sunset over a calm sea with a lighthouse on the rocks",
        url=url,
        colour=0xA0522D,
        description=(
            f"📷 Photo by [Mila Novak](https://www.pexels.com/@mila-novak-24391157) on [Pexels]({url})\n"
            "[Photos provided by Pexels](https://www.pexels.com)"
        ),
    )
    embed.set_author(name="Mila Novak", url="https://www.pexels.com/@mila-novak-24391157")
    embed.set_image(url="https://images.pexels.com/photos/1234567/pexels-photo-1234567.jpeg?auto=compress&h=650&w=940")
    embed.set_footer(text='2 / 240 · "sunset sky"')
    return embed


def _register(tree: app_commands.CommandTree[Floor], client: Floor) -> None:
    @tree.command(name="photo", description="Find a photo on Pexels")
    async def photo(
        interaction: discord.Interaction[Floor],
        query: app_commands.Range[str, 1, 100],
        orientation: Orientation | None = None,
        size: Size | None = None,
        color: str | None = None,
        private: bool = False,
        locale: str | None = None,
    ) -> None:
        await client.ok(interaction, ("/v1/search", query))

    @tree.command(name="video", description="Find a video on Pexels")
    async def video(
        interaction: discord.Interaction[Floor],
        query: app_commands.Range[str, 1, 100],
        orientation: Orientation | None = None,
        size: Size | None = None,
        private: bool = False,
        locale: str | None = None,
    ) -> None:
        await client.ok(interaction, ("/videos/search", query))

    @tree.command(name="curated", description="Browse photos hand-picked by the Pexels team")
    async def curated(interaction: discord.Interaction[Floor], private: bool = False) -> None:
        await client.ok(interaction)

    @tree.command(name="about", description="About this bot")
    async def about(interaction: discord.Interaction[Floor]) -> None:
        await client.ok(interaction)

    @tree.context_menu(name="Find photos")
    async def find_photos(interaction: discord.Interaction[Floor], message: discord.Message) -> None:
        await client.ok(interaction)


def _point_at_environment() -> str:
    discord.http.Route.BASE = os.environ.get("DISCORD_API_URL", "https://discord.com/api/v10")
    gateway = yarl.URL(os.environ.get("DISCORD_GATEWAY_URL", "wss://gateway.discord.gg"))
    discord.gateway.DiscordWebSocket.DEFAULT_GATEWAY = gateway if gateway.path else gateway.with_path("/")
    return os.environ["DISCORD_TOKEN"]


async def _sync(token: str) -> int:
    client = Floor()
    async with client:
        await client.login(token)
        synced = await client.tree.sync()
    print(f"floor: synced {len(synced)} commands")
    return 0


async def _run(token: str) -> int:
    client = Floor()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, lambda: loop.create_task(client.close()))
    async with client:
        await client.start(token, reconnect=True)
    return 0


def main(argv: list[str] | None = None) -> int:
    """`sync` registers the commands; no argument serves until SIGTERM."""
    args = sys.argv[1:] if argv is None else argv
    token = _point_at_environment()
    discord.utils.setup_logging(handler=logging.StreamHandler(sys.stdout), level=logging.INFO, root=True)
    logging.getLogger("discord.http").setLevel(logging.WARNING)
    if args[:1] == ["sync"]:
        return asyncio.run(_sync(token))
    return asyncio.run(_run(token))


if __name__ == "__main__":
    sys.exit(main())
