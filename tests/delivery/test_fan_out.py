"""Large fan-outs: they start early enough to end by the due time, run on a few workers, and
only the elected sender of a platform posts."""

import asyncio
from datetime import timedelta
from pathlib import Path

from apscheduler.triggers.date import DateTrigger

from bot.core.clock import Clock
from bot.core.library import Library
from bot.core.reply import Reply
from bot.delivery.election import HANDOVER
from bot.delivery.fanout import EARLY_START_MIN, early_start, fan_out_time
from bot.delivery.ledger import DeliveryState, Ledger, SubscriptionSource
from bot.delivery.scheduler import ReminderScheduler
from tests.delivery.test_scheduler import (
    G20_7D,
    TIMING,
    RealTime,
    RecordingPoster,
    run_due,
)


class PacedPoster(RecordingPoster):
    """A platform that takes ``posts_per_second`` posts a second, and counts posts in flight."""

    def __init__(self, posts_per_second: float) -> None:
        super().__init__()
        self.posts_per_second = posts_per_second
        self.in_flight = 0
        self.most_in_flight = 0

    async def post(self, channel_id: str, reply: Reply, *, nonce: str) -> str | None:
        self.in_flight += 1
        self.most_in_flight = max(self.most_in_flight, self.in_flight)
        try:
            await asyncio.sleep(0)  # let the other workers in
            return await super().post(channel_id, reply, nonce=nonce)
        finally:
            self.in_flight -= 1


def subscribe_many(ledger: Ledger, count: int) -> list[str]:
    channels = [str(10**17 + n) for n in range(count)]
    ledger.sync_named("test", channels, now=G20_7D)
    return channels


def test_how_early_a_fan_out_starts() -> None:
    assert fan_out_time(1, 48) == timedelta(0)
    assert fan_out_time(1_000, 48) == timedelta(seconds=999 / 48)
    assert early_start({"discord": 1_000}, {"discord": 48}) == timedelta(0), "20.8 s: on time"
    assert early_start({"discord": 50_000}, {"discord": 48}) == timedelta(seconds=49_999 / 48)
    assert early_start({"discord": 10, "slack": 2_000}, {"discord": 48, "slack": 20}) == (
        timedelta(seconds=1_999 / 20)
    )
    assert early_start({"console": 10**6}, {"console": float("inf")}) == timedelta(0)
    assert timedelta(seconds=30) == EARLY_START_MIN


def test_a_large_fan_out_starts_early_so_the_last_channel_has_it_by_its_due_time(
    library: Library, tmp_path: Path
) -> None:
    ledger = Ledger.open(f"sqlite:///{tmp_path / 'ledger.sqlite3'}")
    channels = subscribe_many(ledger, 2_000)
    poster = PacedPoster(posts_per_second=20)  # 2,000 channels: 99.95 s
    clock = Clock(G20_7D - timedelta(hours=1), 1.0)
    real = RealTime()
    scheduler = ReminderScheduler(library, clock, ledger, [poster], TIMING, now_real=real)

    async def main() -> None:
        await scheduler.replan(library)
        assert scheduler.lead == timedelta(seconds=1_999 / 20)
        job = scheduler.scheduler.get_job("reminder:g20-hamburg-2017:7d")
        assert isinstance(job.trigger, DateTrigger)
        started = real.now + timedelta(hours=1) - scheduler.lead
        assert abs(job.trigger.run_date - started) < timedelta(seconds=1)
        # the sweep agrees: due in 101 s, nothing yet; due in 99 s, posting
        scheduler.clock = Clock(G20_7D - timedelta(seconds=101), 0.0)
        assert await scheduler.sweep() == 0
        scheduler.clock = Clock(G20_7D - timedelta(seconds=99), 0.0)
        assert await scheduler.sweep() == len(channels)

    try:
        asyncio.run(main())
        assert len(poster.posts) == len(channels)
        assert poster.most_in_flight <= TIMING.concurrency, "a few workers, not a task each"
        assert ledger.counts()[DeliveryState.SENT] == len(channels)
    finally:
        ledger.close()


def test_only_the_elected_sender_posts_and_a_standby_takes_over_when_it_stops(
    library: Library, tmp_path: Path
) -> None:
    """Two schedulers on one SQLite file: the first to start sends; the other, after the
    first stops and its lock is free, posts what is left."""
    url = f"sqlite:///{tmp_path / 'ledger.sqlite3'}"
    first_ledger, second_ledger = Ledger.open(url), Ledger.open(url)
    for channel in ("a", "b", "c"):
        first_ledger.subscribe(
            "test", channel, guild_id=None, source=SubscriptionSource.COMMAND, now=G20_7D
        )
    clock = Clock(G20_7D, 0.0)
    real = RealTime()
    first_poster, second_poster = RecordingPoster(), RecordingPoster()

    def made(ledger: Ledger, poster: RecordingPoster) -> ReminderScheduler:
        return ReminderScheduler(
            library,
            clock,
            ledger,
            [poster],
            TIMING,
            now_real=real,
            senders={"test": ledger.sender_lock("test")},
        )

    async def main() -> None:
        first, second = made(first_ledger, first_poster), made(second_ledger, second_poster)
        await first.watch()
        await second.watch()
        assert first.election.may_send("test")
        assert not second.election.may_send("test")
        await first.replan(library)
        await second.replan(library)
        assert await second.sweep() == 0, "a standby posts nothing"
        await run_due(second, real)
        assert second_poster.posts == []
        # the sender stops mid fan-out (a cancellation, as at SIGTERM)
        first_poster.failures["c"] = [asyncio.CancelledError()]  # type: ignore[list-item]
        await first.sweep()
        await first.election.close()
        await second.watch()  # the lock is free: the standby becomes the sender
        assert second.election.may_send("test")
        assert await second.sweep() == 1, "c is claimed by the first: nothing posted yet"
        assert second_poster.posts == []
        real.now += HANDOVER
        await second.watch()  # the handover: c's claim is released, and a sweep is due now
        assert second.scheduler.get_job("sweep-now") is not None
        assert await second.sweep() == 1

    try:
        asyncio.run(main())
        assert sorted(channel for channel, _, _ in first_poster.posts) == ["a", "b"]
        assert [channel for channel, _, _ in second_poster.posts] == ["c"]
    finally:
        first_ledger.close()
        second_ledger.close()


def test_a_due_job_and_a_sweep_that_meet_make_one_fan_out(library: Library, tmp_path: Path) -> None:
    """The due job and the minute's sweep both find the reminder due: one fan-out runs, the
    other returns, and no channel is left to a retry job; the reply is rendered once."""
    ledger = Ledger.open(f"sqlite:///{tmp_path / 'ledger.sqlite3'}")
    channels = subscribe_many(ledger, 300)
    poster = PacedPoster(posts_per_second=float("inf"))
    real = RealTime()
    scheduler = ReminderScheduler(
        library, Clock(G20_7D, 0.0), ledger, [poster], TIMING, now_real=real
    )

    async def main() -> None:
        await scheduler.replan(library)
        await asyncio.gather(scheduler._fire("g20-hamburg-2017:7d"), scheduler.sweep())

    try:
        asyncio.run(main())
        assert sorted(channel for channel, _, _ in poster.posts) == channels
        retries = [job.id for job in scheduler.scheduler.get_jobs() if job.id.startswith("retry:")]
        assert retries == []
        assert len({id(reply) for _, reply, _ in poster.posts}) == 1, "rendered once"
    finally:
        ledger.close()
