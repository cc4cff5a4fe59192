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
"""

from __future__ import annotations

import logging

from discord import app_commands

log = logging.getLogger(__name__)

SORRY = "Something went wrong on our side and it has been logged. Please try again."


class BotError(Exception):
    """An error with a message fit to show the user who caused it."""

    def user_message(self) -> str:
        """What the user reads, privately."""
        return str(self)


class BadInput(BotError):
    """The user asked for something we can't search for; the message says how to fix it."""


class NoResults(BadInput):
    """Pexels has nothing for this search."""


class CooldownActive(BotError):
    """The user is acting faster than the cooldown allows; they may again at `retry_at` (epoch seconds)."""

    def __init__(self, retry_at: float, what: str) -> None:
        super().__init__(f"cooldown: {what} until {retry_at:.0f}")
        self.retry_at = retry_at
        self.what = what

    def user_message(self) -> str:
        return f"You're {self.what} faster than this bot allows. Try again <t:{int(self.retry_at) + 1}:R>."


class NotYours(BotError):
    """Someone pressed a button of a result another user searched for."""

    def user_message(self) -> str:
        return "These buttons belong to the person who searched. Start your own search with /photo."


class Expired(BotError):
    """A press or submission the bot can't act on: not its custom_id, or a message that no longer matches."""

    def user_message(self) -> str:
        return "This result can't be browsed any more. Start a new search with /photo."


class PexelsError(BotError):
    """Pexels could not give us results."""


class PexelsAuthError(PexelsError):
    """Pexels refused our API key (its own JSON 401): an operator has to fix the configuration."""

    def user_message(self) -> str:
        return "Pexels refused this bot's key. The bot's operator has been told; please try again later."


class PexelsAccessDisallowed(PexelsAuthError):
    """Pexels knows the key but does not let it use this API (its own JSON 403)."""

    def user_message(self) -> str:
        return (
            "Pexels has not allowed this bot's key to use its API. "
            "The bot's operator has been told; please try again later."
        )


class PexelsEdgeBlocked(PexelsError):
    """Pexels' CDN refused the request with a page of its own (401/403, not JSON): the key may be fine."""

    def user_message(self) -> str:
        return (
            "Pexels' network is blocking this bot's requests right now. "
            "The bot's operator has been told; please try again later."
        )


class QuotaExhausted(PexelsError):
    """We may not ask Pexels again before `retry_at` (our own guard, or Pexels' 429)."""

    def __init__(self, retry_at: float, reason: str) -> None:
        super().__init__(f"Pexels quota exhausted ({reason}); retry at {retry_at:.0f}")
        self.retry_at = retry_at
        self.reason = reason

    def user_message(self) -> str:
        return (
            "This bot has used its Pexels allowance for now. New searches work again "
            f"<t:{int(self.retry_at)}:R>; searches someone already made still work."
        )


class PexelsUnavailable(PexelsError):
    """Pexels is down, slow or unreachable (5xx, timeout, connection error)."""

    def user_message(self) -> str:
        return "Pexels isn't answering right now. Please try again in a minute."


class PexelsBadResponse(PexelsError):
    """Pexels answered with something that isn't the JSON we expect."""

    def user_message(self) -> str:
        return "Pexels sent an answer this bot couldn't read. Please try again in a minute."


def user_message(error: BaseException, *, where: str = "an interaction") -> str:
    """What to tell the user about an error (see the table above); logs the ones that are bugs."""
    if isinstance(error, app_commands.CommandInvokeError):
        error = error.original
    if isinstance(error, BotError):
        return error.user_message()
    if isinstance(error, app_commands.TransformerError):
        return f"`{str(error.value)[:50]}` isn't a valid value there. Check the option and try again."
    if isinstance(error, app_commands.CheckFailure):
        return "You can't use that command here."
    log.error("Unexpected error while answering %s", where, exc_info=error)
    return SORRY
