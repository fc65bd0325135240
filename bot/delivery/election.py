"""Which platforms this process sends reminders for, among processes sharing one ledger.

One process per platform sends (the platform's rate limit is the bot token's, not a
process's); the others stand by and take over within seconds when the sender stops,
crashes or loses its database. See ``bot.delivery.ledger.senders`` for the locks.

A process that becomes a platform's sender posts new deliveries at once (a claim
decides each one), but waits ``HANDOVER`` before taking over the live claims another
process left: long enough for a sender whose session ended but which
still runs to notice (it checks every ``WATCH``) and stop. A sender that was stalled
(its session ended by the database after ``IDLE_SESSION_TIMEOUT``) checks its lock
again before its next post, since its last check is older than ``FRESH``. The new
sender then resumes the claims at once, looking for each post before posting again,
instead of waiting for their leases to run out.
"""

import asyncio
import logging
from collections.abc import Callable, Mapping
from datetime import datetime, timedelta

from bot.delivery.ledger import Ledger, LedgerError, SenderLock
from bot.delivery.ledger.senders import AlwaysSender

log = logging.getLogger(__name__)

WATCH = timedelta(seconds=1)  # how often the locks are checked and tried
CHECK_TIMEOUT = timedelta(seconds=3)  # a check that takes longer counts as a lost lock
HANDOVER = timedelta(seconds=2)  # > WATCH: a sender whose session ended has noticed and stopped
FRESH = timedelta(seconds=2)  # a post needs the lock confirmed this recently, else checked again


class Election:
    """Keeps this process's sender locks: takes free ones, notices lost ones."""

    def __init__(
        self,
        ledger: Ledger,
        locks: Mapping[str, SenderLock],
        owner: str,
        *,
        now_real: Callable[[], datetime],
        on_lost: Callable[[str], None],
    ) -> None:
        self.ledger = ledger
        self.locks = dict(locks)
        self.owner = owner
        self.now_real = now_real
        self.on_lost = on_lost
        self.sending: set[str] = set()
        self.lost: set[str] = set()  # lost with the database, not yet known to be anyone's
        self._since: dict[str, datetime] = {}
        self._confirmed: dict[str, datetime] = {}
        self._handed_over: set[str] = set()
        self._alone = all(_always(lock) for lock in self.locks.values())

    async def check(self) -> list[str]:
        """Take the locks that are free, drop the ones lost, hand over when it is time.

        Returns the platforms whose handover just completed (their claims are free to
        resume: deliver what is due there now).
        """
        now = self.now_real()
        for platform, lock in self.locks.items():
            if platform in self.sending:
                if await _within(lock.held, lock):
                    self._confirmed[platform] = now
                else:
                    self.sending.discard(platform)
                    self._handed_over.discard(platform)
                    self.lost.add(platform)
                    log.warning(
                        "lost the %s sender lock (the database is unreachable?): this process "
                        "stops sending %s reminders; another process, or this one once the "
                        "database is back, takes over",
                        platform,
                        platform,
                    )
                    self.on_lost(platform)
                continue
            got = await _within(lock.acquire, lock)
            if got is None:
                continue  # cannot tell: a lost lock stays lost
            self.lost.discard(platform)
            if got:
                self.sending.add(platform)
                self._since[platform] = now
                self._confirmed[platform] = now
                if not _always(lock):
                    log.info("this process now sends the %s reminders", platform)
        ready: list[str] = []
        for platform in sorted(self.sending - self._handed_over):
            if self._alone or now - self._since[platform] >= HANDOVER:
                try:
                    released = await asyncio.to_thread(
                        self.ledger.release_others, platform, self.owner, now=now
                    )
                except LedgerError as error:
                    log.warning("cannot take over %s claims yet: %s", platform, error)
                    continue
                if released:
                    log.info(
                        "took over %d %s deliveries another process had claimed; each is "
                        "looked for in its channel before it is posted",
                        released,
                        platform,
                    )
                self._handed_over.add(platform)
                ready.append(platform)
        return ready

    def may_send(self, platform: str) -> bool:
        """Whether this process sends ``platform``'s reminders now (it holds the lock).

        New deliveries go out at once; the claims another process left are taken over
        after ``HANDOVER``. With nothing to elect with (every lock an ``AlwaysSender``),
        always.
        """
        return self._alone or platform in self.sending

    async def confirm(self, platform: str) -> bool:
        """Whether this process may post to ``platform`` now: its lock was confirmed within
        ``FRESH``, or is confirmed now (a process that was stalled finds out here)."""
        if self._alone:
            return True
        if not self.may_send(platform):
            return False
        now = self.now_real()
        if now - self._confirmed.get(platform, now - FRESH) < FRESH:
            return True
        lock = self.locks[platform]
        if await _within(lock.held, lock):
            self._confirmed[platform] = now
            return True
        self.sending.discard(platform)
        self._handed_over.discard(platform)
        self.lost.add(platform)
        log.warning("the %s sender lock is gone: this process stops sending there", platform)
        self.on_lost(platform)
        return False

    async def close(self) -> None:
        """Give up every lock, so a standby takes over at once."""
        self.sending.clear()
        self._handed_over.clear()
        for lock in self.locks.values():
            await asyncio.to_thread(lock.release)


def _always(lock: SenderLock) -> bool:
    return isinstance(lock, AlwaysSender)


async def _within(check: Callable[[], bool | None], lock: SenderLock) -> bool | None:
    """``check()`` in a thread; None (cannot tell) if it takes longer than ``CHECK_TIMEOUT``.

    A check still running when time is up (a database that stopped answering) may yet
    take the lock: it is released as soon as that check ends.
    """
    task = asyncio.ensure_future(asyncio.to_thread(check))
    done, _ = await asyncio.wait({task}, timeout=CHECK_TIMEOUT.total_seconds())
    if task in done:
        return task.result() if task.exception() is None else None
    loop = asyncio.get_running_loop()
    task.add_done_callback(lambda _: loop.run_in_executor(None, lock.release))
    return None
