"""``briefbot demo``: replay the newest brief from its "as of" date at high speed, in the console.

The answers first, then the reminders arriving in order as the virtual days
fly by, then "nothing upcoming". It runs on a throwaway ledger, so it leaves
nothing behind.
"""

import asyncio
import tempfile
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
from bot.delivery.scheduler import ReminderScheduler
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


async def run_demo(library: Library, settings: Settings, console: Console, seconds: float) -> None:
    """Replay the brief in about ``seconds`` real seconds."""
    quiet_delivery_log()
    start, end = replay_window(library, settings)
    speed = (end - start).total_seconds() / seconds
    clock = Clock(start, speed)
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
        scheduler = ReminderScheduler(library, clock, ledger, [poster], timing_from(settings))
        await scheduler.start()
        try:
            await _tick_until(clock, end, console, seconds)
        finally:
            await scheduler.stop()
            ledger.close()
    console.print(Text("> /next-meeting", style="dim"))
    console.print(session.handle("/next-meeting"))


async def _tick_until(clock: Clock, end: datetime, console: Console, seconds: float) -> None:
    """Show the virtual date now and then, until the replay is over."""
    step = seconds / TICKS
    while clock.now() < end:
        console.print(Text(f"\u00b7 {day_words(clock.now().date())}", style="dim"))
        await asyncio.sleep(min(step, max(clock.real_seconds_until(end), 0.01)))
