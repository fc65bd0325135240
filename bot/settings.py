"""One settings object, read once at start from the environment and ``.env``.

The real environment wins over ``.env``. A malformed value stops the program
with one message naming the setting (exit status 2); see ``.env.example``.
"""

import logging
import math
import os
import re
import unicodedata
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path
from typing import TypeVar
from urllib.parse import unquote, urlsplit

from dotenv import dotenv_values
from platformdirs import user_data_dir
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError

import bot
from bot.core.clock import MAX_SPEED
from bot.core.reminders import Offset, parse_duration, parse_local_time, parse_offsets

T = TypeVar("T")

DEFAULT_OFFSETS = parse_offsets("7d,1d,1h")

LOG_LEVELS = ("DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL")

MAX_LENGTH = 2_000
"""The longest value of any setting, in characters, except the channel lists and URLs."""
MAX_LIST_LENGTH = 100_000
"""The longest value of ``REMINDER_CHANNEL_IDS`` and ``SLACK_REMINDER_CHANNEL_IDS``."""
LISTS = ("REMINDER_CHANNEL_IDS", "SLACK_REMINDER_CHANNEL_IDS")
URLS = ("DISCORD_API_BASE_URL", "DISCORD_GATEWAY_URL", "SLACK_API_BASE_URL")
MAX_URL_LENGTH = 2_048
"""The longest URL (``DISCORD_API_BASE_URL``, ``DISCORD_GATEWAY_URL``, ``SLACK_API_BASE_URL``)."""
EARLIEST_AS_OF = datetime(1900, 1, 1, tzinfo=UTC)
LATEST_AS_OF = datetime(3000, 1, 1, tzinfo=UTC)
"""``BRIEFBOT_AS_OF`` lies in the years 1900 to 2999 (UTC), the years a brief may speak of."""
MAX_GRACE = timedelta(days=30)
"""The longest ``REMINDER_GRACE``."""
MAX_CLAIM_LEASE = timedelta(days=1)
"""The longest ``REMINDER_CLAIM_LEASE``."""
MAX_SNOWFLAKE = 2**64 - 1
_SNOWFLAKE = re.compile(r"[0-9]{1,20}")
_SLACK_CHANNEL = re.compile(r"[CG][A-Z0-9]{2,31}")
_PORT = re.compile(r"[0-9]{1,5}")
_INVISIBLE = ("Cc", "Cf", "Cs", "Zl", "Zp")
"""Control, format (e.g. bidirectional overrides), surrogate and line-separator characters."""


def _quoted(text: str, limit: int = 60) -> str:
    """``text`` quoted for an error message, cut short if long."""
    return repr(text) if len(text) <= limit else f"{text[:limit]!r}..."


def _hide_credentials(text: str) -> str:
    """A URL as it may be shown: any ``user:password@`` as ``***@``, any query as ``?***``."""
    head, at, host = text.rpartition("@")
    if at:
        scheme, sep, _ = head.partition("://")
        text = f"{scheme}{sep}***@{host}" if sep else f"***@{host}"
    path, mark, _ = text.partition("?")
    return f"{path}?***" if mark else text


def _check_text(name: str, text: str, origin: str) -> None:
    """Refuse a value that is too long or holds characters no setting can mean."""
    limit = MAX_LIST_LENGTH if name in LISTS else MAX_URL_LENGTH if name in URLS else MAX_LENGTH
    if len(text) > limit:
        raise SettingsError(name, f"is {len(text):,} characters long; at most {limit:,}", origin)
    for position, char in enumerate(text, start=1):
        if unicodedata.category(char) in _INVISIBLE:
            raise SettingsError(
                name,
                f"contains a control or invisible character (U+{ord(char):04X}) "
                f"at position {position}: a setting is one line of visible text",
                origin,
            )


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
    Only the years 1900 to 2999 (UTC) are accepted.
    """
    value = text.strip()
    try:
        if len(value) == 10:
            instant = datetime.combine(date.fromisoformat(value), datetime.min.time(), UTC)
        else:
            instant = datetime.fromisoformat(value)
    except ValueError:
        raise ValueError(
            f"{_quoted(text)} is not an ISO 8601 date or time, "
            "e.g. 2017-04-28 or 2017-04-28T09:00+03:00"
        ) from None
    if instant.tzinfo is None:
        raise ValueError(f"{text!r} has no UTC offset: add one, e.g. {value}Z or {value}+03:00")
    try:
        instant = instant.astimezone(UTC)
    except OverflowError:
        instant = datetime.min.replace(tzinfo=UTC) if instant.year < 2000 else LATEST_AS_OF
    if not EARLIEST_AS_OF <= instant < LATEST_AS_OF:
        raise ValueError(f"{text!r} is outside the years 1900 to 2999 (UTC)")
    return instant


def parse_speed(text: str) -> float:
    """Read a clock speed: a number from 0 (freezes the pinned time) to ``MAX_SPEED``."""
    try:
        if not text.isascii():
            raise ValueError
        speed = float(text)
    except ValueError:
        raise ValueError(f"must be a number such as 1 or 3600, got {_quoted(text)}") from None
    if not math.isfinite(speed) or speed < 0:
        raise ValueError(f"must be a finite number of 0 or more, got {_quoted(text)}")
    if speed > MAX_SPEED:
        raise ValueError(
            f"must be at most {MAX_SPEED:,.0f} (a real second is 11.6 days), got {_quoted(text)}"
        )
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
    if any(char.isspace() for char in text) or len(text) < 20 or not text.isascii():
        raise ValueError("does not look like a bot token (copy it again from the Developer Portal)")
    return Secret(text)


def _is_snowflake(text: str) -> bool:
    """1 to 20 ASCII digits, from 1 to 2**64 - 1: a Discord id."""
    return _SNOWFLAKE.fullmatch(text) is not None and 0 < int(text) <= MAX_SNOWFLAKE


def _snowflake(text: str) -> int:
    if not _is_snowflake(text):
        raise ValueError(f"must be a numeric Discord id (a snowflake), got {_quoted(text)}")
    return int(text)


def _url(*schemes: str) -> Callable[[str], str]:
    """A base URL: one of ``schemes``, a host, a valid port; no credentials, query or fragment."""
    wanted = " or ".join(f"{scheme}://" for scheme in schemes)

    def parse(text: str) -> str:
        if len(text) > MAX_URL_LENGTH:
            raise ValueError(f"is {len(text):,} characters long; at most {MAX_URL_LENGTH:,}")
        shown = _quoted(_hide_credentials(text), 200)
        if not text.startswith(tuple(f"{scheme}://" for scheme in schemes)):
            raise ValueError(f"must be a URL starting with {wanted}, got {shown}")
        if any(char.isspace() for char in text):
            raise ValueError(f"must be a URL without spaces, got {shown}")
        try:
            parts = urlsplit(text)
            port = parts.port
        except ValueError:
            raise ValueError(
                f"{shown} is not a valid URL: check the host, and that the port is from 1 to 65535"
            ) from None
        if port == 0:
            raise ValueError(f"{shown} has port 0: give a port from 1 to 65535")
        if not parts.hostname:
            raise ValueError(f"{shown} has no host, e.g. {schemes[-1]}://example.com")
        if "@" in parts.netloc:
            raise ValueError(f"{shown} must not carry a user name or password (user:password@host)")
        if parts.query or parts.fragment or text.endswith(("?", "#")):
            raise ValueError(f"{shown} must not have a query (?...) or fragment (#...)")
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
    database_url: str | None = field(default=None, repr=False)  # its password is a secret
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
    seeds_dir: Path | None = None  # None: the ``seeds`` directory beside the briefs

    def secrets(self) -> list[str]:
        """Every secret configured, for the log's redaction filter."""
        found = (
            self.discord_token,
            self.slack_bot_token,
            self.slack_app_token,
            self.slack_signing_secret,
        )
        return [secret.reveal() for secret in found if secret is not None] + _passwords(
            self.database_url
        )

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
            value, origin = found[0].strip(), found[1]
            _check_text(name, value, origin)
            return value, origin

        def convert(name: str, parse: Callable[[str], T], default: T) -> T:
            found = get(name)
            if found is None:
                return default
            try:
                return parse(found[0])
            except ValueError as error:
                raise SettingsError(name, str(error), found[1]) from None

        briefs = convert("BRIEFS_DIR", _directory, embedded_briefs_dir())
        data = convert("DATA_DIR", _data_dir, Path(user_data_dir("briefbot", appauthor=False)))
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
            seeds_dir=convert("SEEDS_DIR", _directory, None),
            data_dir=data,
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
            reminder_grace=convert("REMINDER_GRACE", _grace, timedelta(hours=6)),
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
        if (
            not text.startswith(prefix)
            or any(char.isspace() for char in text)
            or not text.isascii()
        ):
            raise ValueError(f"must be a Slack token starting with {prefix} (check the app's page)")
        return Secret(text)

    return parse


def _plain_secret(text: str) -> Secret:
    if any(char.isspace() for char in text) or len(text) < 16 or not text.isascii():
        raise ValueError(
            "does not look like a signing secret (Basic Information → App Credentials)"
        )
    return Secret(text)


def _port(text: str) -> int:
    if not _PORT.fullmatch(text) or not 0 <= int(text) <= 65535:
        raise ValueError(
            f"must be a TCP port from 1 to 65535 (0: any free port), got {_quoted(text)}"
        )
    return int(text)


def _slack_channel_ids(text: str) -> tuple[str, ...]:
    ids = tuple(part.strip() for part in text.split(",") if part.strip())
    for channel in ids:
        if not _SLACK_CHANNEL.fullmatch(channel):
            raise ValueError(
                f"{_quoted(channel)} is not a Slack channel id such as C0123456789 "
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


_DATABASE_EXAMPLE = (
    "a SQLAlchemy URL such as sqlite:////var/lib/briefbot/ledger.sqlite3 "
    "or postgresql+psycopg://user@host/db"
)


def _database_url(text: str) -> str:
    """A SQLAlchemy URL; an error shows it with any password as ``***``."""
    if "://" not in text:
        raise ValueError(f"must be {_DATABASE_EXAMPLE}")
    shown = _quoted(_hide_credentials(text), 200)
    try:
        port = make_url(text).port
    except (ArgumentError, ValueError):
        raise ValueError(f"{shown} is not {_DATABASE_EXAMPLE}") from None
    if port is not None and not 1 <= port <= 65535:
        raise ValueError(f"{shown} has port {port}: give a port from 1 to 65535")
    return text


def _passwords(url: str | None) -> list[str]:
    """The password in a database URL, as written and decoded, for the log's redaction."""
    if not url or "://" not in url:
        return []
    netloc = url.partition("://")[2].partition("/")[0]
    userinfo, at, _ = netloc.rpartition("@")
    written = userinfo.partition(":")[2] if at else ""
    return list(dict.fromkeys(p for p in (written, unquote(written)) if p))


def _channel_ids(text: str) -> tuple[str, ...]:
    """Discord channel ids (ASCII snowflakes), written without leading zeros, each once."""
    ids = tuple(part.strip() for part in text.split(",") if part.strip())
    for channel in ids:
        if not _is_snowflake(channel):
            raise ValueError(
                f"{_quoted(channel)} is not a numeric channel id (comma-separate several)"
            )
    return tuple(dict.fromkeys(str(int(channel)) for channel in ids))


def _grace(text: str) -> timedelta:
    return parse_duration(text, MAX_GRACE)


def _positive_duration(text: str) -> timedelta:
    value = parse_duration(text, MAX_CLAIM_LEASE)
    if value <= timedelta(0):
        raise ValueError(f"{text!r} must be longer than zero")
    return value


def _expanded(text: str) -> Path:
    try:
        return Path(text).expanduser()
    except RuntimeError:  # no home directory to expand ~ to
        raise ValueError(f"{_quoted(text)}: cannot tell which home directory ~ means") from None


def _data_dir(text: str) -> Path:
    return _expanded(text)


def _directory(text: str) -> Path:
    path = _expanded(text)
    try:
        found = path.is_dir()
    except OSError as error:
        raise ValueError(f"{_quoted(text)} cannot be read: {error.strerror}") from None
    if not found:
        raise ValueError(f"{_quoted(text)} is not a directory")
    return path


def _log_level(text: str) -> str:
    level = text.upper()
    known = text.isascii() and level in LOG_LEVELS
    if not known or not isinstance(logging.getLevelName(level), int):
        raise ValueError(f"must be one of {', '.join(LOG_LEVELS)}, got {_quoted(text)}")
    return level
