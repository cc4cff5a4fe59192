# The waiting helpers take `timeout=` by design (the tests' interface), hence ASYNC109.
"""What the loopback Discord records: REST calls, injected faults, and every interaction with its outcome."""

from __future__ import annotations

import contextlib
import json
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from tests.fakes.discord.wire import (
    ALREADY_ACKNOWLEDGED,
    GUILD_INSTALL,
    FakeUser,
    StoredMessage,
)

if TYPE_CHECKING:
    from tests.fakes.discord.core import FakeDiscord


@dataclass
class Call:
    """One REST request: `path` is relative to /api/v10, `query` flattened, `json` the parsed body (or None)."""

    at: float
    method: str
    path: str
    query: dict[str, str]
    json: Any
    status: int = 0
    authorization: str | None = None
    files: list[dict[str, Any]] = field(default_factory=list)
    route: str = ""  # "callback", "followup", "edit_original", "delete_original", "get_original", ... or ""
    code: int | None = None  # the JSON error code answered, if any
    fault: Fault | None = None  # the injected fault that answered it, if any


@dataclass
class CallbackAttempt:
    """A POST to /interactions/{id}/{token}/callback that reached the interaction logic (not 429'd)."""

    at: float
    body: dict[str, Any]
    status: int
    code: int | None


@dataclass
class Fault:
    """An injected REST failure (see FakeDiscord.fail_next); `hits` are the calls it answered."""

    route: str
    status: int
    code: int
    message: str
    count: int | None  # None = every matching call until cleared
    processed: bool  # the request takes effect (e.g. the ack is recorded) before the error answer
    callback_types: frozenset[int] | None = None
    interaction_id: int | None = None
    keyword: str | None = None  # AutoMod: only messages containing it (case-insensitive)
    hits: list[Call] = field(default_factory=list)

    @property
    def exhausted(self) -> bool:
        """Whether it will answer no further call."""
        return self.count is not None and len(self.hits) >= self.count

    def matches(self, route: str, call: Call, interaction_id: int | None) -> bool:
        """Whether this fault answers `call` (routed as `route`) now."""
        if self.exhausted:
            return False
        if self.route == "message":
            ok = route in ("followup", "edit_original", "edit_followup") or (
                route == "callback" and (call.json or {}).get("type") in (4, 7)
            )
        else:
            ok = self.route == route
        if ok and self.callback_types is not None and route == "callback":
            ok = (call.json or {}).get("type") in self.callback_types
        return ok and (self.interaction_id is None or self.interaction_id == interaction_id)


class InteractionRecord:
    """One interaction dispatched by the fake, and everything the bot did with it."""

    def __init__(
        self,
        fake: FakeDiscord,
        *,
        id: int,
        token: str,
        type: int,
        user: FakeUser,
        payload: dict[str, Any],
        guild_id: int | None,
        channel_id: int,
        name: str | None,
        message_type: int,
        source_message_id: int | None = None,
        opened_by: InteractionRecord | None = None,
        created_at: float = 0.0,
        forced_ephemeral: bool = False,
    ) -> None:
        self._fake = fake
        self.id = id
        self.token = token
        self.type = type
        self.user = user
        self.user_id = user.id
        self.payload = payload
        self.guild_id = guild_id
        self.channel_id = channel_id
        self.name = name
        self.message_type = message_type
        self.source_message_id = source_message_id
        self.opened_by = opened_by
        self.created_at = created_at  # epoch seconds, from the snowflake: Discord's clocks count from here
        self.forced_ephemeral = forced_ephemeral
        self.delivered_at: float | None = None  # epoch seconds the INTERACTION_CREATE frame was written
        self.responded_at: float | None = None  # epoch seconds of the first callback POST (accepted or not)
        self.dispatched_at: float = 0.0  # monotonic twin of delivered_at
        self.responses: list[dict[str, Any]] = []
        self.callbacks: list[CallbackAttempt] = []
        self.first_response_at: float | None = None  # monotonic twin of responded_at
        self.ack_latency: float | None = None  # first callback - delivery (monotonic)
        self.errors: list[int] = []
        self.messages: list[StoredMessage] = []
        self.original_id: int | None = None
        self.placeholder_id: int | None = None
        self.modal: dict[str, Any] | None = None
        self.modal_submitted = False
        self.choices: list[dict[str, Any]] | None = None
        self.expired = False
        self.finished = False
        self.followups = 0  # followup messages Discord created (a placeholder fill counts)

    def __repr__(self) -> str:
        return (
            f"<InteractionRecord id={self.id} type={self.type} name={self.name!r} context={self.context}"
            f" response_type={self.response_type} errors={self.errors} messages={[m.id for m in self.messages]}>"
        )

    # ---- state -------------------------------------------------------------------------------
    @property
    def context(self) -> int | None:
        """0 server, 1 the DM with the bot, 2 DMs between users and group DMs."""
        return self.payload.get("context")

    @property
    def owners(self) -> dict[str, str]:
        """`authorizing_integration_owners` as sent: {"0": guild id or "0", "1": user id}."""
        return dict(self.payload.get("authorizing_integration_owners") or {})

    @property
    def user_installed_only(self) -> bool:
        """Authorized only by a user install (Discord then allows at most 5 followups)."""
        return str(GUILD_INSTALL) not in self.owners

    @property
    def app_permissions(self) -> int:
        """The `app_permissions` the interaction carried."""
        return int(self.payload.get("app_permissions") or 0)

    @property
    def response_type(self) -> int | None:
        """Callback type of the first accepted callback."""
        return self.responses[0]["type"] if self.responses else None

    @property
    def acknowledged(self) -> bool:
        """Whether Discord accepted a first callback."""
        return bool(self.responses)

    @property
    def acked_twice(self) -> bool:
        """Whether the bot tried to acknowledge again after Discord had accepted an ack (answered 40060)."""
        return ALREADY_ACKNOWLEDGED in self.errors

    @property
    def response_age(self) -> float | None:
        """Seconds from the interaction's creation (snowflake) to the first callback: what the 3 s rule judges."""
        return None if self.responded_at is None else self.responded_at - self.created_at

    @property
    def delivery_delay(self) -> float | None:
        """Seconds from creation to the frame being written (positive for `late=` interactions)."""
        return None if self.delivered_at is None else self.delivered_at - self.created_at

    @property
    def failed(self) -> bool:
        """The user saw "The application did not respond" (the only callback came too late)."""
        return self.expired and not self.acknowledged

    @property
    def original(self) -> StoredMessage | None:
        """The @original message (created by a type 4/5 callback, or the component's message for 6/7)."""
        return None if self.original_id is None else self._fake.messages.get(self.original_id)

    @property
    def placeholder(self) -> StoredMessage | None:
        """The type-5 "thinking…" message (filled or not), if this interaction deferred with one."""
        return None if self.placeholder_id is None else self._fake.messages.get(self.placeholder_id)

    @property
    def filled_by(self) -> str | None:
        """How the placeholder was filled: "edit_original" (current way), "followup" (deprecated) or None."""
        placeholder = self.placeholder
        return None if placeholder is None else placeholder.filled_by

    @property
    def source_message(self) -> StoredMessage | None:
        """The message the component (or modal-opening component) is on."""
        return None if self.source_message_id is None else self._fake.messages.get(self.source_message_id)

    @property
    def calls(self) -> list[Any]:
        """Every REST call made with this interaction's id or token (callbacks, followups, @original…)."""
        return [c for c in self._fake.calls if self.token in c.path or f"/interactions/{self.id}/" in c.path]

    def visible_to(self, viewer: int | FakeUser | None) -> list[StoredMessage]:
        """The messages this interaction created that `viewer` sees now (None = an onlooker in the channel)."""
        vid = viewer.id if isinstance(viewer, FakeUser) else viewer
        return [m for m in self.messages if not m.loading and m.visible_for(vid)]

    def visible_messages(self) -> dict[int | None, list[StoredMessage]]:
        """Per viewer what they see: None = everyone in the channel, the invoking user's id = what they see."""
        return {None: self.visible_to(None), self.user_id: self.visible_to(self.user_id)}

    def _texts(self, *, ephemeral: bool | None) -> str:
        msgs = [m for m in self.messages if not m.deleted and (ephemeral is None or m.ephemeral == ephemeral)]
        return "\n".join(m.text for m in msgs)

    @property
    def ephemeral_reply_text(self) -> str:
        """Text of the non-deleted ephemeral messages this interaction created."""
        return self._texts(ephemeral=True)

    @property
    def public_reply_text(self) -> str:
        """Text of the non-deleted public messages this interaction created."""
        return self._texts(ephemeral=False)

    @property
    def reply_text(self) -> str:
        """Text of every non-deleted message this interaction created."""
        return self._texts(ephemeral=None)

    def describe(self) -> str:
        """A one-paragraph account for assertion messages."""
        lines = [repr(self)]
        if self.response_age is not None:
            lines.append(f"  created→first callback {self.response_age:.3f}s, forced_ephemeral={self.forced_ephemeral}")
        lines += [f"  callback {a.status} {a.code} {json.dumps(a.body)[:300]}" for a in self.callbacks]
        lines += [
            f"  msg {m.id} eph={m.ephemeral} loading={m.loading} deleted={m.deleted}: {m.text[:200]!r}"
            for m in self.messages
        ]
        return "\n".join(lines)

    # ---- waiting -----------------------------------------------------------------------------
    async def wait_for(self, predicate: Callable[[InteractionRecord], bool], timeout: float = 5.0) -> None:
        """Wait until `predicate(self)` holds; TimeoutError otherwise."""
        await self._fake.wait_until(lambda: predicate(self), timeout, what=lambda: self.describe())

    async def wait_response(self, timeout: float = 5.0) -> dict[str, Any]:
        """The body of the first callback the bot POSTed (accepted or not); TimeoutError if none came."""
        await self._fake.wait_until(
            lambda: bool(self.callbacks),
            timeout,
            what=lambda: f"no callback (user sees 'did not respond')\n{self.describe()}",
        )
        return self.callbacks[0].body

    async def wait_done(self, timeout: float = 5.0) -> None:
        """Wait until what the user sees is final: a 4/7/8/9 callback, a filled/deleted defer, or a failure."""
        await self._fake.wait_until(lambda: self.finished, timeout, what=lambda: f"not finished\n{self.describe()}")

    async def expect_no_response(self, within: float = 0.3) -> None:
        """Assert that the bot sends no callback for `within` seconds (e.g. an interaction_check said no)."""
        with contextlib.suppress(TimeoutError):
            await self._fake.wait_until(lambda: bool(self.callbacks), within)
        if self.callbacks:
            raise AssertionError(f"expected no response, got {self.callbacks[0].body}")
