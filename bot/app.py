"""The bot: one process's Discord client, owning the HTTP session, the shared state and the services."""

from __future__ import annotations

import asyncio
import gc
import logging
import time
from typing import Any

import aiohttp
import discord
import yarl
from discord import app_commands
from discord.ext import commands

from bot import __version__, gateway, redact
from bot.admission import Admission
from bot.answer import fail
from bot.buttons import ResultButtons
from bot.config import Settings
from bot.db import WALL_CLOCK, Clock, Database, open_database
from bot.errors import BadInput
from bot.features import ServerSettings
from bot.i18n import CommandTranslator
from bot.invocation import check_invocation
from bot.metrics import Metrics
from bot.pexels import USER_AGENT, PexelsClient
from bot.photo_of_the_day import INTERVAL, DailyScheduler
from bot.routing import Route, Routed, RouteKey, route_key
from bot.saved import SavedItemsUI
from bot.service import SearchService, pexels_fetcher
from bot.state import QuotaPolicy, State, build_state
from bot.store import ResultStore
from bot.ui import NO_MENTIONS

log = logging.getLogger(__name__)

EXTENSIONS = ("cogs.search", "cogs.discover", "cogs.meta", "cogs.settings", "cogs.saved", "cogs.daily")
DRAIN_SECONDS = 8.0
"""How long closing waits for answers in flight: well inside the 30 s a platform gives before SIGKILL."""
_ANSWER_TASKS = ("CommandTree-invoker", "discord.py: on_interaction")
"""The names discord.py gives the tasks that answer interactions (commands, and our component listeners)."""
INSTALLS_TTL = 300.0
"""Seconds /about reuses the application's install counts."""


def _answers_in_flight() -> set[asyncio.Task[Any]]:
    current = asyncio.current_task()
    return {t for t in asyncio.all_tasks() if t is not current and not t.done() and t.get_name() in _ANSWER_TASKS}


class _Quiet(logging.Filter):
    """Drops discord.py's start-up warning about the GUILDS intent: this bot turns it off on purpose."""

    def filter(self, record: logging.LogRecord) -> bool:
        return not str(record.msg).startswith("Guilds intent seems to be disabled")


logging.getLogger("discord.state").addFilter(_Quiet())


def point_discord_at(settings: Settings) -> None:
    """Send REST and gateway traffic where the settings say (Discord itself, a proxy, or a test rig)."""
    discord.http.Route.BASE = settings.discord_api_url
    gateway = yarl.URL(settings.discord_gateway_url)
    discord.gateway.DiscordWebSocket.DEFAULT_GATEWAY = gateway if gateway.path else gateway.with_path("/")


class PexelsTree(app_commands.CommandTree["PexelsBot"]):
    """The command tree: one place that turns every command error into a clear, private answer."""

    async def interaction_check(self, interaction: discord.Interaction[PexelsBot]) -> bool:
        """Handle each interaction once (two processes may briefly hold the same shard), and only invocations of
        commands this release defines, with options it can take: anything else gets a clear private answer."""
        if not await interaction.client.admission.claim(interaction):
            return False
        if interaction.type is discord.InteractionType.autocomplete:
            return True
        try:
            check_invocation(self, interaction.data)
        except BadInput as exc:
            await fail(interaction, exc)
            return False
        return True

    async def on_error(self, interaction: discord.Interaction[PexelsBot], error: app_commands.AppCommandError) -> None:
        """Every command error ends here: one private, clear answer (see `bot.errors`)."""
        await fail(interaction, error)


class PexelsBot(commands.AutoShardedBot):
    """A discord.py bot whose only job is finding and crediting Pexels photos and videos."""

    session: aiohttp.ClientSession
    state: State
    pexels: PexelsClient
    store: ResultStore
    search: SearchService
    admission: Admission
    buttons: ResultButtons
    database: Database
    server_settings: ServerSettings
    saved: SavedItemsUI
    scheduler: DailyScheduler

    def __init__(
        self,
        settings: Settings,
        *,
        state: State | None = None,
        freeze_heap: bool = False,
        clock: Clock = WALL_CLOCK,
        daily_interval: float = INTERVAL,
        **options: Any,
    ) -> None:
        """`clock` and `daily_interval` drive the database and the photo of the day (tests move time with them)."""
        point_discord_at(settings)
        # The bot has no voice: don't warn at start that voice's libraries (PyNaCl, davey) are not installed.
        discord.VoiceClient.warn_nacl = discord.VoiceClient.warn_dave = False
        self.metrics = Metrics()
        options.setdefault("http_trace", self.metrics.discord_trace())
        redact.install_on_root()  # no interaction token in any log line (the logging setup may install it too)
        # Interactions need no intent, and a bot that keeps nothing per server wants no GUILD_CREATE flood and
        # no guild cache: /about counts installs from the application's own info.
        intents = discord.Intents.none()
        gateway.install()
        # discord.py waits this long after READY for the GUILD_CREATEs of the servers; without the GUILDS intent
        # none come, and on_ready (which settles the process: `_settle`) would wait 2 s for nothing.
        options.setdefault("guild_ready_timeout", 0.0)
        options.setdefault("shard_count", settings.shard_count)
        options.setdefault("shard_ids", list(settings.shard_ids) if settings.shard_ids else None)
        super().__init__(
            command_prefix=commands.when_mentioned,
            help_command=None,
            intents=intents,
            tree_cls=PexelsTree,
            allowed_installs=app_commands.AppInstallationType(guild=True, user=True),
            allowed_contexts=app_commands.AppCommandContext(guild=True, dm_channel=True, private_channel=True),
            allowed_mentions=NO_MENTIONS,
            activity=discord.CustomActivity(name="/photo to find a photo"),
            **options,
        )
        self.settings = settings
        self._given_state = state
        self._freeze_heap = freeze_heap
        self._clock = clock
        self._daily_interval = daily_interval
        self.started_at = time.time()
        self._installs: tuple[float, int | None, int | None] | None = None
        self._draining = False
        self._settled = False
        self._routes: dict[RouteKey, Route] = {}

    async def setup_hook(self) -> None:
        """Build the session, the shared state, the database and the services; load the cogs. No command sync here.

        A database that does not answer does not stop the start: searches work without it, and what needs it
        says so until it answers. A database migrated by a newer release (`SchemaTooNew`) does stop it.
        """
        settings = self.settings
        # Before any sync: `python -m bot sync` sends every command's names and descriptions in each language.
        await self.tree.set_translator(CommandTranslator())
        self.session = aiohttp.ClientSession(
            headers={"User-Agent": USER_AGENT}, trace_configs=[self.metrics.pexels_trace(settings.pexels_api_url)]
        )
        self.state = self._given_state or await build_state(
            redis_url=settings.redis_url.get() if settings.redis_url else None,
            policy=QuotaPolicy(
                settings.pexels_hourly_limit, settings.pexels_monthly_limit, settings.pexels_quota_reserve
            ),
            shard_count=settings.shard_count,
            key_fingerprint=settings.pexels_api_key.fingerprint(),
            cache_max_entries=settings.cache_max_entries,
            redis_ssl_cert_reqs=settings.redis_ssl_cert_reqs,
        )
        self.pexels = PexelsClient(
            self.session, base_url=settings.pexels_api_url, api_key=settings.pexels_api_key, quota=self.state.quota
        )
        self.store = ResultStore(self.state.cache, pexels_fetcher(self.pexels), ttl=settings.cache_ttl)
        self.search = SearchService(self.store)
        self.admission = Admission(
            self.state.dedupe,
            self.state.cooldowns,
            search=settings.search_cooldown,
            button=settings.button_cooldown,
        )
        self.database = await open_database(settings.database_url.get(), clock=self._clock)
        self.server_settings = ServerSettings(self.database)
        self.saved = SavedItemsUI(self.database, self.admission)
        self.buttons = ResultButtons(self.search, self.admission, save=self.saved.save)
        self.metrics.cache_counts(lambda: (self.store.hits, self.store.misses))
        self.scheduler = DailyScheduler(
            self, self.database, self.store, clock=self._clock, interval=self._daily_interval
        )
        for extension in EXTENSIONS:
            await self.load_extension(extension)
        await self.metrics.start(host=settings.metrics_host, port=settings.metrics_port, healthy=self.connected)
        log.info(
            "pexbot %s ready to connect (state: %s, shards %s of %s)",
            __version__,
            self.state.backend,
            self.shard_ids or [0],
            self.shard_count,
        )

    def connected(self) -> bool:
        """True while every gateway connection of this process is up (the metrics server's /healthz)."""
        expected = len(self.shard_ids) if self.shard_ids else (self.shard_count or 1)
        shards = self.shards.values()
        return not self.is_closed() and len(shards) == expected and not any(s.is_closed() for s in shards)

    def dispatch(self, event_name: str, /, *args: Any, **kwargs: Any) -> None:
        """Note each interaction as it arrives, before any handler runs, to time its first response."""
        if event_name == "interaction":
            self.metrics.received(args[0])
        super().dispatch(event_name, *args, **kwargs)

    async def connect(self, *, reconnect: bool = True) -> None:
        """Start the photo-of-the-day scheduler (only a running bot posts: not `sync` or `check`), then connect."""
        self.scheduler.start()
        await super().connect(reconnect=reconnect)

    async def before_identify_hook(self, shard_id: int | None, *, initial: bool = False) -> None:
        """Pace IDENTIFYs across every process through the shared state; alone, discord.py's own pacing."""
        if self.state.backend == "redis":
            await self.state.identify.wait_turn(shard_id or 0)
        else:
            await super().before_identify_hook(shard_id, initial=initial)

    async def launch_shard(self, gateway_url: yarl.URL, shard_id: int, *, initial: bool = False) -> None:
        """Connect one shard, retrying while Discord is unreachable and giving up the moment the bot closes."""
        await gateway.launch_shard(self, gateway_url, shard_id, initial=initial)

    async def add_cog(self, cog: commands.Cog, /, **options: Any) -> None:
        """Load a cog; a `Routed` cog's presses and submits are routed to it from then on."""
        await super().add_cog(cog, **options)
        if isinstance(cog, Routed):
            self._routes.update(cog.routes())

    async def remove_cog(self, name: str, /, **options: Any) -> commands.Cog | None:
        """Unload a cog, and stop routing to it."""
        cog = await super().remove_cog(name, **options)
        if isinstance(cog, Routed):
            for key in cog.routes():
                self._routes.pop(key, None)
        return cog

    async def on_interaction(self, interaction: discord.Interaction[Any]) -> None:
        """Send a component press or modal submit to the cog that wrote its custom_id (`bot.routing`)."""
        key = route_key(interaction)
        handler = self._routes.get(key) if key is not None else None
        if handler is not None:
            await handler(interaction)

    async def on_ready(self) -> None:
        """Log once the gateway session is up; the first time, finish what could wait until then (`_settle`)."""
        log.info("Connected as %s (%s)", self.user, self.user and self.user.id)
        if not self._settled:
            self._settled = True
            await self._settle()

    async def _settle(self) -> None:
        """Once connected: read the message catalogs (in a thread), then freeze the heap. Done before READY,
        both lengthened the start (the catalogs' reading took the GIL from it; a full collection took ~30 ms)."""
        translator = self.tree.translator
        if isinstance(translator, CommandTranslator):
            await translator.preload()
        if self._freeze_heap:
            # Everything that exists now (modules, discord.py, the cogs, the catalogs) lives as long as the
            # process: hide it from the cyclic collector, so a full collection scans only what interactions
            # create. Measured: the worst collection pause fell from ~90 ms to ~15 ms, and p99 at 200/s with it.
            gc.collect()
            gc.freeze()

    async def installs(self) -> tuple[int | None, int | None]:
        """How many servers and users have installed the app (Discord's approximate counts, at most 5 minutes old)."""
        now = time.monotonic()
        if self._installs is None or now - self._installs[0] > INSTALLS_TTL:
            try:
                info = await self.application_info()
            except discord.HTTPException as exc:
                log.warning("Could not read the application's install counts (%s); /about shows the last known", exc)
                return self._installs[1:] if self._installs else (None, None)
            self._installs = (now, info.approximate_guild_count, info.approximate_user_install_count)
        return self._installs[1], self._installs[2]

    async def close(self) -> None:
        """Stop taking new work (the gateway closes first), let answers in flight and daily posts being made finish
        for a few seconds, then release the database, the session and the shared state: a deploy never leaves a
        user with "thinking…" forever."""
        if not self._draining:
            self._draining = True
            await asyncio.gather(*(shard.disconnect() for shard in self.shards.values()), return_exceptions=True)
            scheduler = self.scheduler.stop(DRAIN_SECONDS) if hasattr(self, "scheduler") else asyncio.sleep(0)
            await asyncio.gather(self._finish_answers(), scheduler)
            if hasattr(self, "database"):
                # Before discord.py's close, which lets `start()` return: what runs after it may be cut short, and
                # an open SQLite connection's worker thread would keep the process from exiting.
                await self.database.close()
        await super().close()
        await self.metrics.stop()
        if hasattr(self, "session"):
            await self.session.close()
        if hasattr(self, "state") and self._given_state is None:
            await self.state.close()

    async def _finish_answers(self) -> None:
        in_flight = _answers_in_flight()
        if in_flight:
            log.info("Closing: finishing %d interaction(s) in flight (at most %.0fs)", len(in_flight), DRAIN_SECONDS)
            _, late = await asyncio.wait(in_flight, timeout=DRAIN_SECONDS)
            if late:
                log.warning("Closing with %d interaction(s) still unanswered after %.0fs", len(late), DRAIN_SECONDS)
