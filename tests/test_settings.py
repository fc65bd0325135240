"""Settings: every value is checked at load, and a bad one is one clear line, never a traceback."""

import os
from datetime import UTC, datetime, time, timedelta
from pathlib import Path

import pytest
from pydantic import ValidationError

from bot.cli import main
from bot.core.clock import LATEST, MAX_SPEED, Clock
from bot.core.reminders import (
    MAX_OFFSET,
    MAX_OFFSETS,
    parse_duration,
    parse_local_time,
    parse_offsets,
)
from bot.settings import Settings, SettingsError


class FakeTime:
    """A monotonic source moved by hand."""

    def __init__(self) -> None:
        self.seconds = 0.0

    def monotonic(self) -> float:
        return self.seconds


# ---------------------------------------------------------------- durations and times


@pytest.mark.parametrize("text", ["99999999999w", "366d", "53w", "8761h", "1" * 60 + "s"])
def test_duration_beyond_the_maximum_is_refused(text: str) -> None:
    with pytest.raises(ValueError, match="longer than the maximum of 365 days"):
        parse_duration(text)


def test_duration_maximum_is_inclusive_and_can_be_lowered() -> None:
    assert parse_duration("365d") == timedelta(days=365)
    assert parse_duration("1d", timedelta(days=1)) == timedelta(days=1)
    with pytest.raises(ValueError, match="'1d1s' is longer than the maximum of 1 day"):
        parse_duration("1d1s", timedelta(days=1))


def test_absurdly_long_duration_is_refused_without_echoing_it() -> None:
    with pytest.raises(ValueError, match="is 65 characters long") as caught:
        parse_duration("1" * 64 + "s")
    assert "1111" not in str(caught.value)


@pytest.mark.parametrize("text", ["\u0661\u0662h", "\u00b9\u00b2h", "\uff17d"])
def test_durations_take_ascii_digits_only(text: str) -> None:
    with pytest.raises(ValueError, match="not a duration"):
        parse_duration(text)


def test_offsets_are_bounded_in_size_and_number() -> None:
    assert parse_offsets("365d")[0].delta == MAX_OFFSET
    with pytest.raises(ValueError, match="maximum of 365 days"):
        parse_offsets("7d,99999999999w")
    many = ",".join(f"{n}h" for n in range(1, MAX_OFFSETS + 2))
    with pytest.raises(ValueError, match=f"at most {MAX_OFFSETS} offsets, got {MAX_OFFSETS + 1}"):
        parse_offsets(many)


@pytest.mark.parametrize(("text", "expected"), [("09:00", time(9)), ("23:59:30", time(23, 59, 30))])
def test_local_times(text: str, expected: time) -> None:
    assert parse_local_time(text) == expected


@pytest.mark.parametrize("text", ["0900", "T09:00", "09", "9:00", "09:00:00.5", "\u0660\u0669:00"])
def test_local_time_is_hours_and_minutes(text: str) -> None:
    with pytest.raises(ValueError, match="not a time of day such as 09:00"):
        parse_local_time(text)


@pytest.mark.parametrize("text", ["09:00+03:00", "09:00Z", "09:00-05:00"])
def test_local_time_without_an_offset(text: str) -> None:
    with pytest.raises(ValueError, match="without an offset"):
        parse_local_time(text)


# ---------------------------------------------------------------- the clock


def test_a_fast_clock_stops_at_its_latest_instant_instead_of_overflowing() -> None:
    fake = FakeTime()
    clock = Clock(datetime(2017, 4, 28, tzinfo=UTC), MAX_SPEED, _monotonic=fake.monotonic)
    fake.seconds = 10.0
    assert clock.now() == datetime(2017, 4, 28, tzinfo=UTC) + timedelta(seconds=10 * MAX_SPEED)
    fake.seconds = 1e12  # a billion years of virtual time
    assert clock.now() == LATEST
    assert clock.real_seconds_until(LATEST) == 0.0


def test_the_fastest_finite_clock_does_not_overflow() -> None:
    fake = FakeTime()
    clock = Clock(datetime(2017, 4, 28, tzinfo=UTC), 1e308, _monotonic=fake.monotonic)
    fake.seconds = 1e10  # elapsed x speed is infinite
    assert clock.now() == LATEST


@pytest.mark.parametrize("speed", [float("inf"), float("nan"), -1.0])
def test_clock_refuses_speeds_it_cannot_run_at(speed: float) -> None:
    with pytest.raises(ValueError, match="negative, infinite or NaN"):
        Clock(None, speed)


def test_clock_refuses_a_start_outside_its_range() -> None:
    start = datetime.fromisoformat("0001-01-01T00:00+01:00")
    with pytest.raises(ValueError, match="out of range"):
        Clock(start, 0.0)
    with pytest.raises(ValueError, match="between"):
        Clock(datetime(9999, 12, 31, tzinfo=UTC), 0.0)


# ---------------------------------------------------------------- settings at load


def load(**environ: str) -> Settings:
    return Settings.load(environ=environ, env_file=None)


def refused(**environ: str) -> str:
    """The one-line message refusing ``environ``."""
    with pytest.raises(SettingsError) as caught:
        load(**environ)
    message = str(caught.value)
    assert "\n" not in message
    assert message.startswith("setting ")
    return message


@pytest.mark.parametrize(
    "value",
    ["0001-01-01T00:00+01:00", "9999-12-31T23:59+00:00", "1899-12-31", "2999-12-31T23:00-05:00"],
)
def test_as_of_outside_the_supported_years(value: str) -> None:
    assert refused(BRIEFBOT_AS_OF=value) == (
        f"setting BRIEFBOT_AS_OF (from the environment): "
        f"{value!r} is outside the years 1900 to 2999 (UTC)"
    )


def test_as_of_at_the_ends_of_the_range() -> None:
    assert load(BRIEFBOT_AS_OF="1900-01-01").as_of == datetime(1900, 1, 1, tzinfo=UTC)
    assert load(BRIEFBOT_AS_OF="2999-12-31T23:59Z").as_of == datetime(
        2999, 12, 31, 23, 59, tzinfo=UTC
    )


@pytest.mark.parametrize("value", ["1e308", "1e10", "1000000.5"])
def test_speed_is_capped(value: str) -> None:
    assert refused(BRIEFBOT_SPEED=value) == (
        "setting BRIEFBOT_SPEED (from the environment): "
        f"must be at most 1,000,000 (a real second is 11.6 days), got {value!r}"
    )


def test_speed_at_the_cap_runs_a_clock() -> None:
    settings = load(BRIEFBOT_SPEED="1000000", BRIEFBOT_AS_OF="2017-04-28")
    assert settings.clock_speed == MAX_SPEED
    assert Clock(settings.as_of, settings.clock_speed).now().year >= 2017


def test_speed_in_other_digits_is_refused() -> None:
    assert "must be a number such as 1 or 3600" in refused(BRIEFBOT_SPEED="\u0661\u0662")


@pytest.mark.parametrize(
    ("name", "maximum"),
    [
        ("REMINDER_OFFSETS", "365 days"),
        ("REMINDER_GRACE", "30 days"),
        ("REMINDER_CLAIM_LEASE", "1 day"),
    ],
)
def test_durations_beyond_their_maximum(name: str, maximum: str) -> None:
    assert refused(**{name: "99999999999w"}) == (
        f"setting {name} (from the environment): "
        f"'99999999999w' is longer than the maximum of {maximum}"
    )


def test_durations_at_their_maximum() -> None:
    settings = load(REMINDER_OFFSETS="365d,1h", REMINDER_GRACE="30d", REMINDER_CLAIM_LEASE="24h")
    assert settings.reminder_offsets[0].delta == timedelta(days=365)
    assert settings.reminder_grace == timedelta(days=30)
    assert settings.reminder_claim_lease == timedelta(days=1)
    assert "maximum of 30 days" in refused(REMINDER_GRACE="30d1s")
    assert "maximum of 1 day" in refused(REMINDER_CLAIM_LEASE="2d")


@pytest.mark.parametrize(
    ("name", "value", "message"),
    [
        (
            "DISCORD_API_BASE_URL",
            "http://127.0.0.1:99999",
            "'http://127.0.0.1:99999' is not a valid URL: check the host, "
            "and that the port is from 1 to 65535",
        ),
        (
            "SLACK_API_BASE_URL",
            "http://127.0.0.1:99999/api/",
            "'http://127.0.0.1:99999/api/' is not a valid URL",
        ),
        ("DISCORD_GATEWAY_URL", "ws://127.0.0.1:99999", "is not a valid URL"),
        ("DISCORD_API_BASE_URL", "http://host:0/api", "has port 0"),
        ("DISCORD_API_BASE_URL", "http://host:port/api", "is not a valid URL"),
        ("DISCORD_API_BASE_URL", "http://[::1/api", "is not a valid URL"),
        ("DISCORD_API_BASE_URL", "http:///api", "'http:///api' has no host"),
        ("DISCORD_API_BASE_URL", "http://host/api?v=10", "'http://host/api?***' must not have a"),
        ("DISCORD_API_BASE_URL", "http://host/api#top", "must not have a query (?...) or fragment"),
        ("DISCORD_API_BASE_URL", "ftp://host/api", "must be a URL starting with http:// or"),
        ("DISCORD_GATEWAY_URL", "https://gateway", "must be a URL starting with ws:// or wss://"),
        ("DISCORD_GATEWAY_URL", "wss://gate way/", "must be a URL without spaces"),
        ("SLACK_API_BASE_URL", "https://" + "a" * 2041, "is 2,049 characters long; at most 2,048"),
    ],
)
def test_malformed_urls(name: str, value: str, message: str) -> None:
    refusal = refused(**{name: value})
    assert refusal.startswith(f"setting {name} (from the environment): ")
    assert message in refusal


@pytest.mark.parametrize("name", ["DISCORD_API_BASE_URL", "SLACK_API_BASE_URL"])
@pytest.mark.parametrize(
    ("value", "shown"),
    [
        ("https://admin:hunter22@proxy.example/api", "'https://***@proxy.example/api'"),
        ("https://admin:hunter22@proxy.example:99999/api", "'https://***@proxy.example:99999/api'"),
        (
            "https://admin:hunter22@proxy.example/api?token=t0ken",
            "'https://***@proxy.example/api?***'",
        ),
        ("ftp://admin:hunter22@proxy.example/", "'ftp://***@proxy.example/'"),
        ("https:/admin:hunter22@proxy.example/", "'***@proxy.example/'"),
    ],
)
def test_urls_with_credentials_are_refused_without_showing_them(
    name: str, value: str, shown: str
) -> None:
    refusal = refused(**{name: value})
    assert shown in refusal
    assert "hunter22" not in refusal
    assert "admin" not in refusal
    assert "t0ken" not in refusal


def test_urls_in_range_are_kept_without_the_trailing_slash() -> None:
    settings = load(
        DISCORD_API_BASE_URL="http://127.0.0.1:65535/api/v10/",
        DISCORD_GATEWAY_URL="wss://gateway.discord.gg/",
        SLACK_API_BASE_URL="https://slack.com/api/",
    )
    assert settings.discord_api_base_url == "http://127.0.0.1:65535/api/v10"
    assert settings.discord_gateway_url == "wss://gateway.discord.gg"
    assert settings.slack_api_base_url == "https://slack.com/api"


@pytest.mark.parametrize(
    "value",
    ["\u0661\u0662\u0663", "\u00b9\u00b2\u00b3", "\uff11\uff12\uff13", "123,\u0661\u0662\u0663"],
)
def test_channel_ids_in_other_digits_are_refused(value: str) -> None:
    refusal = refused(REMINDER_CHANNEL_IDS=value)
    assert refusal.startswith("setting REMINDER_CHANNEL_IDS (from the environment): ")
    assert "is not a numeric channel id" in refusal


def test_channel_ids_are_snowflakes() -> None:
    biggest = str(2**64 - 1)
    settings = load(REMINDER_CHANNEL_IDS=f"123, 0123,{biggest},123")
    assert settings.reminder_channel_ids == ("123", biggest)
    assert "'18446744073709551616' is not a numeric" in refused(REMINDER_CHANNEL_IDS=str(2**64))
    assert "'0' is not a numeric channel id" in refused(REMINDER_CHANNEL_IDS="0")
    assert "is not a numeric channel id" in refused(REMINDER_CHANNEL_IDS="1" * 21)


@pytest.mark.parametrize("value", ["\u0661\u0662\u0663", "\u00b9\u00b2\u00b3", "0", str(2**64)])
def test_guild_id_is_an_ascii_snowflake(value: str) -> None:
    assert refused(DISCORD_GUILD_ID=value).startswith(
        "setting DISCORD_GUILD_ID (from the environment): must be a numeric Discord id"
    )


@pytest.mark.parametrize("value", ["C\uff10123", "c0123", "C0", "D0123", "C01-23", "C" + "1" * 32])
def test_slack_channel_ids_are_ascii(value: str) -> None:
    refusal = refused(
        SLACK_BOT_TOKEN="xoxb-1-2-3", SLACK_APP_TOKEN="xapp-1-2", SLACK_REMINDER_CHANNEL_IDS=value
    )
    assert "is not a Slack channel id such as C0123456789" in refusal


def test_slack_channel_ids_accepted() -> None:
    settings = load(
        SLACK_BOT_TOKEN="xoxb-1-2-3",
        SLACK_APP_TOKEN="xapp-1-2",
        SLACK_REMINDER_CHANNEL_IDS="C0123456789,G01,C0123456789",
    )
    assert settings.slack_reminder_channel_ids == ("C0123456789", "G01")


@pytest.mark.parametrize(
    ("environ", "message"),
    [
        ({"LOG_LEVEL": "\u0131nfo"}, "setting LOG_LEVEL (from the environment): must be one of"),
        ({"LOG_LEVEL": "NOTSET"}, "setting LOG_LEVEL (from the environment): must be one of"),
        ({"SLACK_HTTP_PORT": "\u0663\u0660\u0660\u0660"}, "must be a TCP port from 1 to 65535"),
        ({"SLACK_HTTP_PORT": "65536"}, "must be a TCP port from 1 to 65535"),
        ({"SLACK_HTTP_PORT": "+80"}, "must be a TCP port from 1 to 65535"),
        ({"DATA_DIR": "/srv/a\x00b"}, "contains a control or invisible character (U+0000)"),
        ({"BRIEFS_DIR": "/srv/a\nb"}, "contains a control or invisible character (U+000A)"),
        ({"DATA_DIR": "/srv/\u202egnp.exe"}, "(U+202E) at position 6"),
        ({"BRIEFS_DIR": "/" + "a" * 300}, "cannot be read: File name too long"),
        ({"DATA_DIR": "/" + "a" * 2000}, "setting DATA_DIR (from the environment): is 2,001"),
        ({"REMINDER_ALL_DAY_AT": "0900"}, "'0900' is not a time of day such as 09:00"),
        ({"REMINDER_OFFSETS": ",".join(["1h"] * 21)}, "give at most 20 offsets, got 21"),
    ],
)
def test_other_settings_refused(environ: dict[str, str], message: str) -> None:
    assert message in refused(**environ)


def test_every_value_is_bounded_in_length() -> None:
    assert refused(DISCORD_TOKEN="x" * 2001) == (
        "setting DISCORD_TOKEN (from the environment): is 2,001 characters long; at most 2,000"
    )
    channels = ",".join(["123456789012345678"] * 5000)
    assert len(channels) < 100_000
    assert load(REMINDER_CHANNEL_IDS=channels).reminder_channel_ids == ("123456789012345678",)
    assert refused(REMINDER_CHANNEL_IDS="1," * 50_000 + "1") == (
        "setting REMINDER_CHANNEL_IDS (from the environment): "
        "is 100,001 characters long; at most 100,000"
    )


def test_a_long_bad_value_is_quoted_short() -> None:
    refusal = refused(REMINDER_CHANNEL_IDS="x" * 5000)
    assert len(refusal) < 200
    assert "'xxxx" in refusal


def test_secrets_with_control_characters_are_refused_without_echo() -> None:
    token = "MTIzNDU2Nzg5MDEyMzQ1Njc4.secret\x07part"
    refusal = refused(DISCORD_TOKEN=token)
    assert "MTIz" not in refusal
    assert "(U+0007)" in refusal


def test_non_ascii_tokens_are_refused() -> None:
    refusal = refused(DISCORD_TOKEN="MTIzNDU2Nzg5MDEyMzQ1Njc4\u00e9abcdef")
    assert "does not look like a bot token" in refusal
    assert "MTIz" not in refusal


# ---------------------------------------------------------------- where values come from


def test_the_command_line_wins_over_the_environment_which_wins_over_the_env_file(
    tmp_path: Path,
) -> None:
    env_file = tmp_path / ".env"
    env_file.write_text(
        "BRIEFBOT_SPEED=2\nBRIEFBOT_AS_OF=2017-04-28\nLOG_LEVEL=debug\n", encoding="utf-8"
    )
    settings = Settings.load(
        environ={"BRIEFBOT_SPEED": "3", "LOG_LEVEL": "warning"},
        env_file=env_file,
        overrides={"BRIEFBOT_SPEED": "4", "BRIEFBOT_AS_OF": None},
    )
    assert settings.speed == 4.0
    assert settings.as_of == datetime(2017, 4, 28, tzinfo=UTC)
    assert settings.log_level == "WARNING"


def test_a_refusal_names_where_its_value_came_from(tmp_path: Path) -> None:
    env_file = tmp_path / "briefbot.env"
    env_file.write_text("BRIEFBOT_SPEED=fast\n", encoding="utf-8")
    problem = "must be a number such as 1 or 3600, got 'fast'"
    with pytest.raises(SettingsError) as caught:
        Settings.load(environ={}, env_file=env_file)
    assert str(caught.value) == f"setting BRIEFBOT_SPEED (from {env_file}): {problem}"
    with pytest.raises(SettingsError) as caught:
        Settings.load(environ={"BRIEFBOT_SPEED": "fast"}, env_file=env_file)
    assert str(caught.value) == f"setting BRIEFBOT_SPEED (from the environment): {problem}"
    with pytest.raises(SettingsError) as caught:
        Settings.load(environ={}, env_file=None, overrides={"BRIEFBOT_SPEED": "fast"})
    assert str(caught.value) == f"setting BRIEFBOT_SPEED (from the command line): {problem}"


def test_a_blank_value_means_the_default_whatever_lies_below_it(tmp_path: Path) -> None:
    env_file = tmp_path / ".env"
    env_file.write_text("REMINDER_GRACE=1h\nLOG_LEVEL=nonsense\n", encoding="utf-8")
    settings = Settings.load(environ={"REMINDER_GRACE": "  ", "LOG_LEVEL": ""}, env_file=env_file)
    assert settings.reminder_grace == timedelta(hours=6)
    assert settings.log_level == "INFO"


def test_names_are_matched_exactly() -> None:
    settings = load(log_level="nonsense", Briefbot_Speed="fast", PATH="/usr/bin")
    assert settings.log_level == "INFO"
    assert settings.speed is None


def test_settings_are_frozen_and_never_show_their_secrets() -> None:
    secrets = ["t" * 30, "xoxb-1-2-3", "xapp-1-2", "s" * 20]
    settings = load(
        DISCORD_TOKEN=secrets[0],
        SLACK_BOT_TOKEN=secrets[1],
        SLACK_APP_TOKEN=secrets[2],
        SLACK_SIGNING_SECRET=secrets[3],
    )
    assert not [secret for secret in secrets if secret in repr(settings) + str(settings)]
    assert settings.secrets() == secrets
    assert settings.discord_token is not None
    assert settings.discord_token.get_secret_value() == secrets[0]
    with pytest.raises(ValidationError, match="frozen"):
        settings.speed = 2.0  # type: ignore[misc]


# ---------------------------------------------------------------- the database URL


DATABASE = "postgresql+psycopg://briefbot:s3cr%40t-pw@127.0.0.1:5432/briefbot"


def test_repr_never_shows_the_database_password() -> None:
    settings = load(DATABASE_URL=DATABASE)
    assert "s3cr" not in repr(settings)
    assert "s3cr" not in str(settings)
    assert settings.database == DATABASE
    assert settings.database_url == DATABASE


def test_the_database_password_is_redacted_from_the_log() -> None:
    secrets = load(DATABASE_URL=DATABASE, DISCORD_TOKEN="t" * 30).secrets()
    assert secrets == ["t" * 30, "s3cr%40t-pw", "s3cr@t-pw"]
    assert load(DATABASE_URL="sqlite:////tmp/ledger.sqlite3").secrets() == []
    assert load(DATABASE_URL="postgresql://briefbot@db/briefbot").secrets() == []


@pytest.mark.parametrize(
    ("value", "message"),
    [
        (
            "postgresql://briefbot:s3cret@127.0.0.1:99999/db",
            "'postgresql://***@127.0.0.1:99999/db' has port 99999: give a port from 1 to 65535",
        ),
        (
            "postgresql://briefbot:s3cret@127.0.0.1:port/db",
            "'postgresql://***@127.0.0.1:port/db' is not a SQLAlchemy URL such as",
        ),
        ("not a url://briefbot:s3cret@host/db", "'not a url://***@host/db' is not a SQLAlchemy"),
        ("briefbot:s3cret@host/db", "must be a SQLAlchemy URL such as"),
    ],
)
def test_malformed_database_url_hides_the_password(value: str, message: str) -> None:
    refusal = refused(DATABASE_URL=value)
    assert refusal.startswith("setting DATABASE_URL (from the environment): ")
    assert message in refusal
    assert "s3cret" not in refusal
    assert "briefbot:" not in refusal


# ---------------------------------------------------------------- through the command line


@pytest.fixture
def clean_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> pytest.MonkeyPatch:
    """No briefbot setting in the environment, no ``.env``, a private data directory."""
    for key in list(os.environ):
        if key.startswith(("BRIEFBOT_", "DISCORD_", "SLACK_", "REMINDER_", "DATABASE_URL")):
            monkeypatch.delenv(key)
    for key in ("BRIEFS_DIR", "LOG_LEVEL"):
        monkeypatch.delenv(key, raising=False)
    monkeypatch.setenv("DATA_DIR", str(tmp_path / "data"))
    monkeypatch.chdir(tmp_path)
    return monkeypatch


@pytest.mark.parametrize(
    ("name", "value", "message"),
    [
        ("BRIEFBOT_AS_OF", "0001-01-01T00:00+01:00", "is outside the years 1900 to 2999 (UTC)"),
        ("BRIEFBOT_SPEED", "1e10", "must be at most 1,000,000"),
        ("REMINDER_GRACE", "99999999999w", "is longer than the maximum of 30 days"),
        ("DISCORD_API_BASE_URL", "http://u:hunter22@127.0.0.1:99999", "is not a valid URL"),
        ("REMINDER_CHANNEL_IDS", "\u0661\u0662\u0663", "is not a numeric channel id"),
        ("DATABASE_URL", "postgresql://u:hunter22@h:99999/db", "has port 99999"),
    ],
)
def test_the_command_line_refuses_in_one_line_with_status_2(
    clean_env: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    name: str,
    value: str,
    message: str,
) -> None:
    clean_env.setenv(name, value)
    assert main(["check"]) == 2
    out, err = capsys.readouterr()
    assert out == ""
    assert err.startswith(f"briefbot: setting {name} (from the environment): ")
    assert message in err
    assert len(err.strip().splitlines()) == 1
    assert "Traceback" not in err
    assert "hunter22" not in err


def test_the_command_line_refuses_a_flag_out_of_range(
    clean_env: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["check", "--as-of", "9999-12-31T23:59+00:00"]) == 2
    err = capsys.readouterr().err
    assert err == (
        "briefbot: setting BRIEFBOT_AS_OF (from the command line): "
        "'9999-12-31T23:59+00:00' is outside the years 1900 to 2999 (UTC)\n"
    )


def test_the_command_line_refuses_a_newline_from_the_env_file(
    clean_env: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    clean_env.delenv("DATA_DIR")
    (tmp_path / ".env").write_text('DATA_DIR="/srv/first\\nsecond"\n', encoding="utf-8")
    assert main(["check"]) == 2
    assert capsys.readouterr().err == (
        "briefbot: setting DATA_DIR (from .env): contains a control or invisible character "
        "(U+000A) at position 11: a setting is one line of visible text\n"
    )
