"""Logs: plain text off a terminal (even where discord.py would colour), JSON lines, secrets redacted everywhere."""

from __future__ import annotations

import io
import json
import logging
from collections.abc import Iterator

import discord
import pytest

from bot.app import PexelsBot
from bot.config import load_settings
from bot.logs import setup_logging
from tests.fakes.discord import bot_token_for

TOKEN = bot_token_for(900000000000000001)
SECRETS = [TOKEN, "pexels-key-UNIQUE", "hunter2-UNIQUE"]


class Terminal(io.StringIO):
    """A stream that says it is a terminal."""

    def isatty(self) -> bool:
        return True


@pytest.fixture
def root_logger() -> Iterator[logging.Logger]:
    """The root logger, with the handlers and level it had restored afterwards."""
    root = logging.getLogger()
    handlers, level = list(root.handlers), root.level
    yield root
    root.handlers[:] = handlers
    root.setLevel(level)


def log_through(stream: io.StringIO, log_format: str) -> str:
    """Set up logging to `stream`, log a line and an exception that carry secrets, return what was written."""
    setup_logging(level=logging.INFO, log_format=log_format, secrets=SECRETS, stream=stream)
    log = logging.getLogger("bot.test")
    log.warning("Pexels refused %s; check PEXELS_API_KEY", "pexels-key-UNIQUE")
    try:
        raise ConnectionError("redis://:hunter2-UNIQUE@redis.example:6379 refused")
    except ConnectionError:
        log.exception("Redis failed; check REDIS_URL")
    return stream.getvalue()


def test_no_colours_off_a_terminal_even_in_a_container(
    root_logger: logging.Logger, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(discord.utils, "is_docker", lambda: True)
    stream = io.StringIO()
    assert discord.utils.stream_supports_colour(stream)  # discord.py's own setup would colour here
    text = log_through(stream, "text")
    assert "\x1b[" not in text
    assert "] [WARNING ] bot.test: Pexels refused ********; check PEXELS_API_KEY\n" in text


def test_colours_at_a_terminal_unless_no_color(root_logger: logging.Logger, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("NO_COLOR", raising=False)
    monkeypatch.setenv("TERM", "xterm")
    assert "\x1b[33;1m[WARNING ]\x1b[0m" in log_through(Terminal(), "text")
    root_logger.handlers.pop()
    monkeypatch.setenv("NO_COLOR", "1")
    assert "\x1b[" not in log_through(Terminal(), "text")


def test_text_logs_redact_secrets_in_tracebacks(root_logger: logging.Logger) -> None:
    text = log_through(io.StringIO(), "text")
    assert "Traceback (most recent call last)" in text
    assert "ConnectionError: redis://:********@redis.example:6379 refused" in text
    for secret in SECRETS:
        assert secret not in text


def test_json_logs_one_object_per_line(root_logger: logging.Logger) -> None:
    lines = log_through(io.StringIO(), "json").splitlines()
    assert len(lines) == 2
    warning, error = (json.loads(line) for line in lines)
    assert set(warning) == {"time", "level", "logger", "message"}
    assert (warning["level"], warning["logger"]) == ("WARNING", "bot.test")
    assert warning["message"] == "Pexels refused ********; check PEXELS_API_KEY"
    assert error["message"] == "Redis failed; check REDIS_URL"
    assert error["exc"].startswith("Traceback (most recent call last)")
    assert error["exc"].endswith("ConnectionError: redis://:********@redis.example:6379 refused")
    for secret in SECRETS:
        assert secret not in "\n".join(lines)


def test_a_bot_without_voice_says_nothing_about_voice(caplog: pytest.LogCaptureFixture) -> None:
    """discord.py warns once per process that PyNaCl and davey are missing; this bot has no voice."""
    discord.VoiceClient.warn_nacl = discord.VoiceClient.warn_dave = True
    caplog.set_level(logging.INFO)
    settings = load_settings({"DISCORD_TOKEN": TOKEN, "PEXELS_API_KEY": "k" * 20}, env_file=None)
    PexelsBot(settings)
    assert [r.getMessage() for r in caplog.records if "voice" in r.getMessage().lower()] == []
