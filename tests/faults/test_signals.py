"""Signals at awkward moments: SIGHUP while the platforms are still starting."""

import signal
from collections.abc import Awaitable, Callable
from pathlib import Path

import pytest

from standins.discord_standin import DiscordStandIn
from tests.faults.botprocess import WAIT, BotProcess, discord_env


@pytest.mark.timeout(3 * WAIT)
async def test_sighup_while_starting_reloads_once_started(
    discord: DiscordStandIn,
    bot_process: Callable[..., Awaitable[BotProcess]],
    tmp_path: Path,
) -> None:
    discord.hold_gateway()  # the bot stays in its start-up until released
    bot = await bot_process(discord_env(discord, tmp_path / "data", []), tmp_path / "bot.log")
    await bot.wait_for_log("logged in as")
    assert bot.process is not None
    bot.process.send_signal(signal.SIGHUP)
    await bot.wait_for_log("SIGHUP received while starting")
    discord.release_gateway()
    await bot.wait_for_log("reloaded 1 brief(s)")
    assert bot.process.returncode is None, "still running"
    assert await bot.stop() == 0, bot.tail()
    assert "Traceback" not in bot.text()


@pytest.mark.timeout(3 * WAIT)
async def test_sigterm_while_starting_stops_the_bot(
    discord: DiscordStandIn,
    bot_process: Callable[..., Awaitable[BotProcess]],
    tmp_path: Path,
) -> None:
    discord.hold_gateway()  # the bot is still starting: it waits for the gateway
    bot = await bot_process(discord_env(discord, tmp_path / "data", []), tmp_path / "bot.log")
    await bot.wait_for_log("logged in as")
    assert await bot.stop() == 0, bot.tail()
    assert "SIGTERM: stopping" in bot.text()
    assert "stopped" in bot.text().rsplit("SIGTERM: stopping", 1)[1]
    assert "Traceback" not in bot.text()
