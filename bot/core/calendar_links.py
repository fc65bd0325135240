"""Links that put one event into a member's calendar, and where the feed is served.

``google_link`` opens Google Calendar's "new event" page filled in with the
event (``calendar.google.com/calendar/render?action=TEMPLATE&text=…&dates=…``):
all-day events as dates with an exclusive end, timed ones as local times in the
event's zone (``ctz``), or in UTC for a time in a repeated hour, as the feed
writes them. The details hold why the event matters, the article's words behind
it and the article's address, cut so the whole link stays within ``limit``
characters. Only an event of the feed gets a link: a follow-up known to the
month or the year has no day, and briefbot never invents one.

``FeedAddress`` names the feed's public addresses; ``calendar_reply`` is the
answer to ``/calendar``.
"""

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from urllib.parse import quote, urlencode

from bot.core.answers import Status, moment, status
from bot.core.calendar import written_in_utc
from bot.core.library import Library
from bot.core.reply import Line, Reply, Section, line
from bot.core.schema import Brief, Event, FollowUp

GOOGLE = "https://calendar.google.com/calendar/render"
LINK_LIMIT = 2000
"""The longest link made by default: browsers, chat apps and Google's servers all take it."""
CUT = "\u2026"
FEED_PATH = "/calendar.ics"
SUBSCRIBE = (
    "Google Calendar: beside Other calendars, + \u2192 From URL, and paste the address.",
    "Apple Calendar: File \u2192 New Calendar Subscription\u2026, and paste the address.",
    "Outlook: Add calendar \u2192 Subscribe from web, and paste the address.",
)


def google_link(brief: Brief, item: Event | FollowUp, limit: int = LINK_LIMIT) -> str | None:
    """Google Calendar's "new event" link for ``item``, at most ``limit`` characters.

    ``None`` for a follow-up: the feed holds only the briefs' events, and a follow-up
    known only to the month has no day to put in a calendar.
    """
    if not isinstance(item, Event):
        return None
    fields = {"text": item.name, "details": details(brief, item), "location": item.place}
    fixed = {"action": "TEMPLATE", **_dates(item)}
    # Cut the longest-lived text last: the details first, then the place, then the name.
    for name in ("details", "location", "text"):
        link = _link(fixed, fields)
        if len(link) <= limit:
            return link
        fields[name] = _longest_fitting(fixed, fields, name, limit)
    link = _link(fixed, fields)
    if len(link) > limit:
        raise ValueError(f"a Google Calendar link needs more than {limit} characters")
    return link


def _dates(event: Event) -> dict[str, str]:
    if event.all_day:
        end = event.last_day() + timedelta(days=1)  # the end is exclusive
        return {"dates": f"{event.first_day():%Y%m%d}/{end:%Y%m%d}"}
    if written_in_utc(event):
        start, end = event.starts_at().astimezone(UTC), event.ends_at().astimezone(UTC)
        return {"dates": f"{start:%Y%m%dT%H%M%SZ}/{end:%Y%m%dT%H%M%SZ}"}
    start, end = event.starts_at().astimezone(event.zone), event.ends_at().astimezone(event.zone)
    return {"dates": f"{start:%Y%m%dT%H%M%S}/{end:%Y%m%dT%H%M%S}", "ctz": event.time_zone}


def details(brief: Brief, event: Event) -> str:
    """Why the event matters, the article's words behind it, and the article."""
    parts = [f"Why it matters: {event.why}"]
    parts.extend(f"\u201c{words}\u201d" for words in event.quotes)
    source = f"Source: \u201c{brief.source.headline}\u201d, {brief.source.publisher}"
    if brief.source.url:
        source += f" {brief.source.url}"
    parts.append(source)
    return "\n\n".join(parts)


_ORDER = ("action", "text", "dates", "ctz", "details", "location")


def _link(fixed: dict[str, str], fields: dict[str, str]) -> str:
    given = {**fixed, **{name: value for name, value in fields.items() if value}}
    params = [(name, given[name]) for name in _ORDER if name in given]
    return f"{GOOGLE}?{urlencode(params, quote_via=quote, safe='/')}"


def _longest_fitting(fixed: dict[str, str], fields: dict[str, str], name: str, limit: int) -> str:
    """``fields[name]`` cut (with an ellipsis) to the longest prefix whose link fits."""
    text = fields[name]
    low, high = 0, len(text)  # the link fits with ``low`` characters kept, not with ``high``
    while high - low > 1:
        middle = (low + high) // 2
        if len(_link(fixed, {**fields, name: _cut(text, middle)})) <= limit:
            low = middle
        else:
            high = middle
    return _cut(text, low)


def _cut(text: str, keep: int) -> str:
    return text[:keep].rstrip() + CUT if keep else ""


@dataclass(frozen=True)
class FeedAddress:
    """Where members reach the served feed: a base address such as ``https://cal.example.org``."""

    base: str

    @classmethod
    def of(cls, public_url: str | None, port: int | None) -> "FeedAddress | None":
        """The feed's address from the settings, or ``None`` when no feed is served."""
        if port is None:
            return None
        return cls((public_url or f"http://localhost:{port}").rstrip("/"))

    @property
    def feed(self) -> str:
        """Every event ahead."""
        return f"{self.base}{FEED_PATH}"

    def brief(self, brief_id: str) -> str:
        """One brief's events."""
        return f"{self.base}/briefs/{brief_id}.ics"

    def event(self, brief_id: str, event_id: str) -> str:
        """One event, to open in a calendar app."""
        return f"{self.base}/briefs/{brief_id}/{event_id}.ics"


def events_ahead(
    library: Library, brief_id: str | None, now: datetime
) -> list[tuple[Brief, Event]]:
    """The events ``/next-meeting`` shows as ahead (upcoming or under way), soonest first."""
    pairs = library.events(brief_id)
    ahead = [(brief, event) for brief, event in pairs if status(event, now) is not Status.PAST]
    return sorted(ahead, key=lambda pair: (pair[1].starts_at(), pair[1].id))


def calendar_reply(library: Library, address: FeedAddress | None, now: datetime) -> Reply:
    """The answer to ``/calendar``: the feed's address and how to subscribe, or why none."""
    ahead = events_ahead(library, None, now)
    listed: tuple[Line, ...] = tuple(
        line(f"{event.name}, {event.place} \u00b7 ", moment(event)) for _, event in ahead
    ) or (line("No meeting in the briefs is still ahead."),)
    summary: tuple[Line, ...]
    if address is None:
        summary = (
            line(
                "The operator has not turned on the calendar feed here. Each meeting can still "
                "be added one at a time, from the calendar links under /next-meeting."
            ),
        )
        sections = [
            Section("In the feed, when it is served", listed),
            Section(
                "For the operator",
                (
                    line(
                        "Set CALENDAR_HTTP_PORT (and CALENDAR_PUBLIC_URL, the address members "
                        "reach) to serve the feed, or write the .ics file with: briefbot "
                        "calendar --out briefbot.ics"
                    ),
                ),
            ),
        ]
        return Reply("calendar", "No calendar feed here", summary, tuple(sections))
    summary = (
        line(f"Subscribe to {address.feed}"),
        line(
            "Your calendar then follows the briefs: new and changed meetings arrive on their own."
        ),
    )
    sections = [
        Section("How to subscribe", tuple(line(step) for step in SUBSCRIBE)),
        Section("In the feed now", listed),
    ]
    if len(library.briefs) > 1:
        feeds = tuple(line(f"{brief.title}: {address.brief(brief.id)}") for brief in library.briefs)
        sections.append(Section("One brief only", feeds))
    return Reply(
        "calendar", "Calendar feed", summary, tuple(sections), options=(("feed", address.feed),)
    )
