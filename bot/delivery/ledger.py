"""The delivery ledger: exactly-once reminder delivery across restarts, crashes and processes.

Every (reminder, platform, channel) delivery is claimed in the database before
it is posted and marked sent, failed or missed after. A claim is decided by
the table's primary key and conditional updates, so two processes sharing a
database never both get to post. The ledger also keeps the channels subscribed
to reminders.

The ledger is synchronous and thread-safe (the asyncio code calls it through
``asyncio.to_thread``). It never reads the clock: every method that records
time takes ``now``, which must be time-zone aware.
"""

import enum
import hashlib
import threading
import time
from collections.abc import Collection, Iterator, Mapping
from contextlib import AbstractContextManager, contextmanager, nullcontext
from dataclasses import asdict, dataclass, replace
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any, Self

from sqlalchemy import (
    URL,
    ColumnElement,
    Connection,
    Engine,
    Row,
    and_,
    create_engine,
    delete,
    event,
    func,
    insert,
    make_url,
    or_,
    select,
    update,
)
from sqlalchemy.exc import (
    ArgumentError,
    DBAPIError,
    IntegrityError,
    InterfaceError,
    NoSuchModuleError,
    OperationalError,
    SQLAlchemyError,
)
from sqlalchemy.pool import ConnectionPoolEntry, StaticPool

from bot.delivery.migrations import (
    CHANNEL_ID_LENGTH,
    PLATFORM_LENGTH,
    REMINDER_ID_LENGTH,
    SchemaTooNewError,
    current_version,
    deliveries,
    migrate,
    subscriptions,
)

NONCE_LENGTH = 25  # Discord refuses longer nonces
SQLITE_BUSY_TIMEOUT_MS = 5000
POSTGRES_CONNECT_TIMEOUT_S = 10
ERROR_LENGTH = 2000  # longer error texts are cut
SOURCES = frozenset({"settings", "command"})
ACTIVE = "active"
BROKEN = "broken"

_CLAIM_ROUNDS = 4
_NONCE_DIGITS = "0123456789abcdefghijklmnopqrstuvwxyz"
_READ_ONLY = "briefbot_read_only"


class LedgerError(Exception):
    """The ledger's database cannot be opened or used; the message says which and why."""


class DeliveryState(enum.StrEnum):
    """Where one delivery stands."""

    CLAIMED = "claimed"
    SENT = "sent"
    FAILED = "failed"
    MISSED = "missed"


@dataclass(frozen=True)
class DeliveryKey:
    """One reminder in one channel of one platform: the unit delivered exactly once.

    Each field is 1 to 255 (reminder), 32 (platform) or 128 (channel) characters,
    without NUL, on every database alike.
    """

    reminder_id: str
    platform: str
    channel_id: str

    def __post_init__(self) -> None:
        _check_id("reminder_id", self.reminder_id, REMINDER_ID_LENGTH)
        _check_id("platform", self.platform, PLATFORM_LENGTH)
        _check_id("channel_id", self.channel_id, CHANNEL_ID_LENGTH)

    def nonce(self) -> str:
        """A deterministic 25-character ``[0-9a-z]`` id of this key, the same on every attempt.

        It is 128 bits of a BLAKE2b hash of the three fields, in base 36. Posts
        already made carry it, so it must never change.
        """
        digest = hashlib.blake2b(digest_size=16, person=b"briefbot-nonce")
        for part in (self.reminder_id, self.platform, self.channel_id):
            data = part.encode("utf-8", "surrogatepass")
            digest.update(len(data).to_bytes(8, "big"))
            digest.update(data)
        return _base36(int.from_bytes(digest.digest(), "big")).rjust(NONCE_LENGTH, "0")


def _check_id(name: str, value: str, longest: int) -> None:
    """Refuse an id the columns would truncate, PostgreSQL would reject (NUL), or that could
    spell one channel two ways (non-ASCII digits such as ``١٢٣`` or ``¹²³``)."""
    if not value or len(value) > longest or not (value.isascii() and value.isprintable()):
        raise ValueError(
            f"{name} must be 1 to {longest} printable ASCII characters, got {value[:80]!r}"
        )


def _clip(text: str) -> str:
    """An error text fit for any database: no NUL, at most ``ERROR_LENGTH`` characters."""
    return text.replace("\x00", "")[:ERROR_LENGTH]


def _base36(number: int) -> str:
    digits = []
    while number:
        number, digit = divmod(number, 36)
        digits.append(_NONCE_DIGITS[digit])
    return "".join(reversed(digits)) or "0"


@dataclass(frozen=True)
class Delivery:
    """A delivery as the ledger records it. All datetimes are aware UTC."""

    key: DeliveryKey
    event_id: str
    due_at: datetime
    state: DeliveryState
    attempts: int
    first_claimed_at: datetime | None
    claimed_at: datetime | None
    lease_until: datetime | None
    owner: str | None
    sent_at: datetime | None
    message_id: str | None
    late: bool
    error: str | None
    retry_at: datetime | None
    updated_at: datetime


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


@dataclass(frozen=True)
class Subscription:
    """A channel that receives reminders ("active") or did until posting failed ("broken")."""

    platform: str
    channel_id: str
    guild_id: str | None
    source: str  # "settings" or "command"
    state: str  # "active" or "broken"
    reason: str | None
    created_at: datetime
    updated_at: datetime
    warning: str | None = None  # what the bot cannot do there (a missing permission or scope)


class Ledger:
    """Deliveries and subscriptions in one SQL database (SQLite, PostgreSQL, …)."""

    def __init__(self, engine: Engine, *, serialise: bool = False) -> None:
        """Wrap a migrated engine; ``Ledger.open`` is the usual way in.

        ``serialise`` runs one operation at a time, for a single shared connection
        (in-memory SQLite).
        """
        self._engine = engine
        self._guard: AbstractContextManager[object] = (
            threading.RLock() if serialise else nullcontext()
        )

    # ------------------------------------------------------------------ lifecycle

    @classmethod
    def open(cls, url: str, *, connect_args: Mapping[str, Any] | None = None) -> Self:
        """Connect to ``url`` and migrate it to the latest schema.

        ``connect_args`` go to the database driver (for example a PostgreSQL
        ``options`` setting the ``search_path``). Any failure raises
        ``LedgerError`` naming the URL with its password hidden.
        """
        parsed = _parse_url(url)
        try:
            engine, serialise = _create_engine(parsed, dict(connect_args or {}))
        except (SQLAlchemyError, ImportError, OSError) as error:
            raise _cannot_open(parsed, _reason(error, parsed)) from error
        try:
            migrate(engine)
        except SchemaTooNewError as error:
            engine.dispose()
            raise _cannot_open(parsed, str(error)) from error
        except (SQLAlchemyError, OSError) as error:
            engine.dispose()
            raise _cannot_open(parsed, _reason(error, parsed)) from error
        return cls(engine, serialise=serialise)

    def close(self) -> None:
        """Close every pooled connection."""
        self._engine.dispose()

    @property
    def url_for_display(self) -> str:
        """The database URL with its password hidden."""
        return self._engine.url.render_as_string(hide_password=True)

    def schema_version(self) -> int:
        """The schema version the database is at."""
        with self._read() as connection:
            return current_version(connection)

    # ------------------------------------------------------------------ deliveries

    def claim(
        self,
        key: DeliveryKey,
        *,
        event_id: str,
        due_at: datetime,
        owner: str,
        now: datetime,
        lease: timedelta,
    ) -> Claim:
        """Claim ``key`` for ``owner`` until ``now + lease``; the outcome says whether to post.

        Atomic across threads and processes: the primary key admits one first
        claim, and a takeover is a conditional update that only one claimant wins.
        """
        _require_aware(due_at=due_at, now=now)
        if lease <= timedelta(0):
            raise ValueError("a claim's lease must be positive")
        wanted = replace(
            _blank(key, event_id, due_at, DeliveryState.CLAIMED, now),
            attempts=1,
            first_claimed_at=now,
            claimed_at=now,
            lease_until=now + lease,
            owner=owner,
        )
        for _ in range(_CLAIM_ROUNDS):
            try:
                with self._write() as connection:
                    claim = _claim_once(connection, wanted)
            except IntegrityError:
                continue  # another claimant inserted the row first: read it again
            if claim is not None:
                return claim
        delivery = self.get(key)
        if delivery is None:
            raise LedgerError(f"cannot claim {key}: the database refused the new row")
        return Claim(ClaimOutcome.BUSY, delivery)

    def mark_sent(
        self, key: DeliveryKey, *, now: datetime, message_id: str | None, late: bool
    ) -> None:
        """Record the post as made, whoever claimed it; marking it sent again changes nothing."""
        _require_aware(now=now)
        with self._write() as connection:
            result = connection.execute(
                update(deliveries)
                .where(_key_is(key), deliveries.c.state != DeliveryState.SENT.value)
                .values(
                    state=DeliveryState.SENT.value,
                    sent_at=now,
                    message_id=message_id,
                    late=late,
                    error=None,
                    retry_at=None,
                    lease_until=None,
                    updated_at=now,
                )
            )
            if result.rowcount == 0:
                _require_row(connection, key, "mark it sent")

    def mark_failed(
        self, key: DeliveryKey, *, now: datetime, error: str, retry_at: datetime | None
    ) -> None:
        """Record a failed attempt; ``retry_at`` of ``None`` means it failed for good.

        A delivery already sent stays sent.
        """
        _require_aware(now=now, retry_at=retry_at)
        with self._write() as connection:
            result = connection.execute(
                update(deliveries)
                .where(_key_is(key), deliveries.c.state != DeliveryState.SENT.value)
                .values(
                    state=DeliveryState.FAILED.value,
                    error=_clip(error),
                    retry_at=retry_at,
                    lease_until=None,
                    updated_at=now,
                )
            )
            if result.rowcount == 0:
                _require_row(connection, key, "mark it failed")

    def mark_missed(
        self, key: DeliveryKey, *, event_id: str, due_at: datetime, now: datetime, reason: str
    ) -> bool:
        """Record that ``key`` will not be posted (too late), unless it was already sent or missed.

        Returns True if this changed the ledger. The reason is kept as the error.
        """
        _require_aware(due_at=due_at, now=now)
        missed = replace(
            _blank(key, event_id, due_at, DeliveryState.MISSED, now), error=_clip(reason)
        )
        for _ in range(_CLAIM_ROUNDS):
            try:
                with self._write() as connection:
                    return _mark_missed_once(connection, missed)
            except IntegrityError:
                continue  # inserted meanwhile: update it instead
        raise LedgerError(f"cannot mark {key} missed: the database refused the new row")

    def get(self, key: DeliveryKey) -> Delivery | None:
        """The delivery recorded for ``key``, if any."""
        with self._read() as connection:
            row = connection.execute(select(deliveries).where(_key_is(key))).one_or_none()
        return None if row is None else _delivery(row)

    def deliveries(
        self,
        *,
        platform: str | None = None,
        channel_ids: Collection[str] | None = None,
        limit: int = 50,
    ) -> list[Delivery]:
        """Deliveries, most recently updated first, optionally of one platform or some channels."""
        if channel_ids is not None and not channel_ids:
            return []
        query = select(deliveries)
        if platform is not None:
            query = query.where(deliveries.c.platform == platform)
        if channel_ids is not None:
            query = query.where(deliveries.c.channel_id.in_(list(channel_ids)))
        query = query.order_by(
            deliveries.c.updated_at.desc(),
            deliveries.c.reminder_id,
            deliveries.c.platform,
            deliveries.c.channel_id,
        ).limit(limit)
        with self._read() as connection:
            return [_delivery(row) for row in connection.execute(query)]

    def settled_channels(self, reminder_id: str, platform: str) -> set[str]:
        """Channels of ``platform`` where ``reminder_id`` needs nothing more: sent, missed,
        or failed for good. One query, however many channels."""
        failed_for_good = and_(
            deliveries.c.state == DeliveryState.FAILED.value, deliveries.c.retry_at.is_(None)
        )
        query = select(deliveries.c.channel_id).where(
            deliveries.c.reminder_id == reminder_id,
            deliveries.c.platform == platform,
            or_(
                deliveries.c.state.in_((DeliveryState.SENT.value, DeliveryState.MISSED.value)),
                failed_for_good,
            ),
        )
        with self._read() as connection:
            return {str(channel) for channel in connection.execute(query).scalars()}

    def counts(self) -> dict[DeliveryState, int]:
        """How many deliveries are in each state (every state present, zero included)."""
        query = select(deliveries.c.state, func.count()).group_by(deliveries.c.state)
        totals = dict.fromkeys(DeliveryState, 0)
        with self._read() as connection:
            for state, count in connection.execute(query):
                totals[DeliveryState(state)] = int(count)
        return totals

    # ------------------------------------------------------------------ subscriptions

    def subscribe(
        self, platform: str, channel_id: str, *, guild_id: str | None, source: str, now: datetime
    ) -> bool:
        """Subscribe a channel; True if it is newly active (it was absent or broken).

        Subscribing a broken channel makes it active and clears the reason. A
        "command" subscription is never downgraded to "settings"; a known guild
        is kept when ``guild_id`` is None.
        """
        if source not in SOURCES:
            raise ValueError(f"a subscription's source is 'settings' or 'command', not {source!r}")
        _check_id("platform", platform, PLATFORM_LENGTH)
        _check_id("channel_id", channel_id, CHANNEL_ID_LENGTH)
        if guild_id is not None:
            _check_id("guild_id", guild_id, CHANNEL_ID_LENGTH)
        _require_aware(now=now)
        wanted = Subscription(
            platform=platform,
            channel_id=channel_id,
            guild_id=guild_id,
            source=source,
            state=ACTIVE,
            reason=None,
            created_at=now,
            updated_at=now,
        )
        for _ in range(_CLAIM_ROUNDS):
            try:
                with self._write() as connection:
                    return _subscribe_once(connection, wanted)
            except IntegrityError:
                continue  # subscribed meanwhile: update it instead
        raise LedgerError(f"cannot subscribe {platform} channel {channel_id}")

    def unsubscribe(self, platform: str, channel_id: str) -> bool:
        """Forget a channel's subscription; True if it existed."""
        with self._write() as connection:
            result = connection.execute(
                delete(subscriptions).where(_subscription_is(platform, channel_id))
            )
        return result.rowcount > 0

    def mark_broken(self, platform: str, channel_id: str, *, reason: str, now: datetime) -> bool:
        """Stop posting to a channel that refuses posts; True only when it was active."""
        _require_aware(now=now)
        with self._write() as connection:
            result = connection.execute(
                update(subscriptions)
                .where(_subscription_is(platform, channel_id), subscriptions.c.state == ACTIVE)
                .values(state=BROKEN, reason=_clip(reason), updated_at=now)
            )
        return result.rowcount > 0

    def set_warning(self, platform: str, channel_id: str, warning: str | None) -> None:
        """Record (or clear, with None) what the bot cannot do in a subscribed channel."""
        self.set_warnings(platform, {channel_id: warning})

    def set_warnings(self, platform: str, warnings: Mapping[str, str | None]) -> int:
        """Record each channel's warning (None clears it), writing only what changed.

        Returns how many subscriptions changed. One transaction, however many channels.
        """
        wanted = {channel: None if w is None else _clip(w) for channel, w in warnings.items()}
        with self._write() as connection:
            query = select(subscriptions.c.channel_id, subscriptions.c.warning).where(
                subscriptions.c.platform == platform
            )
            current = {str(row[0]): row[1] for row in connection.execute(query)}
            changed = 0
            for channel, warning in wanted.items():
                if channel in current and current[channel] != warning:
                    connection.execute(
                        update(subscriptions)
                        .where(_subscription_is(platform, channel))
                        .values(warning=warning)
                    )
                    changed += 1
        return changed

    def subscriptions(
        self, *, platform: str | None = None, guild_id: str | None = None
    ) -> list[Subscription]:
        """Every subscription, active or broken, by platform and channel."""
        query = select(subscriptions)
        if platform is not None:
            query = query.where(subscriptions.c.platform == platform)
        if guild_id is not None:
            query = query.where(subscriptions.c.guild_id == guild_id)
        query = query.order_by(subscriptions.c.platform, subscriptions.c.channel_id)
        with self._read() as connection:
            return [_subscription(row) for row in connection.execute(query)]

    def active_channels(self, platform: str) -> list[str]:
        """The ids of the channels of ``platform`` that receive reminders, sorted."""
        query = (
            select(subscriptions.c.channel_id)
            .where(subscriptions.c.platform == platform, subscriptions.c.state == ACTIVE)
            .order_by(subscriptions.c.channel_id)
        )
        with self._read() as connection:
            return [str(channel) for channel in connection.execute(query).scalars()]

    # ------------------------------------------------------------------ connections

    @contextmanager
    def _write(self) -> Iterator[Connection]:
        """A transaction that will write (on SQLite it takes the write lock at once)."""
        with self._guard, self._translated(), self._engine.begin() as connection:
            yield connection

    @contextmanager
    def _read(self) -> Iterator[Connection]:
        """A read-only transaction (on SQLite a deferred one, which does not block writers)."""
        with self._guard, self._translated(), self._engine.connect() as connection:
            connection.execution_options(**{_READ_ONLY: True})
            with connection.begin():
                yield connection

    @contextmanager
    def _translated(self) -> Iterator[None]:
        """Turn a lost connection or a locked database into a ``LedgerError``."""
        try:
            yield
        except (OperationalError, InterfaceError) as error:
            raise LedgerError(
                f"the ledger at {self.url_for_display} failed: {_reason(error, self._engine.url)}"
            ) from error


# ---------------------------------------------------------------------- claims


def _claim_once(connection: Connection, wanted: Delivery) -> Claim | None:
    """One round of a claim; None when a concurrent claimant changed the row first.

    ``wanted`` is the delivery as a first claim would record it: its owner,
    ``claimed_at`` (now) and lease are what a takeover records too.
    """
    key = wanted.key
    row = connection.execute(select(deliveries).where(_key_is(key))).one_or_none()
    if row is None:
        connection.execute(insert(deliveries).values(_row_values(wanted)))
        return Claim(ClaimOutcome.NEW, wanted)
    current = _delivery(row)
    now = wanted.updated_at
    outcome = _standing(current, now)
    if outcome is not ClaimOutcome.RETRY and outcome is not ClaimOutcome.RESUME:
        return Claim(outcome, current)
    taken = replace(
        current,
        state=DeliveryState.CLAIMED,
        attempts=current.attempts + 1,
        first_claimed_at=current.first_claimed_at or now,
        claimed_at=now,
        lease_until=wanted.lease_until,
        owner=wanted.owner,
        updated_at=now,
    )
    result = connection.execute(
        update(deliveries)
        .where(
            _key_is(key),
            deliveries.c.state == current.state.value,
            deliveries.c.attempts == current.attempts,
        )
        .values(
            state=taken.state.value,
            attempts=taken.attempts,
            first_claimed_at=taken.first_claimed_at,
            claimed_at=taken.claimed_at,
            lease_until=taken.lease_until,
            owner=taken.owner,
            updated_at=taken.updated_at,
        )
    )
    return Claim(outcome, taken) if result.rowcount == 1 else None


def _standing(delivery: Delivery, now: datetime) -> ClaimOutcome:
    """What a claim of ``delivery`` at ``now`` amounts to, before any takeover."""
    match delivery.state:
        case DeliveryState.SENT | DeliveryState.MISSED:
            return ClaimOutcome.DONE
        case DeliveryState.FAILED:
            if delivery.retry_at is None:
                return ClaimOutcome.DONE
            return ClaimOutcome.RETRY if delivery.retry_at <= now else ClaimOutcome.BUSY
        case DeliveryState.CLAIMED:
            if delivery.lease_until is not None and delivery.lease_until > now:
                return ClaimOutcome.BUSY
            return ClaimOutcome.RESUME


def _mark_missed_once(connection: Connection, missed: Delivery) -> bool:
    """Update an unsettled delivery to missed, or insert ``missed``; True if either happened."""
    key = missed.key
    settled = (DeliveryState.SENT.value, DeliveryState.MISSED.value)
    result = connection.execute(
        update(deliveries)
        .where(_key_is(key), deliveries.c.state.not_in(settled))
        .values(
            state=DeliveryState.MISSED.value,
            error=missed.error,
            retry_at=None,
            lease_until=None,
            updated_at=missed.updated_at,
        )
    )
    if result.rowcount > 0:
        return True
    if connection.execute(select(deliveries.c.state).where(_key_is(key))).first() is not None:
        return False
    connection.execute(insert(deliveries).values(_row_values(missed)))
    return True


def _blank(
    key: DeliveryKey, event_id: str, due_at: datetime, state: DeliveryState, now: datetime
) -> Delivery:
    """A delivery in ``state`` with nothing else recorded yet."""
    return Delivery(
        key=key,
        event_id=event_id,
        due_at=due_at,
        state=state,
        attempts=0,
        first_claimed_at=None,
        claimed_at=None,
        lease_until=None,
        owner=None,
        sent_at=None,
        message_id=None,
        late=False,
        error=None,
        retry_at=None,
        updated_at=now,
    )


def _key_is(key: DeliveryKey) -> ColumnElement[bool]:
    return and_(
        deliveries.c.reminder_id == key.reminder_id,
        deliveries.c.platform == key.platform,
        deliveries.c.channel_id == key.channel_id,
    )


def _require_row(connection: Connection, key: DeliveryKey, action: str) -> None:
    """Raise if ``key`` was never claimed (a caller's mistake, not a lost race)."""
    if connection.execute(select(deliveries.c.state).where(_key_is(key))).first() is None:
        raise LedgerError(f"cannot {action}: {key} was never claimed")


def _row_values(delivery: Delivery) -> dict[str, object]:
    return {
        "reminder_id": delivery.key.reminder_id,
        "platform": delivery.key.platform,
        "channel_id": delivery.key.channel_id,
        "event_id": delivery.event_id,
        "due_at": delivery.due_at,
        "state": delivery.state.value,
        "attempts": delivery.attempts,
        "first_claimed_at": delivery.first_claimed_at,
        "claimed_at": delivery.claimed_at,
        "lease_until": delivery.lease_until,
        "owner": delivery.owner,
        "sent_at": delivery.sent_at,
        "message_id": delivery.message_id,
        "late": delivery.late,
        "error": delivery.error,
        "retry_at": delivery.retry_at,
        "updated_at": delivery.updated_at,
    }


def _delivery(row: Row[Any]) -> Delivery:
    values = row._mapping
    return Delivery(
        key=DeliveryKey(values["reminder_id"], values["platform"], values["channel_id"]),
        event_id=values["event_id"],
        due_at=values["due_at"],
        state=DeliveryState(values["state"]),
        attempts=int(values["attempts"]),
        first_claimed_at=values["first_claimed_at"],
        claimed_at=values["claimed_at"],
        lease_until=values["lease_until"],
        owner=values["owner"],
        sent_at=values["sent_at"],
        message_id=values["message_id"],
        late=bool(values["late"]),
        error=values["error"],
        retry_at=values["retry_at"],
        updated_at=values["updated_at"],
    )


# ---------------------------------------------------------------------- subscriptions


def _subscribe_once(connection: Connection, wanted: Subscription) -> bool:
    """Insert ``wanted``, or bring the existing row up to it; True if newly active.

    The row is read under a row lock (PostgreSQL) or the write lock (SQLite).
    """
    where = _subscription_is(wanted.platform, wanted.channel_id)
    row = connection.execute(select(subscriptions).where(where).with_for_update()).one_or_none()
    if row is None:
        connection.execute(insert(subscriptions).values(**asdict(wanted)))
        return True
    current = _subscription(row)
    changes: dict[str, object] = {}
    if current.state != ACTIVE:
        changes.update(state=ACTIVE, reason=None)
    if wanted.source == "command" and current.source != "command":
        changes["source"] = wanted.source
    if wanted.guild_id is not None and wanted.guild_id != current.guild_id:
        changes["guild_id"] = wanted.guild_id
    if changes:
        connection.execute(
            update(subscriptions).where(where).values(updated_at=wanted.updated_at, **changes)
        )
    return current.state != ACTIVE


def _subscription_is(platform: str, channel_id: str) -> ColumnElement[bool]:
    return and_(subscriptions.c.platform == platform, subscriptions.c.channel_id == channel_id)


def _subscription(row: Row[Any]) -> Subscription:
    values = row._mapping
    return Subscription(
        platform=values["platform"],
        channel_id=values["channel_id"],
        guild_id=values["guild_id"],
        source=values["source"],
        state=values["state"],
        reason=values["reason"],
        created_at=values["created_at"],
        updated_at=values["updated_at"],
        warning=values["warning"],
    )


# ---------------------------------------------------------------------- engines


def _require_aware(**instants: datetime | None) -> None:
    for name, value in instants.items():
        if value is not None and (value.tzinfo is None or value.utcoffset() is None):
            raise ValueError(f"{name} must be time-zone aware, got {value!r}")


def _parse_url(url: str) -> URL:
    try:
        return make_url(url)
    except (ArgumentError, ValueError) as error:
        raise LedgerError(f"cannot open the ledger at {_mask(url)}: not a database URL") from error


def _mask(url: str) -> str:
    """Hide everything before the host of a URL too malformed for SQLAlchemy to parse."""
    if "@" not in url:
        return url
    userinfo, _, host = url.rpartition("@")
    scheme, separator, _ = userinfo.partition("://")
    return f"{scheme}{separator}***@{host}" if separator else f"***@{host}"


def _is_sqlite_memory(url: URL) -> bool:
    return url.get_backend_name() == "sqlite" and url.database in (None, "", ":memory:")


def _create_engine(url: URL, connect_args: dict[str, Any]) -> tuple[Engine, bool]:
    """An engine for ``url``, and whether its use must be serialised (one shared connection)."""
    backend = url.get_backend_name()
    options: dict[str, Any] = {}
    serialise = False
    if backend == "sqlite":
        if _is_sqlite_memory(url):
            connect_args.setdefault("check_same_thread", False)
            options["poolclass"] = StaticPool
            serialise = True
        elif url.database and not url.database.startswith("file:"):
            Path(url.database).parent.mkdir(parents=True, exist_ok=True)
    else:
        options["pool_pre_ping"] = True
        if backend == "postgresql":
            connect_args.setdefault("connect_timeout", POSTGRES_CONNECT_TIMEOUT_S)
    engine = create_engine(url, connect_args=connect_args, **options)
    if backend == "sqlite":
        _configure_sqlite(engine)
    return engine, serialise


def _configure_sqlite(engine: Engine) -> None:
    """WAL, ``synchronous=NORMAL``, a busy timeout, and transactions SQLAlchemy begins itself.

    pysqlite's own transaction handling neither begins a transaction before DDL
    nor takes the write lock up front; ``BEGIN IMMEDIATE`` makes every writing
    transaction take it at once, so a read-then-write never fails half-way.
    """

    locked: type[Exception] = engine.dialect.loaded_dbapi.OperationalError

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: ConnectionPoolEntry) -> None:
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        try:
            cursor.execute(f"PRAGMA busy_timeout = {SQLITE_BUSY_TIMEOUT_MS}")
            _enable_wal(cursor, locked)
            cursor.execute("PRAGMA synchronous = NORMAL")
        finally:
            cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(connection: Connection) -> None:
        read_only = connection.get_execution_options().get(_READ_ONLY, False)
        connection.exec_driver_sql("BEGIN" if read_only else "BEGIN IMMEDIATE")


def _cannot_open(url: URL, reason: str) -> LedgerError:
    return LedgerError(
        f"cannot open the ledger at {url.render_as_string(hide_password=True)}: {reason}"
    )


def _enable_wal(cursor: Any, locked: type[Exception]) -> None:
    """Switch the file to WAL, waiting out another connection switching it at the same time.

    While one connection turns a new file to WAL, SQLite answers another's
    ``PRAGMA journal_mode`` with "database is locked" at once, without waiting
    for the busy timeout; so wait here, for as long as the busy timeout.
    """
    deadline = time.monotonic() + SQLITE_BUSY_TIMEOUT_MS / 1000
    delay = 0.005
    while True:
        try:
            cursor.execute("PRAGMA journal_mode = WAL")
        except locked as error:
            if "locked" not in str(error) or time.monotonic() >= deadline:
                raise
            time.sleep(delay)
            delay = min(delay * 2, 0.1)
        else:
            return


def _reason(error: BaseException, url: URL) -> str:
    """The driver's one-line reason for ``error``, with the URL's password blanked out."""
    cause: BaseException = error
    if isinstance(error, NoSuchModuleError):
        return f"no database driver for {url.drivername!r}"
    if isinstance(error, DBAPIError) and error.orig is not None:
        cause = error.orig
    text = " ".join(str(cause).split()) or type(cause).__name__
    if isinstance(cause, OSError) and cause.strerror:
        text = f"{cause.strerror}: {cause.filename}" if cause.filename else cause.strerror
    if url.password:
        text = text.replace(str(url.password), "***")
    return text
