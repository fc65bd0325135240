"""The one clock every part of the bot asks for "now".

By default it is the real time. An operator may pin it to an instant (to see the
brief as it stood when it was written) and let that pinned time run faster than
real time (to watch reminders fire in a replay).
"""

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta


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
        if self.speed < 0:
            raise ValueError("the clock's speed cannot be negative")
        self._origin = self._monotonic()
        self._base = self.start if self.start is not None else self._wall()

    @property
    def is_real(self) -> bool:
        """True when this clock simply reports the real time."""
        return self.start is None and self.speed == 1.0

    def now(self) -> datetime:
        """The current virtual time, always time-zone aware (UTC)."""
        if self.is_real:
            return self._wall()
        elapsed = self._monotonic() - self._origin
        return (self._base + timedelta(seconds=elapsed * self.speed)).astimezone(UTC)

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
