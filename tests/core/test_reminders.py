"""Reminder planning: right instants in every zone, across DST, from the briefs alone."""

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from hypothesis import assume, example, given, settings
from hypothesis import strategies as st

from bot.core.dates import exists_locally
from bot.core.library import Library
from bot.core.plaintext import render
from bot.core.reminders import (
    at_local,
    due_time,
    parse_duration,
    parse_offsets,
    plan,
    reminder_reply,
)
from bot.core.schema import Event

ZONES = [
    "Europe/Berlin",
    "America/New_York",
    "America/Santiago",
    "Australia/Lord_Howe",
    "Asia/Vladivostok",
    "Pacific/Chatham",
    "America/Havana",
    "Asia/Kolkata",
    "UTC",
]
OFFSETS = parse_offsets("7d,1d,1h")


def event(zone: str, start: date | datetime, end: date | datetime, *, all_day: bool) -> Event:
    return Event(
        id="test-event",
        name="Test meeting",
        place="Somewhere, Earth",
        time_zone=zone,
        all_day=all_day,
        start=start,
        end=end,
        why="Testing.",
        quotes=["x"],
    )


def test_the_shipped_plan(library: Library) -> None:
    reminders = plan(library, OFFSETS, time(9, 0))
    assert [r.id for r in reminders] == [
        "g20-hamburg-2017:7d",
        "g20-hamburg-2017:1d",
        "g20-hamburg-2017:1h",
        "eastern-economic-forum-2017:7d",
        "eastern-economic-forum-2017:1d",
        "eastern-economic-forum-2017:1h",
    ]
    berlin = [r.due_at.astimezone(ZoneInfo("Europe/Berlin")) for r in reminders[:3]]
    assert [d.strftime("%Y-%m-%d %H:%M %Z") for d in berlin] == [
        "2017-06-30 09:00 CEST",
        "2017-07-06 09:00 CEST",
        "2017-07-07 09:00 CEST",
    ]
    vladivostok = reminders[5].due_at.astimezone(ZoneInfo("Asia/Vladivostok"))
    assert vladivostok.strftime("%Y-%m-%d %H:%M") == "2017-09-06 09:00"


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("7d", timedelta(days=7)),
        ("1h", timedelta(hours=1)),
        ("1d12h", timedelta(hours=36)),
        ("2w", timedelta(days=14)),
        ("90m", timedelta(minutes=90)),
    ],
)
def test_durations(text: str, expected: timedelta) -> None:
    assert parse_duration(text) == expected


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("", "at least one offset"),
        ("7", "not a duration"),
        ("1d,24h", "are the same"),
        ("0h", "longer than zero"),
        ("7d;1d", "not a duration"),
    ],
)
def test_bad_offsets(text: str, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        parse_offsets(text)


@settings(max_examples=300, deadline=None)
@given(
    zone=st.sampled_from(ZONES),
    first=st.dates(min_value=date(2000, 1, 1), max_value=date(2035, 12, 31)),
    days=st.integers(min_value=0, max_value=3),
    hour=st.times(),
)
# A skipped wall time with fold=1 once moved backwards, before the gap.
@example(zone="Europe/Berlin", first=date(2000, 3, 26), days=0, hour=time(2, 0, fold=1))
def test_all_day_reminders_fall_on_the_local_morning(
    zone: str, first: date, days: int, hour: time
) -> None:
    """Whole days before, at the local hour (moved forward only when DST skips it)."""
    tz = ZoneInfo(zone)
    meeting = event(zone, first, first + timedelta(days=days), all_day=True)
    for offset in OFFSETS:
        due = due_time(meeting, offset, hour).astimezone(tz)
        expected_day = first - timedelta(days=offset.delta.days)
        wall = datetime.combine(expected_day, hour)
        assert due.date() == expected_day or (due.replace(tzinfo=None) - wall) <= timedelta(hours=1)
        assert due.replace(tzinfo=None) >= wall, "never earlier than asked"
        assert due.replace(tzinfo=None) - wall <= timedelta(hours=1), "at most a DST gap later"
        if due.replace(tzinfo=None) != wall:
            round_trip = wall.replace(tzinfo=tz).astimezone(UTC).astimezone(tz)
            assert round_trip.replace(tzinfo=None) != wall, "only moved when the time is skipped"


@settings(max_examples=300, deadline=None)
@given(
    zone=st.sampled_from(ZONES),
    start=st.datetimes(min_value=datetime(2000, 1, 1), max_value=datetime(2035, 12, 31)),  # noqa: DTZ001
    length=st.integers(min_value=1, max_value=600),
)
def test_timed_reminders_are_exact_in_real_time(zone: str, start: datetime, length: int) -> None:
    """Across DST changes, 1h before means 3600 real seconds before."""
    tz = ZoneInfo(zone)
    local = start.replace(second=0, microsecond=0)
    end = local + timedelta(minutes=length)
    assume(exists_locally(local, tz) and exists_locally(end, tz))  # the checker refuses others
    meeting = event(zone, local, end, all_day=False)
    for offset in OFFSETS:
        due = due_time(meeting, offset, time(9))
        assert meeting.starts_at().timestamp() - due.timestamp() == offset.delta.total_seconds()


def test_dst_gap_moves_the_morning_forward() -> None:
    # Havana skips 00:00-01:00 on 12 March 2017: a reminder at 00:30 goes out at 01:30.
    due = at_local(date(2017, 3, 12), time(0, 30), ZoneInfo("America/Havana"))
    assert due.astimezone(ZoneInfo("America/Havana")).strftime("%H:%M") == "01:30"


def test_moved_and_removed_events_change_the_plan(library: Library) -> None:
    g20 = library.newest.events[0]
    moved = g20.model_copy(update={"start": date(2017, 7, 14), "end": date(2017, 7, 15)})
    brief = library.newest.model_copy(update={"events": [moved]})
    changed = Library.of([brief])
    reminders = plan(changed, OFFSETS, time(9))
    assert [r.id for r in reminders] == [
        "g20-hamburg-2017:7d",
        "g20-hamburg-2017:1d",
        "g20-hamburg-2017:1h",
    ]
    assert reminders[0].due_at == datetime(2017, 7, 7, 7, 0, tzinfo=UTC)


def test_reminder_text(library: Library) -> None:
    reminders = plan(library, OFFSETS, time(9))
    first = reminders[0]
    text = render(reminder_reply(first, library.newest, first.due_at, late=False))
    assert text.startswith("Reminder: G20 leaders’ summit in 7 days")
    assert "Hamburg: 7–8 July 2017 · in 7 days" in text
    assert "Abe and Putin’s next chance to touch base" in text
    assert "/next-meeting" in text
    assert "briefbot:" not in text, "no reader sees the delivery's internal id"
    late = render(
        reminder_reply(first, library.newest, first.due_at + timedelta(hours=3), late=True)
    )
    assert late.startswith("Late reminder:")
    assert "This reminder was due 3 hours earlier (30 June 2017)" in late
    today = reminders[2]
    assert render(reminder_reply(today, library.newest, today.due_at, late=False)).startswith(
        "Reminder: G20 leaders’ summit begins today"
    )
