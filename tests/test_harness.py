"""The test helpers' own checks, where a mistake would make other tests pass for the wrong reason."""

from __future__ import annotations

from tests.harness import logged_errors

PLAIN = "[2026-12-01 10:16:35] [ERROR   ] bot.buttons: the press failed\nnext line"
COLOURED = "\x1b[30;1m2026-12-01 10:16:35\x1b[0m \x1b[31mERROR   \x1b[0m \x1b[35mbot.buttons\x1b[0m the press failed"


def test_logged_errors_reads_plain_and_coloured_logs() -> None:
    """discord.py colours its log lines in Docker even into a file: an ERROR there is still an ERROR."""
    assert logged_errors(PLAIN) == ["[2026-12-01 10:16:35] [ERROR   ] bot.buttons: the press failed | next line"]
    assert logged_errors(COLOURED) == ["2026-12-01 10:16:35 ERROR    bot.buttons the press failed"]
    assert logged_errors("Traceback (most recent call last):\n  File x") == [
        "Traceback (most recent call last): |   File x"
    ]


def test_logged_errors_ignores_the_word_in_a_message() -> None:
    """Only the level counts: a search for "ERROR" logged at INFO is not an error."""
    assert logged_errors("[2026-12-01 10:16:35] [INFO    ] bot: searching for ERROR codes") == []
    assert logged_errors("\x1b[34;1mINFO    \x1b[0m bot ERROR") == []
