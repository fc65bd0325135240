"""Reminders on APScheduler, delivered exactly once through the ledger.

The plan comes from the briefs at every start and reload (``replan``); the
ledger, not memory, says what was delivered. Jobs run on the bot's own event
loop (``AsyncIOScheduler``), with stable ids and ``replace_existing`` so a
reload never doubles a job. Misfire policy: APScheduler runs a late job
however late (``misfire_grace_time=None``, coalesced), and this module decides
what lateness means: within ``grace`` the post goes out marked late, beyond
it the delivery is recorded as missed and logged, never posted.

Times: reminders are due in the bot's (possibly pinned and accelerated)
virtual time; APScheduler and the ledger's claim leases run on real time.
"""

import asyncio
import logging
import uuid
from collections.abc import Callable, Coroutine, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, time, timedelta
from typing import Any

from apscheduler.schedulers.asyncio import AsyncIOScheduler
from apscheduler.triggers.date import DateTrigger

from bot.core.answers import Status, status
from bot.core.clock import Clock
from bot.core.library import Library
from bot.core.reminders import Offset, Reminder, plan, reminder_reply
from bot.delivery.ledger import ClaimOutcome, DeliveryKey, Ledger, LedgerError
from bot.delivery.posting import ChannelUnavailable, Poster, PostFailed
from bot.settings import Settings

log = logging.getLogger(__name__)

REAL_TOLERANCE = timedelta(seconds=5)  # scheduling jitter, in real time
LATE_AFTER = timedelta(minutes=2)  # a post this much after its due time says it is late
RETRY_BACKOFF = (timedelta(seconds=30), timedelta(minutes=2), timedelta(minutes=10))
LOOKBACK = timedelta(minutes=10)  # how far before a crashed claim to search channel history


def real_now() -> datetime:
    """The real current time (claims and leases run on it, not on the virtual clock)."""
    return datetime.now(UTC)


@dataclass(frozen=True)
class Timing:
    """How reminders are timed and how lateness is judged."""

    offsets: tuple[Offset, ...]
    all_day_at: time
    grace: timedelta
    lease: timedelta
    concurrency: int = 8


def timing_from(settings: Settings) -> Timing:
    """The reminder timing an operator configured."""
    return Timing(
        offsets=settings.reminder_offsets,
        all_day_at=settings.reminder_all_day_at,
        grace=settings.reminder_grace,
        lease=settings.reminder_claim_lease,
    )


class ReminderScheduler:
    """Plans reminders from the briefs and posts each to every subscribed channel, once."""

    def __init__(
        self,
        library: Library,
        clock: Clock,
        ledger: Ledger,
        posters: Sequence[Poster],
        timing: Timing,
        *,
        owner: str | None = None,
        now_real: Callable[[], datetime] = real_now,
    ) -> None:
        self.library = library
        self.clock = clock
        self.ledger = ledger
        self.posters = {poster.platform: poster for poster in posters}
        self.timing = timing
        self.owner = owner or f"briefbot-{uuid.uuid4().hex[:12]}"
        self.now_real = now_real
        self.reminders: dict[str, Reminder] = {}
        self.scheduler = AsyncIOScheduler(
            timezone=UTC,
            job_defaults={"coalesce": True, "misfire_grace_time": None, "max_instances": 1},
        )
        self._slots = asyncio.Semaphore(timing.concurrency)
        self._running: set[asyncio.Task[None]] = set()

    # ------------------------------------------------------------------ planning

    async def start(self) -> None:
        """Start the scheduler on the running loop and plan every reminder."""
        self.scheduler.start()
        await self.replan(self.library)

    async def stop(self) -> None:
        """Stop scheduling; let deliveries under way finish their current step."""
        if self.scheduler.running:
            self.scheduler.shutdown(wait=False)
        for task in list(self._running):
            task.cancel()
        if self._running:
            await asyncio.gather(*self._running, return_exceptions=True)

    async def replan(self, library: Library) -> list[Reminder]:
        """Rebuild the plan from ``library``: schedule new and moved reminders, drop removed."""
        self.library = library
        reminders = plan(library, self.timing.offsets, self.timing.all_day_at)
        self.reminders = {reminder.id: reminder for reminder in reminders}
        now = self.clock.now()
        wanted: set[str] = set()
        missed: list[Reminder] = []
        for reminder in reminders:
            if reminder.due_at <= now and now - reminder.due_at > self._grace():
                if status(reminder.event, now) is not Status.PAST:
                    missed.append(reminder)
                continue
            run_at = self._real_time_of(reminder.due_at)
            if run_at is None:
                continue
            job_id = f"reminder:{reminder.id}"
            self.scheduler.add_job(
                self._fire,
                DateTrigger(run_date=run_at, timezone=UTC),
                args=[reminder.id],
                id=job_id,
                name=reminder.id,
                replace_existing=True,
            )
            wanted.add(job_id)
        for job in self.scheduler.get_jobs():
            if job.id.startswith("reminder:") and job.id not in wanted:
                log.info("reminder %s is no longer in the briefs: cancelled", job.name)
                job.remove()
        for reminder in missed:
            await self._record_missed(reminder, "the bot was down when it was due")
        self._log_plan(reminders, now)
        return reminders

    def upcoming(self, now: datetime | None = None) -> list[Reminder]:
        """Reminders still ahead of ``now`` (default: the clock's now), soonest first."""
        moment = now or self.clock.now()
        return [r for r in self.reminders.values() if r.due_at > moment]

    def _grace(self) -> timedelta:
        return self.timing.grace + self._tolerance()

    def _tolerance(self) -> timedelta:
        return REAL_TOLERANCE * max(self.clock.speed, 1.0)

    def _real_time_of(self, due: datetime) -> datetime | None:
        seconds = self.clock.real_seconds_until(due)
        if seconds == float("inf"):
            return None
        return self.now_real() + timedelta(seconds=seconds)

    def _log_plan(self, reminders: list[Reminder], now: datetime) -> None:
        ahead = [reminder for reminder in reminders if reminder.due_at > now]
        if not ahead:
            log.info("planned %d reminder(s); none is still ahead", len(reminders))
            return
        first = ahead[0]
        frozen = " (the clock is frozen: it will not fire)" if self.clock.speed == 0 else ""
        log.info(
            "planned %d reminder(s), %d ahead; next: %s at %s%s",
            len(reminders),
            len(ahead),
            first.id,
            first.due_at.strftime("%Y-%m-%d %H:%M UTC"),
            frozen,
        )

    # ------------------------------------------------------------------ delivery

    async def _fire(self, reminder_id: str) -> None:
        """Deliver one reminder to every active channel of every platform, bounded."""
        reminder = self.reminders.get(reminder_id)
        if reminder is None:
            return
        jobs: list[Coroutine[Any, Any, None]] = []
        for platform, poster in self.posters.items():
            channels = await asyncio.to_thread(self.ledger.active_channels, platform)
            jobs.extend(self._deliver(poster, channel, reminder) for channel in channels)
        log.info("reminder %s is due: posting to %d channel(s)", reminder.id, len(jobs))
        await asyncio.gather(*jobs)

    async def _retry(self, reminder_id: str, platform: str, channel: str) -> None:
        reminder = self.reminders.get(reminder_id)
        poster = self.posters.get(platform)
        if reminder is not None and poster is not None:
            await self._deliver(poster, channel, reminder)

    def _later(self, reminder: Reminder, platform: str, channel: str, at: datetime) -> None:
        self.scheduler.add_job(
            self._retry,
            DateTrigger(run_date=at, timezone=UTC),
            args=[reminder.id, platform, channel],
            id=f"retry:{reminder.id}:{platform}:{channel}",
            name=f"{reminder.id} → {platform}:{channel}",
            replace_existing=True,
        )

    async def _deliver(self, poster: Poster, channel: str, reminder: Reminder) -> None:
        task = asyncio.current_task()
        if task is not None:
            self._running.add(task)
        try:
            async with self._slots:
                await self._deliver_once(poster, channel, reminder)
        except Exception:  # one channel's surprise must not stop the others
            log.exception("delivering %s to %s:%s failed", reminder.id, poster.platform, channel)
            key = DeliveryKey(reminder.id, poster.platform, channel)
            retry_at = self.now_real() + RETRY_BACKOFF[0]
            try:
                await asyncio.to_thread(
                    self.ledger.mark_failed,
                    key,
                    now=self.now_real(),
                    error="internal error",
                    retry_at=retry_at,
                )
            except LedgerError as error:  # e.g. the claim itself failed: no row to mark
                log.warning("could not record the failure of %s: %s", key.reminder_id, error)
            self._later(reminder, poster.platform, channel, retry_at)
        finally:
            if task is not None:
                self._running.discard(task)

    async def _deliver_once(self, poster: Poster, channel: str, reminder: Reminder) -> None:
        key = DeliveryKey(reminder.id, poster.platform, channel)
        where = f"{poster.platform}:{channel}"
        claim = await asyncio.to_thread(
            self.ledger.claim,
            key,
            event_id=reminder.event.id,
            due_at=reminder.due_at,
            owner=self.owner,
            now=self.now_real(),
            lease=self.timing.lease,
        )
        if claim.outcome is ClaimOutcome.DONE:
            return
        if claim.outcome is ClaimOutcome.BUSY:
            recheck = claim.delivery.lease_until or claim.delivery.retry_at
            if recheck is not None:
                self._later(reminder, poster.platform, channel, recheck + timedelta(seconds=1))
            return
        now = self.clock.now()
        lateness = now - reminder.due_at
        if lateness > self._grace():
            await self._record_missed(reminder, "it could not be posted within the grace window")
            return
        if claim.outcome is ClaimOutcome.RESUME:
            since = (claim.delivery.first_claimed_at or self.now_real()) - LOOKBACK
            found = await self._find(poster, channel, key, since)
            if found is not None:
                log.info("reminder %s was already in %s (message %s)", reminder.id, where, found)
                await asyncio.to_thread(
                    self.ledger.mark_sent, key, now=self.now_real(), message_id=found, late=False
                )
                return
        late = lateness > LATE_AFTER + self._tolerance()
        brief = self.library.brief(reminder.brief_id)
        reply = reminder_reply(reminder, brief, now, late=late, marker=key.marker())
        try:
            message_id = await poster.post(channel, reply, nonce=key.nonce())
        except ChannelUnavailable as error:
            await self._broken(key, str(error))
        except PostFailed as error:
            attempt = min(claim.delivery.attempts, len(RETRY_BACKOFF)) - 1
            retry_at = self.now_real() + RETRY_BACKOFF[max(attempt, 0)]
            log.warning(
                "posting %s to %s failed (%s): retrying at %s",
                reminder.id,
                where,
                error,
                retry_at.strftime("%H:%M:%S UTC"),
            )
            await asyncio.to_thread(
                self.ledger.mark_failed,
                key,
                now=self.now_real(),
                error=str(error),
                retry_at=retry_at,
            )
            self._later(reminder, poster.platform, channel, retry_at)
        else:
            await asyncio.to_thread(
                self.ledger.mark_sent, key, now=self.now_real(), message_id=message_id, late=late
            )
            log.info("posted reminder %s to %s%s", reminder.id, where, " (late)" if late else "")

    async def _find(
        self, poster: Poster, channel: str, key: DeliveryKey, since: datetime
    ) -> str | None:
        try:
            return await poster.find_marker(channel, key.marker(), since=since)
        except (PostFailed, ChannelUnavailable) as error:
            log.warning(
                "could not search %s:%s for an earlier post (%s): posting with its nonce",
                key.platform,
                channel,
                error,
            )
            return None

    async def _broken(self, key: DeliveryKey, reason: str) -> None:
        now = self.now_real()
        await asyncio.to_thread(self.ledger.mark_failed, key, now=now, error=reason, retry_at=None)
        newly = await asyncio.to_thread(
            self.ledger.mark_broken, key.platform, key.channel_id, reason=reason, now=now
        )
        if newly:
            log.warning(
                "%s channel %s is broken (%s): no more reminders go there until it is "
                "subscribed again; other channels are unaffected",
                key.platform,
                key.channel_id,
                reason,
            )

    async def _record_missed(self, reminder: Reminder, why: str) -> None:
        changed = 0
        for platform in self.posters:
            channels = await asyncio.to_thread(self.ledger.active_channels, platform)
            for channel in channels:
                key = DeliveryKey(reminder.id, platform, channel)
                changed += await asyncio.to_thread(
                    self.ledger.mark_missed,
                    key,
                    event_id=reminder.event.id,
                    due_at=reminder.due_at,
                    now=self.now_real(),
                    reason=why,
                )
        if changed:
            log.warning(
                "reminder %s (due %s) missed in %d channel(s): %s; not posted, to avoid a flood",
                reminder.id,
                reminder.due_at.strftime("%Y-%m-%d %H:%M UTC"),
                changed,
                why,
            )
