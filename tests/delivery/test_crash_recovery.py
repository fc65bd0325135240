"""Kill the bot with SIGKILL in the middle of a fan-out, restart it: every post exactly once."""

import asyncio
import os
import signal
import sys
from collections import Counter
from pathlib import Path

from bot.delivery.ledger import DeliveryState, Ledger
from standins.discord_standin import DiscordStandIn
from tests.delivery.test_scheduler import until
from tests.platforms.discord_harness import GUILD, TOKEN, run

CHANNELS = [1_300_000_000_000_001_000 + n for n in range(60)]
KILL_AFTER = (8, 30)  # posts seen before each SIGKILL


def bot_env(fake: DiscordStandIn, data: Path) -> dict[str, str]:
    keep = {
        k: v for k, v in os.environ.items() if not k.startswith(("DISCORD_", "BRIEF", "REMIND"))
    }
    return {
        **keep,
        "DISCORD_TOKEN": TOKEN,
        "DISCORD_GUILD_ID": str(GUILD),
        "DISCORD_API_BASE_URL": fake.api_base,
        "DISCORD_GATEWAY_URL": fake.gateway_url,
        "DATA_DIR": str(data),
        "LOG_LEVEL": "INFO",
        # Two seconds before the G20's 7-day reminder, in real time.
        "BRIEFBOT_AS_OF": "2017-06-30T06:59:58Z",
        "BRIEFBOT_SPEED": "1",
        "REMINDER_CHANNEL_IDS": ",".join(str(c) for c in CHANNELS),
        "REMINDER_CLAIM_LEASE": "1s",
    }


async def start_bot(env: dict[str, str], log: Path) -> asyncio.subprocess.Process:
    handle = log.open("ab")
    try:
        return await asyncio.create_subprocess_exec(
            sys.executable,
            "-m",
            "bot",
            "run",
            env=env,
            stdin=asyncio.subprocess.DEVNULL,
            stdout=handle,
            stderr=handle,
        )
    finally:
        handle.close()


def sent(tmp_path: Path) -> int:
    """How many deliveries the bot's ledger records as sent (0 before it exists)."""
    database = tmp_path / "data" / "briefbot.sqlite3"
    if not database.exists():
        return 0
    ledger = Ledger.open(f"sqlite:///{database}")
    try:
        return ledger.counts().get(DeliveryState.SENT, 0)
    finally:
        ledger.close()


def test_sigkill_mid_fan_out_loses_none_and_doubles_none(tmp_path: Path) -> None:
    async def main() -> None:
        channels = [(channel, f"c{n}") for n, channel in enumerate(CHANNELS)]
        async with DiscordStandIn(token=TOKEN, channels=channels, enforce_limits=True) as fake:
            env = bot_env(fake, tmp_path / "data")
            log = tmp_path / "bot.log"
            for threshold in KILL_AFTER:
                process = await start_bot(env, log)

                def reached(count: int = threshold) -> bool:
                    return len(fake.posts) >= count

                await fake.wait_until(reached, 30, f"{threshold} posts")
                process.send_signal(signal.SIGKILL)
                await process.wait()
                assert len(fake.posts) < len(CHANNELS), "killed before the fan-out ended"
            process = await start_bot(env, log)
            try:
                await fake.wait_until(
                    lambda: len({p.channel_id for p in fake.posts}) >= len(CHANNELS),
                    40,
                    "a post in every channel",
                )
                # Every delivery settled in the ledger: nothing is left that could post again.
                await until(lambda: sent(tmp_path) == len(CHANNELS), within=40, every=0.1)
            finally:
                process.terminate()
                await asyncio.wait_for(process.wait(), 20)
            per_channel = Counter(post.channel_id for post in fake.posts)
            assert set(per_channel) == set(CHANNELS), "none lost"
            assert max(per_channel.values()) == 1, f"none doubled: {per_channel.most_common(3)}"
            assert fake.rate_limited_count <= 1, "stayed within Discord's global limit"
            ledger = Ledger.open(f"sqlite:///{tmp_path / 'data' / 'briefbot.sqlite3'}")
            try:
                counts = ledger.counts()
            finally:
                ledger.close()
            assert counts.get(DeliveryState.SENT) == len(CHANNELS), log.read_text()[-3000:]
            assert "Traceback" not in log.read_text()

    run(main, timeout=150)
