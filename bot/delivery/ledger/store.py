"""Transactions on the ledger's database, shared by its deliveries and subscriptions."""

import threading
from collections.abc import Iterator
from contextlib import AbstractContextManager, contextmanager, nullcontext
from datetime import datetime
from typing import Any, cast

from sqlalchemy import CursorResult, Engine, Result
from sqlalchemy.exc import InterfaceError, OperationalError
from sqlalchemy.orm import Session

from bot.delivery.ledger.engines import READ_ONLY, LedgerError, reason

ERROR_LENGTH = 2000  # longer error texts are cut
CLAIM_ROUNDS = 4  # how often an insert that lost a race is retried as an update


class Store:
    """An engine, and transactions on it that turn database failures into ``LedgerError``."""

    def __init__(self, engine: Engine, *, serialise: bool = False) -> None:
        """Wrap a migrated engine; ``Ledger.open`` is the usual way in.

        ``serialise`` runs one operation at a time, for a single shared connection
        (in-memory SQLite).
        """
        self._engine = engine
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
