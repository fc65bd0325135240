"""The delivery ledger: exactly-once reminder delivery across restarts, crashes and processes.

Every (reminder, platform, channel) delivery is claimed in the database before
it is posted and marked sent, failed or missed after (``deliveries``). The
ledger also keeps the channels subscribed to reminders (``subscriptions``).

The ledger is synchronous and thread-safe (the asyncio code calls it through
``asyncio.to_thread``). It never reads the clock: every method that records
time takes ``now``, which must be time-zone aware.
"""

from collections.abc import Mapping
from typing import Any, Self

from sqlalchemy.exc import SQLAlchemyError

from bot.delivery.ledger.deliveries import Deliveries
from bot.delivery.ledger.engines import (
    POSTGRES_CONNECT_TIMEOUT_S,
    SQLITE_BUSY_TIMEOUT_MS,
    LedgerError,
    cannot_open,
    ledger_engine,
    parse_url,
    reason,
)
from bot.delivery.ledger.events import MirroredEvents
from bot.delivery.ledger.keys import (
    CHANNEL_ID_LENGTH,
    NONCE_LENGTH,
    PLATFORM_LENGTH,
    REMINDER_ID_LENGTH,
    DeliveryKey,
)
from bot.delivery.ledger.models import (
    Claim,
    ClaimOutcome,
    Delivery,
    DeliveryState,
    MirroredEvent,
    MirrorState,
    Subscription,
    SubscriptionSource,
    SubscriptionState,
    UtcDateTime,
)
from bot.delivery.ledger.schema import SchemaError, current_revision, upgrade
from bot.delivery.ledger.senders import SenderLock, sender_lock
from bot.delivery.ledger.store import ERROR_LENGTH
from bot.delivery.ledger.subscriptions import SOURCES, Subscriptions

__all__ = [
    "CHANNEL_ID_LENGTH",
    "ERROR_LENGTH",
    "NONCE_LENGTH",
    "PLATFORM_LENGTH",
    "POSTGRES_CONNECT_TIMEOUT_S",
    "REMINDER_ID_LENGTH",
    "SOURCES",
    "SQLITE_BUSY_TIMEOUT_MS",
    "Claim",
    "ClaimOutcome",
    "Delivery",
    "DeliveryKey",
    "DeliveryState",
    "Ledger",
    "LedgerError",
    "MirrorState",
    "MirroredEvent",
    "SenderLock",
    "Subscription",
    "SubscriptionSource",
    "SubscriptionState",
    "UtcDateTime",
]


class Ledger(Deliveries, Subscriptions, MirroredEvents):
    """Deliveries, subscriptions and mirrored events in one SQL database (SQLite, PostgreSQL, …)."""

    @classmethod
    def open(cls, url: str, *, connect_args: Mapping[str, Any] | None = None) -> Self:
        """Connect to ``url`` and migrate it to the newest schema (see ``schema``).

        ``connect_args`` go to the database driver (for example a PostgreSQL
        ``options`` setting the ``search_path``). Any failure raises
        ``LedgerError`` naming the URL with its password hidden.
        """
        parsed = parse_url(url)
        driver_args = dict(connect_args or {})
        try:
            engine, serialise = ledger_engine(parsed, driver_args)
        except (SQLAlchemyError, ImportError, OSError) as error:
            raise cannot_open(parsed, reason(error, parsed)) from error
        try:
            upgrade(engine)
        except SchemaError as error:
            engine.dispose()
            raise cannot_open(parsed, str(error)) from error
        except (SQLAlchemyError, OSError) as error:
            engine.dispose()
            raise cannot_open(parsed, reason(error, parsed)) from error
        ledger = cls(engine, serialise=serialise)
        ledger._connect_args = driver_args
        return ledger

    def sender_lock(self, platform: str) -> SenderLock:
        """How this process and others on the same database elect ``platform``'s one sender."""
        return sender_lock(self._engine, platform, self._connect_args)

    def schema_revision(self) -> str | None:
        """The Alembic revision the database is at."""
        with self._read() as session:
            return current_revision(session.connection())
