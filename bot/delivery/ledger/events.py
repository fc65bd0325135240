"""Which of the briefs' events are copied into which guild's scheduled events, and how.

One row per (platform, guild, brief event): the platform's id for the copy, a hash of
what was last pushed, and its state. A copy is claimed (``creating``) before it is
created and recorded (``scheduled``) after, so two processes never create it twice;
a process that crashed in between leaves a ``creating`` row, and the next sync adopts
the copy it finds in the guild instead of creating another (see
``bot.platforms.discord.scheduled_events``).
"""

from datetime import datetime, timedelta

from sqlalchemy import delete, select
from sqlalchemy.exc import IntegrityError

from bot.delivery.ledger.engines import LedgerError
from bot.delivery.ledger.keys import (
    CHANNEL_ID_LENGTH,
    PLATFORM_LENGTH,
    REMINDER_ID_LENGTH,
    check_id,
)
from bot.delivery.ledger.models import ID_LENGTH, MirroredEvent, MirrorState
from bot.delivery.ledger.store import CLAIM_ROUNDS, Store, require_aware

_Key = tuple[str, str, str]


def _key(platform: str, guild_id: str, event_key: str) -> _Key:
    check_id("platform", platform, PLATFORM_LENGTH)
    check_id("guild_id", guild_id, CHANNEL_ID_LENGTH)
    check_id("event_key", event_key, REMINDER_ID_LENGTH)
    return platform, guild_id, event_key


class MirroredEvents(Store):
    """The ledger's copies of brief events in guilds' scheduled events."""

    def mirrored_events(self, platform: str, guild_id: str) -> list[MirroredEvent]:
        """Every copy known in one guild, by event key."""
        check_id("platform", platform, PLATFORM_LENGTH)
        check_id("guild_id", guild_id, CHANNEL_ID_LENGTH)
        with self._read() as session:
            query = (
                select(MirroredEvent)
                .where(MirroredEvent.platform == platform, MirroredEvent.guild_id == guild_id)
                .order_by(MirroredEvent.event_key)
            )
            return list(session.scalars(query))

    def claim_mirror(
        self,
        platform: str,
        guild_id: str,
        event_key: str,
        *,
        owner: str,
        now: datetime,
        lease: timedelta,
    ) -> bool:
        """Claim the creation of a copy; True if this owner may create it now.

        A new event, one whose copy was cancelled (it is back in the briefs), or one whose
        creation another owner left unfinished past its lease can be claimed; a copy being
        created by a live owner, a scheduled one and one deleted in the guild cannot.
        """
        key = _key(platform, guild_id, event_key)
        check_id("owner", owner, ID_LENGTH)
        require_aware(now=now)
        for _ in range(CLAIM_ROUNDS):
            try:
                with self._write() as session:
                    row = session.get(MirroredEvent, key, with_for_update=True)
                    if row is None:
                        session.add(
                            MirroredEvent(
                                platform=platform,
                                guild_id=guild_id,
                                event_key=event_key,
                                state=MirrorState.CREATING,
                                remote_id=None,
                                fingerprint=None,
                                sequence=None,
                                owner=owner,
                                lease_until=now + lease,
                                updated_at=now,
                            )
                        )
                        return True
                    free = row.state is MirrorState.CANCELLED or (
                        row.state is MirrorState.CREATING
                        and (
                            row.owner == owner or row.lease_until is None or row.lease_until <= now
                        )
                    )
                    if free:
                        row.state, row.remote_id = MirrorState.CREATING, None
                        row.owner, row.lease_until, row.updated_at = owner, now + lease, now
                    return free
            except IntegrityError:
                continue  # claimed meanwhile by another process: read its row instead
        raise LedgerError(f"cannot claim {platform} guild {guild_id} event {event_key}")

    def record_mirror(
        self,
        platform: str,
        guild_id: str,
        event_key: str,
        *,
        remote_id: str,
        fingerprint: str,
        sequence: int,
        now: datetime,
    ) -> None:
        """The guild holds the copy ``remote_id``, as pushed with ``fingerprint``."""
        key = _key(platform, guild_id, event_key)
        check_id("remote_id", remote_id, ID_LENGTH)
        check_id("fingerprint", fingerprint, ID_LENGTH)
        require_aware(now=now)
        for _ in range(CLAIM_ROUNDS):
            try:
                with self._write() as session:
                    row = session.get(MirroredEvent, key, with_for_update=True)
                    if row is None:
                        row = MirroredEvent(
                            platform=platform,
                            guild_id=guild_id,
                            event_key=event_key,
                            state=MirrorState.SCHEDULED,
                            remote_id=remote_id,
                            fingerprint=fingerprint,
                            sequence=sequence,
                            owner=None,
                            lease_until=None,
                            updated_at=now,
                        )
                        session.add(row)
                        return
                    row.state, row.remote_id = MirrorState.SCHEDULED, remote_id
                    row.fingerprint, row.sequence = fingerprint, sequence
                    row.owner, row.lease_until, row.updated_at = None, None, now
                    return
            except IntegrityError:
                continue
        raise LedgerError(f"cannot record {platform} guild {guild_id} event {event_key}")

    def end_mirror(
        self, platform: str, guild_id: str, event_key: str, state: MirrorState, *, now: datetime
    ) -> None:
        """The copy was cancelled by the bot or deleted in the guild (``state`` says which)."""
        if state not in (MirrorState.CANCELLED, MirrorState.GONE):
            raise ValueError(f"a copy ends cancelled or gone, not {state!r}")
        key = _key(platform, guild_id, event_key)
        require_aware(now=now)
        with self._write() as session:
            row = session.get(MirroredEvent, key, with_for_update=True)
            if row is not None:
                row.state, row.owner, row.lease_until, row.updated_at = state, None, None, now

    def abandon_mirror(self, platform: str, guild_id: str, event_key: str, *, owner: str) -> None:
        """Give up a claim whose creation failed (the next sync tries again)."""
        platform, guild_id, event_key = _key(platform, guild_id, event_key)
        with self._write() as session:
            session.execute(
                delete(MirroredEvent).where(
                    MirroredEvent.platform == platform,
                    MirroredEvent.guild_id == guild_id,
                    MirroredEvent.event_key == event_key,
                    MirroredEvent.state == MirrorState.CREATING,
                    MirroredEvent.owner == owner,
                )
            )
