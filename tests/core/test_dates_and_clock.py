"""Dates at their precision, the words for them, and the injectable clock."""

from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bot.core.clock import Clock
from bot.core.dates import (
    PartialDate,
    Precision,
    day_range_words,
    exists_locally,
    humanize_delta,
    local_midnight,
)

ZONES = [
    "Europe/Berlin",
    "America/New_York",
    "Australia/Lord_Howe",
    "America/Santiago",
    "Asia/Vladivostok",
    "Pacific/Chatham",
    "America/Havana",
]


@pytest.mark.parametrize(
    ("text", "precision", "words"),
    [
        ("2017", Precision.YEAR, "2017"),
        ("2017-05", Precision.MONTH, "May 2017"),
        ("2017-06-01", Precision.DAY, "1 June 2017"),
    ],
)
def test_partial_dates(text: str, precision: Precision, words: str) -> None:
    parsed = PartialDate.parse(text)
    assert parsed.precision is precision
    assert parsed.words() == words
    assert str(parsed) == text


@pytest.mark.parametrize("text", ["May 2017", "2017-5", "2017-02-30", "17-05", ""])
def test_partial_dates_refuse_nonsense(text: str) -> None:
    with pytest.raises(ValueError, match=repr(text)):
        PartialDate.parse(text)


def test_day_ranges() -> None:
    assert day_range_words(date(2017, 7, 7), date(2017, 7, 8)) == "7–8 July 2017"
    assert day_range_words(date(2017, 6, 30), date(2017, 7, 1)) == "30 June – 1 July 2017"
    assert day_range_words(date(2017, 12, 31), date(2018, 1, 1)) == (
        "31 December 2017 – 1 January 2018"
    )
    assert day_range_words(date(2017, 9, 7), date(2017, 9, 7)) == "7 September 2017"


def test_humanize() -> None:
    now = datetime(2017, 4, 28, tzinfo=UTC)
    assert humanize_delta(now + timedelta(days=70), now) == "in 2 months"
    assert humanize_delta(now - timedelta(days=3), now) == "3 days ago"
    assert humanize_delta(now + timedelta(hours=1), now) == "in 1 hour"
    assert humanize_delta(now + timedelta(seconds=30), now) == "now"
    assert humanize_delta(now + timedelta(days=800), now) == "in 2 years"


@given(
    day=st.dates(min_value=date(1990, 1, 1), max_value=date(2040, 12, 31)),
    zone=st.sampled_from(ZONES),
)
def test_local_midnight_is_the_first_instant_of_that_day(day: date, zone: str) -> None:
    """Across DST changes and odd offsets, the day starts on that calendar day, once."""
    tz = ZoneInfo(zone)
    start = local_midnight(day, tz)
    assert start.astimezone(tz).date() == day
    # A minute earlier in real time (aware arithmetic in one zone would be wall-clock time,
    # and can land in a gap that never existed).
    assert (start.astimezone(UTC) - timedelta(minutes=1)).astimezone(tz).date() < day
    assert exists_locally(start.replace(tzinfo=None), tz)


def test_skipped_wall_clock_times() -> None:
    berlin = ZoneInfo("Europe/Berlin")
    assert not exists_locally(datetime(2017, 3, 26, 2, 30), berlin)  # noqa: DTZ001
    assert exists_locally(datetime(2017, 10, 29, 2, 30), berlin)  # noqa: DTZ001 (ambiguous, real)
    # Havana skips midnight at its spring change: the day starts at 01:00.
    havana = ZoneInfo("America/Havana")
    assert local_midnight(date(2017, 3, 12), havana).hour == 1


class FakeTime:
    """A monotonic clock and a wall clock that a test moves by hand."""

    def __init__(self) -> None:
        self.seconds = 1000.0
        self.wall = datetime(2026, 1, 1, tzinfo=UTC)

    def monotonic(self) -> float:
        return self.seconds

    def now(self) -> datetime:
        return self.wall + timedelta(seconds=self.seconds - 1000.0)


def test_real_clock_follows_the_wall() -> None:
    fake = FakeTime()
    clock = Clock(_monotonic=fake.monotonic, _wall=fake.now)
    fake.seconds += 5
    assert clock.is_real
    assert clock.now() == datetime(2026, 1, 1, 0, 0, 5, tzinfo=UTC)


def test_pinned_clock_stands_still_at_speed_zero() -> None:
    fake = FakeTime()
    pinned = datetime(2017, 4, 28, 9, tzinfo=UTC)
    clock = Clock(pinned, 0.0, _monotonic=fake.monotonic, _wall=fake.now)
    fake.seconds += 3600
    assert clock.now() == pinned
    assert clock.real_seconds_until(pinned + timedelta(days=1)) == float("inf")


def test_accelerated_clock_runs_n_times_faster() -> None:
    fake = FakeTime()
    pinned = datetime(2017, 4, 28, 9, tzinfo=UTC)
    clock = Clock(pinned, 3600.0, _monotonic=fake.monotonic, _wall=fake.now)
    fake.seconds += 2
    assert clock.now() == pinned + timedelta(hours=2)
    assert clock.real_seconds_until(pinned + timedelta(hours=4)) == pytest.approx(2.0)
    assert clock.real_seconds_until(pinned) == 0.0


def test_speed_without_a_pin_starts_from_the_real_time() -> None:
    fake = FakeTime()
    clock = Clock(None, 60.0, _monotonic=fake.monotonic, _wall=fake.now)
    fake.seconds += 1
    assert clock.now() == datetime(2026, 1, 1, 0, 1, tzinfo=UTC)


def test_clock_refuses_naive_or_negative() -> None:
    with pytest.raises(ValueError, match="time zone"):
        Clock(datetime(2017, 4, 28))  # noqa: DTZ001
    with pytest.raises(ValueError, match="negative"):
        Clock(None, -1.0)
