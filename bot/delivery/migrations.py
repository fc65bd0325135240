"""The delivery ledger's tables, their versions, and bringing a database up to date.

The schema is versioned: ``schema_version`` holds one row per applied
migration, and ``MIGRATIONS`` lists every step in order. ``migrate`` applies
the missing steps, one transaction each, and refuses a database that a newer
briefbot has already moved past.

Each table is built by a function named after the migration that created it
(``_deliveries_v1``). A migration uses its own frozen builder, so an old
database replays exactly what was shipped; the module-level ``deliveries`` and
``subscriptions`` are the current shape, used by the queries. A later
migration that changes a table adds a new builder for the current shape and
leaves the old one alone.
"""

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import (
    Boolean,
    CheckConstraint,
    Column,
    Connection,
    DateTime,
    Dialect,
    Engine,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    func,
    insert,
    inspect,
    select,
)
from sqlalchemy.exc import IntegrityError, ProgrammingError
from sqlalchemy.types import TypeDecorator

REMINDER_ID_LENGTH = 255
PLATFORM_LENGTH = 32
CHANNEL_ID_LENGTH = 128
_ID_LENGTH = 128
_WORD_LENGTH = 16

# Dialects whose DateTime column keeps no offset: they get naive UTC.
_NAIVE_DATETIME_DIALECTS = frozenset({"sqlite", "mysql", "mariadb"})


class UtcDateTime(TypeDecorator[datetime]):
    """A time-zone-aware instant, stored as UTC and always read back as aware UTC.

    Naive datetimes are refused. SQLite keeps no offset, so it is given naive
    UTC and its naive values are read as UTC.
    """

    impl = DateTime
    cache_ok = True

    def __init__(self) -> None:
        super().__init__(timezone=True)

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        """UTC for the database: naive UTC where the column keeps no offset."""
        if value is None:
            return None
        if value.tzinfo is None or value.utcoffset() is None:
            raise ValueError(f"the ledger stores only time-zone-aware datetimes, got {value!r}")
        utc = value.astimezone(UTC)
        return utc.replace(tzinfo=None) if dialect.name in _NAIVE_DATETIME_DIALECTS else utc

    def process_result_value(self, value: Any | None, dialect: Dialect) -> datetime | None:
        """An aware UTC datetime, whatever the database handed back."""
        if value is None:
            return None
        if not isinstance(value, datetime):
            raise TypeError(f"expected a datetime from the database, got {value!r}")
        if value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value.astimezone(UTC)


def _schema_version_table(metadata: MetaData) -> Table:
    """One row per applied migration; the highest version is the schema's version."""
    return Table(
        "schema_version",
        metadata,
        Column("version", Integer, primary_key=True, autoincrement=False),
        Column("description", String(200), nullable=False),
        Column(
            "applied_at",
            UtcDateTime(),
            nullable=False,
            server_default=func.current_timestamp(),
        ),
    )


def _deliveries_v1(metadata: MetaData) -> Table:
    """Deliveries as created by migration 1: one row per (reminder, platform, channel)."""
    return Table(
        "deliveries",
        metadata,
        Column("reminder_id", String(REMINDER_ID_LENGTH), primary_key=True),
        Column("platform", String(PLATFORM_LENGTH), primary_key=True),
        Column("channel_id", String(CHANNEL_ID_LENGTH), primary_key=True),
        Column("event_id", String(REMINDER_ID_LENGTH), nullable=False),
        Column("due_at", UtcDateTime(), nullable=False),
        Column("state", String(_WORD_LENGTH), nullable=False),
        Column("attempts", Integer, nullable=False),
        Column("first_claimed_at", UtcDateTime()),
        Column("claimed_at", UtcDateTime()),
        Column("lease_until", UtcDateTime()),
        Column("owner", String(_ID_LENGTH)),
        Column("sent_at", UtcDateTime()),
        Column("message_id", String(_ID_LENGTH)),
        Column("late", Boolean, nullable=False),
        Column("error", Text),
        Column("retry_at", UtcDateTime()),
        Column("updated_at", UtcDateTime(), nullable=False),
        CheckConstraint(
            "state IN ('claimed', 'sent', 'failed', 'missed')", name="ck_deliveries_state"
        ),
        Index("ix_deliveries_updated_at", "updated_at"),
    )


def _subscriptions_v2(metadata: MetaData) -> Table:
    """Subscriptions as created by migration 2: one row per (platform, channel)."""
    return Table(
        "subscriptions",
        metadata,
        Column("platform", String(PLATFORM_LENGTH), primary_key=True),
        Column("channel_id", String(CHANNEL_ID_LENGTH), primary_key=True),
        Column("guild_id", String(CHANNEL_ID_LENGTH)),
        Column("source", String(_WORD_LENGTH), nullable=False),
        Column("state", String(_WORD_LENGTH), nullable=False),
        Column("reason", Text),
        Column("created_at", UtcDateTime(), nullable=False),
        Column("updated_at", UtcDateTime(), nullable=False),
        CheckConstraint("source IN ('settings', 'command')", name="ck_subscriptions_source"),
        CheckConstraint("state IN ('active', 'broken')", name="ck_subscriptions_state"),
    )


def _subscriptions_v3(metadata: MetaData) -> Table:
    """Subscriptions since migration 3: with a warning about what the bot cannot do there."""
    table = _subscriptions_v2(metadata)
    table.append_column(Column("warning", Text))
    return table


# The current shape of every table, for the ledger's queries.
metadata = MetaData()
schema_version = _schema_version_table(metadata)
deliveries = _deliveries_v1(metadata)
subscriptions = _subscriptions_v3(metadata)


@dataclass(frozen=True)
class Migration:
    """One step of the schema: ``apply`` takes the database from ``version - 1`` to ``version``."""

    version: int
    description: str
    apply: Callable[[Connection], None]


def _create_deliveries(connection: Connection) -> None:
    _deliveries_v1(MetaData()).create(connection)


def _create_subscriptions(connection: Connection) -> None:
    _subscriptions_v2(MetaData()).create(connection)


def _add_subscription_warning(connection: Connection) -> None:
    connection.exec_driver_sql("ALTER TABLE subscriptions ADD COLUMN warning TEXT")


MIGRATIONS: tuple[Migration, ...] = (
    Migration(1, "deliveries", _create_deliveries),
    Migration(2, "subscriptions", _create_subscriptions),
    Migration(3, "subscriptions.warning", _add_subscription_warning),
)
LATEST_VERSION = MIGRATIONS[-1].version


class SchemaTooNewError(Exception):
    """The database was migrated by a newer briefbot than this one."""

    def __init__(self, found: int, known: int) -> None:
        super().__init__(
            f"database schema version {found} is newer than this briefbot ({known}); "
            "upgrade briefbot"
        )
        self.found = found
        self.known = known


def current_version(connection: Connection) -> int:
    """The version the database is at: 0 when it has no ``schema_version`` table yet."""
    if not inspect(connection).has_table(schema_version.name):
        return 0
    version = connection.execute(select(func.max(schema_version.c.version))).scalar_one()
    return int(version or 0)


def migrate(engine: Engine) -> int:
    """Apply every missing migration, one transaction each; return the version reached.

    Raises ``SchemaTooNewError`` for a database from a newer briefbot. Safe when
    several processes migrate the same database at once: each step runs under a
    lock (SQLite's write lock; a table lock on PostgreSQL) and rechecks the version.
    """
    _create_version_table(engine)
    while True:
        with engine.begin() as connection:
            _lock_versions(connection)
            version = current_version(connection)
            if version > LATEST_VERSION:
                raise SchemaTooNewError(version, LATEST_VERSION)
            if version == LATEST_VERSION:
                return version
            step = MIGRATIONS[version]
            step.apply(connection)
            connection.execute(
                insert(schema_version).values(version=step.version, description=step.description)
            )


def _create_version_table(engine: Engine) -> None:
    """Create ``schema_version`` if missing; a process that loses the race retries once.

    On PostgreSQL two concurrent ``CREATE TABLE`` of the same name end in a
    duplicate-table or unique-violation error for the loser; by its retry the
    table exists.
    """
    for attempt in (1, 2):
        try:
            with engine.begin() as connection:
                schema_version.create(connection, checkfirst=True)
        except (IntegrityError, ProgrammingError):
            if attempt == 2:
                raise
        else:
            return


def _lock_versions(connection: Connection) -> None:
    """Serialise migrators. SQLite's ``BEGIN IMMEDIATE`` already holds the write lock."""
    if connection.dialect.name == "postgresql":
        connection.exec_driver_sql("LOCK TABLE schema_version IN SHARE ROW EXCLUSIVE MODE")
