"""The channels subscribed to reminders, and what the bot cannot do in each."""

from collections.abc import Collection, Mapping
from dataclasses import replace
from datetime import datetime
from typing import cast

from sqlalchemy import ColumnElement, Table, and_, delete, func, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from bot.delivery.ledger.engines import LedgerError
from bot.delivery.ledger.keys import CHANNEL_ID_LENGTH, PLATFORM_LENGTH, check_id
from bot.delivery.ledger.models import (
    INSTANCE_LENGTH,
    NamedChannel,
    Subscription,
    SubscriptionSource,
    SubscriptionState,
)
from bot.delivery.ledger.store import (
    CLAIM_ROUNDS,
    Store,
    among,
    channel_batches,
    clip,
    insert_channels,
    require_aware,
    rowcount,
)

SOURCES = frozenset(SubscriptionSource)
DEFAULT_INSTANCE = "default"  # the deployment a process belongs to unless BRIEFBOT_INSTANCE says


class Subscriptions(Store):
    """The ledger's subscriptions: one per (platform, channel), active or broken."""

    def subscribe(
        self,
        platform: str,
        channel_id: str,
        *,
        guild_id: str | None,
        source: SubscriptionSource,
        now: datetime,
    ) -> bool:
        """Subscribe a channel; True if it is newly active (it was absent or broken).

        Subscribing a broken channel makes it active and clears the reason. A
        command subscription is never downgraded to a settings one; a known guild
        is kept when ``guild_id`` is None.
        """
        if source not in SOURCES:
            raise ValueError(f"a subscription's source is 'settings' or 'command', not {source!r}")
        check_id("platform", platform, PLATFORM_LENGTH)
        check_id("channel_id", channel_id, CHANNEL_ID_LENGTH)
        if guild_id is not None:
            check_id("guild_id", guild_id, CHANNEL_ID_LENGTH)
        require_aware(now=now)
        wanted = Subscription(
            platform=platform,
            channel_id=channel_id,
            guild_id=guild_id,
            source=SubscriptionSource(source),
            state=SubscriptionState.ACTIVE,
            reason=None,
            created_at=now,
            updated_at=now,
        )
        for _ in range(CLAIM_ROUNDS):
            try:
                with self._write() as session:
                    return _subscribe_once(session, wanted)
            except IntegrityError:
                continue  # subscribed meanwhile: update it instead
        raise LedgerError(f"cannot subscribe {platform} channel {channel_id}")

    def sync_named(
        self,
        platform: str,
        channel_ids: Collection[str],
        *,
        now: datetime,
        instance: str = DEFAULT_INSTANCE,
    ) -> tuple[list[str], list[str]]:
        """Make the channels of ``platform`` that deployment ``instance`` names exactly
        ``channel_ids``.

        Subscribes each named channel not yet known (a known one, even broken or
        subscribed by command, is left as it is). A channel this deployment no longer
        names is unsubscribed when no other deployment names it and no command
        subscribed it. One transaction, a few statements however many channels; on
        PostgreSQL, deployments syncing at once take turns. Returns (subscribed,
        unsubscribed).
        """
        check_id("platform", platform, PLATFORM_LENGTH)
        check_id("instance", instance, INSTANCE_LENGTH)
        named = set(channel_ids)
        for channel in named:
            check_id("channel_id", channel, CHANNEL_ID_LENGTH)
        require_aware(now=now)
        for _ in range(CLAIM_ROUNDS):
            try:
                with self._write() as session:
                    return _sync_named_once(session, platform, named, instance, now)
            except IntegrityError:
                continue  # another process subscribed some meanwhile: look again
        raise LedgerError(f"cannot bring the {platform} channels in step with the settings")

    def unsubscribe(self, platform: str, channel_id: str) -> bool:
        """Forget a channel's subscription; True if it existed."""
        with self._write() as session:
            result = session.execute(
                delete(Subscription)
                .where(_subscription_is(platform, channel_id))
                .execution_options(synchronize_session=False)
            )
            return rowcount(result) > 0

    def mark_broken(self, platform: str, channel_id: str, *, reason: str, now: datetime) -> bool:
        """Stop posting to a channel that refuses posts; True only when it was active."""
        require_aware(now=now)
        with self._write() as session:
            result = session.execute(
                update(Subscription)
                .where(
                    _subscription_is(platform, channel_id),
                    Subscription.state == SubscriptionState.ACTIVE,
                )
                .values(state=SubscriptionState.BROKEN, reason=clip(reason), updated_at=now)
                .execution_options(synchronize_session=False)
            )
            return rowcount(result) > 0

    def set_warning(self, platform: str, channel_id: str, warning: str | None) -> None:
        """Record (or clear, with None) what the bot cannot do in a subscribed channel."""
        self.set_warnings(platform, {channel_id: warning})

    def set_warnings(self, platform: str, warnings: Mapping[str, str | None]) -> int:
        """Record each channel's warning (None clears it), writing only what changed.

        Returns how many subscriptions changed. One transaction, however many channels.
        """
        wanted = {channel: None if w is None else clip(w) for channel, w in warnings.items()}
        with self._write() as session:
            query = select(Subscription.channel_id, Subscription.warning).where(
                Subscription.platform == platform
            )
            current = {str(channel): warning for channel, warning in session.execute(query)}
            changed = 0
            for channel, warning in wanted.items():
                if channel in current and current[channel] != warning:
                    session.execute(
                        update(Subscription)
                        .where(_subscription_is(platform, channel))
                        .values(warning=warning)
                        .execution_options(synchronize_session=False)
                    )
                    changed += 1
        return changed

    def subscriptions(
        self, *, platform: str | None = None, guild_id: str | None = None
    ) -> list[Subscription]:
        """Every subscription, active or broken, by platform and channel."""
        query = select(Subscription)
        if platform is not None:
            query = query.where(Subscription.platform == platform)
        if guild_id is not None:
            query = query.where(Subscription.guild_id == guild_id)
        query = query.order_by(Subscription.platform, Subscription.channel_id)
        with self._read() as session:
            return list(session.scalars(query))

    def active_count(self, platform: str) -> int:
        """How many channels of ``platform`` receive reminders."""
        query = select(func.count()).where(
            Subscription.platform == platform, Subscription.state == SubscriptionState.ACTIVE
        )
        with self._read() as session:
            return int(session.scalar(query) or 0)

    def active_channels(self, platform: str) -> list[str]:
        """The ids of the channels of ``platform`` that receive reminders, sorted."""
        query = (
            select(Subscription.channel_id)
            .where(
                Subscription.platform == platform,
                Subscription.state == SubscriptionState.ACTIVE,
            )
            .order_by(Subscription.channel_id)
        )
        with self._read() as session:
            return [str(channel) for channel in session.scalars(query)]


def _subscribe_once(session: Session, wanted: Subscription) -> bool:
    """Insert ``wanted``, or bring the existing row up to it; True if newly active.

    The row is read under a row lock (PostgreSQL) or the write lock (SQLite).
    """
    where = _subscription_is(wanted.platform, wanted.channel_id)
    current = session.scalars(select(Subscription).where(where).with_for_update()).one_or_none()
    if current is None:
        session.add(replace(wanted))
        session.flush()
        return True
    changes: dict[str, object] = {}
    if current.state != SubscriptionState.ACTIVE:
        changes.update(state=SubscriptionState.ACTIVE, reason=None)
    if wanted.source == SubscriptionSource.COMMAND and current.source != SubscriptionSource.COMMAND:
        changes["source"] = wanted.source
    if wanted.guild_id is not None and wanted.guild_id != current.guild_id:
        changes["guild_id"] = wanted.guild_id
    if changes:
        session.execute(
            update(Subscription)
            .where(where)
            .values(updated_at=wanted.updated_at, **changes)
            .execution_options(synchronize_session=False)
        )
    return current.state != SubscriptionState.ACTIVE


def _subscription_is(platform: str, channel_id: str) -> ColumnElement[bool]:
    return and_(Subscription.platform == platform, Subscription.channel_id == channel_id)


SYNC_LOCK = int.from_bytes(b"bb-named", "big")  # PostgreSQL: one settings sync at a time
_NAMED = cast(Table, NamedChannel.__table__)
_SUBSCRIPTIONS = cast(Table, Subscription.__table__)


def _sync_named_once(
    session: Session, platform: str, named: set[str], instance: str, now: datetime
) -> tuple[list[str], list[str]]:
    if session.get_bind().dialect.name == "postgresql":
        session.execute(select(func.pg_advisory_xact_lock(SYNC_LOCK)))
    mine_query = select(NamedChannel.channel_id).where(
        NamedChannel.platform == platform, NamedChannel.instance == instance
    )
    mine = {str(channel) for channel in session.scalars(mine_query)}
    insert_channels(
        session, _NAMED, {"platform": platform, "instance": instance}, sorted(named - mine)
    )
    unnamed = sorted(mine - named)
    for batch in channel_batches(session, unnamed):
        session.execute(
            delete(NamedChannel)
            .where(
                NamedChannel.platform == platform,
                NamedChannel.instance == instance,
                among(session, _NAMED.c.channel_id, batch),
            )
            .execution_options(synchronize_session=False)
        )
    rows = session.execute(
        select(Subscription.channel_id, Subscription.source).where(
            Subscription.platform == platform
        )
    ).all()
    known = {str(channel): source for channel, source in rows}
    added = sorted(named - set(known))
    candidates = [c for c in unnamed if known.get(c) == SubscriptionSource.SETTINGS]
    still_named: set[str] = set()
    for batch in channel_batches(session, candidates):
        query = select(NamedChannel.channel_id).where(
            NamedChannel.platform == platform,
            among(session, _NAMED.c.channel_id, batch),
        )
        still_named.update(str(channel) for channel in session.scalars(query))
    dropped = [channel for channel in candidates if channel not in still_named]
    insert_channels(
        session,
        _SUBSCRIPTIONS,
        {
            "platform": platform,
            "guild_id": None,
            "source": SubscriptionSource.SETTINGS.value,
            "state": SubscriptionState.ACTIVE.value,
            "reason": None,
            "created_at": now,
            "updated_at": now,
            "warning": None,
        },
        added,
    )
    for batch in channel_batches(session, dropped):
        session.execute(
            delete(Subscription)
            .where(
                Subscription.platform == platform,
                among(session, _SUBSCRIPTIONS.c.channel_id, batch),
            )
            .execution_options(synchronize_session=False)
        )
    return added, dropped
