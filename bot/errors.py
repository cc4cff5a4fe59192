"""Errors the bot knows how to explain to a user; anything else is a bug and gets logged."""

from __future__ import annotations


class BotError(Exception):
    """An error with a message fit to show the user who caused it."""

    def user_message(self) -> str:
        """What the user reads, ephemerally."""
        return str(self)


class BadInput(BotError):
    """The user asked for something we can't search for; the message says how to fix it."""


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
