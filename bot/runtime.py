"""What every platform runs on, below the platforms: the runtime, the platform protocol, and
serving the configured platforms with one reminder scheduler.

``bot.app`` wires these together for each mode; the platforms import from here,
never from ``bot.app``.
"""

import asyncio
import contextlib
import logging
import signal
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Protocol

from bot.core.clock import Clock
from bot.core.library import Library
from bot.core.loading import load_library
from bot.core.problems import BriefsInvalid
from bot.delivery.ledger import Ledger
from bot.delivery.posting import Poster
from bot.delivery.scheduler import ReminderScheduler, Timing
from bot.delivery.subscriptions import sync_settings_channels
from bot.settings import Settings

log = logging.getLogger(__name__)


class PlatformStartError(Exception):
    """A chat platform could not be started; the message says why, without secrets."""


@dataclass
class Runtime:
    """What every mode of the bot runs on."""

    settings: Settings
    library: Library
    clock: Clock
    on_reload: list[Callable[[], None]] = field(default_factory=list)
    """Called after each reload that took new briefs (they start what they do themselves)."""


def timing_from(settings: Settings) -> Timing:
    """The reminder timing an operator configured."""
    return Timing(
        offsets=settings.reminder_offsets,
        all_day_at=settings.reminder_all_day_at,
        grace=settings.reminder_grace,
        lease=settings.reminder_claim_lease,
    )


class Platform(Protocol):
    """A chat platform the bot serves: it starts, serves until closed, and posts reminders."""

    @property
    def name(self) -> str:
        """How logs name the platform."""

    @property
    def poster(self) -> Poster:
        """How reminders are posted there."""

    @property
    def channel_ids(self) -> Sequence[str]:
        """Channels the settings subscribe to reminders."""

    def attach(self, scheduler: ReminderScheduler) -> None:
        """Give the platform the shared scheduler (for commands that show the plan)."""

    async def start(self) -> None:
        """Connect and authenticate; raise ``PlatformStartError`` with a clear message."""

    async def serve(self) -> None:
        """Serve until closed or cancelled."""

    async def close(self) -> None:
        """Disconnect."""


async def reload_briefs(runtime: Runtime, scheduler: ReminderScheduler) -> bool:
    """Load the briefs again and replan; a broken brief is refused and the old ones kept."""
    try:
        library = await asyncio.to_thread(
            load_library, runtime.settings.briefs_dir, runtime.settings.seeds_dir
        )
    except BriefsInvalid as error:
        log.error(
            "reload refused, keeping the briefs already loaded: %d problem(s): %s",
            len(error.problems),
            "; ".join(str(problem) for problem in error.problems),
        )
        return False
    runtime.library = library
    await scheduler.replan(library)
    log.info("reloaded %d brief(s)", len(library.briefs))
    for listener in list(runtime.on_reload):
        listener()
    return True


class Reloader:
    """Reloads the briefs on SIGHUP, from the first moment of a run.

    A SIGHUP that arrives while the platforms are still starting is kept and
    carried out once the scheduler runs, instead of ending the process (the
    signal's default).
    """

    def __init__(self, runtime: Runtime) -> None:
        self.runtime = runtime
        self.scheduler: ReminderScheduler | None = None
        self.requested = False
        self._pending: set[asyncio.Task[bool]] = set()

    def install(self) -> None:
        """Take over SIGHUP on the running loop (nothing on Windows, which has none)."""
        loop = asyncio.get_running_loop()
        with contextlib.suppress(NotImplementedError, AttributeError, ValueError):
            loop.add_signal_handler(signal.SIGHUP, self.request)

    def request(self) -> None:
        """Reload now, or as soon as the scheduler runs."""
        if self.scheduler is None:
            if not self.requested:
                log.info("SIGHUP received while starting: the briefs are reloaded once started")
            self.requested = True
            return
        task = asyncio.get_running_loop().create_task(reload_briefs(self.runtime, self.scheduler))
        self._pending.add(task)
        task.add_done_callback(self._pending.discard)

    def attach(self, scheduler: ReminderScheduler) -> None:
        """The scheduler runs: carry out a reload asked for meanwhile."""
        self.scheduler = scheduler
        if self.requested:
            self.requested = False
            self.request()


async def serve_platforms(
    runtime: Runtime,
    ledger: Ledger,
    platforms: Sequence[Platform],
    reloader: Reloader | None = None,
) -> None:
    """Start every platform, then run one reminder scheduler over all of them until cancelled.

    Processes sharing the ledger elect one sender per platform (``bot.delivery.election``).
    """
    if reloader is None:
        reloader = Reloader(runtime)
        reloader.install()
    scheduler = ReminderScheduler(
        runtime.library,
        runtime.clock,
        ledger,
        [platform.poster for platform in platforms],
        timing_from(runtime.settings),
        senders={
            platform.poster.platform: ledger.sender_lock(platform.poster.platform)
            for platform in platforms
        },
    )
    serving: list[asyncio.Future[None]] = []
    try:
        for platform in platforms:
            await platform.start()
            await asyncio.to_thread(
                sync_settings_channels,
                ledger,
                platform.poster.platform,
                platform.channel_ids,
                datetime.now(UTC),
                runtime.settings.instance,
            )
            platform.attach(scheduler)
        # The gateways connect while the scheduler plans (recording what was missed while
        # the bot was down can take a while): commands are answered meanwhile.
        serving = [asyncio.ensure_future(platform.serve()) for platform in platforms]
        await scheduler.start()
        reloader.attach(scheduler)
        await asyncio.gather(*serving)
    finally:
        for task in serving:
            task.cancel()
        await asyncio.gather(*serving, return_exceptions=True)
        await scheduler.stop()
        for platform in platforms:
            await platform.close()
