"""The ledger's schema under Alembic: new databases, ledgers of the releases before it
(``schema_version`` 1 to 3), several processes at once, and databases from a newer briefbot.

The legacy tables below are frozen copies of what those releases created; they
must never change, whatever the ledger's own models become.
"""

import re
import tomllib
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import (
    Boolean,
    CheckConstraint,
    Column,
    DateTime,
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
    make_url,
    text,
)

from bot.delivery.ledger import (
    Delivery,
    DeliveryKey,
    DeliveryState,
    Ledger,
    LedgerError,
    Subscription,
    SubscriptionSource,
    SubscriptionState,
)
from bot.delivery.ledger.schema import BASE_REVISION, MIGRATIONS, head_revision
from tests.delivery.test_ledger import (  # the fixtures run each test on SQLite and PostgreSQL
    ROOT,
    Backend,
    backend,
    postgres_admin,
)

__all__ = ["backend", "postgres_admin"]  # fixtures, shared with the ledger's own tests

T0 = datetime(2017, 6, 30, 7, 0, tzinfo=UTC)

# ---------------------------------------------------------------------- the releases before


def _legacy_tables(metadata: MetaData) -> tuple[Table, Table, Table]:
    """``schema_version``, ``deliveries`` (version 1) and ``subscriptions`` (version 2), frozen."""
    versions = Table(
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
    deliveries = Table(
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
    subscriptions = Table(
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
    return versions, deliveries, subscriptions


LEGACY_STEPS = ["deliveries", "subscriptions", "subscriptions.warning"]


def _delivery_row(reminder: str, platform: str, channel: str, **values: Any) -> dict[str, Any]:
    row: dict[str, Any] = dict.fromkeys(
        ("first_claimed_at", "claimed_at", "lease_until", "owner", "sent_at", "message_id"),
        None,
    )
    row.update(error=None, retry_at=None, late=False, attempts=1, event_id="g20")
    row.update(reminder_id=reminder, platform=platform, channel_id=channel, **values)
    return row


DELIVERY_ROWS = [
    _delivery_row(
        "g20:7d",
        "discord",
        "1300",
        due_at=T0 + timedelta(hours=3),
        state="sent",
        first_claimed_at=T0 + timedelta(hours=2),
        claimed_at=T0 + timedelta(hours=2),
        owner="p1",
        sent_at=T0 + timedelta(hours=2, seconds=2),
        message_id="m1",
        late=True,
        updated_at=T0 + timedelta(hours=2, seconds=2),
    ),
    _delivery_row(
        "g20:1d",
        "slack",
        "C01",
        due_at=T0 + timedelta(days=6),
        state="failed",
        attempts=3,
        first_claimed_at=T0 + timedelta(days=6),
        claimed_at=T0 + timedelta(days=6, minutes=5),
        owner="p2",
        error="503 Service Unavailable",
        retry_at=T0 + timedelta(days=6, minutes=15),
        updated_at=T0 + timedelta(days=6, minutes=5, microseconds=250_000),
    ),
    _delivery_row(
        "g20:1h",
        "discord",
        "1301",
        due_at=T0 + timedelta(days=7),
        state="claimed",
        first_claimed_at=T0 + timedelta(days=7),
        claimed_at=T0 + timedelta(days=7),
        lease_until=T0 + timedelta(days=7, minutes=2),
        owner="p1",
        updated_at=T0 + timedelta(days=7),
    ),
]
SUBSCRIPTION_ROWS: list[dict[str, Any]] = [
    {
        "platform": "discord",
        "channel_id": "1300",
        "guild_id": "g1",
        "source": "command",
        "state": "active",
        "reason": None,
        "created_at": T0,
        "updated_at": T0,
    },
    {
        "platform": "discord",
        "channel_id": "42",
        "guild_id": None,
        "source": "settings",
        "state": "broken",
        "reason": "gone (404: Unknown Channel)",
        "created_at": T0,
        "updated_at": T0 + timedelta(hours=1),
    },
]
WARNING = "missing Read Message History"


def _build_legacy(backend: Backend, version: int, *, rows: bool = True) -> None:
    """A ledger as the release at ``version`` left it, with rows in every table it had."""
    if backend.name == "sqlite":
        Path(str(make_url(backend.url).database)).parent.mkdir(parents=True, exist_ok=True)
    versions, deliveries, subscriptions = _legacy_tables(MetaData())
    engine = backend.raw_engine()
    try:
        with engine.begin() as connection:
            versions.create(connection)
            for step in range(1, version + 1):
                if step == 1:
                    deliveries.create(connection)
                elif step == 2:
                    subscriptions.create(connection)
                else:
                    connection.exec_driver_sql("ALTER TABLE subscriptions ADD COLUMN warning TEXT")
                connection.execute(
                    insert(versions).values(version=step, description=LEGACY_STEPS[step - 1])
                )
            if rows and version >= 1:
                connection.execute(insert(deliveries), DELIVERY_ROWS)
            if rows and version >= 2:
                connection.execute(insert(subscriptions), SUBSCRIPTION_ROWS)
            if rows and version >= 3:
                connection.execute(
                    text("UPDATE subscriptions SET warning = :w WHERE channel_id = '1300'"),
                    {"w": WARNING},
                )
    finally:
        engine.dispose()


def _rows(engine: Engine, table: str) -> list[tuple[Any, ...]]:
    """Every row of ``table`` as the database returns it, in primary-key order."""
    with engine.connect() as connection:
        keys = inspect(connection).get_pk_constraint(table)["constrained_columns"]
        order = ", ".join(keys)
        return [
            tuple(row)
            for row in connection.exec_driver_sql(f"SELECT * FROM {table} ORDER BY {order}")  # noqa: S608
        ]


def _versions(engine: Engine) -> list[int]:
    with engine.connect() as connection:
        return list(
            connection.exec_driver_sql("SELECT version FROM schema_version ORDER BY 1").scalars()
        )


def _with_raw(backend: Backend, check: Callable[[Engine], None]) -> None:
    engine = backend.raw_engine()
    try:
        check(engine)
    finally:
        engine.dispose()


@pytest.fixture
def opened(backend: Backend) -> Iterator[Callable[[], Ledger]]:
    """Open ledgers on ``backend``, every one closed after the test."""
    ledgers: list[Ledger] = []

    def open_one() -> Ledger:
        ledgers.append(backend.open())
        return ledgers[-1]

    yield open_one
    for ledger in ledgers:
        ledger.close()


def _columns(table: Table | Any) -> dict[str, tuple[str, bool, bool]]:
    return {c.name: (str(c.type), bool(c.nullable), bool(c.primary_key)) for c in table.columns}


# ---------------------------------------------------------------------- new databases


def test_an_empty_database_is_upgraded_to_head(
    backend: Backend, opened: Callable[[], Ledger]
) -> None:
    ledger = opened()
    assert ledger.schema_revision() == head_revision()

    def check(engine: Engine) -> None:
        found = inspect(engine)
        for model in (Delivery, Subscription):
            name = model.__tablename__
            columns = {c["name"]: c["nullable"] for c in found.get_columns(name)}
            assert columns == {c.name: c.nullable for c in model.__table__.columns}, name
        # a release from before Alembic refuses this database instead of writing to it
        assert _versions(engine) == [4]

    _with_raw(backend, check)


def test_the_base_revision_is_the_schema_of_the_last_release_before_alembic(
    backend: Backend, opened: Callable[[], Ledger]
) -> None:
    opened()
    _, deliveries, subscriptions = _legacy_tables(MetaData())
    subscriptions.append_column(Column("warning", Text))

    def check(engine: Engine) -> None:
        found = inspect(engine)
        dialect = engine.dialect
        for table in (deliveries, subscriptions):
            columns = {
                c["name"]: (c["type"].compile(dialect), c["nullable"])
                for c in found.get_columns(table.name)
            }
            assert columns == {c.name: (c.type.compile(dialect), c.nullable) for c in table.columns}
            keys = found.get_pk_constraint(table.name)["constrained_columns"]
            assert keys == [c.name for c in table.primary_key.columns]
            checks = {c["name"] for c in found.get_check_constraints(table.name)}
            assert checks == {c.name for c in table.constraints if isinstance(c, CheckConstraint)}
        # the base revision's index, and the one revision 0002 adds for the claims' heartbeat
        assert sorted(str(i["name"]) for i in found.get_indexes("deliveries")) == [
            "ix_deliveries_state_owner",
            "ix_deliveries_updated_at",
        ]

    _with_raw(backend, check)


def test_reopening_a_migrated_database_changes_nothing(
    backend: Backend, opened: Callable[[], Ledger]
) -> None:
    first = opened()
    first.subscribe("discord", "1", guild_id=None, source=SubscriptionSource.COMMAND, now=T0)
    before: dict[str, list[tuple[Any, ...]]] = {}
    _with_raw(backend, lambda e: before.update(s=_rows(e, "subscriptions"), v=_versions_rows(e)))
    again = opened()
    assert again.schema_revision() == head_revision()
    after: dict[str, list[tuple[Any, ...]]] = {}
    _with_raw(backend, lambda e: after.update(s=_rows(e, "subscriptions"), v=_versions_rows(e)))
    assert after == before


def _versions_rows(engine: Engine) -> list[tuple[Any, ...]]:
    return [(version,) for version in _versions(engine)] + _rows(engine, "alembic_version")


# ---------------------------------------------------------------------- the releases before


@pytest.mark.parametrize("version", [1, 2, 3])
def test_a_ledger_of_a_release_before_alembic_is_upgraded_without_losing_a_row(
    backend: Backend, opened: Callable[[], Ledger], version: int
) -> None:
    _build_legacy(backend, version)
    before: dict[str, list[tuple[Any, ...]]] = {}

    def snapshot(into: dict[str, list[tuple[Any, ...]]]) -> Callable[[Engine], None]:
        def take(engine: Engine) -> None:
            into["deliveries"] = _rows(engine, "deliveries")
            if inspect(engine).has_table("subscriptions"):
                into["subscriptions"] = _rows(engine, "subscriptions")

        return take

    _with_raw(backend, snapshot(before))
    ledger = opened()
    assert ledger.schema_revision() == head_revision()
    after: dict[str, list[tuple[Any, ...]]] = {}
    _with_raw(backend, snapshot(after))

    assert after["deliveries"] == before["deliveries"]
    if version >= 3:
        assert after["subscriptions"] == before["subscriptions"]
    elif version == 2:  # the same rows, with the column version 3 added, empty
        assert after["subscriptions"] == [(*row, None) for row in before["subscriptions"]]
    else:
        assert after["subscriptions"] == []
    _with_raw(backend, lambda engine: _assert_versions(engine, [1, 2, 3, 4]))

    # and the ledger reads them as they were written
    sent = ledger.get(DeliveryKey("g20:7d", "discord", "1300"))
    assert sent is not None
    assert (sent.state, sent.message_id, sent.late, sent.sent_at) == (
        DeliveryState.SENT,
        "m1",
        True,
        T0 + timedelta(hours=2, seconds=2),
    )
    failed = ledger.get(DeliveryKey("g20:1d", "slack", "C01"))
    assert failed is not None
    assert (failed.attempts, failed.retry_at, failed.updated_at.microsecond) == (
        3,
        T0 + timedelta(days=6, minutes=15),
        250_000,
    )
    assert ledger.counts()[DeliveryState.CLAIMED] == 1
    if version >= 2:
        active, broken = ledger.subscriptions()
        assert (active.state, active.source, active.warning) == (
            SubscriptionState.ACTIVE,
            SubscriptionSource.COMMAND,
            WARNING if version >= 3 else None,
        )
        assert (broken.state, broken.source, broken.reason, broken.updated_at) == (
            SubscriptionState.BROKEN,
            SubscriptionSource.SETTINGS,
            "gone (404: Unknown Channel)",
            T0 + timedelta(hours=1),
        )
        assert ledger.active_channels("discord") == ["1300"]
        # the settings channels kept so far are the default deployment's, no other's
        assert ledger.sync_named(broken.platform, [], now=T0, instance="other") == ([], [])
        assert ledger.sync_named(broken.platform, [], now=T0) == ([], [broken.channel_id])
    ledger.subscribe("discord", "1300", guild_id="g1", source=SubscriptionSource.COMMAND, now=T0)
    ledger.set_warning("discord", "1300", "missing Manage Webhooks")
    assert ledger.subscriptions(platform="discord")[0].warning == "missing Manage Webhooks"


def _assert_versions(engine: Engine, expected: list[int]) -> None:
    assert _versions(engine) == expected


def test_an_interrupted_first_migration_of_a_release_before_alembic_is_finished(
    backend: Backend, opened: Callable[[], Ledger]
) -> None:
    """Those releases made ``schema_version`` in a transaction of its own, before step 1."""
    _build_legacy(backend, 0)
    ledger = opened()
    assert ledger.schema_revision() == head_revision()
    assert ledger.deliveries() == []
    _with_raw(backend, lambda engine: _assert_versions(engine, [1, 2, 3, 4]))


def test_threads_opening_a_ledger_of_a_release_before_alembic_upgrade_it_once(
    backend: Backend,
) -> None:
    _build_legacy(backend, 2)
    with ThreadPoolExecutor(6) as pool:
        ledgers = list(pool.map(lambda _: backend.open(), range(6)))
    try:
        assert {each.schema_revision() for each in ledgers} == {head_revision()}
        assert len(ledgers[0].deliveries()) == len(DELIVERY_ROWS)
        assert len(ledgers[-1].subscriptions()) == len(SUBSCRIPTION_ROWS)
    finally:
        for each in ledgers:
            each.close()
    _with_raw(backend, lambda engine: _assert_versions(engine, [1, 2, 3, 4]))


# ---------------------------------------------------------------------- newer databases


def test_a_database_at_a_revision_this_briefbot_does_not_know_is_refused(
    backend: Backend, opened: Callable[[], Ledger]
) -> None:
    opened().close()

    def future(engine: Engine) -> None:
        with engine.begin() as connection:
            connection.exec_driver_sql("UPDATE alembic_version SET version_num = 'f00d'")

    _with_raw(backend, future)
    expected = f"database schema revision f00d is newer than this briefbot ({head_revision()}); "
    with pytest.raises(LedgerError, match=re.escape(expected + "upgrade briefbot")):
        backend.open()


@pytest.mark.parametrize("version", [4, 7])
def test_a_legacy_version_newer_than_the_last_one_is_refused(
    backend: Backend, version: int
) -> None:
    _build_legacy(backend, 3, rows=False)

    def newer(engine: Engine) -> None:
        with engine.begin() as connection:
            connection.execute(
                text("INSERT INTO schema_version (version, description) VALUES (:v, 'future')"),
                {"v": version},
            )

    _with_raw(backend, newer)
    expected = (
        f"database schema version {version} is newer than this briefbot (3); upgrade briefbot"
    )
    with pytest.raises(LedgerError, match=re.escape(expected)):
        backend.open()

    def untouched(engine: Engine) -> None:
        assert not inspect(engine).has_table("alembic_version")

    _with_raw(backend, untouched)


# ---------------------------------------------------------------------- packaging


def test_the_migrations_ship_inside_the_package() -> None:
    package = ROOT / "bot"
    assert MIGRATIONS.is_relative_to(package)
    assert (MIGRATIONS / "env.py").is_file()
    scripts = sorted(p.name for p in (MIGRATIONS / "versions").glob("r*.py"))
    assert scripts[0].startswith(f"r{BASE_REVISION}_")
    project = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    assert project["tool"]["hatch"]["build"]["targets"]["wheel"]["packages"] == ["bot"]
    assert any(d.startswith("alembic") for d in project["project"]["dependencies"])
