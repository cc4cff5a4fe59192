"""Find photos on every kind of Discord message: forwarded, Components V2, polls, embeds; and on celebrity news."""

from __future__ import annotations

import pytest

from tests.fakes.discord import DEFAULT_CHANNEL, StoredMessage
from tests.fakes.discord.interactions import container, section, text_display
from tests.harness import Rig, answered_in_time, refused_privately, result_message

TRAVEL = (
    "We spent the morning walking along the Seine to the Eiffel Tower, then took a boat ride past "
    "Notre-Dame while the sun set over the old bridges."
)


async def offered(rig: Rig, target: StoredMessage) -> list[str]:
    """Run Find photos on `target` and return the phrases its private menu offers."""
    record = await rig.discord.message_command("Find photos", target, user=rig.user(2))
    await record.wait_done()
    answered_in_time(record)
    menu = result_message(record)
    assert menu.ephemeral
    return [option["value"] for option in menu.selects()[0]["options"]]


def mentions_the_tower(phrases: list[str]) -> bool:
    return any("eiffel" in phrase.lower() for phrase in phrases)


async def test_a_forwarded_message(rig: Rig) -> None:
    """A forward has no content of its own: its words are in the snapshot."""
    original = rig.discord.post_user_message(DEFAULT_CHANNEL, TRAVEL, author=rig.user(1))
    forward = rig.discord.post_forward(DEFAULT_CHANNEL, original, author=rig.user(3))
    assert not forward.content
    assert mentions_the_tower(await offered(rig, forward))


async def test_a_components_v2_message(rig: Rig) -> None:
    """Text in Text Displays, nested in a Container and a Section, as bots post with Components V2."""
    target = rig.discord.post_components_v2(
        DEFAULT_CHANNEL,
        [container(text_display("## Weekend in Paris"), section(TRAVEL))],
        author=rig.user(1),
    )
    assert not target.content
    assert mentions_the_tower(await offered(rig, target))


async def test_a_poll(rig: Rig) -> None:
    """A poll's question and answers are its words."""
    target = rig.discord.post_poll(
        DEFAULT_CHANNEL,
        "Where should the team offsite go this spring?",
        ["Eiffel Tower and the Seine", "Lake Como in Italy", "Swiss Alps hiking trip"],
        author=rig.user(1),
    )
    phrases = await offered(rig, target)
    assert mentions_the_tower(phrases) or any("como" in p.lower() or "alps" in p.lower() for p in phrases), phrases


async def test_an_embed_only_message(rig: Rig) -> None:
    """What another bot posts: no content, a title, a description and fields."""
    target = rig.discord.post_embeds(
        DEFAULT_CHANNEL,
        [{"title": "Travel digest", "description": TRAVEL, "fields": [{"name": "Tip", "value": "Go at dawn"}]}],
        author=rig.user(1),
    )
    assert mentions_the_tower(await offered(rig, target))


async def test_celebrity_news_offers_what_a_photo_can_show(rig: Rig) -> None:
    """Pexels has no celebrities: the people and the magazine are left out, the scene stays."""
    news = (
        "Taylor Swift and Travis Kelce were spotted holding hands at a beachfront restaurant in Malibu on "
        "Saturday, People magazine reported, as the sun set over the Pacific Ocean."
    )
    phrases = [
        p.lower() for p in await offered(rig, rig.discord.post_user_message(DEFAULT_CHANNEL, news, author=rig.user(1)))
    ]
    assert not any(name in p for p in phrases for name in ("taylor", "swift", "travis", "kelce", "people magazine"))
    assert any("pacific" in p or "beachfront" in p or "malibu" in p for p in phrases), phrases


@pytest.mark.parametrize("kind", ["components", "poll"])
async def test_kinds_without_searchable_words_get_a_clear_reply(rig: Rig, kind: str) -> None:
    """A Components V2 message or a poll with nothing to search for is answered privately, not silently."""
    if kind == "components":
        target = rig.discord.post_components_v2(DEFAULT_CHANNEL, [text_display("🎉 🎉")], author=rig.user(1))
    else:
        target = rig.discord.post_poll(DEFAULT_CHANNEL, "??", ["1", "2"], author=rig.user(1))
    record = await rig.discord.message_command("Find photos", target, user=rig.user(2))
    await record.wait_done()
    refused_privately(record, "no words I can search")
