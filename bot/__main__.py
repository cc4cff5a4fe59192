"""`python -m bot [run|sync|check|invite]`: the operator's entry point."""

from __future__ import annotations

import argparse
import asyncio
import dataclasses
import logging
import re
import signal
import sys
import time
from collections.abc import Awaitable, Callable, Sequence
from urllib.parse import urlsplit

import aiohttp
import discord

from bot import __version__
from bot.app import PexelsBot
from bot.config import ConfigError, Settings, load_settings
from bot.errors import PexelsAuthError, PexelsError, PexelsUnavailable, QuotaExhausted
from bot.gateway import fatal_close_message
from bot.logs import setup_logging
from bot.metrics import MetricsServerError
from bot.pexels import USER_AGENT

log = logging.getLogger("bot")

EXIT_OK, EXIT_FAILED, EXIT_CONFIG, EXIT_FATAL = 0, 1, 2, 3
CLOSE_DEADLINE = 9.0
"""Seconds after SIGTERM/SIGINT by which the process has exited, whatever state it was in (a platform
sends SIGKILL 30 s after SIGTERM)."""
REQUIRED = {
    "run": ("DISCORD_TOKEN", "PEXELS_API_KEY"),
    "check": ("DISCORD_TOKEN", "PEXELS_API_KEY"),
    "sync": ("DISCORD_TOKEN",),
    "invite": ("DISCORD_TOKEN",),
}
"""The secrets each command needs: `sync` and `invite` never call Pexels."""
SNOWFLAKE = re.compile(r"[0-9]{7,20}")
DISCORD_SAYS_401 = (
    "Discord rejected DISCORD_TOKEN (401 Unauthorized); copy a fresh token from the Developer Portal "
    "(your application → Bot → Reset Token)"
)
CheckResult = tuple[bool, str]


def fail(message: str, code: int = EXIT_FAILED) -> int:
    """One line on stderr for the operator."""
    print(f"error: {message}", file=sys.stderr)
    return code


def parse_guild(text: str | None) -> int | None:
    """`sync --guild ID`: a server id (a snowflake), else ValueError."""
    if text is None:
        return None
    value = text.strip()
    if not SNOWFLAKE.fullmatch(value) or not 2**22 <= int(value) < 2**64:
        raise ValueError(value)
    return int(value)


async def run(settings: Settings) -> int:
    """Connect and serve until SIGTERM or SIGINT, then close cleanly (exit 3 when Discord closes the gateway for
    good: every reconnect would spend one of Discord's 1,000 IDENTIFYs a day)."""
    bot = PexelsBot(settings, freeze_heap=True)
    loop = asyncio.get_running_loop()
    stopping = asyncio.Event()
    closing: list[asyncio.Task[None]] = []

    main = asyncio.current_task()

    def stop(signame: str) -> None:
        if not stopping.is_set():
            log.info("%s received: closing", signame)
            stopping.set()
            closing.append(loop.create_task(bot.close()))
            loop.call_later(CLOSE_DEADLINE, lambda: main.cancel() if main is not None and not main.done() else None)

    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop, sig.name)
    try:
        async with bot:
            await bot.start(settings.discord_token.get(), reconnect=True)
    except asyncio.CancelledError:
        if not stopping.is_set():
            raise
        log.warning("Closing took longer than %.0fs; exiting anyway", CLOSE_DEADLINE)
        return EXIT_OK
    except discord.LoginFailure:
        return fail(DISCORD_SAYS_401)
    except (discord.PrivilegedIntentsRequired, discord.ConnectionClosed) as exc:
        code = getattr(exc, "code", None)
        return fail(fatal_close_message(exc) or f"Discord closed the gateway connection for good (close code {code})",
                    EXIT_FATAL)  # fmt: skip
    except discord.GatewayNotFound:
        return fail(f"cannot reach the Discord gateway at {settings.discord_gateway_url}; check DISCORD_GATEWAY_URL")
    except MetricsServerError as exc:
        return fail(str(exc))
    except (aiohttp.ClientError, OSError) as exc:
        if stopping.is_set():
            return EXIT_OK
        return fail(
            f"cannot reach Discord at {settings.discord_api_url}: {type(exc).__name__}: {exc}; "
            "check the network and DISCORD_API_URL"
        )
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
        return fail(DISCORD_SAYS_401)
    except discord.Forbidden as exc:
        where = f"server {guild_id}: is the bot in it?" if guild_id else "this application"
        return fail(f"Discord refused the command sync for {where} ({exc.status} {exc.text or exc})")
    except discord.HTTPException as exc:
        return fail(f"Discord refused the command sync: {exc.status} {exc.text or exc}")
    except (aiohttp.ClientError, OSError) as exc:
        return fail(f"cannot reach Discord at {settings.discord_api_url}: {type(exc).__name__}; check DISCORD_API_URL")
    where = f"to server {guild_id} (instant)" if guild_id else "globally (Discord may take up to an hour to show them)"
    print(f"synced {len(synced)} commands {where}: {', '.join(sorted(c.name for c in synced))}")
    return EXIT_OK


async def check_discord(settings: Settings, session: aiohttp.ClientSession) -> CheckResult:
    """GET /users/@me with the token: does Discord accept it, and for which bot?"""
    url = f"{settings.discord_api_url}/users/@me"
    headers = {"Authorization": f"Bot {settings.discord_token.get()}", "User-Agent": USER_AGENT}
    try:
        async with session.get(url, headers=headers, timeout=aiohttp.ClientTimeout(total=10)) as resp:
            status = resp.status
            body = await resp.json(content_type=None) if status == 200 else None
    except (TimeoutError, aiohttp.ClientError, ValueError) as exc:
        return False, f"cannot reach Discord at {settings.discord_api_url}: {type(exc).__name__}; check DISCORD_API_URL"
    if status == 401:
        return False, DISCORD_SAYS_401
    if status != 200 or not isinstance(body, dict):
        return False, f"Discord answered HTTP {status} to GET /users/@me; check DISCORD_API_URL"
    return True, f"Discord accepts DISCORD_TOKEN: this is the bot {body.get('username')} (id {body.get('id')})"


async def check_pexels(bot: PexelsBot) -> CheckResult:
    """One Pexels request: is the key accepted, and how much of the quota is left?"""
    settings = bot.settings
    try:
        snapshot = await bot.pexels.probe()
    except PexelsAuthError as exc:
        return False, f"Pexels rejected PEXELS_API_KEY ({exc}); get a key at https://www.pexels.com/api/"
    except PexelsUnavailable as exc:
        return False, f"cannot reach Pexels at {settings.pexels_api_url}: {exc}; check PEXELS_API_URL and the network"
    except QuotaExhausted as exc:
        until = time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime(exc.retry_at))
        return False, (
            f"the Pexels quota is spent ({exc.reason}): no new Pexels request until {until}; cached searches are "
            "still served (see the README on raising the Pexels quota)"
        )
    except PexelsError as exc:
        return False, f"Pexels at {settings.pexels_api_url} answered unexpectedly: {exc}; check PEXELS_API_URL"
    remaining = "an unknown number of" if snapshot.remaining is None else f"{snapshot.remaining:,}"
    limit = "" if snapshot.limit is None else f" of {snapshot.limit:,}"
    resets = ""
    if snapshot.reset_at:
        reset = time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime(snapshot.reset_at))
        resets = f"; resets {reset} (in {(snapshot.reset_at - time.time()) / 86400:.1f} days)"
    guard = (
        f"this bot allows itself {settings.pexels_hourly_limit} requests an hour "
        f"({snapshot.hour_used} used) and keeps {settings.pexels_quota_reserve} in reserve"
    )
    if snapshot.remaining is not None and snapshot.remaining <= settings.pexels_quota_reserve:
        return False, (
            f"Pexels accepts PEXELS_API_KEY, but only {remaining}{limit} requests are left this period{resets}: "
            f"at or below PEXELS_QUOTA_RESERVE, so new searches are refused until then "
            "(see the README on raising the Pexels quota)"
        )
    return True, f"Pexels accepts PEXELS_API_KEY: {remaining}{limit} requests left this period{resets}; {guard}"


def _redis_place(url: str) -> str:
    """Where a Redis URL points, without its credentials."""
    parts = urlsplit(url)
    if parts.scheme == "unix":
        return parts.path
    return f"{parts.hostname}:{parts.port or 6379}{parts.path or '/0'}"


async def check_redis(bot: PexelsBot) -> CheckResult:
    """PING the Redis that REDIS_URL names, through the same client the bot uses."""
    from bot.state.redis import RedisState

    state, url = bot.state, bot.settings.redis_url
    if url is None or not isinstance(state, RedisState):  # build_state returns it whenever REDIS_URL is set
        return False, "REDIS_URL is set but the bot is not using Redis"
    place = _redis_place(url.get())
    try:
        await state.link.client.ping()
    except Exception as exc:  # every failure of the client is an answer for the operator
        detail = state.link.redact(str(exc)) or "no detail"
        return False, (
            f"Redis at {place} did not answer PING ({type(exc).__name__}: {detail}); check REDIS_URL, "
            "and REDIS_SSL_CERT_REQS=none for a rediss:// provider with a self-signed certificate"
        )
    return True, f"Redis answers PING at {place}"


async def check(settings: Settings) -> int:
    """Check everything that can be checked from here, one line each; exit 1 if any check fails."""
    results: list[bool] = []

    def report(result: CheckResult) -> None:
        ok, line = result
        results.append(ok)
        print(f"{'ok' if ok else 'error'}: {line}", file=sys.stdout if ok else sys.stderr, flush=True)

    async with aiohttp.ClientSession() as session:
        report(await check_discord(settings, session))
    bot = PexelsBot(settings)
    async with bot:
        await bot.setup_hook()
        checks: list[Callable[[PexelsBot], Awaitable[CheckResult]]] = [check_pexels]
        if settings.redis_url is not None:
            checks.append(check_redis)
        for one in checks:
            report(await one(bot))
    return EXIT_OK if all(results) else EXIT_FAILED


INVITE_PERMISSIONS = discord.Permissions(send_messages=True, embed_links=True)
"""What a server install asks for: searches answer through interactions (which need none); the photo of the
day (/daily) posts to a channel."""


def invite(settings: Settings) -> int:
    """Print the two install links: to a server, and to the user's own account."""
    app = settings.application_id
    # discord.py's oauth_url has no integration_type: 0 installs to a server, 1 to the user's account.
    server = discord.utils.oauth_url(app, permissions=INVITE_PERMISSIONS, scopes=("bot", "applications.commands"))
    server += "&integration_type=0"
    account = discord.utils.oauth_url(app, scopes=("applications.commands",)) + "&integration_type=1"
    print(f"Add to a server:      {server}")
    print(f"Add to your account:  {account}")
    print("(For the second, turn on User Install on the application's Installation page first.)")
    return EXIT_OK


def parse_args(argv: Sequence[str]) -> argparse.Namespace:
    """The command line."""
    parser = argparse.ArgumentParser(
        prog="python -m bot", description=f"pexbot {__version__}: Pexels photos on Discord"
    )
    commands = parser.add_subparsers(dest="command")
    commands.add_parser("run", help="connect and serve until SIGTERM/SIGINT (the default)")
    sync_parser = commands.add_parser("sync", help="register the slash commands with Discord, then exit")
    sync_parser.add_argument("--guild", metavar="ID", help="only this server, for instant updates")
    commands.add_parser("check", help="check the token, the Pexels key and quota, and Redis; one line each")
    commands.add_parser("invite", help="print the links that add the bot to a server and to your account")
    return parser.parse_args(argv)


def log_level_for(command: str, settings: Settings) -> int:
    """The bot logs at LOG_LEVEL; the one-shot commands print their own lines and log only what needs acting on."""
    level = int(getattr(logging, settings.log_level))
    if command == "check":
        return level if level == logging.DEBUG else logging.CRITICAL
    if command == "sync":
        return max(level, logging.WARNING)
    return level


def main(argv: Sequence[str] | None = None) -> int:
    """Run a command; return the process exit code."""
    args = parse_args(sys.argv[1:] if argv is None else argv)
    command = args.command or "run"
    try:
        guild = parse_guild(getattr(args, "guild", None))
    except ValueError:
        return fail(
            f"--guild: expected a server id, a number like 661720242585600001 (got {args.guild[:40]!r}); "
            "in Discord: Settings → Advanced → Developer Mode, then right-click the server → Copy Server ID",
            EXIT_CONFIG,
        )
    try:
        settings = load_settings(required=REQUIRED[command])
        if command == "invite":
            return invite(settings)
    except ConfigError as exc:
        for line in exc.lines():
            print(f"error: {line}", file=sys.stderr)
        return EXIT_CONFIG
    setup_logging(level=log_level_for(command, settings), log_format=settings.log_format, secrets=settings.secrets())
    if command == "run":
        return asyncio.run(run(settings))
    one_shot = dataclasses.replace(settings, metrics_port=None)  # the running bot may hold the metrics port
    if command == "sync":
        return asyncio.run(sync(one_shot, guild))
    return asyncio.run(check(one_shot))


if __name__ == "__main__":
    sys.exit(main())
