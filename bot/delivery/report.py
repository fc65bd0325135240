"""What will be posted where and when, and what was posted: for ``briefbot schedule``."""

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from bot.core.library import Library
from bot.core.reminders import Reminder, plan
from bot.delivery.ledger import Delivery, Ledger, Subscription, SubscriptionState
from bot.settings import Settings

RECENT = 20


@dataclass(frozen=True)
class ScheduleReport:
    """Upcoming reminders with their channels, recent deliveries, and every subscription."""

    now: datetime
    upcoming: list[Reminder]
    channels: list[str]
    deliveries: list[Delivery]
    subscriptions: list[Subscription]

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
    settings: Settings, library: Library, ledger: Ledger, now: datetime
) -> ScheduleReport:
    """The report as of ``now``, without changing anything in the ledger."""
    reminders = plan(library, settings.reminder_offsets, settings.reminder_all_day_at)
    subscriptions = ledger.subscriptions()
    channels = [
        f"{s.platform}:{s.channel_id}" for s in subscriptions if s.state == SubscriptionState.ACTIVE
    ]
    named = [("discord", c) for c in settings.reminder_channel_ids] + [
        ("slack", c) for c in settings.slack_reminder_channel_ids
    ]
    for platform, channel in named:
        if f"{platform}:{channel}" not in channels:
            channels.append(f"{platform}:{channel}")
    return ScheduleReport(
        now=now,
        upcoming=[r for r in reminders if r.due_at > now],
        channels=channels,
        deliveries=ledger.deliveries(limit=RECENT),
        subscriptions=subscriptions,
    )
