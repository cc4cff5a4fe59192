"""Keep the message catalogs in step with the code: extract, update, add a language, check.

    python3 scripts/i18n.py extract      # code → bot/locales/pexbot.pot (the template)
    python3 scripts/i18n.py update       # template → every bot/locales/<lang>/LC_MESSAGES/pexbot.po
    python3 scripts/i18n.py init sv      # start a catalog for a new language (a Babel locale id: sv, pt_PT)
    python3 scripts/i18n.py check        # list what each catalog is missing; exit 1 if anything is

`extract` collects the strings marked in bot/ and cogs/ (`tr(locale, "…")`, `trn(locale, "…", "…", n)`,
`N_("…")`, `Nn_("…", "…")`, `locale_str("…")`) and every command, option and choice text of the command tree,
exactly as discord.py hands them to the translator. `update` merges the template into each catalog: new
messages appear untranslated, changed ones come back as fuzzy suggestions from their old translation, removed
ones are dropped. The bot reads the `.po` files directly, so there is nothing to compile.
"""

from __future__ import annotations

import argparse
import asyncio
import inspect
import io
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from babel import Locale
from babel.messages.catalog import Catalog, Message
from babel.messages.extract import extract_from_dir
from babel.messages.pofile import read_po, write_po

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bot import __version__  # noqa: E402
from bot.i18n import (  # noqa: E402
    COMMAND_NAME,
    DOMAIN,
    LOCALES_DIR,
    MAX_CHOICE,
    MAX_DESCRIPTION,
    MAX_NAME,
    MENU_NAME,
    OPTION_NAME,
    message_context,
    placeholders,
    valid_command_name,
)

TEMPLATE = LOCALES_DIR / f"{DOMAIN}.pot"
SOURCE_DIRS = ("bot", "cogs")
KEYWORDS: dict[str, Any] = {"tr": (2,), "trn": (2, 3), "N_": (1,), "Nn_": (1, 2), "locale_str": (1,)}
COMMENT_TAG = "i18n:"
WIDTH = 0
"""No line wrapping: one message per line keeps diffs small and the files easy to grep."""
PLURAL_FORMS = {
    # CLDR (and so Babel) gives these languages a third form for round millions; our numbers never get there,
    # so they keep the two forms gettext has always used for them.
    "es": "nplurals=2; plural=(n != 1);",
    "fr": "nplurals=2; plural=(n > 1);",
    "it": "nplurals=2; plural=(n != 1);",
    "pt_BR": "nplurals=2; plural=(n > 1);",
}


def catalog_path(code: str, directory: Path = LOCALES_DIR) -> Path:
    """Where a language's catalog lives."""
    return directory / code / "LC_MESSAGES" / f"{DOMAIN}.po"


def languages(directory: Path = LOCALES_DIR) -> list[str]:
    """The catalogs there are, by identifier."""
    return sorted(p.parent.parent.name for p in directory.glob(f"*/LC_MESSAGES/{DOMAIN}.po"))


# --- extraction ------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Found:
    """One string to translate, where it comes from, and a note for translators."""

    id: str | tuple[str, str]
    context: str | None
    location: str
    comments: tuple[str, ...] = ()


def code_strings(root: Path = ROOT) -> Iterator[Found]:
    """Strings marked in the code."""
    for directory in SOURCE_DIRS:
        found = extract_from_dir(
            root / directory,
            method_map=[("**.py", "python")],
            keywords=KEYWORDS,
            comment_tags=(COMMENT_TAG,),
            strip_comment_tags=True,
        )
        for filename, _lineno, message, comments, context in found:
            msgid = message if isinstance(message, str) else (message[0], message[1])
            yield Found(msgid, context, f"{directory}/{filename}", tuple(comments))


class _Recorder:
    """Stands in for the translator while the command payloads are built, noting every text it is asked for."""

    def __init__(self) -> None:
        self.kinds: dict[tuple[str, str | None], str] = {}
        self.users: dict[tuple[str, str | None], list[str]] = {}
        self.sources: dict[tuple[str, str | None], str] = {}
        self.where = self.source = ""

    async def _checked_translate(self, string: Any, locale: Any, context: Any) -> None:
        from discord import app_commands

        where = app_commands.TranslationContextLocation
        location, data = context.location, context.data
        if location in (where.command_name, where.command_description):
            self.where = data.name if isinstance(data, app_commands.ContextMenu) else f"/{data.qualified_name}"
            self.source = _relative(inspect.getsourcefile(data.callback) or "")
        elif location is where.parameter_name:
            self.where = f"/{data.command.qualified_name} {data.name}"
        msgctxt = message_context(context)
        kind = {COMMAND_NAME: "command name", OPTION_NAME: "option name", MENU_NAME: "message menu name"}.get(
            msgctxt or "", "choice" if location is where.choice_name else "description"
        )
        key = (string.message, msgctxt)
        self.kinds.setdefault(key, kind)
        self.sources.setdefault(key, self.source)
        users = self.users.setdefault(key, [])
        if self.where not in users:
            users.append(self.where)

    def found(self) -> list[Found]:
        """What was asked for, each with one note saying where it shows and what Discord allows there."""
        rules = {
            "command name": f"lowercase letters, digits, - or _; at most {MAX_NAME}",
            "option name": f"lowercase letters, digits, - or _; at most {MAX_NAME}",
            "message menu name": f"at most {MAX_NAME} characters",
            "choice": f"at most {MAX_CHOICE} characters",
            "description": f"at most {MAX_DESCRIPTION} characters",
        }
        result = []
        for key, kind in self.kinds.items():
            where = ", ".join(self.users[key]) if kind != "message menu name" else ""
            note = f"{kind}{' of ' + where if where else ''} ({rules[kind]})"
            result.append(Found(key[0], key[1], self.sources[key], (note,)))
        return result


def _relative(path: str) -> str:
    try:
        return Path(path).resolve().relative_to(ROOT).as_posix()
    except ValueError:
        return "discord.py"


async def _command_strings() -> list[Found]:
    import discord
    from discord.ext import commands

    from bot.app import EXTENSIONS

    bot = commands.Bot(command_prefix=commands.when_mentioned, intents=discord.Intents.none())
    for extension in EXTENSIONS:
        await bot.load_extension(extension)
    recorder = _Recorder()
    for kind in (discord.AppCommandType.chat_input, discord.AppCommandType.message, discord.AppCommandType.user):
        for command in bot.tree.get_commands(type=kind):
            await command.get_translated_payload(bot.tree, recorder)  # type: ignore[arg-type]
    await bot.close()
    return recorder.found()


def command_strings() -> list[Found]:
    """Every name, description and choice of the application commands the bot registers."""
    return asyncio.run(_command_strings())


def build_template(root: Path = ROOT) -> Catalog:
    """The template: everything there is to translate, in the order it appears."""
    template = Catalog(
        project="pexbot",
        version=__version__,
        domain=DOMAIN,
        fuzzy=False,
        header_comment="# Messages of pexbot, a Discord bot for Pexels photos and videos.\n"
        "# Made by scripts/i18n.py extract; edit the code, not this file.",
        last_translator="pexbot contributors",
    )
    template.msgid_bugs_address = ""
    for found in [*code_strings(root), *command_strings()]:
        template.add(found.id, locations=[(found.location, None)], auto_comments=found.comments, context=found.context)
    return template


def entries(catalog: Catalog) -> list[tuple[Any, ...]]:
    """What a template says, without its dates: for telling whether extraction changed anything."""
    return [(m.id, m.context, " ".join(m.auto_comments), tuple(m.locations)) for m in catalog if m.id]


def write_catalog(catalog: Catalog, path: Path) -> None:
    """Write a catalog the way every file here is written."""
    path.parent.mkdir(parents=True, exist_ok=True)
    buffer = io.BytesIO()
    write_po(buffer, catalog, width=WIDTH, ignore_obsolete=True, include_lineno=False, omit_header=False)
    path.write_bytes(buffer.getvalue())


def read_catalog(path: Path, code: str | None = None) -> Catalog:
    """Read a template or a catalog."""
    with path.open("rb") as file:
        return read_po(file, locale=code, domain=DOMAIN)


def extract(template_path: Path = TEMPLATE) -> bool:
    """Write the template if the code's strings changed; True if it did."""
    template = build_template()
    if template_path.exists() and entries(read_catalog(template_path)) == entries(template):
        return False
    write_catalog(template, template_path)
    return True


# --- catalogs --------------------------------------------------------------------------------------------


def update(directory: Path = LOCALES_DIR, template_path: Path = TEMPLATE) -> list[str]:
    """Merge the template into every catalog; the languages whose file changed."""
    template = read_catalog(template_path)
    changed = []
    for code in languages(directory):
        path = catalog_path(code, directory)
        catalog = read_catalog(path, code)
        catalog.update(template, update_creation_date=False)
        before = path.read_bytes()
        write_catalog(catalog, path)
        if path.read_bytes() != before:
            changed.append(code)
    return changed


def init(code: str, directory: Path = LOCALES_DIR, template_path: Path = TEMPLATE) -> Path:
    """Start a catalog for a new language, every message untranslated."""
    locale = Locale.parse(code)
    path = catalog_path(code, directory)
    if path.exists():
        raise SystemExit(f"{path} exists already; use update")
    template = read_catalog(template_path)
    catalog = Catalog(
        locale=code,
        domain=DOMAIN,
        project="pexbot",
        version=__version__,
        fuzzy=False,
        header_comment=f"# {locale.english_name} messages of pexbot.\n"
        "# Translate the msgstr lines; scripts/i18n.py update keeps the msgids in step with the code.",
        last_translator="pexbot contributors",
        language_team=locale.english_name,
    )
    catalog.msgid_bugs_address = ""
    if code in PLURAL_FORMS:
        headers = dict(catalog.mime_headers)
        headers["Plural-Forms"] = PLURAL_FORMS[code]
        catalog.mime_headers = list(headers.items())
    catalog.update(template, no_fuzzy_matching=True)
    write_catalog(catalog, path)
    return path


def problems(catalog: Catalog, template: Catalog) -> list[str]:
    """Everything wrong with one catalog against the template; empty when the catalog is complete."""
    found: list[str] = []
    expected = {(m.id if isinstance(m.id, str) else m.id[0], m.context): m for m in template if m.id}
    seen = set()
    for message in catalog:
        if not message.id:
            continue
        key = (message.id if isinstance(message.id, str) else message.id[0], message.context)
        seen.add(key)
        label = f"{message.context + ': ' if message.context else ''}{key[0]!r}"
        source = expected.get(key)
        if source is None:
            found.append(f"stale (not in the code any more): {label}")
            continue
        if message.id != source.id:
            found.append(f"plural form differs from the code: {label}")
            continue
        if message.fuzzy:
            found.append(f"fuzzy (needs a translator's check): {label}")
        found.extend(f"{issue}: {label}" for issue in _translation_issues(message, catalog.num_plurals))
    found.extend(f"missing: {(c + ': ') if c else ''}{msgid!r}" for (msgid, c) in expected if (msgid, c) not in seen)
    return found


def _translation_issues(message: Message, num_plurals: int) -> list[str]:
    forms = [message.string] if isinstance(message.id, str) else list(message.string)
    english = message.id if isinstance(message.id, str) else message.id[1]
    if isinstance(message.id, tuple) and len(forms) != num_plurals:
        return [f"has {len(forms)} plural forms, the language has {num_plurals}"]
    issues = []
    for text in forms:
        if not isinstance(text, str) or not text.strip():
            issues.append("untranslated")
            continue
        try:
            if placeholders(text) != placeholders(english):
                issues.append(f"placeholders {sorted(placeholders(text))} differ from {sorted(placeholders(english))}")
        except ValueError:
            issues.append("malformed braces")
        if message.context in (COMMAND_NAME, OPTION_NAME) and not valid_command_name(text):
            issues.append(f"{text!r} breaks Discord's naming rule")
        elif message.context == MENU_NAME and len(text) > MAX_NAME:
            issues.append(f"{text!r} is longer than {MAX_NAME} characters")
        elif len(text) > MAX_DESCRIPTION and any("description" in c or "choice" in c for c in message.auto_comments):
            issues.append(f"longer than {MAX_DESCRIPTION} characters")
    return issues


def check(directory: Path = LOCALES_DIR, template_path: Path = TEMPLATE) -> int:
    """Print every catalog's problems; 1 if there are any."""
    template = read_catalog(template_path)
    status = 0
    for code in languages(directory):
        issues = problems(read_catalog(catalog_path(code, directory), code), template)
        print(f"{code}: {'ok' if not issues else f'{len(issues)} problems'}")
        for issue in issues:
            print(f"  {issue}")
        status = status or int(bool(issues))
    return status


def main(argv: list[str] | None = None) -> int:
    """The command line."""
    parser = argparse.ArgumentParser(prog="scripts/i18n.py", description=__doc__.split("\n\n")[0])
    commands = parser.add_subparsers(dest="command", required=True)
    commands.add_parser("extract", help="collect the strings in the code into bot/locales/pexbot.pot")
    commands.add_parser("update", help="merge the template into every catalog")
    add = commands.add_parser("init", help="start a catalog for a new language")
    add.add_argument("code", help="Babel locale identifier, like sv or pt_PT")
    commands.add_parser("check", help="list missing, fuzzy, stale and broken translations")
    args = parser.parse_args(argv)
    if args.command == "extract":
        print(f"{TEMPLATE.relative_to(ROOT)}: {'updated' if extract() else 'unchanged'}")
    elif args.command == "update":
        changed = update()
        print(f"updated: {', '.join(changed) if changed else 'nothing'}")
    elif args.command == "init":
        print(f"created {init(args.code).relative_to(ROOT)}; translate it, then run check")
    else:
        return check()
    return 0


if __name__ == "__main__":
    sys.exit(main())
