"""A first end-to-end check: /photo through the loopback Discord and Pexels."""

from __future__ import annotations

from tests.harness import Rig


async def test_photo_happy_path(rig: Rig) -> None:
    """A search posts one public, credited embed with the first Pexels result and the page buttons."""
    user = rig.user(1)
    record = await rig.photo("sunset", user=user)
    assert record.ack_latency is not None and record.ack_latency < 3
    message = record.messages[-1]
    print(record.describe())
    print(message.to_payload())
    assert not message.ephemeral
