"""Running the real briefbot Discord client against the loopback stand-in."""

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator, Callable, Coroutine
from pathlib import Path
from typing import Any

import discord
import discord.gateway
import discord.http
from pydantic import SecretStr

from bot.core.clock import Clock
from bot.core.library import Library
from bot.delivery.ledger import Ledger
from bot.platforms.discord.client import BriefBot
from bot.platforms.discord.runner import configure_endpoints, run_discord
from bot.runtime import Runtime
from bot.settings import Settings
from standins.discord_standin import DiscordStandIn
from tests.conftest import BRIEFS

TOKEN = "MTMwMDAwMDAwMDAwMDAwMDkwMA.stand-in.secret-token-value"
GUILD = 1_300_000_000_000_000_001
CHANNEL = 1_300_000_000_000_000_101
TIMEOUT = 5.0


def run(main: Callable[[], Coroutine[Any, Any, None]], timeout: float = 30.0) -> None:
    """Run one async test body on a fresh loop, bounded in time."""
    asyncio.run(asyncio.wait_for(main(), timeout))


def settings_for(standin: DiscordStandIn, data_dir: Path, **changes: Any) -> Settings:
    """Settings pointing the bot at ``standin``."""
    base = Settings.model_construct(
        briefs_dir=BRIEFS,
        data_dir=data_dir,
        as_of=None,
        speed=None,
        log_level="DEBUG",
        discord_token=SecretStr(standin.token),
        discord_guild_id=GUILD,
        discord_api_base_url=standin.api_base,
        discord_gateway_url=standin.gateway_url,
    )
    return base.model_copy(update=changes)


@contextlib.asynccontextmanager
async def running_bot(
    standin: DiscordStandIn, runtime: Runtime, *, ready: bool = True
) -> AsyncIterator[asyncio.Task[None]]:
    """Run ``run_discord`` in the background until the block ends; restore discord.py's URLs."""
    old_base = discord.http.Route.BASE
    old_gateway = discord.gateway.DiscordWebSocket.DEFAULT_GATEWAY
    runtime.settings.prepare_data_dir()
    ledger = Ledger.open(runtime.settings.database)
    task = asyncio.create_task(run_discord(runtime, ledger, guild_ready_timeout=0.05))
    try:
        if ready:
            waiter = asyncio.create_task(standin.wait_for_ready(TIMEOUT))
            done, _ = await asyncio.wait({task, waiter}, return_when=asyncio.FIRST_COMPLETED)
            if task in done:
                waiter.cancel()
                with contextlib.suppress(asyncio.CancelledError, TimeoutError):
                    await waiter
                task.result()  # raises what stopped the bot
                raise AssertionError("the bot stopped before it was ready")
            waiter.result()
            await standin.wait_for_commands(GUILD, TIMEOUT)
            await asyncio.sleep(0.1)  # on_ready after the guild timeout
        yield task
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task
        ledger.close()
        discord.http.Route.BASE = old_base
        discord.gateway.DiscordWebSocket.DEFAULT_GATEWAY = old_gateway


def make_runtime(settings: Settings, library: Library, clock: Clock) -> Runtime:
    """A runtime on the given briefs and clock."""
    return Runtime(settings, library, clock)


class LogCapture(logging.Handler):
    """Every log record's formatted text, including tracebacks."""

    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.setFormatter(logging.Formatter("%(levelname)s %(name)s: %(message)s"))
        self.lines: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.lines.append(self.format(record))

    @contextlib.contextmanager
    def installed(self) -> Any:
        root = logging.getLogger()
        old_level = root.level
        root.addHandler(self)
        root.setLevel(logging.DEBUG)
        try:
            yield self
        finally:
            root.removeHandler(self)
            root.setLevel(old_level)


@contextlib.asynccontextmanager
async def connected_bot(standin: DiscordStandIn, runtime: Runtime) -> AsyncIterator[BriefBot]:
    """A logged-in ``BriefBot`` on the gateway, ready (guilds cached), without the scheduler."""
    old_base = discord.http.Route.BASE
    old_gateway = discord.gateway.DiscordWebSocket.DEFAULT_GATEWAY
    runtime.settings.prepare_data_dir()
    configure_endpoints(runtime.settings)
    ledger = Ledger.open(runtime.settings.database)
    bot = BriefBot(runtime, ledger, guild_ready_timeout=0.05)
    runner = asyncio.create_task(bot.start(standin.token))
    ready = asyncio.create_task(bot.wait_until_ready())
    try:
        done, _ = await asyncio.wait(
            {runner, ready}, timeout=TIMEOUT, return_when=asyncio.FIRST_COMPLETED
        )
        if runner in done:
            runner.result()
        if ready not in done:
            raise TimeoutError("the bot did not become ready")
        yield bot
    finally:
        ready.cancel()
        await bot.close()
        with contextlib.suppress(asyncio.CancelledError):
            await asyncio.wait_for(runner, TIMEOUT)
        ledger.close()
        discord.http.Route.BASE = old_base
        discord.gateway.DiscordWebSocket.DEFAULT_GATEWAY = old_gateway
