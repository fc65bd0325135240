"""One settings object, read once at start from the environment and ``.env``.

Command-line values win over the real environment, which wins over ``.env``. A malformed
value stops the program with one line naming the setting and where it came from (exit
status 2); see ``.env.example``.
"""

import logging
import math
import os
import re
import stat
import unicodedata
from collections.abc import Callable, Mapping
from datetime import UTC, date, datetime, time, timedelta
from functools import partial
from pathlib import Path
from typing import Annotated
from urllib.parse import unquote, urlsplit

from platformdirs import user_data_dir
from pydantic import (
    AliasGenerator,
    BeforeValidator,
    Field,
    SecretStr,
    ValidationError,
    ValidationInfo,
    field_validator,
)
from pydantic_core import PydanticUseDefault
from pydantic_settings import (
    BaseSettings,
    DotEnvSettingsSource,
    InitSettingsSource,
    SettingsConfigDict,
)
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError

import bot
from bot.core.clock import MAX_SPEED
from bot.core.reminders import Offset, parse_duration, parse_local_time, parse_offsets

DEFAULT_OFFSETS = parse_offsets("7d,1d,1h")

LOG_LEVELS = ("DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL")

MAX_LENGTH = 2_000
"""The longest value of any setting, in characters, except the channel lists and URLs."""
MAX_LIST_LENGTH = 100_000
"""The longest value of ``REMINDER_CHANNEL_IDS`` and ``SLACK_REMINDER_CHANNEL_IDS``."""
MAX_URL_LENGTH = 2_048
"""The longest URL (``DISCORD_API_BASE_URL``, ``DISCORD_GATEWAY_URL``, ``SLACK_API_BASE_URL``)."""
EARLIEST_AS_OF = datetime(1900, 1, 1, tzinfo=UTC)
LATEST_AS_OF = datetime(3000, 1, 1, tzinfo=UTC)
"""``BRIEFBOT_AS_OF`` lies in the years 1900 to 2999 (UTC), the years a brief may speak of."""
MAX_GRACE = timedelta(days=30)
"""The longest ``REMINDER_GRACE``."""
MAX_CLAIM_LEASE = timedelta(days=1)
"""The longest ``REMINDER_CLAIM_LEASE``."""
MAX_CHANNEL_FILE_BYTES = 16 * 1024 * 1024
"""The largest ``REMINDER_CHANNEL_IDS_FILE`` or ``SLACK_REMINDER_CHANNEL_IDS_FILE``."""
MAX_CHANNELS = 1_000_000
"""The most channel ids one process's settings may name, lists and files together."""
MAX_SHARDS = 100_000
"""The largest ``DISCORD_SHARD_COUNT``."""
_INSTANCE = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,63}")
MAX_SNOWFLAKE = 2**64 - 1
_SNOWFLAKE = re.compile(r"[0-9]{1,20}")
_SLACK_CHANNEL = re.compile(r"[CG][A-Z0-9]{2,31}")
_PORT = re.compile(r"[0-9]{1,5}")
_INVISIBLE = ("Cc", "Cf", "Cs", "Zl", "Zp")
"""Control, format (e.g. bidirectional overrides), surrogate and line-separator characters."""


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


# ---------------------------------------------------------------- checking and reading values


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


def _setting(parse: Callable[[str], object], limit: int = MAX_LENGTH) -> BeforeValidator:
    """A field's validator: the text trimmed, then ``parse``-d if it is one line of visible text.

    Blank text means the default. A value that is not text (a default, or a settings object
    built in code) is kept as it is.
    """

    def validate(value: object) -> object:
        if not isinstance(value, str):
            return value
        text = value.strip()
        if not text:
            raise PydanticUseDefault
        if len(text) > limit:
            raise ValueError(f"is {len(text):,} characters long; at most {limit:,}")
        for position, char in enumerate(text, start=1):
            if unicodedata.category(char) in _INVISIBLE:
                raise ValueError(
                    f"contains a control or invisible character (U+{ord(char):04X}) "
                    f"at position {position}: a setting is one line of visible text"
                )
        return parse(text)

    return BeforeValidator(validate)


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


def _secret(problem: str, prefix: str = "", shortest: int = 1) -> Callable[[str], SecretStr]:
    """A secret: ASCII without spaces, starting with ``prefix``, ``shortest`` characters or more."""

    def parse(text: str) -> SecretStr:
        spaced = any(char.isspace() for char in text)
        if spaced or not text.startswith(prefix) or len(text) < shortest or not text.isascii():
            raise ValueError(problem)
        return SecretStr(text)

    return parse


def _slack_token(prefix: str) -> Callable[[str], SecretStr]:
    """A Slack token starting with ``prefix`` (``xoxb-``, ``xapp-``)."""
    return _secret(f"must be a Slack token starting with {prefix} (check the app's page)", prefix)


def _discord_token(text: str) -> SecretStr:
    """A Discord bot token, given alone."""
    if text.lower().startswith("bot "):
        raise ValueError("give the token alone, without the 'Bot ' prefix")
    problem = "does not look like a bot token (copy it again from the Developer Portal)"
    return _secret(problem, shortest=20)(text)


_signing_secret = _secret(
    "does not look like a signing secret (Basic Information → App Credentials)", shortest=16
)
"""Slack's signing secret."""


def _is_snowflake(text: str) -> bool:
    """1 to 20 ASCII digits, from 1 to 2**64 - 1: a Discord id."""
    return _SNOWFLAKE.fullmatch(text) is not None and 0 < int(text) <= MAX_SNOWFLAKE


def _snowflake(text: str) -> int:
    """A Discord id."""
    if not _is_snowflake(text):
        raise ValueError(f"must be a numeric Discord id (a snowflake), got {_quoted(text)}")
    return int(text)


def _ids(
    is_id: Callable[[str], bool], problem: str, written: Callable[[str], str] = str
) -> Callable[[str], tuple[str, ...]]:
    """A comma-separated list of ids, each checked by ``is_id``, kept once as ``written``."""

    def parse(text: str) -> tuple[str, ...]:
        ids = [part.strip() for part in text.split(",") if part.strip()]
        for one in ids:
            if not is_id(one):
                raise ValueError(f"{_quoted(one)} is not {problem} (comma-separate several)")
        return tuple(dict.fromkeys(written(one) for one in ids))

    return parse


_channel_ids = _ids(_is_snowflake, "a numeric channel id", lambda one: str(int(one)))
"""Discord channel ids (ASCII snowflakes), written without leading zeros."""
_slack_channel_ids = _ids(
    lambda one: _SLACK_CHANNEL.fullmatch(one) is not None, "a Slack channel id such as C0123456789"
)


def _channel_file(parse: Callable[[str], tuple[str, ...]]) -> Callable[[str], tuple[str, ...]]:
    """A file of channel ids, read at once: one or more per line (comma- or space-separated),
    ``#`` starting a comment; at most 16 MiB and 1,000,000 ids."""

    def read(text: str) -> tuple[str, ...]:
        path = _expanded(text)
        try:  # opened without blocking, so that a FIFO is refused rather than waited on
            descriptor = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0))
        except OSError as error:
            raise ValueError(f"{_quoted(text, 200)} cannot be read: {error.strerror}") from None
        if not stat.S_ISREG(os.fstat(descriptor).st_mode):
            os.close(descriptor)
            raise ValueError(f"{_quoted(text, 200)} is not a regular file")
        with os.fdopen(descriptor, "rb") as file:
            try:
                data = file.read(MAX_CHANNEL_FILE_BYTES + 1)
            except OSError as error:
                raise ValueError(f"{_quoted(text, 200)} cannot be read: {error.strerror}") from None
        if len(data) > MAX_CHANNEL_FILE_BYTES:
            raise ValueError(f"{_quoted(text, 200)} is larger than 16 MiB")
        try:
            content = data.decode("utf-8-sig")
        except UnicodeDecodeError as error:
            raise ValueError(
                f"{_quoted(text, 200)} is not UTF-8 (byte {error.start + 1})"
            ) from None
        ids: list[str] = []
        for number, line in enumerate(content.splitlines(), start=1):
            words = line.partition("#")[0].replace(",", " ").split()
            if not words:
                continue
            try:
                ids.extend(parse(",".join(words)))
            except ValueError as error:
                raise ValueError(f"{_quoted(text, 200)} line {number}: {error}") from None
            if len(ids) > MAX_CHANNELS:
                raise ValueError(f"{_quoted(text, 200)} names more than {MAX_CHANNELS:,} channels")
        return tuple(dict.fromkeys(ids))

    return read


def _instance(text: str) -> str:
    """A deployment's name: letters, digits, ``.``, ``_`` and ``-``, up to 64."""
    if not _INSTANCE.fullmatch(text):
        raise ValueError(
            f"must be 1 to 64 ASCII letters, digits, '.', '_' or '-', starting with a letter "
            f"or digit, got {_quoted(text)}"
        )
    return text


def _shard_count(text: str) -> int:
    """How many shards the bot runs on in all."""
    if not text.isascii() or not text.isdigit() or not 1 <= int(text) <= MAX_SHARDS:
        raise ValueError(f"must be a whole number from 1 to {MAX_SHARDS:,}, got {_quoted(text)}")
    return int(text)


def _shard_ids(text: str) -> tuple[int, ...]:
    """Shard ids, comma-separated, or ranges such as ``0-3``."""
    ids: list[int] = []
    for part in (piece.strip() for piece in text.split(",")):
        first, dash, last = part.partition("-")
        bounds = (first, last if dash else first)
        if not all(b.strip().isascii() and b.strip().isdigit() for b in bounds):
            raise ValueError(
                f"{_quoted(part)} is not a shard id or range such as 0-3 (comma-separate several)"
            )
        low, high = (int(b) for b in bounds)
        if low > high or high >= MAX_SHARDS:
            raise ValueError(f"{_quoted(part)} is not a range of shard ids from low to high")
        ids.extend(range(low, high + 1))
    return tuple(sorted(set(ids)))


def _port(text: str) -> int:
    """A TCP port to listen on; 0 for any free one."""
    if not _PORT.fullmatch(text) or not 0 <= int(text) <= 65535:
        raise ValueError(
            f"must be a TCP port from 1 to 65535 (0: any free port), got {_quoted(text)}"
        )
    return int(text)


def _url(*schemes: str) -> Callable[[str], str]:
    """A base URL: one of ``schemes``, a host, a valid port; no credentials, query or fragment."""
    wanted = " or ".join(f"{scheme}://" for scheme in schemes)

    def parse(text: str) -> str:
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


_grace = partial(parse_duration, maximum=MAX_GRACE)
"""How late a reminder missed while the bot was down may still be posted."""


def _claim_lease(text: str) -> timedelta:
    """How long a claimed delivery stays reserved: more than zero."""
    value = parse_duration(text, MAX_CLAIM_LEASE)
    if value <= timedelta(0):
        raise ValueError(f"{text!r} must be longer than zero")
    return value


def _expanded(text: str) -> Path:
    """A path with ``~`` expanded."""
    try:
        return Path(text).expanduser()
    except RuntimeError:  # no home directory to expand ~ to
        raise ValueError(f"{_quoted(text)}: cannot tell which home directory ~ means") from None


def _directory(text: str) -> Path:
    """An existing directory."""
    path = _expanded(text)
    try:
        found = path.is_dir()
    except OSError as error:
        raise ValueError(f"{_quoted(text)} cannot be read: {error.strerror}") from None
    if not found:
        raise ValueError(f"{_quoted(text)} is not a directory")
    return path


def _log_level(text: str) -> str:
    """A logging level's name, in capitals."""
    level = text.upper()
    known = text.isascii() and level in LOG_LEVELS
    if not known or not isinstance(logging.getLevelName(level), int):
        raise ValueError(f"must be one of {', '.join(LOG_LEVELS)}, got {_quoted(text)}")
    return level


_SWITCH = {"on": True, "true": True, "1": True, "off": False, "false": False, "0": False}


def _switch(text: str) -> bool:
    """A feature switched ``on`` or ``off`` (also ``true``/``false``, ``1``/``0``)."""
    value = _SWITCH.get(text.lower()) if text.isascii() else None
    if value is None:
        raise ValueError(f"must be on or off (or true/false, 1/0), got {_quoted(text)}")
    return value


# ---------------------------------------------------------------- the settings

_HttpUrl = Annotated[str | None, _setting(_url("http", "https"), MAX_URL_LENGTH)]
_ChannelIds = Annotated[tuple[str, ...], _setting(_channel_ids, MAX_LIST_LENGTH)]
_SlackChannelIds = Annotated[tuple[str, ...], _setting(_slack_channel_ids, MAX_LIST_LENGTH)]
_ChannelFile = Annotated[tuple[str, ...], _setting(_channel_file(_channel_ids), MAX_URL_LENGTH)]
_SlackChannelFile = Annotated[
    tuple[str, ...], _setting(_channel_file(_slack_channel_ids), MAX_URL_LENGTH)
]


class Settings(BaseSettings):
    """Everything the bot is configured with, frozen once read.

    Each field is read from the setting named like it in capitals (``as_of`` and ``speed``
    from ``BRIEFBOT_AS_OF`` and ``BRIEFBOT_SPEED``). Fields are checked in the order written
    here, and the first refusal is the one reported. ``Settings.load`` reads the settings;
    ``Settings.model_construct(...)`` builds them in code, unchecked, reading nothing.
    """

    model_config = SettingsConfigDict(
        frozen=True,
        case_sensitive=True,
        extra="ignore",
        enable_decoding=False,  # lists are comma-separated, not JSON
        alias_generator=AliasGenerator(validation_alias=str.upper),
        hide_input_in_errors=True,
    )

    briefs_dir: Annotated[Path, _setting(_directory)] = Field(default_factory=embedded_briefs_dir)
    data_dir: Annotated[Path, _setting(_expanded)] = Field(
        default_factory=lambda: Path(user_data_dir("briefbot", appauthor=False))
    )
    slack_bot_token: Annotated[SecretStr | None, _setting(_slack_token("xoxb-"))] = None
    slack_app_token: Annotated[SecretStr | None, _setting(_slack_token("xapp-"))] = None
    slack_signing_secret: Annotated[SecretStr | None, _setting(_signing_secret)] = None
    slack_reminder_channel_ids: _SlackChannelIds = ()
    slack_reminder_channel_ids_file: _SlackChannelFile = ()
    """The ids read from the file; ``slack_channels`` joins them to the list."""
    slack_http_port: Annotated[int, _setting(_port)] = 3000
    slack_api_base_url: _HttpUrl = None
    seeds_dir: Annotated[Path | None, _setting(_directory)] = None
    """None: the ``seeds`` directory beside the briefs."""
    as_of: Annotated[datetime | None, _setting(parse_instant)] = Field(
        default=None, validation_alias="BRIEFBOT_AS_OF"
    )
    speed: Annotated[float | None, _setting(parse_speed)] = Field(
        default=None, validation_alias="BRIEFBOT_SPEED"
    )
    log_level: Annotated[str, _setting(_log_level)] = "INFO"
    discord_token: Annotated[SecretStr | None, _setting(_discord_token)] = None
    discord_guild_id: Annotated[int | None, _setting(_snowflake)] = None
    discord_api_base_url: _HttpUrl = None
    discord_gateway_url: Annotated[str | None, _setting(_url("ws", "wss"), MAX_URL_LENGTH)] = None
    discord_shard_count: Annotated[int | None, _setting(_shard_count)] = None
    """None: as many shards as Discord recommends (``/gateway/bot``)."""
    discord_shard_ids: Annotated[tuple[int, ...], _setting(_shard_ids)] = ()
    """Which of the shards this process runs; empty: all of them."""
    discord_scheduled_events: Annotated[bool, _setting(_switch)] = False
    """Mirror the briefs' upcoming events into each guild's Events (needs Manage Events)."""
    instance: Annotated[str, _setting(_instance)] = Field(
        default="default", validation_alias="BRIEFBOT_INSTANCE"
    )
    """Which deployment this process belongs to: its settings' channels are its own."""
    database_url: Annotated[str | None, _setting(_database_url)] = Field(default=None, repr=False)
    """Not shown in a repr: its password is a secret."""
    reminder_offsets: Annotated[tuple[Offset, ...], _setting(parse_offsets)] = DEFAULT_OFFSETS
    reminder_all_day_at: Annotated[time, _setting(parse_local_time)] = time(9, 0)
    reminder_grace: Annotated[timedelta, _setting(_grace)] = timedelta(hours=6)
    reminder_channel_ids: _ChannelIds = ()
    reminder_channel_ids_file: _ChannelFile = ()
    """The ids read from the file; ``discord_channels`` joins them to the list."""
    reminder_claim_lease: Annotated[timedelta, _setting(_claim_lease)] = timedelta(seconds=30)
    calendar_http_port: Annotated[int | None, _setting(_port)] = None
    """None: the calendar feed is not served over HTTP."""
    calendar_public_url: _HttpUrl = None
    """The feed's base address as members reach it; None: ``http://localhost:<port>``."""

    @field_validator("slack_reminder_channel_ids")
    @classmethod
    def _slack_is_complete(cls, channels: tuple[str, ...], info: ValidationInfo) -> tuple[str, ...]:
        """Slack needs its bot token, and a way to receive commands: Socket Mode or signed HTTP."""
        app, signing = info.data.get("slack_app_token"), info.data.get("slack_signing_secret")
        if info.data.get("slack_bot_token") is None:
            given = {
                "SLACK_APP_TOKEN": app,
                "SLACK_SIGNING_SECRET": signing,
                "SLACK_REMINDER_CHANNEL_IDS": channels,
            }
            for name, value in given.items():
                if value:
                    raise SettingsError("SLACK_BOT_TOKEN", f"is missing, but {name} is set")
        elif app is None and signing is None:
            raise SettingsError(
                "SLACK_SIGNING_SECRET",
                "is needed to verify Slack's requests in HTTP mode; "
                "or set SLACK_APP_TOKEN to use Socket Mode",
            )
        return channels

    @field_validator("slack_reminder_channel_ids_file")
    @classmethod
    def _slack_file_has_token(
        cls, channels: tuple[str, ...], info: ValidationInfo
    ) -> tuple[str, ...]:
        """Slack channels from a file need Slack's bot token too."""
        if channels and info.data.get("slack_bot_token") is None:
            raise SettingsError(
                "SLACK_BOT_TOKEN", "is missing, but SLACK_REMINDER_CHANNEL_IDS_FILE is set"
            )
        return channels

    @field_validator("discord_shard_ids")
    @classmethod
    def _shards_fit(cls, shard_ids: tuple[int, ...], info: ValidationInfo) -> tuple[int, ...]:
        """Shard ids need the shard count, and each must be below it."""
        count = info.data.get("discord_shard_count")
        if shard_ids and count is None:
            raise SettingsError(
                "DISCORD_SHARD_IDS", "needs DISCORD_SHARD_COUNT, the number of shards in all"
            )
        if count is not None and shard_ids and shard_ids[-1] >= count:
            raise SettingsError(
                "DISCORD_SHARD_IDS",
                f"names shard {shard_ids[-1]}, but DISCORD_SHARD_COUNT={count} makes the "
                f"shards 0 to {count - 1}",
            )
        return shard_ids

    @property
    def discord_channels(self) -> tuple[str, ...]:
        """Discord channels subscribed by the settings: the list, then the file's."""
        return tuple(dict.fromkeys((*self.reminder_channel_ids, *self.reminder_channel_ids_file)))

    @property
    def slack_channels(self) -> tuple[str, ...]:
        """Slack channels subscribed by the settings: the list, then the file's."""
        return tuple(
            dict.fromkeys((*self.slack_reminder_channel_ids, *self.slack_reminder_channel_ids_file))
        )

    @classmethod
    def load(
        cls,
        environ: Mapping[str, str] | None = None,
        env_file: Path | None = Path(".env"),
        overrides: Mapping[str, str | None] | None = None,
    ) -> "Settings":
        """Read settings from ``environ`` (default: the process environment) over ``env_file``.

        ``overrides`` are command-line values, which win over both. A value that cannot be
        used raises ``SettingsError``, naming the setting and where its value came from.
        """
        given = {name: value for name, value in (overrides or {}).items() if value is not None}
        variables = dict(os.environ if environ is None else environ)  # exact names, as given
        dotenv = DotEnvSettingsSource(cls, env_file=env_file)
        sources = (InitSettingsSource(cls, given), InitSettingsSource(cls, variables), dotenv)
        try:
            return cls(_build_sources=(sources, {}))  # the first source wins
        except ValidationError as error:
            origins = (("the command line", given), ("the environment", variables))
            raise _first_refusal(error, (*origins, (str(env_file), dotenv.env_vars))) from None

    def secrets(self) -> list[str]:
        """Every secret configured, for the log's redaction filter."""
        found = (
            self.discord_token,
            self.slack_bot_token,
            self.slack_app_token,
            self.slack_signing_secret,
        )
        secrets = [secret.get_secret_value() for secret in found if secret is not None]
        return secrets + _passwords(self.database_url)

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

    def prepare_data_dir(self) -> Path:
        """Create the data directory if needed; raise ``SettingsError`` if it cannot be."""
        try:
            self.data_dir.mkdir(parents=True, exist_ok=True)
        except OSError as error:
            raise SettingsError(
                "DATA_DIR", f"cannot create {self.data_dir}: {error.strerror}"
            ) from None
        return self.data_dir


def _first_refusal(
    error: ValidationError, origins: tuple[tuple[str, Mapping[str, str | None]], ...]
) -> SettingsError:
    """Pydantic's first error as one line: the setting, where its value came from, the problem."""
    first = error.errors()[0]
    cause = first.get("ctx", {}).get("error")
    if isinstance(cause, SettingsError):
        return cause
    name = str(first["loc"][0]) if first["loc"] else "settings"
    origin = next((label for label, values in origins if values.get(name) is not None), "")
    return SettingsError(name, str(cause) if cause is not None else first["msg"], origin)
