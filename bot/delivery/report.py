"""What will be posted where and when, and what was posted: for ``briefbot schedule``."""

from collections import Counter
from collections.abc import Collection, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from bot.core.library import Library
from bot.core.reminders import Reminder, plan
from bot.delivery.fanout import early_start
from bot.delivery.ledger import Delivery, Ledger, Subscription, SubscriptionState
from bot.delivery.scheduler import Timing

RECENT = 20


@dataclass(frozen=True)
class ScheduleReport:
    """Upcoming reminders with their channels, recent deliveries, and every subscription."""

    now: datetime
    upcoming: list[Reminder]
    channels: list[str]
    deliveries: list[Delivery]
    subscriptions: list[Subscription]
    lead: timedelta = timedelta(0)
    """How long before its due time a reminder starts posting, so the last channel has it by
    then (zero unless the fan-out takes longer than ``EARLY_START_MIN``)."""

    def starts_at(self, reminder: Reminder) -> datetime:
        """When posting ``reminder`` begins."""
        return reminder.due_at - self.lead

    @property
    def warnings(self) -> list[str]:
        """Where exactly-once delivery cannot hold, as the running bot last found it."""
        return [
            f"{s.platform}:{s.channel_id}: {s.warning}"
            for s in self.subscriptions
            if s.warning and s.state == SubscriptionState.ACTIVE
        ]

    def to_json(self) -> dict[str, Any]:
        """Plain data for ``--json``."""
        return {
            "now": self.now.isoformat(),
            "upcoming": [
                {
                    "reminder": r.id,
                    "event": r.event.id,
                    "event_name": r.event.name,
                    "offset": r.offset.label,
                    "due_at": r.due_at.isoformat(),
                    "due_local": r.due_at.astimezone(r.event.zone).isoformat(),
                    "starts_posting_at": self.starts_at(r).isoformat(),
                    "channels": self.channels,
                }
                for r in self.upcoming
            ],
            "deliveries": [
                {
                    "reminder": d.key.reminder_id,
                    "channel": f"{d.key.platform}:{d.key.channel_id}",
                    "state": d.state.value,
                    "late": d.late,
                    "due_at": d.due_at.isoformat(),
                    "updated_at": d.updated_at.isoformat(),
                    "attempts": d.attempts,
                    "error": d.error,
                }
                for d in self.deliveries
            ],
            "subscriptions": [
                {
                    "channel": f"{s.platform}:{s.channel_id}",
                    "state": s.state,
                    "source": s.source,
                    "reason": s.reason,
                    "warning": s.warning,
                }
                for s in self.subscriptions
            ],
            "warnings": self.warnings,
        }


def schedule_report(
    library: Library,
    ledger: Ledger,
    now: datetime,
    *,
    timing: Timing,
    named: Mapping[str, Collection[str]],
    rates: Mapping[str, float] | None = None,
) -> ScheduleReport:
    """The report as of ``now``, without changing anything in the ledger.

    ``named`` is the channels the settings name, by platform: they are listed
    with the subscribed ones even before the bot has run to subscribe them. ``rates`` is
    each platform's posts per second, for when a large fan-out starts.
    """
    reminders = plan(library, timing.offsets, timing.all_day_at)
    subscriptions = ledger.subscriptions()
    channels = [
        f"{s.platform}:{s.channel_id}" for s in subscriptions if s.state == SubscriptionState.ACTIVE
    ]
    known = set(channels)
    for platform, channel_ids in named.items():
        for channel in channel_ids:
            if f"{platform}:{channel}" not in known:
                known.add(f"{platform}:{channel}")
                channels.append(f"{platform}:{channel}")
    counts = Counter(channel.partition(":")[0] for channel in channels)
    return ScheduleReport(
        now=now,
        upcoming=[r for r in reminders if r.due_at > now],
        channels=channels,
        deliveries=ledger.deliveries(limit=RECENT),
        subscriptions=subscriptions,
        lead=early_start(counts, rates or {}),
    )
