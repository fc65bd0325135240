"""Discord: replies lost after the post was stored, a crash then a busy channel, an expired
nonce window, and a channel whose history the bot may not read. Posts are counted per
(channel, delivery) by the delivery's nonce."""

from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import pytest

from standins.discord_permissions import READ_MESSAGE_HISTORY
from standins.discord_standin import DiscordStandIn
from tests.faults.botprocess import (
    WAIT,
    BotProcess,
    assert_exactly_once,
    discord_env,
    discord_posts_per_delivery,
)

pytestmark = pytest.mark.timeout(3 * WAIT)

CHANNELS = [1_300_000_000_000_003_000 + n for n in range(4)]
POSTS = r"/channels/\d+/messages$"
# Two seconds before the G20's 7-day reminder: the faults are in place before it.
AS_OF = "2017-06-30T06:59:58Z"
NO_NONCE_WINDOW = pytest.mark.parametrize(
    "discord", [{"nonce_window": 0.0}], indirect=True, ids=["no-nonce-window"]
)

StartBot = Callable[..., Awaitable[BotProcess]]


@pytest.fixture
def discord_options() -> dict[str, Any]:
    return {"channels": [(c, f"c{c}") for c in CHANNELS], "enforce_limits": True}


@pytest.fixture
def env(discord: DiscordStandIn, tmp_path: Path) -> dict[str, str]:
    """A bot serving the stand-in with reminders in every channel, just before one is due."""
    return discord_env(discord, tmp_path / "data", CHANNELS, BRIEFBOT_AS_OF=AS_OF)


def every_channel(fake: DiscordStandIn) -> bool:
    return {post.channel_id for post in fake.posts} >= set(CHANNELS)


async def test_replies_lost_after_the_post_was_stored(
    discord: DiscordStandIn, env: dict[str, str], bot_process: StartBot, tmp_path: Path
) -> None:
    """A 502 from the edge (discord.py retries it with the same nonce) and a reset
    connection (the bot retries later, after looking for the post): one post each."""
    discord.fail_next("POST", POSTS, 502, times=2, processed=True)
    discord.reset_next("POST", POSTS, times=2)
    bot = await bot_process(env, tmp_path / "bot.log")
    await discord.wait_until(lambda: every_channel(discord), WAIT, "every channel")
    await bot.wait_for_log("was already in discord:", count=2)
    assert await bot.stop() == 0, bot.tail()
    assert_exactly_once(discord_posts_per_delivery(discord), CHANNELS, bot.text())
    assert "Traceback" not in bot.text()


@NO_NONCE_WINDOW
async def test_a_crash_then_a_busy_channel_after_the_nonce_window(
    discord: DiscordStandIn, env: dict[str, str], bot_process: StartBot, tmp_path: Path
) -> None:
    """The reply is lost, the bot is killed before its retry, 150 messages bury the post
    and Discord has forgotten the nonce: the restarted bot finds the post, posts nothing."""
    buried = CHANNELS[0]
    discord.reset_next("POST", rf"/channels/{buried}/messages$")
    bot = await bot_process(env, tmp_path / "bot.log")
    await bot.wait_for_log(f"to discord:{buried} failed")
    await bot.kill()
    discord.add_chatter(buried, 150)
    restarted = await bot_process({**env, "BRIEFBOT_AS_OF": "2017-06-30T07:00:30Z"}, bot.log)
    await restarted.wait_for_log(f"was already in discord:{buried}")
    await discord.wait_until(lambda: every_channel(discord), WAIT, "every channel")
    assert await restarted.stop() == 0, restarted.tail()
    assert_exactly_once(discord_posts_per_delivery(discord), CHANNELS, restarted.text())


@NO_NONCE_WINDOW
async def test_without_read_message_history_the_bot_says_a_retry_may_double(
    discord: DiscordStandIn, env: dict[str, str], bot_process: StartBot, tmp_path: Path
) -> None:
    """Where the guarantee cannot hold, the operator is told: at start, naming the channel
    and the permission, and again when a retry had to post without looking."""
    blind = CHANNELS[1]
    discord.set_bot_permissions(blind, deny=READ_MESSAGE_HISTORY)
    discord.reset_next("POST", rf"/channels/{blind}/messages$")
    bot = await bot_process(env, tmp_path / "bot.log")
    await bot.wait_for_log("Read Message History")
    await bot.wait_for_log(f"cannot look for an earlier post in discord:{blind}")
    await discord.wait_until(
        lambda: sum(p.channel_id == blind for p in discord.posts) == 2,
        WAIT,
        "the retry's post",
    )
    assert await bot.stop() == 0, bot.tail()
    log = bot.text()
    assert str(blind) in log.split("Read Message History")[0].splitlines()[-1]
    (warning,) = (await bot.schedule())["warnings"]
    assert warning.startswith(f"discord:{blind}: ")
    assert "no Read Message History" in warning
    assert "a reminder may be doubled" in warning
    per_delivery = discord_posts_per_delivery(discord)
    assert {count for (channel, _), count in per_delivery.items() if channel != blind} == {1}
