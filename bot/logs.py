"""Logs an operator can read: plain text (colours only on a terminal) or one JSON object per line.

Every format redacts the secrets it is given (tokens, keys, URLs with passwords) from the message and
from any traceback, whoever logged them.
"""

from __future__ import annotations

import datetime
import json
import logging
import os
import sys
from collections.abc import Iterable
from typing import TextIO

from bot import redact as tokens

REDACTED = "********"
TEXT_FORMAT = "[%(asctime)s] [%(levelname)-8s] %(name)s: %(message)s"
TIME_FORMAT = "%Y-%m-%d %H:%M:%S"
_COLOURS = {
    logging.DEBUG: "\x1b[40;1m",
    logging.INFO: "\x1b[34;1m",
    logging.WARNING: "\x1b[33;1m",
    logging.ERROR: "\x1b[31m",
    logging.CRITICAL: "\x1b[41m",
}
_RESET = "\x1b[0m"


class Redactor:
    """Replaces each secret (six characters or more, so common words survive) with asterisks."""

    def __init__(self, secrets: Iterable[str]) -> None:
        self._secrets = sorted({s for s in secrets if len(s) >= 6}, key=len, reverse=True)

    def __call__(self, text: str) -> str:
        """`text` with every secret in it replaced."""
        for secret in self._secrets:
            if secret in text:
                text = text.replace(secret, REDACTED)
        return text


class TextFormatter(logging.Formatter):
    """`[time] [LEVEL   ] logger: message`, then any traceback; the level coloured only when asked."""

    def __init__(self, redact: Redactor, *, colour: bool = False) -> None:
        super().__init__(TEXT_FORMAT, TIME_FORMAT)
        self._redact = redact
        self._colour = colour

    def format(self, record: logging.LogRecord) -> str:
        """The record as one (or, with a traceback, several) plain lines, secrets redacted."""
        text = self._redact(super().format(record))
        if self._colour:
            level = f"[{record.levelname:<8}]"
            text = text.replace(level, f"{_COLOURS.get(record.levelno, '')}{level}{_RESET}", 1)
        return text


class JsonFormatter(logging.Formatter):
    """One JSON object per line: time (UTC, ISO 8601), level, logger, message, and exc when there is one."""

    def __init__(self, redact: Redactor) -> None:
        super().__init__()
        self._redact = redact

    def format(self, record: logging.LogRecord) -> str:
        """The record as a single line of JSON, secrets redacted."""
        entry = {
            "time": datetime.datetime.fromtimestamp(record.created, datetime.UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": self._redact(record.getMessage()),
        }
        details = []
        if record.exc_info:
            details.append(self.formatException(record.exc_info))
        elif record.exc_text:
            details.append(record.exc_text)
        if record.stack_info:
            details.append(self.formatStack(record.stack_info))
        if details:
            entry["exc"] = self._redact("\n".join(details))
        return json.dumps(entry, ensure_ascii=False)


def wants_colour(stream: TextIO) -> bool:
    """Colour only for a person at a terminal: never in a pipe, a file, a container's log or with NO_COLOR."""
    isatty = getattr(stream, "isatty", None)
    return bool(isatty and isatty()) and "NO_COLOR" not in os.environ and os.environ.get("TERM") != "dumb"


def setup_logging(
    *, level: int, log_format: str, secrets: Iterable[str], stream: TextIO | None = None
) -> logging.Handler:
    """Send every log record to `stream` (stdout: a dyno's log router reads it) in the chosen format."""
    stream = sys.stdout if stream is None else stream
    handler = logging.StreamHandler(stream)
    redact = Redactor(secrets)
    if log_format == "json":
        handler.setFormatter(JsonFormatter(redact))
    else:
        handler.setFormatter(TextFormatter(redact, colour=wants_colour(stream)))
    tokens.install(handler)  # interaction and webhook tokens, at every level, discord.py's own lines included
    root = logging.getLogger()
    root.setLevel(level)
    root.addHandler(handler)
    # discord.py's HTTP chatter (every REST call at DEBUG) drowns the bot's own lines.
    logging.getLogger("discord.http").setLevel(max(logging.WARNING, level))
    logging.getLogger("discord.gateway").setLevel(max(logging.INFO, level))
    return handler
