"""`python -m bot [run|sync|check|invite]`: the operator's entry point."""

from __future__ import annotations

import argparse
import asyncio
import logging
import signal
import sys
import time
from collections.abc import Sequence

import aiohttp
import discord

from bot import __version__
from bot.app import PexelsBot
from bot.config import ConfigError, Settings, load_settings
from bot.errors import PexelsAuthError, PexelsError, PexelsUnavailable
from bot.gateway import fatal_close_message

log = logging.getLogger("bot")

EXIT_OK, EXIT_FAILED, EXIT_CONFIG, EXIT_FATAL = 0, 1, 2, 3
CLOSE_LIMIT = 8.0
"""Seconds after SIGTERM/SIGINT before the bot stops waiting for a close that hangs: a signal always ends it."""


class RedactSecrets(logging.Filter):
    """Belt and braces: no log record ever carries a token or key, whoever formats it."""

    def __init__(self, secrets: Sequence[str]) -> None:
        super().__init__()
        self._secrets = [s for s in secrets if len(s) >= 6]

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        if any(secret in message for secret in self._secrets):
            for secret in self._secrets:
                message = message.replace(secret, "********")
            record.msg, record.args = message, None
        return True


def setup_logging(settings: Settings) -> None:
    """Log to stdout (a dyno's log router reads it), discord.py's HTTP chatter quieted."""
    handler = logging.StreamHandler(sys.stdout)
    secrets = [settings.discord_token.get(), settings.pexels_api_key.get()]
    if settings.redis_url:
        secrets.append(settings.redis_url.get())
    handler.addFilter(RedactSecrets(secrets))
    discord.utils.setup_logging(handler=handler, level=getattr(logging, settings.log_level), root=True)
    logging.getLogger("discord.http").setLevel(logging.WARNING)
    logging.getLogger("discord.gateway").setLevel(max(logging.INFO, getattr(logging, settings.log_level)))


def fail(message: str, code: int = EXIT_FAILED) -> int:
    """One line on stderr for the operator."""
    print(f"error: {message}", file=sys.stderr)
    return code


async def run(settings: Settings) -> int:
    """Connect and serve until SIGTERM or SIGINT, then close cleanly (exit 3 when Discord closes the gateway for
    good: every reconnect would spend one of Discord's 1,000 IDENTIFYs a day)."""
    bot = PexelsBot(settings, freeze_heap=True)
    loop = asyncio.get_running_loop()
    serving = asyncio.current_task()
    stopping = asyncio.Event()
    closing: list[asyncio.Task[None]] = []

    async def close() -> None:
        task = asyncio.ensure_future(bot.close())
        await asyncio.wait({task}, timeout=CLOSE_LIMIT)
        if not task.done():
            log.warning("Closing took longer than %.0fs: stopping without waiting for the rest", CLOSE_LIMIT)
            while serving is not None and not serving.done():
                serving.cancel()
                await asyncio.sleep(0.5)

    def stop(signame: str) -> None:
        if not stopping.is_set():
            log.info("%s received: closing", signame)
            stopping.set()
            closing.append(loop.create_task(close()))

    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop, sig.name)
    try:
        async with bot:
            await bot.start(settings.discord_token.get(), reconnect=True)
    except asyncio.CancelledError:
        if not stopping.is_set():
            raise
        return EXIT_OK
    except discord.LoginFailure:
        return fail("Discord rejected DISCORD_TOKEN (401 Unauthorized); copy a fresh token from the Bot page")
    except (discord.ConnectionClosed, discord.PrivilegedIntentsRequired) as exc:
        fatal = fatal_close_message(exc)
        if fatal is not None:
            return fail(fatal, EXIT_FATAL)
        return fail(f"Discord closed the gateway connection ({exc})")
    except discord.GatewayNotFound:
        return fail(f"cannot reach the Discord gateway at {settings.discord_gateway_url}")
    except (aiohttp.ClientError, OSError) as exc:
        if stopping.is_set():
            return EXIT_OK
        return fail(f"cannot reach Discord at {settings.discord_api_url}: {type(exc).__name__}: {exc}")
    log.info("closed cleanly")
    return EXIT_OK


async def sync(settings: Settings, guild_id: int | None) -> int:
    """Register the application commands, globally or to one guild, then exit."""
    bot = PexelsBot(settings)
    try:
        async with bot:
            await bot.login(settings.discord_token.get())
            guild = discord.Object(guild_id) if guild_id else None
            if guild is not None:
                bot.tree.copy_global_to(guild=guild)
            synced = await bot.tree.sync(guild=guild)
    except discord.LoginFailure:
        return fail("Discord rejected DISCORD_TOKEN (401 Unauthorized); copy a fresh token from the Bot page")
    except discord.HTTPException as exc:
        return fail(f"Discord refused the command sync: {exc.status} {exc.text or exc}")
    except (aiohttp.ClientError, OSError) as exc:
        return fail(f"cannot reach Discord at {settings.discord_api_url}: {type(exc).__name__}")
    where = f"to server {guild_id} (instant)" if guild_id else "globally (Discord may take up to an hour to show them)"
    print(f"synced {len(synced)} commands {where}: {', '.join(sorted(c.name for c in synced))}")
    return EXIT_OK


async def check(settings: Settings) -> int:
    """Make one Pexels request and report the quota left and when it resets."""
    bot = PexelsBot(settings)
    try:
        async with bot:
            await bot.setup_hook()
            snapshot = await bot.pexels.probe()
    except PexelsAuthError as exc:
        return fail(f"Pexels rejected PEXELS_API_KEY ({exc}); get a key at https://www.pexels.com/api/")
    except PexelsUnavailable as exc:
        return fail(f"cannot reach Pexels at {settings.pexels_api_url}: {exc}")
    except PexelsError as exc:
        return fail(f"Pexels at {settings.pexels_api_url} answered unexpectedly: {exc}")
    remaining = "unknown" if snapshot.remaining is None else f"{snapshot.remaining:,}"
    limit = "" if snapshot.limit is None else f" of {snapshot.limit:,}"
    if snapshot.reset_at:
        reset = time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime(snapshot.reset_at))
        days = (snapshot.reset_at - time.time()) / 86400
        resets = f"; resets {reset} (in {days:.1f} days)"
    else:
        resets = ""
    print(f"ok: Pexels answered; {remaining}{limit} requests left this period{resets}")
    print(
        f"ok: this bot allows itself {settings.pexels_hourly_limit} requests an hour "
        f"and keeps {settings.pexels_quota_reserve} in reserve"
    )
    return EXIT_OK


def invite(settings: Settings) -> int:
    """Print the URL that adds the bot to a server."""
    url = discord.utils.oauth_url(
        settings.application_id, permissions=discord.Permissions.none(), scopes=("bot", "applications.commands")
    )
    print(url)
    return EXIT_OK


def parse_args(argv: Sequence[str]) -> argparse.Namespace:
    """The command line."""
    parser = argparse.ArgumentParser(
        prog="python -m bot", description=f"pexbot {__version__}: Pexels photos on Discord"
    )
    commands = parser.add_subparsers(dest="command")
    commands.add_parser("run", help="connect and serve until SIGTERM/SIGINT (the default)")
    sync_parser = commands.add_parser("sync", help="register the slash commands with Discord, then exit")
    sync_parser.add_argument("--guild", type=int, metavar="ID", help="only this server, for instant updates")
    commands.add_parser("check", help="validate the configuration and make one Pexels request")
    commands.add_parser("invite", help="print the URL that adds the bot to a server")
    return parser.parse_args(argv)


def main(argv: Sequence[str] | None = None) -> int:
    """Run a command; return the process exit code."""
    args = parse_args(sys.argv[1:] if argv is None else argv)
    try:
        settings = load_settings()
        if args.command == "invite":
            return invite(settings)
    except ConfigError as exc:
        return fail(str(exc), EXIT_CONFIG)
    setup_logging(settings)
    if args.command == "sync":
        return asyncio.run(sync(settings, args.guild))
    if args.command == "check":
        return asyncio.run(check(settings))
    return asyncio.run(run(settings))


if __name__ == "__main__":
    sys.exit(main())
