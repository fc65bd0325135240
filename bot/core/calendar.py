"""The briefs' events as an iCalendar (.ics) feed: pure functions of (library, now).

One VEVENT per event of the briefs. All-day events are DATE values with an
exclusive DTEND; timed events carry their zone's TZID and the calendar holds a
VTIMEZONE for each zone used. Each event's UID is fixed by its brief and its id;
its SEQUENCE and LAST-MODIFIED come from the brief's ``as_of``, the day the brief
was last revised, so a calendar that already holds an event replaces it when the
brief is revised. DTSTAMP equals LAST-MODIFIED: two generations from unchanged
briefs are the same bytes. A follow-up known only to the month or the year has no
day to put in a calendar: it is left out, and the feed says which and why.

See docs/calendar.md.
"""

import hashlib
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from functools import lru_cache
from zoneinfo import ZoneInfo

from icalendar import (
    Calendar,
    Component,
    Timezone,
    TimezoneDaylight,
    TimezoneStandard,
    vDuration,
    vText,
)
from icalendar import Event as VEvent

from bot.core.answers import Status, status
from bot.core.dates import EARLIEST, Precision, day_words
from bot.core.library import Library, UnknownChoice
from bot.core.schema import Brief, Event, FollowUp

PRODID = "-//briefbot//briefings calendar//EN"
ALL_BRIEFS_NAME = "briefbot: events of the briefings"
REFRESH = timedelta(hours=6)
"""How often subscribed calendars are asked to fetch the feed again."""
CONTENT_TYPE = "text/calendar; charset=utf-8"


@dataclass(frozen=True)
class LeftOut:
    """A dated item of a brief the feed does not hold, and why."""

    brief_id: str
    item_id: str
    text: str
    reason: str

    def line(self) -> str:
        """``brief/item: text (reason)``, as the feed says it."""
        return f"{self.brief_id}/{self.item_id}: {self.text} ({self.reason})"


@dataclass(frozen=True)
class CalendarFeed:
    """A generated feed: its bytes, and what an HTTP server sends with them."""

    body: bytes
    events: int
    """How many VEVENTs it holds."""
    etag: str
    last_modified: datetime
    """When the feed's content last changed (UTC): a brief's revision or an event passing."""
    content_type: str = CONTENT_TYPE


def uid(brief: Brief, event: Event) -> str:
    """The event's stable UID: ``<event-id>@<brief-id>.briefbot``."""
    return f"{event.id}@{brief.id}.briefbot"


def revised_at(brief: Brief) -> datetime:
    """LAST-MODIFIED (and DTSTAMP) of the brief's events: midnight UTC starting its ``as_of``."""
    return datetime.combine(brief.as_of, time(0, 0), UTC)


def sequence(brief: Brief) -> int:
    """SEQUENCE of the brief's events: whole days from 1900-01-01 to the brief's ``as_of``.

    It grows whenever ``as_of`` moves on, and stays far inside a 32-bit integer
    (at most 401,767 for 2999-12-31).
    """
    return (brief.as_of - EARLIEST).days


def left_out(brief: Brief) -> list[LeftOut]:
    """The brief's follow-ups: none has a place in the feed, and each says why."""
    return [_left_out(brief, item) for item in brief.mous.follow_ups]


def _left_out(brief: Brief, item: FollowUp) -> LeftOut:
    if item.when.precision is Precision.DAY:
        reason = (
            f"{item.when.words()}: a pledged follow-up, not a meeting with a place and a zone; "
            "the feed holds the brief's events"
        )
    else:
        unit = "month" if item.when.precision is Precision.MONTH else "year"
        reason = (
            f"{item.when_words()}: the article gives only the {unit}, a calendar entry needs "
            "a day, and briefbot never invents one"
        )
    return LeftOut(brief.id, item.id, item.text, reason)


def calendar_feed(
    library: Library,
    now: datetime,
    *,
    all_events: bool,
    brief_id: str | None = None,
    event_id: str | None = None,
) -> CalendarFeed:
    """The feed of the events ahead of ``now`` (not yet over), or of all with ``all_events``.

    ``brief_id`` limits it to one brief, and ``event_id`` to one event of it (past or
    not); an unknown one raises ``UnknownChoice``.
    """
    briefs = library.briefs if brief_id is None else (library.brief(brief_id),)
    chosen = [
        (brief, event)
        for brief in briefs
        for event in brief.events
        if all_events or status(event, now) is not Status.PAST
    ]
    if event_id is not None:
        events = [event.id for brief in briefs for event in brief.events]
        if brief_id is None or event_id not in events:
            raise UnknownChoice("event", event_id, events)
        chosen = [
            (brief, event) for brief in briefs for event in brief.events if event.id == event_id
        ]
    chosen.sort(key=lambda pair: (pair[1].starts_at(), uid(*pair)))
    name = briefs[0].title if brief_id is not None else ALL_BRIEFS_NAME
    body = _calendar(name, briefs, chosen).to_ical()
    changes = [revised_at(brief) for brief in briefs]
    if not all_events and event_id is None:  # an event leaves the feed when it is over
        changes.extend(
            event.ends_at()
            for brief in briefs
            for event in brief.events
            if status(event, now) is Status.PAST
        )
    return CalendarFeed(body, len(chosen), etag(body), max(changes, default=_epoch()))


def calendar_bytes(
    library: Library,
    now: datetime,
    *,
    all_events: bool,
    brief_id: str | None = None,
    event_id: str | None = None,
) -> bytes:
    """The feed's bytes (see ``calendar_feed``)."""
    return calendar_feed(
        library, now, all_events=all_events, brief_id=brief_id, event_id=event_id
    ).body


def etag(body: bytes) -> str:
    """A strong HTTP ETag for the feed's bytes: a quoted SHA-256 prefix."""
    return f'"{hashlib.sha256(body).hexdigest()[:32]}"'


def _epoch() -> datetime:
    """The earliest instant a brief can be revised at (no brief at all)."""
    return datetime.combine(EARLIEST, time(0, 0), UTC)


def _calendar(name: str, briefs: tuple[Brief, ...], chosen: list[tuple[Brief, Event]]) -> Calendar:
    cal = Calendar()
    cal.add("prodid", PRODID)
    cal.add("version", "2.0")
    cal.add("calscale", "GREGORIAN")
    cal.add("name", name)
    cal.add("x-wr-calname", vText(name))
    cal.add("refresh-interval", REFRESH, parameters={"VALUE": "DURATION"})
    cal.add("x-published-ttl", vDuration(REFRESH))
    missing = [item for brief in briefs for item in left_out(brief)]
    description = _calendar_description(briefs, missing)
    cal.add("description", description)
    cal.add("x-wr-caldesc", vText(description))
    for item in missing:
        cal.add("x-briefbot-left-out", vText(item.line()))
    for zone, (first, last) in _zone_spans(chosen).items():
        cal.add_component(_vtimezone(zone, first, last))
    for brief, event in chosen:
        cal.add_component(_vevent(brief, event))
    return cal


def _calendar_description(briefs: tuple[Brief, ...], missing: list[LeftOut]) -> str:
    sources = "; ".join(
        f"“{brief.source.headline}”, {brief.source.publisher} (brief as of "
        f"{day_words(brief.as_of)})"
        for brief in briefs
    )
    lines = [f"The meetings named in briefbot's checked briefings. Based on: {sources}."]
    if missing:
        lines.append("Not in this calendar, since no day is known or it is not a meeting:")
        lines.extend(f"- {item.line()}" for item in missing)
    return "\n".join(lines)


def _zone_spans(chosen: list[tuple[Brief, Event]]) -> dict[str, tuple[date, date]]:
    """For each zone of a timed event: 1 January of the year before its first to after its last.

    The year's lead puts the zone's first listed observance well before any event.
    """
    spans: dict[str, tuple[date, date]] = {}
    for _brief, event in chosen:
        if event.all_day or written_in_utc(event):
            continue
        first = date(event.starts_at().astimezone(event.zone).year - 1, 1, 1)
        last = date(event.ends_at().astimezone(event.zone).year + 1, 1, 1)
        if event.time_zone in spans:
            old_first, old_last = spans[event.time_zone]
            first, last = min(first, old_first), max(last, old_last)
        spans[event.time_zone] = (first, last)
    return dict(sorted(spans.items()))


@lru_cache(maxsize=64)
def _vtimezone(zone: str, first: date, last: date) -> Timezone:
    """The zone's offsets from ``first`` to ``last``, one observance per change in the tz database.

    Each observance's DTSTART is the local time just before the change, read in
    its TZOFFSETFROM (RFC 5545, 3.6.5). Written here rather than by
    ``Timezone.from_tzinfo``, which in icalendar 7.3 puts the spring changes an
    hour late.
    """
    tzinfo = ZoneInfo(zone)
    start = datetime.combine(first, time(0, 0), tzinfo).astimezone(UTC)
    stop = datetime.combine(last, time(0, 0), tzinfo).astimezone(UTC)
    vtimezone = Timezone()
    vtimezone.add("tzid", zone)
    offset = _state(start, tzinfo)[0]
    vtimezone.add_component(_observance(start, tzinfo, offset))
    for change in _changes(start, stop, tzinfo):
        vtimezone.add_component(_observance(change, tzinfo, offset))
        offset = _state(change, tzinfo)[0]
    return vtimezone


_STEP = timedelta(hours=6)


def _state(instant: datetime, zone: ZoneInfo) -> tuple[timedelta, timedelta, str]:
    local = instant.astimezone(zone)
    return local.utcoffset() or timedelta(0), local.dst() or timedelta(0), local.tzname() or ""


def _changes(start: datetime, stop: datetime, zone: ZoneInfo) -> list[datetime]:
    """The first instant (to the second) of each new offset, name or DST flag in ``zone``."""
    changes = []
    here, state = start, _state(start, zone)
    while here < stop:
        there = min(here + _STEP, stop)
        if _state(there, zone) != state:
            low, high = here, there  # the state changes in (low, high]
            while high - low > timedelta(seconds=1):
                middle = low + (high - low) / 2
                if _state(middle, zone) == state:
                    low = middle
                else:
                    high = middle
            high = high.replace(microsecond=0)
            changes.append(high)
            state = _state(high, zone)
        here = there
    return changes


def _observance(instant: datetime, zone: ZoneInfo, before: timedelta) -> Component:
    """A STANDARD or DAYLIGHT observance starting at ``instant`` (UTC)."""
    after, dst, name = _state(instant, zone)
    observance = TimezoneDaylight() if dst else TimezoneStandard()
    observance.add("dtstart", (instant + before).replace(tzinfo=None))
    observance.add("tzoffsetfrom", before)
    observance.add("tzoffsetto", after)
    if name:
        observance.add("tzname", name)
    return observance


def _local(instant: datetime, zone: ZoneInfo) -> datetime:
    return instant.astimezone(zone)


def written_in_utc(event: Event) -> bool:
    """True when a local time would be read as the wrong instant.

    Only for an instant in the repeated hour after a daylight-saving change, given
    as the second one (with its UTC offset): a TZID time there means the first.
    """
    return any(
        _local(instant, event.zone).fold == 1 for instant in (event.starts_at(), event.ends_at())
    )


def _vevent(brief: Brief, event: Event) -> VEvent:
    vevent = VEvent()
    vevent.add("uid", uid(brief, event))
    vevent.add("sequence", sequence(brief))
    vevent.add("last-modified", revised_at(brief))
    vevent.add("dtstamp", revised_at(brief))
    vevent.add("summary", event.name)
    vevent.add("location", event.place)
    if isinstance(event.start, datetime) or isinstance(event.end, datetime):
        if written_in_utc(event):
            start, end = event.starts_at(), event.ends_at()
        else:
            start, end = _local(event.starts_at(), event.zone), _local(event.ends_at(), event.zone)
        vevent.add("dtstart", start)
        vevent.add("dtend", end)
    else:
        vevent.add("dtstart", event.start)
        vevent.add("dtend", event.end + timedelta(days=1))  # DTEND of a DATE is exclusive
    vevent.add("description", description(brief, event))
    if brief.source.url:
        vevent.add("url", brief.source.url)
    vevent.add("transp", "TRANSPARENT")  # a meeting in the news does not make anyone busy
    vevent.add("class", "PUBLIC")
    return vevent


def description(brief: Brief, event: Event) -> str:
    """Why the event matters, its notes, the article's words behind it and where they are."""
    parts = [f"Why it matters: {event.why}"]
    parts.extend(note.text for note in event.notes)
    quotes = [quote for fact in (event, *event.notes) for quote in fact.quotes]
    if quotes:
        quoted = "\n".join(f"“{quote}”" for quote in quotes)
        parts.append(f"From the article:\n{quoted}")
    refs = [ref for fact in (event, *event.notes) for ref in fact.external]
    if refs:
        parts.append(
            "Other sources:\n"
            + "\n".join(
                f"{ref.title}" + (f" <{ref.url}>" if ref.url else "") + f": {ref.reason}"
                for ref in refs
            )
        )
    source = f"Source: “{brief.source.headline}”, {brief.source.publisher}"
    if brief.source.url:
        source += f" <{brief.source.url}>"
    parts.append(f"{source}. Brief as of {day_words(brief.as_of)}.")
    return "\n\n".join(parts)
