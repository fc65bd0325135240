"""Slack: replies lost after Slack stored the post, a crash then a busy channel, and a
token without the history scope. Posts are counted per (channel, delivery) by the nonce in
their metadata."""

import re
from collections.abc import Awaitable, Callable
from pathlib import Path

import pytest

from standins.slack_faults import DEFAULT_SCOPES, history_scope
from standins.slack_standin import SlackStandIn
from tests.faults.botprocess import (
    WAIT,
    BotProcess,
    assert_exactly_once,
    slack_env,
    slack_posts_per_delivery,
)

pytestmark = pytest.mark.timeout(3 * WAIT)

CHANNELS = ["C0001", "C0002", "C0003"]
AS_OF = "2017-06-30T06:59:58Z"  # two seconds before the G20's 7-day reminder

StartBot = Callable[..., Awaitable[BotProcess]]


@pytest.fixture
def env(slack: SlackStandIn, tmp_path: Path) -> dict[str, str]:
    """A bot serving the stand-in with reminders in every channel, just before one is due."""
    return slack_env(slack, tmp_path / "data", CHANNELS, BRIEFBOT_AS_OF=AS_OF)


def every_channel(fake: SlackStandIn) -> bool:
    return {post.channel for post in fake.posts} >= set(CHANNELS)


async def test_replies_lost_after_slack_stored_the_post(
    slack: SlackStandIn, env: dict[str, str], bot_process: StartBot, tmp_path: Path
) -> None:
    """A 500 and a reset after the post was stored: the retry looks, finds, posts nothing."""
    slack.lose_next_reply()
    slack.lose_next_reply(reset=True)
    bot = await bot_process(env, tmp_path / "bot.log")
    await slack.wait_until(lambda: every_channel(slack), WAIT, "every channel")
    await bot.wait_for_log("was already in slack:", count=2)
    assert await bot.stop() == 0, bot.tail()
    assert_exactly_once(slack_posts_per_delivery(slack), CHANNELS, bot.text())
    assert "Traceback" not in bot.text()


async def test_a_crash_then_a_busy_channel(
    slack: SlackStandIn, env: dict[str, str], bot_process: StartBot, tmp_path: Path
) -> None:
    """The reply is lost, the bot is killed before its retry, 300 messages bury the post:
    the restarted bot pages through them, finds it, and posts nothing there."""
    slack.lose_next_reply(reset=True)
    bot = await bot_process(env, tmp_path / "bot.log")
    await bot.wait_for_log("failed (")
    await bot.kill()
    found = re.search(r"to slack:(C\w+) failed", bot.text())
    assert found, bot.tail()
    buried = found.group(1)
    slack.add_chatter(buried, 300)
    restarted = await bot_process({**env, "BRIEFBOT_AS_OF": "2017-06-30T07:00:30Z"}, bot.log)
    await restarted.wait_for_log(f"was already in slack:{buried}")
    await slack.wait_until(lambda: every_channel(slack), WAIT, "every channel")
    assert await restarted.stop() == 0, restarted.tail()
    assert_exactly_once(slack_posts_per_delivery(slack), CHANNELS, restarted.text())


@pytest.mark.parametrize(
    "slack",
    [{"scopes": [s for s in DEFAULT_SCOPES if s not in (history_scope("C"), history_scope("G"))]}],
    indirect=True,
    ids=["no-history-scope"],
)
async def test_without_the_history_scope_the_bot_says_a_retry_may_double(
    slack: SlackStandIn, env: dict[str, str], bot_process: StartBot, tmp_path: Path
) -> None:
    slack.lose_next_reply(reset=True)
    bot = await bot_process(env, tmp_path / "bot.log")
    await bot.wait_for_log("channels:history")
    await bot.wait_for_log("cannot look for an earlier post in slack:")
    await slack.wait_until(lambda: len(slack.posts) == len(CHANNELS) + 1, WAIT, "posts")
    assert await bot.stop() == 0, bot.tail()
    assert "Traceback" not in bot.text()
    warnings = (await bot.schedule())["warnings"]
    assert sorted(w.split(":")[1] for w in warnings) == CHANNELS
    assert all("channels:history" in w for w in warnings)
