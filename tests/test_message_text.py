"""bot.message_text on real discord.Message objects, built by discord.py from gateway-shaped payloads.

Payload shapes follow Discord's API reference: the message object, embeds, polls, message snapshots
(forwards) and Components V2 (https://discord.com/developers/docs/resources/message,
https://discord.com/developers/docs/components/reference).
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Any

import discord
import pytest
from discord.http import HTTPClient
from discord.state import ConnectionState

from bot.keywords import search_phrases
from bot.message_text import MAX_MESSAGE_TEXT, message_text

IS_COMPONENTS_V2 = 1 << 15
AUTHOR = {"id": "222222222222222222", "username": "ana", "discriminator": "0", "avatar": None, "global_name": "Ana"}


@pytest.fixture
async def make_message() -> AsyncIterator[Any]:
    """Build messages the way discord.py does when one arrives: Message(state=..., channel=..., data=...)."""
    http = HTTPClient(asyncio.get_running_loop())
    state = ConnectionState(dispatch=lambda *a, **k: None, handlers={}, hooks={}, http=http)
    channel = discord.PartialMessageable(state=state, id=111111111111111111, type=discord.ChannelType.text)

    def build(**fields: Any) -> discord.Message:
        data: dict[str, Any] = {
            "id": "333333333333333333",
            "channel_id": str(channel.id),
            "author": AUTHOR,
            "content": "",
            "timestamp": "2025-06-01T12:00:00.000000+00:00",
            "edited_timestamp": None,
            "tts": False,
            "mention_everyone": False,
            "mentions": [],
            "mention_roles": [],
            "attachments": [],
            "embeds": [],
            "pinned": False,
            "type": 0,
            **fields,
        }
        return discord.Message(state=state, channel=channel, data=data)  # type: ignore[arg-type]

    yield build
    await http.close()


def _lines(message: discord.Message) -> list[str]:
    return message_text(message).split("\n")


async def test_plain_content(make_message: Any) -> None:
    message = make_message(content="Sunset over the harbour in Lisbon")
    assert message_text(message) == "Sunset over the harbour in Lisbon"


async def test_embed_only_message(make_message: Any) -> None:
    """Title, description and fields are read; the author and footer (who posted, which site) are not."""
    embed = {
        "type": "rich",
        "title": "Storm batters Whitby",
        "description": "Waves crashed over the harbour wall.",
        "fields": [{"name": "Where", "value": "North Yorkshire coast", "inline": True}],
        "author": {"name": "Jane Reporter"},
        "footer": {"text": "Daily Planet"},
    }
    message = make_message(embeds=[embed])
    assert _lines(message) == [
        "Storm batters Whitby",
        "Waves crashed over the harbour wall.",
        "Where",
        "North Yorkshire coast",
    ]
    assert "Jane" not in message_text(message)
    assert "Daily Planet" not in message_text(message)


async def test_poll_question_and_answers(make_message: Any) -> None:
    poll = {
        "question": {"text": "Where should we hike next?"},
        "answers": [
            {"answer_id": 1, "poll_media": {"text": "Mount Fuji"}},
            {"answer_id": 2, "poll_media": {"text": "Grand Canyon", "emoji": {"id": None, "name": "🏜️"}}},
        ],
        "expiry": "2025-06-02T12:00:00.000000+00:00",
        "allow_multiselect": False,
        "layout_type": 1,
    }
    message = make_message(poll=poll)
    assert _lines(message) == ["Where should we hike next?", "Mount Fuji", "Grand Canyon"]
    phrases = search_phrases(message_text(message))
    assert "Mount Fuji" in phrases
    assert "Grand Canyon" in phrases


async def test_forwarded_message(make_message: Any) -> None:
    """A forward has no content of its own: its text is in message_snapshots."""
    snapshot = {
        "type": 0,
        "content": "Just got back from Paris, the Eiffel Tower at night is unreal",
        "embeds": [{"type": "rich", "title": "Night cruise on the Seine"}],
        "attachments": [
            {
                "id": "4",
                "filename": "a.jpg",
                "size": 1,
                "url": "https://x/a.jpg",
                "proxy_url": "https://x/a.jpg",
                "description": "lights on the river",
            }
        ],
        "timestamp": "2025-05-30T20:00:00.000000+00:00",
        "edited_timestamp": None,
        "flags": 0,
        "mentions": [],
        "mention_roles": [],
    }
    message = make_message(
        message_reference={"type": 1, "channel_id": "1", "message_id": "2"},
        message_snapshots=[{"message": snapshot}],
    )
    assert message.content == ""
    assert _lines(message) == [
        "Just got back from Paris, the Eiffel Tower at night is unreal",
        "Night cruise on the Seine",
        "lights on the river",
    ]
    assert "Eiffel Tower" in search_phrases(message_text(message))


async def test_components_v2_message(make_message: Any) -> None:
    """Text Displays at the top level and inside Containers and Sections, plus media alt texts; no buttons."""
    components = [
        {"type": 10, "content": "## Weekend trip"},
        {
            "type": 17,
            "accent_color": 0x3366FF,
            "components": [
                {"type": 10, "content": "Cherry blossoms along the river in Kyoto"},
                {"type": 14, "divider": True, "spacing": 1},
                {
                    "type": 9,
                    "components": [{"type": 10, "content": "A night in a traditional ryokan"}],
                    "accessory": {"type": 11, "media": {"url": "https://x/r.png"}, "description": "hot spring bath"},
                },
                {
                    "type": 12,
                    "items": [{"media": {"url": "https://x/t.png"}, "description": "bamboo forest"}],
                },
                {"type": 1, "components": [{"type": 2, "style": 1, "label": "Vote now", "custom_id": "v"}]},
            ],
        },
    ]
    message = make_message(flags=IS_COMPONENTS_V2, components=components)
    assert _lines(message) == [
        "## Weekend trip",
        "Cherry blossoms along the river in Kyoto",
        "A night in a traditional ryokan",
        "hot spring bath",
        "bamboo forest",
    ]
    phrases = [p.casefold() for p in search_phrases(message_text(message))]
    assert "cherry blossoms" in phrases
    assert "kyoto" in phrases
    assert not any("vote" in p for p in phrases)


async def test_everything_together_in_reading_order(make_message: Any) -> None:
    message = make_message(
        content="look at this",
        embeds=[{"type": "rich", "description": "Lighthouse at dawn"}],
        message_snapshots=[
            {
                "message": {
                    "type": 0,
                    "content": "foggy coast",
                    "embeds": [],
                    "attachments": [],
                    "timestamp": "2025-05-30T20:00:00+00:00",
                    "edited_timestamp": None,
                }
            }
        ],
    )
    assert _lines(message) == ["look at this", "Lighthouse at dawn", "foggy coast"]


async def test_message_without_text(make_message: Any) -> None:
    message = make_message(embeds=[{"type": "image", "url": "https://x/y.png"}], content="   ")
    assert message_text(message) == ""


async def test_text_is_bounded(make_message: Any) -> None:
    embeds = [{"type": "rich", "title": "t" * 256, "description": "d " * 2000} for _ in range(10)]
    message = make_message(content="c " * 2000, embeds=embeds)
    text = message_text(message)
    assert len(text) == MAX_MESSAGE_TEXT
    assert text.startswith("c c")
