"""What a guild's scheduled event for each of the briefs' events says: pure functions.

A copy carries the event's name, place, start and end (all-day events from 00:00 on their
first day to 24:00 on their last, in the event's zone) and the calendar feed's description
ending in a marker line, ``briefbot event <uid>``, by which the bot finds its copy again.
Discord's lengths apply: name and location 100 characters, description 1,000.
"""

import hashlib
import json
from dataclasses import dataclass
from datetime import UTC, datetime

import discord

from bot.core.answers import Status, status
from bot.core.calendar import description, sequence, uid
from bot.core.library import Library
from bot.core.schema import Brief, Event

NAME_LENGTH, DESCRIPTION_LENGTH, LOCATION_LENGTH = 100, 1000, 100
MARKER = "briefbot event "


@dataclass(frozen=True)
class Copy:
    """What a guild's scheduled event for one brief event should say."""

    key: str
    name: str
    description: str
    location: str
    start: datetime
    end: datetime
    sequence: int

    @property
    def fingerprint(self) -> str:
        """A hash of everything pushed to Discord."""
        return fingerprint(self.name, self.description, self.location, self.start, self.end)


def fingerprint(name: str, text: str, location: str, start: datetime, end: datetime) -> str:
    """A hash of a scheduled event's name, description, place and times (UTC)."""
    fields = [name, text, location, start.astimezone(UTC).isoformat()]
    fields.append(end.astimezone(UTC).isoformat())
    return hashlib.sha256(json.dumps(fields).encode()).hexdigest()[:32]


def remote_fingerprint(event: discord.ScheduledEvent) -> str | None:
    """The fingerprint of a scheduled event as the guild holds it (None: not an external one)."""
    if event.end_time is None or event.location is None:
        return None
    return fingerprint(
        event.name, event.description or "", event.location, event.start_time, event.end_time
    )


def marker(key: str) -> str:
    """The last line of a copy's description, by which a copy is found again."""
    return f"{MARKER}{key}"


def _fit(text: str, longest: int) -> str:
    """``text`` cut to ``longest`` characters, with an ellipsis when cut."""
    return text if len(text) <= longest else text[: longest - 1].rstrip() + "…"


def _description(brief: Brief, event: Event, key: str) -> str:
    """The calendar's description with the marker; shortened to why and source if too long."""
    tail = f"\n\n{marker(key)}"
    full = description(brief, event)
    if len(full) + len(tail) <= DESCRIPTION_LENGTH:
        return full + tail
    source = f"Source: “{brief.source.headline}”, {brief.source.publisher}"
    if brief.source.url:
        source += f" <{brief.source.url}>"
    source = "\n\n" + _fit(source, DESCRIPTION_LENGTH // 2)
    room = DESCRIPTION_LENGTH - len(tail) - len(source)
    return _fit(f"Why it matters: {event.why}", room) + source + tail


def copy_of(brief: Brief, event: Event) -> Copy:
    """The scheduled event for ``event``: all-day ones from 00:00 to 24:00 in their zone."""
    key = uid(brief, event)
    return Copy(
        key=key,
        name=_fit(event.name, NAME_LENGTH),
        description=_description(brief, event, key),
        location=_fit(event.place, LOCATION_LENGTH),
        start=event.starts_at(),
        end=event.ends_at(),
        sequence=sequence(brief),
    )


def wanted(library: Library, now: datetime) -> tuple[list[Copy], set[str]]:
    """The copies of the events that have not begun, soonest first, and every event's key.

    An event whose end is not after its start cannot be an EXTERNAL event and is left out.
    """
    copies = [
        copy_of(brief, event)
        for brief in library.briefs
        for event in brief.events
        if status(event, now) is Status.UPCOMING and event.ends_at() > event.starts_at()
    ]
    copies.sort(key=lambda copy: (copy.start, copy.key))
    keys = {uid(brief, event) for brief in library.briefs for event in brief.events}
    return copies, keys
