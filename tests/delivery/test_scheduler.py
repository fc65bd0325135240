"""The reminder scheduler with a recording poster and a real SQLite ledger.

Time passes only as the test says: the virtual clock and the real clock the
scheduler's jobs run on are the test's, and ``run_due`` runs every job whose
real time has come, as APScheduler would. One test runs the real APScheduler and
waits for a condition, never for an amount of time.
"""

import asyncio
import logging
from collections.abc import Callable, Iterator
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path
from typing import Any

import pytest
from apscheduler.triggers.date import DateTrigger

from bot.core.clock import Clock
from bot.core.library import Library
from bot.core.reminders import parse_offsets
from bot.core.reply import Reply
from bot.delivery.ledger import (
    DeliveryKey,
    DeliveryState,
    Ledger,
    SubscriptionSource,
    SubscriptionState,
)
from bot.delivery.posting import ChannelUnavailable, PostFailed, SearchBlind
from bot.delivery.scheduler import RETRY_BACKOFF, ReminderScheduler, Timing

TIMING = Timing(
    offsets=parse_offsets("7d,1d,1h"),
    all_day_at=time(9, 0),
    grace=timedelta(hours=6),
    lease=timedelta(seconds=30),
)
G20_7D = datetime(2017, 6, 30, 7, 0, tzinfo=UTC)
G20_1D = datetime(2017, 7, 6, 7, 0, tzinfo=UTC)


class RecordingPoster:
    """A platform that keeps what it was asked to post, and fails where told."""

    platform = "test"
    posts_per_second = float("inf")

    def __init__(self) -> None:
        self.posts: list[tuple[str, Reply, str]] = []
        self.failures: dict[str, list[Exception]] = {}
        self.lost_replies: dict[str, int] = {}  # posts stored whose answer is then lost
        self.history: dict[str, list[str]] = {}  # the nonces each channel's posts carry
        self.blind: set[str] = set()  # channels whose history the bot cannot read
        self.searches = 0

    async def post(self, channel_id: str, reply: Reply, *, nonce: str) -> str | None:
        pending = self.failures.get(channel_id)
        if pending:
            raise pending.pop(0)
        self.posts.append((channel_id, reply, nonce))
        self.history.setdefault(channel_id, []).append(nonce)
        if self.lost_replies.get(channel_id, 0) > 0:
            self.lost_replies[channel_id] -= 1
            raise PostFailed("Discord answered 502: Bad Gateway")
        return f"m{len(self.posts)}"

    async def find_post(self, channel_id: str, nonce: str, *, since: datetime) -> str | None:
        self.searches += 1
        if channel_id in self.blind:
            raise SearchBlind("missing Read Message History")
        return "found" if nonce in self.history.get(channel_id, []) else None


@pytest.fixture
def ledger(tmp_path: Path) -> Iterator[Ledger]:
    opened = Ledger.open(f"sqlite:///{tmp_path / 'ledger.sqlite3'}")
    yield opened
    opened.close()


def subscribe(ledger: Ledger, *channels: str) -> None:
    for channel in channels:
        ledger.subscribe(
            "test", channel, guild_id=None, source=SubscriptionSource.COMMAND, now=datetime.now(UTC)
        )


class RealTime:
    """The real clock as the test sets it: a datetime, and the monotonic seconds behind it."""

    EPOCH = datetime(2026, 12, 1, 12, 0, tzinfo=UTC)

    def __init__(self) -> None:
        self.now = self.EPOCH

    def __call__(self) -> datetime:
        return self.now

    def monotonic(self) -> float:
        return (self.now - self.EPOCH).total_seconds()

    def advance(self, seconds: float) -> None:
        self.now += timedelta(seconds=seconds)


async def until(condition: Callable[[], bool], within: float = 30.0, every: float = 0.01) -> None:
    """Wait for ``condition`` (written by another task, thread or process), at most ``within``
    seconds, checking it ``every`` so often."""
    async with asyncio.timeout(within):
        while not condition():  # noqa: ASYNC110 (the ledger is written from worker threads)
            await asyncio.sleep(every)


def driven(
    library: Library, clock: Clock, ledger: Ledger, poster: RecordingPoster, real: RealTime
) -> ReminderScheduler:
    """A scheduler whose APScheduler is never started: ``run_due`` runs its jobs."""
    return ReminderScheduler(library, clock, ledger, [poster], TIMING, now_real=real)


async def run_due(
    scheduler: ReminderScheduler, real: RealTime, until: datetime | None = None
) -> list[str]:
    """Run, soonest first, every one-shot job due by ``until`` (default: the real now).

    The real clock moves to each job's time before it runs, as if APScheduler had
    waited for it. Returns the ids of the jobs that ran.
    """
    limit = until or real.now
    ran: list[str] = []
    while True:
        jobs: dict[str, Any] = {}
        for job in scheduler.scheduler.get_jobs():  # not started: the last one added wins
            if isinstance(job.trigger, DateTrigger):
                jobs[job.id] = job
        due = sorted(
            (job.trigger.run_date, job_id)
            for job_id, job in jobs.items()
            if job.trigger.run_date <= limit
        )
        if not due:
            return ran
        at, job_id = due[0]
        for job in scheduler.scheduler.get_jobs():
            if job.id == job_id:
                job.remove()
        real.now = max(real.now, at)
        await jobs[job_id].func(*jobs[job_id].args)
        ran.append(job_id)


def test_due_within_grace_is_posted_late_and_older_is_missed(
    library: Library, ledger: Ledger, caplog: pytest.LogCaptureFixture
) -> None:
    subscribe(ledger, "a", "b")
    poster = RecordingPoster()
    clock = Clock(G20_1D + timedelta(hours=3), 0.0)
    real = RealTime()

    async def main() -> None:
        scheduler = driven(library, clock, ledger, poster, real)
        await scheduler.replan(library)
        assert await run_due(scheduler, real) == ["reminder:g20-hamburg-2017:1d"]

    with caplog.at_level(logging.INFO):
        asyncio.run(main())
    assert sorted(channel for channel, _, _ in poster.posts) == ["a", "b"]
    assert all(reply.title.startswith("Late reminder:") for _, reply, _ in poster.posts)
    missed = ledger.get(DeliveryKey("g20-hamburg-2017:7d", "test", "a"))
    assert missed is not None
    assert missed.state is DeliveryState.MISSED
    assert any("g20-hamburg-2017:7d" in r.message and "missed" in r.message for r in caplog.records)
    sent = ledger.get(DeliveryKey("g20-hamburg-2017:1d", "test", "b"))
    assert sent is not None
    assert sent.state is DeliveryState.SENT
    assert sent.late


def test_the_running_scheduler_fires_a_due_reminder(library: Library, ledger: Ledger) -> None:
    """The real APScheduler on the loop runs the job that ``start`` plans for a due reminder."""
    subscribe(ledger, "a", "b")
    poster = RecordingPoster()

    async def main() -> None:
        scheduler = ReminderScheduler(library, Clock(G20_7D, 0.0), ledger, [poster], TIMING)
        await scheduler.start()
        try:
            await until(lambda: len(ledger.settled_channels("g20-hamburg-2017:7d", "test")) == 2)
        finally:
            await scheduler.stop()

    asyncio.run(main())
    assert sorted(channel for channel, _, _ in poster.posts) == ["a", "b"]
    assert all(reply.title.startswith("Reminder:") for _, reply, _ in poster.posts)


def test_a_restart_posts_nothing_twice(library: Library, ledger: Ledger) -> None:
    subscribe(ledger, "a", "b", "c")
    poster = RecordingPoster()
    real = RealTime()

    async def once() -> None:
        clock = Clock(G20_1D + timedelta(minutes=1), 0.0)
        scheduler = driven(library, clock, ledger, poster, real)
        await scheduler.replan(library)
        await run_due(scheduler, real)
        await scheduler.sweep()

    asyncio.run(once())
    real.advance(3600)
    asyncio.run(once())
    assert len(poster.posts) == 3


def test_a_resumed_claim_finds_the_earlier_post(library: Library, ledger: Ledger) -> None:
    """A crash between posting and recording: the post found in the channel prevents a repost."""
    subscribe(ledger, "a")
    poster = RecordingPoster()
    real = RealTime()
    key = DeliveryKey("g20-hamburg-2017:1d", "test", "a")
    ledger.claim(
        key,
        event_id="g20-hamburg-2017",
        due_at=G20_1D,
        owner="dead",
        now=real.now - timedelta(minutes=5),
        lease=timedelta(seconds=1),
    )
    poster.history["a"] = [key.nonce()]

    async def main() -> None:
        scheduler = driven(library, Clock(G20_1D, 0.0), ledger, poster, real)
        await scheduler.replan(library)
        await run_due(scheduler, real)

    asyncio.run(main())
    assert poster.posts == []
    delivery = ledger.get(key)
    assert delivery is not None
    assert delivery.state is DeliveryState.SENT
    assert delivery.message_id == "found"


def test_a_broken_channel_stops_only_itself(
    library: Library, ledger: Ledger, caplog: pytest.LogCaptureFixture
) -> None:
    subscribe(ledger, "good", "gone")
    poster = RecordingPoster()
    poster.failures["gone"] = [ChannelUnavailable("the channel is gone (404: Unknown Channel)")]
    real = RealTime()

    async def main() -> None:
        scheduler = driven(library, Clock(G20_7D, 0.0), ledger, poster, real)
        await scheduler.replan(library)
        await run_due(scheduler, real)
        real.advance(3600)
        await run_due(scheduler, real)
        await scheduler.sweep()

    with caplog.at_level(logging.WARNING):
        asyncio.run(main())
    assert [channel for channel, _, _ in poster.posts] == ["good"]
    states = {s.channel_id: (s.state, s.reason) for s in ledger.subscriptions(platform="test")}
    assert states["gone"] == (
        SubscriptionState.BROKEN,
        "the channel is gone (404: Unknown Channel)",
    )
    assert states["good"][0] is SubscriptionState.ACTIVE
    assert ledger.active_channels("test") == ["good"]
    assert sum("gone is broken" in r.message for r in caplog.records) == 1


def test_a_failed_post_is_retried(library: Library, ledger: Ledger) -> None:
    subscribe(ledger, "a")
    poster = RecordingPoster()
    poster.failures["a"] = [PostFailed("Discord answered 503: try later")]
    real = RealTime()

    async def main() -> None:
        scheduler = driven(library, Clock(G20_7D, 0.0), ledger, poster, real)
        await scheduler.replan(library)
        assert await run_due(scheduler, real) == ["reminder:g20-hamburg-2017:7d"]
        assert poster.posts == []
        retry = scheduler.scheduler.get_job("retry:g20-hamburg-2017:7d:test:a")
        assert retry is not None
        assert retry.trigger.run_date == real.now + RETRY_BACKOFF[0]
        assert await run_due(scheduler, real, until=real.now + RETRY_BACKOFF[0]) == [retry.id]

    asyncio.run(main())
    assert len(poster.posts) == 1
    delivery = ledger.get(DeliveryKey("g20-hamburg-2017:7d", "test", "a"))
    assert delivery is not None
    assert delivery.state is DeliveryState.SENT
    assert delivery.attempts == 2


def test_accelerated_clock_fires_in_order_at_the_real_times_of_their_due_instants(
    library: Library, ledger: Ledger
) -> None:
    subscribe(ledger, "a")
    poster = RecordingPoster()
    real = RealTime()
    start = G20_7D - timedelta(hours=1)
    speed = 400_000.0  # 7 days in about 1.5 real seconds
    clock = Clock(start, speed, _monotonic=real.monotonic)
    posted_at: list[datetime] = []
    post = poster.post

    async def stamped(channel_id: str, reply: Reply, *, nonce: str) -> str | None:
        posted_at.append(clock.now())
        return await post(channel_id, reply, nonce=nonce)

    poster.post = stamped  # type: ignore[method-assign]

    async def main() -> None:
        scheduler = driven(library, clock, ledger, poster, real)
        await scheduler.replan(library)
        for job in scheduler.scheduler.get_jobs():
            if job.id.startswith("reminder:"):
                due = scheduler.reminders[job.name].due_at
                expected = RealTime.EPOCH + (due - start) / speed
                assert abs(job.trigger.run_date - expected) < timedelta(milliseconds=1), job.name
        await run_due(scheduler, real, until=RealTime.EPOCH + timedelta(seconds=2))

    asyncio.run(main())
    titles = [reply.title for _, reply, _ in poster.posts]
    assert titles == [
        "Reminder: G20 leaders’ summit in 7 days",
        "Reminder: G20 leaders’ summit tomorrow",
        "Reminder: G20 leaders’ summit begins today",
    ]
    dues = [G20_7D, G20_1D, G20_1D + timedelta(days=1)]  # the 1h one at the all-day start
    for virtual, due in zip(posted_at, dues, strict=True):
        assert abs(virtual - due) < timedelta(seconds=1), "each fires at its virtual due time"


def test_replan_moves_and_cancels(library: Library, ledger: Ledger) -> None:
    subscribe(ledger, "a")
    poster = RecordingPoster()
    g20 = library.newest.events[0]
    moved = g20.model_copy(update={"start": date(2017, 7, 14), "end": date(2017, 7, 15)})
    changed = Library.of([library.newest.model_copy(update={"events": [moved]})])

    async def main() -> None:
        scheduler = ReminderScheduler(
            library, Clock(G20_7D - timedelta(days=1), 1.0), ledger, [poster], TIMING
        )
        await scheduler.start()
        before = {job.id for job in scheduler.scheduler.get_jobs()}
        assert "reminder:eastern-economic-forum-2017:7d" in before
        await scheduler.replan(changed)
        after = {job.id: job for job in scheduler.scheduler.get_jobs()}
        assert "reminder:eastern-economic-forum-2017:7d" not in after
        assert set(after) - {"sweep", "watch"} == {
            "reminder:g20-hamburg-2017:7d",
            "reminder:g20-hamburg-2017:1d",
            "reminder:g20-hamburg-2017:1h",
        }
        assert scheduler.reminders["g20-hamburg-2017:7d"].due_at == datetime(
            2017, 7, 7, 7, 0, tzinfo=UTC
        )
        await scheduler.stop()

    asyncio.run(main())


def test_reload_replans_and_refuses_a_broken_brief(
    ledger: Ledger, brief_copy: Callable[..., Path], caplog: pytest.LogCaptureFixture
) -> None:
    from bot.core.loading import load_library
    from bot.runtime import Runtime, reload_briefs
    from bot.settings import Settings

    briefs = brief_copy()
    brief_file = briefs / "russia-japan-summit-2017.toml"
    settings = Settings.model_construct(
        briefs_dir=briefs, data_dir=briefs.parent, as_of=None, speed=None, log_level="INFO"
    )
    library = load_library(briefs)
    runtime = Runtime(settings, library, Clock(G20_7D - timedelta(days=30), 1.0))

    async def main() -> None:
        scheduler = ReminderScheduler(library, runtime.clock, ledger, [RecordingPoster()], TIMING)
        await scheduler.start()
        text = brief_file.read_text(encoding="utf-8")
        brief_file.write_text(
            text.replace(
                "start = 2017-07-07\nend = 2017-07-08", "start = 2017-07-14\nend = 2017-07-15"
            ),
            encoding="utf-8",
        )
        assert await reload_briefs(runtime, scheduler)
        moved = scheduler.reminders["g20-hamburg-2017:7d"].due_at
        assert moved == datetime(2017, 7, 7, 7, 0, tzinfo=UTC)
        brief_file.write_text(
            text.replace('time_zone = "Europe/Berlin"', 'time_zone = "Nowhere"'), encoding="utf-8"
        )
        assert not await reload_briefs(runtime, scheduler)
        assert scheduler.reminders["g20-hamburg-2017:7d"].due_at == moved, "the old plan stands"
        assert runtime.library.newest.events[0].start == date(2017, 7, 14)
        await scheduler.stop()

    with caplog.at_level(logging.INFO):
        asyncio.run(main())
    assert any(
        "reload refused, keeping the briefs already loaded" in r.message for r in caplog.records
    )
    assert any("unknown time zone 'Nowhere'" in r.message for r in caplog.records)
