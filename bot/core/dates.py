"""Dates at the precision a source gives them, and how to say them in words."""

import enum
import re
import reprlib
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

MONTHS = (
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
)


EARLIEST = date(1900, 1, 1)
"""The earliest date a brief may give."""
LATEST = date(2999, 12, 31)
"""The latest date a brief may give.

Between the two, everything the bot computes stays far inside what ``datetime``
can hold: an instant in UTC, the midnight after an all-day event's last day,
a reminder up to a year before an event.
"""


class Precision(enum.StrEnum):
    """How precisely a date is known."""

    YEAR = "year"
    MONTH = "month"
    DAY = "day"
    MINUTE = "minute"


_PARTIAL = re.compile(r"^(\d{4})(?:-(\d{2})(?:-(\d{2}))?)?$")


@dataclass(frozen=True)
class PartialDate:
    """A calendar date known to the year, the month or the day."""

    year: int
    month: int | None = None
    day: int | None = None

    @classmethod
    def parse(cls, text: str) -> "PartialDate":
        """Read ``YYYY``, ``YYYY-MM`` or ``YYYY-MM-DD``; raise ``ValueError`` otherwise."""
        match = _PARTIAL.match(text.strip())
        if not match:
            shown = reprlib.repr(text)  # a few characters of a long text
            raise ValueError(f"{shown} is not a date of the form YYYY, YYYY-MM or YYYY-MM-DD")
        year, month, day = (int(part) if part else None for part in match.groups())
        assert year is not None
        try:
            date(year, month or 1, day or 1)
        except ValueError as error:
            raise ValueError(f"{text!r} is not a real date: {error}") from None
        return cls(year, month, day)

    @property
    def precision(self) -> Precision:
        """The finest unit this date names."""
        if self.day is not None:
            return Precision.DAY
        if self.month is not None:
            return Precision.MONTH
        return Precision.YEAR

    def first_day(self) -> date:
        """The earliest calendar day this date could mean."""
        return date(self.year, self.month or 1, self.day or 1)

    def words(self) -> str:
        """``May 2017``, ``7 May 2017`` or ``2017``."""
        if self.month is None:
            return str(self.year)
        if self.day is None:
            return f"{MONTHS[self.month - 1]} {self.year}"
        return f"{self.day} {MONTHS[self.month - 1]} {self.year}"

    def __str__(self) -> str:
        parts = [f"{self.year:04d}"]
        if self.month is not None:
            parts.append(f"{self.month:02d}")
        if self.day is not None:
            parts.append(f"{self.day:02d}")
        return "-".join(parts)


def check_range(value: "date | PartialDate") -> None:
    """Raise ``ValueError`` for a date, date and time or partial date outside the brief range."""
    if isinstance(value, PartialDate):
        day, shown = value.first_day(), str(value)
    else:
        day = value.date() if isinstance(value, datetime) else value
        shown = value.isoformat()
    if not EARLIEST <= day <= LATEST:
        raise ValueError(
            f"{shown} is outside the dates a brief may give "
            f"({EARLIEST.isoformat()} to {LATEST.isoformat()})"
        )


def day_words(day: date) -> str:
    """``7 July 2017``."""
    return f"{day.day} {MONTHS[day.month - 1]} {day.year}"


def day_range_words(first: date, last: date) -> str:
    """``7–8 July 2017``, ``30 June – 1 July 2017`` or ``31 December 2017 – 1 January 2018``."""
    if first == last:
        return day_words(first)
    if first.year != last.year:
        return f"{day_words(first)} \u2013 {day_words(last)}"
    if first.month != last.month:
        return f"{first.day} {MONTHS[first.month - 1]} \u2013 {day_words(last)}"
    return f"{first.day}\u2013{last.day} {MONTHS[first.month - 1]} {first.year}"


def local_midnight(day: date, zone: ZoneInfo) -> datetime:
    """The first instant of ``day`` in ``zone`` (midnight, or the first valid time on a DST day)."""
    naive = datetime.combine(day, time(0, 0))
    aware = naive.replace(tzinfo=zone)
    if not exists_locally(naive, zone):
        # A zone that skips midnight (some do at DST) starts the day an hour later.
        aware = (naive + timedelta(hours=1)).replace(tzinfo=zone)
    return aware


def exists_locally(naive: datetime, zone: ZoneInfo) -> bool:
    """False for a wall-clock time skipped by a DST change in ``zone``."""
    aware = naive.replace(tzinfo=zone)
    round_trip = aware.astimezone(ZoneInfo("UTC")).astimezone(zone).replace(tzinfo=None)
    return round_trip == naive


def _amount(size: float) -> str:
    """Round a span of ``size`` seconds to the unit a reader would use."""
    day = 86400.0
    if size >= 548 * day:
        count, unit = round(size / (365.25 * day)), "year"
    elif size >= 45 * day:
        count, unit = round(size / (30.44 * day)), "month"
    elif size >= day:
        count, unit = round(size / day), "day"
    elif size >= 3600:
        count, unit = round(size / 3600), "hour"
    else:
        count, unit = round(size / 60), "minute"
    return f"{count} {unit}{'' if count == 1 else 's'}"


def humanize_delta(target: datetime, now: datetime) -> str:
    """Say how far ``target`` is from ``now``: ``in 2 months``, ``3 days ago``, ``now``."""
    seconds = (target - now).total_seconds()
    if abs(seconds) < 60:
        return "now"
    words = _amount(abs(seconds))
    return f"in {words}" if seconds > 0 else f"{words} ago"


def humanize_days(first_day: date, today: date) -> str:
    """Say how far a calendar day is from today: ``tomorrow``, ``in 70 days``, ``today``."""
    days = (first_day - today).days
    if days == 0:
        return "today"
    if days == 1:
        return "tomorrow"
    if days == -1:
        return "yesterday"
    words = _amount(abs(days) * 86400.0)
    return f"in {words}" if days > 0 else f"{words} ago"
