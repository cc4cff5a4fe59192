"""load_settings: defaults, precedence, validation messages, sharding, and secrets that never show."""

from __future__ import annotations

import base64
import re
from pathlib import Path

import pytest
from hypothesis import example, given
from hypothesis import strategies as st

from bot.config import (
    VARIABLES,
    ConfigError,
    RateSpec,
    Secret,
    Settings,
    application_id_from_token,
    load_settings,
)

ROOT = Path(__file__).resolve().parent.parent

APP_ID = 1234567890123456789


def make_token(app_id: int, *, urlsafe: bool = False) -> str:
    encode = base64.urlsafe_b64encode if urlsafe else base64.b64encode
    return encode(str(app_id).encode()).decode().rstrip("=") + ".GhIjKl.mNoPqRsTuVwXyZ_aBcDeFgHiJkLmNoPqRsTuVw"


TOKEN = make_token(APP_ID)
KEY = "563492ad6f91700001000001-UNIQUE-pexels-key"
REDIS = "redis://:p4ssw0rd-UNIQUE@redis.example:6379/0"
SECRETS = (TOKEN, KEY, "p4ssw0rd-UNIQUE")


def env(**extra: str) -> dict[str, str]:
    return {"DISCORD_TOKEN": TOKEN, "PEXELS_API_KEY": KEY, **extra}


def load(**extra: str) -> Settings:
    return load_settings(env(**extra), env_file=None)


def config_error(environ: dict[str, str], env_file: Path | None = None) -> ConfigError:
    with pytest.raises(ConfigError) as info:
        load_settings(environ, env_file=env_file)
    return info.value


def assert_no_secret(text: str) -> None:
    for secret in SECRETS:
        assert secret not in text


# ------------------------------------------------------------------------------------------------ defaults


def test_defaults() -> None:
    settings = load()
    assert settings.discord_token == Secret(TOKEN)
    assert settings.discord_token.get() == TOKEN
    assert settings.pexels_api_key.get() == KEY
    assert settings.discord_api_url == "https://discord.com/api/v10"
    assert settings.discord_gateway_url == "wss://gateway.discord.gg"
    assert settings.pexels_api_url == "https://api.pexels.com"
    assert settings.search_cooldown == RateSpec(5, 60)
    assert settings.button_cooldown == RateSpec(20, 10)
    assert settings.pexels_hourly_limit == 200
    assert settings.pexels_monthly_limit == 20_000
    assert settings.pexels_quota_reserve == 20
    assert settings.cache_ttl == 86_400
    assert settings.cache_max_entries == 2_000
    assert settings.log_level == "INFO"
    assert settings.log_format == "text"
    assert settings.metrics_port is None
    assert settings.metrics_host == "0.0.0.0"
    assert settings.database_url == Secret("sqlite:///pexbot.sqlite3")
    assert settings.redis_url is None
    assert settings.redis_ssl_cert_reqs is None
    assert settings.shard_count == 1
    assert settings.shard_ids is None
    assert settings.application_id == APP_ID


def test_values_are_read_and_normalised() -> None:
    settings = load(
        SEARCH_COOLDOWN=" 3 / 30 ",
        BUTTON_COOLDOWN="10/2.5",
        PEXELS_HOURLY_LIMIT="150",
        PEXELS_MONTHLY_LIMIT="25000",
        PEXELS_QUOTA_RESERVE="0",
        CACHE_TTL="60",
        CACHE_MAX_ENTRIES="10",
        LOG_LEVEL="debug",
        PEXELS_API_URL="http://127.0.0.1:8080/",
        DISCORD_API_URL="http://127.0.0.1:9000/api/v10/",
        DISCORD_GATEWAY_URL="ws://127.0.0.1:9001",
        REDIS_URL=REDIS,
        REDIS_SSL_CERT_REQS="Required",
    )
    assert settings.search_cooldown == RateSpec(3, 30)
    assert str(settings.button_cooldown) == "10/2.5"
    assert (settings.pexels_hourly_limit, settings.pexels_monthly_limit, settings.pexels_quota_reserve) == (
        150,
        25_000,
        0,
    )
    assert (settings.cache_ttl, settings.cache_max_entries) == (60, 10)
    assert settings.log_level == "DEBUG"
    assert settings.pexels_api_url == "http://127.0.0.1:8080"
    assert settings.discord_api_url == "http://127.0.0.1:9000/api/v10"
    assert settings.discord_gateway_url == "ws://127.0.0.1:9001"
    assert settings.redis_url == Secret(REDIS)
    assert settings.redis_ssl_cert_reqs == "required"


def test_the_new_variables_are_read() -> None:
    settings = load(
        LOG_FORMAT="JSON",
        METRICS_PORT="9464",
        METRICS_HOST="127.0.0.1",
        DATABASE_URL="postgres://pexbot:s3cret-UNIQUE@db.example:5432/pexbot",
    )
    assert (settings.log_format, settings.metrics_port, settings.metrics_host) == ("json", 9464, "127.0.0.1")
    assert settings.database_url.get() == "postgres://pexbot:s3cret-UNIQUE@db.example:5432/pexbot"
    assert "s3cret-UNIQUE" not in repr(settings)
    for url in ("postgresql://localhost/pexbot", "sqlite:////var/lib/pexbot.db"):
        assert load(DATABASE_URL=url).database_url.get() == url


def test_secrets_lists_every_secret_and_password() -> None:
    settings = load(REDIS_URL=REDIS, DATABASE_URL="postgresql://pexbot:s3cret-UNIQUE@db.example/pexbot")
    secrets = settings.secrets()
    assert TOKEN in secrets and KEY in secrets and REDIS in secrets
    assert "p4ssw0rd-UNIQUE" in secrets and "s3cret-UNIQUE" in secrets


def test_blank_values_mean_the_default() -> None:
    settings = load(SEARCH_COOLDOWN="", PEXELS_HOURLY_LIMIT="  ", LOG_LEVEL="", REDIS_URL="")
    assert settings.search_cooldown == RateSpec(5, 60)
    assert settings.pexels_hourly_limit == 200
    assert settings.log_level == "INFO"
    assert settings.redis_url is None


# ------------------------------------------------------------------------------------------------ .env


def test_dotenv_is_read(tmp_path: Path) -> None:
    dotenv = tmp_path / ".env"
    dotenv.write_text(f"DISCORD_TOKEN={TOKEN}\nPEXELS_API_KEY='{KEY}'\n# a comment\nCACHE_TTL=120\n")
    settings = load_settings({}, env_file=dotenv)
    assert settings.discord_token.get() == TOKEN
    assert settings.pexels_api_key.get() == KEY
    assert settings.cache_ttl == 120


def test_environment_beats_dotenv(tmp_path: Path) -> None:
    dotenv = tmp_path / ".env"
    dotenv.write_text(
        f"DISCORD_TOKEN=from-the-file\nPEXELS_API_KEY={KEY}\nPEXELS_HOURLY_LIMIT=50\nCACHE_TTL=120\nLOG_LEVEL=ERROR\n"
    )
    settings = load_settings({"DISCORD_TOKEN": TOKEN, "PEXELS_HOURLY_LIMIT": "70"}, env_file=dotenv)
    assert settings.discord_token.get() == TOKEN
    assert settings.pexels_hourly_limit == 70
    assert settings.cache_ttl == 120
    assert settings.log_level == "ERROR"
    assert settings.pexels_api_key.get() == KEY


def test_missing_dotenv_is_fine(tmp_path: Path) -> None:
    settings = load_settings(env(), env_file=tmp_path / "does-not-exist.env")
    assert settings.pexels_hourly_limit == 200


def test_env_file_none_ignores_a_dotenv_in_the_working_directory(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / ".env").write_text("PEXELS_HOURLY_LIMIT=7\n")
    monkeypatch.chdir(tmp_path)
    assert load_settings(env(), env_file=None).pexels_hourly_limit == 200
    assert load_settings(env()).pexels_hourly_limit == 7  # the default env_file is ./.env


# ------------------------------------------------------------------------------------------------ errors


@pytest.mark.parametrize("variable", ["DISCORD_TOKEN", "PEXELS_API_KEY"])
@pytest.mark.parametrize("value", [None, "", "   "])
def test_missing_secret(variable: str, value: str | None) -> None:
    environ = env()
    if value is None:
        del environ[variable]
    else:
        environ[variable] = value
    error = config_error(environ)
    assert error.variable == variable
    assert str(error).startswith(f"{variable}:")
    assert_no_secret(str(error))


@pytest.mark.parametrize("variable", ["DISCORD_TOKEN", "PEXELS_API_KEY"])
def test_secret_with_whitespace_is_refused_without_echoing_it(variable: str) -> None:
    environ = env()
    environ[variable] = environ[variable][:10] + " " + environ[variable][10:]
    error = config_error(environ)
    assert error.variable == variable
    assert environ[variable] not in str(error)
    assert environ[variable][:10] not in str(error)


@pytest.mark.parametrize(
    ("variable", "value"),
    [
        ("SEARCH_COOLDOWN", "5"),
        ("SEARCH_COOLDOWN", "0/60"),
        ("SEARCH_COOLDOWN", "a/b"),
        ("SEARCH_COOLDOWN", "5/0"),
        ("SEARCH_COOLDOWN", "-5/60"),
        ("SEARCH_COOLDOWN", "5/60/1"),
        ("BUTTON_COOLDOWN", "20 per 10"),
        ("PEXELS_HOURLY_LIMIT", "-1"),
        ("PEXELS_HOURLY_LIMIT", "x"),
        ("PEXELS_HOURLY_LIMIT", "0"),
        ("PEXELS_HOURLY_LIMIT", "1.5"),
        ("PEXELS_MONTHLY_LIMIT", "lots"),
        ("PEXELS_QUOTA_RESERVE", "-1"),
        ("CACHE_TTL", "0"),
        ("CACHE_MAX_ENTRIES", "1e3"),
        ("DISCORD_API_URL", "ftp://x"),
        ("DISCORD_API_URL", "discord.com/api/v10"),
        ("DISCORD_API_URL", "https://"),
        ("DISCORD_GATEWAY_URL", "https://gateway.discord.gg"),
        ("PEXELS_API_URL", "ws://api.pexels.com"),
        ("LOG_LEVEL", "verbose"),
        ("LOG_LEVEL", "10"),
        ("REDIS_URL", "http://redis.example"),
        ("REDIS_SSL_CERT_REQS", "sometimes"),
        ("SHARD_COUNT", "0"),
        ("SHARD_COUNT", "two"),
        ("LOG_FORMAT", "xml"),
        ("METRICS_PORT", "0"),
        ("METRICS_PORT", "65536"),
        ("METRICS_PORT", "http"),
        ("METRICS_HOST", "0.0.0.0 127.0.0.1"),
        ("DATABASE_URL", "mysql://user@db.example/pexbot"),
        ("DATABASE_URL", "sqlite://pexbot.sqlite3"),
        ("DATABASE_URL", "sqlite:///"),
        ("DATABASE_URL", "postgresql://db.example:port/pexbot"),
        ("DATABASE_URL", "pexbot.sqlite3"),
    ],
)
def test_malformed_values_name_the_variable(variable: str, value: str) -> None:
    error = config_error(env(**{variable: value}))
    assert error.variable == variable
    assert str(error).startswith(f"{variable}: ")
    assert len(str(error)) > len(variable) + 10  # it says what is expected
    assert_no_secret(str(error))


@pytest.mark.parametrize("url", ["mysql://pexbot:hunter2-UNIQUE@db.example/pexbot", "hunter2-UNIQUE@db.example"])
def test_database_url_error_does_not_echo_the_url(url: str) -> None:
    error = config_error(env(DATABASE_URL=url))
    assert error.variable == "DATABASE_URL"
    assert "hunter2-UNIQUE" not in str(error)
    assert "db.example" not in str(error)


def test_redis_url_error_does_not_echo_the_url() -> None:
    error = config_error(env(REDIS_URL="http://:hunter2-UNIQUE@redis.example"))
    assert error.variable == "REDIS_URL"
    assert "hunter2-UNIQUE" not in str(error)


def test_every_problem_is_reported_at_once() -> None:
    """An operator fixing the configuration sees all of it in one run, not one variable per restart."""
    error = config_error(
        {
            "DISCORD_TOKEN": "",
            "PEXELS_API_KEY": KEY,
            "CACHE_TTL": "0",
            "LOG_LEVEL": "loud",
            "METRICS_PORT": "x",
            "SHARD_COUNT": "2",
        }
    )
    assert [variable for variable, _ in error.problems] == [
        "DISCORD_TOKEN",
        "CACHE_TTL",
        "LOG_LEVEL",
        "METRICS_PORT",
        "REDIS_URL",
        "SHARD_IDS",
    ]
    assert error.variable == "DISCORD_TOKEN"
    assert str(error).splitlines() == error.lines()
    assert all(line.startswith(f"{v}: ") for line, (v, _) in zip(error.lines(), error.problems, strict=True))
    assert_no_secret(str(error))


def test_a_bad_shard_count_is_reported_once() -> None:
    """The rules between variables are skipped when a variable they read is itself at fault."""
    error = config_error(env(SHARD_COUNT="two", SHARD_IDS="5"))
    assert [variable for variable, _ in error.problems] == ["SHARD_COUNT"]


def test_commands_that_never_call_pexels_need_no_key() -> None:
    settings = load_settings({"DISCORD_TOKEN": TOKEN}, env_file=None, required=("DISCORD_TOKEN",))
    assert settings.pexels_api_key.get() == ""
    assert config_error({"PEXELS_API_KEY": KEY}).variable == "DISCORD_TOKEN"
    with pytest.raises(ConfigError) as info:
        load_settings({"PEXELS_API_KEY": KEY}, env_file=None, required=("DISCORD_TOKEN",))
    assert info.value.variable == "DISCORD_TOKEN"


# ------------------------------------------------------------------------------------------------ declared once


def readme_variables() -> dict[str, tuple[str, str]]:
    """The README's configuration table: variable → (default as shown, meaning)."""
    text = (ROOT / "README.md").read_text()
    section = text[text.index("\n## Configuration\n") :]
    section = section[: section.index("\n## ", 1)]
    rows = re.findall(r"^\| `([A-Z_]+)` \| ([^|]+) \| (.+) \|$", section, re.MULTILINE)
    assert len(rows) == len({name for name, _, _ in rows}), "a variable is listed twice"
    return {name: (default.strip().strip("`"), meaning.strip()) for name, default, meaning in rows}


def env_example_variables() -> dict[str, str]:
    """`.env.example`: variable → its default (`required` when it must be filled in, `unset` when blank)."""
    found: dict[str, str] = {}
    for line in (ROOT / ".env.example").read_text().splitlines():
        match = re.fullmatch(r"(# )?([A-Z][A-Z0-9_]+)=(.*)", line)
        if match:
            commented, name, value = match.groups()
            assert name not in found, f"{name} is listed twice"
            found[name] = "required" if not commented else value or "unset"
    return found


def test_readme_lists_exactly_the_declared_variables() -> None:
    expected = {v.name: (v.default_text, v.doc) for v in VARIABLES}
    rows = "\n".join(
        f"| `{n}` | {d if d in ('required', 'unset') else f'`{d}`'} | {m} |" for n, (d, m) in expected.items()
    )
    assert readme_variables() == expected, "README's Configuration table should read:\n" + rows


def test_env_example_lists_exactly_the_declared_variables() -> None:
    expected = {v.name: "unset" if v.shown else v.default_text for v in VARIABLES}
    assert env_example_variables() == expected


def test_each_declared_variable_is_a_setting_with_its_default() -> None:
    """The table's defaults are the values a bare environment gives."""
    settings = load()
    for variable in VARIABLES:
        if variable.setting and not variable.required:
            value = getattr(settings, variable.name.lower())
            if variable.default is None:
                assert value is None, variable.name
            else:
                assert value == variable.parse(variable.name, variable.default), variable.name


# ------------------------------------------------------------------------------------------------ sharding


def test_sharding_needs_redis() -> None:
    error = config_error(env(SHARD_COUNT="2", SHARD_IDS="0"))
    assert error.variable == "REDIS_URL"


def test_sharding_without_redis_or_shard_ids_asks_for_redis() -> None:
    """Several processes without shared state would each spend the whole Pexels quota: that is the real problem."""
    error = config_error(env(SHARD_COUNT="2"))
    assert error.variable == "REDIS_URL"


def test_shard_from_the_dyno_name() -> None:
    settings = load(SHARD_COUNT="2", REDIS_URL=REDIS, DYNO="worker.2")
    assert settings.shard_ids == (1,)
    assert settings.shard_count == 2
    assert load(SHARD_COUNT="2", REDIS_URL=REDIS, DYNO="worker.1").shard_ids == (0,)


def test_explicit_shard_ids_beat_the_dyno_name() -> None:
    settings = load(SHARD_COUNT="4", REDIS_URL=REDIS, SHARD_IDS="3,1", DYNO="worker.1")
    assert settings.shard_ids == (3, 1)


def test_a_single_shard_ignores_the_dyno_name() -> None:
    settings = load(DYNO="web.1")
    assert (settings.shard_count, settings.shard_ids) == (1, None)


@pytest.mark.parametrize(
    ("extra", "variable"),
    [
        ({"SHARD_IDS": "2"}, "SHARD_IDS"),
        ({"SHARD_IDS": "-1"}, "SHARD_IDS"),
        ({"SHARD_IDS": "0,0"}, "SHARD_IDS"),
        ({"SHARD_IDS": "0;1"}, "SHARD_IDS"),
        ({"SHARD_IDS": "a"}, "SHARD_IDS"),
        ({"DYNO": "worker.3"}, "SHARD_IDS"),
        ({"DYNO": "web.1"}, "DYNO"),
    ],
)
def test_bad_shard_ids(extra: dict[str, str], variable: str) -> None:
    error = config_error(env(SHARD_COUNT="2", REDIS_URL=REDIS, **extra))
    assert error.variable == variable
    assert_no_secret(str(error))


def test_shard_ids_out_of_range_without_sharding() -> None:
    assert config_error(env(SHARD_IDS="1")).variable == "SHARD_IDS"


# ------------------------------------------------------------------------------------------------ secrets


def test_settings_repr_never_shows_secrets() -> None:
    settings = load(REDIS_URL=REDIS, SHARD_COUNT="2", SHARD_IDS="1")
    for text in (repr(settings), str(settings), repr(settings.discord_token), f"{settings.pexels_api_key}"):
        assert_no_secret(text)
    assert "Settings(" in repr(settings)
    assert "****" in repr(settings)


def test_secret() -> None:
    secret = Secret(KEY)
    assert secret.get() == KEY
    assert KEY not in repr(secret)
    assert KEY not in str(secret)
    assert KEY not in f"{secret!r} {secret!s} {secret}"
    assert len(secret.fingerprint()) == 12
    assert secret.fingerprint() == Secret(KEY).fingerprint() != Secret(KEY + "x").fingerprint()
    assert KEY not in secret.fingerprint()
    assert secret == Secret(KEY)
    assert secret != Secret("other")
    assert secret != KEY


# ------------------------------------------------------------------------------------------------ the token


def test_application_id_from_token() -> None:
    assert application_id_from_token(TOKEN) == APP_ID
    assert application_id_from_token(make_token(80351110224678912)) == 80351110224678912


@given(st.integers(0, 2**64 - 1), st.booleans())
def test_application_id_round_trip(app_id: int, urlsafe: bool) -> None:
    assert application_id_from_token(make_token(app_id, urlsafe=urlsafe)) == app_id


@pytest.mark.parametrize(
    "token",
    [
        "",
        "not-a-token",
        "!!!.x.y",
        "....",
        base64.b64encode(b"abc").decode() + ".x.y",
        base64.b64encode(b"12a4").decode() + ".x.y",
        base64.b64encode(b"-12").decode() + ".x.y",
        base64.b64encode(b"\xff\xfe").decode() + ".x.y",
        "MT=Iz.x.y",
        "M T I z.x.y",
        f"Bot {TOKEN}",
    ],
)
def test_junk_tokens_are_rejected(token: str) -> None:
    with pytest.raises(ConfigError) as info:
        application_id_from_token(token)
    assert info.value.variable == "DISCORD_TOKEN"
    assert str(info.value).startswith("DISCORD_TOKEN: ")
    if token:
        assert token not in str(info.value)


@given(st.text())
@example("²")  # a digit to str.isdigit, not to int()
@example("١٢٣")
def test_any_decoded_head_gives_an_id_or_config_error(head: str) -> None:
    token = base64.b64encode(head.encode()).decode().rstrip("=") + ".x.y"
    try:
        app_id = application_id_from_token(token)
    except ConfigError as exc:
        assert exc.variable == "DISCORD_TOKEN"
        assert not (head.isascii() and head.isdigit())
    else:
        assert head.isascii()
        assert head.isdigit()
        assert app_id == int(head)


def test_token_with_a_pasted_zero_width_space_is_a_config_error() -> None:
    with pytest.raises(ConfigError) as info:
        application_id_from_token("\u200b" + TOKEN)
    assert info.value.variable == "DISCORD_TOKEN"


@given(st.text())
@example("\u200b" + TOKEN)
@example("é.x.y")
def test_arbitrary_tokens_give_an_id_or_config_error(token: str) -> None:
    try:
        app_id = application_id_from_token(token)
    except ConfigError as exc:
        assert exc.variable == "DISCORD_TOKEN"
    else:
        assert app_id >= 0


def test_database_url_defaults_to_a_sqlite_file_and_never_shows() -> None:
    """DATABASE_URL: a SQLite file in the working folder unless set; PostgreSQL URLs (Heroku's too) are taken."""
    assert load().database_url.get() == "sqlite:///pexbot.sqlite3"
    assert load(DATABASE_URL="  ").database_url.get() == "sqlite:///pexbot.sqlite3"
    heroku = "postgres://u:s3cret-UNIQUE@db.example:5432/pexbot"
    settings = load(DATABASE_URL=heroku)
    assert settings.database_url.get() == heroku
    assert "s3cret-UNIQUE" not in repr(settings)


@pytest.mark.parametrize(
    "url", ["mysql://u:s3cret-UNIQUE@db.example/x", "sqlite://host/file.db", "postgresql://u:s3cret-UNIQUE@/x", "db"]
)
def test_a_database_url_the_bot_cannot_use_is_one_line_without_the_password(url: str) -> None:
    with pytest.raises(ConfigError) as caught:
        load(DATABASE_URL=url)
    assert caught.value.variable == "DATABASE_URL"
    assert str(caught.value).startswith("DATABASE_URL: ") and "DATABASE_URL: DATABASE_URL" not in str(caught.value)
    assert "s3cret-UNIQUE" not in str(caught.value)
