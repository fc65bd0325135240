"""Ledgers written before the schema moved to Alembic, and how they are handed over.

Those releases kept ``schema_version``, one row per applied step: 1 created
``deliveries``, 2 ``subscriptions``, 3 added ``subscriptions.warning``. Version 3
is the schema of Alembic's base revision, so a legacy ledger is brought to 3 with
the steps exactly as they shipped (frozen here), then stamped with the base revision.

``schema_version`` is kept after the handover, with one more row (version 4,
"alembic") in every database this briefbot manages: a release from before
Alembic opening it then refuses with its own "is newer than this briefbot …;
upgrade briefbot" instead of writing to a schema it does not know.
"""

from collections.abc import Callable

from sqlalchemy import (
    Boolean,
    CheckConstraint,
    Column,
    Connection,
    DateTime,
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

LATEST = 3  # the last version of the legacy scheme: Alembic's base revision
HANDOVER = 4  # the row that says Alembic manages the database now


def _schema_version(metadata: MetaData) -> Table:
    return Table(
        "schema_version",
        metadata,
        Column("version", Integer, primary_key=True, autoincrement=False),
        Column("description", String(200), nullable=False),
        Column(
            "applied_at",
            DateTime(timezone=True),
            nullable=False,
            server_default=func.current_timestamp(),
        ),
    )


def _deliveries_v1(metadata: MetaData) -> Table:
    return Table(
        "deliveries",
        metadata,
        Column("reminder_id", String(255), primary_key=True),
        Column("platform", String(32), primary_key=True),
        Column("channel_id", String(128), primary_key=True),
        Column("event_id", String(255), nullable=False),
        Column("due_at", DateTime(timezone=True), nullable=False),
        Column("state", String(16), nullable=False),
        Column("attempts", Integer, nullable=False),
        Column("first_claimed_at", DateTime(timezone=True)),
        Column("claimed_at", DateTime(timezone=True)),
        Column("lease_until", DateTime(timezone=True)),
        Column("owner", String(128)),
        Column("sent_at", DateTime(timezone=True)),
        Column("message_id", String(128)),
        Column("late", Boolean, nullable=False),
        Column("error", Text),
        Column("retry_at", DateTime(timezone=True)),
        Column("updated_at", DateTime(timezone=True), nullable=False),
        CheckConstraint(
            "state IN ('claimed', 'sent', 'failed', 'missed')", name="ck_deliveries_state"
        ),
        Index("ix_deliveries_updated_at", "updated_at"),
    )


def _subscriptions_v2(metadata: MetaData) -> Table:
    return Table(
        "subscriptions",
        metadata,
        Column("platform", String(32), primary_key=True),
        Column("channel_id", String(128), primary_key=True),
        Column("guild_id", String(128)),
        Column("source", String(16), nullable=False),
        Column("state", String(16), nullable=False),
        Column("reason", Text),
        Column("created_at", DateTime(timezone=True), nullable=False),
        Column("updated_at", DateTime(timezone=True), nullable=False),
        CheckConstraint("source IN ('settings', 'command')", name="ck_subscriptions_source"),
        CheckConstraint("state IN ('active', 'broken')", name="ck_subscriptions_state"),
    )


_schema_versions = _schema_version(MetaData())


def _create_deliveries(connection: Connection) -> None:
    _deliveries_v1(MetaData()).create(connection)


def _create_subscriptions(connection: Connection) -> None:
    _subscriptions_v2(MetaData()).create(connection)


def _add_subscription_warning(connection: Connection) -> None:
    connection.exec_driver_sql("ALTER TABLE subscriptions ADD COLUMN warning TEXT")


_STEPS: tuple[tuple[int, str, Callable[[Connection], None]], ...] = (
    (1, "deliveries", _create_deliveries),
    (2, "subscriptions", _create_subscriptions),
    (3, "subscriptions.warning", _add_subscription_warning),
)


def version(connection: Connection) -> int | None:
    """The legacy version the database is at; None when it has no ``schema_version``."""
    if not inspect(connection).has_table(_schema_versions.name):
        return None
    found = connection.execute(select(func.max(_schema_versions.c.version))).scalar_one()
    return int(found or 0)


def bring_to_latest(connection: Connection, found: int) -> None:
    """Apply the legacy steps after version ``found``, recording each as those releases did."""
    for step, description, apply in _STEPS[found:]:
        apply(connection)
        connection.execute(insert(_schema_versions).values(version=step, description=description))


def hand_over(connection: Connection) -> None:
    """Record in ``schema_version`` (made if missing) that Alembic manages the database."""
    _schema_versions.create(connection, checkfirst=True)
    if (version(connection) or 0) < HANDOVER:
        connection.execute(insert(_schema_versions).values(version=HANDOVER, description="alembic"))
