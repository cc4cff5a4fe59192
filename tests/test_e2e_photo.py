"""/photo end to end: the real bot, the loopback Discord and Pexels; assertions on what users see."""

from __future__ import annotations

import asyncio
import re

import pytest

from tests.harness import (
    ErrorGuard,
    Rig,
    RigFactory,
    answered_in_time,
    embed,
    footer,
    refused_privately,
    result_message,
)

PEXELS_LINK = "[Photos provided by Pexels](https://www.pexels.com)"
RELATIVE_TIME = re.compile(r"<t:\d+:R>")


async def test_photo_happy_path(rig: Rig) -> None:
    """A search posts one public, credited embed with the first Pexels result and the page buttons."""
    record = await rig.photo("Sunset", user=rig.user(1))
    answered_in_time(record)
    message = result_message(record)
    photo = rig.pexels.photo("sunset", 0, locale="en-US")
    shown = embed(message)

    assert not message.ephemeral
    assert shown["title"] == photo["alt"]
    assert shown["url"] == photo["url"]
    assert shown["image"]["url"] == photo["src"]["large"]
    assert shown["color"] == int(photo["avg_color"].lstrip("#"), 16)
    assert "author" not in shown, "the photographer is credited once, in the description"
    assert (
        f"📷 Photo by [{photo['photographer']}]({photo['photographer_url']}) on [Pexels]({photo['url']})"
        in (shown["description"])
    )
    assert PEXELS_LINK in shown["description"]
    assert footer(message) == '1 / 240 · "Sunset"'

    emoji = [(b.get("emoji") or {}).get("name") or b.get("label") for b in message.buttons()]
    assert emoji == ["⏮", "◀", "1 / 240", "▶", "⏭", "🔀", "🗑", "⭐", "View on Pexels"]
    disabled = {(b.get("emoji") or {}).get("name") for b in message.buttons() if b.get("disabled")}
    assert disabled == {"⏮", "◀"}
    assert message.button("View on Pexels")["url"] == photo["url"]
    assert message.allowed_mentions == {"parse": []}

    searches = [r for r in rig.pexels.requests if r.path == "/v1/search"]
    assert len(searches) == 1
    assert searches[0].query["per_page"] == "80"
    assert searches[0].query["query"] == "Sunset"


async def test_alt_text_missing_and_no_colour(rig: Rig) -> None:
    """A photo without alt text or average colour still gets a title, a colour and full credit."""
    rig.pexels.set_total("foggy harbour", 8)
    message = result_message(await rig.photo("foggy harbour", user=rig.user(1)))
    for _ in range(7):  # the fake's result 7 has no alt text
        message = rig.discord.messages[message.id]
        await rig.press(message, "▶", user=rig.user(1))
    shown = embed(rig.discord.messages[message.id])
    photo = rig.pexels.photo("foggy harbour", 7, locale="en-US")
    assert photo["alt"] == ""
    assert photo["url"].endswith("/foggy-harbour-photo-7-" + str(photo["id"]) + "/")
    assert shown["title"] == "Foggy harbour photo 7", "a title read from the photo's page address"
    assert PEXELS_LINK in shown["description"]
    assert footer(rig.discord.messages[message.id]) == '8 / 8 · "foggy harbour"'


async def test_paging_with_every_button(make_rig: RigFactory) -> None:
    """Every button shows the right photo and counter; the first 80 cost nothing, the next page one request."""
    rig = await make_rig(BUTTON_COOLDOWN="100/10")
    user = rig.user(1)
    message = result_message(await rig.photo("mountain lake", user=user))

    def expect(index: int) -> None:
        current = rig.discord.messages[message.id]
        photo = rig.pexels.photo("mountain lake", index, locale="en-US")
        assert embed(current)["image"]["url"] == photo["src"]["large"]
        assert footer(current) == f'{index + 1} / 240 · "mountain lake"'
        disabled = {(b.get("emoji") or {}).get("name") for b in current.buttons() if b.get("disabled")}
        expected = ({"⏮", "◀"} if index == 0 else set()) | ({"▶", "⏭"} if index == 239 else set())
        assert disabled == expected

    async def press(button: str) -> None:
        record = await rig.press(rig.discord.messages[message.id], button, user=user)
        answered_in_time(record)
        assert record.response_type in (6, 7), record.describe()

    await press("▶")
    expect(1)
    await press("▶")
    expect(2)
    await press("◀")
    expect(1)
    await press("⏮")
    expect(0)
    assert rig.pexels.count("/v1/search") == 1, "paging inside the first 80 results must not ask Pexels"

    await press("⏭")
    expect(239)
    assert rig.pexels.count("/v1/search") == 2, "the last result is on Pexels' third page: one more request"
    await press("◀")
    expect(238)
    await press("⏮")
    expect(0)
    await press("🔀")
    current = rig.discord.messages[message.id]
    position = int(footer(current).split(" / ")[0])
    assert 2 <= position <= 80, "🔀 picks another result among those already fetched"
    assert rig.pexels.count("/v1/search") == 2
    assert rig.discord.messages[message.id].edits >= 8
    assert all(m.allowed_mentions == {"parse": []} for m in rig.discord.messages.values() if not m.loading)


async def test_jump_modal_and_crossing_into_the_second_page(make_rig: RigFactory) -> None:
    """The counter button opens a modal; result 80 costs nothing, 81 fetches Pexels' page 2 exactly once."""
    rig = await make_rig(BUTTON_COOLDOWN="100/10")
    user = rig.user(1)
    message = result_message(await rig.photo("red flower", user=user))

    opened = await rig.press(message, "1 / 240", user=user)
    answered_in_time(opened)
    assert opened.response_type == 9
    field = opened.modal["components"][0]
    field_id = (field.get("component") or field["components"][0])["custom_id"]
    jumped = await rig.discord.submit_modal(opened, {field_id: "80"})
    await jumped.wait_done()
    answered_in_time(jumped)
    assert footer(rig.discord.messages[message.id]) == '80 / 240 · "red flower"'
    assert rig.pexels.count("/v1/search") == 1

    await rig.press(rig.discord.messages[message.id], "▶", user=user)
    current = rig.discord.messages[message.id]
    assert footer(current) == '81 / 240 · "red flower"'
    assert embed(current)["image"]["url"] == rig.pexels.photo("red flower", 80, locale="en-US")["src"]["large"]
    assert rig.pexels.count("/v1/search") == 2
    await rig.press(rig.discord.messages[message.id], "▶", user=user)
    await rig.press(rig.discord.messages[message.id], "◀", user=user)
    await rig.press(rig.discord.messages[message.id], "◀", user=user)
    assert footer(rig.discord.messages[message.id]) == '80 / 240 · "red flower"'
    assert rig.pexels.count("/v1/search") == 2, "each Pexels page is fetched once"


@pytest.mark.parametrize("typed", ["0", "241", "ten", "-3"])
async def test_jump_to_a_bad_number(rig: Rig, typed: str) -> None:
    """A number out of range, or not a number, gets a clear private reply and the message stays."""
    user = rig.user(1)
    message = result_message(await rig.photo("forest", user=user))
    opened = await rig.press(message, "1 / 240", user=user)
    field = opened.modal["components"][0]
    field_id = (field.get("component") or field["components"][0])["custom_id"]
    record = await rig.discord.submit_modal(opened, {field_id: typed})
    await record.wait_done()
    refused_privately(record, "from 1 to 240")
    assert footer(rig.discord.messages[message.id]) == '1 / 240 · "forest"'


async def test_inflated_total_stays_truthful(make_rig: RigFactory) -> None:
    """When Pexels reports more than it serves, ⏭ lands on the real last photo and the counter is corrected."""
    rig = await make_rig(BUTTON_COOLDOWN="100/10")
    rig.pexels.set_total("xylophone", 3932, served=100)
    user = rig.user(1)
    message = result_message(await rig.photo("xylophone", user=user))
    assert footer(message) == '1 / 240 · "xylophone"'

    await rig.press(message, "⏭", user=user)
    current = rig.discord.messages[message.id]
    assert footer(current) == '100 / 100 · "xylophone"'
    assert embed(current)["image"]["url"] == rig.pexels.photo("xylophone", 99, locale="en-US")["src"]["large"]
    assert {(b.get("emoji") or {}).get("name") for b in current.buttons() if b.get("disabled")} == {"▶", "⏭"}
    spent = rig.pexels.count("/v1/search")
    assert spent <= 3

    again = result_message(await rig.photo("xylophone", user=rig.user(2)))
    assert footer(again) == '1 / 100 · "xylophone"', "the corrected count is remembered for everyone"
    assert rig.pexels.count("/v1/search") == spent


async def test_a_strangers_press_is_refused_and_changes_nothing(rig: Rig) -> None:
    """Only the searcher turns pages or deletes; anyone else is told, privately, to search themselves."""
    message = result_message(await rig.photo("cats", user=rig.user(1)))
    before = (footer(message), message.edits)
    for button in ("▶", "🗑", "🔀"):
        record = await rig.press(rig.discord.messages[message.id], button, user=rig.user(2))
        refused_privately(record, "start your own search with /photo")
    current = rig.discord.messages[message.id]
    assert not current.deleted
    assert (footer(current), current.edits) == before


async def test_the_searcher_deletes_the_message(rig: Rig) -> None:
    """🗑 from the searcher removes the result from the channel."""
    user = rig.user(1)
    message = result_message(await rig.photo("dogs", user=user))
    record = await rig.press(message, "🗑", user=user)
    answered_in_time(record)
    assert rig.discord.messages[message.id].deleted
    assert message.id not in [m.id for m in rig.discord.channel_messages(message.channel_id)]


async def test_search_cooldown(make_rig: RigFactory) -> None:
    """Past SEARCH_COOLDOWN a user is told privately when to come back; others are unaffected; it expires."""
    rig = await make_rig(SEARCH_COOLDOWN="2/1.5")
    user = rig.user(1)
    for query in ("a tree", "a boat"):
        assert not result_message(await rig.photo(query, user=user)).ephemeral
    refused = await rig.photo("a car", user=user)
    text = refused_privately(refused, "try again")
    assert RELATIVE_TIME.search(text), text
    assert not result_message(await rig.photo("a car", user=rig.user(2))).ephemeral
    await asyncio.sleep(1.6)
    assert not result_message(await rig.photo("a car", user=user)).ephemeral


async def test_button_cooldown(make_rig: RigFactory) -> None:
    """Past BUTTON_COOLDOWN presses are refused privately with a time, and the message stays as it was."""
    rig = await make_rig(BUTTON_COOLDOWN="2/60")
    user = rig.user(1)
    message = result_message(await rig.photo("ocean", user=user))
    await rig.press(message, "▶", user=user)
    await rig.press(rig.discord.messages[message.id], "▶", user=user)
    record = await rig.press(rig.discord.messages[message.id], "▶", user=user)
    text = refused_privately(record, "try again")
    assert RELATIVE_TIME.search(text), text
    assert footer(rig.discord.messages[message.id]) == '3 / 240 · "ocean"'


async def test_hourly_quota_guard_still_serves_cached_searches(make_rig: RigFactory) -> None:
    """After PEXELS_HOURLY_LIMIT requests new searches are refused with a time; cached ones still work."""
    rig = await make_rig(PEXELS_HOURLY_LIMIT="2")
    user = rig.user(1)
    result_message(await rig.photo("alps", user=user))
    result_message(await rig.photo("andes", user=user))
    refused = await rig.photo("rockies", user=user)
    text = refused_privately(refused, "allowance", "searches someone already made still work")
    assert RELATIVE_TIME.search(text), text
    assert rig.pexels.count() == 2, "the guard refuses before asking Pexels"
    cached = result_message(await rig.photo("ALPS", user=rig.user(2)))
    assert footer(cached) == '1 / 240 · "ALPS"'
    assert rig.pexels.count() == 2


async def test_the_monthly_reserve_is_kept(rig: Rig) -> None:
    """When Pexels says only PEXELS_QUOTA_RESERVE requests are left this month, new searches stop."""
    rig.pexels.monthly_limit = 22
    result_message(await rig.photo("canyon", user=rig.user(1)))
    result_message(await rig.photo("valley", user=rig.user(1)))
    assert rig.pexels.remaining == 20
    text = refused_privately(await rig.photo("plateau", user=rig.user(1)), "allowance")
    assert RELATIVE_TIME.search(text), text
    assert rig.pexels.count() == 2
    assert not result_message(await rig.photo("canyon", user=rig.user(2))).ephemeral


async def test_pexels_429_stops_new_requests(rig: Rig) -> None:
    """A 429 from Pexels stops every new request until the reset; cached searches are still served."""
    result_message(await rig.photo("beach", user=rig.user(1)))
    rig.pexels.fail_next(429, body='{"error":"Rate limit exceeded"}')
    refused_privately(await rig.photo("desert", user=rig.user(1)), "allowance")
    assert rig.pexels.count() == 2
    refused_privately(await rig.photo("jungle", user=rig.user(2)), "allowance")
    assert rig.pexels.count() == 2, "no request after a 429"
    assert not result_message(await rig.photo("beach", user=rig.user(3))).ephemeral


@pytest.mark.parametrize(
    ("fault", "phrase", "logged"),
    [
        ("500", "isn't answering", None),
        ("401", "refused this bot's key", r"refused the API key"),
        ("malformed", "couldn't read", r"not JSON"),
        ("wrong-shape", "couldn't read", None),
    ],
)
async def test_pexels_failures_get_a_clear_private_reply(
    rig: Rig, errors: ErrorGuard, fault: str, phrase: str, logged: str | None
) -> None:
    """Pexels down, refusing the key or sending garbage: a private explanation, then the bot keeps serving."""
    if logged:
        errors.expect(logged)
    if fault == "500":
        rig.pexels.fail_next(500, count=3, body="<html>502 Bad Gateway</html>", content_type="text/html")
    elif fault == "401":
        rig.pexels.fail_next(401, body='{"status":401,"code":"Unauthorized"}')
    elif fault == "malformed":
        rig.pexels.malformed_next()
    else:
        rig.pexels.wrong_shape_next()
    refused_privately(await rig.photo("volcano", user=rig.user(1)), phrase)
    again = await rig.photo("volcano", user=rig.user(2))
    answered_in_time(again)
    assert not result_message(again).ephemeral


async def test_a_slow_pexels_defers_then_posts_publicly(rig: Rig) -> None:
    """Pexels slower than 3 s: the bot defers in time and then shows the result publicly."""
    rig.pexels.slow_next(3.5)
    record = await rig.photo("thunderstorm", user=rig.user(1))
    answered_in_time(record)
    assert record.response_type == 5
    message = result_message(record)
    assert not message.ephemeral and not message.loading
    assert footer(message) == '1 / 240 · "thunderstorm"'


async def test_an_error_after_a_public_defer_stays_private(rig: Rig) -> None:
    """A failure after a public "thinking…" removes the placeholder and tells only the searcher."""
    rig.pexels.fail_next(500, count=3, delay=0.7, body="<html>oops</html>", content_type="text/html")
    record = await rig.photo("aurora", user=rig.user(1))
    await record.wait_for(lambda r: bool(r.ephemeral_reply_text))
    answered_in_time(record)
    assert record.response_type == 5
    assert record.placeholder is not None and record.placeholder.deleted
    refused_privately(record, "isn't answering")
    assert [m for m in rig.discord.channel_messages(record.channel_id) if m.is_visible_publicly] == []


async def test_zero_results(rig: Rig) -> None:
    """No matches: a private suggestion, nothing posted."""
    rig.pexels.set_total("qzxv wobble", 0)
    refused_privately(await rig.photo("qzxv wobble", user=rig.user(1)), "no results")


@pytest.mark.parametrize("colour", ["mauve", "#12345", "ff00zz"])
async def test_a_bad_colour_is_explained_without_asking_pexels(rig: Rig, colour: str) -> None:
    """A colour Pexels doesn't know gets a private reply naming the valid choices."""
    refused_privately(await rig.photo("sky", user=rig.user(1), color=colour), "isn't a colour", "#ffaa00")
    assert rig.pexels.count() == 0


async def test_colour_names_and_hex_codes_reach_pexels(rig: Rig) -> None:
    """A colour name and a hex code are passed on (the hex percent-encoded on the wire)."""
    result_message(await rig.photo("car", user=rig.user(1), color="Red"))
    result_message(await rig.photo("car", user=rig.user(1), color="#FFAA00"))
    colours = [r.query.get("color") for r in rig.pexels.requests]
    assert colours == ["red", "#ffaa00"]


async def test_colour_autocomplete(rig: Rig) -> None:
    """Typing in the colour option offers Pexels' colour names."""
    record = await rig.discord.autocomplete("photo", {"query": "sky", "color": "bl"}, "color", user=rig.user(1))
    await record.wait_done()
    answered_in_time(record)
    assert [c["value"] for c in record.choices or []] == ["blue", "black"]
    languages = await rig.discord.autocomplete("photo", {"query": "sky", "locale": "pt"}, "locale", user=rig.user(1))
    await languages.wait_done()
    assert [c["value"] for c in languages.choices or []] == ["pt-BR"]


async def test_everyone_is_echoed_harmlessly(rig: Rig) -> None:
    """A query of @everyone is shown as text and pings nobody."""
    message = result_message(await rig.photo("@everyone @here <@123>", user=rig.user(1)))
    assert footer(message) == '1 / 240 · "@everyone @here <@123>"'
    assert message.pings() == {"users": [], "roles": [], "everyone": False}
    assert message.allowed_mentions == {"parse": []}


@pytest.mark.parametrize("query", ["a" * 100, "夕焼けの海", "Кошка на крыше", "café au lait"])
async def test_long_and_non_latin_queries(rig: Rig, query: str) -> None:
    """A 100-character query and non-Latin scripts are searched and shown as typed."""
    message = result_message(await rig.photo(query, user=rig.user(1)))
    assert footer(message) == f'1 / 240 · "{query}"'
    assert rig.pexels.requests[-1].query["query"] == query


async def test_a_blank_query_is_explained(rig: Rig) -> None:
    """Only spaces: a private hint, no request."""
    refused_privately(await rig.photo("   ", user=rig.user(1)), "type something")
    assert rig.pexels.count() == 0


async def test_the_bot_resumes_after_a_gateway_drop(rig: Rig) -> None:
    """The gateway drops; discord.py resumes and the next search is answered."""
    await rig.discord.drop_gateway()
    assert rig.discord.resumes >= 1
    answered_in_time(await rig.photo("sunrise", user=rig.user(1)))


async def test_discord_rate_limits_are_honoured(rig: Rig) -> None:
    """A 429 from Discord on the callback is waited out; the user still gets the result in time."""
    rig.discord.rest_429_next("/callback", retry_after=0.3)
    record = await rig.photo("meadow", user=rig.user(1))
    answered_in_time(record)
    assert not result_message(record).ephemeral


async def test_buttons_from_an_unknown_format_or_a_changed_message_are_answered(rig: Rig) -> None:
    """A custom_id we would not have written, or a footer that no longer matches, gets a clear reply."""
    user = rig.user(1)
    message = result_message(await rig.photo("kites", user=user))
    spec = message.button("▶")["custom_id"].split(":")[4]
    message.button("▶")["custom_id"] = message.button("▶")["custom_id"].replace(spec, "p.sideways.-.-.-")
    refused_privately(await rig.press(message, "▶", user=user), "can't be browsed any more")

    message.embeds[0]["footer"]["text"] = '1 / 240 · "balloons"'
    refused_privately(await rig.press(message, "⏭", user=user), "can't be browsed any more")
    assert rig.pexels.count() == 1


async def test_pexels_failing_while_turning_past_the_first_80(rig: Rig) -> None:
    """A press that needs Pexels while it is down gets a private apology; the message stays as it was."""
    user = rig.user(1)
    message = result_message(await rig.photo("orchard", user=user))
    rig.pexels.fail_next(503, count=3, body="<html>503</html>", content_type="text/html")
    record = await rig.press(message, "⏭", user=user)
    await record.wait_for(lambda r: bool(r.ephemeral_reply_text))
    assert "isn't answering" in record.ephemeral_reply_text
    assert footer(rig.discord.messages[message.id]) == '1 / 240 · "orchard"'
    await rig.press(rig.discord.messages[message.id], "⏭", user=user)
    assert footer(rig.discord.messages[message.id]) == '240 / 240 · "orchard"', "works again once Pexels is back"


async def test_a_slow_page_fetch_defers_the_press_and_then_updates(rig: Rig) -> None:
    """A press that waits on a slow Pexels is acknowledged in time, then the message is updated in place."""
    user = rig.user(1)
    message = result_message(await rig.photo("glacier lake", user=user))
    rig.pexels.slow_next(2.0)
    record = await rig.press(message, "⏭", user=user)
    answered_in_time(record)
    assert record.response_type == 6
    await record.wait_for(lambda r: footer(rig.discord.messages[message.id]).startswith("240 / 240"))
    assert record.public_reply_text == record.ephemeral_reply_text == ""


async def test_photo_in_a_direct_message(rig: Rig) -> None:
    """/photo works in a DM with the bot too."""
    record = await rig.discord.slash("photo", {"query": "sunflowers"}, user=rig.user(1), guild_id=None)
    await record.wait_done()
    answered_in_time(record)
    assert footer(result_message(record)) == '1 / 240 · "sunflowers"'
