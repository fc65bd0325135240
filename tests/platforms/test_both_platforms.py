"""Discord and Slack in one process: one scheduler, one ledger, each reminder once per channel."""

import asyncio
import os
import sys
from collections import Counter
from pathlib import Path

import pytest

from standins.discord_standin import DiscordStandIn
from standins.slack_standin import SlackStandIn
from tests.platforms.discord_harness import GUILD, TOKEN
from tests.platforms.slack_harness import APP_TOKEN, BOT_TOKEN

DISCORD_CHANNELS = [1_300_000_000_000_000_101, 1_300_000_000_000_000_102]


@pytest.mark.timeout(60)
@pytest.mark.parametrize(
    "discord",
    [{"channels": [(channel, f"c{n}") for n, channel in enumerate(DISCORD_CHANNELS)]}],
    indirect=True,
    ids=["two-channels"],
)
async def test_discord_and_slack_together(
    discord: DiscordStandIn, slack: SlackStandIn, tmp_path: Path
) -> None:
    env = {
        **{
            k: v
            for k, v in os.environ.items()
            if not k.startswith(("DISCORD_", "SLACK_", "BRIEF", "REMIND"))
        },
        "DISCORD_TOKEN": TOKEN,
        "DISCORD_GUILD_ID": str(GUILD),
        "DISCORD_API_BASE_URL": discord.api_base,
        "DISCORD_GATEWAY_URL": discord.gateway_url,
        "REMINDER_CHANNEL_IDS": ",".join(str(c) for c in DISCORD_CHANNELS),
        "SLACK_BOT_TOKEN": BOT_TOKEN,
        "SLACK_APP_TOKEN": APP_TOKEN,
        "SLACK_API_BASE_URL": slack.api_base,
        "SLACK_REMINDER_CHANNEL_IDS": "C0001,C0002",
        "DATA_DIR": str(tmp_path / "data"),
        "LOG_LEVEL": "INFO",
        "BRIEFBOT_AS_OF": "2017-06-30T06:59:58Z",  # 2 s before the G20's 7-day reminder
        "BRIEFBOT_SPEED": "1",
    }
    log = tmp_path / "bot.log"
    with log.open("wb") as out:
        process = await asyncio.create_subprocess_exec(
            sys.executable,
            "-m",
            "bot",
            "run",
            env=env,
            stdin=asyncio.subprocess.DEVNULL,
            stdout=out,
            stderr=out,
        )
    try:
        await discord.wait_for_posts(2, timeout=20)
        await slack.wait_for_posts(2, timeout=20)
        record = await slack.socket_command("/summit")
        await record.wait_ack(5)
        await asyncio.sleep(2)  # room for any duplicate to appear
    finally:
        process.terminate()
        await asyncio.wait_for(process.wait(), 20)
    text = log.read_text()
    assert "starting Discord and Slack" in text
    assert Counter(p.channel_id for p in discord.posts) == dict.fromkeys(DISCORD_CHANNELS, 1)
    assert Counter(p.channel for p in slack.posts) == {"C0001": 1, "C0002": 1}
    assert all("G20 leaders’ summit in 7 days" in p.text for p in slack.posts)
    assert "Traceback" not in text
