"""The one clock every part of the bot asks for "now".

By default it is the real time. An operator may pin it to an instant (to see the
brief as it stood when it was written) and let that pinned time run faster than
real time (to watch reminders fire in a replay).

The virtual time never overflows: however long a fast clock runs, it stops at
``LATEST`` (and a clock run backwards by a fake monotonic source at ``EARLIEST``).
"""

import math
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

MAX_SPEED = 1_000_000.0
"""The fastest an operator may set the clock (``BRIEFBOT_SPEED``): a real second is 11.6 days.

The clock itself accepts any finite speed (the demo replays months in seconds)
and stops at ``LATEST`` rather than overflow.
"""
EARLIEST = datetime(2, 1, 1, tzinfo=UTC)
LATEST = datetime(9998, 1, 1, tzinfo=UTC)
"""The clock's range, with a year or more of room on each side for arithmetic on "now"."""


@dataclass
class Clock:
    """Virtual time: ``start + (elapsed real time) * speed``, or the real time.

    ``start`` of ``None`` means the real current time at creation. ``speed`` of 0
    freezes the clock at ``start``.
    """

    start: datetime | None = None
    speed: float = 1.0
    _monotonic: Callable[[], float] = field(default=time.monotonic, repr=False)
    _wall: Callable[[], datetime] = field(default=lambda: datetime.now(UTC), repr=False)
    _origin: float = field(init=False, repr=False)
    _base: datetime = field(init=False, repr=False)

    def __post_init__(self) -> None:
        if self.start is not None and self.start.tzinfo is None:
            raise ValueError("the clock's start must carry a time zone")
        if not math.isfinite(self.speed) or self.speed < 0:
            raise ValueError("the clock's speed cannot be negative, infinite or NaN")
        self._origin = self._monotonic()
        base = self.start if self.start is not None else self._wall()
        try:
            self._base = base.astimezone(UTC)
        except OverflowError:
            raise ValueError(f"the clock's start {base.isoformat()} is out of range") from None
        if not EARLIEST <= self._base <= LATEST:
            raise ValueError(
                f"the clock's start must be between {EARLIEST:%Y-%m-%d} and {LATEST:%Y-%m-%d}"
            )

    @property
    def is_real(self) -> bool:
        """True when this clock simply reports the real time."""
        return self.start is None and self.speed == 1.0

    def now(self) -> datetime:
        """The current virtual time, always time-zone aware (UTC)."""
        if self.is_real:
            return self._wall()
        if self.speed == 0:
            return self._base
        ahead = (self._monotonic() - self._origin) * self.speed
        if math.isnan(ahead):  # only from a broken monotonic source
            return self._base
        if ahead >= (LATEST - self._base).total_seconds():
            return LATEST
        if ahead <= (EARLIEST - self._base).total_seconds():
            return EARLIEST
        return self._base + timedelta(seconds=ahead)

    def real_seconds_until(self, instant: datetime) -> float:
        """How many real seconds until the virtual clock reaches ``instant`` (0 if passed).

        A frozen clock never reaches a future instant: the answer is infinity.
        """
        ahead = (instant - self.now()).total_seconds()
        if ahead <= 0:
            return 0.0
        if self.speed == 0:
            return float("inf")
        return ahead / self.speed
