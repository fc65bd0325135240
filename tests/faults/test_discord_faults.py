"""Discord: replies lost after the post was stored, a crash then a busy channel, an expired
nonce window, and a channel whose history the bot may not read. Posts are counted per
(channel, delivery) by the delivery's nonce."""

from pathlib import Path

from standins.discord_permissions import NONCE_WINDOW, READ_MESSAGE_HISTORY
from standins.discord_standin import DiscordStandIn
from tests.faults.botprocess import (
    WAIT,
    BotProcess,
    assert_exactly_once,
    discord_env,
    discord_posts_per_delivery,
)
from tests.platforms.discord_harness import TOKEN, run

CHANNELS = [1_300_000_000_000_003_000 + n for n in range(4)]
POSTS = r"/channels/\d+/messages$"
# Two seconds before the G20's 7-day reminder: the faults are in place before it.
AS_OF = "2017-06-30T06:59:58Z"


def standin(*, nonce_window: float = NONCE_WINDOW) -> DiscordStandIn:
    return DiscordStandIn(
        token=TOKEN,
        channels=[(c, f"c{c}") for c in CHANNELS],
        enforce_limits=True,
        nonce_window=nonce_window,
    )


def every_channel(fake: DiscordStandIn) -> bool:
    return {post.channel_id for post in fake.posts} >= set(CHANNELS)


def test_replies_lost_after_the_post_was_stored(tmp_path: Path) -> None:
    """A 502 from the edge (discord.py retries it with the same nonce) and a reset
    connection (the bot retries later, after looking for the post): one post each."""

    async def main() -> None:
        async with standin() as fake:
            fake.fail_next("POST", POSTS, 502, times=2, processed=True)
            fake.reset_next("POST", POSTS, times=2)
            bot = BotProcess(
                discord_env(fake, tmp_path / "data", CHANNELS, BRIEFBOT_AS_OF=AS_OF),
                tmp_path / "bot.log",
            )
            await bot.start()
            try:
                await fake.wait_until(lambda: every_channel(fake), WAIT, "every channel")
                await bot.wait_for_log("was already in discord:", count=2)
            finally:
                assert await bot.stop() == 0, bot.tail()
            assert_exactly_once(discord_posts_per_delivery(fake), CHANNELS, bot.text())
            assert "Traceback" not in bot.text()

    run(main, timeout=3 * WAIT)


def test_a_crash_then_a_busy_channel_after_the_nonce_window(tmp_path: Path) -> None:
    """The reply is lost, the bot is killed before its retry, 150 messages bury the post
    and Discord has forgotten the nonce: the restarted bot finds the post, posts nothing."""

    async def main() -> None:
        async with standin(nonce_window=0.0) as fake:
            buried = CHANNELS[0]
            fake.reset_next("POST", rf"/channels/{buried}/messages$")
            env = discord_env(fake, tmp_path / "data", CHANNELS, BRIEFBOT_AS_OF=AS_OF)
            bot = BotProcess(env, tmp_path / "bot.log")
            await bot.start()
            await bot.wait_for_log(f"to discord:{buried} failed")
            await bot.kill()
            fake.add_chatter(buried, 150)
            restarted = BotProcess({**env, "BRIEFBOT_AS_OF": "2017-06-30T07:00:30Z"}, bot.log)
            await restarted.start()
            try:
                await restarted.wait_for_log(f"was already in discord:{buried}")
                await fake.wait_until(lambda: every_channel(fake), WAIT, "every channel")
            finally:
                assert await restarted.stop() == 0, restarted.tail()
            assert_exactly_once(discord_posts_per_delivery(fake), CHANNELS, restarted.text())

    run(main, timeout=3 * WAIT)


def test_without_read_message_history_the_bot_says_a_retry_may_double(tmp_path: Path) -> None:
    """Where the guarantee cannot hold, the operator is told: at start, naming the channel
    and the permission, and again when a retry had to post without looking."""

    async def main() -> None:
        async with standin(nonce_window=0.0) as fake:
            blind = CHANNELS[1]
            fake.set_bot_permissions(blind, deny=READ_MESSAGE_HISTORY)
            fake.reset_next("POST", rf"/channels/{blind}/messages$")
            bot = BotProcess(
                discord_env(fake, tmp_path / "data", CHANNELS, BRIEFBOT_AS_OF=AS_OF),
                tmp_path / "bot.log",
            )
            await bot.start()
            try:
                await bot.wait_for_log("Read Message History")
                await bot.wait_for_log(f"cannot look for an earlier post in discord:{blind}")
                await fake.wait_until(
                    lambda: sum(p.channel_id == blind for p in fake.posts) == 2,
                    WAIT,
                    "the retry's post",
                )
            finally:
                assert await bot.stop() == 0, bot.tail()
            log = bot.text()
            assert str(blind) in log.split("Read Message History")[0].splitlines()[-1]
            (warning,) = (await bot.schedule())["warnings"]
            assert warning.startswith(f"discord:{blind}: ")
            assert "no Read Message History" in warning
            assert "a reminder may be doubled" in warning
            per_delivery = discord_posts_per_delivery(fake)
            assert {count for (channel, _), count in per_delivery.items() if channel != blind} == {
                1
            }

    run(main, timeout=3 * WAIT)
