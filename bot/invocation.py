"""Checking a command invocation against the commands this release defines, before discord.py reads it.

Discord sends what was registered: a modified client, or commands registered by an older release,
can send a command or option that no longer exists, an option of the wrong type, a value that is not
one of its choices, or no name at all. discord.py would answer some with a traceback and others not
at all; here each becomes a clear private reply (`bot.errors`).
"""

from __future__ import annotations

import logging
import time
from typing import Any

from discord import AppCommandOptionType, AppCommandType, app_commands

from bot import messages as M
from bot.errors import BadInput, Localised
from bot.i18n import OPTION_NAME, LocaleLike, format_list, tr, translations

log = logging.getLogger(__name__)

WARN_EVERY = 300.0

_VALUE_TYPES: dict[AppCommandOptionType, tuple[type, ...]] = {
    AppCommandOptionType.string: (str,),
    AppCommandOptionType.integer: (int,),
    AppCommandOptionType.number: (int, float),
    AppCommandOptionType.boolean: (bool,),
}
_SUBCOMMAND_TYPES = (1, 2)
_warned_at = -WARN_EVERY


class StaleCommand(BadInput):
    """The invocation names a command, subcommand or option this release does not define."""

    def __init__(self, detail: str) -> None:
        super().__init__(M.STALE_COMMAND)
        self.detail = detail


def _stale(detail: str) -> StaleCommand:
    global _warned_at
    now = time.monotonic()
    if now - _warned_at >= WARN_EVERY:
        _warned_at = now
        log.warning(
            "A user invoked a command this release does not define (%s): the registered commands are stale; "
            "run `python -m bot sync`",
            detail,
        )
    return StaleCommand(detail)


def check_invocation(tree: app_commands.CommandTree[Any], data: object) -> None:
    """Raise `StaleCommand` or `BadInput` unless `data` is an invocation of a command this tree defines."""
    if not isinstance(data, dict) or not isinstance(data.get("name"), str):
        raise _stale("no command name")
    name: str = data["name"]
    kind = data.get("type", 1)
    if kind != 1:
        known = {t.value: t for t in AppCommandType}
        if kind not in known or tree.get_command(name, type=known[kind]) is None:
            raise _stale(f"menu {name!r}")
        if not isinstance(data.get("target_id"), str | int):
            raise _stale(f"menu {name!r} without a target")
        return
    command: Any = tree.get_command(name)
    options: object = data.get("options", [])
    path = name
    while isinstance(command, app_commands.Group):
        if not isinstance(options, list) or len(options) != 1 or not isinstance(options[0], dict):
            raise _stale(f"/{path} without a subcommand")
        sub = options[0]
        if sub.get("type") not in _SUBCOMMAND_TYPES or not isinstance(sub.get("name"), str):
            raise _stale(f"/{path} with a malformed subcommand")
        path += " " + sub["name"]
        command = command.get_command(sub["name"])
        options = sub.get("options", [])
    if not isinstance(command, app_commands.Command):
        raise _stale(f"/{path}")
    _check_options(command, path, options)


def _option_name(name: str) -> Localised:
    """An option's name as the reader's client shows it (its localised name, else the English one)."""
    return lambda locale: translations().lookup(locale, name, OPTION_NAME) or name


def _choice_list(choices: list[app_commands.Choice[Any]]) -> Localised:
    """An option's choices as the reader's client shows them, joined as their language lists alternatives."""

    def written(locale: LocaleLike) -> str:
        return format_list(locale, (f"`{tr(locale, str(c.name))}`" for c in choices), style="or")

    return written


def _check_options(command: app_commands.Command[Any, ..., Any], path: str, options: object) -> None:
    if not isinstance(options, list):
        raise _stale(f"/{path} with malformed options")
    parameters = {p.display_name: p for p in command.parameters}
    given: set[str] = set()
    for option in options:
        if not isinstance(option, dict) or not isinstance(option.get("name"), str):
            raise _stale(f"/{path} with a malformed option")
        parameter = parameters.get(option["name"])
        if parameter is None:
            raise _stale(f"/{path} {option['name']}")
        if option.get("type") not in (None, parameter.type.value):
            raise _stale(f"/{path} {parameter.display_name} of another type")
        value = option.get("value")
        expected = _VALUE_TYPES.get(parameter.type)
        wrong_type = expected is not None and (
            not isinstance(value, expected) or (bool not in expected and isinstance(value, bool))
        )
        if wrong_type:
            raise BadInput(M.OPTION_WRONG_TYPE, option=_option_name(parameter.display_name))
        choices = [c.value for c in parameter.choices]
        if choices and value not in choices:
            raise BadInput(
                M.NOT_A_CHOICE,
                value=str(value)[:30],
                option=_option_name(parameter.display_name),
                allowed=_choice_list(parameter.choices),
            )
        given.add(parameter.display_name)
    missing = [p.display_name for p in command.parameters if p.required and p.display_name not in given]
    if missing:
        raise BadInput(M.OPTION_REQUIRED, option=_option_name(missing[0]))
