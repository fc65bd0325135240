"""Claims and what became of each delivery.

Every (reminder, platform, channel) delivery is claimed before it is posted and
marked sent, failed or missed after. A claim is decided by the table's primary
key and conditional updates, so two processes sharing a database never both
get to post.
"""

from collections.abc import Callable, Collection, Sequence
from dataclasses import replace
from datetime import datetime, timedelta
from typing import Any, cast

from sqlalchemy import ColumnElement, Table, and_, bindparam, func, or_, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from bot.delivery.ledger.engines import LedgerError
from bot.delivery.ledger.keys import DeliveryKey
from bot.delivery.ledger.models import Claim, ClaimOutcome, Delivery, DeliveryState
from bot.delivery.ledger.store import (
    BATCH,
    CLAIM_ROUNDS,
    Store,
    among,
    channel_batches,
    clip,
    insert_channels,
    require_aware,
    rowcount,
)

_TABLE = cast(Table, Delivery.__table__)
_columns = _TABLE.c
_SETTLED = (DeliveryState.SENT, DeliveryState.MISSED)
_KEY_COLUMNS = ("reminder_id", "platform", "channel_id")
_PLAIN_COLUMNS = tuple(c.name for c in Delivery.__table__.columns if c.name not in _KEY_COLUMNS)


class Deliveries(Store):
    """The ledger's deliveries."""

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
        require_aware(due_at=due_at, now=now)
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
        for _ in range(CLAIM_ROUNDS):
            try:
                with self._write() as session:
                    claim = _claim_once(session, wanted)
            except IntegrityError:
                continue  # another claimant inserted the row first: read it again
            if claim is not None:
                return claim
        delivery = self.get(key)
        if delivery is None:
            raise LedgerError(f"cannot claim {key}: the database refused the new row")
        return Claim(ClaimOutcome.BUSY, delivery)

    def claim_new(
        self,
        keys: Sequence[DeliveryKey],
        *,
        event_id: str,
        due_at: datetime,
        owner: str,
        now: datetime,
        lease: timedelta,
    ) -> list[Claim]:
        """Claim at once every key of ``keys`` that has no row yet: ``INSERT … ON CONFLICT DO
        NOTHING``, a statement per 500 keys in one transaction. Returns the new claims; a key
        already in the ledger is left to :meth:`claim`, one at a time."""
        require_aware(due_at=due_at, now=now)
        if lease <= timedelta(0):
            raise ValueError("a claim's lease must be positive")
        wanted = {
            key: replace(
                _blank(key, event_id, due_at, DeliveryState.CLAIMED, now),
                attempts=1,
                first_claimed_at=now,
                claimed_at=now,
                lease_until=now + lease,
                owner=owner,
            )
            for key in keys
        }
        claims: list[Claim] = []
        ordered = list(wanted)
        with self._write() as session:
            insert_ignoring = _insert_ignoring(session)
            for start in range(0, len(ordered), BATCH):
                rows = [_row(wanted[key]) for key in ordered[start : start + BATCH]]
                statement = insert_ignoring(_TABLE).returning(
                    _columns.reminder_id, _columns.platform, _columns.channel_id
                )
                for reminder_id, platform, channel_id in session.execute(statement, rows):
                    key = DeliveryKey(str(reminder_id), str(platform), str(channel_id))
                    claims.append(Claim(ClaimOutcome.NEW, wanted[key]))
        return claims

    def mark_missed_many(
        self,
        reminder_id: str,
        platform: str,
        channel_ids: Sequence[str],
        *,
        event_id: str,
        due_at: datetime,
        now: datetime,
        reason: str,
    ) -> int:
        """:meth:`mark_missed` for many channels in one transaction, two statements per 500
        channels. Returns how many deliveries this changed."""
        require_aware(due_at=due_at, now=now)
        for channel in channel_ids:
            DeliveryKey(reminder_id, platform, channel)  # checks each id
        error = clip(reason)
        changed = 0
        ordered = list(dict.fromkeys(channel_ids))
        blank = _row(
            replace(
                _blank(
                    DeliveryKey(reminder_id, platform, "0"),
                    event_id,
                    due_at,
                    DeliveryState.MISSED,
                    now,
                ),
                error=error,
            )
        )
        with self._write() as session:
            for batch in channel_batches(session, ordered):
                result = session.execute(
                    update(_TABLE)
                    .where(
                        _columns.reminder_id == reminder_id,
                        _columns.platform == platform,
                        among(session, _columns.channel_id, batch),
                        _columns.state.not_in([state.value for state in _SETTLED]),
                    )
                    .values(
                        state=DeliveryState.MISSED.value,
                        error=error,
                        retry_at=None,
                        lease_until=None,
                        updated_at=now,
                    )
                )
                changed += rowcount(result)
            same = {name: value for name, value in blank.items() if name != "channel_id"}
            changed += len(insert_channels(session, _TABLE, same, ordered))
        return changed

    def renew(self, owner: str, *, now: datetime, lease: timedelta) -> int:
        """Extend every claim ``owner`` holds to ``now + lease`` (the heartbeat of a live
        process); returns how many."""
        require_aware(now=now)
        with self._write() as session:
            result = session.execute(
                update(Delivery)
                .where(Delivery.owner == owner, Delivery.state == DeliveryState.CLAIMED)
                .values(lease_until=now + lease)
                .execution_options(synchronize_session=False)
            )
            return rowcount(result)

    def release_others(self, platform: str, owner: str, *, now: datetime) -> int:
        """End the leases of every claim on ``platform`` held by another owner than ``owner``,
        so that ``owner`` resumes them at once (looking for each post before posting again).

        Called by the process that became the platform's only sender: the claims' owners are
        gone or have stopped sending. Returns how many claims it released.
        """
        require_aware(now=now)
        with self._write() as session:
            result = session.execute(
                update(Delivery)
                .where(
                    Delivery.state == DeliveryState.CLAIMED,
                    _columns.platform == platform,
                    or_(Delivery.owner.is_(None), Delivery.owner != owner),
                    or_(Delivery.lease_until.is_(None), Delivery.lease_until > now),
                )
                .values(lease_until=now)
                .execution_options(synchronize_session=False)
            )
            return rowcount(result)

    def mark_sent_many(self, sent: Sequence[tuple[DeliveryKey, str | None, bool, datetime]]) -> int:
        """:meth:`mark_sent` for many posts, each (key, message id, late, when), in one
        transaction and one statement run for all. Returns how many rows changed."""
        if not sent:
            return 0
        for _, _, _, when in sent:
            require_aware(now=when)
        statement = (
            update(_TABLE)
            .where(
                _columns.reminder_id == bindparam("b_reminder"),
                _columns.platform == bindparam("b_platform"),
                _columns.channel_id == bindparam("b_channel"),
                _columns.state != DeliveryState.SENT.value,
            )
            .values(
                state=DeliveryState.SENT.value,
                sent_at=bindparam("b_when"),
                message_id=bindparam("b_message"),
                late=bindparam("b_late"),
                error=None,
                retry_at=None,
                lease_until=None,
                updated_at=bindparam("b_when"),
            )
        )
        rows = [
            {
                "b_reminder": key.reminder_id,
                "b_platform": key.platform,
                "b_channel": key.channel_id,
                "b_when": when,
                "b_message": message_id,
                "b_late": late,
            }
            for key, message_id, late, when in sent
        ]
        with self._write() as session:
            result = session.connection().execute(statement, rows)
            return rowcount(result)

    def mark_sent(
        self, key: DeliveryKey, *, now: datetime, message_id: str | None, late: bool
    ) -> None:
        """Record the post as made, whoever claimed it; marking it sent again changes nothing."""
        require_aware(now=now)
        with self._write() as session:
            changed = _change(
                session,
                key,
                Delivery.state != DeliveryState.SENT,
                state=DeliveryState.SENT,
                sent_at=now,
                message_id=message_id,
                late=late,
                error=None,
                retry_at=None,
                lease_until=None,
                updated_at=now,
            )
            if not changed:
                _require_row(session, key, "mark it sent")

    def mark_failed(
        self, key: DeliveryKey, *, now: datetime, error: str, retry_at: datetime | None
    ) -> None:
        """Record a failed attempt; ``retry_at`` of ``None`` means it failed for good.

        A delivery already sent stays sent.
        """
        require_aware(now=now, retry_at=retry_at)
        with self._write() as session:
            changed = _change(
                session,
                key,
                Delivery.state != DeliveryState.SENT,
                state=DeliveryState.FAILED,
                error=clip(error),
                retry_at=retry_at,
                lease_until=None,
                updated_at=now,
            )
            if not changed:
                _require_row(session, key, "mark it failed")

    def mark_missed(
        self, key: DeliveryKey, *, event_id: str, due_at: datetime, now: datetime, reason: str
    ) -> bool:
        """Record that ``key`` will not be posted (too late), unless it was already sent or missed.

        Returns True if this changed the ledger. The reason is kept as the error.
        """
        require_aware(due_at=due_at, now=now)
        missed = replace(
            _blank(key, event_id, due_at, DeliveryState.MISSED, now), error=clip(reason)
        )
        for _ in range(CLAIM_ROUNDS):
            try:
                with self._write() as session:
                    return _mark_missed_once(session, missed)
            except IntegrityError:
                continue  # inserted meanwhile: update it instead
        raise LedgerError(f"cannot mark {key} missed: the database refused the new row")

    def get(self, key: DeliveryKey) -> Delivery | None:
        """The delivery recorded for ``key``, if any."""
        with self._read() as session:
            return session.scalars(select(Delivery).where(Delivery.key == key)).one_or_none()

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
        query = select(Delivery)
        if platform is not None:
            query = query.where(_columns.platform == platform)
        if channel_ids is not None:
            query = query.where(_columns.channel_id.in_(list(channel_ids)))
        query = query.order_by(
            _columns.updated_at.desc(),
            _columns.reminder_id,
            _columns.platform,
            _columns.channel_id,
        ).limit(limit)
        with self._read() as session:
            return list(session.scalars(query))

    def settled_channels(self, reminder_id: str, platform: str) -> set[str]:
        """Channels of ``platform`` where ``reminder_id`` needs nothing more: sent, missed,
        or failed for good. One query, however many channels."""
        failed_for_good = and_(Delivery.state == DeliveryState.FAILED, Delivery.retry_at.is_(None))
        query = select(_columns.channel_id).where(
            _columns.reminder_id == reminder_id,
            _columns.platform == platform,
            or_(Delivery.state.in_(_SETTLED), failed_for_good),
        )
        with self._read() as session:
            return {str(channel) for channel in session.scalars(query)}

    def counts(self) -> dict[DeliveryState, int]:
        """How many deliveries are in each state (every state present, zero included)."""
        query = select(Delivery.state, func.count()).group_by(Delivery.state)
        totals = dict.fromkeys(DeliveryState, 0)
        with self._read() as session:
            for state, count in session.execute(query):
                totals[DeliveryState(state)] = int(count)
        return totals


def _insert_ignoring(session: Session) -> Callable[[Table], Any]:
    """``INSERT … ON CONFLICT DO NOTHING`` in the session's dialect."""
    if session.get_bind().dialect.name == "postgresql":
        return lambda table: postgresql.insert(table).on_conflict_do_nothing()
    return lambda table: sqlite.insert(table).on_conflict_do_nothing()


def _row(delivery: Delivery) -> dict[str, object]:
    """A delivery as the table's columns, for a bulk insert."""
    key = delivery.key
    values: dict[str, object] = {
        "reminder_id": key.reminder_id,
        "platform": key.platform,
        "channel_id": key.channel_id,
    }
    for name in _PLAIN_COLUMNS:
        values[name] = getattr(delivery, name)
    return values


def _claim_once(session: Session, wanted: Delivery) -> Claim | None:
    """One round of a claim; None when a concurrent claimant changed the row first.

    ``wanted`` is the delivery as a first claim would record it: its owner,
    ``claimed_at`` (now) and lease are what a takeover records too.
    """
    key = wanted.key
    current = session.scalars(select(Delivery).where(Delivery.key == key)).one_or_none()
    if current is None:
        session.add(replace(wanted))
        session.flush()
        return Claim(ClaimOutcome.NEW, wanted)
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
    changed = _change(
        session,
        key,
        and_(Delivery.state == current.state, Delivery.attempts == current.attempts),
        state=taken.state,
        attempts=taken.attempts,
        first_claimed_at=taken.first_claimed_at,
        claimed_at=taken.claimed_at,
        lease_until=taken.lease_until,
        owner=taken.owner,
        updated_at=taken.updated_at,
    )
    return Claim(outcome, taken) if changed else None


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


def _mark_missed_once(session: Session, missed: Delivery) -> bool:
    """Update an unsettled delivery to missed, or insert ``missed``; True if either happened."""
    key = missed.key
    changed = _change(
        session,
        key,
        Delivery.state.not_in(_SETTLED),
        state=DeliveryState.MISSED,
        error=missed.error,
        retry_at=None,
        lease_until=None,
        updated_at=missed.updated_at,
    )
    if changed:
        return True
    if _exists(session, key):
        return False
    session.add(replace(missed))
    session.flush()
    return True


def _change(
    session: Session, key: DeliveryKey, condition: ColumnElement[bool], **values: object
) -> bool:
    """Update ``key``'s row to ``values`` if it meets ``condition``; True if it did.

    A conditional UPDATE: of two writers racing, only the first still meets it.
    """
    result = session.execute(
        update(Delivery)
        .where(Delivery.key == key, condition)
        .values(**values)
        .execution_options(synchronize_session=False)
    )
    return rowcount(result) > 0


def _exists(session: Session, key: DeliveryKey) -> bool:
    return session.execute(select(Delivery.state).where(Delivery.key == key)).first() is not None


def _require_row(session: Session, key: DeliveryKey, action: str) -> None:
    """Raise if ``key`` was never claimed (a caller's mistake, not a lost race)."""
    if not _exists(session, key):
        raise LedgerError(f"cannot {action}: {key} was never claimed")


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
