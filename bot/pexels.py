"""The Pexels API client: one shared aiohttp session, the quota guard, bounded retries, typed errors.

Pexels' answers are read defensively: the body is read in chunks and abandoned past `max_body` bytes
(decoded: gzip and brotli bodies count by what they expand to), the X-Ratelimit-* headers are used only
when they are plausible numbers, and a 429's Retry-After is honoured.
"""

from __future__ import annotations

import asyncio
import email.utils
import json
import logging
import re
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC
from typing import Any

import aiohttp
import orjson

from bot import __version__
from bot.config import Secret
from bot.errors import (
    PexelsAccessDisallowed,
    PexelsAuthError,
    PexelsBadResponse,
    PexelsEdgeBlocked,
    PexelsError,
    PexelsUnavailable,
    QuotaExhausted,
)
from bot.models import Item, Photo, Video
from bot.state.base import HOUR, Quota, QuotaSnapshot
from bot.state.memory import MAX_RESET_AHEAD

log = logging.getLogger(__name__)

USER_AGENT = f"pexbot/{__version__} (Discord bot; aiohttp/{aiohttp.__version__})"
MAX_PER_PAGE = 80
MAX_BODY = 4 * 1024 * 1024
"""Bytes of decoded body read at most: a real 80-result page is about 0.26 MB."""
_ERROR_BODY = 64 * 1024
"""Bytes read of an error answer: enough to tell Pexels' JSON from its CDN's HTML page."""
_READ_CHUNK = 64 * 1024
_MAX_TOTAL = 1_000_000
_COUNT = re.compile(r"\s*([0-9]{1,15})(?:\.[0-9]{1,9})?\s*")
_SECONDS = re.compile(r"\s*([0-9]{1,10})\s*")
_WARN_EVERY = 600.0
"""Seconds between two warnings about the same implausible header."""

_Parser = Callable[[object, list[str]], Item]


@dataclass(frozen=True, slots=True)
class RawPage:
    """One page of a Pexels list as the API served it."""

    items: tuple[Item, ...]
    total: int
    """`total_results` as Pexels reports it (capped, and sometimes more than it will serve)."""
    has_next: bool
    received: int = 0
    """How many items Pexels sent, counting the malformed ones that were skipped."""


def header_count(headers: Mapping[str, str], name: str) -> int | None:
    """A header that should hold a non-negative count, or None when it is absent or not one (`inf`, `-1`, `1e999`)."""
    raw = headers.get(name)
    match = _COUNT.fullmatch(raw) if raw is not None else None
    return int(match[1]) if match else None


def retry_after(raw: str | None, now: float) -> float | None:
    """Seconds a Retry-After header (seconds, or an HTTP date) asks us to wait; None when absent or implausible."""
    if raw is None:
        return None
    match = _SECONDS.fullmatch(raw)
    if match:
        seconds = float(match[1])
    else:
        try:
            when = email.utils.parsedate_to_datetime(raw.strip())
        except (TypeError, ValueError, IndexError, OverflowError):
            return None
        if when.tzinfo is None:
            when = when.replace(tzinfo=UTC)
        seconds = max(0.0, when.timestamp() - now)
    return seconds if seconds <= MAX_RESET_AHEAD else None


_YIELD_EVERY = 20
"""Items parsed between two returns to the event loop (80 take about 1 ms)."""


def _decode_json(payload: bytes | bytearray) -> object:
    """orjson first; the standard library for what orjson refuses but JSON allows (huge integers, lone surrogates)."""
    try:
        return orjson.loads(payload)
    except orjson.JSONDecodeError:
        pass
    try:
        return json.loads(payload)
    except (ValueError, RecursionError):
        raise PexelsBadResponse("body is not JSON") from None


async def _read_capped(resp: aiohttp.ClientResponse, cap: int) -> bytearray | None:
    """The decoded body, or None when it is longer than `cap` bytes (the connection is then closed)."""
    if resp.content_length is not None and resp.content_length > cap:
        resp.close()
        return None
    body = bytearray()
    async for chunk in resp.content.iter_chunked(_READ_CHUNK):
        body += chunk
        if len(body) > cap:
            resp.close()
            return None
    return body


class PexelsClient:
    """Asks Pexels for photos and videos; one search spends one unit of the quota guard's allowance."""

    def __init__(
        self,
        session: aiohttp.ClientSession,
        *,
        base_url: str,
        api_key: Secret,
        quota: Quota,
        attempt_timeout: float = 5.0,
        deadline: float = 10.0,
        retries: int = 2,
        backoff: float = 0.3,
        max_body: int = MAX_BODY,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self._session = session
        self._base = base_url.rstrip("/")
        self._key = api_key
        self._quota = quota
        self._attempt_timeout = attempt_timeout
        self._deadline = deadline
        self._retries = retries
        self._backoff = backoff
        self._max_body = max_body
        self._clock = clock
        self._warned_at: dict[str, float] = {}

    def __repr__(self) -> str:
        return f"PexelsClient(base_url={self._base!r})"

    async def search_photos(
        self,
        query: str,
        *,
        page: int = 1,
        per_page: int = MAX_PER_PAGE,
        orientation: str | None = None,
        size: str | None = None,
        color: str | None = None,
        locale: str | None = None,
    ) -> RawPage:
        """GET /v1/search."""
        params = {"query": query, "orientation": orientation, "size": size, "color": color, "locale": locale}
        return await self._list("/v1/search", "photos", Photo.from_api, params, page, per_page)

    async def curated(self, *, page: int = 1, per_page: int = MAX_PER_PAGE) -> RawPage:
        """GET /v1/curated."""
        return await self._list("/v1/curated", "photos", Photo.from_api, {}, page, per_page)

    async def search_videos(
        self,
        query: str,
        *,
        page: int = 1,
        per_page: int = MAX_PER_PAGE,
        orientation: str | None = None,
        size: str | None = None,
        locale: str | None = None,
    ) -> RawPage:
        """GET /videos/search."""
        params = {"query": query, "orientation": orientation, "size": size, "locale": locale}
        return await self._list("/videos/search", "videos", Video.from_api, params, page, per_page)

    async def probe(self) -> QuotaSnapshot:
        """Spend one request (one curated photo) and return what the quota guard then knows."""
        await self.curated(per_page=1)
        return await self._quota.snapshot()

    async def _list(
        self, path: str, key: str, parse: _Parser, params: dict[str, str | None], page: int, per_page: int
    ) -> RawPage:
        query = {k: v for k, v in params.items() if v}
        query["page"] = str(page)
        query["per_page"] = str(max(1, min(per_page, MAX_PER_PAGE)))
        body = await self._get(path, query)
        items = body.get(key)
        total = body.get("total_results", 0)
        if not isinstance(items, list) or not isinstance(total, int) or isinstance(total, bool):
            raise PexelsBadResponse(f"{path}: {key!r} is not a list or total_results is not a number")
        parsed: list[Item] = []
        problems: list[str] = []
        skipped: list[str] = []
        for n, item in enumerate(items[:MAX_PER_PAGE], 1):
            try:
                parsed.append(parse(item, problems))
            except PexelsBadResponse as exc:
                skipped.append(str(exc))
            if n % _YIELD_EVERY == 0:
                await asyncio.sleep(0)  # let cheap interactions that arrived meanwhile be answered
        if skipped or problems:
            # One line per answer, however many of its items were wrong.
            log.warning(
                "Pexels answer on %s had %d malformed item(s) of %d, skipped (first: %s); %d link(s) dropped%s",
                path,
                len(skipped),
                len(items),
                skipped[0] if skipped else "none",
                len(problems),
                f" (first: {problems[0]})" if problems else "",
            )
        if items and not parsed:
            raise PexelsBadResponse(f"{path}: no item in the answer could be read")
        total = max(0, min(total, _MAX_TOTAL)) if parsed else 0
        return RawPage(tuple(parsed), total, bool(parsed) and "next_page" in body, min(len(items), MAX_PER_PAGE))

    async def _get(self, path: str, params: dict[str, str]) -> dict[str, Any]:
        """One logical GET: one unit of the quota, then up to `retries` more attempts on 5xx and network errors.

        Retries are not charged to the quota guard again: an outage must not spend the bot's hourly allowance
        three times over and leave users locked out once Pexels is back. A 429 seen meanwhile stops them.
        """
        decision = await self._quota.acquire()
        if not decision.allowed:
            log.info(
                "Pexels request refused by the quota guard (%s); retry in %.0fs", decision.reason, decision.retry_after
            )
            raise QuotaExhausted(self._clock() + decision.retry_after, decision.reason)
        started = time.monotonic()
        last_error = "no attempt"
        for attempt in range(self._retries + 1):
            if attempt:
                blocked = (await self._quota.snapshot()).blocked_until
                if blocked is not None:
                    raise QuotaExhausted(blocked, "blocked")
            remaining_time = self._deadline - (time.monotonic() - started)
            try:
                return await self._attempt(path, params, min(self._attempt_timeout, remaining_time))
            except _Retryable as exc:
                last_error = str(exc)
            delay = self._backoff * (2**attempt)
            if attempt == self._retries or time.monotonic() - started + delay >= self._deadline:
                break
            log.info("Pexels %s failed (%s); retrying in %.1fs", path, last_error, delay)
            await asyncio.sleep(delay)
        log.warning("Pexels %s unavailable after retries: %s", path, last_error)
        raise PexelsUnavailable(last_error)

    async def _attempt(self, path: str, params: dict[str, str], budget: float) -> dict[str, Any]:
        headers = {"Authorization": self._key.get(), "User-Agent": USER_AGENT, "Accept": "application/json"}
        payload: bytearray | None = None
        try:
            async with self._session.get(
                self._base + path, params=params, headers=headers, timeout=aiohttp.ClientTimeout(total=budget)
            ) as resp:
                status = resp.status
                resp_headers = resp.headers
                if status == 200:
                    payload = await _read_capped(resp, self._max_body)
                elif status < 500 and status != 429:
                    payload = await _read_capped(resp, _ERROR_BODY) or bytearray()
        except (TimeoutError, aiohttp.ClientError) as exc:
            raise _Retryable(f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__) from None

        if status >= 500:
            raise _Retryable(f"HTTP {status}")
        if status in (401, 403):
            raise self._refusal(status, path, payload or b"")
        if status == 429:
            raise await self._on_rate_limited(resp_headers)
        if status != 200:
            log.error("Pexels answered HTTP %s on %s: %.200r", status, path, bytes(payload or b""))
            raise PexelsBadResponse(f"HTTP {status}")
        if payload is None:
            log.warning("Pexels sent more than %d bytes on %s; stopped reading it", self._max_body, path)
            raise PexelsBadResponse(f"body larger than {self._max_body} bytes")

        await self._observe(resp_headers)
        try:
            body = _decode_json(payload)
        except PexelsBadResponse:
            log.error("Pexels sent a body that is not JSON on %s: %.200r", path, bytes(payload[:200]))
            raise
        if not isinstance(body, dict):
            log.error("Pexels sent JSON that is not an object on %s: %.200r", path, bytes(payload[:200]))
            raise PexelsBadResponse("body is not an object")
        return body

    def _rate_headers(self, headers: Mapping[str, str]) -> tuple[int | None, int | None, float | None]:
        """X-Ratelimit-Limit, -Remaining and -Reset if each is plausible; each one judged on its own."""
        figures: list[int | None] = []
        for name in ("X-Ratelimit-Limit", "X-Ratelimit-Remaining", "X-Ratelimit-Reset"):
            value = header_count(headers, name)
            if value is None and headers.get(name) is not None:
                self._warn_header(name, headers[name], "not a count")
            figures.append(value)
        limit, remaining, reset = figures
        if reset is not None and reset > self._clock() + MAX_RESET_AHEAD:
            self._warn_header("X-Ratelimit-Reset", str(reset), "further ahead than a monthly period")
            reset = None
        return limit, remaining, None if reset is None else float(reset)

    def _warn_header(self, name: str, raw: str, why: str) -> None:
        now = time.monotonic()
        last = self._warned_at.get(name)
        if last is None or now - last >= _WARN_EVERY:
            self._warned_at[name] = now
            log.warning("Ignoring Pexels' %s header %.40r (%s)", name, raw, why)

    async def _observe(self, headers: Mapping[str, str]) -> None:
        await self._quota.observe(*self._rate_headers(headers))

    def _refusal(self, status: int, path: str, payload: bytes | bytearray) -> PexelsError:
        """A 401 or 403: Pexels' own JSON refuses the key; anything else is its CDN blocking the client."""
        try:
            body = _decode_json(payload)
        except PexelsBadResponse:
            body = None
        if not isinstance(body, dict):
            log.error(
                "Pexels answered HTTP %s on %s with a page that is not JSON: blocked by Pexels' edge "
                "(User-Agent or network), the key may be fine",
                status,
                path,
            )
            return PexelsEdgeBlocked(
                f"HTTP {status} from Pexels' edge: blocked by User-Agent or network, the key may be fine"
            )
        if status == 401:
            log.error("Pexels refused the API key (HTTP 401 on %s): check PEXELS_API_KEY", path)
            return PexelsAuthError("HTTP 401: the key is wrong or revoked")
        log.error(
            "Pexels disallowed access for the API key (HTTP 403 on %s): the key is known but may not use this API; "
            "check PEXELS_API_KEY's access at https://www.pexels.com/api/",
            path,
        )
        return PexelsAccessDisallowed("HTTP 403: access to this API has been disallowed for the key")

    async def _on_rate_limited(self, headers: Mapping[str, str]) -> QuotaExhausted:
        """Block new requests after a 429: as Retry-After (or the answer's own reset) says, else conservatively.

        Without either, stop until the monthly reset if that allowance is spent, else for an hour.
        """
        now = self._clock()
        wait = retry_after(headers.get("Retry-After"), now)
        limit, remaining, reset = self._rate_headers(headers)
        if limit is not None or remaining is not None or reset is not None:
            await self._quota.observe(limit, remaining, reset)
        snapshot = await self._quota.snapshot()
        if wait is not None:
            until, why = now + max(1.0, wait), "as its Retry-After asks"
        elif reset is not None and reset > now and (reset - now <= HOUR or remaining == 0):
            until, why = reset, "as its X-Ratelimit-Reset says"
        elif _month_spent(snapshot, now) and snapshot.reset_at is not None:
            until, why = snapshot.reset_at, "the monthly allowance is spent"
        else:
            until, why = now + HOUR, "no Retry-After: an hour, to be safe"
        log.warning(
            "Pexels answered 429 Too Many Requests; no new Pexels requests until %s (%s)",
            time.strftime("%Y-%m-%d %H:%M:%S UTC", time.gmtime(until)),
            why,
        )
        await self._quota.block(until)
        blocked = (await self._quota.snapshot()).blocked_until
        return QuotaExhausted(blocked if blocked is not None else until, "pexels-429")


def _month_spent(snapshot: QuotaSnapshot, now: float) -> bool:
    """Pexels' monthly figure, as last seen, is spent and its reset is still ahead."""
    spent = snapshot.remaining is not None and snapshot.remaining <= 1
    return spent and snapshot.reset_at is not None and snapshot.reset_at > now


class _Retryable(Exception):
    """A failure worth one more try: 5xx, timeout, connection error."""
