"""Configuration: every variable declared once in `VARIABLES`, read at start from the environment, then `.env`."""

from __future__ import annotations

import base64
import hashlib
import os
import re
from collections.abc import Callable, Collection, Mapping
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

from dotenv import dotenv_values

LOG_LEVELS = ("DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL")
LOG_FORMATS = ("text", "json")
NEEDED_TO_RUN = ("DISCORD_TOKEN", "PEXELS_API_KEY")


class ConfigError(Exception):
    """One or more missing or malformed variables; each line names one and says what is expected."""

    def __init__(self, variable: str, expected: str) -> None:
        self.problems: tuple[tuple[str, str], ...] = ((variable, expected),)
        super().__init__(f"{variable}: {expected}")

    @classmethod
    def several(cls, errors: Collection[ConfigError]) -> ConfigError:
        """One error carrying every problem found, in the order found."""
        problems = tuple(problem for error in errors for problem in error.problems)
        combined = cls(*problems[0])
        combined.problems = problems
        combined.args = ("\n".join(f"{v}: {e}" for v, e in problems),)
        return combined

    @property
    def variable(self) -> str:
        """The first variable at fault."""
        return self.problems[0][0]

    def lines(self) -> list[str]:
        """One line per problem, like `CACHE_TTL: expected a whole number >= 1 (got 'x')`."""
        return [f"{variable}: {expected}" for variable, expected in self.problems]


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
    """Every setting the bot reads; built by `load_settings` from `VARIABLES`, passed down, never a global."""

    discord_token: Secret
    pexels_api_key: Secret
    """Empty for commands that never call Pexels (`sync`, `invite`)."""
    discord_api_url: str
    discord_gateway_url: str
    pexels_api_url: str
    search_cooldown: RateSpec
    button_cooldown: RateSpec
    pexels_hourly_limit: int
    pexels_monthly_limit: int
    pexels_quota_reserve: int
    cache_ttl: int
    cache_max_entries: int
    log_level: str
    log_format: str
    metrics_port: int | None
    metrics_host: str
    database_url: Secret
    redis_url: Secret | None
    redis_ssl_cert_reqs: str | None
    shard_count: int
    shard_ids: tuple[int, ...] | None

    @property
    def application_id(self) -> int:
        """The application (bot user) id, read from the token's first segment."""
        return application_id_from_token(self.discord_token.get())

    def secrets(self) -> list[str]:
        """Every secret value and password in the settings, for log redaction."""
        values = [self.discord_token.get(), self.pexels_api_key.get(), self.database_url.get()]
        if self.redis_url is not None:
            values.append(self.redis_url.get())
        passwords = [_password(url) for url in values[2:]]
        return [value for value in values + passwords if value]


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


def _password(url: str) -> str:
    try:
        return urlsplit(url).password or ""
    except ValueError:
        return ""


# ------------------------------------------------------------------------------------------------ parsers
# Each takes the variable's name and its trimmed, non-empty text; it returns the value or raises ConfigError.

Parser = Callable[[str, str], object]


def _secret(name: str, raw: str) -> Secret:
    if any(c.isspace() for c in raw):
        raise ConfigError(name, "contains whitespace; paste the value alone")
    return Secret(raw)


def _whole(minimum: int, maximum: int | None = None) -> Parser:
    expected = f"a whole number from {minimum} to {maximum}" if maximum else f"a whole number >= {minimum}"

    def parse(name: str, raw: str) -> int:
        try:
            value = int(raw)
        except ValueError:
            value = minimum - 1
        if value < minimum or (maximum is not None and value > maximum):
            raise ConfigError(name, f"expected {expected} (got {raw!r})")
        return value

    return parse


def _url(*schemes: str) -> Parser:
    def parse(name: str, raw: str) -> str:
        parts = urlsplit(raw)
        if parts.scheme not in schemes or not parts.netloc:
            raise ConfigError(name, f"expected a {' or '.join(s + '://' for s in schemes)} URL (got {raw!r})")
        return raw.rstrip("/")

    return parse


def _choice(options: tuple[str, ...], *, upper: bool = False) -> Parser:
    def parse(name: str, raw: str) -> str:
        value = raw.upper() if upper else raw.lower()
        if value not in options:
            raise ConfigError(name, f"expected one of {', '.join(options)} (got {value!r})")
        return value

    return parse


def _rate(name: str, raw: str) -> RateSpec:
    return RateSpec.parse(name, raw)


def _redis_url(name: str, raw: str) -> Secret:
    if urlsplit(raw).scheme not in ("redis", "rediss", "unix"):
        raise ConfigError(name, "expected a redis://, rediss:// or unix:// URL")
    return Secret(raw)


def _database_url(name: str, raw: str) -> Secret:
    from bot.db import InvalidDatabaseURL, parse_database_url  # imported here: only the commands that need it pay

    try:
        parse_database_url(raw)
    except InvalidDatabaseURL as exc:  # its message never contains the password
        raise ConfigError(name, re.sub(r"^DATABASE_URL:? ", "", str(exc))) from None
    try:
        urlsplit(raw).port  # noqa: B018  (raises ValueError on a port that is not a number)
    except ValueError:
        raise ConfigError(name, "its port is not a number (the URL is not shown)") from None
    return Secret(raw)


def _shard_ids(name: str, raw: str) -> tuple[int, ...]:
    try:
        return tuple(int(part) for part in raw.split(","))
    except ValueError:
        raise ConfigError(name, f'expected comma-separated shard numbers like "0,1" (got {raw!r})') from None


def _host(name: str, raw: str) -> str:
    if any(c.isspace() for c in raw):
        raise ConfigError(name, f"expected an address to listen on, like 0.0.0.0 or 127.0.0.1 (got {raw!r})")
    return raw


def _text(name: str, raw: str) -> str:
    return raw


# ------------------------------------------------------------------------------------------------ the table


@dataclass(frozen=True, slots=True)
class Variable:
    """One environment variable: name, default (as written in `.env`), parser and its one-line meaning."""

    name: str
    default: str | None
    parse: Parser
    doc: str
    required: bool = False
    setting: bool = True
    """False for an input that only feeds another setting (DYNO)."""
    shown: str | None = None
    """How the README shows the default when there is none to write (`set by the platform`)."""
    hint: str = ""
    """For a required variable: where to get its value."""

    @property
    def default_text(self) -> str:
        """The default as the README's table and `.env.example` show it."""
        if self.required:
            return "required"
        if self.shown is not None:
            return self.shown
        return "unset" if self.default is None else self.default


VARIABLES: tuple[Variable, ...] = (
    Variable(
        "DISCORD_TOKEN",
        None,
        _secret,
        "the bot token",
        required=True,
        hint="set it to your bot's token (Developer Portal → Bot)",
    ),
    Variable(
        "PEXELS_API_KEY",
        None,
        _secret,
        "your Pexels key, sent as `Authorization: <key>`",
        required=True,
        hint="get a free key at https://www.pexels.com/api/",
    ),
    Variable(
        "DISCORD_API_URL",
        "https://discord.com/api/v10",
        _url("http", "https"),
        "Discord REST base, for a REST proxy or a test rig",
    ),
    Variable(
        "DISCORD_GATEWAY_URL",
        "wss://gateway.discord.gg",
        _url("ws", "wss"),
        "Discord gateway base, for a gateway proxy or a test rig (see *Behind a gateway proxy*)",
    ),
    Variable(
        "PEXELS_API_URL",
        "https://api.pexels.com",
        _url("http", "https"),
        "Pexels base (photos under `/v1`, videos under `/videos`)",
    ),
    Variable(
        "SEARCH_COOLDOWN",
        "5/60",
        _rate,
        "searches one user may run per window, `N/SECONDS` (`/photo`, `/video`, `/curated`, *Find photos*)",
    ),
    Variable("BUTTON_COOLDOWN", "20/10", _rate, "button presses one user may make per window"),
    Variable("PEXELS_HOURLY_LIMIT", "200", _whole(1), "Pexels requests the bot allows itself in any rolling hour"),
    Variable(
        "PEXELS_MONTHLY_LIMIT",
        "20000",
        _whole(1),
        "the monthly allowance assumed until Pexels' `X-Ratelimit-Limit` says otherwise",
    ),
    Variable(
        "PEXELS_QUOTA_RESERVE",
        "20",
        _whole(0),
        "refuse new uncached searches when `X-Ratelimit-Remaining` is at or below this",
    ),
    Variable(
        "CACHE_TTL",
        "86400",
        _whole(1),
        "seconds a search result stays cached (Pexels suggests 24 h; curated: at most 1 h)",
    ),
    Variable(
        "CACHE_MAX_ENTRIES",
        "2000",
        _whole(1),
        "result pages (of up to 80 results) the in-memory cache holds; it also holds at most 128 MiB, and no page "
        "over 1 MiB",
    ),
    Variable("LOG_LEVEL", "INFO", _choice(LOG_LEVELS, upper=True), "`DEBUG`, `INFO`, `WARNING`, `ERROR` or `CRITICAL`"),
    Variable(
        "LOG_FORMAT",
        "text",
        _choice(LOG_FORMATS),
        "`text` (one line per record; colours only on a terminal) or `json` (one JSON object per line)",
    ),
    Variable(
        "METRICS_PORT",
        None,
        _whole(1, 65535),
        "serve Prometheus metrics on `/metrics` and a health check on `/healthz` at this port (see *Metrics*)",
    ),
    Variable(
        "METRICS_HOST",
        "0.0.0.0",  # noqa: S104  (a metrics port is meant to be scraped from outside the container)
        _host,
        "the address the metrics server listens on (`127.0.0.1`: this machine only)",
    ),
    Variable(
        "DATABASE_URL",
        "sqlite:///pexbot.sqlite3",
        _database_url,
        "where server settings, saved items and daily schedules live: a SQLite file (`sqlite:///relative.db`, "
        "`sqlite:////absolute.db`, created on first start) or PostgreSQL (`postgresql://user:password@host:5432/name`; "
        "Heroku's `postgres://` works too)",
    ),
    Variable(
        "REDIS_URL",
        None,
        _redis_url,
        "share cache, cooldowns and quota between processes (see *Scaling out*)",
    ),
    Variable(
        "REDIS_SSL_CERT_REQS",
        None,
        _choice(("none", "optional", "required")),
        "`none`, `optional` or `required`, for `rediss://` providers with self-signed certificates",
    ),
    Variable("SHARD_COUNT", "1", _whole(1), "shards in all (one per process when scaling out)"),
    Variable("SHARD_IDS", None, _shard_ids, "the shards this process runs, comma-separated (`0,1`)"),
    Variable(
        "DYNO",
        None,
        _text,
        "with `SHARD_COUNT` > 1 and no `SHARD_IDS`, `worker.N` runs shard N-1",
        setting=False,
        shown="set by the platform",
    ),
)


# ------------------------------------------------------------------------------------------------ loading


def _read_environment(environ: Mapping[str, str] | None, env_file: str | Path | None) -> dict[str, str]:
    env: dict[str, str] = {}
    if env_file is not None and Path(env_file).is_file():
        env.update({k: v for k, v in dotenv_values(env_file).items() if v is not None})
    env.update(os.environ if environ is None else environ)
    return env


def _shards(count: int, given: object, env: Mapping[str, str]) -> tuple[int, tuple[int, ...] | None]:
    """Which shards this process runs: SHARD_IDS, else its DYNO name; raise ConfigError on a contradiction."""
    ids = given if isinstance(given, tuple) else None
    dyno = env.get("DYNO", "").strip()
    if ids is None and count > 1 and dyno:
        match = re.fullmatch(r"worker\.(\d+)", dyno)
        if not match:
            raise ConfigError("DYNO", f'expected a worker dyno name like "worker.1" to derive the shard (got {dyno!r})')
        ids = (int(match[1]) - 1,)
    if ids is not None:
        if any(not 0 <= i < count for i in ids) or len(set(ids)) != len(ids):
            shown = env.get("SHARD_IDS", "").strip() or dyno
            raise ConfigError("SHARD_IDS", f"expected distinct shard numbers from 0 to {count - 1} (got {shown!r})")
    elif count > 1:
        raise ConfigError("SHARD_IDS", "is not set; with SHARD_COUNT > 1 each process needs SHARD_IDS or a DYNO name")
    return count, ids


def _shard_rules(values: dict[str, object], env: Mapping[str, str], at_fault: set[str]) -> list[ConfigError]:
    """The rules between variables: sharding needs Redis, and each process its shards."""
    count = values.get("shard_count")
    if not isinstance(count, int):
        return []  # SHARD_COUNT itself is at fault
    errors = []
    if count > 1 and values["redis_url"] is None and "REDIS_URL" not in at_fault:
        errors.append(
            ConfigError(
                "REDIS_URL",
                "is required when SHARD_COUNT > 1: processes must share one Pexels quota, cache and cooldowns",
            )
        )
    if "SHARD_IDS" not in at_fault:
        try:
            values["shard_count"], values["shard_ids"] = _shards(count, values["shard_ids"], env)
        except ConfigError as exc:
            errors.append(exc)
    return errors


def load_settings(
    environ: Mapping[str, str] | None = None,
    *,
    env_file: str | Path | None = ".env",
    required: Collection[str] = NEEDED_TO_RUN,
) -> Settings:
    """Read the environment (first) and `.env` (second) into Settings.

    Raises one ConfigError listing every problem found. `required` names the secrets this command needs
    (`sync` and `invite` need no Pexels key); an unneeded one that is unset is left empty.
    """
    env = _read_environment(environ, env_file)
    values: dict[str, object] = {}
    errors: list[ConfigError] = []
    for variable in VARIABLES:
        raw = env.get(variable.name, "").strip()
        if not raw and variable.required:
            if variable.name in required:
                errors.append(ConfigError(variable.name, f"is not set; {variable.hint}"))
            values[variable.name.lower()] = Secret("")
            continue
        text = raw or variable.default
        try:
            value = None if text is None else variable.parse(variable.name, text)
        except ConfigError as exc:
            errors.append(exc)
            value = None
        if variable.setting:
            values[variable.name.lower()] = value
    errors += _shard_rules(values, env, at_fault={v for error in errors for v, _ in error.problems})
    if errors:
        raise ConfigError.several(errors)
    return Settings(**values)  # type: ignore[arg-type]  # each parser returns its field's type
