"""Three ``briefbot run`` processes on one PostgreSQL ledger and one bot token.

Whatever the processes' channel lists (split across three deployments, or the same
list three times), and with the sending process killed in the middle of a fan-out:
every channel gets the reminder exactly once, a standby takes over within 10 s, the
bot never sends more than Discord's 50 requests a second in all, and draws no 429.
"""

import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import pytest

from standins.discord_standin import DiscordStandIn
from tests.faults.botprocess import (
    WAIT,
    BotProcess,
    assert_exactly_once,
    discord_env,
    discord_posts_per_delivery,
)
from tests.faults.conftest import POSTGRES_URL

pytestmark = [pytest.mark.postgres, pytest.mark.timeout(6 * WAIT)]

CHANNELS = [1_300_000_000_000_005_000 + n for n in range(240)]
# Forty seconds before the G20's 7-day reminder, at real speed: time for three bots to
# start on a busy machine.
AS_OF = "2017-06-30T06:59:20Z"
SENDING = "this process now sends the discord reminders"
KILL_AFTER = 80  # posts made before the sender is killed
TAKEOVER = 10.0  # seconds from the kill to the next post, at most

StartBot = Callable[..., Awaitable[BotProcess]]


@pytest.fixture
def discord_options() -> dict[str, Any]:
    return {"channels": [(c, f"c{c}") for c in CHANNELS], "enforce_limits": True}


def _busiest_second(times: list[float]) -> int:
    """The most posts in any one-second window."""
    ordered = sorted(times)
    most, first = 0, 0
    for last, at in enumerate(ordered):
        while at - ordered[first] >= 1.0:
            first += 1
        most = max(most, last - first + 1)
    return most


@pytest.mark.parametrize("lists", ["split", "same"])
async def test_three_processes_post_each_channel_once_and_survive_the_sender_dying(
    lists: str,
    postgres_schema: str,
    discord: DiscordStandIn,
    bot_process: StartBot,
    tmp_path: Path,
) -> None:
    url = f"{POSTGRES_URL}?options=-csearch_path%3D{postgres_schema}"
    bots: list[BotProcess] = []
    for n in range(3):
        if lists == "split":
            mine, extra = CHANNELS[n::3], {"BRIEFBOT_INSTANCE": f"desk-{n}"}
        else:
            mine, extra = CHANNELS, {}
        env = discord_env(
            discord,
            tmp_path / f"data-{n}",
            mine,
            BRIEFBOT_AS_OF=AS_OF,
            DATABASE_URL=url,
            REMINDER_CLAIM_LEASE="30s",
            **extra,
        )
        bots.append(await bot_process(env, tmp_path / f"bot-{n}.log"))
    for bot in bots:
        await bot.wait_for_log("planned ")
    senders = [bot for bot in bots if SENDING in bot.text()]
    assert len(senders) == 1, [bot.tail() for bot in bots]
    sender = senders[0]

    await discord.wait_until(lambda: len(discord.posts) >= KILL_AFTER, WAIT, "the fan-out")
    await sender.kill()
    killed_at = time.perf_counter()
    made = len(discord.posts)
    survivors = [bot for bot in bots if bot is not sender]

    await discord.wait_until(
        lambda: {p.channel_id for p in discord.posts} >= set(CHANNELS), 2 * WAIT, "every channel"
    )
    after = [p.time for p in discord.posts[made:]]
    assert after, "the standby posted nothing after the kill"
    takeover = min(after) - killed_at
    log = "\n".join(bot.tail() for bot in survivors)
    assert takeover <= TAKEOVER, f"took over after {takeover:.1f} s:\n{log}"
    assert sum(SENDING in bot.text() for bot in survivors) == 1, log

    for bot in survivors:
        assert await bot.stop() == 0, bot.tail()
    assert_exactly_once(discord_posts_per_delivery(discord), CHANNELS, log)
    assert _busiest_second([p.time for p in discord.posts]) <= 50
    assert discord.rate_limited_count == 0, "no 429 from Discord's limits"
    for bot in bots:
        assert "Traceback" not in bot.text(), bot.text()
