"""The scheduler heals itself: a ledger away at the due time, lost replies, blind searches.

Time is driven by hand here: the virtual clock is frozen where each test puts
it, and the real clock the ledger's leases and retries run on is a value the
test moves forward. Nothing sleeps.
"""

import asyncio
import logging
from collections.abc import Iterator
from datetime import UTC, datetime, time, timedelta
from pathlib import Path
from typing import Any

import pytest

from bot.core.clock import Clock
from bot.core.library import Library
from bot.core.reminders import parse_offsets
from bot.core.reply import Reply
from bot.delivery.ledger import (
    DeliveryKey,
    DeliveryState,
    Ledger,
    LedgerError,
    SubscriptionSource,
)
from bot.delivery.posting import PostFailed
from bot.delivery.scheduler import ReminderScheduler, Timing
from tests.delivery.test_scheduler import RecordingPoster

TIMING = Timing(
    offsets=parse_offsets("7d,1d,1h"),
    all_day_at=time(9, 0),
    grace=timedelta(hours=6),
    lease=timedelta(seconds=30),
)
G20_7D = datetime(2017, 6, 30, 7, 0, tzinfo=UTC)
REMINDER = "g20-hamburg-2017:7d"


class OutageLedger(Ledger):
    """A real SQLite ledger whose database can be made unreachable, as a server that went away."""

    down = False

    def _check(self) -> None:
        if self.down:
            raise LedgerError("the ledger at postgresql://db/briefbot failed: connection refused")

    def active_channels(self, platform: str) -> list[str]:
        self._check()
        return super().active_channels(platform)

    def settled_channels(self, reminder_id: str, platform: str) -> set[str]:
        self._check()
        return super().settled_channels(reminder_id, platform)

    def claim(self, key: DeliveryKey, **kwargs: Any) -> Any:
        self._check()
        return super().claim(key, **kwargs)

    def mark_missed(self, key: DeliveryKey, **kwargs: Any) -> bool:
        self._check()
        return super().mark_missed(key, **kwargs)


class RealTime:
    """The real clock as the test sets it."""

    def __init__(self) -> None:
        self.now = datetime(2026, 12, 1, 12, 0, tzinfo=UTC)

    def __call__(self) -> datetime:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += timedelta(seconds=seconds)


@pytest.fixture
def ledger(tmp_path: Path) -> Iterator[OutageLedger]:
    opened = OutageLedger.open(f"sqlite:///{tmp_path / 'ledger.sqlite3'}")
    for channel in ("a", "b"):
        opened.subscribe(
            "test", channel, guild_id=None, source=SubscriptionSource.COMMAND, now=datetime.now(UTC)
        )
    yield opened
    opened.close()


def scheduler_at(
    library: Library, ledger: Ledger, poster: RecordingPoster, virtual: datetime, real: RealTime
) -> ReminderScheduler:
    """A scheduler whose jobs never run by themselves: the test calls what they would."""
    scheduler = ReminderScheduler(
        library, Clock(virtual, 0.0), ledger, [poster], TIMING, now_real=real
    )
    return scheduler


def posts_per_channel(poster: RecordingPoster) -> dict[str, int]:
    counts: dict[str, int] = {}
    for channel, reply, _ in poster.posts:
        if reply.command == "reminder":
            counts[channel] = counts.get(channel, 0) + 1
    return counts


def test_a_ledger_away_when_a_reminder_falls_due_is_retried_until_posted(
    library: Library, ledger: OutageLedger, caplog: pytest.LogCaptureFixture
) -> None:
    poster = RecordingPoster()
    real = RealTime()

    async def main() -> None:
        scheduler = scheduler_at(library, ledger, poster, G20_7D, real)
        ledger.down = True
        await scheduler.replan(library)
        await scheduler._fire(REMINDER)  # the one-shot job at the due time
        assert poster.posts == []
        again = scheduler.scheduler.get_job(f"again:{REMINDER}")
        assert again is not None, "the due reminder is tried again, not dropped"
        assert await scheduler.sweep() == 0  # still away: the sweep logs and waits
        ledger.down = False
        real.advance(60)
        assert await scheduler.sweep() == 2
        assert await scheduler.sweep() == 0, "a settled reminder is not tried again"

    with caplog.at_level(logging.WARNING):
        asyncio.run(main())
    assert posts_per_channel(poster) == {"a": 1, "b": 1}
    assert "ledger is unavailable" in caplog.text
    assert "Traceback" not in caplog.text
    for channel in ("a", "b"):
        delivery = ledger.get(DeliveryKey(REMINDER, "test", channel))
        assert delivery is not None
        assert delivery.state is DeliveryState.SENT


def test_an_outage_longer_than_the_grace_is_recorded_as_missed(
    library: Library, ledger: OutageLedger, caplog: pytest.LogCaptureFixture
) -> None:
    poster = RecordingPoster()
    real = RealTime()

    async def main() -> None:
        scheduler = scheduler_at(library, ledger, poster, G20_7D, real)
        ledger.down = True
        await scheduler.replan(library)
        await scheduler._fire(REMINDER)
        scheduler.clock = Clock(G20_7D + timedelta(hours=7), 0.0)
        await scheduler.sweep()  # the grace ran out while the database was away
        ledger.down = False
        await scheduler.sweep()

    with caplog.at_level(logging.WARNING):
        asyncio.run(main())
    assert poster.posts == [], "a stale reminder is never posted"
    delivery = ledger.get(DeliveryKey(REMINDER, "test", "a"))
    assert delivery is not None
    assert delivery.state is DeliveryState.MISSED
    assert delivery.error == "it could not be posted within the grace window"
    assert f"reminder {REMINDER}" in caplog.text
    assert "missed in 2 channel(s)" in caplog.text


def test_a_reply_lost_after_the_post_was_stored_is_found_not_posted_again(
    library: Library, ledger: OutageLedger
) -> None:
    poster = RecordingPoster()
    poster.lost_replies["a"] = 1
    real = RealTime()

    async def main() -> None:
        scheduler = scheduler_at(library, ledger, poster, G20_7D, real)
        await scheduler.replan(library)
        await scheduler.sweep()
        failed = ledger.get(DeliveryKey(REMINDER, "test", "a"))
        assert failed is not None
        assert failed.state is DeliveryState.FAILED
        real.advance(10)  # past the first retry's time
        await scheduler.sweep()

    asyncio.run(main())
    assert posts_per_channel(poster) == {"a": 1, "b": 1}
    assert poster.searches == 1
    delivery = ledger.get(DeliveryKey(REMINDER, "test", "a"))
    assert delivery is not None
    assert delivery.state is DeliveryState.SENT
    assert delivery.message_id == "found"


def test_a_failed_search_posts_nothing_and_tries_again(
    library: Library, ledger: OutageLedger
) -> None:
    poster = RecordingPoster()
    poster.lost_replies["a"] = 1
    real = RealTime()

    async def main() -> None:
        scheduler = scheduler_at(library, ledger, poster, G20_7D, real)
        await scheduler.replan(library)
        await scheduler.sweep()
        real.advance(10)
        searches: list[str] = []

        async def failing(channel_id: str, nonce: str, *, since: datetime) -> str | None:
            searches.append(channel_id)
            raise PostFailed("Discord answered 503: Service Unavailable")

        original = poster.find_post
        poster.find_post = failing  # type: ignore[method-assign]
        await scheduler.sweep()
        assert searches == ["a"]
        poster.find_post = original  # type: ignore[method-assign]
        real.advance(60)
        await scheduler.sweep()

    asyncio.run(main())
    assert posts_per_channel(poster) == {"a": 1, "b": 1}, "never posted blind after a failure"


def test_a_channel_whose_history_is_unreadable_is_named_once(
    library: Library, ledger: OutageLedger, caplog: pytest.LogCaptureFixture
) -> None:
    poster = RecordingPoster()
    poster.lost_replies["a"] = 2
    poster.blind.add("a")
    real = RealTime()

    async def main() -> None:
        scheduler = scheduler_at(library, ledger, poster, G20_7D, real)
        await scheduler.replan(library)
        for _ in range(3):
            await scheduler.sweep()
            real.advance(60)

    with caplog.at_level(logging.WARNING):
        asyncio.run(main())
    warnings = [r.getMessage() for r in caplog.records if "cannot look for" in r.getMessage()]
    assert len(warnings) == 1
    assert "test:a" in warnings[0]
    assert "missing Read Message History" in warnings[0]
    delivery = ledger.get(DeliveryKey(REMINDER, "test", "a"))
    assert delivery is not None
    assert delivery.state is DeliveryState.SENT


def test_stopping_mid_delivery_ends_quietly_and_leaves_it_to_the_next_start(
    library: Library, ledger: OutageLedger, caplog: pytest.LogCaptureFixture
) -> None:
    posting = asyncio.Event()

    class StuckPoster(RecordingPoster):
        async def post(self, channel_id: str, reply: Reply, *, nonce: str) -> str | None:
            posting.set()
            await asyncio.Event().wait()  # the platform never answers
            return None

    poster = StuckPoster()
    real = RealTime()

    async def main() -> None:
        scheduler = scheduler_at(library, ledger, poster, G20_7D, real)
        await scheduler.replan(library)
        firing = asyncio.create_task(scheduler._fire(REMINDER))
        await asyncio.wait_for(posting.wait(), 30)
        await scheduler.stop()
        await asyncio.wait_for(firing, 30)

    with caplog.at_level(logging.INFO):
        asyncio.run(main())
    assert "stopped while delivering" in caplog.text
    assert not [r for r in caplog.records if r.levelno >= logging.ERROR or r.exc_info]
    delivery = ledger.get(DeliveryKey(REMINDER, "test", "a"))
    assert delivery is not None
    assert delivery.state is DeliveryState.CLAIMED, "left for the next start to resume"
