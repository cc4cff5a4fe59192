"""Where the bot's CPU goes per interaction: cProfile in the bot process, one segment per kind of interaction.

The bot runs as `python -m benchmarks.bot_probe` with BENCH_PROFILE set (cProfile around the same
`main()`; SIGUSR2 cuts a segment). Each kind (uncached search, cached search, page press) is sent at a
modest rate so the profiled bot is never saturated; wall time in the event loop's poll (idle) is left out.
Then in this process: micro-benchmarks of the hot spots and of the alternatives the report suggests.
"""

from __future__ import annotations

import asyncio
import copy
import importlib
import inspect
import json
import pstats
import shutil
import signal
import time
import timeit
import zlib
from collections import defaultdict
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, cast

import discord

from benchmarks.load import USERS, Load
from benchmarks.rig import RELAXED, ROOT, problems, start_serving, stop_serving, sync_commands, world
from tests.fakes.discord import InteractionRecord, make_user
from tests.fakes.pexels import FakePexels

if TYPE_CHECKING:
    from discord.types.message import Message as MessagePayload

    from bot.models import Chunk

MESSAGE_COMPONENT = 3
"""The interaction type of a button press."""

IDLE = ("~", 0, "<method 'poll' of 'select.epoll' objects>")
SEND = ("~", 0, "<method 'send' of '_socket.socket' objects>")


def _ours(fn: Callable[..., object] | property) -> tuple[str, str]:
    """How cProfile names one of the bot's functions: (its file relative to the repository, its name).

    Built from the function itself, so a rename or a move breaks the benchmark at import, not silently.
    """
    target = fn.fget if isinstance(fn, property) else fn
    if target is None:
        raise TypeError("a property without a getter")
    code = inspect.unwrap(target).__code__
    return str(Path(code.co_filename).resolve().relative_to(ROOT)), code.co_name


def _watch() -> dict[str, tuple[str, str]]:
    from bot.admission import Admission
    from bot.answer import answer_command, answer_update
    from bot.buttons import ResultButtons
    from bot.models import Photo
    from bot.pexels import PexelsClient
    from bot.service import SearchService
    from bot.store import ResultStore
    from bot.ui import result_embed, result_view
    from bot.vocab import SearchSpec
    from bot.wire import ButtonState, decode_chunk, encode_chunk

    ours: dict[str, Callable[..., object] | property] = {
        "Photo.from_api": Photo.from_api,
        "encode_chunk": encode_chunk,
        "decode_chunk": decode_chunk,
        "ResultStore.chunk": ResultStore.chunk,
        "SearchService.result": SearchService.result,
        "PexelsClient.search_photos": PexelsClient.search_photos,
        "Admission.claim": Admission.claim,
        "Admission.admit": Admission.admit,
        "ButtonState.from_match": ButtonState.from_match,
        "ResultButtons.page": ResultButtons.page,
        "ResultButtons.soon": ResultButtons.soon,
        "SearchService.result_now": SearchService.result_now,
        "ResultButtons.press": ResultButtons.press,
        "result_view": result_view,
        "result_embed": result_embed,
        "SearchSpec.key": inspect.getattr_static(SearchSpec, "key"),
        "answer_command": answer_command,
        "answer_update": answer_update,
    }
    return {
        **{label: _ours(fn) for label, fn in ours.items()},
        "json.loads (stdlib)": ("json/__init__.py", "loads"),
        "json.dumps (stdlib)": ("json/__init__.py", "dumps"),
        "discord Interaction._from_data": ("discord/interactions.py", "_from_data"),
        "discord Message.__init__": ("discord/message.py", "__init__"),
        "discord webhook request (callbacks, edits)": ("discord/webhook/async_.py", "request"),
        "discord gateway received_message": ("discord/gateway.py", "received_message"),
        "discord dispatch (commands.Bot)": ("discord/ext/commands/bot.py", "dispatch"),
        "ViewStore.dispatch_dynamic_items": ("discord/ui/view.py", "dispatch_dynamic_items"),
    }


WATCH = _watch()
"""Functions whose cumulative time per interaction is reported (coroutines count a call per resume)."""
BOT_WATCHED = {label for label, (path, _) in WATCH.items() if path.startswith(("bot/", "cogs/"))}
HOT_SPOTS = (
    "ResultButtons.soon",
    "ResultButtons.page",
    "result_view",
    "Photo.from_api",
    "decode_chunk",
    "encode_chunk",
    "json.loads (stdlib)",
    "answer_command",
    "answer_update",
)
"""The watched functions the report's profile table names."""
MAY_NOT_RUN = {"decode_chunk"}
"""Watched, but legitimately idle in a profiled run: every chunk read may come from the decoded memo (a
rename still fails, at the import in `_watch`)."""
if not set(HOT_SPOTS) <= set(WATCH):
    raise RuntimeError(f"hot spots not watched: {set(HOT_SPOTS) - set(WATCH)}")


def _exists(path: Path) -> bool:
    return path.exists()


def _area(filename: str, name: str) -> str:
    if filename == "~":
        lowered = name.lower()
        if "json" in lowered:
            return "json"
        if "sha256" in lowered or "hash" in lowered:
            return "bot"
        return "builtins / C"
    for marker, area in (
        ("/bot/", "bot"),
        ("/cogs/", "bot"),
        ("/discord/", "discord.py"),
        ("/aiohttp/", "aiohttp"),
        ("/yarl/", "aiohttp"),
        ("/multidict/", "aiohttp"),
        ("/json/", "json"),
        ("/asyncio/", "asyncio"),
        ("selectors.py", "asyncio"),
        ("/logging/", "logging"),
        ("/dataclasses.py", "builtins / C"),
    ):
        if marker in filename:
            return area
    return "other stdlib / libs"


def _short(filename: str) -> str:
    for marker in ("site-packages/", "/lib/python3.11/", str(ROOT) + "/"):
        if marker in filename:
            return filename.split(marker, 1)[1]
    return filename


def analyse(path: Path, interactions: int, top: int = 12) -> dict[str, Any]:
    """Per-interaction costs from one profile segment."""
    stats = pstats.Stats(str(path))
    raw: dict[Any, Any] = stats.stats  # type: ignore[attr-defined]
    apart = (IDLE, SEND)
    total = sum(v[2] for key, v in raw.items() if key not in apart)
    send = raw[SEND][2] if SEND in raw else 0.0
    areas: dict[str, float] = defaultdict(float)
    for (filename, line, name), v in raw.items():
        if (filename, line, name) not in apart:
            areas[_area(filename, name)] += v[2]
    ranked = sorted(((k, v) for k, v in raw.items() if k not in apart), key=lambda kv: -kv[1][2])[:top]
    watched: dict[str, Any] = {}
    for label, (suffix, func) in WATCH.items():
        hits = [(k, v) for k, v in raw.items() if k[0].endswith(suffix) and k[2] == func]
        if hits:
            calls = sum(v[1] for _, v in hits)
            cum = sum(v[3] for _, v in hits)
            watched[label] = {
                "calls_per_interaction": round(calls / interactions, 2),
                "cum_us_per_interaction": round(1e6 * cum / interactions, 1),
                "share_pct": round(100 * cum / total, 1) if total else None,
            }
    return {
        "interactions": interactions,
        "profiled_ms_per_interaction": round(1000 * total / interactions, 3),
        "socket_send_wall_ms_per_interaction": round(1000 * send / interactions, 3),
        "by_area_pct": {k: round(100 * v / total, 1) for k, v in sorted(areas.items(), key=lambda kv: -kv[1])},
        "top_self_time": [
            {
                "function": f"{_short(f)}:{line}({name})",
                "self_us_per_interaction": round(1e6 * v[2] / interactions, 1),
                "self_pct": round(100 * v[2] / total, 1),
                "calls_per_interaction": round(v[1] / interactions, 2),
            }
            for (f, line, name), v in ranked
        ],
        "watched": watched,
    }


PLAN = {"bot": ("uncached", "cached", "press"), "floor": ("search", "press")}


@dataclass(frozen=True)
class Sample:
    """What the bot really sent and received, kept from the profiled run for the micro-benchmarks."""

    press: dict[str, Any]
    """The `d` of one INTERACTION_CREATE of a ▶ press, as the loopback Discord dispatched it."""
    message: dict[str, Any]
    """The result message that press was on, as Discord returns it."""


async def _profile_target(
    target: str, per_kind: int, rate: float, out_dir: Path, bot_root: Path, users: int
) -> tuple[dict[str, Any], Sample | None]:
    module = "bot" if target == "bot" else "benchmarks.floor_bot"
    results: dict[str, Any] = {}
    sample: Sample | None = None
    async with world(**RELAXED) as w:
        prefix = w.workdir / "profile"
        await sync_commands(w, module, bot_root=bot_root)
        env = {"BENCH_PROFILE": str(prefix), "BENCH_MAIN": "bot.__main__" if target == "bot" else module}
        child, _ = await start_serving(
            w, "benchmarks.bot_probe", label=f"profiled-{target}", env=env, bot_root=bot_root
        )
        segment = 0

        async def cut() -> Path:
            nonlocal segment
            segment += 1
            path = Path(f"{prefix}.{segment}")
            child.proc.send_signal(signal.SIGUSR2)
            for _ in range(750):
                if _exists(path):
                    break
                await asyncio.sleep(0.02)
            await asyncio.sleep(0.2)  # let the dump finish writing
            return path

        try:
            load = Load(w, child, target, users=users)
            await load.warm()  # the floor too: its searches are then for queries it has seen
            await load.build_pool()
            await load.run("uncached", 20, 1)  # warm the search path too
            await cut()  # start-up and preparation: not analysed
            for kind in PLAN[target]:
                stats = await load.run(kind, rate, per_kind / rate, load.cached if kind == "search" else None)
                path = await cut()
                results[kind] = analyse(path, stats.sent)
                shutil.copyfile(path, out_dir / f"profile_{target}_{kind}.prof")
                with (out_dir / f"profile_{target}_{kind}.txt").open("w") as f:
                    ps = pstats.Stats(str(path), stream=f)
                    f.write(f"# {target}, {kind}: {stats.sent} interactions at {rate:g}/s (cProfile, own process)\n")
                    ps.sort_stats("tottime").print_stats(40)
                    ps.sort_stats("cumulative").print_stats(40)
            if target == "bot":
                sample = _sample(w.discord.interactions.values())
        finally:
            await stop_serving(w, child)
    return results, sample


def _sample(records: Iterable[InteractionRecord]) -> Sample:
    """A ▶ press on a result message, from the run's records."""
    for rec in records:
        source = rec.source_message
        if rec.type == MESSAGE_COMPONENT and source is not None and source.embeds:
            return Sample(press=rec.payload, message=source.to_payload())
    raise RuntimeError("the profiled run pressed no result message")


async def run(
    per_kind: int, out_dir: Path, rate: float = 50.0, bot_root: Path = ROOT, *, users: int = USERS, repeat: int = 5
) -> dict[str, Any]:
    """Profile `per_kind` interactions of each kind, bot and floor; write text reports beside the results."""
    results: dict[str, Any] = {
        "rate": rate,
        "per_kind": per_kind,
        "note": (
            "cProfile (wall-clock timer) in the serving process; the event loop's idle wait (epoll) is left out, "
            "and socket send is shown apart (on loopback its wall time includes being descheduled while the "
            "receiver runs). Profiling inflates call-heavy code: read shares here, and take absolutes from the "
            "load windows' CPU ms per interaction and from the real-time micro-benchmarks"
        ),
    }
    sample: Sample | None = None
    for target in PLAN:
        results[target], got = await _profile_target(target, per_kind, rate, out_dir, bot_root, users)
        sample = sample or got
    hit = {label for kind in results["bot"].values() for label in kind["watched"]}
    for label in sorted(BOT_WATCHED - hit - MAY_NOT_RUN):
        problems.add(f"profile: the watched function {label} {WATCH[label]} never ran in the bot")
    if sample is None:
        raise RuntimeError("the bot's profiled run left no press to sample")
    results["micro"] = await micro(sample, Timer(repeat))
    return results


@dataclass(frozen=True)
class Timer:
    """Best-of-`repeat` timings in µs per call (a smoke run repeats less, and fewer times)."""

    repeat: int = 5

    def best(self, fn: Callable[[], object], number: int = 200) -> float:
        """µs per call of `fn`, best of `repeat` runs of `number` calls."""
        number = max(1, number * self.repeat // 5)
        return round(min(timeit.repeat(fn, number=number, repeat=self.repeat)) / number * 1e6, 1)

    async def best_async(self, make: Callable[[int], Awaitable[object]], number: int = 2000) -> float:
        """µs per await of `make(i)`, best of `repeat` runs of `number`."""
        number = max(1, number * self.repeat // 5)
        best = float("inf")
        for _ in range(self.repeat):
            started = time.perf_counter()
            for i in range(number):
                await make(i)
            best = min(best, (time.perf_counter() - started) / number)
        return round(best * 1e6, 1)


async def _pexels_page(query: str) -> bytes:
    """An 80-photo search answer, as the loopback Pexels sends it over HTTP."""
    import aiohttp

    from bot.pexels import USER_AGENT

    async with FakePexels() as fake, aiohttp.ClientSession(headers={"User-Agent": USER_AGENT}) as http:
        params = {"query": query, "per_page": "80", "page": "1", "locale": "en-US"}
        async with http.get(f"{fake.url}/v1/search", params=params, headers={"Authorization": fake.api_key}) as r:
            r.raise_for_status()
            return await r.read()


async def micro(sample: Sample, timer: Timer) -> dict[str, Any]:
    """In-process timings of the hot spots and of the suggested alternatives (µs per call, best of 5)."""
    import orjson

    from bot.models import Chunk, Photo
    from bot.service import Slot
    from bot.ui import result_embed, result_view
    from bot.vocab import Kind, SearchSpec
    from bot.wire import CHUNK_DICTIONARY, decode_chunk, encode_chunk

    body = await _pexels_page("sunset")
    parsed = json.loads(body)
    items = tuple(Photo.from_api(p) for p in parsed["photos"])
    chunk = Chunk(items, 240, True)
    encoded = encode_chunk(chunk)

    def inflate(data: bytes) -> bytes:
        return zlib.decompressobj(15, CHUNK_DICTIONARY).decompress(data)

    plain = inflate(encoded)
    spec = SearchSpec(Kind.PHOTO, "sunset sky", locale="en-US")
    slot = Slot(items[3], 3, 240, spec)
    best = timer.best

    return {
        **await pipeline(chunk, sample, timer),
        **compression(body, sample, timer),
        "pexels_page_bytes": len(body),
        "cached_chunk_bytes": len(encoded),
        "json.loads(pexels page)": best(lambda: json.loads(body)),
        "orjson.loads(pexels page)": best(lambda: orjson.loads(body)),
        "Photo.from_api x80": best(lambda: [Photo.from_api(p) for p in parsed["photos"]]),
        "encode_chunk (80 photos)": best(lambda: encode_chunk(chunk)),
        "decode_chunk (80 photos)": best(lambda: decode_chunk(Kind.PHOTO, encoded)),
        "the cached chunk's zlib alone: decompress": best(lambda: inflate(encoded)),
        "the cached chunk's JSON alone: orjson.loads": best(lambda: orjson.loads(plain)),
        "the cached chunk's JSON alone: json.loads (stdlib, for scale)": best(lambda: json.loads(plain)),
        "result_embed": best(lambda: result_embed(slot), 1000),
        "result_view (10 buttons)": best(lambda: result_view(slot, 1234567890), 1000),
        "SearchSpec.key": best(lambda: spec.key, 5000),
    }


def compression(page: bytes, sample: Sample, timer: Timer) -> dict[str, Any]:
    """What the transport's compression would cost per message (the rig itself sends plain TEXT frames).

    Gateway: a page press as INTERACTION_CREATE (the run's own, from 200 users), 200 frames through one
    stream, as Discord sends them (zlib-stream: Z_SYNC_FLUSH per frame; zstd-stream: a block flush per
    frame), decompressed as discord.py does. Pexels: the 80-photo page as a gzip or a Brotli body
    (aiohttp offers `br` because Brotli is installed; whether api.pexels.com picks it is up to its CDN).
    """
    import gzip
    import zlib

    import orjson
    import zstandard

    frames = []
    for seq in range(200):
        d = copy.deepcopy(sample.press)
        user = make_user(seq + 1).to_user()
        if "member" in d:
            d["member"]["user"] = user
        else:
            d["user"] = user
        d["id"] = str(int(d["id"]) + seq)
        frames.append(json.dumps({"op": 0, "s": seq + 1, "t": "INTERACTION_CREATE", "d": d}).encode())
    zc = zlib.compressobj()
    zlib_frames = [zc.compress(f) + zc.flush(zlib.Z_SYNC_FLUSH) for f in frames]
    sc = zstandard.ZstdCompressor().compressobj()
    zstd_frames = [sc.compress(f) + sc.flush(zstandard.COMPRESSOBJ_FLUSH_BLOCK) for f in frames]

    def inflate_all() -> None:
        d = zlib.decompressobj()
        for f in zlib_frames:
            d.decompress(f).decode()

    def zstd_all() -> None:
        d = zstandard.ZstdDecompressor().decompressobj()  # a streaming context, as discord.py keeps one
        for f in zstd_frames:
            d.decompress(f).decode()

    def plain_all() -> None:
        for f in frames:
            f.decode()

    def parse_all() -> None:
        for f in frames:
            orjson.loads(f)

    def per_frame(fn: Callable[[], None]) -> float:
        return round(timer.best(fn, 5) / len(frames), 2)

    brotli: Any = importlib.import_module("brotli")  # no type information published
    gz = gzip.compress(page, compresslevel=6)
    br: bytes = brotli.compress(page, quality=5)
    return {
        "gateway_frame_bytes": round(sum(map(len, frames)) / len(frames)),
        "gateway_zlib_stream_bytes": round(sum(map(len, zlib_frames)) / len(frames)),
        "gateway_zstd_stream_bytes": round(sum(map(len, zstd_frames)) / len(frames)),
        "gateway frame: plain decode": per_frame(plain_all),
        "gateway frame: zlib-stream inflate": per_frame(inflate_all),
        "gateway frame: zstd-stream decompress": per_frame(zstd_all),
        "gateway frame: orjson.loads (parse, for scale)": per_frame(parse_all),
        "pexels page gzip bytes": len(gz),
        "pexels page brotli bytes": len(br),
        "pexels page: gunzip": timer.best(lambda: gzip.decompress(gz), 50),
        "pexels page: brotli decompress": timer.best(lambda: brotli.decompress(br), 50),
    }


async def pipeline(chunk: Chunk, sample: Sample, timer: Timer) -> dict[str, Any]:
    """The bot's own per-interaction steps on a cache hit, timed in real time in this process (µs per call).

    cProfile multiplies the cost of call-heavy code (a view of 8 buttons makes hundreds of small calls),
    so the bot's own share of an interaction is also measured directly: the page a cached search or a
    press builds (cache get + decode memo + embed + view), the fast-path race every answer runs, the
    de-duplication claim and the cooldown hit. The parts are the bot's own, wired as `bot.app` wires them.
    """
    from bot.admission import Admission
    from bot.buttons import ResultButtons
    from bot.config import RateSpec
    from bot.service import SearchService
    from bot.state.memory import MemoryCache, MemoryCooldowns, MemoryDedupe
    from bot.store import ResultStore
    from bot.ui import result_embed, result_view
    from bot.vocab import Kind, SearchSpec

    async def fetch(spec: SearchSpec, number: int) -> Chunk:
        if number != 1:
            raise LookupError("the micro-benchmarks only browse the first 80 results")
        return chunk

    cache = MemoryCache(2000)
    dedupe = MemoryDedupe()
    cooldowns = MemoryCooldowns()
    service = SearchService(ResultStore(cache, fetch, ttl=86_400))
    unlimited = RateSpec(10**6, 1)
    buttons = ResultButtons(service, Admission(dedupe, cooldowns, search=unlimited, button=unlimited))
    spec = SearchSpec(Kind.PHOTO, "sunset sky", locale="en-US")
    await service.result(spec, 0)  # stored once: from here on every page is a cache hit
    owner = 123456789012345678

    async def page(i: int) -> object:
        return await buttons.page(spec, i % 80, owner, private=False)

    async def trivial() -> int:
        return 1

    async def race(i: int) -> int:
        task = asyncio.ensure_future(trivial())
        await asyncio.wait({task}, timeout=1.2)
        return task.result()

    async def claim(i: int) -> bool:
        return await dedupe.claim(10**18 + i + int(time.perf_counter_ns()))

    async def hit(i: int) -> float:
        return await cooldowns.hit("button", owner + i % 500, 10**6, 1)

    slot = await service.result(spec, 3)

    def message() -> discord.Message:
        return discord.Message(state=_state(), channel=_channel(), data=cast("MessagePayload", sample.message))

    best = timer.best
    return {
        "bot: build a page on a cache hit (ResultButtons.page: result + embed + view)": await timer.best_async(page),
        "bot: result_view": best(lambda: result_view(slot, owner), 1000),
        "bot: result_embed": best(lambda: result_embed(slot), 1000),
        "discord.py: Message parse of a result message": best(message, 1000),
        "bot: fast-path race (task + asyncio.wait)": await timer.best_async(race),
        "bot: dedupe claim": await timer.best_async(claim),
        "bot: cooldown hit": await timer.best_async(hit),
    }


_CLIENT: list[discord.Client] = []


def _state() -> Any:
    """A discord.py connection state to parse messages with (the client never logs in: no network)."""
    if not _CLIENT:
        _CLIENT.append(discord.Client(intents=discord.Intents.none()))
    return _CLIENT[0]._connection


def _channel() -> discord.PartialMessageable:
    return discord.PartialMessageable(state=_state(), id=2, type=discord.ChannelType.text)
