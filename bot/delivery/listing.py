"""The reminders listing, built once as a neutral reply: ``/reminders list`` on Discord and
on Slack render it in their own format, from the same ledger and plan."""

from collections.abc import Sequence
from datetime import UTC, datetime

from bot.core.dates import Precision
from bot.core.library import Library
from bot.core.reminders import Reminder, reminder_name
from bot.core.reply import ChannelRef, Line, Moment, Reply, Section, line
from bot.delivery.ledger import (
    Delivery,
    DeliveryState,
    Subscription,
    SubscriptionSource,
    SubscriptionState,
)

SHOWN = 10  # upcoming reminders and recent deliveries listed


def instant(value: datetime) -> Moment:
    """An instant each reader sees in their own zone where the platform can."""
    utc = value.astimezone(UTC)
    return Moment(utc, None, Precision.MINUTE, "UTC", f"{utc:%Y-%m-%d %H:%M} UTC")


def channel(platform: str, channel_id: str) -> ChannelRef:
    """A subscribed channel, as its platform links it."""
    return ChannelRef(platform, channel_id, f"{platform}:{channel_id}")


def _subscription_line(subscription: Subscription) -> Line:
    state = (
        "active"
        if subscription.state == SubscriptionState.ACTIVE
        else f"broken: {subscription.reason or 'refused posts'}"
    )
    origin = " (from the settings)" if subscription.source == SubscriptionSource.SETTINGS else ""
    warning = f" \u00b7 \u26a0 {subscription.warning}" if subscription.warning else ""
    return line(
        channel(subscription.platform, subscription.channel_id),
        f" \u00b7 {state}{origin}{warning}",
    )


def _delivery_line(library: Library, delivery: Delivery) -> Line:
    key = delivery.key
    detail = (
        f": {delivery.error}" if delivery.error and delivery.state != DeliveryState.SENT else ""
    )
    return line(
        instant(delivery.updated_at),
        f" \u00b7 {reminder_name(library, key.reminder_id)} \u2192 ",
        channel(key.platform, key.channel_id),
        f" \u00b7 {delivery.state.value}{' (late)' if delivery.late else ''}{detail}",
    )


def reminders_reply(
    library: Library,
    upcoming: Sequence[Reminder],
    subscriptions: Sequence[Subscription],
    deliveries: Sequence[Delivery],
) -> Reply:
    """Channels, the reminders ahead and the recent deliveries, for the people who manage them.

    ``subscriptions`` and ``deliveries`` are those the reader may see (one server's, one
    workspace's); ``upcoming`` is soonest first.
    """
    active = sum(s.state == SubscriptionState.ACTIVE for s in subscriptions)
    channels = tuple(_subscription_line(s) for s in subscriptions) or (
        line("None: `/reminders subscribe` in a channel to start."),
    )
    ahead = tuple(
        line(instant(r.due_at), f" \u00b7 {r.event.name} \u00b7 {r.offset.label} before")
        for r in upcoming[:SHOWN]
    ) or (line("Nothing ahead."),)
    recent = tuple(_delivery_line(library, d) for d in deliveries[:SHOWN]) or (line("None yet."),)
    summary = line(
        f"{active} channel(s) get reminders; {len(upcoming)} reminder(s) ahead"
        + (f", the next on {upcoming[0].event.name}." if upcoming else ".")
    )
    return Reply(
        command="reminders",
        title="Reminders",
        summary=(summary,),
        sections=(
            Section("Channels", channels),
            Section(f"Upcoming reminders (to {active} channel(s))", ahead),
            Section("Recent deliveries", recent),
        ),
    )
