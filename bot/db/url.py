"""DATABASE_URL: which backend, where, and how to show it without its password."""

from __future__ import annotations

import re
from dataclasses import dataclass
from urllib.parse import parse_qsl, unquote, urlsplit

from bot.db.base import InvalidDatabaseURL

DEFAULT_DATABASE_URL = "sqlite:///pexbot.sqlite3"
"""A file in the working folder, created on first start."""

_SECRET_PARAMS = ("password", "sslpassword")


@dataclass(frozen=True, slots=True)
class DatabaseTarget:
    """A parsed DATABASE_URL."""

    backend: str
    """"sqlite" or "postgresql"."""
    location: str
    """SQLite: the file path (or ":memory:"); PostgreSQL: the DSN for asyncpg (`postgresql://` scheme)."""
    redacted: str
    """The URL with its user name and password replaced by ***: safe in logs and errors."""
    secrets: tuple[str, ...] = ()
    """The passwords the URL carries, raw and percent-decoded, longest first."""

    def redact(self, text: str) -> str:
        """Hide the URL's credentials in a message (a driver error may quote them)."""
        for secret in self.secrets:
            text = text.replace(secret, "***")
        return text

    def __repr__(self) -> str:
        return f"DatabaseTarget({self.backend!r}, {self.redacted!r})"


def parse_database_url(url: str) -> DatabaseTarget:
    """Parse `sqlite:///relative.db`, `sqlite:////absolute.db`, `postgresql://…` or Heroku's `postgres://…`."""
    url = url.strip()
    scheme, sep, _rest = url.partition("://")
    scheme = scheme.lower()
    if not sep:
        raise InvalidDatabaseURL(
            "DATABASE_URL must look like sqlite:///pexbot.sqlite3 or postgresql://user:password@host:5432/name"
        )
    if scheme == "sqlite":
        return _sqlite(url)
    if scheme in ("postgres", "postgresql"):
        return _postgres(url)
    raise InvalidDatabaseURL(f"DATABASE_URL: unsupported scheme {scheme!r} (use sqlite:// or postgresql://)")


def _sqlite(url: str) -> DatabaseTarget:
    parts = urlsplit(url)
    if parts.netloc:
        raise InvalidDatabaseURL(
            "DATABASE_URL: a SQLite URL has no host: sqlite:///relative/file.db or sqlite:////absolute/file.db"
        )
    if parts.query or parts.fragment:
        raise InvalidDatabaseURL("DATABASE_URL: a SQLite URL takes no options (?…)")
    path = unquote(parts.path[1:] if parts.path.startswith("/") else parts.path)
    if not path or path.endswith("/"):
        raise InvalidDatabaseURL("DATABASE_URL: the SQLite URL names no file (sqlite:///pexbot.sqlite3)")
    return DatabaseTarget("sqlite", path, url)


def _postgres(url: str) -> DatabaseTarget:
    scheme, _, rest = url.partition("://")
    dsn = "postgresql://" + rest
    secrets: list[str] = []
    netloc_end = len(rest)
    for stop in "/?#":
        index = rest.find(stop)
        if index != -1:
            netloc_end = min(netloc_end, index)
    netloc, tail = rest[:netloc_end], rest[netloc_end:]
    shown_netloc = netloc
    if "@" in netloc:
        userinfo, host = netloc.rsplit("@", 1)
        _user, _colon, password = userinfo.partition(":")
        if password:
            secrets += [password, unquote(password)]
        shown_netloc = f"***@{host}"
    if not host_of(shown_netloc) and "host=" not in tail:
        raise InvalidDatabaseURL("DATABASE_URL: the PostgreSQL URL names no host (postgresql://user:pw@host/db)")
    shown_tail = tail
    _path, qmark, query = tail.partition("?")
    if qmark:
        for name, value in parse_qsl(query, keep_blank_values=True):
            if name.lower() in _SECRET_PARAMS and value:
                secrets += [value]
            if name.lower() in (*_SECRET_PARAMS, "user"):
                shown_tail = re.sub(rf"(?i)({re.escape(name)}=)[^&#]*", r"\1***", shown_tail)
    ordered = tuple(sorted({s for s in secrets if s}, key=len, reverse=True))
    return DatabaseTarget("postgresql", dsn, f"{scheme}://{shown_netloc}{shown_tail}", ordered)


def host_of(netloc: str) -> str:
    """The host[:port] part of a URL's netloc."""
    return netloc.rsplit("@", 1)[-1]
