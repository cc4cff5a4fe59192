"""Try the bot by hand: the real bot against the loopback Discord and Pexels, driven from a prompt.

    python -m tests.playground                       # an interactive prompt
    python -m tests.playground --script "/photo cats; press ▶; show"
    python -m tests.playground < session.txt         # one command a line
    python -m tests.playground --env BUTTON_COOLDOWN=100/10 --log INFO

No Discord account, token or Pexels key: everything runs on 127.0.0.1 in this process. Type `help`
at the prompt for the commands. After each command the messages the bot wrote or changed are printed
as a user would read them. A script stops at the first command that fails (a typo, a disabled
button, an interaction the bot left unanswered, an ERROR logged) and exits 1.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import inspect
import logging
import re
import shlex
import sys
import textwrap
import time
from collections.abc import Awaitable, Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any, TextIO

from bot.config import ConfigError
from tests.fakes.discord import (
    DEFAULT_CHANNEL,
    DEFAULT_GUILD,
    OTHER_CHANNEL,
    OTHER_GUILD,
    FakeUser,
    InteractionRecord,
    StoredMessage,
)
from tests.harness import ErrorGuard, Rig, guarding_errors, loopback

PROMPT = "> "
USER_INSTALL = 1
"""The user-install integration type (Discord's application integration types)."""
ALIASES = {
    "first": "⏮",
    "prev": "◀",
    "previous": "◀",
    "next": "▶",
    "last": "⏭",
    "random": "🔀",
    "shuffle": "🔀",
    "delete": "🗑",
    "post": "📤",
}
"""Button names that are easier to type than their emoji."""
_COUNTER = re.compile(r"\d+ / \d+")
_ON = re.compile(r"\s+on\s+#?(\d+)\s*$")
_OPTION = re.compile(r"(?P<name>[a-z_][a-z0-9_-]*):(?P<value>.*)")
_CALLBACKS = {
    4: "a new message",
    5: '"thinking…", then a message',
    6: "a deferred update",
    7: "the message updated in place",
    8: "autocomplete choices",
    9: "a form (modal)",
}


class Mistake(Exception):
    """A command the playground can't carry out; the message says why."""


# --------------------------------------------------------------------------- what a user reads


def _button_face(button: dict[str, Any]) -> str:
    emoji = (button.get("emoji") or {}).get("name")
    label = button.get("label")
    face = " ".join(str(part) for part in (emoji, label) if part) or str(button.get("custom_id", "?"))
    if button.get("url"):
        face += f" ↗ {button['url']}"
    if button.get("disabled"):
        face += " ·off"
    return f"[{face}]"


def _component_lines(components: Sequence[dict[str, Any]]) -> Iterator[str]:
    for row in components:
        children = row.get("components") if row.get("type") == 1 else [row]
        faces: list[str] = []
        for child in children or []:
            if child.get("type") == 2:
                faces.append(_button_face(child))
            elif child.get("type") in (3, 5, 6, 7, 8):
                options = " | ".join(str(o.get("value")) for o in child.get("options") or [])
                placeholder = child.get("placeholder") or "choose"
                faces.append(f"[▾ {placeholder}: {options}]" if options else f"[▾ {placeholder}]")
            elif child.get("type") == 10:
                faces.append(str(child.get("content", "")))
        if faces:
            yield "  " + " ".join(faces)


def render(message: StoredMessage, number: int, viewer: FakeUser | None = None) -> str:
    """A message as a person reads it: who sees it, its text, each embed's parts, its buttons and menus."""
    if message.deleted:
        return f"#{number} (deleted)"
    who = "only you see this" if message.ephemeral and viewer and message.visible_to == viewer.id else "public"
    if message.ephemeral and not (viewer and message.visible_to == viewer.id):
        who = f"only user {message.visible_to} sees this"
    head = [who]
    meta = message.interaction_metadata or {}
    author = (message.author or {}).get("username")
    if meta.get("user"):
        head.append(f"answering {meta['user'].get('username') or meta['user'].get('id')}")
    elif author:
        head.append(f"by {author}")
    if message.edits:
        head.append(f"edited {message.edits}×")
    lines = [f"#{number} " + " · ".join(head)]
    if message.loading:
        lines.append(f"  {message.loading_text}")
        return "\n".join(lines)
    if message.content:
        lines += [f"  {line}" for line in message.content.splitlines()]
    for embed in message.embeds:
        if embed.get("title"):
            lines.append(f"  ┃ {embed['title']}" + (f"  ({embed['url']})" if embed.get("url") else ""))
        if (embed.get("author") or {}).get("name"):
            lines.append(f"  ┃ author: {embed['author']['name']}")
        lines += [f"  ┃ {line}" for line in str(embed.get("description") or "").splitlines()]
        for f in embed.get("fields") or []:
            lines.append(f"  ┃ {f.get('name', '')}: {f.get('value', '')}")
        if (embed.get("image") or {}).get("url"):
            lines.append(f"  ┃ image: {embed['image']['url']}")
        if (embed.get("footer") or {}).get("text"):
            lines.append(f"  ┃ footer: {embed['footer']['text']}")
    lines += list(_component_lines(message.components))
    return "\n".join(lines)


def render_modal(modal: dict[str, Any]) -> str:
    """A form the bot opened, with each input and how to answer it."""
    lines = [f"  form: {modal.get('title', '')}"]
    inputs: list[str] = []
    for top in modal.get("components") or []:
        for comp in [top.get("component"), *(top.get("components") or [])]:
            if isinstance(comp, dict) and comp.get("type") == 4:
                label = comp.get("label") or top.get("label") or comp.get("custom_id")
                placeholder = f" (e.g. {comp['placeholder']})" if comp.get("placeholder") else ""
                lines.append(f"    {label}{placeholder}  [field {comp.get('custom_id')}]")
                inputs.append(str(comp.get("custom_id")))
    lines.append("  answer with: modal VALUE" if len(inputs) == 1 else "  answer with: modal FIELD=VALUE …")
    return "\n".join(lines)


# --------------------------------------------------------------------------- the session


@dataclass
class Place:
    """Where the acting user is: a server channel, a DM with the bot, or any channel with a user install."""

    name: str
    guild_id: int | None
    channel_id: int | None
    installs: tuple[int, ...] | None = None


PLACES = {
    "server": Place("server", DEFAULT_GUILD, DEFAULT_CHANNEL),
    "other-server": Place("other-server", OTHER_GUILD, OTHER_CHANNEL),
    "dm": Place("dm", None, None),
    "user-install": Place("user-install", DEFAULT_GUILD, DEFAULT_CHANNEL, installs=(USER_INSTALL,)),
}


@dataclass
class Session:
    """One playground session: who acts where, and the numbers given to the messages seen so far."""

    rig: Rig
    out: TextIO
    user_number: int = 1
    place: Place = field(default_factory=lambda: PLACES["server"])
    locale: str = "en-US"
    numbers: dict[int, int] = field(default_factory=dict)
    current: int | None = None
    """The message `press`, `select` and `modal` act on unless told `on #N`."""
    last: InteractionRecord | None = None

    @property
    def user(self) -> FakeUser:
        return self.rig.user(self.user_number)

    def say(self, text: str = "") -> None:
        print(text, file=self.out, flush=True)

    def number(self, message: StoredMessage) -> int:
        if message.id not in self.numbers:
            self.numbers[message.id] = len(self.numbers) + 1
        return self.numbers[message.id]

    def message(self, number: int) -> StoredMessage:
        for message_id, n in self.numbers.items():
            if n == number:
                return self.rig.discord.messages[message_id]
        raise Mistake(f"there is no message #{number} (type `show` to list them)")

    def channel_id(self) -> int:
        if self.place.channel_id is not None:
            return self.place.channel_id
        return self.rig.discord.dm_channel_for(self.user)

    def target(self, rest: str) -> tuple[str, StoredMessage]:
        """Split `… on #N` off a command; the message it names, or the current one."""
        match = _ON.search(rest)
        if match:
            return rest[: match.start()].strip(), self.message(int(match[1]))
        if self.current is None:
            raise Mistake("no message to act on yet: run a command first, or add `on #N`")
        return rest.strip(), self.rig.discord.messages[self.current]

    def place_options(self) -> dict[str, Any]:
        """Keyword arguments for the fake's dispatch calls: the guild, channel and installs of the place."""
        options: dict[str, Any] = {"guild_id": self.place.guild_id, "channel_id": self.place.channel_id}
        if self.place.installs is not None:
            if "installs" not in inspect.signature(self.rig.discord.slash).parameters:
                raise Mistake("this loopback Discord does not model user installs yet")
            options["installs"] = self.place.installs
        return options

    # ---- running one interaction -------------------------------------------------------------
    async def interact(self, start: Callable[[], Awaitable[InteractionRecord]]) -> InteractionRecord:
        """Dispatch, wait until the bot is done (followups included), print the outcome and what changed."""
        before = {m.id: (m.edits, m.deleted, m.loading) for m in self.rig.discord.messages.values()}
        try:
            record = await start()
        except (KeyError, ValueError, PermissionError, NotImplementedError) as exc:
            raise Mistake(str(exc).strip("'\"")) from None
        with contextlib.suppress(TimeoutError):
            await record.wait_done(timeout=15)
        await self.quiet()
        self.last = record
        self.say("  " + outcome(record))
        changed = [
            m
            for m in sorted(self.rig.discord.messages.values(), key=lambda m: m.id)
            if before.get(m.id) != (m.edits, m.deleted, m.loading) and (not m.ephemeral or m.visible_to == self.user.id)
        ]
        for message in changed:
            self.say(render(message, self.number(message), self.user))
            if not message.deleted and (message.buttons() or message.selects()):
                self.current = message.id
        if record.modal is not None:
            self.say(render_modal(record.modal))
        if record.choices is not None:
            for choice in record.choices:
                self.say(f"  choice: {choice.get('name')} → {choice.get('value')!r}")
            if not record.choices:
                self.say("  (no choices)")
        if record.failed or not record.acknowledged:
            raise Mistake("the bot did not answer this interaction")
        return record

    async def quiet(self, gap: float = 0.15, limit: float = 5.0) -> None:
        """Wait until the bot has made no REST call for `gap` seconds (a followup may come after the answer)."""
        end = time.monotonic() + limit
        seen = -1
        while time.monotonic() < end and seen != len(self.rig.discord.calls):
            seen = len(self.rig.discord.calls)
            await asyncio.sleep(gap)


def outcome(record: InteractionRecord) -> str:
    """One line: who did what where, and how the bot answered."""
    if not record.acknowledged:
        return "✗ no answer: the user sees “The application did not respond”"
    took = f"{record.ack_latency * 1000:.0f} ms" if record.ack_latency is not None else "?"
    text = f"→ answered in {took} with {_CALLBACKS.get(record.response_type or 0, str(record.response_type))}"
    if record.errors:
        text += f"; Discord refused some of the bot's calls: error codes {record.errors}"
    return text


# --------------------------------------------------------------------------- commands


def _value(raw: str, kind: int | None) -> Any:
    if kind == 5:
        if raw.lower() not in ("true", "false", "yes", "no"):
            raise Mistake(f"{raw!r} is not true or false")
        return raw.lower() in ("true", "yes")
    if kind in (4, 10):
        try:
            return int(raw) if kind == 4 else float(raw)
        except ValueError:
            raise Mistake(f"{raw!r} is not a number") from None
    return raw


def parse_command(line: str, schema: Sequence[dict[str, Any]]) -> dict[str, Any]:
    """`cats orientation:portrait private:true` → {"query": "cats", "orientation": "portrait", "private": True}.

    `name:value` sets an option the command has; every other word goes to its first text option.
    """
    names = {o["name"]: o for o in schema}
    options: dict[str, Any] = {}
    loose: list[str] = []
    tokens = re.findall(r"(?:[a-z_][a-z0-9_-]*:)?(?:\"[^\"]*\"|'[^']*'|\S+)", line)
    for token in tokens:
        match = _OPTION.fullmatch(token)
        if match and match["name"] in names:
            raw = match["value"].strip("\"'")
            options[match["name"]] = _value(raw, names[match["name"]].get("type"))
        else:
            loose.append(token.strip("\"'"))
    if loose:
        first = next((o for o in schema if o.get("type") == 3), None)
        if first is None:
            raise Mistake(f"this command takes no text; unexpected {' '.join(loose)!r}")
        if first["name"] in options:
            raise Mistake(f"{first['name']} given twice")
        options[first["name"]] = " ".join(loose)
    missing = [o["name"] for o in schema if o.get("required") and o["name"] not in options]
    if missing:
        raise Mistake(f"missing {', '.join(missing)} (options: {', '.join(names) or 'none'})")
    return options


def _schema(session: Session, name: str) -> list[dict[str, Any]]:
    for command in session.rig.discord.global_commands:
        if command.get("name") == name and command.get("type", 1) == 1:
            return list(command.get("options") or [])
    known = sorted(c["name"] for c in session.rig.discord.global_commands if c.get("type", 1) == 1)
    raise Mistake(f"no command /{name}; the bot has {', '.join('/' + n for n in known)}")


async def slash(session: Session, line: str) -> None:
    """/NAME [TEXT] [option:value …]   run a slash command, e.g. `/photo cats orientation:portrait`"""
    name, _, rest = line[1:].partition(" ")
    options = parse_command(rest, _schema(session, name))
    where = session.place_options()
    await session.interact(
        lambda: session.rig.discord.slash(name, options, user=session.user, locale=session.locale, **where)
    )


def _button(message: StoredMessage, name: str) -> str:
    wanted = ALIASES.get(name.lower(), name)
    if wanted.lower() in ("counter", "jump"):
        for button in message.buttons():
            if _COUNTER.fullmatch(str(button.get("label") or "")):
                return str(button["label"])
    return wanted


async def press(session: Session, rest: str) -> None:
    """press BUTTON [on #N]   press a button by emoji, label or name (next, prev, first, last, random, delete, post,
    counter), e.g. `press ▶`, `press 3 / 240`, `press post on #2`"""
    name, message = session.target(rest)
    if not name:
        raise Mistake("press which button? e.g. `press ▶`")
    button = _button(message, name)
    await session.interact(
        lambda: session.rig.discord.click(message.id, button, user=session.user, locale=session.locale)
    )


async def modal(session: Session, rest: str) -> None:
    """modal VALUE | modal FIELD=VALUE …   fill in and send the form the bot last opened, e.g. `modal 42`"""
    opener = next(
        (
            r
            for r in reversed(list(session.rig.discord.interactions.values()))
            if r.modal is not None and not r.modal_submitted and r.user_id == session.user.id
        ),
        None,
    )
    if opener is None or opener.modal is None:
        raise Mistake("no open form: press the counter (e.g. `press counter`) to open one")
    fields = [
        str(comp["custom_id"])
        for top in opener.modal.get("components") or []
        for comp in [top.get("component"), *(top.get("components") or [])]
        if isinstance(comp, dict) and comp.get("type") == 4
    ]
    values: dict[str, str | list[str] | bool] = {}
    if "=" in rest and rest.split("=", 1)[0].strip() in fields:
        for pair in shlex.split(rest):
            key, _, value = pair.partition("=")
            values[key] = value
    elif len(fields) == 1:
        values[fields[0]] = rest.strip()
    else:
        raise Mistake(f"this form has the fields {', '.join(fields)}: use FIELD=VALUE")
    await session.interact(lambda: session.rig.discord.submit_modal(opener, values))


def _option(options: Sequence[dict[str, Any]], wanted: str) -> str:
    """The value of the option whose value or label is `wanted`, or the only one containing it."""
    for option in options:
        if wanted in (option.get("value"), option.get("label")):
            return str(option["value"])
    found = [o for o in options if wanted.lower() in f"{o.get('label', '')} {o.get('value', '')}".lower()]
    if len(found) == 1:
        return str(found[0]["value"])
    shown = " | ".join(str(o.get("label") or o.get("value")) for o in options)
    raise Mistake(f"{wanted!r} is {'in several' if found else 'none'} of the options: {shown}")


async def select(session: Session, rest: str) -> None:
    """select CHOICE [| CHOICE …] [on #N]   choose in the menu on a message, by its text or a unique part of it,
    e.g. `select river` for the phrases Find photos offers"""
    text, message = session.target(rest)
    menus = message.selects()
    if not menus:
        raise Mistake(f"message #{session.number(message)} has no menu")
    values = [_option(menus[0].get("options") or [], part.strip()) for part in text.split("|") if part.strip()]
    if not values:
        raise Mistake("select what? e.g. `select river`")
    await session.interact(
        lambda: session.rig.discord.select(message.id, values, user=session.user, locale=session.locale)
    )


async def write(session: Session, rest: str) -> None:
    """say TEXT   post a plain message as the acting user (something for `app Find photos` to read)"""
    if not rest.strip():
        raise Mistake("say what?")
    message = session.rig.discord.post_user_message(
        session.channel_id(), rest.strip(), author=session.user, guild_id=session.place.guild_id
    )
    session.say(render(message, session.number(message), session.user))


async def app(session: Session, rest: str) -> None:
    """app NAME [on #N]   run a message command (right-click → Apps) on a message, e.g. `app Find photos on #1`"""
    match = _ON.search(rest)
    if match is None:
        said = [m for m in session.rig.discord.messages.values() if m.author_id == session.user.id]
        if not said:
            raise Mistake("on which message? `say …` one first, or add `on #N`")
        name, message = rest.strip(), said[-1]
    else:
        name, message = rest[: match.start()].strip(), session.message(int(match[1]))
    await session.interact(
        lambda: session.rig.discord.message_command(name, message, user=session.user, locale=session.locale)
    )


async def complete(session: Session, rest: str) -> None:
    """complete /NAME … option:partial   what autocomplete offers for the last option typed, e.g.
    `complete /photo cats locale:deu`"""
    name, _, args = rest.strip().lstrip("/").partition(" ")
    options = parse_command(args, [{**o, "required": False} for o in _schema(session, name)])
    typed = re.findall(r"([a-z_][a-z0-9_-]*):", args)
    if not typed:
        raise Mistake("which option? e.g. `complete /photo cats locale:deu`")
    focused = typed[-1]
    await session.interact(
        lambda: session.rig.discord.autocomplete(
            name, options, focused, user=session.user, locale=session.locale, **session.place_options()
        )
    )


async def act_as(session: Session, rest: str) -> None:
    """as N   act as user number N from now on (each has their own cooldowns and private messages)"""
    digits = rest.strip().removeprefix("user")
    if not digits.isdigit() or int(digits) < 1:
        raise Mistake("as which user? e.g. `as 2`")
    session.user_number = int(digits)
    session.say(f"  you are now {session.user.name} (id {session.user.id})")


async def go(session: Session, rest: str) -> None:
    """in server | other-server | dm | user-install   where the next commands run"""
    place = PLACES.get(rest.strip())
    if place is None:
        raise Mistake(f"in where? one of {', '.join(PLACES)}")
    previous, session.place = session.place, place
    try:
        session.place_options()
    except Mistake:
        session.place = previous
        raise
    session.say(f"  commands now run in: {place.name}")


async def set_locale(session: Session, rest: str) -> None:
    """locale CODE   the acting user's Discord language, e.g. `locale de` or `locale pt-BR`"""
    if not re.fullmatch(r"[a-z]{2}(?:-[A-Z]{2})?", rest.strip()):
        raise Mistake("locale like `de` or `pt-BR`")
    session.locale = rest.strip()
    session.say(f"  your Discord language is now {session.locale}")


async def show(session: Session, rest: str) -> None:
    """show [#N]   the messages the acting user sees where they are (or one message)"""
    if rest.strip():
        number = int(rest.strip().lstrip("#")) if rest.strip().lstrip("#").isdigit() else 0
        message = session.message(number)
        session.say(render(message, session.number(message), session.user))
        return
    messages = session.rig.discord.channel_messages(session.channel_id(), viewer=session.user.id)
    if not messages:
        session.say("  (no messages here yet)")
    for message in messages:
        session.say(render(message, session.number(message), session.user))


async def pexels(session: Session, rest: str) -> None:
    """pexels down [N] | slow SECONDS [N] | total QUERY N | used   make the loopback Pexels misbehave, or count"""
    words = shlex.split(rest)
    fake = session.rig.pexels
    try:
        if words[:1] == ["down"]:
            fake.fail_next(503, count=int(words[1]) if len(words) > 1 else 1)
            session.say("  Pexels will answer 503 next")
        elif words[:1] == ["slow"]:
            fake.slow_next(float(words[1]), count=int(words[2]) if len(words) > 2 else 1)
            session.say(f"  Pexels will take {float(words[1]):g} s more next")
        elif words[:1] == ["total"] and len(words) == 3:
            fake.set_total(words[1], int(words[2]))
            session.say(f"  searches for {words[1]!r} now have {int(words[2])} results")
        elif words[:1] == ["used"]:
            session.say(f"  requests to Pexels so far: {fake.count()}")
        else:
            raise Mistake("pexels down [N] | slow SECONDS [N] | total QUERY N | used")
    except (IndexError, ValueError):
        raise Mistake("pexels down [N] | slow SECONDS [N] | total QUERY N | used") from None


async def help_(session: Session, rest: str) -> None:
    """help   this list"""
    session.say("Commands (one a line; in --script, separated by ';'):")
    for handler in (slash, *COMMANDS.values()):
        usage, _, what = (handler.__doc__ or "").partition("   ")
        session.say(f"  {usage.strip()}")
        session.say(textwrap.fill(" ".join(what.split()), width=100, initial_indent=" " * 6, subsequent_indent=" " * 6))
    session.say("  quit\n      leave (Ctrl-D too)")


Handler = Callable[[Session, str], Awaitable[None]]
COMMANDS: dict[str, Handler] = {
    "press": press,
    "modal": modal,
    "select": select,
    "say": write,
    "app": app,
    "complete": complete,
    "as": act_as,
    "in": go,
    "locale": set_locale,
    "show": show,
    "pexels": pexels,
    "help": help_,
}


async def run_line(session: Session, line: str) -> None:
    """Carry out one command line (Mistake if it can't be)."""
    line = line.strip()
    if line.startswith("/"):
        await slash(session, line)
        return
    verb, _, rest = line.partition(" ")
    handler = COMMANDS.get(verb.lower())
    if handler is None:
        raise Mistake(f"unknown command {verb!r} (type `help`)")
    await handler(session, rest)


def script_lines(text: str) -> list[str]:
    """The commands of a script: `;` or new lines between them, `#` starting a comment line."""
    return [part.strip() for line in text.splitlines() for part in line.split(";") if part.strip()]


# --------------------------------------------------------------------------- main


async def play(lines: Iterable[str] | None, env: dict[str, str], out: TextIO) -> int:
    """Start everything, run `lines` (None: ask at a prompt), stop; 1 if a scripted command failed."""
    with guarding_errors(asyncio.get_running_loop()) as guard:
        async with loopback(env) as rig:
            session = Session(rig, out)
            session.say(
                f"pexbot playground: the real bot, a loopback Discord and Pexels on 127.0.0.1. You are "
                f"{session.user.name} in a server channel. Type `help`."
            )
            if lines is None:
                await _prompt(session)
                return 0
            for line in lines:
                if line.startswith("#"):
                    continue
                session.say(PROMPT + line)
                try:
                    await run_line(session, line)
                    if line.lower() in ("quit", "exit"):
                        break
                    _check(guard)
                except Mistake as exc:
                    session.say(f"  ✗ {exc}")
                    return 1
    return 0


def _check(guard: ErrorGuard) -> None:
    problems = guard.unexpected()
    guard.records.clear()
    guard.loop_errors.clear()
    if problems:
        raise Mistake("the bot logged an error: " + "; ".join(problems))


async def _prompt(session: Session) -> None:
    while True:
        try:
            line = await asyncio.to_thread(input, PROMPT)
        except (EOFError, KeyboardInterrupt):
            session.say()
            return
        if line.strip().lower() in ("quit", "exit"):
            return
        if not line.strip() or line.strip().startswith("#"):
            continue
        try:
            await run_line(session, line)
        except Mistake as exc:
            session.say(f"  ✗ {exc}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tests.playground", description=__doc__.split("\n\n")[0])
    parser.add_argument("--script", help="commands separated by ';' (instead of a prompt)")
    parser.add_argument(
        "--env", action="append", default=[], metavar="NAME=VALUE", help="configure the bot (repeatable)"
    )
    parser.add_argument("--log", default="WARNING", help="the bot's log level on stderr (default WARNING)")
    args = parser.parse_args(argv)
    malformed = [item for item in args.env if "=" not in item]
    if malformed:
        parser.error(f"--env takes NAME=VALUE, not {malformed[0]!r}")
    env = dict(item.split("=", 1) for item in args.env)
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(logging.Formatter("  [%(levelname)s] %(name)s: %(message)s"))
    handler.addFilter(lambda record: "voice will NOT be supported" not in record.getMessage())
    logging.basicConfig(level=args.log.upper(), handlers=[handler])
    if args.script is not None:
        lines: list[str] | None = script_lines(args.script)
    elif not sys.stdin.isatty():
        lines = [line.strip() for line in sys.stdin if line.strip()]
    else:
        lines = None
    try:
        return asyncio.run(play(lines, env, sys.stdout))
    except ConfigError as exc:
        print(f"playground: the bot's configuration is wrong: {exc}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
