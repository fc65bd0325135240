"""``briefbot demo``: replay the newest brief from its "as of" date at high speed, in the console.

The answers first, then the reminders arriving in order as the virtual days
fly by, then "nothing upcoming". It runs on a throwaway ledger, so it leaves
nothing behind.
"""

import asyncio
import tempfile
from collections.abc import Awaitable, Callable
from datetime import datetime, time, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

from rich.console import Console
from rich.text import Text

from bot.core.clock import Clock
from bot.core.dates import day_words
from bot.core.library import Library
from bot.core.reminders import plan
from bot.delivery.ledger import Ledger
from bot.delivery.scheduler import ReminderScheduler, real_now
from bot.delivery.subscriptions import sync_settings_channels
from bot.log import quiet_delivery_log
from bot.platforms.console.poster import ConsolePoster
from bot.platforms.console.session import ConsoleSession
from bot.runtime import timing_from
from bot.settings import Settings

TICKS = 8


def replay_window(library: Library, settings: Settings) -> tuple[datetime, datetime]:
    """From the newest brief's "as of" morning to just after its last event ends."""
    brief = library.newest
    start = datetime.combine(brief.as_of, time(9, 0), ZoneInfo(brief.summit.time_zone))
    ends = [event.ends_at() for _, event in library.events(brief.id)]
    reminders = plan(library, settings.reminder_offsets, settings.reminder_all_day_at)
    last = max([*ends, *(r.due_at for r in reminders), start + timedelta(days=1)])
    return start, last + timedelta(hours=1)


class Timeline:
    """The replay's own time: virtual seconds since its start, moved only by the replay.

    The demo's clock reads this instead of the machine's monotonic clock, so the
    virtual time cannot run past a reminder while the machine is busy elsewhere.
    """

    def __init__(self) -> None:
        self.elapsed = 0.0

    def __call__(self) -> float:
        return self.elapsed


async def run_demo(
    library: Library,
    settings: Settings,
    console: Console,
    seconds: float,
    *,
    pause: Callable[[float], Awaitable[None]] = asyncio.sleep,
    now_real: Callable[[], datetime] = real_now,
) -> None:
    """Replay the brief in about ``seconds`` real seconds.

    The virtual clock moves from one stop to the next (each reminder's due
    instant, each date shown, the end), and at each stop the scheduler delivers
    what is due before the clock moves on. Real time only paces the replay
    (``pause``): a slow or stalled machine makes it take longer, and every
    reminder is still posted once, at its due instant, never late or missed.
    """
    quiet_delivery_log()
    start, end = replay_window(library, settings)
    speed = (end - start).total_seconds() / seconds
    timeline = Timeline()
    clock = Clock(start, 1.0, _monotonic=timeline)
    session = ConsoleSession(library, clock, console)
    brief = library.newest
    reminders = [
        r
        for r in plan(library, settings.reminder_offsets, settings.reminder_all_day_at)
        if r.due_at >= start
    ]
    console.print(
        Text.assemble(
            ("briefbot demo", "bold"),
            f" \u00b7 replaying \u201c{brief.title}\u201d from {day_words(brief.as_of)}"
            f" at {speed:,.0f}\u00d7 speed: {len(reminders)} reminders in about {seconds:.0f} s.",
        )
    )
    for typed in ("/summit", "/mous", "/next-meeting"):
        console.print(Text(f"> {typed}", style="dim"))
        console.print(session.handle(typed))
    with tempfile.TemporaryDirectory(prefix="briefbot-demo-") as folder:
        ledger = Ledger.open(f"sqlite:///{Path(folder) / 'demo.sqlite3'}")
        poster = ConsolePoster(session)
        sync_settings_channels(ledger, poster.platform, [poster.channel], clock.now())
        scheduler = ReminderScheduler(
            library, clock, ledger, [poster], timing_from(settings), now_real=now_real
        )
        try:
            await scheduler.replan(library)
            for stop, show_date in _stops(start, end, [r.due_at for r in reminders]):
                await pause((stop - clock.now()).total_seconds() / speed)
                timeline.elapsed = (stop - start).total_seconds()
                if show_date:
                    console.print(Text(f"\u00b7 {day_words(clock.now().date())}", style="dim"))
                await scheduler.sweep()
        finally:
            await scheduler.stop()
            ledger.close()
    console.print(Text("> /next-meeting", style="dim"))
    console.print(session.handle("/next-meeting"))


def _stops(start: datetime, end: datetime, due: list[datetime]) -> list[tuple[datetime, bool]]:
    """Where the replay's clock stops, in order, and whether the date is shown there.

    ``TICKS`` evenly spaced dates from the start, every due instant, and the end.
    """
    step = (end - start) / TICKS
    stops = {
        start + timedelta(seconds=round((step * n).total_seconds())): True for n in range(TICKS)
    }
    for instant in [*due, end]:
        if start <= instant <= end:
            stops.setdefault(instant, False)
    return sorted(stops.items())
