"""/about: what the bot is, how it is doing, and who provides the photos."""

from __future__ import annotations

import math
import time
from typing import TYPE_CHECKING

import discord
from discord import app_commands
from discord.ext import commands

from bot import __version__
from bot import messages as M
from bot.i18n import LocaleLike, format_number, format_percent, tr, trn
from bot.ui import NO_MENTIONS, PEXELS_GREEN, attribution

if TYPE_CHECKING:
    from bot.app import PexelsBot
    from bot.state import QuotaSnapshot

UNKNOWN = "—"


def _uptime(locale: LocaleLike, seconds: float) -> str:
    minutes, _ = divmod(int(seconds), 60)
    hours, minutes = divmod(minutes, 60)
    days, hours = divmod(hours, 24)
    if days:
        return tr(locale, M.UPTIME_DAYS, days=format_number(locale, days), hours=hours, minutes=minutes)
    return tr(locale, M.UPTIME_HOURS, hours=hours, minutes=minutes)


def _count(locale: LocaleLike, n: int | None) -> str:
    return UNKNOWN if n is None else format_number(locale, n)


def _quota(locale: LocaleLike, quota: QuotaSnapshot, monthly_limit: int) -> str:
    """The period's allowance left and when it resets, then the last hour's use (and a pause, if any)."""
    if quota.remaining is None:
        lines = [tr(locale, M.QUOTA_UNKNOWN)]
        if quota.reset_at:
            lines.append(tr(locale, M.QUOTA_RESETS, at=int(quota.reset_at)))
    else:
        remaining, limit = format_number(locale, quota.remaining), format_number(locale, quota.limit or monthly_limit)
        if quota.reset_at:
            lines = [tr(locale, M.QUOTA_LEFT_RESETS, remaining=remaining, limit=limit, at=int(quota.reset_at))]
        else:
            lines = [tr(locale, M.QUOTA_LEFT, remaining=remaining, limit=limit)]
    lines.append(trn(locale, *M.QUOTA_HOUR, quota.hour_limit, used=format_number(locale, quota.hour_used)))
    if quota.blocked_until and quota.blocked_until > time.time():
        lines.append(tr(locale, M.QUOTA_PAUSED, at=int(quota.blocked_until)))
    return "\n".join(lines)


class Meta(commands.Cog):
    """About the bot."""

    def __init__(self, bot: PexelsBot) -> None:
        self.bot = bot

    @app_commands.command(name="about", description="About this bot: version, health and Pexels quota")
    async def about(self, interaction: discord.Interaction[PexelsBot]) -> None:
        """About this bot: version, health and Pexels quota."""
        bot, locale = self.bot, interaction.locale
        quota = await bot.state.quota.snapshot()
        latency = bot.latency
        hit_rate = bot.store.hit_rate
        embed = discord.Embed(
            title="pexbot",
            colour=PEXELS_GREEN,
            description=f"{tr(locale, M.ABOUT_DESCRIPTION)}\n{attribution(locale)}",
        )
        embed.add_field(name=tr(locale, M.FIELD_VERSION), value=__version__)
        embed.add_field(name=tr(locale, M.FIELD_UPTIME), value=_uptime(locale, time.time() - bot.started_at))
        servers, users = await bot.installs()
        embed.add_field(name=tr(locale, M.FIELD_SERVERS), value=_count(locale, servers))
        embed.add_field(name=tr(locale, M.FIELD_USERS), value=_count(locale, users))
        known = not (math.isinf(latency) or math.isnan(latency))
        ms = tr(locale, M.LATENCY_MS, ms=format_number(locale, round(latency * 1000))) if known else UNKNOWN
        embed.add_field(name=tr(locale, M.FIELD_LATENCY), value=ms)
        rate = UNKNOWN if hit_rate is None else format_percent(locale, hit_rate)
        embed.add_field(name=tr(locale, M.FIELD_HIT_RATE), value=rate)
        backend = tr(locale, M.STATE_MEMORY) if bot.state.backend == "memory" else bot.state.backend
        embed.add_field(name=tr(locale, M.FIELD_SHARED_STATE), value=backend)
        quota_text = _quota(locale, quota, bot.settings.pexels_monthly_limit)
        embed.add_field(name=tr(locale, M.FIELD_QUOTA), value=quota_text, inline=False)
        await interaction.response.send_message(embed=embed, ephemeral=True, allowed_mentions=NO_MENTIONS)


async def setup(bot: PexelsBot) -> None:
    """Load the cog."""
    await bot.add_cog(Meta(bot))
