"""Private browsing, videos, curated, languages, Find photos and /about, end to end."""

from __future__ import annotations

import re
from typing import Any

import pytest

from tests.fakes.discord import DEFAULT_CHANNEL
from tests.harness import Rig, RigFactory, answered_in_time, embed, footer, refused_privately, result_message


def button_names(message: Any) -> list[str]:
    """What a user reads on the buttons, in order."""
    return [(b.get("emoji") or {}).get("name") or b.get("label") for b in message.buttons()]


async def test_browse_privately_then_post_publicly(make_rig: RigFactory) -> None:
    """private:True opens an ephemeral picker with 📤; Post shares the photo credited, pinging nobody."""
    rig = await make_rig()
    user = rig.user(1)
    record = await rig.photo("sunset", user=user, private=True)
    answered_in_time(record)
    picker = result_message(record)
    assert picker.ephemeral and picker.visible_to == user.id
    assert rig.discord.channel_messages(DEFAULT_CHANNEL, viewer=rig.user(2).id) == []
    assert button_names(picker) == ["⏮", "◀", "1 / 240", "▶", "⏭", "🔀", "🗑", "⭐", "📤", "View on Pexels"]

    await rig.press(picker, "▶", user=user)
    picker = rig.discord.messages[picker.id]
    assert picker.ephemeral and footer(picker) == '2 / 240 · "sunset"'

    posted = await rig.press(picker, "📤", user=user)
    answered_in_time(posted)
    await posted.wait_for(lambda r: any(not m.ephemeral for m in r.messages))
    await posted.wait_for(lambda r: rig.discord.messages[picker.id].embeds == [])
    picker = rig.discord.messages[picker.id]
    assert picker.buttons() == [], "the private picker closes once the public post exists"
    assert "Posted" in (picker.content or "")

    public = list(rig.discord.channel_messages(DEFAULT_CHANNEL, viewer=rig.user(2).id))
    assert len(public) == 1 and not public[0].ephemeral
    shared = embed(public[0])
    photo = rig.pexels.photo("sunset", 1, locale="en-US")
    assert shared["image"]["url"] == photo["src"]["large"]
    assert f"Photo by [{photo['photographer']}]({photo['photographer_url']})" in shared["description"]
    assert "[Photos provided by Pexels](https://www.pexels.com)" in shared["description"]
    assert shared["footer"]["text"] == f'Shared by {user.name} · "sunset"'
    assert button_names(public[0]) == ["View on Pexels"], "no page flipping in the channel"
    assert public[0].pings() == {"users": [], "roles": [], "everyone": False}
    assert public[0].allowed_mentions == {"parse": []}
    assert rig.pexels.count() == 1


async def test_the_picker_is_only_the_searchers(rig: Rig) -> None:
    """An ephemeral picker can't even be seen by someone else; its 🗑 dismisses it for the searcher."""
    user = rig.user(1)
    picker = result_message(await rig.photo("tea", user=user, private=True))
    with pytest.raises(PermissionError):
        await rig.discord.click(picker.id, "▶", user=rig.user(2))
    await rig.press(picker, "🗑", user=user)
    assert rig.discord.messages[picker.id].deleted


def expected_mp4(video: dict[str, Any]) -> dict[str, Any]:
    """The file a viewer should get: an MP4 of known size, the largest up to Full HD (labels ignored)."""
    files = [
        f for f in video["video_files"]
        if f["file_type"] == "video/mp4" and f["width"] and f["height"] and ".m3u8" not in f["link"]
    ]  # fmt: skip
    fitting = [f for f in files if min(f["width"], f["height"]) <= 1080]
    return max(fitting, key=lambda f: f["width"] * f["height"])


async def test_video_search(rig: Rig) -> None:
    """/video shows the preview, duration, credit and Pexels link, and links the best inline-playable MP4."""
    user = rig.user(1)
    record = await rig.command("video", {"query": "waves"}, user=user)
    answered_in_time(record)
    message = result_message(record)
    for index in range(3):
        video = rig.pexels.video("waves", index, locale="en-US")
        shown = embed(rig.discord.messages[message.id])
        minutes, seconds = divmod(video["duration"], 60)
        assert shown["image"]["url"] == video["image"]
        assert f"⏱ {minutes}:{seconds:02}" in shown["description"]
        assert f"({expected_mp4(video)['link']})" in shown["description"]
        assert f"[{video['user']['name']}]({video['user']['url']})" in shown["description"]
        assert shown["url"] == video["url"]
        assert footer(rig.discord.messages[message.id]) == f'{index + 1} / 240 · "waves"'
        if index < 2:
            await rig.press(rig.discord.messages[message.id], "▶", user=user)
    assert [r.path for r in rig.pexels.requests] == ["/videos/search"]


async def test_curated(rig: Rig) -> None:
    """/curated pages through Pexels' curated photos."""
    user = rig.user(1)
    message = result_message(await rig.command("curated", user=user))
    assert footer(message) == "1 / 240 · Curated by Pexels"
    assert embed(message)["image"]["url"] == rig.pexels.photo("", 0)["src"]["large"]
    await rig.press(message, "▶", user=user)
    assert embed(rig.discord.messages[message.id])["image"]["url"] == rig.pexels.photo("", 1)["src"]["large"]
    assert [r.path for r in rig.pexels.requests] == ["/v1/curated"]


async def test_the_users_language_reaches_pexels(rig: Rig) -> None:
    """A German client searches in German; the locale option overrides; locales are cached apart."""
    german = await rig.discord.slash("photo", {"query": "Katze"}, user=rig.user(1), locale="de")
    await german.wait_done()
    assert embed(result_message(german))["title"] == rig.pexels.photo("Katze", 0, locale="de-DE")["alt"]
    assert rig.pexels.requests[-1].query["locale"] == "de-DE"

    french = await rig.photo("Katze", user=rig.user(2), locale="fr-FR")
    assert rig.pexels.requests[-1].query["locale"] == "fr-FR"
    assert embed(result_message(french))["title"] == rig.pexels.photo("Katze", 0, locale="fr-FR")["alt"]
    assert rig.pexels.count() == 2

    again = await rig.discord.slash("photo", {"query": "katze"}, user=rig.user(3), locale="de")
    await again.wait_done()
    assert rig.pexels.count() == 2, "same language, same query: served from the cache"


async def test_a_locale_pexels_does_not_know(rig: Rig) -> None:
    """An unknown locale option is explained; a Discord language Pexels lacks searches without a locale."""
    refused_privately(await rig.photo("cat", user=rig.user(1), locale="xx-YY"), "isn't a language")
    hindi = await rig.discord.slash("photo", {"query": "cat"}, user=rig.user(2), locale="hi")
    await hindi.wait_done()
    assert "locale" not in rig.pexels.requests[-1].query


NEWS = (
    "Thousands of runners crossed the Brandenburg Gate on Sunday as the Berlin Marathon finished in warm "
    "autumn weather, while spectators lined the streets around the finish line."
)


async def test_find_photos_from_a_message(rig: Rig) -> None:
    """The message menu offers photo-able phrases from the text; choosing one opens a private picker."""
    author, user = rig.user(1), rig.user(2)
    target = rig.discord.post_user_message(
        DEFAULT_CHANNEL, f"<@{author.id}> {NEWS} https://example.com/x", author=author
    )
    record = await rig.discord.message_command("Find photos", target, user=user)
    await record.wait_done()
    answered_in_time(record)
    menu = result_message(record)
    assert menu.ephemeral
    options = [o["value"] for o in menu.selects()[0]["options"]]
    assert 1 <= len(options) <= 5
    assert any("marathon" in o.lower() for o in options), options
    assert not any(re.search(r"https?:|<@|^\d+$", o) for o in options), options

    choice = next(o for o in options if "marathon" in o.lower())
    chosen = await rig.discord.select(menu.id, [choice], user=user)
    await chosen.wait_done()
    answered_in_time(chosen)
    picker = rig.discord.messages[menu.id]
    assert picker.ephemeral and footer(picker) == f'1 / 240 · "{choice}"'
    assert "📤" in button_names(picker)
    assert rig.pexels.requests[-1].query["query"] == choice


async def test_find_photos_on_a_message_without_text(rig: Rig) -> None:
    """A message with nothing to search for gets a clear private reply."""
    target = rig.discord.post_user_message(DEFAULT_CHANNEL, "<@123> https://example.com 🎉", author=rig.user(1))
    record = await rig.discord.message_command("Find photos", target, user=rig.user(2))
    await record.wait_done()
    refused_privately(record, "no words I can search")


async def test_about(rig: Rig) -> None:
    """/about shows version, uptime, servers, latency, cache hit rate, quota left and reset, attribution."""
    result_message(await rig.photo("river", user=rig.user(1)))
    result_message(await rig.photo("river", user=rig.user(2)))
    record = await rig.command("about", user=rig.user(1))
    answered_in_time(record)
    message = result_message(record)
    assert message.ephemeral
    shown = embed(message)
    fields = {f["name"]: f["value"] for f in shown["fields"]}
    assert set(fields) >= {"Version", "Uptime", "Servers", "Latency", "Cache hit rate", "Pexels quota"}
    assert fields["Cache hit rate"] == "50%"
    assert f"{rig.pexels.remaining:,} of 20,000 this period" in fields["Pexels quota"]
    assert re.search(r"resets <t:\d+:R>", fields["Pexels quota"])
    assert "1 of 200 requests used in the last hour" in fields["Pexels quota"]
    assert "[Photos provided by Pexels](https://www.pexels.com)" in shown["description"]
