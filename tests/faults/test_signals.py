"""Signals at awkward moments: SIGHUP while the platforms are still starting."""

import signal
from pathlib import Path

from standins.discord_standin import DiscordStandIn
from tests.faults.botprocess import WAIT, BotProcess, discord_env
from tests.platforms.discord_harness import TOKEN, run


def test_sighup_while_starting_reloads_once_started(tmp_path: Path) -> None:
    async def main() -> None:
        async with DiscordStandIn(token=TOKEN) as fake:
            fake.hold_gateway()  # the bot stays in its start-up until released
            bot = BotProcess(discord_env(fake, tmp_path / "data", []), tmp_path / "bot.log")
            await bot.start()
            try:
                await bot.wait_for_log("logged in as")
                assert bot.process is not None
                bot.process.send_signal(signal.SIGHUP)
                await bot.wait_for_log("SIGHUP received while starting")
                fake.release_gateway()
                await bot.wait_for_log("reloaded 1 brief(s)")
                assert bot.process.returncode is None, "still running"
            finally:
                assert await bot.stop() == 0, bot.tail()
            assert "Traceback" not in bot.text()

    run(main, timeout=3 * WAIT)
