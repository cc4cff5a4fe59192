"""`python -m bot` as a real process: run, SIGTERM, restart, sync, check, invite and configuration errors."""

from __future__ import annotations

import asyncio
import re
import signal
from collections.abc import AsyncIterator
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import pytest

from tests.fakes.discord import FakeDiscord, bot_token_for
from tests.fakes.pexels import FakePexels
from tests.harness import ROOT, BotProcess, bot_environment, make_user, run_bot


@pytest.fixture
async def world(tmp_path: Path) -> AsyncIterator[tuple[FakeDiscord, FakePexels, Path]]:
    """Both loopback servers and an empty working folder."""
    async with FakeDiscord() as discord_fake, FakePexels() as pexels:
        yield discord_fake, pexels, tmp_path


async def test_sigterm_restart_and_a_press_on_an_old_message(world: tuple[FakeDiscord, FakePexels, Path]) -> None:
    """SIGTERM closes cleanly with exit 0; a new process answers presses on messages the old one posted."""
    discord_fake, pexels, cwd = world
    env = bot_environment(discord_fake, pexels)
    code, _out, err = await run_bot(cwd, env, "sync")
    assert code == 0, err

    first = await BotProcess.start(cwd, env)
    try:
        await discord_fake.wait_ready(1, timeout=20)
        user = make_user(1)
        record = await discord_fake.slash("photo", {"query": "lighthouse"}, user=user)
        await record.wait_done(timeout=10)
        message = record.messages[0]
        first.proc.send_signal(signal.SIGTERM)
        started = asyncio.get_running_loop().time()
        assert await first.finish(timeout=10) == 0, first.stderr.decode()
        assert asyncio.get_running_loop().time() - started < 10
    finally:
        await first.stop()
    logs = first.stdout.decode() + first.stderr.decode()
    first.assert_no_errors()
    assert "closed cleanly" in logs
    assert discord_fake.token not in logs and pexels.api_key not in logs

    second = await BotProcess.start(cwd, env, "run")
    try:
        await discord_fake.wait_ready(1, timeout=20)
        press = await discord_fake.click(message.id, "▶", user=user)
        await press.wait_done(timeout=10)
        assert press.ack_latency is not None and press.ack_latency < 3
        shown = discord_fake.messages[message.id].embeds[0]
        assert shown["footer"]["text"] == '2 / 240 · "lighthouse"'
        assert shown["image"]["url"] == pexels.photo("lighthouse", 1, locale="en-US")["src"]["large"]
    finally:
        second.proc.send_signal(signal.SIGINT)
        assert await second.finish(timeout=10) == 0
        await second.stop()
    second.assert_no_errors()


@pytest.mark.parametrize(
    ("env", "variable"),
    [
        ({"DISCORD_TOKEN": ""}, "DISCORD_TOKEN"),
        ({"PEXELS_API_KEY": ""}, "PEXELS_API_KEY"),
        ({"SEARCH_COOLDOWN": "five"}, "SEARCH_COOLDOWN"),
        ({"BUTTON_COOLDOWN": "0/10"}, "BUTTON_COOLDOWN"),
        ({"PEXELS_HOURLY_LIMIT": "-5"}, "PEXELS_HOURLY_LIMIT"),
        ({"CACHE_TTL": "1 day"}, "CACHE_TTL"),
        ({"DISCORD_API_URL": "discord.com"}, "DISCORD_API_URL"),
        ({"LOG_LEVEL": "LOUD"}, "LOG_LEVEL"),
        ({"SHARD_COUNT": "2", "SHARD_IDS": "0"}, "REDIS_URL"),
    ],
)
async def test_a_bad_variable_exits_2_with_one_line(tmp_path: Path, env: dict[str, str], variable: str) -> None:
    """A missing or malformed variable: exit code 2 and one line naming it; no traceback."""
    full = {"DISCORD_TOKEN": bot_token_for(900000000000000001), "PEXELS_API_KEY": "k" * 20, **env}
    code, out, err = await run_bot(tmp_path, {k: v for k, v in full.items() if v})
    assert code == 2
    lines = err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith(f"error: {variable}"), err
    assert "Traceback" not in err + out


async def test_a_token_discord_rejects(world: tuple[FakeDiscord, FakePexels, Path]) -> None:
    """A token Discord does not accept: one line saying so, a non-zero exit."""
    discord_fake, pexels, cwd = world
    env = bot_environment(discord_fake, pexels, DISCORD_TOKEN=bot_token_for(900000000000000001) + "wrong")
    code, out, err = await run_bot(cwd, env)
    assert code != 0
    assert "Discord rejected DISCORD_TOKEN" in err and "Traceback" not in err + out
    assert env["DISCORD_TOKEN"] not in err + out


async def test_unreachable_discord(world: tuple[FakeDiscord, FakePexels, Path]) -> None:
    """Discord unreachable: one clear line and a non-zero exit."""
    discord_fake, pexels, cwd = world
    env = bot_environment(discord_fake, pexels, DISCORD_API_URL="http://127.0.0.1:9/api/v10")
    code, out, err = await run_bot(cwd, env)
    assert code == 1
    assert "cannot reach Discord" in err and "Traceback" not in err + out


async def test_check_reports_the_quota(world: tuple[FakeDiscord, FakePexels, Path]) -> None:
    """`check` makes one Pexels request and prints what is left and when it resets."""
    discord_fake, pexels, cwd = world
    code, out, err = await run_bot(cwd, bot_environment(discord_fake, pexels), "check")
    assert code == 0, err
    assert f"{pexels.remaining:,} of 20,000 requests left" in out
    assert "resets 20" in out
    assert pexels.count() == 1


@pytest.mark.parametrize(
    ("fault", "expected"), [("401", "Pexels rejected PEXELS_API_KEY"), ("down", "cannot reach Pexels")]
)
async def test_check_fails_clearly(world: tuple[FakeDiscord, FakePexels, Path], fault: str, expected: str) -> None:
    """`check` with a bad key or an unreachable Pexels: one line, non-zero exit."""
    discord_fake, pexels, cwd = world
    env = bot_environment(discord_fake, pexels)
    if fault == "401":
        env["PEXELS_API_KEY"] = "not-the-key"
    else:
        env["PEXELS_API_URL"] = "http://127.0.0.1:9"
    code, out, err = await run_bot(cwd, env, "check")
    assert code == 1
    assert err.strip().splitlines()[-1].startswith(f"error: {expected}"), err
    assert "not-the-key" not in out + err


async def test_invite_prints_the_oauth_url(tmp_path: Path) -> None:
    """`invite` prints the URL that adds the bot with both scopes and no extra permissions."""
    env = {"DISCORD_TOKEN": bot_token_for(900000000000000001), "PEXELS_API_KEY": "k" * 20}
    code, out, err = await run_bot(tmp_path, env, "invite")
    assert code == 0, err
    url = urlsplit(out.strip())
    query = parse_qs(url.query)
    assert url.netloc == "discord.com" and url.path == "/oauth2/authorize"
    assert query["client_id"] == ["900000000000000001"]
    assert set(query["scope"][0].split()) == {"bot", "applications.commands"}
    assert query["permissions"] == ["0"]


async def test_dotenv_is_read_after_the_environment(world: tuple[FakeDiscord, FakePexels, Path]) -> None:
    """Variables come from the environment first, then from .env in the working folder."""
    discord_fake, pexels, cwd = world
    env = bot_environment(discord_fake, pexels)
    (cwd / ".env").write_text(f"PEXELS_API_KEY={pexels.api_key}\nPEXELS_API_URL=http://127.0.0.1:9\n")
    del env["PEXELS_API_KEY"]
    code, _out, err = await run_bot(cwd, env, "check")
    assert code == 0, err  # the key came from .env; the URL from the environment won


def readme_commands() -> dict[str, dict[str, object]]:
    """The commands the README documents: description and options (name, required, description, values); a group's
    subcommands (`#### `/group sub` — …`) are its options, each with its own."""
    text = (ROOT / "README.md").read_text()
    commands: dict[str, dict[str, object]] = {}
    current: dict[str, object] | None = None
    for line in text.splitlines():
        heading = re.match(r"### `/(?P<name>[a-z]+)` — (?P<description>.+)$", line)
        subcommand = re.match(r"#### `/(?P<group>[a-z]+) (?P<name>[a-z]+)` — (?P<description>.+)$", line)
        menu = re.match(r"### (?P<name>[A-Z][a-z ]+) — message menu$", line)
        if heading:
            current = {"type": 1, "description": heading["description"], "options": []}
            commands[heading["name"]] = current
        elif subcommand:
            current = {"name": subcommand["name"], "type": 1, "required": False, "values": "",
                       "description": subcommand["description"], "options": []}  # fmt: skip
            group = commands[subcommand["group"]]["options"]
            assert isinstance(group, list)
            group.append(current)
        elif menu:
            current = {"type": 3, "description": "", "options": []}
            commands[menu["name"]] = current
        elif line.startswith("#"):
            current = None
        elif current is not None:
            row = re.match(
                r"\| `(?P<name>[a-z]+)` \| (?P<required>yes|no) \| (?P<description>[^|]+) \| (?P<values>.+) \|$", line
            )
            if row:
                options = current["options"]
                assert isinstance(options, list)
                options.append(
                    {
                        "name": row["name"],
                        "required": row["required"] == "yes",
                        "description": row["description"].strip(),
                        "values": row["values"].strip(),
                    }
                )
    return commands


def same_options(options: list[dict[str, object]], documented: object) -> None:
    """The synced options (or subcommands, with theirs) are the documented ones, in order."""
    assert isinstance(documented, list)
    assert [o["name"] for o in options] == [o["name"] for o in documented]
    for option, described in zip(options, documented, strict=True):
        assert option.get("required", False) == described["required"], option["name"]
        assert option["description"] == described["description"], option["name"]
        if option.get("type") == 1:
            assert described.get("type") == 1, f"{option['name']} is a subcommand"
            same_options(option.get("options", []), described["options"])  # type: ignore[arg-type]
            continue
        choices = [c["value"] for c in option.get("choices", [])]  # type: ignore[attr-defined]
        values = re.findall(r"`([^`]+)`", described["values"].split(";")[0])
        if choices:
            assert choices == values, option["name"]
        assert bool(option.get("autocomplete")) == described["values"].startswith("autocomplete"), option["name"]


@pytest.mark.parametrize("guild", [None, 661720242585600001])
async def test_sync_registers_exactly_what_the_readme_lists(
    world: tuple[FakeDiscord, FakePexels, Path], guild: int | None
) -> None:
    """`python -m bot sync` registers the README's commands, options, choices and descriptions, nothing else."""
    discord_fake, pexels, cwd = world
    args = ["sync", "--guild", str(guild)] if guild else ["sync"]
    code, out, err = await run_bot(cwd, bot_environment(discord_fake, pexels), *args)
    assert code == 0, err
    synced = discord_fake.guild_commands[guild] if guild else discord_fake.global_commands
    documented = readme_commands()
    assert f"synced {len(documented)} commands" in out
    assert {c["name"] for c in synced} == set(documented)
    for command in synced:
        doc = documented[command["name"]]
        assert command.get("type", 1) == doc["type"]
        assert command["description"] == doc["description"]
        same_options(command.get("options", []), doc["options"])
    if guild is None:
        assert discord_fake.guild_commands == {}
    assert pexels.count() == 0
