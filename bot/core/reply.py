"""The neutral reply: what an answer says, before any platform formats it.

A reply is made of plain strings plus two kinds of live values, ``Moment`` (a
date or time span) and ``Countdown`` (how far away it is). Each carries its
plain-text words, computed by the core, and the aware datetimes a platform
needs to render it in the reader's own time zone instead. A ``ChannelRef``
names a chat channel, which its own platform shows as a link.
"""

import enum
from dataclasses import dataclass, field
from datetime import datetime

from bot.core.dates import Precision


@dataclass(frozen=True)
class Moment:
    """A date or a span of dates, at the precision the brief knows it."""

    start: datetime
    end: datetime | None
    precision: Precision
    time_zone: str
    words: str

    @property
    def is_timed(self) -> bool:
        """True when the hour is known, so a reader's own time zone can be used."""
        return self.precision is Precision.MINUTE


class Direction(enum.StrEnum):
    """What a countdown counts: to a start, since an end, or nothing (it is under way)."""

    UNTIL = "until"
    ONGOING = "ongoing"
    SINCE = "since"


@dataclass(frozen=True)
class Countdown:
    """How far ``target`` is from the answer's "now", e.g. ``in 2 months``, ``ended 3 days ago``.

    ``UNTIL``: ``target`` is the start ahead. ``SINCE``: ``target`` is the end
    behind, and the words begin with "ended". ``ONGOING``: the words say so.
    ``live`` is False for all-day events: their countdown counts calendar days in
    the event's zone, and a platform must not turn it into hours.
    """

    target: datetime
    words: str
    direction: Direction = Direction.UNTIL
    live: bool = True


@dataclass(frozen=True)
class ChannelRef:
    """A chat channel, linked where its own platform can show it (``<#id>``), else ``words``."""

    platform: str
    channel_id: str
    words: str


Segment = str | Moment | Countdown | ChannelRef
Line = tuple[Segment, ...]


@dataclass(frozen=True)
class Section:
    """A titled part of a reply: one line per point. ``inline`` ones may sit side by side."""

    title: str
    lines: tuple[Line, ...]
    inline: bool = False


@dataclass(frozen=True)
class ExternalRef:
    """Evidence from outside the article."""

    title: str
    url: str | None
    reason: str


@dataclass(frozen=True)
class Source:
    """The evidence behind one point of a reply."""

    point: str
    quotes: tuple[str, ...] = ()
    external: tuple[ExternalRef, ...] = ()


@dataclass(frozen=True)
class Reply:
    """One answer to one command."""

    command: str
    title: str
    summary: tuple[Line, ...]
    sections: tuple[Section, ...] = ()
    footer: str = ""
    sources: tuple[Source, ...] = ()
    brief_id: str | None = None
    options: tuple[tuple[str, str], ...] = field(default=())


def line(*segments: Segment) -> Line:
    """A line from its segments, dropping empty strings."""
    return tuple(segment for segment in segments if segment != "")


def plain(segments: Line) -> str:
    """A line's plain-text words."""
    return "".join(segment if isinstance(segment, str) else segment.words for segment in segments)
