"""The Pexels API client: one shared aiohttp session, the quota guard, bounded retries, typed errors."""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

import aiohttp
import orjson

from bot import __version__
from bot.config import Secret
from bot.errors import PexelsAuthError, PexelsBadResponse, PexelsUnavailable, QuotaExhausted
from bot.models import Item, Photo, Video
from bot.state.base import HOUR, Quota, QuotaSnapshot

log = logging.getLogger(__name__)

USER_AGENT = f"pexbot/{__version__} (Discord bot; aiohttp/{aiohttp.__version__})"
MAX_PER_PAGE = 80


@dataclass(frozen=True, slots=True)
class RawPage:
    """One page of a Pexels list as the API served it."""

    items: tuple[Item, ...]
    total: int
    """`total_results` as Pexels reports it (capped, and sometimes more than it will serve)."""
    has_next: bool


def _header_int(headers: Mapping[str, str], name: str) -> int | None:
    raw = headers.get(name)
    try:
        return int(float(raw)) if raw is not None else None
    except ValueError:
        return None


class PexelsClient:
    """Asks Pexels for photos and videos, spending the quota guard's allowance one request at a time."""

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
        self._clock = clock

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
        self,
        path: str,
        key: str,
        parse: Callable[[object], Item],
        params: dict[str, str | None],
        page: int,
        per_page: int,
    ) -> RawPage:
        query = {k: v for k, v in params.items() if v}
        query["page"] = str(page)
        query["per_page"] = str(max(1, min(per_page, MAX_PER_PAGE)))
        body = await self._get(path, query)
        items = body.get(key)
        total = body.get("total_results", 0)
        if not isinstance(items, list) or not isinstance(total, int):
            raise PexelsBadResponse(f"{path}: {key!r} is not a list or total_results is not a number")
        parsed: list[Item] = []
        for item in items:
            try:
                parsed.append(parse(item))
            except PexelsBadResponse as exc:
                log.warning("Skipping a malformed item from Pexels %s: %s", path, exc)
        if items and not parsed:
            raise PexelsBadResponse(f"{path}: no item in the answer could be read")
        return RawPage(tuple(parsed), total if parsed else 0, bool(parsed) and "next_page" in body)

    async def _get(self, path: str, params: dict[str, str]) -> dict[str, Any]:
        """One logical GET: quota first, then up to `retries` more attempts on 5xx and network errors."""
        started = time.monotonic()
        last_error = "no attempt"
        for attempt in range(self._retries + 1):
            decision = await self._quota.acquire()
            if not decision.allowed:
                log.info(
                    "Pexels request refused by the quota guard (%s); retry in %.0fs",
                    decision.reason,
                    decision.retry_after,
                )
                raise QuotaExhausted(self._clock() + decision.retry_after, decision.reason)
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
        try:
            async with self._session.get(
                self._base + path, params=params, headers=headers, timeout=aiohttp.ClientTimeout(total=budget)
            ) as resp:
                status = resp.status
                payload = await resp.read()
                resp_headers = resp.headers
        except (TimeoutError, aiohttp.ClientError) as exc:
            raise _Retryable(f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__) from None

        if status >= 500:
            raise _Retryable(f"HTTP {status}")
        if status in (401, 403):
            log.error("Pexels refused the API key (HTTP %s on %s): check PEXELS_API_KEY", status, path)
            raise PexelsAuthError(f"HTTP {status}")
        if status == 429:
            await self._on_rate_limited()
            snapshot = await self._quota.snapshot()
            retry_at = snapshot.blocked_until or self._clock() + HOUR
            raise QuotaExhausted(retry_at, "pexels-429")
        if status != 200:
            log.error("Pexels answered HTTP %s on %s: %.200r", status, path, payload)
            raise PexelsBadResponse(f"HTTP {status}")

        await self._quota.observe(
            _header_int(resp_headers, "X-Ratelimit-Limit"),
            _header_int(resp_headers, "X-Ratelimit-Remaining"),
            _header_int(resp_headers, "X-Ratelimit-Reset"),
        )
        try:
            body = orjson.loads(payload)
        except orjson.JSONDecodeError:
            log.error("Pexels sent a body that is not JSON on %s: %.200r", path, payload)
            raise PexelsBadResponse("body is not JSON") from None
        if not isinstance(body, dict):
            log.error("Pexels sent JSON that is not an object on %s: %.200r", path, payload)
            raise PexelsBadResponse("body is not an object")
        return body

    async def _on_rate_limited(self) -> None:
        """A 429 carries no headers: stop until the monthly reset if that allowance is spent, else for an hour."""
        snapshot = await self._quota.snapshot()
        now = self._clock()
        monthly_spent = snapshot.remaining is not None and snapshot.remaining <= 1
        until = now + HOUR
        if monthly_spent and snapshot.reset_at and snapshot.reset_at > now:
            until = snapshot.reset_at
        log.warning(
            "Pexels answered 429 Too Many Requests; no new Pexels requests until %s",
            time.strftime("%Y-%m-%d %H:%M:%S UTC", time.gmtime(until)),
        )
        await self._quota.block(until)


class _Retryable(Exception):
    """A failure worth one more try: 5xx, timeout, connection error."""
