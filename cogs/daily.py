"""/daily set, /daily show and /daily off: a server's photo of the day, for its admins.

Offered only in servers that added the bot, by default to members with *Manage Server*. The posts
themselves are made by the scheduler (`bot.photo_of_the_day`).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import discord
from discord import app_commands
from discord.ext import commands

from bot import messages_features as msg
from bot.answer import Reply, answer_command
from bot.daily import MAX_TOPIC_LENGTH, match_timezones, next_due, parse_time, parse_timezone
from bot.db import Schedule
from bot.errors import BadInput
from bot.features import Refusal, check_blocked, database_errors, server_group, server_of
from bot.i18n import tr
from bot.photo_of_the_day import channel_permissions, describe_missing, missing_permissions

if TYPE_CHECKING:
    from bot.app import PexelsBot

Interaction = discord.Interaction["PexelsBot"]
POSTABLE = (discord.ChannelType.text, discord.ChannelType.news)


def channel_mention(channel_id: int) -> str:
    """How a message links a channel."""
    return f"<#{channel_id}>"


class PostableChannel(app_commands.Transformer):
    """A channel option offering the server's text and announcement channels (as Discord resolved them)."""

    @property
    def type(self) -> discord.AppCommandOptionType:
        return discord.AppCommandOptionType.channel

    @property
    def channel_types(self) -> list[discord.ChannelType]:
        return list(POSTABLE)

    async def transform(self, interaction: discord.Interaction[Any], value: Any, /) -> Any:
        return value


async def timezone_choices(interaction: Interaction, current: str) -> list[app_commands.Choice[str]]:
    """IANA time zones containing what was typed, those starting with it first."""
    return [app_commands.Choice(name=name, value=name) for name in match_timezones(current)]


def _schedule_options(locale: discord.Locale, topic: str, time: str, timezone: str | None) -> tuple[str, int, int, str]:
    """The topic, hour, minute and time zone as they will be stored; BadInput in the reader's language."""
    cleaned = " ".join(topic.split())
    if not cleaned:
        raise BadInput(tr(locale, msg.TOPIC_EMPTY))
    if len(cleaned) > MAX_TOPIC_LENGTH:
        raise BadInput(tr(locale, msg.TOPIC_TOO_LONG, limit=MAX_TOPIC_LENGTH))
    try:
        hour, minute = parse_time(time)
    except BadInput:
        raise BadInput(tr(locale, msg.TIME_INVALID)) from None
    try:
        zone = parse_timezone(timezone or "UTC")
    except BadInput:
        raise BadInput(tr(locale, msg.TIMEZONE_INVALID, value=(timezone or "").strip()[:60])) from None
    return cleaned, hour, minute, zone


class DailyCog(commands.Cog):
    """/daily and its subcommands."""

    daily = server_group("daily", "A photo posted to a channel every day")

    def __init__(self, bot: PexelsBot) -> None:
        self.bot = bot

    @daily.command(name="set", description="Post a photo on a topic to a channel every day")
    @app_commands.describe(
        channel="Where to post it",
        topic="What the photos show, like: mountains",
        time="When, as HH:MM on a 24-hour clock",
        timezone="The time zone of that time (default: UTC)",
    )
    @app_commands.autocomplete(timezone=timezone_choices)
    async def set(
        self,
        interaction: Interaction,
        channel: app_commands.Transform[app_commands.AppCommandChannel, PostableChannel],
        topic: app_commands.Range[str, 1, 100],
        time: app_commands.Range[str, 1, 10],
        timezone: app_commands.Range[str, 1, 60] | None = None,
    ) -> None:
        """Set (or replace) the server's photo of the day, once the bot may post in the channel."""
        guild_id, locale = server_of(interaction), interaction.locale
        if getattr(channel, "type", None) not in POSTABLE or getattr(channel, "guild_id", None) != guild_id:
            raise BadInput(tr(locale, msg.DAILY_WRONG_CHANNEL))
        cleaned, hour, minute, zone = _schedule_options(locale, topic, time, timezone)
        check_blocked(locale, cleaned, await self.bot.server_settings.of(interaction))
        await self.bot.admission.admit(interaction, "button")

        async def schedule() -> Reply:
            if channel.id == interaction.channel_id:
                granted: int | None = interaction.app_permissions.value
            else:
                me = self.bot.user.id if self.bot.user else self.bot.settings.application_id
                granted = await channel_permissions(self.bot.http, guild_id, channel.id, me)
            if granted is None:
                raise Refusal(tr(locale, msg.DAILY_CANT_CHECK, channel=channel.mention))
            missing = missing_permissions(discord.Permissions(granted), locale)
            if missing:
                raise Refusal(
                    tr(locale, msg.DAILY_MISSING, channel=channel.mention, missing=describe_missing(missing, locale))
                )
            wanted = Schedule(guild_id, channel.id, cleaned, hour, minute, zone)
            due = next_due(wanted, self.bot.scheduler.clock())
            with database_errors(locale):
                await self.bot.database.schedules.set(wanted, due)
            text = tr(
                locale,
                msg.DAILY_SET,
                time=wanted.hhmm,
                timezone=zone,
                topic=discord.utils.escape_markdown(cleaned),
                channel=channel.mention,
                at=int(due),
            )
            return Reply(content=text)

        await answer_command(interaction, schedule(), ephemeral=True)

    @daily.command(name="show", description="Show this server's photo of the day")
    async def show(self, interaction: Interaction) -> None:
        """Where, what and when, the next post and how the last one went."""
        guild_id, locale = server_of(interaction), interaction.locale
        await self.bot.admission.admit(interaction, "button")

        async def shown() -> Reply:
            schedules = self.bot.database.schedules
            with database_errors(locale):
                current = await schedules.get(guild_id)
                due = await schedules.next_due(guild_id)
                last = await schedules.last_post(guild_id)
            if current is None:
                return Reply(content=tr(locale, msg.DAILY_NONE))
            mention = channel_mention(current.channel_id)
            lines = [
                tr(
                    locale,
                    msg.DAILY_SHOW,
                    topic=discord.utils.escape_markdown(current.topic),
                    channel=mention,
                    time=current.hhmm,
                    timezone=current.timezone,
                    at=int(due or 0),
                )
            ]
            if last is not None and last.status in _LAST:
                lines.append(tr(locale, _LAST[last.status], date=last.local_date.isoformat()))
            return Reply(content="\n".join(lines))

        await answer_command(interaction, shown(), ephemeral=True)

    @daily.command(name="off", description="Stop the photo of the day in this server")
    async def off(self, interaction: Interaction) -> None:
        """Turn the daily post off (what was posted is remembered, so no photo repeats if it comes back)."""
        guild_id, locale = server_of(interaction), interaction.locale
        await self.bot.admission.admit(interaction, "button")

        async def turned_off() -> Reply:
            with database_errors(locale):
                removed = await self.bot.database.schedules.remove(guild_id)
            return Reply(content=tr(locale, msg.DAILY_OFF if removed else msg.DAILY_WAS_OFF))

        await answer_command(interaction, turned_off(), ephemeral=True)


_LAST = {"posted": msg.DAILY_LAST_POSTED, "empty": msg.DAILY_LAST_EMPTY, "failed": msg.DAILY_LAST_FAILED}


async def setup(bot: PexelsBot) -> None:
    """Load the cog."""
    await bot.add_cog(DailyCog(bot))
