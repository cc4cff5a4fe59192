"""The message catalogs: complete, well-formed and in step with the code; plural rules; fallback to English;
the command translator's localisations as discord.py would send them to Discord."""

from __future__ import annotations

import importlib.util
import re
import shutil
import sys
import tomllib
from collections.abc import Iterator
from pathlib import Path
from types import ModuleType
from typing import Any

import discord
import pytest
from babel.messages.catalog import Catalog
from discord import app_commands
from discord.ext import commands

from bot import messages as M
from bot.app import EXTENSIONS
from bot.errors import (
    BadInput,
    BotError,
    CooldownActive,
    Expired,
    NotYours,
    PexelsAuthError,
    PexelsBadResponse,
    PexelsUnavailable,
    QuotaExhausted,
    user_message,
)
from bot.i18n import (
    COMMAND_NAME,
    MENU_NAME,
    OPTION_NAME,
    CommandTranslator,
    Translations,
    format_list,
    format_number,
    format_percent,
    language_name,
    placeholders,
    tr,
    translations,
    trn,
    untranslate,
    valid_command_name,
)
from bot.invocation import StaleCommand, check_invocation
from bot.models import Photo, Video
from bot.service import Slot
from bot.ui import PEXELS_URL, result_embed, result_view, shared_embed
from bot.vocab import Kind, SearchSpec, curated, parse_colour, resolve_locale, validate_query
from bot.wire import Action, ButtonState, Footer, encode_options, footer_text, parse_footer
from tests.fakes.pexels import FakePexels

ROOT = Path(__file__).resolve().parent.parent
LOCALES = ROOT / "bot" / "locales"
# Discord's locale code → the catalog it is read from; the twelve languages the bot speaks besides English.
DISCORD_LOCALES = {
    "de": "de",
    "fr": "fr",
    "es-ES": "es",
    "pt-BR": "pt_BR",
    "it": "it",
    "nl": "nl",
    "pl": "pl",
    "ru": "ru",
    "tr": "tr",
    "ja": "ja",
    "ko": "ko",
    "zh-CN": "zh_CN",
}
CATALOGS = sorted(DISCORD_LOCALES.values())
ENGLISH_LOCALES = ("en-US", "en-GB")


def _load_tool() -> ModuleType:
    spec = importlib.util.spec_from_file_location("i18n_tool", ROOT / "scripts" / "i18n.py")
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    sys.modules["i18n_tool"] = module
    spec.loader.exec_module(module)
    return module


tool = _load_tool()


@pytest.fixture(scope="module")
def template() -> Catalog:
    return tool.read_catalog(tool.TEMPLATE)


def _catalog(code: str, directory: Path = LOCALES) -> Catalog:
    return tool.read_catalog(tool.catalog_path(code, directory), code)


def _translated(code: str) -> Iterator[tuple[Any, Any, str | None]]:
    """(English, translation, msgctxt) of every entry; plural entries give each form against the English plural."""
    for message in _catalog(code):
        if not message.id:
            continue
        if isinstance(message.id, str):
            yield message.id, message.string, message.context
        else:
            for form in message.string:
                yield message.id[1], form, message.context


# --- the catalogs ------------------------------------------------------------------------------------------


def test_there_is_a_catalog_for_each_of_the_twelve_languages() -> None:
    assert tool.languages() == CATALOGS
    assert translations().codes == CATALOGS


def test_the_template_holds_what_the_code_marks_and_the_commands_declare(template: Catalog) -> None:
    """Fails when a message was added, reworded or removed without `scripts/i18n.py extract`."""
    built = tool.build_template()
    assert tool.entries(built) == tool.entries(template), "run: python3 scripts/i18n.py extract && … update"
    ids = {m.id if isinstance(m.id, str) else m.id[0] for m in template if m.id}
    assert {M.NOT_YOURS, M.QUOTA_EXHAUSTED, M.PHOTOS_PROVIDED, M.RESULT_COUNT.singular, "red"} <= ids
    assert {"Find a photo on Pexels", "landscape", "Only videos of this shape"} <= ids  # from the command tree
    names = {(m.context, m.id) for m in template if m.context}
    assert {(COMMAND_NAME, "photo"), (OPTION_NAME, "query"), (MENU_NAME, "Find photos")} <= names


@pytest.mark.parametrize("code", CATALOGS)
def test_every_catalog_translates_every_message_with_the_same_placeholders(code: str, template: Catalog) -> None:
    assert tool.problems(_catalog(code), template) == []


@pytest.mark.parametrize("code", CATALOGS)
def test_translations_keep_discord_markdown_links_and_timestamps(code: str) -> None:
    for english, text, _ in _translated(code):
        for token in ("`", "](", "<t:", ":R>", "[Pexels]"):
            assert text.count(token) == english.count(token), (code, token, text)
        if english.startswith(("📷", "🎥", "▶", "📤")):
            assert text.startswith(english[0]), (code, text)


@pytest.mark.parametrize("code", CATALOGS)
def test_messages_name_the_commands_as_the_reader_sees_them(code: str) -> None:
    photo = translations().lookup(code, "photo", COMMAND_NAME)
    assert photo
    for english, text, _ in _translated(code):
        if "/photo" in english:
            assert f"/{photo}" in text, (code, text)


def test_the_checker_reports_each_kind_of_broken_catalog(template: Catalog, tmp_path: Path) -> None:
    broken = _catalog("pl")
    del broken[M.SORRY]
    broken.add("An old message nobody writes any more", "Stara wiadomość")
    broken[M.NOT_YOURS].flags.add("fuzzy")
    broken[M.JUMP_OUT_OF_RANGE].string = "Wpisz numer od 1 do {totl}."
    broken[M.QUOTA_RESETS].string = "Odnowienie <t:{at:R>"
    broken[M.POST].string = ""
    broken.get("photo", COMMAND_NAME).string = "Zdjęcie"
    broken.get("query", OPTION_NAME).string = "fraza wyszukiwania"
    broken[M.RESULT_COUNT.singular].string = ("{n} wynik", "{n} wyniki")
    path = tmp_path / "pl.po"
    tool.write_catalog(broken, path)
    found = "\n".join(tool.problems(tool.read_catalog(path, "pl"), template))
    assert f"missing: {M.SORRY!r}" in found
    assert "stale (not in the code any more): 'An old message nobody writes any more'" in found
    assert f"fuzzy (needs a translator's check): {M.NOT_YOURS!r}" in found
    assert f"placeholders ['totl'] differ from ['total']: {M.JUMP_OUT_OF_RANGE!r}" in found
    assert f"malformed braces: {M.QUOTA_RESETS!r}" in found
    assert f"untranslated: {M.POST!r}" in found
    assert "'Zdjęcie' breaks Discord's naming rule: command name: 'photo'" in found
    assert "'fraza wyszukiwania' breaks Discord's naming rule: option name: 'query'" in found
    assert f"untranslated: {M.RESULT_COUNT.singular!r}" in found  # Polish needs a third form
    assert len(found.splitlines()) == 9


def test_update_keeps_translations_and_turns_a_reworded_message_into_a_fuzzy_suggestion(tmp_path: Path) -> None:
    """The workflow after a message is reworded in the code: extract, update, a translator reviews."""
    for code in ("fr", "pl"):
        shutil.copytree(LOCALES / code, tmp_path / code)
    reworded = tool.read_catalog(tool.TEMPLATE)
    old = reworded[M.NO_TEXT]
    del reworded[M.NO_TEXT]
    new_id = "That message has no words I can search photos for. Try it on a message with text in it."
    reworded.add(new_id, locations=old.locations, auto_comments=old.auto_comments)
    template_path = tmp_path / "pexbot.pot"
    tool.write_catalog(reworded, template_path)

    assert sorted(tool.update(tmp_path, template_path)) == ["fr", "pl"]

    french = _catalog("fr", tmp_path)
    assert french[new_id].fuzzy and french[new_id].string == _catalog("fr")[M.NO_TEXT].string
    assert french.plural_forms == "nplurals=2; plural=(n > 1);"
    assert tool.problems(french, reworded) == [f"fuzzy (needs a translator's check): {new_id!r}"]
    loaded = Translations.load(tmp_path)
    assert loaded.tr("fr", new_id) == new_id  # a fuzzy suggestion is never shown
    assert loaded.tr("fr", M.POSTED) == "📤 Publié dans le salon."
    assert loaded.trn("pl", *M.RESULT_COUNT, 5) == "5 wyników"


def test_a_new_language_starts_untranslated_and_reads_as_english(tmp_path: Path) -> None:
    path = tool.init("sv", tmp_path)
    catalog = tool.read_catalog(path, "sv")
    issues = tool.problems(catalog, tool.read_catalog(tool.TEMPLATE))
    assert issues and all(issue.startswith("untranslated: ") for issue in issues)
    assert Translations.load(tmp_path).tr("sv-SE", M.POSTED) == M.POSTED


def test_the_package_ships_every_catalog() -> None:
    pyproject = tomllib.loads((ROOT / "pyproject.toml").read_text())
    patterns = pyproject["tool"]["setuptools"]["package-data"]["bot"]
    shipped = {p for pattern in patterns for p in (ROOT / "bot").glob(pattern)}
    assert {tool.catalog_path(code) for code in CATALOGS} | {tool.TEMPLATE} <= shipped


# --- messages at run time ----------------------------------------------------------------------------------


@pytest.mark.parametrize(("discord_locale", "code"), DISCORD_LOCALES.items())
def test_each_discord_locale_reads_its_own_catalog(discord_locale: str, code: str) -> None:
    locale = discord.Locale(discord_locale)
    language = translations().language(locale)
    assert language is not None and language.code == code
    posted = tr(locale, M.POSTED)
    assert posted != M.POSTED and posted.startswith("📤 ")
    assert tr(discord_locale, M.POSTED) == posted


@pytest.mark.parametrize("locale", [*ENGLISH_LOCALES, "zh-TW", "hi", "xx-YY", "", None])
def test_english_and_unknown_locales_read_english(locale: str | None) -> None:
    assert tr(locale, M.JUMP_OUT_OF_RANGE, total=240) == "Type a result number from 1 to 240."
    assert trn(locale, *M.RESULT_COUNT, 1) == "1 result"
    assert trn(locale, *M.RESULT_COUNT, 2) == "2 results"


def test_spanish_speakers_outside_spain_read_the_spanish_catalog() -> None:
    assert tr(discord.Locale.latin_american_spanish, M.POST) == "Publicar"


def test_messages_fill_their_placeholders_in_every_language() -> None:
    for discord_locale in DISCORD_LOCALES:
        text = tr(discord_locale, M.QUOTA_EXHAUSTED, retry_at=1767225600)
        assert "<t:1767225600:R>" in text and "{" not in text
        credit = tr(
            discord_locale, M.PHOTO_CREDIT, author="Ana", author_url="https://a.example", url="https://p.example"
        )
        assert "[Ana](https://a.example)" in credit and "[Pexels](https://p.example)" in credit


@pytest.mark.parametrize(
    ("locale", "expected"),
    [
        ("pl", {1: "1 wynik", 2: "2 wyniki", 4: "4 wyniki", 5: "5 wyników", 12: "12 wyników", 22: "22 wyniki"}),
        ("ru", {1: "1 результат", 2: "2 результата", 5: "5 результатов", 11: "11 результатов", 21: "21 результат"}),
        ("ja", {1: "1 件の結果", 2: "2 件の結果", 22: "22 件の結果"}),
        ("fr", {0: "0 résultat", 1: "1 résultat", 2: "2 résultats"}),
        ("de", {0: "0 Ergebnisse", 1: "1 Ergebnis", 2: "2 Ergebnisse"}),
        ("en-US", {0: "0 results", 1: "1 result", 2: "2 results"}),
    ],
)
def test_plural_forms_follow_each_languages_rules(locale: str, expected: dict[int, str]) -> None:
    assert {n: trn(locale, *M.RESULT_COUNT, n) for n in expected} == expected


def test_plural_counts_are_written_in_the_readers_digits() -> None:
    assert trn("de", *M.QUOTA_HOUR, 20000, used=12) == "12 von 20.000 Anfragen in der letzten Stunde genutzt"
    assert trn("ko", *M.QUOTA_HOUR, 200, used=3) == "최근 1시간 동안 200회 중 3회 요청 사용"


def _write_catalog(directory: Path, code: str, entries: dict[str, str], *, fuzzy: tuple[str, ...] = ()) -> None:
    catalog = Catalog(locale=code, domain="pexbot")
    for msgid, text in entries.items():
        catalog.add(msgid, text, flags=["fuzzy"] if msgid in fuzzy else [])
    catalog.add(M.RESULT_COUNT, ("{n} Ergebnis", "{n} Ergebnisse"))
    tool.write_catalog(catalog, tool.catalog_path(code, directory))


def test_a_message_the_catalog_lacks_or_cannot_show_falls_back_to_english(tmp_path: Path) -> None:
    _write_catalog(
        tmp_path,
        "de",
        {
            M.POST: "Posten",
            M.JUMP_LABEL: "Ergebnisnummer (1 bis {totl})",
            M.SHARED_BY: "Geteilt von {name.__class__}",
            M.VIEW_ON_PEXELS: "",
            M.WATCH_ON_PEXELS: "Auf Pexels anschauen",
            M.QUOTA_RESETS: "Wird <t:{at:R> zurückgesetzt",
        },
        fuzzy=(M.WATCH_ON_PEXELS,),
    )
    catalogs = Translations.load(tmp_path)
    assert catalogs.tr("de", M.POST) == "Posten"
    assert catalogs.tr("de", M.SORRY) == M.SORRY  # missing
    assert catalogs.tr("de", M.JUMP_LABEL, total=240) == "Result number (1 to 240)"  # wrong placeholder
    assert catalogs.tr("de", M.SHARED_BY, name="Ana") == "Shared by Ana"  # attribute access
    assert catalogs.tr("de", M.VIEW_ON_PEXELS) == "View on Pexels"  # empty
    assert catalogs.tr("de", M.WATCH_ON_PEXELS) == "Watch on Pexels"  # fuzzy
    assert catalogs.tr("de", M.QUOTA_RESETS, at=5) == "Resets <t:5:R>"  # malformed
    assert (
        catalogs.trn("de", *M.QUERY_TOO_LONG, 120, limit=100)
        == "That search is 120 characters long; keep it under 100."
    )
    assert catalogs.trn("de", *M.RESULT_COUNT, 1) == "1 Ergebnis"


def test_an_unreadable_catalog_is_skipped_and_the_others_still_load(tmp_path: Path, caplog: Any) -> None:
    _write_catalog(tmp_path, "de", {M.POST: "Posten"})
    broken = tool.catalog_path("xx", tmp_path)
    broken.parent.mkdir(parents=True)
    broken.write_bytes(b'msgid ""\nmsgstr ""\n"Language: xx\\n"\n')
    catalogs = Translations.load(tmp_path)
    assert catalogs.codes == ["de"]
    assert "Could not read the xx catalog" in caplog.text
    assert catalogs.tr("xx", M.POST) == "Post"


@pytest.mark.parametrize(
    ("message", "params", "limit"),
    [
        (M.JUMP_TITLE, {}, 45),
        (M.JUMP_LABEL, {"total": "240"}, 45),
        (M.JUMP_LABEL_PLAIN, {}, 45),
        (M.VIEW_ON_PEXELS, {}, 80),
        (M.WATCH_ON_PEXELS, {}, 80),
        (M.POST, {}, 80),
        (M.PICK_PLACEHOLDER, {}, 150),
        (M.FIELD_HIT_RATE, {}, 256),
    ],
)
def test_labels_fit_discords_limits_in_every_language(message: str, params: dict[str, str], limit: int) -> None:
    for discord_locale in DISCORD_LOCALES:
        assert 1 <= len(tr(discord_locale, message, **params)) <= limit


def test_numbers_percentages_and_lists_follow_the_locale() -> None:
    assert [format_number(loc, 20000) for loc in ("en-US", "de", "ja")] == ["20,000", "20.000", "20,000"]
    assert format_number("fr", 20000) == "20\u202f000"
    assert format_percent("en-GB", 0.87) == "87%"
    assert format_percent("tr", 0.87) == "%87"
    assert format_list("de", ["rot", "grün", "blau"], style="or") == "rot, grün oder blau"
    assert format_list("ja", ["赤", "青"]) == "赤、青"
    assert language_name("de", "pt-BR") == "Portugiesisch (Brasilien)"
    assert language_name(None, "de-DE") == "German (Germany)"
    assert language_name("de", "not a locale") == "not a locale"


def test_a_translated_choice_reads_back_as_its_english_value() -> None:
    assert untranslate("de", " Grün ", M.COLOUR_NAMES) == "green"
    assert untranslate("ja", "紫", M.COLOUR_NAMES) == "violet"
    assert untranslate("de", "green", M.COLOUR_NAMES) == "green"
    assert untranslate("de", "vert", M.COLOUR_NAMES) is None


# --- the bot's words on the wire: written in the reader's language, read back the same from every one --------

ALL_LOCALES = [*DISCORD_LOCALES, *ENGLISH_LOCALES]
FAKE = FakePexels()  # never started: only its deterministic content generators are used here


@pytest.mark.parametrize("locale", ALL_LOCALES)
def test_every_catalogs_footers_read_back_the_search_that_wrote_them(locale: str) -> None:
    """A curated footer's words are translated and never read back; a search's footer is the same in every language."""
    best = curated()
    written = footer_text(3, 240, best, locale)
    assert written == f"3 / 240 · {tr(locale, M.CURATED_BY_PEXELS)}"
    assert parse_footer(written) == Footer(3, 240, "")
    state = ButtonState(Action.NEXT, 42, 3, encode_options(best), best.key)
    assert state.search_of(written) == best
    for query in ("sunset", "夕焼け", '"quoted"', "3 / 4 · x"):
        search = SearchSpec(Kind.PHOTO, query, locale="de-DE")
        footer = footer_text(7, 80, search, locale)
        assert footer == footer_text(7, 80, search) == f'7 / 80 · "{query}"'
        assert ButtonState(Action.NEXT, 42, 7, encode_options(search), search.key).search_of(footer) == search


def a_photo() -> Photo:
    return Photo.from_api(FAKE.photo("sunset", 2))


def a_video() -> Video:
    return Video.from_api(FAKE.video("ocean", 0))


def a_slot(item: Photo | Video, index: int = 2, total: int = 240, spec: SearchSpec | None = None) -> Slot:
    return Slot(item, index, total, spec or SearchSpec(Kind.PHOTO, "sunset"))


def _labels(view: discord.ui.View) -> list[str]:
    return [c["label"] for row in view.to_components() for c in row["components"] if c.get("label")]


@pytest.mark.parametrize("locale", DISCORD_LOCALES)
def test_a_result_is_written_in_the_searchers_language(locale: str) -> None:
    """Credit, attribution (still linking to Pexels), link labels and 📤's label in the language; the counter not."""
    photo, video = a_photo(), a_video()
    embed = result_embed(a_slot(photo), locale=locale)
    english = result_embed(a_slot(photo))
    assert embed.description != english.description
    assert embed.description is not None
    assert f"[{tr(locale, M.PHOTOS_PROVIDED)}]({PEXELS_URL})" in embed.description
    assert f"({photo.photographer_url})" in embed.description and f"({photo.url})" in embed.description
    assert embed.footer.text == english.footer.text == '3 / 240 · "sunset"'
    view = result_view(a_slot(photo), 1, private=True, locale=locale)
    assert _labels(view) == ["3 / 240", tr(locale, M.POST), tr(locale, M.VIEW_ON_PEXELS)]
    assert tr(locale, M.POST) != M.POST and tr(locale, M.VIEW_ON_PEXELS) != M.VIEW_ON_PEXELS
    clip = result_embed(a_slot(video, spec=SearchSpec(Kind.VIDEO, "ocean")), locale=locale)
    assert clip.description is not None
    assert f"[{tr(locale, M.VIDEOS_PROVIDED)}]({PEXELS_URL})" in clip.description
    assert tr(locale, M.VIDEO_CREDIT, author="x", author_url="y", url="z")[:2] in clip.description
    shared = shared_embed(a_slot(photo), "Ana", locale=locale)
    assert shared.footer.text == f'{tr(locale, M.SHARED_BY, name="Ana")} · "sunset"'


def _raise(call: Any) -> BadInput:
    with pytest.raises(BadInput) as caught:
        call()
    return caught.value


def _errors() -> list[BotError]:
    return [
        NotYours(),
        Expired(),
        PexelsAuthError("HTTP 401"),
        QuotaExhausted(1767225600.4, "pexels-429"),
        PexelsUnavailable("timeout"),
        PexelsBadResponse("not JSON"),
        CooldownActive(1767225600.4, "search"),
        CooldownActive(1767225600.4, "button"),
        StaleCommand("/photo size"),
        _raise(lambda: validate_query("  ")),
        _raise(lambda: validate_query("x" * 120)),
        _raise(lambda: parse_colour("mauve")),
        _raise(lambda: resolve_locale("xx-YY", None)),
    ]


@pytest.mark.parametrize("locale", DISCORD_LOCALES)
def test_every_error_is_told_in_the_readers_language_with_its_parameters(locale: str) -> None:
    for error in _errors():
        english, text = error.user_message(), user_message(error, locale)
        assert text != english and "{" not in text, (locale, english)
        assert re.findall(r"<t:\d+:R>", text) == re.findall(r"<t:\d+:R>", english), (locale, english)
        for kept in ("`mauve`", "`xx-YY`", "120"):
            assert (kept in text) is (kept in english), (locale, english)
    assert user_message(app_commands.CheckFailure(), locale) == tr(locale, M.NOT_HERE) != M.NOT_HERE


def test_errors_keep_their_parameters_and_read_english_by_default() -> None:
    assert QuotaExhausted(1767225600.4, "guard").user_message() == tr(None, M.QUOTA_EXHAUSTED, retry_at=1767225600)
    assert "<t:1767225601:R>" in CooldownActive(1767225600.4, "button").user_message("ja")
    assert str(_raise(lambda: validate_query("x" * 120))) == "That search is 120 characters long; keep it under 100."
    assert _raise(lambda: validate_query("x" * 120)).user_message("pl") == (
        "To wyszukiwanie ma 120 znaków; musi mieć mniej niż 100."
    )


def test_an_unexpected_error_is_logged_and_apologised_for_in_the_readers_language(caplog: Any) -> None:
    assert user_message(RuntimeError("bug"), "ko") == tr("ko", M.SORRY) != M.SORRY
    assert "Unexpected error while answering an interaction" in caplog.text


def test_colour_names_are_understood_and_listed_in_the_readers_language() -> None:
    assert [parse_colour("Rot", "de"), parse_colour("グレー", "ja"), parse_colour(" Blue ", "fr")] == [
        "red",
        "gray",
        "blue",
    ]
    assert _raise(lambda: parse_colour("rot")).user_message().startswith("`rot` isn't a colour I know.")
    refused = _raise(lambda: parse_colour("mauve", "fr")).user_message("fr")
    assert "rouge, orange, jaune, vert, turquoise, bleu, violet, rose, marron, noir, gris et blanc" in refused
    assert parse_colour("#FA0", "ru") == "#ffaa00"


async def test_a_stale_invocation_is_explained_with_the_names_the_reader_sees() -> None:
    """Option and choice names in the refusal are the ones the reader's client shows."""
    bot = commands.Bot(command_prefix=commands.when_mentioned, intents=discord.Intents.none())
    try:
        for extension in EXTENSIONS:
            await bot.load_extension(extension)
        data = {
            "name": "photo",
            "type": 1,
            "options": [{"name": "query", "type": 3, "value": "x"}, {"name": "orientation", "type": 3, "value": "odd"}],
        }
        refused = _raise(lambda: check_invocation(bot.tree, data))
        missing = _raise(lambda: check_invocation(bot.tree, {"name": "photo", "type": 1, "options": []}))
    finally:
        await bot.close()
    assert (
        refused.user_message()
        == "`odd` isn't a choice for `orientation`. Pick one of `landscape`, `portrait`, or `square`."
    )
    assert refused.user_message("de") == (
        "`odd` ist für `ausrichtung` nicht wählbar. Wähle `Querformat`, `Hochformat` oder `Quadratisch`."
    )
    assert missing.user_message() == "`query` is required. Fill it in and try again."
    assert missing.user_message("de") == "`suche` ist erforderlich. Füll es aus und versuch es noch einmal."


# --- the command translator --------------------------------------------------------------------------------


async def _payloads(translator: app_commands.Translator) -> list[dict[str, Any]]:
    """The application commands exactly as `tree.sync()` would send them, translated."""
    bot = commands.Bot(command_prefix=commands.when_mentioned, intents=discord.Intents.none())
    try:
        for extension in EXTENSIONS:
            await bot.load_extension(extension)
        await bot.tree.set_translator(translator)
        return [await command.get_translated_payload(bot.tree, translator) for command in bot.tree.get_commands()]
    finally:
        await bot.close()


def _options(payload: dict[str, Any]) -> list[dict[str, Any]]:
    return list(payload.get("options", []))


async def test_sync_payload_localises_every_command_for_each_language_and_leaves_english_alone() -> None:
    payloads = await _payloads(CommandTranslator())
    by_name = {p["name"]: p for p in payloads}
    assert set(by_name) == {"photo", "video", "curated", "about", "Find photos", "settings", "saved", "daily"}
    assert by_name["photo"]["name_localizations"]["ja"] == "写真"
    assert by_name["photo"]["description_localizations"]["de"] == "Finde ein Foto auf Pexels"
    assert by_name["Find photos"]["name_localizations"]["pt-BR"] == "Buscar fotos"
    orientation = next(o for o in _options(by_name["photo"]) if o["name"] == "orientation")
    landscape = next(c for c in orientation["choices"] if c["value"] == "landscape")
    assert landscape["name"] == "landscape" and landscape["name_localizations"]["pl"] == "poziome"
    localised: list[tuple[str, dict[str, str]]] = []
    for payload in payloads:
        localised.append((payload["name"], payload["name_localizations"]))
        if payload["type"] == 1:  # a context menu has no description
            localised.append((payload["name"], payload["description_localizations"]))
        for option in _options(payload):
            localised += [
                (option["name"], option["name_localizations"]),
                (option["name"], option["description_localizations"]),
            ]
            localised += [(c["name"], c["name_localizations"]) for c in option.get("choices", [])]
    assert len(localised) > 40
    for text, localisations in localised:
        assert set(localisations) >= set(DISCORD_LOCALES), text
        assert not set(localisations) & set(ENGLISH_LOCALES), text


async def test_localised_names_keep_discords_rules_and_stay_unambiguous() -> None:
    payloads = await _payloads(CommandTranslator())
    slash = [p for p in payloads if p["type"] == 1]
    for locale in DISCORD_LOCALES:
        command_names = [p["name_localizations"].get(locale, p["name"]) for p in slash]
        assert len(set(command_names)) == len(command_names), locale
        for payload in slash:
            assert valid_command_name(payload["name_localizations"][locale]), (locale, payload["name"])
            assert 1 <= len(payload["description_localizations"][locale]) <= 100
            option_names = [o["name_localizations"].get(locale, o["name"]) for o in _options(payload)]
            assert len(set(option_names)) == len(option_names), (locale, payload["name"], option_names)
            for option in _options(payload):
                assert valid_command_name(option["name_localizations"][locale]), (locale, option["name"])
                assert 1 <= len(option["description_localizations"][locale]) <= 100
                choices = [c["name_localizations"][locale] for c in option.get("choices", [])]
                assert all(1 <= len(c) <= 100 for c in choices) and len(set(choices)) == len(choices)
        menus = [p["name_localizations"][locale] for p in payloads if p["type"] == 3]
        assert all(1 <= len(m) <= 32 for m in menus)


async def test_a_name_discord_would_refuse_is_not_sent(tmp_path: Path) -> None:
    catalog = Catalog(locale="de", domain="pexbot")
    catalog.add("photo", "Foto Suche", context=COMMAND_NAME)
    catalog.add("query", "suche", context=OPTION_NAME)
    catalog.add("Find a photo on Pexels", "x" * 101)
    tool.write_catalog(catalog, tool.catalog_path("de", tmp_path))
    payloads = await _payloads(CommandTranslator(Translations.load(tmp_path)))
    photo = next(p for p in payloads if p["name"] == "photo")
    assert photo["name_localizations"] == {}
    assert photo["description_localizations"] == {}
    query = next(o for o in _options(photo) if o["name"] == "query")
    assert query["name_localizations"] == {"de": "suche"}


async def test_the_translator_returns_none_for_english_so_discord_gets_the_base_text() -> None:
    translator = CommandTranslator()
    bot = commands.Bot(command_prefix=commands.when_mentioned, intents=discord.Intents.none())
    await bot.load_extension("cogs.search")
    photo = bot.tree.get_command("photo")
    assert isinstance(photo, app_commands.Command)
    name = app_commands.TranslationContext(app_commands.TranslationContextLocation.command_name, photo)
    for locale in (discord.Locale.american_english, discord.Locale.british_english, discord.Locale.taiwan_chinese):
        assert await translator.translate(app_commands.locale_str("photo"), locale, name) is None
    assert await translator.translate(app_commands.locale_str("photo"), discord.Locale.russian, name) == "фото"
    await bot.close()


@pytest.mark.parametrize(
    ("name", "valid"),
    [
        ("photo", True),
        ("größe", True),
        ("fotoğraf", True),
        ("写真", True),
        ("キーワード", True),
        ("फ़ोटो", True),
        ("ภาพถ่าย", True),
        ("a-b_c1", True),
        ("Foto", False),
        ("two words", False),
        ("", False),
        ("x" * 33, False),
        ("photo!", False),
    ],
)
def test_the_name_rule_matches_discords(name: str, valid: bool) -> None:
    assert valid_command_name(name) is valid


def test_placeholders_are_read_like_str_format_reads_them() -> None:
    assert placeholders("Try again <t:{at}:R>.") == {"at"}
    assert placeholders("{n} of {limit:,}") == {"n", "limit:,"}
    assert placeholders("no fields") == frozenset()
    with pytest.raises(ValueError):
        placeholders("<t:{at:R>")
