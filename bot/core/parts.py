"""The parts every answer is made of: where an event stands, its dates, how soon it is, a
fact's sources, and a brief's footer. ``answers`` and ``ask`` both build on them."""

import enum
from datetime import datetime

from bot.core.dates import Precision, day_range_words, day_words, humanize_days, humanize_delta
from bot.core.reply import Countdown, Direction, ExternalRef, Moment, Source
from bot.core.schema import Brief, Event, Evidenced


class Status(enum.StrEnum):
    """Where an event stands relative to "now"."""

    UPCOMING = "upcoming"
    ONGOING = "ongoing"
    PAST = "past"


def status(event: Event, now: datetime) -> Status:
    """Upcoming before its start, ongoing until its end, past from its end on."""
    if now < event.starts_at():
        return Status.UPCOMING
    if now < event.ends_at():
        return Status.ONGOING
    return Status.PAST


def moment(event: Event) -> Moment:
    """An event's dates: calendar days for an all-day event, local times for a timed one."""
    if event.all_day:
        words = day_range_words(event.first_day(), event.last_day())
        precision = Precision.DAY
    else:
        start = event.starts_at().astimezone(event.zone)
        end = event.ends_at().astimezone(event.zone)
        words = f"{day_words(start.date())}, {start:%H:%M}"
        if end.date() == start.date():
            words += f"\u2013{end:%H:%M} {end:%Z}" if end > start else f" {start:%Z}"
        else:
            words += f" \u2013 {day_words(end.date())}, {end:%H:%M} {end:%Z}"
        precision = Precision.MINUTE
    return Moment(event.starts_at(), event.ends_at(), precision, event.time_zone, words)


def countdown(event: Event, now: datetime) -> Countdown:
    """How soon the event starts, or how long ago it ended."""
    if status(event, now) is Status.PAST:
        target = event.ends_at()
        if event.all_day:
            words = f"ended {humanize_days(event.last_day(), now.astimezone(event.zone).date())}"
        else:
            words = f"ended {humanize_delta(target, now)}"
        return Countdown(target, words, Direction.SINCE, live=not event.all_day)
    if status(event, now) is Status.ONGOING:
        return Countdown(event.starts_at(), "happening now", Direction.ONGOING, live=False)
    if event.all_day:
        words = humanize_days(event.first_day(), now.astimezone(event.zone).date())
    else:
        words = humanize_delta(event.starts_at(), now)
    return Countdown(event.starts_at(), words, live=not event.all_day)


def source(point: str, fact: Evidenced) -> Source:
    """The sources of one point: the fact's quotes from the article and its outside references."""
    external = tuple(ExternalRef(ref.title, ref.url, ref.reason) for ref in fact.external)
    return Source(point, tuple(fact.quotes), external)


def footer(brief: Brief) -> str:
    """What a brief is based on, for the end of an answer."""
    return (
        f"Brief as of {day_words(brief.as_of)} \u00b7 based on \u201c{brief.source.headline}\u201d,"
        f" {brief.source.publisher}"
    )
