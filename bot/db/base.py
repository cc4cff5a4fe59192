"""The durable-data contracts: server settings, saved items and daily schedules.

Two backends implement them over one schema (`bot.db.schema`): SQLite (`bot.db.sqlite`, the default,
one file) and PostgreSQL (`bot.db.postgres`, for several processes or an ephemeral disk). The same
contract tests run on both. Every method raises `DatabaseUnavailable` when the database cannot be
reached; callers turn that into a polite refusal and carry on without it.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any, Literal, Protocol

import orjson

from bot import messages as M
from bot.errors import BotError
from bot.models import Item, Photo, Video, VideoFile

Clock = Callable[[], float]
"""Seconds since the epoch; injectable so tests can move time without sleeping."""

WALL_CLOCK: Clock = time.time

MAX_SAVED = 500
"""Saved items a user may keep."""

MAX_BLOCKED_WORDS = 50
"""Blocked words a server may have."""

ITEM_FORMAT = 1
"""Version of the JSON an `ItemSnapshot` is stored as; readers accept this and every older one."""

Kind = Literal["photo", "video"]


class DatabaseError(Exception):
    """Base of the errors this package raises on purpose."""


class DatabaseUnavailable(DatabaseError, BotError):
    """The database did not answer (down, unreachable, locked, misconfigured); the message is redacted."""

    message = M.SETTINGS_UNAVAILABLE


class SchemaTooNew(DatabaseError):
    """The database was migrated by a newer version of the bot than this one."""

    def __init__(self, found: int, known: int) -> None:
        super().__init__(
            f"The database schema is at version {found}, newer than this bot knows ({known}): "
            "run the newer bot, or point DATABASE_URL at another database"
        )
        self.found = found
        self.known = known


class InvalidDatabaseURL(DatabaseError, ValueError):
    """DATABASE_URL is not a URL this bot can open; the message never contains the password."""


class SavedLimitReached(DatabaseError, BotError):
    """The user already keeps `MAX_SAVED` items."""

    def __init__(self, limit: int = MAX_SAVED) -> None:
        super().__init__(f"saved-items limit reached ({limit})")
        self.limit = limit

    message = M.SAVED_LIMIT

    def params(self) -> Mapping[str, Any]:
        return {"limit": self.limit}


class TooManyBlockedWords(DatabaseError, BotError):
    """The server already blocks `MAX_BLOCKED_WORDS` words."""

    def __init__(self, limit: int = MAX_BLOCKED_WORDS) -> None:
        super().__init__(f"blocked-words limit reached ({limit})")
        self.limit = limit

    message = M.BLOCKED_WORDS_LIMIT

    def params(self) -> Mapping[str, Any]:
        return {"limit": self.limit}


@dataclass(frozen=True, slots=True)
class ItemSnapshot:
    """What it takes to show a photo or video again, credit included, without asking Pexels."""

    kind: Kind
    pexels_id: int
    title: str
    """The photo's alt text (may be empty); videos have none."""
    page_url: str
    image_url: str
    credit_name: str
    credit_url: str
    width: int = 0
    height: int = 0
    colour: int | None = None
    video_link: str | None = None
    video_width: int = 0
    video_height: int = 0
    duration: int = 0

    @classmethod
    def from_item(cls, item: Item) -> ItemSnapshot:
        """Snapshot a Pexels result."""
        if isinstance(item, Photo):
            return cls(
                kind="photo",
                pexels_id=item.id,
                title=item.alt,
                page_url=item.url,
                image_url=item.image,
                credit_name=item.photographer,
                credit_url=item.photographer_url,
                width=item.width,
                height=item.height,
                colour=item.colour,
            )
        file = item.file
        return cls(
            kind="video",
            pexels_id=item.id,
            title="",
            page_url=item.url,
            image_url=item.image,
            credit_name=item.user_name,
            credit_url=item.user_url,
            width=item.width,
            height=item.height,
            video_link=file.link if file else None,
            video_width=file.width if file else 0,
            video_height=file.height if file else 0,
            duration=item.duration,
        )

    def to_item(self) -> Item:
        """The Pexels result again, for the usual embed builders."""
        if self.kind == "photo":
            return Photo(
                id=self.pexels_id,
                url=self.page_url,
                image=self.image_url,
                photographer=self.credit_name,
                photographer_url=self.credit_url,
                colour=self.colour,
                alt=self.title,
                width=self.width,
                height=self.height,
            )
        file = VideoFile(self.video_link, self.video_width, self.video_height) if self.video_link else None
        return Video(
            id=self.pexels_id,
            url=self.page_url,
            image=self.image_url,
            duration=self.duration,
            user_name=self.credit_name,
            user_url=self.credit_url,
            file=file,
            width=self.width,
            height=self.height,
        )

    def to_dict(self) -> dict[str, Any]:
        """The stored form: a JSON object with a format version `v`."""
        data: dict[str, Any] = {
            "v": ITEM_FORMAT,
            "kind": self.kind,
            "id": self.pexels_id,
            "title": self.title,
            "page": self.page_url,
            "image": self.image_url,
            "credit": self.credit_name,
            "credit_url": self.credit_url,
            "w": self.width,
            "h": self.height,
        }
        if self.colour is not None:
            data["colour"] = self.colour
        if self.kind == "video":
            data.update(file=self.video_link, fw=self.video_width, fh=self.video_height, duration=self.duration)
        return data

    @classmethod
    def from_dict(cls, data: object) -> ItemSnapshot:
        """Read a stored object; raises ValueError when it lacks what rendering needs."""
        if not isinstance(data, dict):
            raise ValueError("a stored item is not a JSON object")
        kind = data.get("kind")
        if kind not in ("photo", "video"):
            raise ValueError(f"unknown stored item kind {kind!r}")
        colour = data.get("colour")
        link = data.get("file")
        return cls(
            kind=kind,
            pexels_id=_need(data, "id", int),
            title=_opt(data, "title", str, ""),
            page_url=_need(data, "page", str),
            image_url=_need(data, "image", str),
            credit_name=_need(data, "credit", str),
            credit_url=_need(data, "credit_url", str),
            width=_opt(data, "w", int, 0),
            height=_opt(data, "h", int, 0),
            colour=colour if isinstance(colour, int) and not isinstance(colour, bool) else None,
            video_link=link if isinstance(link, str) and link else None,
            video_width=_opt(data, "fw", int, 0),
            video_height=_opt(data, "fh", int, 0),
            duration=_opt(data, "duration", int, 0),
        )

    def to_json(self) -> str:
        """`to_dict` as JSON text."""
        return orjson.dumps(self.to_dict()).decode()

    @classmethod
    def from_json(cls, text: str | bytes) -> ItemSnapshot:
        """Inverse of `to_json`; raises ValueError on anything unreadable."""
        try:
            data = orjson.loads(text)
        except orjson.JSONDecodeError as exc:
            raise ValueError(f"a stored item is not JSON: {exc}") from None
        return cls.from_dict(data)


def _need(data: Mapping[str, Any], key: str, kind: type) -> Any:
    value = data.get(key)
    if not isinstance(value, kind) or isinstance(value, bool) or (isinstance(value, str) and not value):
        raise ValueError(f"a stored item lacks {key!r}")
    return value


def _opt(data: Mapping[str, Any], key: str, kind: type, default: Any) -> Any:
    value = data.get(key)
    return value if isinstance(value, kind) and not isinstance(value, bool) else default


def items_to_json(items: Sequence[ItemSnapshot]) -> str:
    """A list of snapshots as one JSON array."""
    return orjson.dumps([item.to_dict() for item in items]).decode()


def items_from_json(text: str | bytes) -> list[ItemSnapshot]:
    """Inverse of `items_to_json`, skipping entries this version cannot read."""
    try:
        data = orjson.loads(text)
    except orjson.JSONDecodeError:
        return []
    items: list[ItemSnapshot] = []
    for entry in data if isinstance(data, list) else []:
        try:
            items.append(ItemSnapshot.from_dict(entry))
        except ValueError:
            continue
    return items


@dataclass(frozen=True, slots=True)
class SavedEntry:
    """One item in a user's saved list."""

    item: ItemSnapshot
    saved_at: float
    """Epoch seconds."""


@dataclass(frozen=True, slots=True)
class GuildConfig:
    """One server's settings; a server that never set anything gets the defaults."""

    guild_id: int
    private_by_default: bool = False
    """Results start private unless the searcher asks `private:False`."""
    language: str | None = None
    """The Pexels search language for the server; None: each member's own."""
    blocked_words: tuple[str, ...] = ()
    """As the admins typed them, sorted."""


@dataclass(frozen=True, slots=True)
class Schedule:
    """A server's photo of the day: where, what, and when (local wall-clock time in `timezone`)."""

    guild_id: int
    channel_id: int
    topic: str
    hour: int
    minute: int
    timezone: str = "UTC"
    """An IANA name, validated by `bot.daily.parse_timezone` before it is stored."""

    @property
    def hhmm(self) -> str:
        """The time as HH:MM."""
        return f"{self.hour:02d}:{self.minute:02d}"


PostStatus = Literal["claimed", "posted", "empty", "failed"]


@dataclass(frozen=True, slots=True)
class DailyRecord:
    """What happened to one server's post on one local day."""

    guild_id: int
    local_date: date
    status: PostStatus
    claimed_at: float
    photo_id: int | None = None
    message_id: int | None = None
    detail: str = ""
    """Why it failed or was empty (never a secret)."""


class GuildSettings(Protocol):
    """Per-server settings; every read goes to the database so changes apply at once on every process."""

    async def get(self, guild_id: int) -> GuildConfig:
        """The server's settings (the defaults when it never set any)."""
        ...

    async def set_private(self, guild_id: int, value: bool) -> None:
        """Make results start private (True) or public (False) in this server."""
        ...

    async def set_language(self, guild_id: int, language: str | None) -> None:
        """Set the server's search language (a Pexels locale code), or None for each member's own."""
        ...

    async def block_word(self, guild_id: int, word: str) -> bool:
        """Block a word or phrase; False when it (or an equivalent spelling) was already blocked.

        Raises `BadInput` for an empty or overlong word, `TooManyBlockedWords` past `MAX_BLOCKED_WORDS`.
        """
        ...

    async def unblock_word(self, guild_id: int, word: str) -> bool:
        """Unblock a word (any equivalent spelling); False when it was not blocked."""
        ...

    async def blocked_words(self, guild_id: int) -> tuple[str, ...]:
        """The server's blocked words as typed, sorted by their matching form."""
        ...


class SavedItems(Protocol):
    """Each user's saved photos and videos, newest first."""

    async def save(self, user_id: int, item: ItemSnapshot) -> bool:
        """Save an item; False (and no change) when it was already saved. Raises `SavedLimitReached`."""
        ...

    async def page(self, user_id: int, offset: int = 0, limit: int = 10) -> list[SavedEntry]:
        """Up to `limit` saved items starting at `offset`, newest first."""
        ...

    async def count(self, user_id: int) -> int:
        """How many items the user keeps."""
        ...

    async def contains(self, user_id: int, kind: Kind, pexels_id: int) -> bool:
        """True when the user saved this item."""
        ...

    async def remove(self, user_id: int, kind: Kind, pexels_id: int) -> bool:
        """Remove one item; False when it was not saved."""
        ...

    async def clear(self, user_id: int) -> int:
        """Delete everything stored about the user; return how many items went."""
        ...


class Schedules(Protocol):
    """Daily posts: the schedules, the once-a-day claims, the 30-day history and each topic's daily results."""

    async def set(self, schedule: Schedule, next_due_at: float) -> None:
        """Create or replace the server's schedule; it is next due at `next_due_at` (epoch seconds)."""
        ...

    async def get(self, guild_id: int) -> Schedule | None:
        """The server's schedule, if any."""
        ...

    async def next_due(self, guild_id: int) -> float | None:
        """When the server's schedule is next due (epoch seconds), if it has one."""
        ...

    async def remove(self, guild_id: int) -> bool:
        """Turn the server's daily post off; False when it had none. Its history is kept (no repeats)."""
        ...

    async def due(self, now: float, limit: int = 100) -> list[Schedule]:
        """Schedules due at `now` (next due time passed), earliest first."""
        ...

    async def postpone(self, guild_id: int, next_due_at: float, *, if_due_by: float) -> None:
        """Move the next due time, only if it is not later than `if_due_by` (a concurrent `set` wins)."""
        ...

    async def claim(self, guild_id: int, local_date: date, *, now: float, next_due_at: float) -> Schedule | None:
        """Claim the server's post for `local_date`, exactly once across processes and restarts.

        Returns the schedule as it is now to the one caller that claimed the day, None to every other (or
        when the schedule is gone). Either way the schedule's next due time moves to `next_due_at` if it
        was due by `now`.
        """
        ...

    async def release(self, guild_id: int, local_date: date, *, retry_at: float) -> None:
        """Give a claimed day back (nothing was posted) and retry it at `retry_at`."""
        ...

    async def finish(
        self,
        guild_id: int,
        local_date: date,
        status: PostStatus,
        *,
        photo_id: int | None = None,
        message_id: int | None = None,
        detail: str = "",
    ) -> None:
        """Record the outcome of a claimed day."""
        ...

    async def last_post(self, guild_id: int) -> DailyRecord | None:
        """The server's most recent day (claimed, posted, empty or failed)."""
        ...

    async def history(self, guild_id: int, since: float) -> dict[int, float]:
        """Photo ids posted in the server since `since` (epoch seconds), with when each was last posted."""
        ...

    async def topic_results(self, topic_key: str, day: str) -> list[ItemSnapshot] | None:
        """A topic's shared results for `day` (YYYY-MM-DD, UTC), or None when nobody fetched them yet."""
        ...

    async def lease_topic(self, topic_key: str, day: str, *, now: float, until: float) -> bool:
        """Become the one process that fetches the topic's results for `day`: True unless they are already
        stored or another process holds an unexpired lease."""
        ...

    async def store_topic_results(self, topic_key: str, day: str, items: Sequence[ItemSnapshot], now: float) -> None:
        """Store the topic's results for `day`; the first stored copy wins."""
        ...

    async def prune(self, *, history_before: float, topics_before: str) -> None:
        """Forget days claimed before `history_before` and topic results of days before `topics_before`."""
        ...


class Database(Protocol):
    """Everything the bot keeps across restarts."""

    settings: GuildSettings
    saved: SavedItems
    schedules: Schedules
    backend: str
    """"sqlite" or "postgresql"."""
    url: str
    """The URL with its password replaced by ***."""

    async def ping(self) -> bool:
        """True when the database answers now (and its schema is current)."""
        ...

    async def schema_version(self) -> int:
        """The schema version the database is at."""
        ...

    async def close(self) -> None:
        """Release connections (never raises)."""
        ...
