"""The reminder scheduler with a recording poster and a real SQLite ledger."""

import asyncio
import logging
from collections.abc import Callable, Iterator
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path

import pytest

from bot.core.clock import Clock
from bot.core.library import Library
from bot.core.reminders import parse_offsets
from bot.core.reply import Reply
from bot.delivery.ledger import DeliveryKey, DeliveryState, Ledger
from bot.delivery.posting import ChannelUnavailable, PostFailed, SearchBlind
from bot.delivery.scheduler import ReminderScheduler, Timing

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
        ledger.subscribe("test", channel, guild_id=None, source="command", now=datetime.now(UTC))


async def settle(scheduler: ReminderScheduler, seconds: float = 0.3) -> None:
    await asyncio.sleep(seconds)
    assert scheduler.scheduler.running


def test_due_within_grace_is_posted_late_and_older_is_missed(
    library: Library, ledger: Ledger, caplog: pytest.LogCaptureFixture
) -> None:
    subscribe(ledger, "a", "b")
    poster = RecordingPoster()
    clock = Clock(G20_1D + timedelta(hours=3), 0.0)

    async def main() -> None:
        scheduler = ReminderScheduler(library, clock, ledger, [poster], TIMING)
        await scheduler.start()
        await settle(scheduler)
        await scheduler.stop()

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


def test_a_restart_posts_nothing_twice(library: Library, ledger: Ledger) -> None:
    subscribe(ledger, "a", "b", "c")
    poster = RecordingPoster()

    async def once() -> None:
        scheduler = ReminderScheduler(
            library, Clock(G20_1D + timedelta(minutes=1), 0.0), ledger, [poster], TIMING
        )
        await scheduler.start()
        await settle(scheduler)
        await scheduler.stop()

    asyncio.run(once())
    asyncio.run(once())
    assert len(poster.posts) == 3


def test_a_resumed_claim_finds_the_earlier_post(library: Library, ledger: Ledger) -> None:
    """A crash between posting and recording: the post found in the channel prevents a repost."""
    subscribe(ledger, "a")
    poster = RecordingPoster()
    key = DeliveryKey("g20-hamburg-2017:1d", "test", "a")
    long_ago = datetime.now(UTC) - timedelta(minutes=5)
    ledger.claim(
        key,
        event_id="g20-hamburg-2017",
        due_at=G20_1D,
        owner="dead",
        now=long_ago,
        lease=timedelta(seconds=1),
    )
    poster.history["a"] = [key.nonce()]

    async def main() -> None:
        scheduler = ReminderScheduler(library, Clock(G20_1D, 0.0), ledger, [poster], TIMING)
        await scheduler.start()
        await settle(scheduler)
        await scheduler.stop()

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

    async def main() -> None:
        scheduler = ReminderScheduler(library, Clock(G20_7D, 0.0), ledger, [poster], TIMING)
        await scheduler.start()
        await settle(scheduler)
        await scheduler.stop()

    with caplog.at_level(logging.WARNING):
        asyncio.run(main())
    assert [channel for channel, _, _ in poster.posts] == ["good"]
    states = {s.channel_id: (s.state, s.reason) for s in ledger.subscriptions(platform="test")}
    assert states["gone"] == ("broken", "the channel is gone (404: Unknown Channel)")
    assert states["good"][0] == "active"
    assert ledger.active_channels("test") == ["good"]
    assert sum("gone is broken" in r.message for r in caplog.records) == 1


def test_a_failed_post_is_retried(
    library: Library, ledger: Ledger, monkeypatch: pytest.MonkeyPatch
) -> None:
    from bot.delivery import scheduler as module

    monkeypatch.setattr(module, "RETRY_BACKOFF", (timedelta(milliseconds=200),))
    subscribe(ledger, "a")
    poster = RecordingPoster()
    poster.failures["a"] = [PostFailed("Discord answered 503: try later")]

    async def main() -> None:
        scheduler = ReminderScheduler(library, Clock(G20_7D, 0.0), ledger, [poster], TIMING)
        await scheduler.start()
        await settle(scheduler, 1.0)
        await scheduler.stop()

    asyncio.run(main())
    assert len(poster.posts) == 1
    delivery = ledger.get(DeliveryKey("g20-hamburg-2017:7d", "test", "a"))
    assert delivery is not None
    assert delivery.state is DeliveryState.SENT
    assert delivery.attempts == 2


def test_accelerated_clock_fires_in_order(library: Library, ledger: Ledger) -> None:
    subscribe(ledger, "a")
    poster = RecordingPoster()
    start = G20_7D - timedelta(hours=1)
    clock = Clock(start, 400_000.0)  # 7 days in about 1.5 s

    async def main() -> None:
        scheduler = ReminderScheduler(library, clock, ledger, [poster], TIMING)
        await scheduler.start()
        await asyncio.sleep(2.5)
        await scheduler.stop()

    asyncio.run(main())
    titles = [reply.title for _, reply, _ in poster.posts]
    assert titles == [
        "Reminder: G20 leaders’ summit in 7 days",
        "Reminder: G20 leaders’ summit tomorrow",
        "Reminder: G20 leaders’ summit begins today",
    ]


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
        assert set(after) - {"sweep"} == {
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
    settings = Settings(
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
