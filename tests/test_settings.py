"""Settings: every value is checked at load, and a bad one is one clear line, never a traceback."""

from datetime import UTC, datetime, time, timedelta

import pytest

from bot.core.clock import LATEST, MAX_SPEED, Clock
from bot.core.reminders import (
    MAX_OFFSET,
    MAX_OFFSETS,
    parse_duration,
    parse_local_time,
    parse_offsets,
)


class FakeTime:
    """A monotonic source moved by hand."""

    def __init__(self) -> None:
        self.seconds = 0.0

    def monotonic(self) -> float:
        return self.seconds


# ---------------------------------------------------------------- durations and times


@pytest.mark.parametrize("text", ["99999999999w", "366d", "53w", "8761h", "1" * 60 + "s"])
def test_duration_beyond_the_maximum_is_refused(text: str) -> None:
    with pytest.raises(ValueError, match="longer than the maximum of 365 days"):
        parse_duration(text)


def test_duration_maximum_is_inclusive_and_can_be_lowered() -> None:
    assert parse_duration("365d") == timedelta(days=365)
    assert parse_duration("1d", timedelta(days=1)) == timedelta(days=1)
    with pytest.raises(ValueError, match="'1d1s' is longer than the maximum of 1 day"):
        parse_duration("1d1s", timedelta(days=1))


def test_absurdly_long_duration_is_refused_without_echoing_it() -> None:
    with pytest.raises(ValueError, match="is 65 characters long") as caught:
        parse_duration("1" * 64 + "s")
    assert "1111" not in str(caught.value)


@pytest.mark.parametrize("text", ["\u0661\u0662h", "\u00b9\u00b2h", "\uff17d"])
def test_durations_take_ascii_digits_only(text: str) -> None:
    with pytest.raises(ValueError, match="not a duration"):
        parse_duration(text)


def test_offsets_are_bounded_in_size_and_number() -> None:
    assert parse_offsets("365d")[0].delta == MAX_OFFSET
    with pytest.raises(ValueError, match="maximum of 365 days"):
        parse_offsets("7d,99999999999w")
    many = ",".join(f"{n}h" for n in range(1, MAX_OFFSETS + 2))
    with pytest.raises(ValueError, match=f"at most {MAX_OFFSETS} offsets, got {MAX_OFFSETS + 1}"):
        parse_offsets(many)


@pytest.mark.parametrize(("text", "expected"), [("09:00", time(9)), ("23:59:30", time(23, 59, 30))])
def test_local_times(text: str, expected: time) -> None:
    assert parse_local_time(text) == expected


@pytest.mark.parametrize("text", ["0900", "T09:00", "09", "9:00", "09:00:00.5", "\u0660\u0669:00"])
def test_local_time_is_hours_and_minutes(text: str) -> None:
    with pytest.raises(ValueError, match="not a time of day such as 09:00"):
        parse_local_time(text)


@pytest.mark.parametrize("text", ["09:00+03:00", "09:00Z", "09:00-05:00"])
def test_local_time_without_an_offset(text: str) -> None:
    with pytest.raises(ValueError, match="without an offset"):
        parse_local_time(text)


# ---------------------------------------------------------------- the clock


def test_a_fast_clock_stops_at_its_latest_instant_instead_of_overflowing() -> None:
    fake = FakeTime()
    clock = Clock(datetime(2017, 4, 28, tzinfo=UTC), MAX_SPEED, _monotonic=fake.monotonic)
    fake.seconds = 10.0
    assert clock.now() == datetime(2017, 4, 28, tzinfo=UTC) + timedelta(seconds=10 * MAX_SPEED)
    fake.seconds = 1e12  # a billion years of virtual time
    assert clock.now() == LATEST
    assert clock.real_seconds_until(LATEST) == 0.0


def test_the_fastest_finite_clock_does_not_overflow() -> None:
    fake = FakeTime()
    clock = Clock(datetime(2017, 4, 28, tzinfo=UTC), 1e308, _monotonic=fake.monotonic)
    fake.seconds = 1e10  # elapsed x speed is infinite
    assert clock.now() == LATEST


@pytest.mark.parametrize("speed", [float("inf"), float("nan"), -1.0])
def test_clock_refuses_speeds_it_cannot_run_at(speed: float) -> None:
    with pytest.raises(ValueError, match="negative, infinite or NaN"):
        Clock(None, speed)


def test_clock_refuses_a_start_outside_its_range() -> None:
    start = datetime.fromisoformat("0001-01-01T00:00+01:00")
    with pytest.raises(ValueError, match="out of range"):
        Clock(start, 0.0)
    with pytest.raises(ValueError, match="between"):
        Clock(datetime(9999, 12, 31, tzinfo=UTC), 0.0)
