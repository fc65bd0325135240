"""The brief file format (schema version 1), validated with pydantic.

A brief is one TOML file. Every fact in it carries its evidence: ``quotes``
that appear word for word in the article the brief is built from, or
``external`` references that say where else the fact comes from and why.
See docs/briefs.md for the format, field by field.
"""

from datetime import UTC, date, datetime
from functools import lru_cache
from typing import Annotated, Any, Literal, Self
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    StringConstraints,
    model_validator,
)

from bot.core.dates import PartialDate, check_range, exists_locally, local_midnight

SCHEMA_VERSION = 1
MAX_TEXT = 10_000
"""The longest text field, in characters."""
MAX_ITEMS = 1_000
"""The most items any list in a brief may hold (quotes, events, areas...)."""

Text = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=MAX_TEXT)]
Url = Annotated[str, StringConstraints(pattern=r"^https?://\S+$", max_length=MAX_TEXT)]
Slug = Annotated[
    str,
    StringConstraints(pattern=r"^[a-z0-9]+(?:-[a-z0-9]+)*$", max_length=64),
]


def _check_zone(name: str) -> str:
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError, OSError):  # OSError: "Europe" is a directory
        raise ValueError(
            f"unknown time zone {name!r}: use an IANA name such as Europe/Berlin"
        ) from None
    return name


def _in_range(value: Any) -> Any:
    check_range(value)
    return value


def _read_partial_date(value: object) -> object:
    if isinstance(value, datetime):
        raise ValueError("give a date (YYYY, YYYY-MM or YYYY-MM-DD), not a date and time")
    if isinstance(value, date):
        return PartialDate(value.year, value.month, value.day)
    if isinstance(value, str):
        return PartialDate.parse(value)
    return value


TimeZoneName = Annotated[
    str, StringConstraints(strip_whitespace=True, max_length=64), AfterValidator(_check_zone)
]
PartialDateField = Annotated[
    PartialDate, BeforeValidator(_read_partial_date), AfterValidator(_in_range)
]
BriefDate = Annotated[date, AfterValidator(_in_range)]
BriefTime = Annotated[date | datetime, AfterValidator(_in_range)]


class Model(BaseModel):
    """Base for every part of a brief: unknown keys are errors, values are immutable."""

    model_config = ConfigDict(extra="forbid", frozen=True, arbitrary_types_allowed=True)


class External(Model):
    """Evidence from outside the article: what it is, where, and why it is needed."""

    title: Text
    url: Url | None = None
    reason: Text


class Evidenced(Model):
    """A fact with its evidence; at least one quote or external reference is required."""

    quotes: list[Text] = Field(default_factory=list, max_length=MAX_ITEMS)
    external: list[External] = Field(default_factory=list, max_length=MAX_ITEMS)

    @model_validator(mode="after")
    def _has_evidence(self) -> Self:
        if not self.quotes and not self.external:
            raise ValueError("this fact cites no evidence: add quotes or an external reference")
        return self


class Fact(Evidenced):
    """A statement in the brief's own words."""

    text: Text


class TextFact(Evidenced):
    """A single named value (a place, a characterisation)."""

    value: Text


class DateFact(Evidenced):
    """A calendar date."""

    value: BriefDate

    @model_validator(mode="before")
    @classmethod
    def _date_only(cls, data: object) -> object:
        if isinstance(data, dict) and isinstance(data.get("value"), datetime):
            raise ValueError("value: give a date (YYYY-MM-DD), not a date and time")
        return data


class CountFact(Evidenced):
    """A count."""

    value: Annotated[int, Field(ge=0)]


class Leader(Evidenced):
    """A leader taking part."""

    name: Text
    role: Text


class ContextItem(Evidenced):
    """Background the article gives, under a short topic."""

    topic: Text
    text: Text


class Summit(Model):
    """The meeting the article reports."""

    name: Text
    time_zone: TimeZoneName
    date: DateFact
    place: TextFact
    leaders: Annotated[list[Leader], Field(min_length=1, max_length=MAX_ITEMS)]
    series: TextFact
    summary: Fact
    characterisation: list[Fact] = Field(default_factory=list, max_length=MAX_ITEMS)
    outcomes: Annotated[list[Fact], Field(min_length=1, max_length=MAX_ITEMS)]
    context: list[ContextItem] = Field(default_factory=list, max_length=MAX_ITEMS)


class Area(Evidenced):
    """An area the memorandums cover."""

    id: Slug
    name: Text


class FollowUp(Evidenced):
    """A pledged follow-up, dated at the precision the article gives."""

    id: Slug
    text: Text
    when: PartialDateField
    qualifier: Text | None = None

    def when_words(self) -> str:
        """``as early as May 2017`` or ``June 2017``."""
        words = self.when.words()
        return f"{self.qualifier} {words}" if self.qualifier else f"in {words}"


class Memorandums(Model):
    """The memorandums of understanding signed at the summit."""

    count: CountFact
    areas: Annotated[list[Area], Field(min_length=1, max_length=MAX_ITEMS)]
    note: Fact | None = None
    follow_ups: list[FollowUp] = Field(default_factory=list, max_length=MAX_ITEMS)


class Event(Evidenced):
    """An upcoming meeting the article names."""

    id: Slug
    name: Text
    place: Text
    time_zone: TimeZoneName
    all_day: bool
    start: BriefTime
    end: BriefTime
    why: Text
    notes: list[Fact] = Field(default_factory=list, max_length=MAX_ITEMS)

    @model_validator(mode="after")
    def _consistent_times(self) -> Self:
        zone = ZoneInfo(self.time_zone)
        for name in ("start", "end"):
            value = getattr(self, name)
            if self.all_day and isinstance(value, datetime):
                raise ValueError(f"{name}: an all-day event takes a date (YYYY-MM-DD), not a time")
            if not self.all_day and not isinstance(value, datetime):
                raise ValueError(
                    f"{name}: a timed event takes a local date and time (YYYY-MM-DDTHH:MM:SS)"
                )
            if (
                isinstance(value, datetime)
                and value.tzinfo is None
                and not exists_locally(value, zone)
            ):
                raise ValueError(
                    f"{name}: {value:%Y-%m-%d %H:%M} does not exist in {self.time_zone} "
                    "(the clocks skip it at a daylight-saving change)"
                )
        ends_early = self.end < self.start if self.all_day else self.ends_at() < self.starts_at()
        if ends_early:
            raise ValueError(f"end ({self.end}) is before start ({self.start})")
        return self

    @property
    def zone(self) -> ZoneInfo:
        """The event's time zone."""
        return ZoneInfo(self.time_zone)

    def starts_at(self) -> datetime:
        """The first instant of the event, in UTC."""
        return event_instant(self.start, self.time_zone, end=False)

    def ends_at(self) -> datetime:
        """The instant the event is over, in UTC (all-day: midnight after its last day there)."""
        return event_instant(self.end, self.time_zone, end=True)

    def first_day(self) -> date:
        """The event's first calendar day in its own time zone."""
        return self.starts_at().astimezone(self.zone).date()

    def last_day(self) -> date:
        """The event's last calendar day in its own time zone."""
        if isinstance(self.end, datetime):
            return self.ends_at().astimezone(self.zone).date()
        return self.end


@lru_cache(maxsize=4096)
def event_instant(value: date | datetime, time_zone: str, *, end: bool) -> datetime:
    """A start or end in UTC, so arithmetic on it counts real time, not wall-clock time.

    Cached by value: every answer asks for the same few instants.
    """
    zone = ZoneInfo(time_zone)
    if isinstance(value, datetime):
        local = value if value.tzinfo is not None else value.replace(tzinfo=zone)
        return local.astimezone(UTC)
    day = date.fromordinal(value.toordinal() + 1) if end else value
    return local_midnight(day, zone).astimezone(UTC)


class Source(Model):
    """Where the brief comes from."""

    seed: Text = Field(description="the article's text file, relative to this brief")
    publisher: Text
    headline: Text
    url: Url | None = None


class Brief(Model):
    """One brief: the summit, its memorandums and the meetings that follow."""

    schema_version: Literal[1]
    id: Slug
    title: Text
    as_of: BriefDate
    source: Source
    summit: Summit
    mous: Memorandums
    events: list[Event] = Field(default_factory=list, max_length=MAX_ITEMS)
