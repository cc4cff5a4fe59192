"""The one error path: which exception becomes which private reply, and which are logged.

Every interaction handler lets errors propagate to one place that answers the user privately:
slash commands to the command tree's `on_error`, buttons, the jump modal and the Find photos menu
to `answer.fail`. Both call `user_message`, which is the whole mapping:

| raised | the user reads | logged |
| --- | --- | --- |
| `BadInput` (and `NoResults`) | what to type instead | no |
| `CooldownActive` | when to come back, as a relative timestamp | no |
| `NotYours` | that the buttons belong to the searcher | no |
| `Expired` | that the result can't be browsed any more | no |
| `QuotaExhausted` | when new searches work again | INFO, by the Pexels client |
| `PexelsAuthError` | that the operator has been told | ERROR, by the Pexels client |
| `PexelsUnavailable` | to try again in a minute | WARNING, by the Pexels client |
| `PexelsBadResponse` | that Pexels sent something unreadable | ERROR, by the Pexels client |
| discord.py's `TransformerError` | that the option's value isn't valid | no |
| discord.py's `CheckFailure` | that the command can't be used here | no |
| anything else | "something went wrong", it has been logged | ERROR with the traceback, here |

A `discord.HTTPException` while sending that reply is logged as a WARNING by the caller: there is
nobody left to tell.

Each error keeps its message in English (a message id of the catalogs, `bot.messages`) with its parameters
(`retry_at`, the value typed), and is written in the reader's language only when it is shown:
`user_message(error, interaction.locale)`.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from typing import Any

from discord import app_commands

from bot import messages as M
from bot.i18n import LocaleLike, Plural, tr, trn

log = logging.getLogger(__name__)

Message = str | Plural
"""A message id: English text marked for the catalogs with `N_` (or `Nn_` for one that depends on `n`)."""
Localised = Callable[[LocaleLike], str]
"""A parameter that is itself words (a list of colour names): written in the reader's language when shown."""


def localise(locale: LocaleLike, message: Message, params: Mapping[str, Any]) -> str:
    """`message` in the reader's language, with its parameters (words among them translated too)."""
    values = {name: value(locale) if callable(value) else value for name, value in params.items()}
    if isinstance(message, Plural):
        return trn(locale, message.singular, message.plural, int(values.pop("n")), **values)
    return tr(locale, message, **values)


class BotError(Exception):
    """An error with a message fit to show the user who caused it, in their language."""

    message: Message = M.SORRY
    """What the user reads, in English; subclasses name theirs."""

    def params(self) -> Mapping[str, Any]:
        """The message's placeholders."""
        return {}

    def user_message(self, locale: LocaleLike = None) -> str:
        """What the user reads, privately, in their language (English when `locale` is None)."""
        return localise(locale, self.message, self.params())


class BadInput(BotError):
    """The user asked for something we can't search for; the message says how to fix it."""

    def __init__(self, message: Message, /, **params: Any) -> None:
        super().__init__(message)
        self.message = message
        self._params = params

    def params(self) -> Mapping[str, Any]:
        return self._params

    def __str__(self) -> str:
        return self.user_message()


class NoResults(BadInput):
    """Pexels has nothing for this search."""


_COOLDOWNS: dict[str, str] = {"search": M.COOLDOWN_SEARCH, "button": M.COOLDOWN_BUTTONS}


class CooldownActive(BotError):
    """The user is acting faster than the cooldown allows; they may again at `retry_at` (epoch seconds).

    `what` is the cooldown's bucket: "search" or "button".
    """

    def __init__(self, retry_at: float, what: str) -> None:
        super().__init__(f"cooldown: {what} until {retry_at:.0f}")
        self.retry_at = retry_at
        self.what = what
        self.message = _COOLDOWNS.get(what, M.SLOW_DOWN)

    def params(self) -> Mapping[str, Any]:
        return {"at": int(self.retry_at) + 1}


class NotYours(BotError):
    """Someone pressed a button of a result another user searched for."""

    message = M.NOT_YOURS


class Expired(BotError):
    """A press or submission the bot can't act on: not its custom_id, or a message that no longer matches."""

    message = M.EXPIRED


class PexelsError(BotError):
    """Pexels could not give us results."""


class PexelsAuthError(PexelsError):
    """Pexels refused our API key (its own JSON 401): an operator has to fix the configuration."""

    message = M.PEXELS_KEY_REFUSED


class PexelsAccessDisallowed(PexelsAuthError):
    """Pexels knows the key but does not let it use this API (its own JSON 403)."""

    message = M.PEXELS_ACCESS_DISALLOWED


class PexelsEdgeBlocked(PexelsError):
    """Pexels' CDN refused the request with a page of its own (401/403, not JSON): the key may be fine."""

    message = M.PEXELS_EDGE_BLOCKED


class QuotaExhausted(PexelsError):
    """We may not ask Pexels again before `retry_at` (our own guard, or Pexels' 429)."""

    message = M.QUOTA_EXHAUSTED

    def __init__(self, retry_at: float, reason: str) -> None:
        super().__init__(f"Pexels quota exhausted ({reason}); retry at {retry_at:.0f}")
        self.retry_at = retry_at
        self.reason = reason

    def params(self) -> Mapping[str, Any]:
        return {"retry_at": int(self.retry_at)}


class PexelsUnavailable(PexelsError):
    """Pexels is down, slow or unreachable (5xx, timeout, connection error)."""

    message = M.PEXELS_UNAVAILABLE


class PexelsBadResponse(PexelsError):
    """Pexels answered with something that isn't the JSON we expect."""

    message = M.PEXELS_BAD_RESPONSE


def user_message(error: BaseException, locale: LocaleLike = None, *, where: str = "an interaction") -> str:
    """What to tell the user about an error (see the table above), in their language; logs the ones that are bugs."""
    if isinstance(error, app_commands.CommandInvokeError):
        error = error.original
    if isinstance(error, BotError):
        return error.user_message(locale)
    if isinstance(error, app_commands.TransformerError):
        return tr(locale, M.INVALID_VALUE, value=str(error.value)[:50])
    if isinstance(error, app_commands.CheckFailure):
        return tr(locale, M.NOT_HERE)
    log.error("Unexpected error while answering %s", where, exc_info=error)
    return tr(locale, M.SORRY)
