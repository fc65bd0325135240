"""A pacing rate limiter for fan-out: requests leave evenly spaced, ``rate`` per ``per`` seconds.

Spacing them evenly, rather than letting a whole window's worth go at once,
keeps any window the server measures under the limit even when the event
loop delays some requests and not others.
"""

import asyncio
import time
from collections.abc import Awaitable, Callable


class RateLimiter:
    """Hands out one slot every ``per / rate`` seconds, shared by every post of one platform."""

    def __init__(
        self,
        rate: int,
        per: float,
        *,
        monotonic: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
    ) -> None:
        if rate < 1 or per <= 0:
            raise ValueError("a rate limiter needs a rate of 1 or more per positive period")
        self.rate = rate
        self.per = per
        self.interval = per / rate
        self._monotonic = monotonic
        self._sleep = sleep
        self._next = float("-inf")
        self._lock = asyncio.Lock()

    async def acquire(self) -> None:
        """Wait for the next slot, then take it.

        Slots sit on a fixed grid, one ``interval`` apart, so a late wake-up does
        not push every later slot back; after an idle spell the grid restarts.
        """
        async with self._lock:
            now = self._monotonic()
            if self._next < now - self.interval:
                self._next = now
            wait = self._next - now
            if wait > 0:
                await self._sleep(wait)
            self._next += self.interval
