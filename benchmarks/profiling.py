"""Where the bot's CPU goes per interaction: cProfile in the bot process, one segment per kind of interaction.

The bot runs as `python -m benchmarks.bot_probe` with BENCH_PROFILE set (cProfile around the same
`main()`; SIGUSR2 cuts a segment). Each kind (uncached search, cached search, page press) is sent at a
modest rate so the profiled bot is never saturated; wall time in the event loop's poll (idle) is left out.
Then in this process: micro-benchmarks of the hot spots and of the alternatives the report suggests.
"""

from __future__ import annotations

import asyncio
import json
import pstats
import shutil
import signal
import time
import timeit
from collections import defaultdict
from pathlib import Path
from typing import Any

import discord

from benchmarks.load import Load
from benchmarks.rig import RELAXED, ROOT, start_serving, stop_serving, sync_commands, world

IDLE = ("~", 0, "<method 'poll' of 'select.epoll' objects>")
SEND = ("~", 0, "<method 'send' of '_socket.socket' objects>")
WATCH = {
    "Photo.from_api": ("bot/models.py", "from_api"),
    "Chunk.encode": ("bot/search.py", "encode"),
    "Chunk.decode": ("bot/search.py", "decode"),
    "SearchService._decode (memo)": ("bot/search.py", "_decode"),
    "PexelsClient._attempt": ("bot/pexels.py", "_attempt"),
    "ResultsController._page": ("bot/results.py", "_page"),
    "result_view": ("bot/ui.py", "result_view"),
    "result_embed": ("bot/ui.py", "result_embed"),
    "SearchSpec.key": ("bot/search.py", "key"),
    "respond._race": ("bot/respond.py", "_race"),
    "json.loads (stdlib)": ("json/__init__.py", "loads"),
    "json.dumps (stdlib)": ("json/__init__.py", "dumps"),
    "discord Interaction._from_data": ("discord/interactions.py", "_from_data"),
    "discord Message.__init__": ("discord/message.py", "__init__"),
    "discord webhook request (callbacks, edits)": ("discord/webhook/async_.py", "request"),
    "discord gateway received_message": ("discord/gateway.py", "received_message"),
    "discord dispatch (commands.Bot)": ("discord/ext/commands/bot.py", "dispatch"),
    "ViewStore.dispatch_dynamic_items": ("discord/ui/view.py", "dispatch_dynamic_items"),
}
"""Functions whose cumulative time per interaction is reported (coroutines count a call per resume)."""


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


async def _profile_target(target: str, per_kind: int, rate: float, out_dir: Path, bot_root: Path) -> dict[str, Any]:
    module = "bot" if target == "bot" else "benchmarks.floor_bot"
    results: dict[str, Any] = {}
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
            load = Load(w, child, target)
            if target == "bot":
                await load.warm()
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
        finally:
            await stop_serving(w, child)
    return results


async def run(per_kind: int, out_dir: Path, rate: float = 50.0, bot_root: Path = ROOT) -> dict[str, Any]:
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
    for target in PLAN:
        results[target] = await _profile_target(target, per_kind, rate, out_dir, bot_root)
    results["micro"] = await micro()
    return results


async def micro() -> dict[str, Any]:
    """In-process timings of the hot spots and of the suggested alternatives (µs per call, best of 5)."""
    import orjson

    from bot.models import Photo
    from bot.search import KIND_PHOTO, Chunk, SearchSpec, Slot
    from bot.ui import result_embed, result_view
    from tests.fakes.pexels import FakePexels

    fake = FakePexels()
    fake._url = "http://127.0.0.1:9"  # only for the next_page links it writes; nothing listens or connects
    answer = fake._answer(
        "GET", "/v1/search", {"query": "sunset", "per_page": "80", "page": "1", "locale": "en-US"},
        {"User-Agent": "bench", "Authorization": fake.api_key}, time.monotonic(),
    )  # fmt: skip
    body = answer.body
    parsed = json.loads(body)
    items = tuple(Photo.from_api(p) for p in parsed["photos"])
    chunk = Chunk(items, 240, True)
    encoded = chunk.encode()
    spec = SearchSpec(KIND_PHOTO, "sunset sky", locale="en-US")
    slot = Slot(items[3], 3, 240, spec)

    def best(fn: Any, number: int = 200) -> float:
        return round(min(timeit.repeat(fn, number=number, repeat=5)) / number * 1e6, 1)

    def stdlib_encode() -> bytes:
        payload = {"r": chunk.reported, "n": chunk.has_next, "i": [i.to_row() for i in chunk.items]}
        return json.dumps(payload, separators=(",", ":"), ensure_ascii=False).encode()

    def orjson_encode() -> bytes:
        payload = {"r": chunk.reported, "n": chunk.has_next, "i": [i.to_row() for i in chunk.items]}
        return bytes(orjson.dumps(payload))

    def stdlib_decode() -> Chunk:
        payload = json.loads(encoded)
        return Chunk(tuple(Photo.from_row(r) for r in payload["i"]), payload["r"], payload["n"], payload.get("e"))

    def orjson_decode() -> Chunk:
        payload = orjson.loads(encoded)
        return Chunk(tuple(Photo.from_row(r) for r in payload["i"]), payload["r"], payload["n"], payload.get("e"))

    def one_row() -> Photo:
        payload = orjson.loads(encoded)
        return Photo.from_row(payload["i"][3])

    return {
        **await pipeline(chunk),
        **compression(body, slot),
        "pexels_page_bytes": len(body),
        "cached_chunk_bytes": len(encoded),
        "json.loads(pexels page)": best(lambda: json.loads(body)),
        "orjson.loads(pexels page)": best(lambda: orjson.loads(body)),
        "Photo.from_api x80": best(lambda: [Photo.from_api(p) for p in parsed["photos"]]),
        "Chunk.encode (the bot's, as it is)": best(chunk.encode),
        "chunk encode with stdlib json": best(stdlib_encode),
        "chunk encode with orjson": best(orjson_encode),
        "Chunk.decode (the bot's, as it is)": best(lambda: Chunk.decode(KIND_PHOTO, encoded)),
        "chunk decode with stdlib json": best(stdlib_decode),
        "chunk decode with orjson": best(orjson_decode),
        "one row only (orjson)": best(one_row),
        "result_embed": best(lambda: result_embed(slot), 1000),
        "result_view (9 buttons)": best(lambda: result_view(slot, 1234567890), 1000),
        "SearchSpec.key": best(lambda: spec.key, 5000),
    }


def compression(page: bytes, slot: Any) -> dict[str, Any]:
    """What the transport's compression would cost per message (the rig itself sends plain TEXT frames).

    Gateway: a page press as INTERACTION_CREATE, 200 frames through one stream, as Discord sends them
    (zlib-stream: Z_SYNC_FLUSH per frame; zstd-stream: a block flush per frame), decompressed as discord.py
    does. Pexels: the 80-photo page as a gzip or a Brotli body (aiohttp offers `br` because Brotli is
    installed; whether api.pexels.com picks it is up to its CDN).
    """
    import gzip
    import zlib

    import brotli
    import discord
    import orjson
    import zstandard

    from bot.ui import result_view
    from tests.fakes.discord import DEFAULT_GUILD, FakeDiscord, make_user

    fake = FakeDiscord()
    message = _message_payload(slot, result_view(slot, make_user(1).id))
    frames = []
    for seq in range(200):
        _, _, d, _ = fake._envelope(
            3,
            {"custom_id": "px:n:1:1:p.-.-.-.en-US:0123456789ab", "component_type": 2},
            user=make_user(seq + 1),
            guild_id=DEFAULT_GUILD,
            channel_id=None,
            locale="en-US",
            at=None,
            message=message,
        )
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
        ctx = discord.utils._ZstdDecompressionContext()  # what discord.py uses here
        for f in zstd_frames:
            ctx.decompress(f)

    def plain_all() -> None:
        for f in frames:
            f.decode()

    def parse_all() -> None:
        for f in frames:
            orjson.loads(f)

    def per_frame(fn: Any) -> float:
        return round(min(timeit.repeat(fn, number=5, repeat=5)) / 5 / len(frames) * 1e6, 2)

    gz = gzip.compress(page, compresslevel=6)
    br = brotli.compress(page, quality=5)
    return {
        "gateway_frame_bytes": round(sum(map(len, frames)) / len(frames)),
        "gateway_zlib_stream_bytes": round(sum(map(len, zlib_frames)) / len(frames)),
        "gateway_zstd_stream_bytes": round(sum(map(len, zstd_frames)) / len(frames)),
        "gateway frame: plain decode": per_frame(plain_all),
        "gateway frame: zlib-stream inflate": per_frame(inflate_all),
        "gateway frame: zstd-stream (discord.py's context)": per_frame(zstd_all),
        "gateway frame: orjson.loads (parse, for scale)": per_frame(parse_all),
        "pexels page gzip bytes": len(gz),
        "pexels page brotli bytes": len(br),
        "pexels page: gunzip": round(
            min(timeit.repeat(lambda: gzip.decompress(gz), number=50, repeat=5)) / 50 * 1e6, 1
        ),
        "pexels page: brotli decompress": round(
            min(timeit.repeat(lambda: brotli.decompress(br), number=50, repeat=5)) / 50 * 1e6, 1
        ),
    }


async def pipeline(chunk: Any) -> dict[str, Any]:
    """The bot's own per-interaction steps on a cache hit, timed in real time in this process (µs per call).

    cProfile multiplies the cost of call-heavy code (a view of 8 buttons makes hundreds of small calls),
    so the bot's own share of an interaction is also measured directly: the page a cached search or a
    press builds (cache get + decode memo + embed + view), the fast-path race every answer runs, the
    de-duplication claim and the cooldown hit.
    """
    from bot.config import RateSpec
    from bot.results import ResultsController
    from bot.search import KIND_PHOTO, SearchService, SearchSpec
    from bot.state.memory import MemoryCache, MemoryCooldowns, MemoryDedupe

    cache = MemoryCache(2000)
    service = SearchService(None, cache, ttl=86_400)  # type: ignore[arg-type]  # a hit never reaches Pexels
    dedupe = MemoryDedupe()
    cooldowns = MemoryCooldowns()
    controller = ResultsController(
        service, cooldowns, dedupe, search_cooldown=RateSpec(10**6, 1), button_cooldown=RateSpec(10**6, 1)
    )
    spec = SearchSpec(KIND_PHOTO, "sunset sky", locale="en-US")
    await cache.set(f"search:{spec.key}:1", chunk.encode(), 86_400)
    owner = 123456789012345678
    n = 2000

    async def timed(make: Any) -> float:
        best = float("inf")
        for _ in range(5):
            started = time.perf_counter()
            for i in range(n):
                await make(i)
            best = min(best, (time.perf_counter() - started) / n)
        return round(best * 1e6, 1)

    async def page(i: int) -> Any:
        return await controller._page(spec, i % 80, owner, private=False)

    async def trivial() -> int:
        return 1

    async def race(i: int) -> Any:
        task = asyncio.ensure_future(trivial())
        await asyncio.wait({task}, timeout=1.2)
        return task.result()

    async def claim(i: int) -> bool:
        return await dedupe.claim(10**18 + i + int(time.perf_counter_ns()))

    async def hit(i: int) -> float:
        return await cooldowns.hit("button", owner + i % 500, 10**6, 1)

    from bot.ui import result_embed, result_view

    slot = await service.result(spec, 3)
    viewed = result_view(slot, owner)
    message = discord.Message(state=_state(), channel=discord.Object(2), data=_message_payload(slot, viewed))

    def best(fn: Any, number: int = 1000) -> float:
        return round(min(timeit.repeat(fn, number=number, repeat=5)) / number * 1e6, 1)

    suggested_same = suggested_result_view(slot, owner).to_components() == viewed.to_components()
    return {
        "bot: build a page on a cache hit (search.result + embed + view)": await timed(page),
        "bot: result_view": best(lambda: result_view(slot, owner)),
        f"bot: result_view, plain Buttons + pre-parsed emoji (suggested; same components: {suggested_same})": best(
            lambda: suggested_result_view(slot, owner)
        ),
        "bot: result_embed": best(lambda: result_embed(slot)),
        "discord.py: View.from_message (each DynamicItem press rebuilds the view)": best(
            lambda: discord.ui.View.from_message(message, timeout=None)
        ),
        "discord.py: Message parse of a result message": best(
            lambda: discord.Message(state=_state(), channel=discord.Object(2), data=_message_payload(slot, viewed))
        ),
        "bot: fast-path race (task + asyncio.wait)": await timed(race),
        "bot: dedupe claim": await timed(claim),
        "bot: cooldown hit": await timed(hit),
    }


_STATE: list[Any] = []


def _state() -> Any:
    """A discord.py connection state to parse messages with (no network: the client never logs in)."""
    if not _STATE:
        _STATE.append(discord.Client(intents=discord.Intents.none())._connection)
    return _STATE[0]


def _message_payload(slot: Any, view: Any) -> dict[str, Any]:
    """A result message as Discord sends it with a press (component ids numbered as Discord does)."""
    from bot.ui import result_embed
    from tests.fakes.discord import FakeDiscord, _number_components

    return {
        "id": "1",
        "channel_id": "2",
        "type": 20,
        "content": "",
        "author": FakeDiscord().bot_user,
        "embeds": [result_embed(slot).to_dict()],
        "components": _number_components(view.to_components()),
        "attachments": [],
        "flags": 0,
        "timestamp": "2026-01-01T00:00:00+00:00",
        "edited_timestamp": None,
        "mentions": [],
        "mention_roles": [],
        "mention_everyone": False,
        "pinned": False,
        "tts": False,
    }


def suggested_result_view(slot: Any, owner: int, *, private: bool = False) -> discord.ui.View:
    """bot.ui.result_view as the report suggests: plain Buttons with the same custom_ids (PageButton stays the
    registered DynamicItem that routes presses; a stopped view's items are never dispatched) and emoji parsed
    once. Kept here only to measure the suggestion; the wire output is checked equal."""
    from bot.ui import DELETE, FIRST, LAST, NEXT, POST, PREVIOUS, RANDOM, ButtonState, link_button

    if not _EMOJI:  # the module-level constants the diff would add to bot/ui.py
        _EMOJI.update({e: discord.PartialEmoji(name=e) for e in (FIRST, PREVIOUS, NEXT, LAST, RANDOM, DELETE, POST)})
    emoji = _EMOJI
    code, key, last = slot.spec.code(), slot.spec.key, slot.total - 1

    def button(action: str, index: int, **kwargs: Any) -> discord.ui.Button[Any]:
        return discord.ui.Button(custom_id=ButtonState(action, owner, index, code, key).encode(), **kwargs)

    at_start, at_end = slot.index <= 0, slot.index >= last
    view = discord.ui.View(timeout=None)
    view.add_item(button("f", 0, emoji=emoji[FIRST], disabled=at_start))
    view.add_item(button("p", max(slot.index - 1, 0), emoji=emoji[PREVIOUS], disabled=at_start))
    view.add_item(button("j", slot.index, label=f"{slot.index + 1} / {slot.total}", disabled=last <= 0))
    view.add_item(button("n", min(slot.index + 1, last), emoji=emoji[NEXT], disabled=at_end))
    view.add_item(button("l", last, emoji=emoji[LAST], disabled=at_end))
    view.add_item(button("r", slot.index, emoji=emoji[RANDOM], disabled=last <= 0, row=1))
    view.add_item(button("d", slot.index, emoji=emoji[DELETE], row=1))
    if private:
        view.add_item(
            button("s", slot.index, emoji=emoji[POST], label="Post", row=1, style=discord.ButtonStyle.primary)
        )
    view.add_item(link_button(slot.item, row=1))
    view.stop()
    return view


_EMOJI: dict[str, discord.PartialEmoji] = {}
