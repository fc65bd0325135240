"""A rate limiter for fan-out: at most ``rate`` acquisitions in any ``per``-second window."""

import asyncio
import time
from collections import deque
from collections.abc import Callable


class RateLimiter:
    """Sliding-window limiter shared by every post of one platform."""

    def __init__(
        self, rate: int, per: float, *, monotonic: Callable[[], float] = time.monotonic
    ) -> None:
        if rate < 1 or per <= 0:
            raise ValueError("a rate limiter needs a rate of 1 or more per positive period")
        self.rate = rate
        self.per = per
        self._monotonic = monotonic
        self._stamps: deque[float] = deque()
        self._lock = asyncio.Lock()

    async def acquire(self) -> None:
        """Wait until one more request fits in the window, then take it."""
        async with self._lock:
            while True:
                now = self._monotonic()
                while self._stamps and now - self._stamps[0] >= self.per:
                    self._stamps.popleft()
                if len(self._stamps) < self.rate:
                    self._stamps.append(now)
                    return
                await asyncio.sleep(self.per - (now - self._stamps[0]))
