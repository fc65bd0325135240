"""A pacing rate limiter for fan-out: requests leave evenly spaced, ``rate`` per ``per`` seconds.

Spacing them evenly, rather than letting a whole window's worth go at once,
keeps any window the server measures under the limit even when the event
loop delays some requests and not others.
"""

import asyncio
import time
from collections import deque
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
        self._sent: deque[float] = deque(maxlen=rate)

    async def acquire(self) -> None:
        """Wait for the next slot, then take it.

        Slots sit on a fixed grid, one ``interval`` apart, so a late wake-up does
        not push every later slot back; after an idle spell the grid restarts.
        """
        async with self._lock:
            now = self._monotonic()
            if self._next < now - self.interval:
                self._next = now
            # Catching up after a late wake-up must not crowd a window: at most ``rate``
            # requests leave within any ``per`` seconds, however the slots fell.
            if len(self._sent) == self.rate:
                self._next = max(self._next, self._sent[0] + self.per)
            wait = self._next - now
            if wait > 0:
                await self._sleep(wait)
            self._sent.append(self._monotonic())
            self._next += self.interval


class ChannelWindows:
    """At most ``limit`` posts per ``per`` seconds into any one channel, in every window.

    Discord limits each channel's messages (5 per 5 s) with a window that starts at its
    first message; several reminders due at once in one channel would run into it. Each
    channel keeps the times of its last ``limit`` posts, and a post waits until the oldest
    is ``per`` (plus a margin for the way there) behind it: a burst of ``limit`` goes at
    once, the next when the window has passed. Channels idle for a window are forgotten.
    """

    def __init__(
        self,
        limit: int,
        per: float,
        *,
        margin: float = 0.05,
        monotonic: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
    ) -> None:
        if limit < 1 or per <= 0:
            raise ValueError("a channel window needs a limit of 1 or more per positive period")
        self.limit = limit
        self.per = per * (1 + margin)
        self._monotonic = monotonic
        self._sleep = sleep
        self._sent: dict[str, deque[float]] = {}
        self._locks: dict[str, asyncio.Lock] = {}

    async def acquire(self, channel: str) -> None:
        """Wait until ``channel`` may take one more post, then count it."""
        lock = self._locks.setdefault(channel, asyncio.Lock())
        async with lock:
            sent = self._sent.setdefault(channel, deque(maxlen=self.limit))
            if len(sent) == self.limit:
                wait = sent[0] + self.per - self._monotonic()
                if wait > 0:
                    await self._sleep(wait)
            sent.append(self._monotonic())
        self._forget_idle()

    def _forget_idle(self) -> None:
        if len(self._sent) < 1024:
            return
        now = self._monotonic()
        for channel, sent in list(self._sent.items()):
            lock = self._locks.get(channel)
            if sent and now - sent[-1] > self.per and (lock is None or not lock.locked()):
                del self._sent[channel]
                self._locks.pop(channel, None)
