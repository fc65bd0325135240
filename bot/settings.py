"""One settings object, read once at start from the environment and ``.env``.

The real environment wins over ``.env``. A malformed value stops the program
with one message naming the setting (exit status 2); see ``.env.example``.
"""

import logging
import math
import os
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path
from typing import TypeVar

from dotenv import dotenv_values
from platformdirs import user_data_dir

import bot
from bot.core.reminders import Offset, parse_duration, parse_local_time, parse_offsets

T = TypeVar("T")

DEFAULT_OFFSETS = parse_offsets("7d,1d,1h")

LOG_LEVELS = ("DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL")


class SettingsError(ValueError):
    """A setting has a value that cannot be used; the message names it."""

    def __init__(self, name: str, message: str, origin: str = "") -> None:
        self.name = name
        where = f" (from {origin})" if origin else ""
        super().__init__(f"setting {name}{where}: {message}")


def embedded_briefs_dir() -> Path:
    """The briefs shipped with briefbot: inside the installed package, or the source tree's."""
    package = Path(bot.__file__).resolve().parent
    installed = package / "_embedded" / "briefs"
    return installed if installed.is_dir() else package.parent / "briefs"


def parse_instant(text: str) -> datetime:
    """Read an ISO 8601 instant with its offset (``2017-04-28T09:00+03:00``, ``...Z``) or a date.

    A bare date means midnight UTC. A date and time without an offset is refused,
    since it would mean a different instant on every machine.
    """
    value = text.strip()
    try:
        if len(value) == 10:
            return datetime.combine(date.fromisoformat(value), datetime.min.time(), UTC)
        instant = datetime.fromisoformat(value)
    except ValueError:
        raise ValueError(
            f"{text!r} is not an ISO 8601 date or time, e.g. 2017-04-28 or 2017-04-28T09:00+03:00"
        ) from None
    if instant.tzinfo is None:
        raise ValueError(f"{text!r} has no UTC offset: add one, e.g. {value}Z or {value}+03:00")
    return instant.astimezone(UTC)


def parse_speed(text: str) -> float:
    """Read a clock speed: a number of 0 or more (0 freezes the pinned time)."""
    try:
        speed = float(text)
    except ValueError:
        raise ValueError(f"must be a number such as 1 or 3600, got {text!r}") from None
    if not math.isfinite(speed) or speed < 0:
        raise ValueError(f"must be a finite number of 0 or more, got {text!r}")
    return speed


class Secret:
    """A secret value that never shows itself in a repr, a log line or an error."""

    __slots__ = ("_value",)

    def __init__(self, value: str) -> None:
        self._value = value

    def reveal(self) -> str:
        """The secret itself, for the one place that must send it."""
        return self._value

    def __repr__(self) -> str:
        return "Secret('********')"

    __str__ = __repr__

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Secret) and other._value == self._value

    def __hash__(self) -> int:
        return hash(self._value)


def _token(text: str) -> Secret:
    if text.lower().startswith("bot "):
        raise ValueError("give the token alone, without the 'Bot ' prefix")
    if any(char.isspace() for char in text) or len(text) < 20:
        raise ValueError("does not look like a bot token (copy it again from the Developer Portal)")
    return Secret(text)


def _snowflake(text: str) -> int:
    if not text.isdigit() or int(text) <= 0:
        raise ValueError(f"must be a numeric Discord id (a snowflake), got {text!r}")
    return int(text)


def _url(*schemes: str) -> Callable[[str], str]:
    def parse(text: str) -> str:
        if not text.startswith(tuple(f"{scheme}://" for scheme in schemes)) or " " in text:
            wanted = " or ".join(f"{scheme}://" for scheme in schemes)
            raise ValueError(f"must be a URL starting with {wanted}, got {text!r}")
        return text.rstrip("/")

    return parse


@dataclass(frozen=True)
class Settings:
    """Everything the bot is configured with."""

    briefs_dir: Path
    data_dir: Path
    as_of: datetime | None
    speed: float | None
    log_level: str
    discord_token: Secret | None = None
    discord_guild_id: int | None = None
    discord_api_base_url: str | None = None
    discord_gateway_url: str | None = None
    database_url: str | None = None
    reminder_offsets: tuple[Offset, ...] = DEFAULT_OFFSETS
    reminder_all_day_at: time = time(9, 0)
    reminder_grace: timedelta = timedelta(hours=6)
    reminder_channel_ids: tuple[str, ...] = ()
    reminder_claim_lease: timedelta = timedelta(minutes=2)
    slack_bot_token: Secret | None = None
    slack_app_token: Secret | None = None
    slack_signing_secret: Secret | None = None
    slack_http_port: int = 3000
    slack_api_base_url: str | None = None
    slack_reminder_channel_ids: tuple[str, ...] = ()

    def secrets(self) -> list[str]:
        """Every secret configured, for the log's redaction filter."""
        found = (
            self.discord_token,
            self.slack_bot_token,
            self.slack_app_token,
            self.slack_signing_secret,
        )
        return [secret.reveal() for secret in found if secret is not None]

    @property
    def database(self) -> str:
        """The ledger's SQLAlchemy URL: ``DATABASE_URL``, or a SQLite file in the data directory."""
        if self.database_url:
            return self.database_url
        return f"sqlite:///{self.data_dir / 'briefbot.sqlite3'}"

    @property
    def clock_speed(self) -> float:
        """How fast the clock runs: as set, else frozen when pinned, else real time."""
        if self.speed is not None:
            return self.speed
        return 0.0 if self.as_of is not None else 1.0

    @classmethod
    def load(
        cls,
        environ: Mapping[str, str] | None = None,
        env_file: Path | None = Path(".env"),
        overrides: Mapping[str, str | None] | None = None,
    ) -> "Settings":
        """Read settings from ``environ`` (default: the process environment) over ``env_file``.

        ``overrides`` are command-line values, which win over both.
        """
        values: dict[str, tuple[str, str]] = {}
        if env_file is not None and env_file.is_file():
            for key, value in dotenv_values(env_file).items():
                if value is not None:
                    values[key] = (value, str(env_file))
        for key, value in (os.environ if environ is None else environ).items():
            values[key] = (value, "the environment")
        for key, override in (overrides or {}).items():
            if override is not None:
                values[key] = (override, "the command line")
        return cls._from_values(values)

    @classmethod
    def _from_values(cls, values: Mapping[str, tuple[str, str]]) -> "Settings":
        def get(name: str) -> tuple[str, str] | None:
            found = values.get(name)
            if found is None or not found[0].strip():
                return None
            return found[0].strip(), found[1]

        def convert(name: str, parse: Callable[[str], T], default: T) -> T:
            found = get(name)
            if found is None:
                return default
            try:
                return parse(found[0])
            except ValueError as error:
                raise SettingsError(name, str(error), found[1]) from None

        briefs = convert("BRIEFS_DIR", _directory, embedded_briefs_dir())
        data = convert("DATA_DIR", Path, Path(user_data_dir("briefbot", appauthor=False)))
        no_channels: tuple[str, ...] = ()
        slack_bot_token = convert("SLACK_BOT_TOKEN", _prefixed_secret("xoxb-"), None)
        slack_app_token = convert("SLACK_APP_TOKEN", _prefixed_secret("xapp-"), None)
        slack_signing_secret = convert("SLACK_SIGNING_SECRET", _plain_secret, None)
        slack_channels = convert("SLACK_REMINDER_CHANNEL_IDS", _slack_channel_ids, no_channels)
        _check_slack(slack_bot_token, slack_app_token, slack_signing_secret, slack_channels)
        return cls(
            slack_bot_token=slack_bot_token,
            slack_app_token=slack_app_token,
            slack_signing_secret=slack_signing_secret,
            slack_http_port=convert("SLACK_HTTP_PORT", _port, 3000),
            slack_api_base_url=convert("SLACK_API_BASE_URL", _url("http", "https"), None),
            slack_reminder_channel_ids=slack_channels,
            briefs_dir=briefs,
            data_dir=data.expanduser(),
            as_of=convert("BRIEFBOT_AS_OF", parse_instant, None),
            speed=convert("BRIEFBOT_SPEED", parse_speed, None),
            log_level=convert("LOG_LEVEL", _log_level, "INFO"),
            discord_token=convert("DISCORD_TOKEN", _token, None),
            discord_guild_id=convert("DISCORD_GUILD_ID", _snowflake, None),
            discord_api_base_url=convert("DISCORD_API_BASE_URL", _url("http", "https"), None),
            discord_gateway_url=convert("DISCORD_GATEWAY_URL", _url("ws", "wss"), None),
            database_url=convert("DATABASE_URL", _database_url, None),
            reminder_offsets=convert("REMINDER_OFFSETS", parse_offsets, DEFAULT_OFFSETS),
            reminder_all_day_at=convert("REMINDER_ALL_DAY_AT", parse_local_time, time(9, 0)),
            reminder_grace=convert("REMINDER_GRACE", parse_duration, timedelta(hours=6)),
            reminder_channel_ids=convert("REMINDER_CHANNEL_IDS", _channel_ids, ()),
            reminder_claim_lease=convert(
                "REMINDER_CLAIM_LEASE", _positive_duration, timedelta(minutes=2)
            ),
        )

    def prepare_data_dir(self) -> Path:
        """Create the data directory if needed; raise ``SettingsError`` if it cannot be."""
        try:
            self.data_dir.mkdir(parents=True, exist_ok=True)
        except OSError as error:
            raise SettingsError(
                "DATA_DIR", f"cannot create {self.data_dir}: {error.strerror}"
            ) from None
        return self.data_dir


def _prefixed_secret(prefix: str) -> Callable[[str], Secret]:
    def parse(text: str) -> Secret:
        if not text.startswith(prefix) or any(char.isspace() for char in text):
            raise ValueError(f"must be a Slack token starting with {prefix} (check the app's page)")
        return Secret(text)

    return parse


def _plain_secret(text: str) -> Secret:
    if any(char.isspace() for char in text) or len(text) < 16:
        raise ValueError(
            "does not look like a signing secret (Basic Information → App Credentials)"
        )
    return Secret(text)


def _port(text: str) -> int:
    if not text.isdigit() or not 0 <= int(text) <= 65535:
        raise ValueError(f"must be a TCP port from 1 to 65535 (0: any free port), got {text!r}")
    return int(text)


def _slack_channel_ids(text: str) -> tuple[str, ...]:
    ids = tuple(part.strip() for part in text.split(",") if part.strip())
    for channel in ids:
        if not (channel[:1] in ("C", "G") and channel[1:].isalnum() and channel.isupper()):
            raise ValueError(
                f"{channel!r} is not a Slack channel id such as C0123456789 "
                "(comma-separate several)"
            )
    return tuple(dict.fromkeys(ids))


def _check_slack(
    bot: Secret | None, app: Secret | None, signing: Secret | None, channels: tuple[str, ...]
) -> None:
    """Slack needs its bot token, and a way to receive commands: Socket Mode or signed HTTP."""
    if bot is None:
        given = {
            "SLACK_APP_TOKEN": app,
            "SLACK_SIGNING_SECRET": signing,
            "SLACK_REMINDER_CHANNEL_IDS": channels,
        }
        for name, value in given.items():
            if value:
                raise SettingsError("SLACK_BOT_TOKEN", f"is missing, but {name} is set")
        return
    if app is None and signing is None:
        raise SettingsError(
            "SLACK_SIGNING_SECRET",
            "is needed to verify Slack's requests in HTTP mode; "
            "or set SLACK_APP_TOKEN to use Socket Mode",
        )


def _database_url(text: str) -> str:
    if "://" not in text:
        raise ValueError(
            "must be a SQLAlchemy URL such as sqlite:////var/lib/briefbot/ledger.sqlite3 "
            "or postgresql+psycopg://user@host/db"
        )
    return text


def _channel_ids(text: str) -> tuple[str, ...]:
    ids = tuple(part.strip() for part in text.split(",") if part.strip())
    for channel in ids:
        if not channel.isdigit():
            raise ValueError(f"{channel!r} is not a numeric channel id (comma-separate several)")
    return tuple(dict.fromkeys(ids))


def _positive_duration(text: str) -> timedelta:
    value = parse_duration(text)
    if value <= timedelta(0):
        raise ValueError(f"{text!r} must be longer than zero")
    return value


def _directory(text: str) -> Path:
    path = Path(text).expanduser()
    if not path.is_dir():
        raise ValueError(f"{text!r} is not a directory")
    return path


def _log_level(text: str) -> str:
    level = text.upper()
    if level not in LOG_LEVELS or not isinstance(logging.getLevelName(level), int):
        raise ValueError(f"must be one of {', '.join(LOG_LEVELS)}, got {text!r}")
    return level
