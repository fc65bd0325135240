"""Posts recorded as sent in batches: one transaction for many posts of a fan-out.

A post is recorded within ``FLUSH_EVERY`` of being made, or as soon as ``FLUSH_AT`` are
waiting, and every one is recorded before a fan-out ends. A crash before a post is recorded
leaves its claim open; whoever resumes the claim looks for the post in the channel first and
finds it, so nothing is posted twice. A ledger that fails keeps them waiting for the next try.
"""

import asyncio
import logging
from collections.abc import Callable
from datetime import datetime

from bot.delivery.ledger import DeliveryKey, Ledger, LedgerError

log = logging.getLogger(__name__)

FLUSH_AT = 50  # posts waiting that are recorded at once
FLUSH_EVERY = 0.5  # seconds a post waits at most to be recorded (unless the ledger fails)
RETRY_AFTER = 5.0  # seconds before a failed recording is tried again


class SentRecorder:
    """Collects posts made and records them as sent in batches."""

    def __init__(self, ledger: Ledger, now_real: Callable[[], datetime]) -> None:
        self.ledger = ledger
        self.now_real = now_real
        self._waiting: list[tuple[DeliveryKey, str | None, bool, datetime]] = []
        self._lock = asyncio.Lock()
        self._timer: asyncio.TimerHandle | None = None
        self._flushing: set[asyncio.Task[None]] = set()

    @property
    def waiting(self) -> int:
        """Posts made but not yet recorded."""
        return len(self._waiting)

    async def record(self, key: DeliveryKey, message_id: str | None, *, late: bool) -> None:
        """Note a post made; record the waiting ones now if enough are waiting."""
        self._waiting.append((key, message_id, late, self.now_real()))
        if len(self._waiting) >= FLUSH_AT:
            await self.flush()
        elif self._timer is None:
            self._later(FLUSH_EVERY)

    def _later(self, seconds: float) -> None:
        loop = asyncio.get_running_loop()
        self._timer = loop.call_later(seconds, self._flush_in_background)

    def _flush_in_background(self) -> None:
        self._timer = None
        task = asyncio.get_running_loop().create_task(self.flush())
        self._flushing.add(task)
        task.add_done_callback(self._flushing.discard)

    async def flush(self) -> None:
        """Record every post waiting, in one transaction; on failure keep them for a retry."""
        async with self._lock:
            if self._timer is not None:
                self._timer.cancel()
                self._timer = None
            taken, self._waiting = self._waiting, []
            if not taken:
                return
            try:
                await asyncio.to_thread(self.ledger.mark_sent_many, taken)
            except LedgerError as error:
                self._waiting = taken + self._waiting
                log.warning(
                    "cannot record %d post(s) as sent now (%s): trying again in %d s; "
                    "a restart meanwhile finds them in their channels",
                    len(taken),
                    error,
                    RETRY_AFTER,
                )
                self._later(RETRY_AFTER)
                return
            except asyncio.CancelledError:
                self._waiting = taken + self._waiting
                raise
        for key, _, late, _ in taken:
            log.debug(
                "recorded %s to %s:%s as sent%s",
                key.reminder_id,
                key.platform,
                key.channel_id,
                " (late)" if late else "",
            )

    async def close(self) -> None:
        """Record what is waiting (best effort) and stop the timer."""
        try:
            await self.flush()
        finally:
            if self._timer is not None:
                self._timer.cancel()
                self._timer = None
