"""``briefbot demo`` in process: the replay's order and timing hold however slow the machine.

The demo's real time only paces it: these tests hand it a pause that takes no
real time at all, or one that stands for a machine stalled for an hour at every
step (the bot's real clock jumps an hour each time it is read), and the replay
is the same.
"""

import asyncio
import io
import logging
import re
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from rich.console import Console

from bot.core.library import Library
from bot.core.reminders import plan
from bot.demo import replay_window, run_demo
from bot.settings import Settings
from tests.conftest import BRIEFS

MARKS = [
    "briefbot demo",
    "Putin–Abe summit · The Kremlin, Moscow",
    "29 memorandums of understanding",
    "Next meeting: G20 leaders’ summit",
    "Reminder: G20 leaders’ summit in 7 days",
    "Reminder: G20 leaders’ summit tomorrow",
    "Reminder: G20 leaders’ summit begins today",
    "Reminder: 3rd Eastern Economic Forum in 7 days",
    "Reminder: 3rd Eastern Economic Forum tomorrow",
    "Reminder: 3rd Eastern Economic Forum begins today",
    "Nothing upcoming",
]


@pytest.fixture(autouse=True)
def delivery_log_level() -> Iterator[None]:
    """The demo quiets the delivery log process-wide; put it back."""
    logger = logging.getLogger("bot.delivery")
    level = logger.level
    yield
    logger.setLevel(level)


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return Settings.model_construct(
        briefs_dir=BRIEFS, data_dir=tmp_path / "data", as_of=None, speed=None, log_level="INFO"
    )


class Pauses:
    """The demo's pauses, recorded; none takes real time."""

    def __init__(self) -> None:
        self.asked: list[float] = []

    async def __call__(self, seconds: float) -> None:
        self.asked.append(seconds)

    def now_real(self) -> datetime:
        return datetime.now(UTC)


class StalledMachine(Pauses):
    """A machine so busy that every step takes an hour of real time."""

    def __init__(self) -> None:
        super().__init__()
        self.now = datetime(2026, 12, 1, 12, 0, tzinfo=UTC)

    def now_real(self) -> datetime:
        self.now += timedelta(hours=1)
        return self.now

    async def __call__(self, seconds: float) -> None:
        await super().__call__(seconds)
        self.now += timedelta(hours=1)


def replay(library: Library, settings: Settings, seconds: float, pauses: Pauses) -> str:
    out = io.StringIO()
    console = Console(file=out, width=100, color_system=None, force_terminal=False)
    asyncio.run(
        run_demo(library, settings, console, seconds, pause=pauses, now_real=pauses.now_real)
    )
    return out.getvalue()


def assert_replayed_in_order(out: str) -> None:
    positions = [out.find(mark) for mark in MARKS]
    assert -1 not in positions, [m for m, p in zip(MARKS, positions, strict=True) if p < 0]
    assert positions == sorted(positions), "in this order"
    assert out.count("Reminder: ") == 6, "each reminder once"
    assert "Late reminder" not in out


def test_the_demo_replays_answers_then_reminders_in_order_at_their_due_instants(
    library: Library, settings: Settings, caplog: pytest.LogCaptureFixture
) -> None:
    pauses = Pauses()
    with caplog.at_level(logging.WARNING):
        out = replay(library, settings, 60, pauses)
    assert_replayed_in_order(out)
    posted = re.findall(r"#briefing · briefbot · (\d{4}-\d\d-\d\d \d\d:\d\d) UTC", out)
    start, _ = replay_window(library, settings)
    due = [
        r.due_at.strftime("%Y-%m-%d %H:%M")
        for r in plan(library, settings.reminder_offsets, settings.reminder_all_day_at)
        if r.due_at >= start
    ]
    assert posted == due, "each posted at its due instant"
    assert not [r for r in caplog.records if "missed" in r.getMessage()]
    assert all(seconds >= 0 for seconds in pauses.asked)
    assert sum(pauses.asked) == pytest.approx(60), "paced to the seconds asked for"


def test_a_stalled_machine_delays_the_demo_but_changes_nothing_in_it(
    library: Library, settings: Settings, caplog: pytest.LogCaptureFixture
) -> None:
    calm = replay(library, settings, 4, Pauses())
    stalled = StalledMachine()
    with caplog.at_level(logging.WARNING):
        out = replay(library, settings, 4, stalled)
    assert stalled.now - datetime(2026, 12, 1, 12, 0, tzinfo=UTC) > timedelta(days=1)
    assert_replayed_in_order(out)
    assert out == calm, "the same replay, only later"
    assert not [r for r in caplog.records if "missed" in r.getMessage()]


@pytest.mark.parametrize("seconds", [0.001, 1.0, 3600.0])
def test_any_speed_replays_every_reminder(
    library: Library, settings: Settings, seconds: float
) -> None:
    pauses = Pauses()
    assert_replayed_in_order(replay(library, settings, seconds, pauses))
    assert sum(pauses.asked) == pytest.approx(seconds)
