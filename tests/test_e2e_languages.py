"""The bot in its users' languages, end to end: German and Japanese clients read their language in replies and on
results, page through them, and a result written in one language pages for a client in another, after a restart."""

from __future__ import annotations

import re
from typing import Any

from bot.config import load_settings
from tests.conftest import ErrorGuard
from tests.fakes.discord import FakeDiscord, InteractionRecord, StoredMessage
from tests.fakes.pexels import FakePexels
from tests.harness import DEFAULT_CHANNEL, Rig, bot_environment, make_user, running_bot

DEADLINE = 3.0


def embed(message: StoredMessage) -> dict[str, Any]:
    """The one embed of a result message."""
    assert len(message.embeds) == 1, message.embeds
    return message.embeds[0]


def footer(message: StoredMessage) -> str:
    """The counter line."""
    return str(embed(message)["footer"]["text"])


def labels(message: StoredMessage) -> list[str]:
    """Each button as the user sees it: its emoji, else its label."""
    return [(b.get("emoji") or {}).get("name") or b.get("label") or "" for b in message.buttons()]


def result_message(record: InteractionRecord) -> StoredMessage:
    """The message an interaction produced (the first live one), answered in time and accepted."""
    assert record.ack_latency is not None and record.ack_latency < DEADLINE, record.describe()
    assert record.errors == [], record.describe()
    live = [m for m in record.messages if not m.deleted]
    assert live, record.describe()
    return live[0]


def refusal(record: InteractionRecord) -> str:
    """The private reply of a refused interaction (nothing public appeared)."""
    assert record.ack_latency is not None and record.ack_latency < DEADLINE, record.describe()
    assert record.public_reply_text == "", record.describe()
    assert record.ephemeral_reply_text, record.describe()
    return record.ephemeral_reply_text


async def slash(rig: Rig, name: str, options: dict[str, Any], *, user: int, locale: str) -> InteractionRecord:
    """A slash command from a client in `locale`, waited for."""
    return await rig.command(name, options, user=rig.user(user), locale=locale)


async def jump(
    rig: Rig, message: StoredMessage, counter: str, typed: str, *, user: int, locale: str
) -> tuple[dict[str, Any], InteractionRecord]:
    """Press the counter, type `typed` in the modal it opens and submit it; the modal, and the submission."""
    opened = await rig.press(message, counter, user=rig.user(user), locale=locale)
    assert opened.response_type == 9 and opened.modal is not None, opened.describe()
    field = opened.modal["components"][0]
    field_id = str((field.get("component") or field["components"][0])["custom_id"])
    submitted = await rig.discord.submit_modal(opened, {field_id: typed})
    await submitted.wait_done()
    return opened.modal, submitted


async def test_a_german_client_reads_german_on_its_result_and_pages_through_it(rig: Rig) -> None:
    """Credit, attribution, link label and curated footer in German; the counter and the query stay as they are."""
    record = await slash(rig, "photo", {"query": "Katze"}, user=1, locale="de")
    message = result_message(record)
    photo = rig.pexels.photo("Katze", 0, locale="de-DE")
    shown = embed(message)
    assert shown["description"] == (
        f"📷 Foto von [{photo['photographer']}]({photo['photographer_url']}) auf [Pexels]({photo['url']})\n"
        "[Fotos bereitgestellt von Pexels](https://www.pexels.com)"
    )
    assert footer(message) == '1 / 240 · "Katze"'
    assert labels(message) == ["⏮", "◀", "1 / 240", "▶", "⏭", "🔀", "🗑", "⭐", "Auf Pexels ansehen"]

    await rig.press(message, "▶", user=rig.user(1), locale="de")
    current = rig.discord.messages[message.id]
    assert footer(current) == '2 / 240 · "Katze"'
    assert embed(current)["image"]["url"] == rig.pexels.photo("Katze", 1, locale="de-DE")["src"]["large"]
    assert "Fotos bereitgestellt von Pexels" in embed(current)["description"]

    modal, jumped = await jump(rig, current, "2 / 240", "80", user=1, locale="de")
    assert modal["title"] == "Zu einem Ergebnis springen"
    assert modal["components"][0]["label"] == "Ergebnisnummer (1 bis 240)"
    assert jumped.errors == [], jumped.describe()
    assert footer(rig.discord.messages[message.id]) == '80 / 240 · "Katze"'
    assert labels(rig.discord.messages[message.id])[-1] == "Auf Pexels ansehen"

    curated = result_message(await slash(rig, "curated", {}, user=1, locale="de"))
    assert footer(curated) == "1 / 240 · Kuratiert von Pexels"
    await rig.press(curated, "⏭", user=rig.user(1), locale="de")
    assert footer(rig.discord.messages[curated.id]) == "240 / 240 · Kuratiert von Pexels"


async def test_a_japanese_client_reads_japanese_and_jumps_with_full_width_digits(rig: Rig) -> None:
    """A private result in Japanese: credit, labels (📤 投稿), the jump modal, and digits typed by an input method."""
    record = await slash(rig, "photo", {"query": "夕焼け", "private": True}, user=1, locale="ja")
    message = result_message(record)
    assert message.ephemeral
    photo = rig.pexels.photo("夕焼け", 0, locale="ja-JP")
    assert embed(message)["description"] == (
        f"📷 撮影: [{photo['photographer']}]({photo['photographer_url']})（[Pexels]({photo['url']})）\n"
        "[写真提供: Pexels](https://www.pexels.com)"
    )
    assert footer(message) == '1 / 240 · "夕焼け"'
    assert labels(message) == ["⏮", "◀", "1 / 240", "▶", "⏭", "🔀", "🗑", "⭐", "📤", "Pexels で見る"]
    assert message.button("📤")["label"] == "投稿"

    await rig.press(message, "▶", user=rig.user(1), locale="ja")
    assert footer(rig.discord.messages[message.id]) == '2 / 240 · "夕焼け"'
    assert labels(rig.discord.messages[message.id])[-2:] == ["📤", "Pexels で見る"]

    modal, jumped = await jump(rig, rig.discord.messages[message.id], "2 / 240", "１２", user=1, locale="ja")
    assert modal["title"] == "結果へ移動"
    assert modal["components"][0]["label"] == "結果の番号（1〜240）"
    assert jumped.errors == [], jumped.describe()
    assert footer(rig.discord.messages[message.id]) == '12 / 240 · "夕焼け"'

    _, too_far = await jump(rig, rig.discord.messages[message.id], "12 / 240", "999", user=1, locale="ja")
    assert refusal(too_far) == "1〜240 の結果番号を入力してください。"

    posted = await rig.press(rig.discord.messages[message.id], "📤", user=rig.user(1), locale="ja")
    await posted.wait_for(lambda r: rig.discord.messages[message.id].embeds == [])
    assert rig.discord.messages[message.id].content == "📤 チャンネルに投稿しました。"
    shared = [m for m in rig.discord.channel_messages(record.channel_id) if m.is_visible_publicly]
    assert len(shared) == 1
    assert footer(shared[0]) == f'共有: {rig.user(1).name} · "夕焼け"'
    assert labels(shared[0]) == ["Pexels で見る"]


async def test_refusals_are_in_the_language_of_whoever_they_are_for(rig: Rig) -> None:
    """A bad colour is explained in the searcher's language; a stranger's press in the stranger's, not the owner's."""
    german = refusal(await slash(rig, "photo", {"query": "Himmel", "color": "mauve"}, user=1, locale="de"))
    assert german == (
        "`mauve` ist keine Farbe, die ich kenne. Wähle eine der Farben rot, orange, gelb, grün, türkis, blau, "
        "violett, pink, braun, schwarz, grau und weiß oder einen Hex-Code wie `#ffaa00`."
    )
    japanese = refusal(await slash(rig, "photo", {"query": "空", "color": "mauve"}, user=2, locale="ja"))
    assert japanese.startswith("`mauve` は知らない色です。赤、オレンジ、黄、緑、")
    assert rig.pexels.count() == 0

    message = result_message(await slash(rig, "photo", {"query": "Katze"}, user=1, locale="de"))
    stranger = await rig.press(message, "▶", user=rig.user(2), locale="ja")
    assert refusal(stranger) == "これらのボタンは検索した人だけが使えます。/写真 で自分の検索を始めてください。"
    german_stranger = await rig.press(message, "▶", user=rig.user(3), locale="de")
    assert refusal(german_stranger).startswith("Diese Buttons gehören der Person, die gesucht hat.")
    assert footer(rig.discord.messages[message.id]) == '1 / 240 · "Katze"', "the owner's result did not change"


async def test_find_photos_speaks_the_language_of_whoever_uses_it(rig: Rig) -> None:
    """The menu's prompt and placeholder in German; the private result it opens in German; no text, in Japanese."""
    author, user = rig.user(1), rig.user(2)
    text = "Tausende Läufer liefen am Sonntag beim Berlin-Marathon durch das Brandenburger Tor."
    target = rig.discord.post_user_message(DEFAULT_CHANNEL, text, author=author)
    record = await rig.discord.message_command("Find photos", target, user=user, locale="de")
    await record.wait_done()
    menu = result_message(record)
    assert menu.ephemeral and menu.content == "Wähle, wonach auf Pexels gesucht werden soll:"
    select = menu.selects()[0]
    assert select["placeholder"] == "Wähle, wonach gesucht werden soll"
    choice = select["options"][0]["value"]
    chosen = await rig.discord.select(menu.id, [choice], user=user, locale="de")
    await chosen.wait_done()
    picker = rig.discord.messages[menu.id]
    assert footer(picker) == f'1 / 240 · "{choice}"'
    assert labels(picker)[-2:] == ["📤", "Auf Pexels ansehen"]
    assert picker.button("📤")["label"] == "Posten"

    empty = rig.discord.post_user_message(DEFAULT_CHANNEL, "<@123> https://example.com 🎉", author=author)
    nothing = await rig.discord.message_command("Find photos", empty, user=user, locale="ja")
    await nothing.wait_done()
    assert (
        refusal(nothing)
        == "このメッセージには写真を検索できる言葉がありません。テキストのあるメッセージで試してください。"
    )


async def test_colours_are_offered_and_understood_in_the_users_language(rig: Rig) -> None:
    """The colour option suggests German names and takes one typed freely; Pexels gets its English name."""
    record = await rig.discord.autocomplete(
        "photo", {"query": "Himmel", "color": "gr"}, "color", user=rig.user(1), locale="de"
    )
    await record.wait_done()
    assert [(c["name"], c["value"]) for c in record.choices or []] == [("grün", "green"), ("grau", "gray")]
    japanese = await rig.discord.autocomplete("photo", {"query": "空", "color": "紫"}, "color", user=rig.user(2),
                                              locale="ja")  # fmt: skip
    await japanese.wait_done()
    assert [(c["name"], c["value"]) for c in japanese.choices or []] == [("紫", "violet")]

    result_message(await slash(rig, "photo", {"query": "Himmel", "color": "Türkis"}, user=1, locale="de"))
    assert rig.pexels.requests[-1].query["color"] == "turquoise"


async def test_about_in_german_writes_its_numbers_as_german_readers_do(rig: Rig) -> None:
    """/about's labels in German, its counts with German digit grouping and percent sign; Discord's timestamps stay."""
    result_message(await slash(rig, "photo", {"query": "Fluss"}, user=1, locale="de"))
    result_message(await slash(rig, "photo", {"query": "Fluss"}, user=2, locale="de"))
    message = result_message(await slash(rig, "about", {}, user=1, locale="de"))
    assert message.ephemeral
    shown = embed(message)
    assert shown["description"] == (
        "Schöne Fotos und Videos von Pexels, mit Quellenangabe, direkt auf deinem Server.\n"
        "[Fotos bereitgestellt von Pexels](https://www.pexels.com)"
    )
    fields = {f["name"]: f["value"] for f in shown["fields"]}
    assert set(fields) >= {"Version", "Laufzeit", "Server", "Nutzer", "Latenz", "Cache-Trefferquote"}
    assert fields["Cache-Trefferquote"] == "50\u00a0%"
    assert fields["Gemeinsamer Zustand"] == "Arbeitsspeicher"
    remaining = f"{rig.pexels.remaining:,}".replace(",", ".")
    quota = fields["Pexels-Kontingent"].splitlines()
    assert re.fullmatch(rf"{remaining} von 20\.000 in diesem Zeitraum, wird <t:\d+:R> zurückgesetzt", quota[0])
    assert quota[1] == "1 von 200 Anfragen in der letzten Stunde genutzt"


async def test_sync_registers_every_commands_localisations(rig: Rig) -> None:
    """The commands Discord stores carry German and Japanese names and descriptions; the English ones stay."""
    photo = next(c for c in rig.discord.global_commands if c["name"] == "photo")
    assert photo["description"] == "Find a photo on Pexels"
    assert photo["description_localizations"]["de"] == "Finde ein Foto auf Pexels"
    assert photo["name_localizations"]["de"] == "foto"
    assert photo["name_localizations"]["ja"] == "写真"
    options = {o["name"]: o for o in photo["options"]}
    assert set(options) == {"query", "orientation", "size", "color", "private", "locale"}
    for option in options.values():
        assert option["description_localizations"]["de"], option["name"]
        assert option["description_localizations"]["ja"], option["name"]
    assert options["query"]["description_localizations"]["de"] == (
        "Wonach gesucht wird, z. B.: Sonnenuntergang über dem Meer"
    )
    assert options["color"]["name_localizations"]["de"] == "farbe"
    landscape = next(c for c in options["orientation"]["choices"] if c["value"] == "landscape")
    assert landscape["name_localizations"]["de"] == "Querformat"
    menu = next(c for c in rig.discord.global_commands if c["name"] == "Find photos")
    assert menu["name_localizations"]["de"] == "Fotos finden"


async def test_a_german_result_pages_for_an_english_client_after_a_restart(
    discord_fake: FakeDiscord, pexels: FakePexels, errors: ErrorGuard
) -> None:
    """Nothing read back depends on the language: a process that never saw the German results pages them for a
    client now set to English (the owner switched languages), in English."""
    settings = load_settings(bot_environment(discord_fake, pexels), env_file=None)
    owner = make_user(1)
    async with running_bot(settings, discord_fake):
        search = await discord_fake.slash("photo", {"query": "Katze", "size": "large"}, user=owner, locale="de")
        curated = await discord_fake.slash("curated", {}, user=owner, locale="de")
        await search.wait_done(timeout=15)
        await curated.wait_done(timeout=15)
    photo, best = result_message(search), result_message(curated)
    assert footer(photo) == '1 / 240 · "Katze"'
    assert footer(best) == "1 / 240 · Kuratiert von Pexels"

    async with running_bot(settings, discord_fake):  # a new process: empty memory, only the messages remain
        for message in (photo, best):
            pressed = await discord_fake.click(message.id, "▶", user=owner, locale="en-US")
            await pressed.wait_done(timeout=15)
            assert pressed.errors == [] and pressed.ephemeral_reply_text == "", pressed.describe()
    paged = discord_fake.messages[photo.id]
    assert footer(paged) == '2 / 240 · "Katze"'
    assert embed(paged)["image"]["url"] == pexels.photo("Katze", 1, locale="de-DE", size="large")["src"]["large"]
    assert "[Photos provided by Pexels](https://www.pexels.com)" in embed(paged)["description"]
    assert labels(paged)[-1] == "View on Pexels"
    assert footer(discord_fake.messages[best.id]) == "2 / 240 · Curated by Pexels"
    assert embed(discord_fake.messages[best.id])["image"]["url"] == pexels.photo("", 1)["src"]["large"]
