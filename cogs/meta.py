"""/about: what the bot is, how it is doing, and who provides the photos."""

from __future__ import annotations

import math
import time
from typing import TYPE_CHECKING

import discord
from discord import app_commands
from discord.ext import commands

from bot import __version__
from bot.ui import NO_MENTIONS, PEXELS_GREEN, PEXELS_URL

if TYPE_CHECKING:
    from bot.app import PexelsBot


def _uptime(seconds: float) -> str:
    minutes, _ = divmod(int(seconds), 60)
    hours, minutes = divmod(minutes, 60)
    days, hours = divmod(hours, 24)
    return f"{days}d {hours}h {minutes}m" if days else f"{hours}h {minutes}m"


class Meta(commands.Cog):
    """About the bot."""

    def __init__(self, bot: PexelsBot) -> None:
        self.bot = bot

    @app_commands.command(name="about", description="About this bot: version, health and Pexels quota")
    async def about(self, interaction: discord.Interaction[PexelsBot]) -> None:
        """About this bot: version, health and Pexels quota."""
        bot = self.bot
        quota = await bot.state.quota.snapshot()
        latency = bot.latency
        hit_rate = bot.store.hit_rate
        if quota.remaining is not None:
            left = f"{quota.remaining:,} of {quota.limit or bot.settings.pexels_monthly_limit:,} this period"
        else:
            left = "not known yet (no request made)"
        if quota.reset_at:
            left += f", resets <t:{int(quota.reset_at)}:R>"
        hour = f"{quota.hour_used} of {quota.hour_limit} requests used in the last hour"
        if quota.blocked_until and quota.blocked_until > time.time():
            hour += f"; paused until <t:{int(quota.blocked_until)}:R>"
        embed = discord.Embed(
            title="pexbot",
            colour=PEXELS_GREEN,
            description="Beautiful, credited photos and videos from Pexels, right in your server.\n"
            f"[Photos provided by Pexels]({PEXELS_URL})",
        )
        embed.add_field(name="Version", value=__version__)
        embed.add_field(name="Uptime", value=_uptime(time.time() - bot.started_at))
        servers, users = await bot.installs()
        embed.add_field(name="Servers", value="—" if servers is None else f"{servers:,}")
        embed.add_field(name="Users", value="—" if users is None else f"{users:,}")
        embed.add_field(
            name="Latency", value="—" if math.isinf(latency) or math.isnan(latency) else f"{latency * 1000:.0f} ms"
        )
        embed.add_field(name="Cache hit rate", value="—" if hit_rate is None else f"{hit_rate:.0%}")
        embed.add_field(name="Shared state", value=bot.state.backend)
        embed.add_field(name="Pexels quota", value=f"{left}\n{hour}", inline=False)
        await interaction.response.send_message(embed=embed, ephemeral=True, allowed_mentions=NO_MENTIONS)


async def setup(bot: PexelsBot) -> None:
    """Load the cog."""
    await bot.add_cog(Meta(bot))
