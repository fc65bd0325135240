"""Slack: replies lost after Slack stored the post, a crash then a busy channel, and a
token without the history scope. Posts are counted per (channel, delivery) by the nonce in
their metadata."""

import re
from pathlib import Path

from standins.slack_faults import DEFAULT_SCOPES, history_scope
from standins.slack_standin import SlackStandIn
from tests.faults.botprocess import (
    WAIT,
    BotProcess,
    assert_exactly_once,
    slack_env,
    slack_posts_per_delivery,
)
from tests.platforms.discord_harness import run
from tests.platforms.slack_harness import standin

CHANNELS = ["C0001", "C0002", "C0003"]
AS_OF = "2017-06-30T06:59:58Z"  # two seconds before the G20's 7-day reminder


def every_channel(fake: SlackStandIn) -> bool:
    return {post.channel for post in fake.posts} >= set(CHANNELS)


def test_replies_lost_after_slack_stored_the_post(tmp_path: Path) -> None:
    """A 500 and a reset after the post was stored: the retry looks, finds, posts nothing."""

    async def main() -> None:
        async with standin() as fake:
            fake.lose_next_reply()
            fake.lose_next_reply(reset=True)
            bot = BotProcess(
                slack_env(fake, tmp_path / "data", CHANNELS, BRIEFBOT_AS_OF=AS_OF),
                tmp_path / "bot.log",
            )
            await bot.start()
            try:
                await fake.wait_until(lambda: every_channel(fake), WAIT, "every channel")
                await bot.wait_for_log("was already in slack:", count=2)
            finally:
                assert await bot.stop() == 0, bot.tail()
            assert_exactly_once(slack_posts_per_delivery(fake), CHANNELS, bot.text())
            assert "Traceback" not in bot.text()

    run(main, timeout=3 * WAIT)


def test_a_crash_then_a_busy_channel(tmp_path: Path) -> None:
    """The reply is lost, the bot is killed before its retry, 300 messages bury the post:
    the restarted bot pages through them, finds it, and posts nothing there."""

    async def main() -> None:
        async with standin() as fake:
            fake.lose_next_reply(reset=True)
            env = slack_env(fake, tmp_path / "data", CHANNELS, BRIEFBOT_AS_OF=AS_OF)
            bot = BotProcess(env, tmp_path / "bot.log")
            await bot.start()
            await bot.wait_for_log("failed (")
            await bot.kill()
            found = re.search(r"to slack:(C\w+) failed", bot.text())
            assert found, bot.tail()
            buried = found.group(1)
            fake.add_chatter(buried, 300)
            restarted = BotProcess({**env, "BRIEFBOT_AS_OF": "2017-06-30T07:00:30Z"}, bot.log)
            await restarted.start()
            try:
                await restarted.wait_for_log(f"was already in slack:{buried}")
                await fake.wait_until(lambda: every_channel(fake), WAIT, "every channel")
            finally:
                assert await restarted.stop() == 0, restarted.tail()
            assert_exactly_once(slack_posts_per_delivery(fake), CHANNELS, restarted.text())

    run(main, timeout=3 * WAIT)


def test_without_the_history_scope_the_bot_says_a_retry_may_double(tmp_path: Path) -> None:
    async def main() -> None:
        scopes = [s for s in DEFAULT_SCOPES if s not in (history_scope("C"), history_scope("G"))]
        async with standin(scopes=scopes) as fake:
            fake.lose_next_reply(reset=True)
            bot = BotProcess(
                slack_env(fake, tmp_path / "data", CHANNELS, BRIEFBOT_AS_OF=AS_OF),
                tmp_path / "bot.log",
            )
            await bot.start()
            try:
                await bot.wait_for_log("channels:history")
                await bot.wait_for_log("cannot look for an earlier post in slack:")
                await fake.wait_until(lambda: len(fake.posts) == len(CHANNELS) + 1, WAIT, "posts")
            finally:
                assert await bot.stop() == 0, bot.tail()
            assert "Traceback" not in bot.text()
            warnings = (await bot.schedule())["warnings"]
            assert sorted(w.split(":")[1] for w in warnings) == CHANNELS
            assert all("channels:history" in w for w in warnings)

    run(main, timeout=3 * WAIT)
