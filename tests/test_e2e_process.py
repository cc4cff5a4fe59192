"""`python -m bot` as a real process: run, SIGTERM, restart, sync, check, invite and configuration errors."""

from __future__ import annotations

import asyncio
import json
import re
import signal
import socket
from collections.abc import AsyncIterator
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import aiohttp
import pytest

from tests.fakes.discord import FakeDiscord, bot_token_for
from tests.fakes.pexels import FakePexels
from tests.harness import ROOT, BotProcess, bot_environment, make_user, run_bot
from tests.redis_server import RedisServer, free_port


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
    assert "\x1b[" not in logs  # no colours: the output is a pipe, not a terminal
    assert "WARNING" not in logs and "voice" not in logs.lower()  # a bot without voice says nothing about it
    assert re.match(r"\[\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\] \[INFO    \] \S+: ", logs), logs[:200]

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


async def test_every_bad_variable_is_reported_in_one_run(tmp_path: Path) -> None:
    """Three mistakes, three lines: the operator fixes them all before the next start."""
    env = {"PEXELS_API_KEY": "k" * 20, "CACHE_TTL": "1 day", "METRICS_PORT": "http"}
    code, out, err = await run_bot(tmp_path, env)
    assert code == 2
    assert [line.split(":")[1].strip() for line in err.strip().splitlines()] == [
        "DISCORD_TOKEN",
        "CACHE_TTL",
        "METRICS_PORT",
    ], err
    assert all(line.startswith("error: ") for line in err.strip().splitlines())
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
    """`check`: one line per check, the token with Discord and the Pexels key with the quota left."""
    discord_fake, pexels, cwd = world
    code, out, err = await run_bot(cwd, bot_environment(discord_fake, pexels), "check")
    assert code == 0, err
    lines = out.strip().splitlines()
    assert len(lines) == 2 and err == "", out + err
    assert (
        lines[0]
        == f"ok: Discord accepts DISCORD_TOKEN: this is the bot {discord_fake.bot_name} (id {discord_fake.app_id})"
    )
    assert lines[1].startswith("ok: Pexels accepts PEXELS_API_KEY: ")
    assert f"{pexels.remaining:,} of 20,000 requests left" in lines[1]
    assert "resets 20" in lines[1]
    assert pexels.count() == 1
    assert [c.path for c in discord_fake.calls] == ["/users/@me"]


async def test_check_reports_each_failure_and_still_runs_the_other_checks(
    world: tuple[FakeDiscord, FakePexels, Path],
) -> None:
    """A token Discord rejects is named; Pexels is checked all the same; the exit code says something failed."""
    discord_fake, pexels, cwd = world
    env = bot_environment(discord_fake, pexels, DISCORD_TOKEN=bot_token_for(900000000000000001) + "wrong")
    code, out, err = await run_bot(cwd, env, "check")
    assert code == 1
    assert err.strip().splitlines() == [
        "error: Discord rejected DISCORD_TOKEN (401 Unauthorized); copy a fresh token from the Developer Portal "
        "(your application → Bot → Reset Token)"
    ]
    assert out.startswith("ok: Pexels accepts PEXELS_API_KEY")
    assert env["DISCORD_TOKEN"] not in out + err


async def test_check_fails_when_the_quota_is_down_to_the_reserve(world: tuple[FakeDiscord, FakePexels, Path]) -> None:
    """Searches would be refused: `check` says so and why."""
    discord_fake, pexels, cwd = world
    env = bot_environment(discord_fake, pexels, PEXELS_QUOTA_RESERVE=str(pexels.remaining))
    code, _out, err = await run_bot(cwd, env, "check")
    assert code == 1
    assert "PEXELS_QUOTA_RESERVE" in err and "new searches are refused" in err, err


async def test_check_pings_redis(world: tuple[FakeDiscord, FakePexels, Path], redis_server: RedisServer) -> None:
    """With REDIS_URL set, `check` PINGs it through the bot's own client: a third line."""
    discord_fake, pexels, cwd = world
    env = bot_environment(discord_fake, pexels, REDIS_URL=redis_server.url)
    code, out, err = await run_bot(cwd, env, "check")
    assert code == 0, err
    assert out.strip().splitlines()[2] == f"ok: Redis answers PING at 127.0.0.1:{redis_server.port}/0"


async def test_check_names_an_unreachable_redis(world: tuple[FakeDiscord, FakePexels, Path]) -> None:
    """A Redis that does not answer: one line naming REDIS_URL, the password in it not shown."""
    discord_fake, pexels, cwd = world
    port = free_port()
    env = bot_environment(discord_fake, pexels, REDIS_URL=f"redis://:hunter2-UNIQUE@127.0.0.1:{port}/0")
    code, out, err = await run_bot(cwd, env, "check")
    assert code == 1
    (line,) = err.strip().splitlines()
    assert line.startswith(f"error: Redis at 127.0.0.1:{port}/0 did not answer PING ("), line
    assert "check REDIS_URL" in line
    assert "hunter2-UNIQUE" not in out + err
    assert out.count("ok: ") == 2


@pytest.mark.parametrize(
    ("fault", "expected"),
    [("401", "Pexels rejected PEXELS_API_KEY"), ("down", "cannot reach Pexels"), ("429", "the Pexels quota is spent")],
)
async def test_check_fails_clearly(world: tuple[FakeDiscord, FakePexels, Path], fault: str, expected: str) -> None:
    """`check` with a bad key or an unreachable Pexels: one line, non-zero exit."""
    discord_fake, pexels, cwd = world
    env = bot_environment(discord_fake, pexels)
    if fault == "401":
        env["PEXELS_API_KEY"] = "not-the-key"
    elif fault == "429":
        pexels.fail_next(429)
    else:
        env["PEXELS_API_URL"] = "http://127.0.0.1:9"
    code, out, err = await run_bot(cwd, env, "check")
    assert code == 1
    assert err.strip().splitlines()[-1].startswith(f"error: {expected}"), err
    assert "not-the-key" not in out + err


async def test_invite_prints_a_server_link_and_an_account_link(tmp_path: Path) -> None:
    """`invite` prints two labelled links: a server install (bot + applications.commands, integration_type 0,
    Send Messages and Embed Links for the photo of the day) and a user install (applications.commands,
    integration_type 1, no permissions); it needs no Pexels key."""
    env = {"DISCORD_TOKEN": bot_token_for(900000000000000001)}
    code, out, err = await run_bot(tmp_path, env, "invite")
    assert code == 0, err
    links = dict(line.split(":", 1) for line in out.splitlines() if "https://" in line)
    assert set(links) == {"Add to a server", "Add to your account"}
    server, account = (urlsplit(links[k].strip()) for k in ("Add to a server", "Add to your account"))
    for url in (server, account):
        assert url.netloc == "discord.com" and url.path == "/oauth2/authorize"
        assert parse_qs(url.query)["client_id"] == ["900000000000000001"]
    server_q, account_q = parse_qs(server.query), parse_qs(account.query)
    assert set(server_q["scope"][0].split()) == {"bot", "applications.commands"}
    assert server_q["integration_type"] == ["0"]
    assert int(server_q["permissions"][0]) == (1 << 11) | (1 << 14)  # Send Messages, Embed Links
    assert account_q["scope"] == ["applications.commands"] and account_q["integration_type"] == ["1"]
    assert "permissions" not in account_q
    assert "User Install" in out


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


async def test_sync_needs_no_pexels_key(world: tuple[FakeDiscord, FakePexels, Path]) -> None:
    discord_fake, pexels, cwd = world
    env = bot_environment(discord_fake, pexels)
    del env["PEXELS_API_KEY"]
    code, out, err = await run_bot(cwd, env, "sync")
    assert code == 0, err
    assert out.startswith("synced ")


@pytest.mark.parametrize("guild", ["general", "0", "12", "-5", "1e18", str(2**64), "661720242585600001x", ""])
async def test_sync_to_something_that_is_not_a_server_id(tmp_path: Path, guild: str) -> None:
    """`sync --guild` wants a server id: anything else is exit 2 with one line, before contacting Discord."""
    code, out, err = await run_bot(
        tmp_path, {"DISCORD_TOKEN": bot_token_for(900000000000000001)}, "sync", "--guild", guild
    )
    assert code == 2
    (line,) = err.strip().splitlines()
    assert line.startswith("error: --guild: expected a server id"), line
    assert "Copy Server ID" in line and out == ""


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


async def test_json_logs(world: tuple[FakeDiscord, FakePexels, Path]) -> None:
    """LOG_FORMAT=json: every line one JSON object with time, level, logger and message; secrets redacted."""
    discord_fake, pexels, cwd = world
    assert (await run_bot(cwd, bot_environment(discord_fake, pexels), "sync"))[0] == 0
    process = await BotProcess.start(cwd, bot_environment(discord_fake, pexels, LOG_FORMAT="json"))
    try:
        await discord_fake.wait_ready(1, timeout=20)
        record = await discord_fake.slash("photo", {"query": "lighthouse"}, user=make_user(1))
        await record.wait_done(timeout=10)
        process.proc.send_signal(signal.SIGTERM)
        assert await process.finish(timeout=10) == 0
    finally:
        await process.stop()
    lines = process.stdout.decode().splitlines()
    entries = [json.loads(line) for line in lines]
    assert entries and all(set(e) == {"time", "level", "logger", "message"} for e in entries), lines
    assert all(re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}\+00:00", e["time"]) for e in entries)
    assert any(e["logger"] == "discord.gateway" and "has connected to Gateway" in e["message"] for e in entries)
    assert entries[-1]["message"] == "closed cleanly" and entries[-1]["level"] == "INFO"
    assert discord_fake.token not in process.stdout.decode() and pexels.api_key not in process.stdout.decode()


async def test_metrics_and_health_are_served(world: tuple[FakeDiscord, FakePexels, Path]) -> None:
    """`python -m bot` with METRICS_PORT: /healthz is 200 once connected, /metrics counts the search."""
    discord_fake, pexels, cwd = world
    port = free_port()
    env = bot_environment(discord_fake, pexels, METRICS_PORT=str(port), METRICS_HOST="127.0.0.1")
    assert (await run_bot(cwd, env, "sync"))[0] == 0  # `sync` does not take the metrics port
    process = await BotProcess.start(cwd, env)
    try:
        await discord_fake.wait_ready(1, timeout=20)
        record = await discord_fake.slash("photo", {"query": "lighthouse"}, user=make_user(1))
        await record.wait_done(timeout=10)
        async with aiohttp.ClientSession() as session:
            async with session.get(f"http://127.0.0.1:{port}/healthz") as resp:
                assert resp.status == 200
            async with session.get(f"http://127.0.0.1:{port}/metrics") as resp:
                body = await resp.text()
        assert 'pexbot_interactions_total{kind="photo",outcome="ok"} 1.0' in body
        process.proc.send_signal(signal.SIGTERM)
        assert await process.finish(timeout=10) == 0
    finally:
        await process.stop()
    process.assert_no_errors()


async def test_a_metrics_port_in_use_stops_the_bot_with_one_line(world: tuple[FakeDiscord, FakePexels, Path]) -> None:
    discord_fake, pexels, cwd = world
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        env = bot_environment(discord_fake, pexels, METRICS_PORT=str(port), METRICS_HOST="127.0.0.1")
        code, out, err = await run_bot(cwd, env)
    assert code == 1
    assert err.strip().splitlines() == [
        f"error: cannot serve metrics on 127.0.0.1:{port} (Address already in use); "
        "choose a free METRICS_PORT, or unset it to serve no metrics"
    ], err
    assert "Traceback" not in out + err
