"""Configuration: read once at start from the environment, then `.env`, into one typed object."""

from __future__ import annotations

import base64
import hashlib
import os
import re
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

from dotenv import dotenv_values

from bot.db.base import InvalidDatabaseURL
from bot.db.url import DEFAULT_DATABASE_URL, parse_database_url

LOG_LEVELS = ("DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL")


class ConfigError(Exception):
    """A missing or malformed variable; the message names it and says what is expected."""

    def __init__(self, variable: str, expected: str) -> None:
        super().__init__(f"{variable}: {expected}")
        self.variable = variable


class Secret:
    """A string that never shows itself in a repr, a log line or a traceback."""

    __slots__ = ("_value",)

    def __init__(self, value: str) -> None:
        self._value = value

    def get(self) -> str:
        """Return the secret itself, for the one place that sends it."""
        return self._value

    def fingerprint(self) -> str:
        """A short, non-reversible id: safe in key names and logs."""
        return hashlib.sha256(self._value.encode()).hexdigest()[:12]

    def __repr__(self) -> str:
        return "Secret('********')"

    __str__ = __repr__

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Secret) and other._value == self._value

    def __hash__(self) -> int:
        return hash(self._value)


@dataclass(frozen=True, slots=True)
class RateSpec:
    """N uses per window of SECONDS, written "N/SECONDS"."""

    rate: int
    per: float

    @classmethod
    def parse(cls, variable: str, text: str) -> RateSpec:
        """Parse "5/60"; raise ConfigError naming `variable` otherwise."""
        match = re.fullmatch(r"\s*(\d+)\s*/\s*(\d+(?:\.\d+)?)\s*", text)
        if not match or int(match[1]) < 1 or float(match[2]) <= 0:
            raise ConfigError(variable, f'expected "N/SECONDS" with N >= 1 and SECONDS > 0, like "5/60" (got {text!r})')
        return cls(int(match[1]), float(match[2]))

    def __str__(self) -> str:
        return f"{self.rate}/{self.per:g}"


@dataclass(frozen=True, slots=True)
class Settings:
    """Every setting the bot reads; built by `load_settings`, passed down, never a global."""

    discord_token: Secret
    pexels_api_key: Secret
    discord_api_url: str = "https://discord.com/api/v10"
    discord_gateway_url: str = "wss://gateway.discord.gg"
    pexels_api_url: str = "https://api.pexels.com"
    search_cooldown: RateSpec = RateSpec(5, 60)
    button_cooldown: RateSpec = RateSpec(20, 10)
    pexels_hourly_limit: int = 200
    pexels_monthly_limit: int = 20_000
    pexels_quota_reserve: int = 20
    cache_ttl: int = 86_400
    cache_max_entries: int = 2_000
    log_level: str = "INFO"
    redis_url: Secret | None = None
    redis_ssl_cert_reqs: str | None = None
    shard_count: int = 1
    shard_ids: tuple[int, ...] | None = None
    database_url: Secret = Secret(DEFAULT_DATABASE_URL)  # noqa: RUF009 - immutable, like the other defaults
    """Where settings, saved items and daily schedules live: a SQLite file or a PostgreSQL server."""

    @property
    def application_id(self) -> int:
        """The application (bot user) id, read from the token's first segment."""
        return application_id_from_token(self.discord_token.get())


def application_id_from_token(token: str) -> int:
    """Decode the bot's user id from the first dot-separated part of its token."""
    head = token.split(".", 1)[0]
    try:
        decoded = base64.b64decode(head + "=" * (-len(head) % 4), altchars=b"-_", validate=True).decode()
    except ValueError:  # binascii.Error, UnicodeDecodeError, non-ASCII input
        decoded = ""
    if not (decoded.isascii() and decoded.isdigit()):
        raise ConfigError(
            "DISCORD_TOKEN", "does not look like a bot token (copy it from the Bot page of your application)"
        )
    return int(decoded)


def _int(env: Mapping[str, str], name: str, default: int, *, minimum: int = 0) -> int:
    raw = env.get(name, "").strip()
    if not raw:
        return default
    try:
        value = int(raw)
    except ValueError:
        raise ConfigError(name, f"expected a whole number >= {minimum} (got {raw!r})") from None
    if value < minimum:
        raise ConfigError(name, f"expected a whole number >= {minimum} (got {raw!r})")
    return value


def _url(env: Mapping[str, str], name: str, default: str, schemes: tuple[str, ...]) -> str:
    raw = env.get(name, "").strip() or default
    parts = urlsplit(raw)
    if parts.scheme not in schemes or not parts.netloc:
        raise ConfigError(name, f"expected a {' or '.join(s + '://' for s in schemes)} URL (got {raw!r})")
    return raw.rstrip("/")


def _required_secret(env: Mapping[str, str], name: str, what: str) -> Secret:
    raw = env.get(name, "").strip()
    if not raw:
        raise ConfigError(name, f"is not set; {what}")
    if any(c.isspace() for c in raw):
        raise ConfigError(name, "contains whitespace; paste the value alone")
    return Secret(raw)


def _shards(env: Mapping[str, str]) -> tuple[int, tuple[int, ...] | None]:
    count = _int(env, "SHARD_COUNT", 1, minimum=1)
    ids_raw = env.get("SHARD_IDS", "").strip()
    dyno = env.get("DYNO", "").strip()
    ids: tuple[int, ...] | None = None
    if ids_raw:
        try:
            ids = tuple(int(part) for part in ids_raw.split(","))
        except ValueError:
            raise ConfigError(
                "SHARD_IDS", f'expected comma-separated shard numbers like "0,1" (got {ids_raw!r})'
            ) from None
    elif count > 1 and dyno:
        match = re.fullmatch(r"worker\.(\d+)", dyno)
        if not match:
            raise ConfigError("DYNO", f'expected a worker dyno name like "worker.1" to derive the shard (got {dyno!r})')
        ids = (int(match[1]) - 1,)
    if ids is not None:
        bad = [i for i in ids if not 0 <= i < count]
        if bad or len(set(ids)) != len(ids):
            raise ConfigError(
                "SHARD_IDS", f"expected distinct shard numbers from 0 to {count - 1} (got {ids_raw or dyno!r})"
            )
    elif count > 1:
        raise ConfigError("SHARD_IDS", "is not set; with SHARD_COUNT > 1 each process needs SHARD_IDS or a DYNO name")
    return count, ids


def _database_url(env: Mapping[str, str]) -> Secret:
    raw = env.get("DATABASE_URL", "").strip() or DEFAULT_DATABASE_URL
    try:
        parse_database_url(raw)
    except InvalidDatabaseURL as exc:  # its message never contains the password
        detail = re.sub(r"^DATABASE_URL:? ", "", str(exc))
        raise ConfigError("DATABASE_URL", detail) from None
    return Secret(raw)


def load_settings(environ: Mapping[str, str] | None = None, *, env_file: str | Path | None = ".env") -> Settings:
    """Read the environment (first) and `.env` (second) into Settings; raise ConfigError on bad input."""
    env: dict[str, str] = {}
    if env_file is not None and Path(env_file).is_file():
        env.update({k: v for k, v in dotenv_values(env_file).items() if v is not None})
    env.update(os.environ if environ is None else environ)

    log_level = env.get("LOG_LEVEL", "").strip().upper() or "INFO"
    if log_level not in LOG_LEVELS:
        raise ConfigError("LOG_LEVEL", f"expected one of {', '.join(LOG_LEVELS)} (got {log_level!r})")

    redis_raw = env.get("REDIS_URL", "").strip()
    redis_url: Secret | None = None
    if redis_raw:
        if urlsplit(redis_raw).scheme not in ("redis", "rediss", "unix"):
            raise ConfigError("REDIS_URL", "expected a redis://, rediss:// or unix:// URL")
        redis_url = Secret(redis_raw)
    cert_reqs = env.get("REDIS_SSL_CERT_REQS", "").strip().lower() or None
    if cert_reqs not in (None, "none", "optional", "required"):
        raise ConfigError("REDIS_SSL_CERT_REQS", f"expected none, optional or required (got {cert_reqs!r})")

    if redis_url is None and _int(env, "SHARD_COUNT", 1, minimum=1) > 1:
        raise ConfigError(
            "REDIS_URL",
            "is required when SHARD_COUNT > 1: processes must share one Pexels quota, cache and cooldowns",
        )
    shard_count, shard_ids = _shards(env)
    database_url = _database_url(env)

    return Settings(
        discord_token=_required_secret(env, "DISCORD_TOKEN", "set it to your bot's token (Developer Portal → Bot)"),
        pexels_api_key=_required_secret(env, "PEXELS_API_KEY", "get a free key at https://www.pexels.com/api/"),
        discord_api_url=_url(env, "DISCORD_API_URL", "https://discord.com/api/v10", ("http", "https")),
        discord_gateway_url=_url(env, "DISCORD_GATEWAY_URL", "wss://gateway.discord.gg", ("ws", "wss")),
        pexels_api_url=_url(env, "PEXELS_API_URL", "https://api.pexels.com", ("http", "https")),
        search_cooldown=RateSpec.parse("SEARCH_COOLDOWN", env.get("SEARCH_COOLDOWN", "").strip() or "5/60"),
        button_cooldown=RateSpec.parse("BUTTON_COOLDOWN", env.get("BUTTON_COOLDOWN", "").strip() or "20/10"),
        pexels_hourly_limit=_int(env, "PEXELS_HOURLY_LIMIT", 200, minimum=1),
        pexels_monthly_limit=_int(env, "PEXELS_MONTHLY_LIMIT", 20_000, minimum=1),
        pexels_quota_reserve=_int(env, "PEXELS_QUOTA_RESERVE", 20, minimum=0),
        cache_ttl=_int(env, "CACHE_TTL", 86_400, minimum=1),
        cache_max_entries=_int(env, "CACHE_MAX_ENTRIES", 2_000, minimum=1),
        log_level=log_level,
        redis_url=redis_url,
        redis_ssl_cert_reqs=cert_reqs,
        shard_count=shard_count,
        shard_ids=shard_ids,
        database_url=database_url,
    )
