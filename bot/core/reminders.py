"""Reminder planning: which reminder is due when, derived from the briefs alone.

The briefs are the source of truth: the plan is rebuilt from them at every
start and every reload, so a moved event is rescheduled and a removed one
cancelled. All-day events are reminded at a local hour in the event's own
zone and never claim an hour the brief does not give; timed events exactly.
"""

import re
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from bot.core.answers import Status, countdown, moment, status
from bot.core.dates import day_words, humanize_delta
from bot.core.library import Library
from bot.core.reply import ExternalRef, Reply, Section, Source, line
from bot.core.schema import Brief, Event

_UNITS = {"w": 7 * 86400, "d": 86400, "h": 3600, "m": 60, "s": 1}
_DURATION = re.compile(r"^(?:[0-9]+[wdhms])+$")
_PART = re.compile(r"([0-9]+)([wdhms])")
_LOCAL_TIME = re.compile(r"^[0-9]{2}:[0-9]{2}(?::[0-9]{2})?$")
MAX_DURATION_TEXT = 64
"""A duration is written in at most this many characters (``1d12h30m`` is 8)."""
MAX_DURATION = timedelta(days=365)
"""The longest duration :func:`parse_duration` accepts unless told a shorter maximum."""
MAX_OFFSET = timedelta(days=365)
"""The longest reminder offset: a year before the event."""
MAX_OFFSETS = 20
"""At most this many reminder offsets."""


def _days(delta: timedelta) -> str:
    if delta % timedelta(days=1):
        return f"{int(delta.total_seconds())}s"
    return f"{delta.days} day{'s' if delta.days != 1 else ''}"


def parse_duration(text: str, maximum: timedelta = MAX_DURATION) -> timedelta:
    """Read ``7d``, ``1h``, ``90m``, ``1d12h``: weeks, days, hours, minutes, seconds.

    ASCII digits only; a duration longer than ``maximum`` is refused.
    """
    compact = text.strip().lower().replace(" ", "")
    if len(compact) > MAX_DURATION_TEXT:
        raise ValueError(
            f"is {len(compact)} characters long: not a duration such as 7d, 1h, 30m or 1d12h"
        )
    if not _DURATION.match(compact):
        raise ValueError(f"{text!r} is not a duration such as 7d, 1h, 30m or 1d12h")
    seconds = sum(int(amount) * _UNITS[unit] for amount, unit in _PART.findall(compact))
    if seconds > maximum.total_seconds():
        raise ValueError(f"{text!r} is longer than the maximum of {_days(maximum)}")
    return timedelta(seconds=seconds)


@dataclass(frozen=True, order=True)
class Offset:
    """How long before an event a reminder goes out, with the label it was written as."""

    delta: timedelta
    label: str


def parse_offsets(text: str) -> tuple[Offset, ...]:
    """Read ``7d,1d,1h``: distinct, positive, largest first.

    At most ``MAX_OFFSETS`` offsets, each at most ``MAX_OFFSET``.
    """
    labels = [part.strip().lower() for part in text.split(",") if part.strip()]
    if not labels:
        raise ValueError("give at least one offset, e.g. 7d,1d,1h")
    if len(labels) > MAX_OFFSETS:
        raise ValueError(f"give at most {MAX_OFFSETS} offsets, got {len(labels)}")
    offsets: dict[timedelta, Offset] = {}
    for label in labels:
        delta = parse_duration(label, MAX_OFFSET)
        if delta <= timedelta(0):
            raise ValueError(f"offset {label!r} must be longer than zero")
        if delta in offsets:
            raise ValueError(f"offsets {offsets[delta].label!r} and {label!r} are the same")
        offsets[delta] = Offset(delta, label)
    return tuple(sorted(offsets.values(), reverse=True))


def parse_local_time(text: str) -> time:
    """Read ``09:00`` or ``09:00:30`` (24-hour clock, ASCII digits)."""
    value = text.strip()
    if not _LOCAL_TIME.match(value):
        if "+" in value or value.endswith(("Z", "z")) or value.count("-") == 1:
            raise ValueError("give a local time without an offset: it is read in each event's zone")
        raise ValueError(f"{text!r} is not a time of day such as 09:00")
    try:
        return time.fromisoformat(value)
    except ValueError:
        raise ValueError(f"{text!r} is not a time of day such as 09:00") from None


@dataclass(frozen=True)
class Reminder:
    """One reminder of one event, due at one instant."""

    id: str
    brief_id: str
    event: Event
    offset: Offset
    due_at: datetime


def at_local(day: date, hour: time, zone: ZoneInfo) -> datetime:
    """``hour`` on ``day`` in ``zone``, in UTC; a time skipped by DST moves forward past the gap.

    A repeated time (clocks going back) is its first occurrence. ``fold`` is set to 0
    whatever ``hour`` says: with fold 1, a skipped time would move backwards instead.
    """
    return datetime.combine(day, hour.replace(fold=0)).replace(tzinfo=zone).astimezone(UTC)


def due_time(event: Event, offset: Offset, all_day_at: time) -> datetime:
    """When the reminder ``offset`` before ``event`` is due.

    Timed events: exactly ``offset`` before the start. All-day events: at
    ``all_day_at`` local time, whole days before the first day (an offset under
    a day means the morning of the first day).
    """
    if not event.all_day:
        return event.starts_at() - offset.delta  # UTC: real time, across DST changes
    return at_local(event.first_day() - timedelta(days=offset.delta.days), all_day_at, event.zone)


def plan(library: Library, offsets: tuple[Offset, ...], all_day_at: time) -> list[Reminder]:
    """Every reminder of every event in the briefs, soonest first; one per distinct instant."""
    reminders: list[Reminder] = []
    for brief, event in library.events():
        seen: set[datetime] = set()
        for offset in offsets:
            due = due_time(event, offset, all_day_at)
            if due in seen or due >= event.ends_at():
                continue
            seen.add(due)
            reminders.append(Reminder(f"{event.id}:{offset.label}", brief.id, event, offset, due))
    reminders.sort(key=lambda reminder: (reminder.due_at, reminder.id))
    return reminders


def _headline(event: Event, now: datetime) -> str:
    state = status(event, now)
    if state is Status.ONGOING:
        if event.all_day and now.astimezone(event.zone).date() == event.first_day():
            return f"{event.name} begins today"
        return f"{event.name} is under way"
    if state is Status.PAST:
        return f"{event.name} is over"
    return f"{event.name} {countdown(event, now).words}"


def _late_note(reminder: Reminder, now: datetime) -> str:
    event = reminder.event
    due = reminder.due_at.astimezone(event.zone)
    when = day_words(due.date()) if event.all_day else f"{day_words(due.date())}, {due:%H:%M %Z}"
    behind = humanize_delta(reminder.due_at, now).removesuffix(" ago")
    return f"This reminder was due {behind} earlier ({when}), while the bot could not post."


def reminder_reply(reminder: Reminder, brief: Brief, now: datetime, *, late: bool) -> Reply:
    """What a reminder post says: what, where, when, how soon, why, and where to read more."""
    event = reminder.event
    city = event.place.split(",")[0]
    summary = line(
        f"{event.name} in {city}: ", moment(event), " \u00b7 ", countdown(event, now), "."
    )
    sections = [Section("Why it matters", (line(event.why),))]
    if event.notes:
        sections.append(Section("Note", tuple(line(note.text) for note in event.notes)))
    if late:
        sections.append(Section("Posted late", (line(_late_note(reminder, now)),)))
    sections.append(Section("More", (line("/next-meeting lists everything ahead."),)))
    footer = f"{brief.title} \u00b7 based on {brief.source.publisher}"
    sources = [
        Source(
            f"{event.name}, {event.place}",
            tuple(event.quotes),
            tuple(ExternalRef(r.title, r.url, r.reason) for r in event.external),
        )
    ]
    return Reply(
        command="reminder",
        title=("Late reminder: " if late else "Reminder: ") + _headline(event, now),
        summary=(summary,),
        sections=tuple(sections),
        footer=footer,
        sources=tuple(sources),
        brief_id=brief.id,
        options=(("event", event.id),),
    )


def reminder_name(library: Library, reminder_id: str) -> str:
    """``G20 leaders' summit, 7d before`` for ``g20-hamburg-2017:7d``: no internal id shown."""
    event_id, _, label = reminder_id.rpartition(":")
    name = next((e.name for _, e in library.events() if e.id == event_id), None)
    if name is None:
        return "a removed event"
    return f"{name}, {label} before"
