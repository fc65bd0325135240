"""Transactions on the ledger's database, shared by its deliveries and subscriptions."""

import threading
from collections.abc import Iterator, Mapping, Sequence
from contextlib import AbstractContextManager, contextmanager, nullcontext
from datetime import datetime
from typing import Any, cast

from sqlalchemy import (
    ARRAY,
    ColumnElement,
    CursorResult,
    Engine,
    Result,
    String,
    Table,
    any_,
    bindparam,
    func,
    literal,
    select,
)
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.exc import InterfaceError, OperationalError
from sqlalchemy.orm import Session

from bot.delivery.ledger.engines import READ_ONLY, LedgerError, reason

ERROR_LENGTH = 2000  # longer error texts are cut
CLAIM_ROUNDS = 4  # how often an insert that lost a race is retried as an update
BATCH = 500  # rows per multi-row statement: within every database's limit on bound parameters
ARRAY_BATCH = 20_000  # channels per array parameter (PostgreSQL)


class Store:
    """An engine, and transactions on it that turn database failures into ``LedgerError``."""

    def __init__(self, engine: Engine, *, serialise: bool = False) -> None:
        """Wrap a migrated engine; ``Ledger.open`` is the usual way in.

        ``serialise`` runs one operation at a time, for a single shared connection
        (in-memory SQLite).
        """
        self._engine = engine
        self._connect_args: dict[str, Any] = {}  # the driver arguments, as Ledger.open gave
        self._reader = engine.execution_options(**{READ_ONLY: True})
        self._guard: AbstractContextManager[object] = (
            threading.RLock() if serialise else nullcontext()
        )

    def close(self) -> None:
        """Close every pooled connection."""
        self._engine.dispose()

    @property
    def url_for_display(self) -> str:
        """The database URL with its password hidden."""
        return self._engine.url.render_as_string(hide_password=True)

    @contextmanager
    def _write(self) -> Iterator[Session]:
        """A transaction that will write (on SQLite it takes the write lock at once).

        Whatever it loads is left detached, as loaded, when it ends.
        """
        with (
            self._guard,
            self._translated(),
            Session(self._engine, expire_on_commit=False) as session,
            session.begin(),
        ):
            yield session

    @contextmanager
    def _read(self) -> Iterator[Session]:
        """A read-only transaction (on SQLite a deferred one, which does not block writers)."""
        with (
            self._guard,
            self._translated(),
            Session(self._reader, expire_on_commit=False) as session,
            session.begin(),
        ):
            yield session

    @contextmanager
    def _translated(self) -> Iterator[None]:
        """Turn a lost connection or a locked database into a ``LedgerError``."""
        try:
            yield
        except (OperationalError, InterfaceError) as error:
            raise LedgerError(
                f"the ledger at {self.url_for_display} failed: {reason(error, self._engine.url)}"
            ) from error


def require_aware(**instants: datetime | None) -> None:
    """Refuse a naive datetime: the ledger records instants, not wall-clock times."""
    for name, value in instants.items():
        if value is not None and (value.tzinfo is None or value.utcoffset() is None):
            raise ValueError(f"{name} must be time-zone aware, got {value!r}")


def clip(text: str) -> str:
    """An error text fit for any database: no NUL, at most ``ERROR_LENGTH`` characters."""
    return text.replace("\x00", "")[:ERROR_LENGTH]


def rowcount(result: Result[Any]) -> int:
    """How many rows an UPDATE or DELETE matched."""
    return cast(CursorResult[Any], result).rowcount


def insert_channels(
    session: Session,
    table: Table,
    same: Mapping[str, object],
    channel_ids: Sequence[str],
    *,
    ignore_conflicts: bool = True,
) -> list[str]:
    """Insert one row per channel into ``table``, every other column as in ``same``; a row whose
    key exists is skipped. Returns the channels inserted.

    On PostgreSQL the channels travel as one array parameter (``unnest``): a single short
    statement per call, however many channels, instead of thousands of placeholders the driver
    would parse. Elsewhere, multi-row inserts of ``BATCH`` rows.
    """
    inserted: list[str] = []
    if not channel_ids:
        return inserted
    columns = [*same, "channel_id"]
    if session.get_bind().dialect.name == "postgresql":
        channels = func.unnest(bindparam("channels", type_=ARRAY(String))).column_valued("c")
        values = [literal(value, table.c[name].type) for name, value in same.items()]
        statement = postgresql.insert(table).from_select(columns, select(*values, channels))
        if ignore_conflicts:
            statement = statement.on_conflict_do_nothing()
        for start in range(0, len(channel_ids), ARRAY_BATCH):
            batch = list(channel_ids[start : start + ARRAY_BATCH])
            result = session.execute(statement.returning(table.c.channel_id), {"channels": batch})
            inserted.extend(str(channel) for channel in result.scalars())
        return inserted
    base = sqlite.insert(table)
    plain = base.on_conflict_do_nothing() if ignore_conflicts else base
    for start in range(0, len(channel_ids), BATCH):
        rows = [{**same, "channel_id": c} for c in channel_ids[start : start + BATCH]]
        result = session.execute(plain.returning(table.c.channel_id), rows)
        inserted.extend(str(channel) for channel in result.scalars())
    return inserted


def channel_batches(session: Session, channel_ids: Sequence[str]) -> Iterator[list[str]]:
    """``channel_ids`` in batches: ``ARRAY_BATCH`` on PostgreSQL (one array parameter each),
    ``BATCH`` elsewhere (one placeholder per channel)."""
    size = ARRAY_BATCH if session.get_bind().dialect.name == "postgresql" else BATCH
    for start in range(0, len(channel_ids), size):
        yield list(channel_ids[start : start + size])


def among(
    session: Session, column: ColumnElement[str], channel_ids: list[str]
) -> ColumnElement[bool]:
    """``column IN channel_ids``: on PostgreSQL ``= ANY(array)``, one parameter however many."""
    if session.get_bind().dialect.name == "postgresql":
        return column == any_(bindparam(None, channel_ids, type_=ARRAY(String)))
    return column.in_(channel_ids)
