"""The saved-items browser's custom_id codec and view, and the channel permission arithmetic of /daily set."""

from __future__ import annotations

from typing import Any

import discord
import pytest
from hypothesis import given
from hypothesis import strategies as st

from bot.db import ItemSnapshot, SavedEntry
from bot.photo_of_the_day import channel_permissions, missing_permissions
from bot.saved import clear_view, saved_view
from bot.wire import SavedAction, SavedState

ENTRY = SavedEntry(
    ItemSnapshot("photo", 2014422, "Fox", "https://www.pexels.com/photo/fox-2014422/", "https://images.pexels.com/f.jpg",
                 "Ana", "https://www.pexels.com/@ana"),
    1.0,
)  # fmt: skip


@given(
    action=st.sampled_from([a for a in SavedAction if a is not SavedAction.REMOVE]),
    owner=st.integers(0, 2**64 - 1),
    index=st.integers(0, 9999),
)
def test_saved_state_round_trip(action: SavedAction, owner: int, index: int) -> None:
    state = SavedState(action, owner, index)
    assert SavedState.parse(state.encode()) == state
    assert len(state.encode()) <= 100


@given(owner=st.integers(0, 2**64 - 1), kind=st.sampled_from(["photo", "video"]), pexels_id=st.integers(1, 10**19 - 1))
def test_the_remove_button_carries_its_item(owner: int, kind: str, pexels_id: int) -> None:
    state = SavedState(SavedAction.REMOVE, owner, 499, (kind, pexels_id))
    assert SavedState.parse(state.encode()) == state
    assert len(state.encode()) <= 100


@pytest.mark.parametrize(
    "custom_id",
    ["pxs:r:1:0", "pxs:n:1:0:p5", "pxs:z:1:0", "pxs:n:18446744073709551616:0", "pxs:n:1:10000", "px:n:1:0", ""],
)
def test_custom_ids_we_never_wrote_are_refused(custom_id: str) -> None:
    with pytest.raises(ValueError):
        SavedState.parse(custom_id)


def faces(view: discord.ui.View) -> list[tuple[str, bool]]:
    items: list[Any] = list(view.children)
    return [(str(b.emoji) if b.emoji else str(b.label), bool(b.disabled)) for b in items]


async def test_saved_view_pages_and_removes_what_is_shown() -> None:
    view = saved_view(ENTRY, owner=42, index=0, total=3)
    assert faces(view) == [("⏮", True), ("◀", True), ("1 / 3", True), ("▶", False), ("⏭", False), ("🗑", False),
                           ("View on Pexels", False)]  # fmt: skip
    states = [SavedState.parse(b.custom_id) for b in view.children if isinstance(b, discord.ui.Button) and b.custom_id]
    assert {s.owner for s in states} == {42}
    by_action = {s.action: s for s in states}
    assert by_action[SavedAction.NEXT].index == 1 and by_action[SavedAction.LAST].index == 2
    assert by_action[SavedAction.REMOVE].item == ("photo", 2014422)
    assert [len(row["components"]) for row in view.to_components()] == [5, 2]
    assert view.is_finished()


async def test_clear_view_confirms_or_keeps() -> None:
    view = clear_view(7, "en-US")
    assert [b.label for b in view.children if isinstance(b, discord.ui.Button)] == ["Delete all", "Cancel"]


class RestStandIn:
    """The three REST reads `channel_permissions` makes, answered from fixed data."""

    def __init__(self, channel: dict[str, Any], roles: list[dict[str, Any]], member_roles: list[str]) -> None:
        self.channel, self.roles, self.member_roles = channel, roles, member_roles

    async def get_channel(self, channel_id: int) -> dict[str, Any]:
        return self.channel

    async def get_roles(self, guild_id: int) -> list[dict[str, Any]]:
        return self.roles

    async def get_member(self, guild_id: int, member_id: int) -> dict[str, Any]:
        return {"roles": self.member_roles}


GUILD, ROLE, BOT = 100, 200, 300
VIEW, SEND, EMBED = (discord.Permissions(**{p: True}).value for p in ("view_channel", "send_messages", "embed_links"))


@pytest.mark.parametrize(
    ("overwrites", "expected_missing"),
    [
        ([], []),
        ([{"id": str(GUILD), "type": 0, "allow": "0", "deny": str(SEND)}], ["Send Messages"]),
        (  # a role's allow beats @everyone's deny
            [{"id": str(GUILD), "type": 0, "allow": "0", "deny": str(SEND)},
             {"id": str(ROLE), "type": 0, "allow": str(SEND), "deny": "0"}],
            [],
        ),
        (  # the member's own overwrite beats its roles'
            [{"id": str(ROLE), "type": 0, "allow": str(EMBED), "deny": "0"},
             {"id": str(BOT), "type": 1, "allow": "0", "deny": str(EMBED | VIEW)}],
            ["View Channel", "Embed Links"],
        ),
    ],
)  # fmt: skip
async def test_channel_permissions_follow_discords_overwrite_order(
    overwrites: list[dict[str, Any]], expected_missing: list[str]
) -> None:
    rest = RestStandIn(
        {"id": "1", "guild_id": str(GUILD), "permission_overwrites": overwrites},
        [{"id": str(GUILD), "permissions": str(VIEW | SEND | EMBED)}, {"id": str(ROLE), "permissions": "0"}],
        [str(ROLE)],
    )
    granted = await channel_permissions(rest, GUILD, 1, BOT)  # type: ignore[arg-type]
    assert granted is not None
    assert missing_permissions(discord.Permissions(granted), "en-US") == expected_missing


async def test_administrator_passes_every_overwrite() -> None:
    deny_all = [{"id": str(BOT), "type": 1, "allow": "0", "deny": str(VIEW | SEND | EMBED)}]
    admin = discord.Permissions(administrator=True).value
    rest = RestStandIn({"guild_id": str(GUILD), "permission_overwrites": deny_all},
                       [{"id": str(GUILD), "permissions": "0"}, {"id": str(ROLE), "permissions": str(admin)}],
                       [str(ROLE)])  # fmt: skip
    granted = await channel_permissions(rest, GUILD, 1, BOT)  # type: ignore[arg-type]
    assert granted is not None and missing_permissions(discord.Permissions(granted), None) == []


async def test_a_channel_of_another_server_is_not_checked() -> None:
    rest = RestStandIn({"guild_id": "999"}, [], [])
    assert await channel_permissions(rest, GUILD, 1, BOT) is None  # type: ignore[arg-type]
