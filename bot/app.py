"""Putting the bot together: settings → briefs → clock → the platforms that are configured."""

import asyncio
import contextlib
import logging
import signal
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Protocol

from rich.console import Console

from bot.core.clock import Clock
from bot.core.library import Library
from bot.core.loading import load_library
from bot.core.problems import BriefsInvalid
from bot.delivery.ledger import Ledger, LedgerError
from bot.delivery.posting import Poster
from bot.delivery.scheduler import ReminderScheduler, timing_from
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


def start(settings: Settings) -> Runtime:
    """Load the briefs and set the clock. Raises ``BriefsInvalid`` for a broken brief."""
    library = load_library(settings.briefs_dir)
    clock = Clock(settings.as_of, settings.clock_speed)
    return Runtime(settings, library, clock)


def quiet_delivery_log() -> None:
    """In the terminal chat, reminders show as posts: INFO log lines would only repeat them."""
    delivery = logging.getLogger("bot.delivery")
    debugging = logging.getLogger().level <= logging.DEBUG
    if delivery.getEffectiveLevel() < logging.WARNING and not debugging:
        delivery.setLevel(logging.WARNING)


def open_ledger(settings: Settings) -> Ledger:
    """The delivery ledger; raises ``PlatformStartError`` naming the database if it cannot open."""
    settings.prepare_data_dir()
    try:
        return Ledger.open(settings.database)
    except LedgerError as error:
        raise PlatformStartError(str(error)) from None


async def run_console(
    runtime: Runtime, console: Console, ledger: Ledger, reloader: "Reloader | None" = None
) -> None:
    """The local console chat, with reminders posted into its channel."""
    from bot.platforms.console.poster import ConsolePoster
    from bot.platforms.console.session import ConsoleSession

    quiet_delivery_log()
    session = ConsoleSession(runtime.library, runtime.clock, console)
    poster = ConsolePoster(session)
    await asyncio.to_thread(
        sync_settings_channels, ledger, poster.platform, [poster.channel], datetime.now(UTC)
    )
    scheduler = ReminderScheduler(
        runtime.library, runtime.clock, ledger, [poster], timing_from(runtime.settings)
    )
    await scheduler.start()
    if reloader is not None:
        reloader.attach(scheduler)
    try:
        history = runtime.settings.prepare_data_dir() / "console_history"
        await session.run(history=history)
    finally:
        await scheduler.stop()


async def run_console_alone(runtime: Runtime, console: Console) -> None:
    """``briefbot console``: the console with its own ledger."""
    ledger = open_ledger(runtime.settings)
    try:
        await run_console(runtime, console, ledger)
    finally:
        ledger.close()


async def run(runtime: Runtime, console: Console) -> None:
    """The bot's main process: every configured platform, or the console when there is none."""
    log.info(
        "loaded %d brief(s) from %s: %s",
        len(runtime.library.briefs),
        runtime.settings.briefs_dir,
        ", ".join(brief.id for brief in runtime.library.briefs),
    )
    reloader = Reloader(runtime)
    reloader.install()
    ledger = open_ledger(runtime.settings)
    log.info("delivery ledger: %s", ledger.url_for_display)
    try:
        await _run_platforms(runtime, console, ledger, reloader)
    finally:
        ledger.close()


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
        library = await asyncio.to_thread(load_library, runtime.settings.briefs_dir)
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
    """Start every platform, then run one reminder scheduler over all of them until cancelled."""
    if reloader is None:
        reloader = Reloader(runtime)
        reloader.install()
    scheduler = ReminderScheduler(
        runtime.library,
        runtime.clock,
        ledger,
        [platform.poster for platform in platforms],
        timing_from(runtime.settings),
    )
    try:
        for platform in platforms:
            await platform.start()
            await asyncio.to_thread(
                sync_settings_channels,
                ledger,
                platform.poster.platform,
                platform.channel_ids,
                datetime.now(UTC),
            )
            platform.attach(scheduler)
        await scheduler.start()
        reloader.attach(scheduler)
        await asyncio.gather(*(platform.serve() for platform in platforms))
    finally:
        await scheduler.stop()
        for platform in platforms:
            await platform.close()


async def _run_platforms(
    runtime: Runtime, console: Console, ledger: Ledger, reloader: Reloader
) -> None:
    settings = runtime.settings
    if settings.discord_token is None and settings.slack_bot_token is None:
        log.info(
            "no platform token is configured (DISCORD_TOKEN, SLACK_BOT_TOKEN): "
            "running the local console"
        )
        await run_console(runtime, console, ledger, reloader)
        return
    platforms: list[Platform] = []
    if settings.discord_token is not None:
        from bot.platforms.discord.runner import DiscordPlatform

        platforms.append(DiscordPlatform(runtime, ledger))
    if settings.slack_bot_token is not None:
        from bot.platforms.slack.runner import SlackPlatform

        platforms.append(SlackPlatform(runtime, ledger))
    log.info("starting %s", " and ".join(platform.name for platform in platforms))
    main = asyncio.current_task()
    assert main is not None
    loop = asyncio.get_running_loop()
    with contextlib.suppress(NotImplementedError):  # not on Windows
        loop.add_signal_handler(signal.SIGTERM, main.cancel)
    try:
        await serve_platforms(runtime, ledger, platforms, reloader)
    except asyncio.CancelledError:
        log.info("stopped")
