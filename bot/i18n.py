"""Words in the reader's language: gettext catalogs (`bot/locales/<lang>/LC_MESSAGES/pexbot.po`) read at start.

Every message is written in English in the code and marked for extraction: `tr(locale, "…", **params)` for a
message, `trn(locale, "… {n} result", "… {n} results", n, **params)` for one that depends on a number, and
`N_("…")` for a string declared at import time and translated later with `tr(locale, CONSTANT)`. The English text
is the message id, so a message missing from a catalog (or fuzzy, or broken) falls back to English, never to a
key or an empty string. Placeholders are `str.format` fields with names: `{total}`, `<t:{at}:R>`.

The `.po` files are read with Babel when first needed (about 50 ms for twelve catalogs, once per process, in a
worker thread), so there is no compiled artefact that could go stale; `scripts/i18n.py` extracts, updates and
checks them.
"""

from __future__ import annotations

import asyncio
import contextlib
import gettext
import logging
import string
import threading
import unicodedata
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal, NamedTuple

import discord
from babel import Locale, UnknownLocaleError
from babel.lists import format_list as babel_format_list
from babel.numbers import format_decimal
from babel.numbers import format_percent as babel_format_percent
from discord import app_commands

log = logging.getLogger(__name__)

LOCALES_DIR = Path(__file__).with_name("locales")
DOMAIN = "pexbot"
ENGLISH = Locale("en")

LocaleLike = discord.Locale | str | None
"""What the functions accept: `interaction.locale`, a Discord locale code (`pt-BR`) or None (English)."""

# msgctxt of the command texts that are names: they follow other rules than descriptions and must not share a
# translation with a message that happens to read the same.
COMMAND_NAME, MENU_NAME, OPTION_NAME = "command name", "menu name", "option name"
NAME_CONTEXTS = {
    app_commands.TranslationContextLocation.command_name: COMMAND_NAME,
    app_commands.TranslationContextLocation.group_name: COMMAND_NAME,
    app_commands.TranslationContextLocation.parameter_name: OPTION_NAME,
}
MAX_NAME, MAX_DESCRIPTION, MAX_CHOICE = 32, 100, 100
_NAME_PUNCTUATION = frozenset("-_")

ListStyle = Literal["standard", "or"]
Key = tuple[str | None, str]
"""(msgctxt, msgid) of a message; plural messages are keyed by their singular."""


def N_(message: str) -> str:
    """Mark a string for extraction where it is declared; translate it where it is shown, with `tr`."""
    return message


class Plural(NamedTuple):
    """A message with a singular and a plural English form, declared at import time with `Nn_`."""

    singular: str
    plural: str


def Nn_(singular: str, plural: str) -> Plural:
    """Mark a plural message where it is declared; show it with `trn(locale, *MESSAGE, n)`."""
    return Plural(singular, plural)


def placeholders(text: str) -> frozenset[str]:
    """The `str.format` fields of a message (`{total}`, `{n:>3}`); ValueError if its braces are malformed."""
    fields = set()
    for _, field, spec, conversion in string.Formatter().parse(text):
        if field is not None:
            fields.add(field + (f"!{conversion}" if conversion else "") + (f":{spec}" if spec else ""))
    return frozenset(fields)


def valid_command_name(name: str) -> bool:
    """Discord's rule for slash command and option names: 1-32 letters, digits, `-` or `_`, lowercase."""
    if not 1 <= len(name) <= MAX_NAME or name != name.lower():
        return False
    return all(_name_char(c) for c in name)


def _name_char(c: str) -> bool:
    # `^[-_\p{L}\p{N}\p{sc=Deva}\p{sc=Thai}]{1,32}$`; the two scripts bring their combining vowel signs (category M).
    return (
        c in _NAME_PUNCTUATION
        or unicodedata.category(c)[0] in "LN"
        or "\u0900" <= c <= "\u097f"
        or "\u0e00" <= c <= "\u0e7f"
    )


@dataclass(frozen=True, slots=True)
class Language:
    """One catalog: its messages, plural messages and plural rule, as plain dictionaries."""

    code: str
    """The catalog's identifier (`de`, `pt_BR`), also its directory under `bot/locales/`."""
    locale: Locale
    messages: Mapping[Key, str]
    plurals: Mapping[Key, tuple[str, ...]]
    plural_index: Callable[[int], int]
    num_plurals: int

    def plural_form(self, n: int) -> int:
        """Which of the catalog's plural forms `n` takes (0 for ja, ko and zh, which have one)."""
        return self.plural_index(n)


def _english_plural(n: int) -> int:
    return 0 if n == 1 else 1


def read_language(path: Path, code: str) -> Language:
    """Read one `.po` file, keeping only entries fit to show: translated, not fuzzy, same placeholders."""
    from babel.messages.pofile import read_po  # on first use, in a worker thread: ~30 ms off every start

    with path.open("rb") as file:
        catalog = read_po(file, locale=code, domain=DOMAIN, ignore_obsolete=True)
    plural_index = gettext.c2py(catalog.plural_expr)
    messages: dict[Key, str] = {}
    plurals: dict[Key, tuple[str, ...]] = {}
    for message in catalog:
        if not message.id or message.fuzzy:
            continue
        context = message.context
        if isinstance(message.id, str):
            text = message.string if isinstance(message.string, str) else ""
            if text and _same_placeholders(code, message.id, [text]):
                messages[context, message.id] = text
            continue
        singular, plural = message.id[0], message.id[1]
        forms = tuple(message.string) if isinstance(message.string, (tuple, list)) else ()
        if len(forms) == catalog.num_plurals and all(forms) and _same_placeholders(code, plural, forms, singular):
            plurals[context, singular] = forms
    locale = catalog.locale or Locale.parse(code)
    return Language(code, locale, messages, plurals, plural_index, catalog.num_plurals)


def _same_placeholders(code: str, msgid: str, texts: Iterable[str], singular: str | None = None) -> bool:
    """A translation may leave an English field out (as a "one" form may drop `{n}`), never add one."""
    try:
        expected = placeholders(msgid) | (placeholders(singular) if singular else frozenset())
        for text in texts:
            if not placeholders(text) <= expected:
                log.warning("Ignoring the %s translation of %r: its placeholders differ", code, msgid)
                return False
    except ValueError:
        log.warning("Ignoring the %s translation of %r: malformed braces", code, msgid)
        return False
    return True


MAX_RESOLVED = 256
"""Locales whose catalog `Translations.language` remembers (Discord has 34)."""


class Translations:
    """Every catalog, keyed by its identifier, and the lookups that fall back to English."""

    def __init__(self, languages: Iterable[Language]) -> None:
        self._languages = {language.code.lower(): language for language in languages}
        self._resolved: dict[str, Language | None] = {}
        """locale → its catalog, as `language` found it: every message of a reply asks again."""

    @classmethod
    def load(cls, directory: Path = LOCALES_DIR) -> Translations:
        """Read every `<lang>/LC_MESSAGES/pexbot.po` under `directory`."""
        languages = []
        for path in sorted(directory.glob(f"*/LC_MESSAGES/{DOMAIN}.po")):
            code = path.parent.parent.name
            try:
                languages.append(read_language(path, code))
            except (OSError, ValueError, UnknownLocaleError) as exc:
                log.error("Could not read the %s catalog %s: %s", code, path, exc)
        return cls(languages)

    @property
    def codes(self) -> list[str]:
        """The catalogs' identifiers, sorted."""
        return sorted(language.code for language in self._languages.values())

    def language(self, locale: LocaleLike) -> Language | None:
        """The catalog for a Discord locale: the exact one (`pt-BR`), else the language's (`es-419` → `es`).

        None means English: for `en-US`, `en-GB`, None and every language without a catalog. A regional catalog
        never stands in for another region (`zh-CN` is not offered to `zh-TW` readers).
        """
        if locale is None:
            return None
        text = str(locale)
        try:
            return self._resolved[text]
        except KeyError:
            pass
        tag = text.strip().replace("-", "_").lower()
        found = self._languages.get(tag) or self._languages.get(tag.split("_")[0])
        if len(self._resolved) < MAX_RESOLVED:  # bounded: a locale can come from what a user typed
            self._resolved[text] = found
        return found

    def lookup(self, locale: LocaleLike, msgid: str, context: str | None = None) -> str | None:
        """The translation of one message, or None where there is none (English, missing, fuzzy, broken)."""
        language = self.language(locale)
        return None if language is None else language.messages.get((context, msgid))

    def tr(self, locale: LocaleLike, msgid: str, /, **params: Any) -> str:
        """The message in the reader's language (English when there is no translation), placeholders filled."""
        language = self.language(locale)
        text = language.messages.get((None, msgid)) if language else None
        return _format(language, text, msgid, params)

    def trn(self, locale: LocaleLike, singular: str, plural: str, n: int, /, **params: Any) -> str:
        """The plural form that `n` takes in the reader's language; `{n}` is `n` in the locale's digits."""
        language = self.language(locale)
        params.setdefault("n", format_number(language.locale if language else ENGLISH, n))
        english = singular if _english_plural(n) == 0 else plural
        forms = language.plurals.get((None, singular)) if language else None
        text = None
        if language is not None and forms is not None:
            index = language.plural_form(n)
            text = forms[index] if 0 <= index < len(forms) else None
        return _format(language, text, english, params)


def _format(language: Language | None, text: str | None, english: str, params: Mapping[str, Any]) -> str:
    if text is not None:
        try:
            return text.format_map(params)
        except (KeyError, IndexError, ValueError, AttributeError) as exc:
            log.warning(
                "The %s translation of %r does not format (%r): using English", language and language.code, english, exc
            )
    try:
        return english.format_map(params)
    except (KeyError, IndexError, ValueError, AttributeError):
        log.error("The message %r is missing a parameter: %s", english, sorted(params), exc_info=True)
        return english


_loaded: Translations | None = None
_load_lock = threading.Lock()


def translations() -> Translations:
    """The bot's catalogs, read on first use (from any thread) and kept for the life of the process."""
    global _loaded
    if _loaded is None:
        with _load_lock:
            if _loaded is None:
                _loaded = Translations.load()
                log.info("Loaded message catalogs: %s", ", ".join(_loaded.codes) or "none")
    return _loaded


def tr(locale: LocaleLike, msgid: str, /, **params: Any) -> str:
    """`msgid` (English, with `{named}` placeholders) in the reader's language."""
    return translations().tr(locale, msgid, **params)


def trn(locale: LocaleLike, singular: str, plural: str, n: int, /, **params: Any) -> str:
    """The form of a message that `n` takes in the reader's language (`{n}` is filled in for you)."""
    return translations().trn(locale, singular, plural, n, **params)


def babel_locale(locale: LocaleLike) -> Locale:
    """The Babel locale that formats numbers and lists for a reader: their catalog's, else English."""
    language = translations().language(locale)
    return language.locale if language else ENGLISH


def format_number(locale: LocaleLike | Locale, n: float) -> str:
    """`20000` as the reader writes it: `20,000`, `20.000`, `20 000`."""
    return format_decimal(n, locale=locale if isinstance(locale, Locale) else babel_locale(locale))


def format_percent(locale: LocaleLike, ratio: float) -> str:
    """`0.87` as the reader writes a percentage: `87%`, `87 %`, `%87`."""
    return babel_format_percent(ratio, locale=babel_locale(locale))


def format_list(locale: LocaleLike, items: Iterable[str], *, style: ListStyle = "standard") -> str:
    """Items joined as the reader's language joins them (`a, b and c`; `style="or"` for `a, b or c`)."""
    return babel_format_list(list(items), style=style, locale=babel_locale(locale))


def language_name(locale: LocaleLike, tag: str) -> str:
    """The name of a language (a Pexels locale like `de-DE`) in the reader's language: `Deutsch (Deutschland)`."""
    try:
        name = Locale.parse(tag, sep="-").get_display_name(babel_locale(locale))
    except (ValueError, UnknownLocaleError):
        return tag
    return name or tag


def untranslate(locale: LocaleLike, typed: str, msgids: Iterable[str]) -> str | None:
    """The English message whose translation (or English text) the reader typed, ignoring case and spacing."""
    wanted = " ".join(typed.split()).casefold()
    for msgid in msgids:
        if wanted in (msgid.casefold(), tr(locale, msgid).casefold()):
            return msgid
    return None


class CommandTranslator(app_commands.Translator):
    """Localises command, option and choice names and descriptions when the commands are synced.

    English readers get None, so discord.py sends the English base text; so does any language without a
    translation. Names that would break Discord's naming rules are not sent (the English name stays).
    """

    def __init__(self, catalogs: Translations | None = None) -> None:
        self._catalogs = catalogs

    @property
    def catalogs(self) -> Translations:
        """The catalogs this translator reads (the bot's own unless given)."""
        return self._catalogs if self._catalogs is not None else translations()

    async def preload(self) -> None:
        """Read the catalogs in a worker thread, so that the first reply does not wait for them on the event loop.

        The running bot calls it once connected (`PexelsBot.on_ready`): read while connecting, they took the GIL
        from the start itself. `sync` reads them at its first lookup. A failure is raised again, where it matters,
        by the first lookup (which reads them itself).
        """
        if self._catalogs is None and _loaded is None:
            with contextlib.suppress(Exception):
                await asyncio.to_thread(translations)

    async def translate(
        self,
        string: app_commands.locale_str,
        locale: discord.Locale,
        context: app_commands.TranslationContextTypes,
    ) -> str | None:
        """The translation for one command text in one Discord locale, or None to keep the English one."""
        msgctxt = message_context(context)
        text = self.catalogs.lookup(locale, string.message, msgctxt)
        if text is None or fits(context, text):
            return text
        log.warning("Not sending the %s translation %r of %r: Discord would refuse it", locale, text, string.message)
        return None


def message_context(context: app_commands.TranslationContextTypes) -> str | None:
    """The msgctxt a command text is stored under: names have their own, descriptions and choices none."""
    if context.location is app_commands.TranslationContextLocation.command_name and isinstance(
        context.data, app_commands.ContextMenu
    ):
        return MENU_NAME
    return NAME_CONTEXTS.get(context.location)


def fits(context: app_commands.TranslationContextTypes, text: str) -> bool:
    """Whether Discord accepts `text` where `context` says it goes."""
    msgctxt = message_context(context)
    if msgctxt in (COMMAND_NAME, OPTION_NAME):
        return valid_command_name(text)
    if msgctxt == MENU_NAME:
        return 1 <= len(text) <= MAX_NAME
    limit = MAX_CHOICE if context.location is app_commands.TranslationContextLocation.choice_name else MAX_DESCRIPTION
    return 1 <= len(text) <= limit
