"""Interaction and webhook tokens never reach a log line, at any level, whoever logs them (discord.py included).

Each interaction's token lets anyone answer as the bot for 15 minutes
(https://discord.com/developers/docs/interactions/receiving-and-responding). discord.py's debug output
carries them in request URLs (`/interactions/<id>/<token>/callback`, `/webhooks/<app>/<token>/…`) and in
its dumps of gateway payloads (`'token': '…'`). `RedactTokens` is a handler filter that masks them in the
message, in a traceback's text and in stack info; `install` puts it on a handler.
"""

from __future__ import annotations

import logging
import re

MASK = "********"

_PATTERNS = (
    re.compile(r"(/webhooks/\d+/)[^/\s?#'\"]+"),
    re.compile(r"(/interactions/\d+/)[^/\s?#'\"]+"),
    re.compile(r"""(["']token["']\s*:\s*["'])[^"']+"""),
)
_HINTS = ("/webhooks/", "/interactions/", "token")


def redact(text: str) -> str:
    """`text` with every interaction and webhook token replaced by a mask."""
    if not any(hint in text for hint in _HINTS):
        return text
    for pattern in _PATTERNS:
        text = pattern.sub(lambda m: m.group(1) + MASK, text)
    return text


class RedactTokens(logging.Filter):
    """Masks interaction and webhook tokens in every record a handler emits (it never drops a record)."""

    _formatter = logging.Formatter()

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        masked = redact(message)
        if masked != message:
            record.msg, record.args = masked, None
        if record.exc_info and not record.exc_text:
            record.exc_text = self._formatter.formatException(record.exc_info)
        if record.exc_text:
            record.exc_text = redact(record.exc_text)
        if record.stack_info:
            record.stack_info = redact(record.stack_info)
        return True


def install(handler: logging.Handler) -> None:
    """Mask tokens in everything `handler` emits (once, however often it is called)."""
    if not any(isinstance(f, RedactTokens) for f in handler.filters):
        handler.addFilter(RedactTokens())


def install_on_root() -> None:
    """Mask tokens in everything the root logger's handlers emit (the ones there now)."""
    for handler in logging.getLogger().handlers:
        install(handler)
