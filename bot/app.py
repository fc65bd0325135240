"""Putting the bot together: settings → briefs → clock → the platforms that are configured."""

import asyncio
import contextlib
import logging
import signal
from dataclasses import dataclass

from rich.console import Console

from bot.core.clock import Clock
from bot.core.library import Library
from bot.core.loading import load_library
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


async def run_console(runtime: Runtime, console: Console) -> None:
    """The local console chat."""
    from bot.platforms.console.session import ConsoleSession

    session = ConsoleSession(runtime.library, runtime.clock, console)
    history = runtime.settings.prepare_data_dir() / "console_history"
    await session.run(history=history)


async def run(runtime: Runtime, console: Console) -> None:
    """The bot's main process: every configured platform, or the console when there is none."""
    log.info(
        "loaded %d brief(s) from %s: %s",
        len(runtime.library.briefs),
        runtime.settings.briefs_dir,
        ", ".join(brief.id for brief in runtime.library.briefs),
    )
    if runtime.settings.discord_token is None:
        log.info("no platform token is configured (DISCORD_TOKEN): running the local console")
        await run_console(runtime, console)
        return
    from bot.platforms.discord.runner import run_discord

    main = asyncio.current_task()
    assert main is not None
    loop = asyncio.get_running_loop()
    with contextlib.suppress(NotImplementedError):  # not on Windows
        loop.add_signal_handler(signal.SIGTERM, main.cancel)
    try:
        await run_discord(runtime)
    except asyncio.CancelledError:
        log.info("stopped")
