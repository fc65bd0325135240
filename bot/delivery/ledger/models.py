"""The ledger's rows as mapped dataclasses, and the column types they are stored with.

``Delivery`` and ``Subscription`` are what the ledger hands out: plain
dataclasses (compared field by field) that SQLAlchemy loads and stores. The
ledger returns them detached from any session, so changing one changes nothing
in the database. The tables they map are created by the migrations
(``bot/delivery/ledger/migrations``), never from this metadata.
"""

import enum
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import (
    Boolean,
    CheckConstraint,
    DateTime,
    Dialect,
    Index,
    Integer,
    String,
    Text,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, MappedAsDataclass, composite, mapped_column
from sqlalchemy.types import TypeDecorator

from bot.delivery.ledger.keys import (
    CHANNEL_ID_LENGTH,
    PLATFORM_LENGTH,
    REMINDER_ID_LENGTH,
    DeliveryKey,
)

ID_LENGTH = 128  # owners and message ids
WORD_LENGTH = 16  # states and sources
INSTANCE_LENGTH = 64  # deployments' names (BRIEFBOT_INSTANCE)

# Dialects whose DateTime column keeps no offset: they get naive UTC.
_NAIVE_DATETIME_DIALECTS = frozenset({"sqlite", "mysql", "mariadb"})


class DeliveryState(enum.StrEnum):
    """Where one delivery stands."""

    CLAIMED = "claimed"
    SENT = "sent"
    FAILED = "failed"
    MISSED = "missed"


class SubscriptionState(enum.StrEnum):
    """Whether a subscribed channel receives reminders."""

    ACTIVE = "active"
    BROKEN = "broken"  # posting failed for good (403, 404): skipped until subscribed again


class SubscriptionSource(enum.StrEnum):
    """Who subscribed a channel; a command is the stronger word."""

    SETTINGS = "settings"  # named in the settings, unsubscribed when no longer named
    COMMAND = "command"  # ``/reminders subscribe``


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


class Word(TypeDecorator[enum.StrEnum]):
    """A ``StrEnum`` member stored as its value in a short string column (checked by the
    table's constraints, not a native enum type), and read back as the member."""

    impl = String
    cache_ok = True

    def __init__(self, kind: type[enum.StrEnum]) -> None:
        super().__init__(WORD_LENGTH)
        self.kind = kind

    def process_bind_param(self, value: str | None, dialect: Dialect) -> str | None:
        """The member's value; a string that is no member's value is refused."""
        return None if value is None else self.kind(value).value

    def process_result_value(self, value: Any | None, dialect: Dialect) -> enum.StrEnum | None:
        """The member whose value the database holds."""
        return None if value is None else self.kind(value)


class Base(MappedAsDataclass, DeclarativeBase):
    """The ledger's mapped dataclasses."""


class Delivery(Base):
    """A delivery as the ledger records it: one row per (reminder, platform, channel).

    All datetimes are aware UTC.
    """

    __tablename__ = "deliveries"
    __table_args__ = (
        CheckConstraint(
            "state IN ('claimed', 'sent', 'failed', 'missed')", name="ck_deliveries_state"
        ),
        Index("ix_deliveries_updated_at", "updated_at"),
        Index("ix_deliveries_state_owner", "state", "owner"),
    )

    key: Mapped[DeliveryKey] = composite(
        mapped_column("reminder_id", String(REMINDER_ID_LENGTH), primary_key=True),
        mapped_column("platform", String(PLATFORM_LENGTH), primary_key=True),
        mapped_column("channel_id", String(CHANNEL_ID_LENGTH), primary_key=True),
    )
    event_id: Mapped[str] = mapped_column(String(REMINDER_ID_LENGTH))
    due_at: Mapped[datetime] = mapped_column(UtcDateTime())
    state: Mapped[DeliveryState] = mapped_column(Word(DeliveryState))
    attempts: Mapped[int] = mapped_column(Integer)
    first_claimed_at: Mapped[datetime | None] = mapped_column(UtcDateTime())
    claimed_at: Mapped[datetime | None] = mapped_column(UtcDateTime())
    lease_until: Mapped[datetime | None] = mapped_column(UtcDateTime())
    owner: Mapped[str | None] = mapped_column(String(ID_LENGTH))
    sent_at: Mapped[datetime | None] = mapped_column(UtcDateTime())
    message_id: Mapped[str | None] = mapped_column(String(ID_LENGTH))
    late: Mapped[bool] = mapped_column(Boolean)
    error: Mapped[str | None] = mapped_column(Text)
    retry_at: Mapped[datetime | None] = mapped_column(UtcDateTime())
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime())


class Subscription(Base):
    """A channel that receives reminders (active) or did until posting failed (broken)."""

    __tablename__ = "subscriptions"
    __table_args__ = (
        CheckConstraint("source IN ('settings', 'command')", name="ck_subscriptions_source"),
        CheckConstraint("state IN ('active', 'broken')", name="ck_subscriptions_state"),
    )

    platform: Mapped[str] = mapped_column(String(PLATFORM_LENGTH), primary_key=True)
    channel_id: Mapped[str] = mapped_column(String(CHANNEL_ID_LENGTH), primary_key=True)
    guild_id: Mapped[str | None] = mapped_column(String(CHANNEL_ID_LENGTH))
    source: Mapped[SubscriptionSource] = mapped_column(Word(SubscriptionSource))
    state: Mapped[SubscriptionState] = mapped_column(Word(SubscriptionState))
    reason: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime())
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime())
    # what the bot cannot do there (a missing permission or scope)
    warning: Mapped[str | None] = mapped_column(Text, default=None)


class NamedChannel(Base):
    """A channel a deployment's settings name (``BRIEFBOT_INSTANCE``): a settings
    subscription lasts while some deployment names it."""

    __tablename__ = "named_channels"
    __table_args__ = (Index("ix_named_channels_instance", "platform", "instance"),)

    platform: Mapped[str] = mapped_column(String(PLATFORM_LENGTH), primary_key=True)
    channel_id: Mapped[str] = mapped_column(String(CHANNEL_ID_LENGTH), primary_key=True)
    instance: Mapped[str] = mapped_column(String(INSTANCE_LENGTH), primary_key=True)


class ClaimOutcome(enum.StrEnum):
    """What a claim tells its caller to do."""

    NEW = "new"  # first claim: send it
    RETRY = "retry"  # an earlier attempt failed and its retry time has come: send again
    RESUME = "resume"  # a claim's lease expired (a crash?): look for the marker, then send
    BUSY = "busy"  # another live owner holds it, or its retry time is ahead: nothing now
    DONE = "done"  # sent, missed, or failed for good: nothing ever


@dataclass(frozen=True)
class Claim:
    """The outcome of a claim and the delivery as it stands after it."""

    outcome: ClaimOutcome
    delivery: Delivery


class MirrorState(enum.StrEnum):
    """Where the copy of a brief's event in a guild's scheduled events stands."""

    CREATING = "creating"  # being created: a crash here is mended by adopting the copy found
    SCHEDULED = "scheduled"  # the guild holds the copy, as last pushed
    CANCELLED = "cancelled"  # the event left the briefs before it began: the copy was deleted
    GONE = "gone"  # someone in the guild deleted the copy: it is not made again


class MirroredEvent(Base):
    """A brief's event copied into one guild's scheduled events (Discord's Events tab)."""

    __tablename__ = "mirrored_events"
    __table_args__ = (
        CheckConstraint(
            "state IN ('creating', 'scheduled', 'cancelled', 'gone')",
            name="ck_mirrored_events_state",
        ),
    )

    platform: Mapped[str] = mapped_column(String(PLATFORM_LENGTH), primary_key=True)
    guild_id: Mapped[str] = mapped_column(String(CHANNEL_ID_LENGTH), primary_key=True)
    event_key: Mapped[str] = mapped_column(String(REMINDER_ID_LENGTH), primary_key=True)
    """The brief's event: its calendar UID (``<event id>@<brief id>.briefbot``)."""
    state: Mapped[MirrorState] = mapped_column(Word(MirrorState))
    remote_id: Mapped[str | None] = mapped_column(String(ID_LENGTH))
    """The platform's id of the copy; None while it is being created."""
    fingerprint: Mapped[str | None] = mapped_column(String(ID_LENGTH))
    """A hash of what was last pushed (name, description, place, start, end)."""
    sequence: Mapped[int | None] = mapped_column(Integer)
    """The brief's calendar SEQUENCE when it was last pushed."""
    owner: Mapped[str | None] = mapped_column(String(ID_LENGTH))
    lease_until: Mapped[datetime | None] = mapped_column(UtcDateTime())
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime())
