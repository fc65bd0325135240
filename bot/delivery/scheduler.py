"""Reminders on APScheduler, delivered exactly once through the ledger.

The plan comes from the briefs at every start and reload (``replan``); the
ledger, not memory, says what was delivered. Jobs run on the bot's own event
loop (``AsyncIOScheduler``), with stable ids and ``replace_existing`` so a
reload never doubles a job. Misfire policy: APScheduler runs a late job
however late (``misfire_grace_time=None``, coalesced), and this module decides
what lateness means: within ``grace`` the post goes out marked late, beyond
it the delivery is recorded as missed and logged, never posted.

Self-healing: a sweep runs every ``Timing.sweep`` and delivers every reminder
that is due, within its grace, and not yet settled in a channel, whatever
stopped it before (a database that was away when it fell due, a job that
failed, a plan that could not be recorded). When the ledger fails as a
reminder falls due, that reminder is tried again after 1, 2, 4 … seconds, up
to the sweep's interval, until it is posted or its grace runs out.

A post that may have gone through (a lost reply, a crash) is looked for in the
channel, from its first claim on, before it is posted again.

Times: reminders are due in the bot's (possibly pinned and accelerated)
virtual time; APScheduler and the ledger's claim leases run on real time.
"""

import asyncio
import contextlib
import logging
import uuid
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, time, timedelta
from time import monotonic

from apscheduler.schedulers.asyncio import AsyncIOScheduler
from apscheduler.triggers.date import DateTrigger
from apscheduler.triggers.interval import IntervalTrigger

from bot.core.answers import Status, status
from bot.core.clock import Clock
from bot.core.library import Library
from bot.core.reminders import Offset, Reminder, plan, reminder_reply
from bot.core.reply import Reply
from bot.delivery.election import WATCH, Election
from bot.delivery.fanout import early_start
from bot.delivery.ledger import Claim, ClaimOutcome, DeliveryKey, Ledger, LedgerError, SenderLock
from bot.delivery.ledger.senders import AlwaysSender
from bot.delivery.posting import ChannelUnavailable, Poster, PostFailed, SearchBlind
from bot.delivery.recording import SentRecorder

log = logging.getLogger(__name__)

REAL_TOLERANCE = timedelta(seconds=5)  # scheduling jitter, in real time
LATE_AFTER = timedelta(minutes=2)  # a post this much after its due time says it is late
RETRY_BACKOFF = (
    timedelta(seconds=5),
    timedelta(seconds=30),
    timedelta(minutes=2),
    timedelta(minutes=10),
)
LOOKBACK = timedelta(minutes=10)  # how far before a crashed claim to search channel history
GRACE_RAN_OUT = "it could not be posted within the grace window"
SWEEP = timedelta(minutes=1)  # how often due, unsettled deliveries are looked for
LEDGER_RETRY_FIRST = timedelta(seconds=1)  # first retry when the ledger fails as a reminder is due
CLAIM_BATCH = 100  # deliveries claimed in one transaction during a fan-out
LISTED_POSTS = 20  # a fan-out to more channels logs progress, not each post
PROGRESS_EVERY = timedelta(seconds=10)


def _minutes(span: timedelta) -> str:
    seconds = round(span.total_seconds())
    return f"{seconds // 60} min {seconds % 60} s" if seconds >= 60 else f"{seconds} s"


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
    sweep: timedelta = SWEEP
    watch: timedelta = WATCH


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
        senders: Mapping[str, SenderLock] | None = None,
    ) -> None:
        self.library = library
        self.clock = clock
        self.ledger = ledger
        self.posters = {poster.platform: poster for poster in posters}
        self.timing = timing
        self.owner = owner or f"briefbot-{uuid.uuid4().hex[:12]}"
        self.now_real = now_real
        # The plan is known at once (it is pure), so that commands answered while the
        # scheduler starts see it; ``replan`` schedules it.
        self.reminders: dict[str, Reminder] = {
            r.id: r for r in plan(library, timing.offsets, timing.all_day_at)
        }
        self.scheduler = AsyncIOScheduler(
            timezone=UTC,
            job_defaults={"coalesce": True, "misfire_grace_time": None, "max_instances": 1},
        )
        self._slots = asyncio.Semaphore(timing.concurrency)
        self._running: set[asyncio.Task[None]] = set()
        self._closed: set[str] = set()  # reminders whose misses are recorded
        self._blind_warned: set[tuple[str, str]] = set()
        locks: dict[str, SenderLock] = {platform: AlwaysSender() for platform in self.posters}
        locks.update((p, lock) for p, lock in (senders or {}).items() if p in self.posters)
        self.election = Election(
            ledger, locks, self.owner, now_real=now_real, on_lost=self._stop_sending
        )
        self._workers: dict[str, set[asyncio.Task[None]]] = {p: set() for p in self.posters}
        self._counts: dict[str, int] = {}  # active channels, by platform
        self._rates = {p: poster.posts_per_second for p, poster in self.posters.items()}
        self._renew_at: datetime | None = None
        self._fanning: set[tuple[str, str]] = set()  # (reminder, platform) fan-outs under way
        self._replies: dict[tuple[str, datetime, bool], Reply] = {}
        self._large_fan_outs = 0  # under way: each post is then logged at DEBUG only
        self.recorder = SentRecorder(ledger, now_real)
        self._stopping = False

    # ------------------------------------------------------------------ planning

    async def start(self) -> None:
        """Start the scheduler on the running loop, become a sender where none is, plan every
        reminder, and start the sweep and the watch over the sender locks and leases."""
        self.scheduler.start()
        await self._watch()  # not ``watch``: a stop while starting must reach the caller
        self.scheduler.add_job(
            self.sweep,
            IntervalTrigger(seconds=self.timing.sweep.total_seconds(), timezone=UTC),
            id="sweep",
            name="sweep",
            replace_existing=True,
        )
        self.scheduler.add_job(
            self.watch,
            IntervalTrigger(seconds=self.timing.watch.total_seconds(), timezone=UTC),
            id="watch",
            name="watch",
            replace_existing=True,
        )
        await self.replan(self.library)

    async def stop(self) -> None:
        """Stop scheduling; let deliveries under way finish their current step; give up the
        sender locks so that a standby process takes over at once."""
        self._stopping = True
        if self.scheduler.running:
            self.scheduler.shutdown(wait=False)
        running = set(self._running).union(*self._workers.values())
        for task in running:
            task.cancel()
        if running:
            await asyncio.gather(*running, return_exceptions=True)
        with contextlib.suppress(LedgerError):
            await self.recorder.close()
        await self.election.close()

    async def watch(self) -> None:
        """Keep the sender locks, renew this process's claims (its heartbeat), and deliver
        at once what a handover freed."""
        try:
            await self._watch()
        except asyncio.CancelledError:  # the bot is stopping
            log.info("stopped while watching the sender locks")

    async def _watch(self) -> None:
        ready = await self.election.check()
        now = self.now_real()
        if self._renew_at is None or now >= self._renew_at:
            self._renew_at = now + self.timing.lease / 3
            try:
                await asyncio.to_thread(
                    self.ledger.renew, self.owner, now=now, lease=self.timing.lease
                )
            except LedgerError as error:
                log.warning("cannot renew this process's claims now: %s", error)
        if ready:  # a fan-out takes minutes: the watch goes on meanwhile
            self.scheduler.add_job(
                self.sweep, id="sweep-now", name="sweep after a handover", replace_existing=True
            )

    def _stop_sending(self, platform: str) -> None:
        """The sender lock is lost: stop the deliveries under way there."""
        for task in list(self._workers.get(platform, ())):
            task.cancel()

    async def replan(self, library: Library) -> list[Reminder]:
        """Rebuild the plan from ``library``: schedule new and moved reminders, drop removed.

        Reminders whose grace ran out while the bot was down are recorded as
        missed; if the ledger cannot take that now, the sweep records them later.
        """
        self.library = library
        reminders = plan(library, self.timing.offsets, self.timing.all_day_at)
        self.reminders = {reminder.id: reminder for reminder in reminders}
        await self._measure_fan_out()
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
            run_at -= self.lead
            job_id = f"reminder:{reminder.id}"
            self.scheduler.add_job(
                self._fire,
                DateTrigger(run_date=run_at, timezone=UTC),
                args=[reminder.id],
                id=job_id,
                name=reminder.id,
                replace_existing=True,
            )
            wanted.add(reminder.id)
        for job in self.scheduler.get_jobs():
            kind, _, reminder_id = job.id.partition(":")
            if kind in ("reminder", "again") and reminder_id not in wanted:
                if kind == "reminder":
                    log.info("reminder %s is no longer in the briefs: cancelled", job.name)
                job.remove()
        try:
            for reminder in missed:
                if reminder.id not in self._closed:
                    await self._record_missed(reminder, "the bot was down when it was due")
                    self._closed.add(reminder.id)
        except LedgerError as error:
            log.warning("could not record missed reminders now (%s); the sweep will", error)
        self._log_plan(reminders, now)
        return reminders

    @property
    def lead(self) -> timedelta:
        """How long before its due time (in real time) a reminder starts posting, so that the
        last of many channels has it by then (see ``bot.delivery.fanout``)."""
        return early_start(self._counts, self._rates)

    def starts_at(self, reminder: Reminder) -> datetime:
        """When (in the bot's time) posting ``reminder`` begins."""
        return reminder.due_at - self.lead * max(self.clock.speed, 1.0)

    async def _measure_fan_out(self) -> None:
        """Count each platform's channels, for how early a fan-out starts."""
        try:
            for platform in self.posters:
                self._counts[platform] = await asyncio.to_thread(self.ledger.active_count, platform)
        except LedgerError as error:
            log.warning("cannot count the subscribed channels now: %s", error)

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
        if self.lead:
            log.info(
                "reminders to %s channel(s) start posting %s before their due time, so that "
                "the last channel has them by then",
                " + ".join(f"{count:,} {p}" for p, count in sorted(self._counts.items())),
                _minutes(self.lead),
            )
        log.info(
            "planned %d reminder(s), %d ahead; next: %s at %s%s",
            len(reminders),
            len(ahead),
            first.id,
            first.due_at.strftime("%Y-%m-%d %H:%M UTC"),
            frozen,
        )

    # ------------------------------------------------------------------ the sweep

    async def sweep(self) -> int:
        """Deliver every due reminder within its grace that some channel still lacks.

        Also records the misses a failed plan could not record. Returns how many
        deliveries were attempted. The ledger failing is logged in one line and
        left to the next sweep.
        """
        try:
            return await self._sweep()
        except asyncio.CancelledError:  # the bot is stopping: what is left is resumed later
            log.info("stopped while sweeping; the next start takes it up again")
            return 0

    async def _sweep(self) -> int:
        try:
            await self._record_pending_missed()
            await self._measure_fan_out()
            now = self.clock.now()
            attempted = 0
            for reminder in list(self.reminders.values()):
                if self.starts_at(reminder) <= now and now - reminder.due_at <= self._grace():
                    attempted += await self._deliver_all(reminder)
        except LedgerError as error:
            log.warning("sweep: the ledger is unavailable (%s); trying again later", error)
            return 0
        return attempted

    async def _record_pending_missed(self) -> None:
        """Record as missed each reminder whose grace has run out, once per reminder."""
        now = self.clock.now()
        for reminder in self.reminders.values():
            if (
                reminder.id not in self._closed
                and reminder.due_at <= now
                and now - reminder.due_at > self._grace()
                and status(reminder.event, now) is not Status.PAST
            ):
                await self._record_missed(reminder, GRACE_RAN_OUT)
                self._closed.add(reminder.id)

    # ------------------------------------------------------------------ delivery

    async def _fire(self, reminder_id: str, attempt: int = 0) -> None:
        """Deliver one reminder to every channel that lacks it; on a ledger failure, try again."""
        reminder = self.reminders.get(reminder_id)
        if reminder is None:
            return
        try:
            count = await self._deliver_all(reminder)
        except asyncio.CancelledError:  # the bot is stopping: what is left is resumed later
            log.info("stopped while delivering %s; the next start takes it up again", reminder_id)
            return
        except LedgerError as error:
            wait = min(LEDGER_RETRY_FIRST * 2**attempt, self.timing.sweep)
            log.warning(
                "reminder %s is due but the ledger is unavailable (%s): trying again in %d s",
                reminder.id,
                error,
                wait.total_seconds(),
            )
            self.scheduler.add_job(
                self._fire,
                DateTrigger(run_date=self.now_real() + wait, timezone=UTC),
                args=[reminder.id, attempt + 1],
                id=f"again:{reminder.id}",
                name=reminder.id,
                replace_existing=True,
            )
            return
        if count:
            log.info("reminder %s: %d deliveries attempted", reminder.id, count)

    async def _deliver_all(self, reminder: Reminder) -> int:
        """Deliver ``reminder`` to every active channel not yet settled, on each platform this
        process sends for; return how many deliveries it attempted."""
        total = 0
        for platform, poster in self.posters.items():
            if platform in self.election.lost:
                raise LedgerError(f"the {platform} sender lock was lost with the database")
            if not self.election.may_send(platform):
                continue
            channels = await asyncio.to_thread(self.ledger.active_channels, platform)
            settled = await asyncio.to_thread(self.ledger.settled_channels, reminder.id, platform)
            todo = [channel for channel in channels if channel not in settled]
            total += len(todo)
            if todo:
                log.info(
                    "reminder %s is due at %s: posting to %d %s channel(s)",
                    reminder.id,
                    reminder.due_at.strftime("%Y-%m-%d %H:%M:%S UTC"),
                    len(todo),
                    platform,
                )
                await self._fan_out(poster, reminder, todo)
        return total

    async def _fan_out(self, poster: Poster, reminder: Reminder, channels: list[str]) -> None:
        """Post to ``channels`` through a few workers, claiming a batch at a time.

        Channels without a delivery yet are claimed ``CLAIM_BATCH`` at once; the others
        (a retry, a resumed claim) one by one. Memory stays flat however many channels.
        """
        platform = poster.platform
        if (reminder.id, platform) in self._fanning:
            return  # already under way here (a due job and a sweep met): it covers these
        self._fanning.add((reminder.id, platform))
        try:
            await self._fan_out_once(poster, reminder, channels)
        finally:
            self._fanning.discard((reminder.id, platform))

    async def _fan_out_once(self, poster: Poster, reminder: Reminder, channels: list[str]) -> None:
        platform = poster.platform

        def items() -> Iterator[list[tuple[str, Claim | None]]]:
            for start in range(0, len(channels), CLAIM_BATCH):
                yield [(channel, None) for channel in channels[start : start + CLAIM_BATCH]]

        batches = items()
        pending: list[tuple[str, Claim | None]] = []
        lock = asyncio.Lock()

        async def next_item() -> tuple[str, Claim | None] | None:
            async with lock:
                while not pending:
                    batch = next(batches, None)
                    if batch is None or self._stopping or not self.election.may_send(platform):
                        return None
                    pending.extend(await self._claim_batch(poster, reminder, batch))
                return pending.pop(0)

        async def worker() -> None:
            current = asyncio.current_task()
            while not self._stopping and (item := await next_item()) is not None:
                if current is not None and current.cancelling():
                    return  # stopped mid-delivery: the claim is resumed at the next start
                channel, claim = item
                await self._deliver(poster, channel, reminder, claim)

        workers = [
            asyncio.create_task(worker())
            for _ in range(min(self.timing.concurrency, len(channels)))
        ]
        self._workers[platform].update(workers)
        progress = None
        if len(channels) > LISTED_POSTS:
            progress = asyncio.create_task(self._progress(poster, reminder, len(channels)))
        try:
            await asyncio.gather(*workers, return_exceptions=True)
        finally:
            self._workers[platform].difference_update(workers)
            if progress is not None:
                progress.cancel()
            await self.recorder.flush()

    @property
    def _post_level(self) -> int:
        """Each post is logged at INFO, except in a fan-out too large to list (DEBUG then,
        with a progress line every ``PROGRESS_EVERY``)."""
        return logging.DEBUG if self._large_fan_outs else logging.INFO

    async def _progress(self, poster: Poster, reminder: Reminder, total: int) -> None:
        """Say how a large fan-out is going, every ``PROGRESS_EVERY``, then how it ended."""
        self._large_fan_outs += 1
        began = monotonic()
        try:
            while True:
                await asyncio.sleep(PROGRESS_EVERY.total_seconds())
                await self._log_progress(poster, reminder, total, began)
        finally:
            self._large_fan_outs -= 1

    async def _log_progress(
        self, poster: Poster, reminder: Reminder, total: int, began: float
    ) -> None:
        try:
            settled = await asyncio.to_thread(
                self.ledger.settled_channels, reminder.id, poster.platform
            )
        except LedgerError:
            return
        log.info(
            "reminder %s: %d of %d %s channel(s) done after %d s",
            reminder.id,
            len(settled),
            total,
            poster.platform,
            monotonic() - began,
        )

    def _reply(self, reminder: Reminder, now: datetime, late: bool) -> Reply:
        """The reminder as posted: the same for every channel within a minute (it says how
        soon the event is, to the minute), so a fan-out renders it once a minute."""
        minute = now.replace(second=0, microsecond=0)
        key = (reminder.id, minute, late)
        cached = self._replies.get(key)
        if cached is None:
            brief = self.library.brief(reminder.brief_id)
            cached = reminder_reply(reminder, brief, minute, late=late)
            self._replies = {key: cached}  # only the current minute's is kept
        return cached

    async def _claim_batch(
        self, poster: Poster, reminder: Reminder, batch: list[tuple[str, Claim | None]]
    ) -> list[tuple[str, Claim | None]]:
        """The batch with a claim for each channel that had no delivery yet (one transaction);
        the others are claimed one by one when their turn comes."""
        keys = [DeliveryKey(reminder.id, poster.platform, channel) for channel, _ in batch]
        claims = await asyncio.to_thread(
            self.ledger.claim_new,
            keys,
            event_id=reminder.event.id,
            due_at=reminder.due_at,
            owner=self.owner,
            now=self.now_real(),
            lease=self.timing.lease,
        )
        new = {claim.delivery.key.channel_id: claim for claim in claims}
        return [(channel, new.get(channel)) for channel, _ in batch]

    async def _retry(self, reminder_id: str, platform: str, channel: str) -> None:
        reminder = self.reminders.get(reminder_id)
        poster = self.posters.get(platform)
        if reminder is not None and poster is not None:
            await self._deliver(poster, channel, reminder)
            await self.recorder.flush()

    def _later(self, reminder: Reminder, platform: str, channel: str, at: datetime) -> None:
        self.scheduler.add_job(
            self._retry,
            DateTrigger(run_date=at, timezone=UTC),
            args=[reminder.id, platform, channel],
            id=f"retry:{reminder.id}:{platform}:{channel}",
            name=f"{reminder.id} → {platform}:{channel}",
            replace_existing=True,
        )

    async def _deliver(
        self, poster: Poster, channel: str, reminder: Reminder, claim: Claim | None = None
    ) -> None:
        task = asyncio.current_task()
        if task is not None:
            self._running.add(task)
        key = DeliveryKey(reminder.id, poster.platform, channel)
        try:
            async with self._slots:
                await self._deliver_once(poster, channel, reminder, claim)
        except asyncio.CancelledError:  # the bot is stopping: this job ends here, quietly
            log.info(
                "stopped while delivering %s to %s:%s; the next start takes it up again",
                reminder.id,
                poster.platform,
                channel,
            )
        except LedgerError as error:
            retry_at = self.now_real() + RETRY_BACKOFF[0]
            log.warning(
                "delivering %s to %s:%s: the ledger is unavailable (%s); trying again at %s",
                reminder.id,
                poster.platform,
                channel,
                error,
                retry_at.strftime("%H:%M:%S UTC"),
            )
            self._later(reminder, poster.platform, channel, retry_at)
        except Exception:  # one channel's surprise must not stop the others
            log.exception("delivering %s to %s:%s failed", reminder.id, poster.platform, channel)
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

    async def _deliver_once(
        self, poster: Poster, channel: str, reminder: Reminder, claim: Claim | None
    ) -> None:
        key = DeliveryKey(reminder.id, poster.platform, channel)
        where = f"{poster.platform}:{channel}"
        if not self.election.may_send(poster.platform):
            return  # another process sends here now
        if claim is None:
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
            await self._missed_in(key, reminder, GRACE_RAN_OUT)
            return
        try:
            if claim.outcome in (ClaimOutcome.RESUME, ClaimOutcome.RETRY) and (
                await self._already_posted(poster, key, claim)
            ):
                return
            late = lateness > LATE_AFTER + self._tolerance()
            if not await self.election.confirm(poster.platform):
                return  # no longer the sender: the claim is resumed by the one that is
            message_id = await poster.post(
                channel, self._reply(reminder, now, late), nonce=key.nonce()
            )
        except ChannelUnavailable as error:
            await self._broken(key, str(error))
        except PostFailed as error:
            attempt = min(claim.delivery.attempts, len(RETRY_BACKOFF)) - 1
            retry_at = self.now_real() + RETRY_BACKOFF[max(attempt, 0)]
            log.warning(
                "posting %s to %s failed (%s): looking for it, then retrying, at %s",
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
            await self.recorder.record(key, message_id, late=late)
            log.log(
                self._post_level,
                "posted reminder %s to %s%s",
                reminder.id,
                where,
                " (late)" if late else "",
            )

    async def _already_posted(self, poster: Poster, key: DeliveryKey, claim: Claim) -> bool:
        """Whether an earlier attempt's post is in the channel (a crash, a reply lost on the
        way back); if so it is recorded as sent."""
        since = (claim.delivery.first_claimed_at or self.now_real()) - LOOKBACK
        found = await self._find(poster, key.channel_id, key, since)
        if found is None:
            return False
        log.info(
            "reminder %s was already in %s:%s (message %s)",
            key.reminder_id,
            key.platform,
            key.channel_id,
            found,
        )
        await asyncio.to_thread(
            self.ledger.mark_sent, key, now=self.now_real(), message_id=found, late=False
        )
        return True

    async def _find(
        self, poster: Poster, channel: str, key: DeliveryKey, since: datetime
    ) -> str | None:
        """The earlier post of ``key``, if the channel holds one.

        A search that fails for now raises ``PostFailed`` (the delivery is retried,
        not posted blind); a channel whose history the bot cannot read is posted
        to with the nonce alone, and the operator is told once.
        """
        try:
            return await poster.find_post(channel, key.nonce(), since=since)
        except SearchBlind as error:
            if (key.platform, channel) not in self._blind_warned:
                self._blind_warned.add((key.platform, channel))
                log.warning(
                    "cannot look for an earlier post in %s:%s (%s): posting again, "
                    "which may show twice if the earlier post went through",
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

    async def _mark_missed(self, key: DeliveryKey, reminder: Reminder, why: str) -> bool:
        """Record ``key`` as missed unless it is settled; True if the ledger changed."""
        return await asyncio.to_thread(
            self.ledger.mark_missed,
            key,
            event_id=reminder.event.id,
            due_at=reminder.due_at,
            now=self.now_real(),
            reason=why,
        )

    async def _missed_in(self, key: DeliveryKey, reminder: Reminder, why: str) -> None:
        if await self._mark_missed(key, reminder, why):
            log.warning(
                "reminder %s (due %s) missed in %s:%s: %s; not posted, to avoid a flood",
                reminder.id,
                reminder.due_at.strftime("%Y-%m-%d %H:%M UTC"),
                key.platform,
                key.channel_id,
                why,
            )

    async def _record_missed(self, reminder: Reminder, why: str) -> None:
        """Record ``reminder`` as missed in every channel still lacking it: a few statements
        per 500 channels, on each platform this process sends for."""
        changed = 0
        for platform in self.posters:
            if not self.election.may_send(platform):
                continue
            channels = await asyncio.to_thread(self.ledger.active_channels, platform)
            settled = await asyncio.to_thread(self.ledger.settled_channels, reminder.id, platform)
            unsettled = [channel for channel in channels if channel not in settled]
            if unsettled:
                changed += await asyncio.to_thread(
                    self.ledger.mark_missed_many,
                    reminder.id,
                    platform,
                    unsettled,
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
