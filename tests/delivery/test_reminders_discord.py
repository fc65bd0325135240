"""Reminders through the real discord.py client and the loopback Discord stand-in."""

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from bot.core.clock import Clock
from bot.core.library import Library
from bot.core.loading import load_library
from bot.core.reminders import parse_offsets, plan
from bot.delivery.ledger import DeliveryKey, DeliveryState, Ledger, SubscriptionState
from bot.delivery.scheduler import ReminderScheduler
from bot.runtime import Runtime
from bot.settings import Settings
from standins.discord_payloads import StandInUser
from standins.discord_standin import DiscordStandIn
from tests.delivery.test_scheduler import until
from tests.platforms.discord_harness import GUILD, TOKEN, LogCapture, run, running_bot, settings_for

CHANNELS = [1_300_000_000_000_000_101 + n for n in range(4)]
POST = r"^/channels/{}/messages$"
ADMIN = StandInUser(1_300_000_000_000_000_600, "admin", "Admin", permissions=str(1 << 3))


def standin(**options: Any) -> DiscordStandIn:
    channels = [(channel, f"news-{n}") for n, channel in enumerate(CHANNELS)]
    return DiscordStandIn(token=TOKEN, channels=channels, **options)


def footer(post: Any) -> str:
    text: str = post.json["embeds"][0]["footer"]["text"]
    return text


def titles(posts: list[Any], channel: int) -> list[str]:
    return [p.json["embeds"][0]["title"] for p in posts if p.channel_id == channel]


def scheduler_made(monkeypatch: pytest.MonkeyPatch) -> list[ReminderScheduler]:
    """The schedulers the bot makes from now on, so a test can drive them."""
    made: list[ReminderScheduler] = []

    class Kept(ReminderScheduler):
        def __init__(self, *args: Any, **kwargs: Any) -> None:
            super().__init__(*args, **kwargs)
            made.append(self)

    monkeypatch.setattr("bot.runtime.ReminderScheduler", Kept)
    return made


def settled(settings: Settings, reminder_id: str, *channels: str) -> Callable[[], bool]:
    """Whether the ledger records ``reminder_id`` as settled in every one of ``channels``."""

    def check() -> bool:
        ledger = Ledger.open(settings.database)
        try:
            return set(channels) <= ledger.settled_channels(reminder_id, "discord")
        finally:
            ledger.close()

    return check


def broken(settings: Settings, *channels: str) -> Callable[[], bool]:
    """Whether the ledger records every one of ``channels`` as broken."""

    def check() -> bool:
        ledger = Ledger.open(settings.database)
        try:
            states = {s.channel_id: s.state for s in ledger.subscriptions(platform="discord")}
        finally:
            ledger.close()
        return all(states.get(c) is SubscriptionState.BROKEN for c in channels)

    return check


def close_events(brief_copy: Callable[..., Path]) -> Library:
    """The shipped brief with the Eastern Economic Forum moved right after the G20."""
    briefs = brief_copy(
        ("start = 2017-09-06\nend = 2017-09-07", "start = 2017-07-09\nend = 2017-07-10")
    )
    return load_library(briefs)


def test_reminders_fire_at_their_virtual_times_in_order(
    tmp_path: Path, brief_copy: Callable[..., Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    """The test moves the bot's clock from one due instant to the next and runs the sweep
    the scheduler runs every minute: each reminder goes out at its time, not a minute early."""
    library = close_events(brief_copy)
    offsets = parse_offsets("2d,1d,1h")
    start = datetime(2017, 7, 5, 6, 0, tzinfo=UTC)
    made = scheduler_made(monkeypatch)

    async def main() -> None:
        async with standin() as fake:
            settings = settings_for(
                fake,
                tmp_path / "data",
                reminder_offsets=offsets,
                reminder_channel_ids=tuple(str(c) for c in CHANNELS[:3]),
            )
            async with running_bot(fake, Runtime(settings, library, Clock(start, 0.0))):
                (scheduler,) = made
                for reminder in plan(library, offsets, settings.reminder_all_day_at):
                    if reminder.due_at < start:
                        continue
                    scheduler.clock = Clock(reminder.due_at - timedelta(minutes=1), 0.0)
                    assert await scheduler.sweep() == 0, f"{reminder.id} is not posted early"
                    before = len(fake.posts)
                    scheduler.clock = Clock(reminder.due_at, 0.0)
                    assert await scheduler.sweep() == 3, reminder.id
                    await fake.wait_for_posts(before + 3, timeout=20)
            expected = [
                "Reminder: G20 leaders’ summit in 2 days",
                "Reminder: G20 leaders’ summit tomorrow",
                "Reminder: 3rd Eastern Economic Forum in 2 days",
                "Reminder: G20 leaders’ summit begins today",
                "Reminder: 3rd Eastern Economic Forum tomorrow",
                "Reminder: 3rd Eastern Economic Forum begins today",
            ]
            assert len(fake.posts) == 18
            for channel in CHANNELS[:3]:
                assert titles(fake.posts, channel) == expected
            assert titles(fake.posts, CHANNELS[3]) == [], "not subscribed"
            for post in fake.posts:
                assert post.json["allowed_mentions"] == {"parse": []}
                assert post.nonce is not None
                assert len(str(post.nonce)) <= 25
                (row,) = post.json["components"]
                button, calendar = row["components"]
                assert button["label"] == "Sources"
                assert button["custom_id"].startswith(f"rem:{post.nonce}:")
                assert calendar["label"] == "Add to calendar"
                assert calendar["custom_id"].startswith("cal:")
                assert str(post.nonce) not in footer(post), "the nonce is never shown"
            body = post.json["embeds"][0]
            assert "Why it matters" in [field["name"] for field in body["fields"]]
            assert "/next-meeting" in str(body)
            fake.assert_clean()

    run(main, timeout=60)


def test_downtime_posts_late_within_grace_and_records_the_rest_as_missed(
    tmp_path: Path, library: Library
) -> None:
    async def main() -> None:
        async with standin() as fake:
            settings = settings_for(
                fake, tmp_path / "data", reminder_channel_ids=(str(CHANNELS[0]), str(CHANNELS[1]))
            )
            back = datetime(2017, 7, 6, 10, 0, tzinfo=UTC)  # 3 h after the G20's 1d reminder
            with LogCapture().installed() as capture:
                async with running_bot(fake, Runtime(settings, library, Clock(back, 0.0))):
                    await fake.wait_for_posts(2, timeout=10)
                    await until(settled(settings, "g20-hamburg-2017:1d", *map(str, CHANNELS[:2])))
            assert len(fake.posts) == 2, "one late post per channel, no flood"
            for post in fake.posts:
                assert (
                    post.json["embeds"][0]["title"] == "Late reminder: G20 leaders’ summit tomorrow"
                )
                fields = {f["name"]: f["value"] for f in post.json["embeds"][0]["fields"]}
                assert "due 3 hours earlier" in fields["Posted late"]
            ledger = Ledger.open(settings.database)
            try:
                missed = ledger.get(DeliveryKey("g20-hamburg-2017:7d", "discord", str(CHANNELS[0])))
                assert missed is not None
                assert missed.state is DeliveryState.MISSED
                late = ledger.get(DeliveryKey("g20-hamburg-2017:1d", "discord", str(CHANNELS[1])))
                assert late is not None
                assert late.state is DeliveryState.SENT
                assert late.late
            finally:
                ledger.close()
            assert any(
                "g20-hamburg-2017:7d" in line and "missed in 2" in line for line in capture.lines
            )
            fake.assert_clean()

    run(main)


def test_broken_channels_and_flaky_posts(tmp_path: Path, library: Library) -> None:
    async def main() -> None:
        async with standin() as fake:
            good, flaky, forbidden, deleted = (str(c) for c in CHANNELS)
            fake.forbid_channel(int(forbidden))
            fake.delete_channel(int(deleted))
            fake.fail_next("POST", POST.format(good), 429, times=2, retry_after=0.05)
            fake.fail_next("POST", POST.format(flaky), 500, times=1)
            settings = settings_for(
                fake, tmp_path / "data", reminder_channel_ids=(good, flaky, forbidden, deleted)
            )
            at = datetime(2017, 6, 30, 7, 0, tzinfo=UTC)
            with LogCapture().installed() as capture:
                async with running_bot(fake, Runtime(settings, library, Clock(at, 0.0))):
                    await fake.wait_for_posts(2, timeout=15)
                    await until(settled(settings, "g20-hamburg-2017:7d", good, flaky))
                    await until(broken(settings, forbidden, deleted))
            assert sorted(p.channel_id for p in fake.posts) == sorted([int(good), int(flaky)])
            ledger = Ledger.open(settings.database)
            try:
                states = {s.channel_id: s for s in ledger.subscriptions(platform="discord")}
                assert states[forbidden].state is SubscriptionState.BROKEN
                assert "403" in (states[forbidden].reason or "")
                assert states[deleted].state is SubscriptionState.BROKEN
                assert "404" in (states[deleted].reason or "")
                assert states[good].state is states[flaky].state is SubscriptionState.ACTIVE
            finally:
                ledger.close()
            broken_lines = [line for line in capture.lines if "is broken" in line]
            assert len(broken_lines) == 2, "each broken channel is logged once"
            # The next reminder goes to the good channels and leaves the broken ones alone.
            later = datetime(2017, 7, 6, 7, 0, tzinfo=UTC)
            async with running_bot(fake, Runtime(settings, library, Clock(later, 0.0))):
                await fake.wait_for_posts(4, timeout=15)
                await until(settled(settings, "g20-hamburg-2017:1d", good, flaky))
            assert len(fake.posts) == 4
            knocks = [r for r in fake.requests if r.path == f"/channels/{forbidden}/messages"]
            assert len(knocks) == 1
            fake.assert_clean()

    run(main, timeout=60)


def test_reminders_commands(tmp_path: Path, library: Library) -> None:
    async def main() -> None:
        async with standin(member=ADMIN) as fake:
            settings = settings_for(fake, tmp_path / "data")
            at = datetime(2017, 6, 1, tzinfo=UTC)
            async with running_bot(fake, Runtime(settings, library, Clock(at, 0.0))):
                sub = await fake.send_command(
                    "reminders subscribe", {"channel": CHANNELS[2]}, guild_id=GUILD
                )
                answer = await sub.wait_response()
                assert answer.data is not None
                assert answer.data["flags"] & 64
                assert answer.data["content"].startswith(
                    f"<#{CHANNELS[2]}> will get reminders (6 planned)"
                )
                listing = await (
                    await fake.send_command("reminders list", guild_id=GUILD)
                ).wait_response()
                assert listing.data is not None
                embed = listing.data["embeds"][0]
                fields = {f["name"]: f["value"] for f in embed["fields"]}
                assert f"<#{CHANNELS[2]}> · active" in fields["Channels"]
                assert (
                    "G20 leaders’ summit · 7d before"
                    in fields["Upcoming reminders (to 1 channel(s))"]
                )
                gone = await fake.send_command(
                    "reminders unsubscribe", {"channel": CHANNELS[2]}, guild_id=GUILD
                )
                done = await gone.wait_response()
                assert done.data is not None
                assert done.data["content"] == f"<#{CHANNELS[2]}> will get no more reminders."
            fake.assert_clean()

    run(main)
