"""Dates at the edges of the range a brief may give: the bot loads, answers and plans."""

from collections.abc import Callable
from datetime import UTC, datetime, time
from pathlib import Path

import pytest

from bot.core.answers import answer
from bot.core.commands import parse
from bot.core.dates import EARLIEST, LATEST
from bot.core.library import Library
from bot.core.loading import check_briefs, load_library
from bot.core.plaintext import render
from bot.core.reminders import parse_offsets, plan, reminder_reply

G20 = (
    'time_zone = "Europe/Berlin"\nall_day = true\nstart = 2017-07-07\nend = 2017-07-08',
    # Honolulu is west of UTC: the midnight after the last day is 3000-01-01 in UTC.
    'time_zone = "Pacific/Honolulu"\nall_day = true\nstart = 1900-01-01\nend = 2999-12-31',
)
EEF = (
    'time_zone = "Asia/Vladivostok"\nall_day = true\nstart = 2017-09-06\nend = 2017-09-07',
    # Tokyo is east of UTC: its first minute of 1900 is still 1899 in UTC.
    'time_zone = "Asia/Tokyo"\nall_day = false\n'
    "start = 1900-01-01T00:00:00\nend = 2999-12-31T23:59:59",
)
EDGES = (
    G20,
    EEF,
    ("as_of = 2017-04-28", "as_of = 2999-12-31"),
    ("value = 2017-04-27", "value = 1900-01-01"),
    ('when = "2017-05"', 'when = "1900"'),
    ('when = "2017-06"', 'when = "2999-12"'),
)
NOWS = [
    datetime(1899, 12, 1, tzinfo=UTC),
    datetime(1900, 1, 1, 12, tzinfo=UTC),
    datetime(2026, 12, 1, tzinfo=UTC),
    datetime(2999, 12, 31, 23, tzinfo=UTC),
    datetime(3000, 1, 2, tzinfo=UTC),
]


@pytest.fixture
def edges(brief_copy: Callable[..., Path]) -> Library:
    """A brief whose every date lies on the first or last day of the allowed range."""
    briefs = brief_copy(*EDGES)
    return load_library(briefs)


def test_the_range_is_documented_in_the_code() -> None:
    assert (EARLIEST.isoformat(), LATEST.isoformat()) == ("1900-01-01", "2999-12-31")


def test_a_brief_at_the_edges_passes_check(brief_copy: Callable[..., Path]) -> None:
    _, problems = check_briefs(brief_copy(*EDGES))
    assert problems == []


@pytest.mark.parametrize("now", NOWS)
def test_answers_at_the_edges(edges: Library, now: datetime) -> None:
    for typed in ("/summit", "/mous", "/next-meeting", "/mous area:energy"):
        assert render(answer(edges, parse(typed), now))
    honolulu, tokyo = edges.newest.events
    assert honolulu.ends_at() == datetime(3000, 1, 1, 10, tzinfo=UTC)
    assert tokyo.starts_at() == datetime(1899, 12, 31, 15, tzinfo=UTC)


@pytest.mark.parametrize("offsets", ["7d,1d,1h", "365d,1s"])
def test_reminders_at_the_edges(edges: Library, offsets: str) -> None:
    reminders = plan(edges, parse_offsets(offsets), time(23, 59))
    assert reminders
    assert reminders[0].due_at.year == (1898 if offsets.startswith("365") else 1899)
    for reminder in reminders:
        for now in NOWS:
            late = now > reminder.due_at
            assert render(reminder_reply(reminder, edges.newest, now, late=late))
