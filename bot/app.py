"""Putting the bot together: settings → briefs → clock → the platforms that are configured."""

import asyncio
import contextlib
import logging
import os
import signal
from datetime import UTC, datetime

from rich.console import Console

from bot import log as log_setup
from bot.core.calendar_links import FeedAddress
from bot.core.clock import Clock
from bot.core.loading import load_library
from bot.delivery.ledger import Ledger, LedgerError
from bot.delivery.scheduler import ReminderScheduler
from bot.delivery.subscriptions import sync_settings_channels
from bot.runtime import (
    Platform,
    PlatformStartError,
    Reloader,
    Runtime,
    serve_platforms,
    timing_from,
)
from bot.settings import Settings

log = logging.getLogger(__name__)

STOP_DEADLINE = 30  # seconds a stop may take before the process ends at once
EXIT_OVERDUE = 1


def start(settings: Settings) -> Runtime:
    """Load the briefs and set the clock. Raises ``BriefsInvalid`` for a broken brief."""
    library = load_library(settings.briefs_dir, settings.seeds_dir)
    clock = Clock(settings.as_of, settings.clock_speed)
    return Runtime(settings, library, clock)


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

    log_setup.quiet_delivery_log()
    settings = runtime.settings
    feed = FeedAddress.of(settings.calendar_public_url, settings.calendar_http_port)
    session = ConsoleSession(runtime.library, runtime.clock, console, feed)
    poster = ConsolePoster(session)
    await asyncio.to_thread(
        sync_settings_channels,
        ledger,
        poster.platform,
        [poster.channel],
        datetime.now(UTC),
        runtime.settings.instance,
    )
    scheduler = ReminderScheduler(
        runtime.library,
        runtime.clock,
        ledger,
        [poster],
        timing_from(runtime.settings),
        senders={poster.platform: ledger.sender_lock(poster.platform)},
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
    settings = runtime.settings
    if settings.discord_token is not None or settings.slack_bot_token is not None:
        _stop_on_sigterm()
    ledger = open_ledger(settings)
    log.info("delivery ledger: %s", ledger.url_for_display)
    from bot.platforms.web import serving_feed

    try:
        async with serving_feed(runtime):  # the calendar feed, when CALENDAR_HTTP_PORT is set
            await _run_platforms(runtime, console, ledger, reloader)
    except asyncio.CancelledError:
        log.info("stopped")
    finally:
        ledger.close()


def _stop_on_sigterm() -> None:
    """SIGTERM stops the bot at any stage, start-up included, within ``STOP_DEADLINE``.

    The running task is cancelled, so every platform closes and deliveries under
    way stop between steps. A stop that hangs past the deadline ends the process
    at once: the ledger is safe against that (a claim left open is resumed, after
    a look for its post, at the next start).
    """
    main = asyncio.current_task()
    assert main is not None
    loop = asyncio.get_running_loop()

    def overdue() -> None:
        log.error("did not stop within %d s of SIGTERM: exiting now", STOP_DEADLINE)
        logging.shutdown()
        os._exit(EXIT_OVERDUE)

    def stop() -> None:
        if main.cancelling():
            return
        log.info("SIGTERM: stopping")
        main.cancel()
        loop.call_later(STOP_DEADLINE, overdue)

    with contextlib.suppress(NotImplementedError):  # not on Windows
        loop.add_signal_handler(signal.SIGTERM, stop)


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
    await serve_platforms(runtime, ledger, platforms, reloader)
