"""/settings: how the bot behaves in a server (private results, search language, blocked words), for its admins.

Offered only in servers that added the bot, and by default only to members with *Manage Server*
(`default_member_permissions`; a server's admins can grant it to other roles in its Integrations
settings). Every change is written to the database, which every search reads, so it applies at once
on every process.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import discord
from discord import app_commands
from discord.ext import commands

from bot import messages_features as msg
from bot.answer import Reply, answer_command
from bot.blocklist import MAX_WORD_LENGTH, words
from bot.db import MAX_BLOCKED_WORDS, GuildConfig
from bot.errors import BadInput
from bot.features import database_errors, server_group, server_of
from bot.i18n import format_list, format_number, language_name, tr
from bot.ui import PEXELS_GREEN
from bot.vocab import PEXELS_LOCALES, pexels_locale

if TYPE_CHECKING:
    from bot.app import PexelsBot

Interaction = discord.Interaction["PexelsBot"]
AUTO = "auto"


def clean_word(locale: discord.Locale, word: str) -> str:
    """The word as it will be stored; BadInput in the reader's language when it can't be blocked."""
    cleaned = " ".join(word.split())
    if not words(cleaned):
        raise BadInput(tr(locale, msg.WORD_EMPTY))
    if len(cleaned) > MAX_WORD_LENGTH:
        raise BadInput(tr(locale, msg.WORD_TOO_LONG, limit=MAX_WORD_LENGTH))
    return cleaned


def _code(word: str) -> str:
    """A word shown inside backticks, which it can't close."""
    return word.replace("`", "ˋ")


def _language(locale: discord.Locale, code: str) -> str:
    return f"{code} · {language_name(locale, code)}"


def settings_embed(config: GuildConfig, locale: discord.Locale) -> discord.Embed:
    """What /settings show reads: private by default, the search language and the blocked words."""
    embed = discord.Embed(title=tr(locale, msg.SETTINGS_TITLE), colour=PEXELS_GREEN)
    private = tr(locale, msg.YES if config.private_by_default else msg.NO)
    embed.add_field(name=tr(locale, msg.SETTING_PRIVATE), value=private, inline=False)
    language = _language(locale, config.language) if config.language else tr(locale, msg.LANGUAGE_AUTO)
    embed.add_field(name=tr(locale, msg.SETTING_LANGUAGE), value=language, inline=False)
    count, limit = format_number(locale, len(config.blocked_words)), format_number(locale, MAX_BLOCKED_WORDS)
    blocked = format_list(locale, [f"`{_code(w)}`" for w in config.blocked_words])
    embed.add_field(
        name=tr(locale, msg.SETTING_BLOCKED, count=count, limit=limit),
        value=_cut(blocked, 1024) or tr(locale, msg.NO_BLOCKED_WORDS),
        inline=False,
    )
    return embed


def _cut(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


async def language_choices(interaction: Interaction, current: str) -> list[app_commands.Choice[str]]:
    """`auto`, then Pexels' languages matching what was typed (by code or by name in the reader's language)."""
    typed = current.strip().casefold()
    auto = tr(interaction.locale, msg.AUTO_CHOICE)
    choices = [app_commands.Choice(name=auto, value=AUTO)] if typed in auto.casefold() or typed in AUTO else []
    for code in PEXELS_LOCALES:
        name = _language(interaction.locale, code)[:100]
        if typed in name.casefold():
            choices.append(app_commands.Choice(name=name, value=code))
    return choices[:25]


async def blocked_choices(interaction: Interaction, current: str) -> list[app_commands.Choice[str]]:
    """The server's blocked words matching what was typed (none when the database can't answer)."""
    if interaction.guild_id is None:
        return []
    config = await interaction.client.server_settings.of(interaction)
    typed = current.strip().casefold()
    return [app_commands.Choice(name=w, value=w) for w in config.blocked_words if typed in w.casefold()][:25]


class ServerSettingsCog(commands.Cog):
    """/settings and its subcommands."""

    settings = server_group("settings", "How the bot behaves in this server")

    def __init__(self, bot: PexelsBot) -> None:
        self.bot = bot

    @settings.command(name="show", description="Show this server's settings")
    async def show(self, interaction: Interaction) -> None:
        """The server's settings, privately."""
        guild_id, locale = server_of(interaction), interaction.locale
        await self.bot.admission.admit(interaction, "button")

        async def shown() -> Reply:
            with database_errors(locale):
                config = await self.bot.server_settings.store.get(guild_id)
            return Reply(embed=settings_embed(config, locale))

        await answer_command(interaction, shown(), ephemeral=True)

    @settings.command(name="private", description="Make results start private in this server, or public")
    @app_commands.describe(value="True: members browse privately and post the one they pick")
    async def private(self, interaction: Interaction, value: bool) -> None:
        """Results start private (True) or public (False) in this server."""
        guild_id, locale = server_of(interaction), interaction.locale
        await self.bot.admission.admit(interaction, "button")

        async def change() -> Reply:
            with database_errors(locale):
                await self.bot.server_settings.store.set_private(guild_id, value)
            return Reply(content=tr(locale, msg.PRIVATE_ON if value else msg.PRIVATE_OFF))

        await answer_command(interaction, change(), ephemeral=True)

    @settings.command(name="language", description="The language searches in this server use")
    @app_commands.describe(code="A Pexels language, or auto for each member's Discord language")
    @app_commands.autocomplete(code=language_choices)
    async def language(self, interaction: Interaction, code: app_commands.Range[str, 1, 20]) -> None:
        """Set the server's search language, or `auto`."""
        guild_id, locale = server_of(interaction), interaction.locale
        typed = code.strip()
        chosen = None if typed.casefold() == AUTO else pexels_locale(typed)
        if chosen is None and typed.casefold() != AUTO:
            raise BadInput(tr(locale, msg.LANGUAGE_UNKNOWN, value=_code(typed[:20])))
        await self.bot.admission.admit(interaction, "button")

        async def change() -> Reply:
            with database_errors(locale):
                await self.bot.server_settings.store.set_language(guild_id, chosen)
            if chosen is None:
                return Reply(content=tr(locale, msg.LANGUAGE_CLEARED))
            return Reply(content=tr(locale, msg.LANGUAGE_SET, language=_language(locale, chosen)))

        await answer_command(interaction, change(), ephemeral=True)

    @settings.command(name="block", description="Refuse searches containing a word in this server")
    @app_commands.describe(word="A word or phrase; matched whole, in any case and with or without accents")
    async def block(self, interaction: Interaction, word: app_commands.Range[str, 1, MAX_WORD_LENGTH]) -> None:
        """Block a word or phrase (up to 50 a server)."""
        await self._change_word(interaction, word, block=True)

    @settings.command(name="unblock", description="Allow a blocked word again")
    @app_commands.describe(word="One of this server's blocked words")
    @app_commands.autocomplete(word=blocked_choices)
    async def unblock(self, interaction: Interaction, word: app_commands.Range[str, 1, 100]) -> None:
        """Unblock a word (any spelling that matches it)."""
        await self._change_word(interaction, word, block=False)

    async def _change_word(self, interaction: Interaction, word: str, *, block: bool) -> None:
        guild_id, locale = server_of(interaction), interaction.locale
        cleaned = clean_word(locale, word)
        await self.bot.admission.admit(interaction, "button")
        settings = self.bot.server_settings.store

        async def change() -> Reply:
            with database_errors(locale):
                if block:
                    changed = await settings.block_word(guild_id, cleaned)
                else:
                    changed = await settings.unblock_word(guild_id, cleaned)
            done, unchanged = _WORD_BLOCKED if block else _WORD_UNBLOCKED
            return Reply(content=tr(locale, done if changed else unchanged, word=_code(cleaned)))

        await answer_command(interaction, change(), ephemeral=True)


_WORD_BLOCKED = (msg.WORD_BLOCKED, msg.WORD_ALREADY_BLOCKED)
_WORD_UNBLOCKED = (msg.WORD_UNBLOCKED, msg.WORD_NOT_BLOCKED)


async def setup(bot: PexelsBot) -> None:
    """Load the cog."""
    await bot.add_cog(ServerSettingsCog(bot))
