"""The ledger's database goes away across a reminder's due time: none lost, none doubled.

PostgreSQL is reached through a TCP proxy the test cuts (every connection reset,
new ones refused) and restores; SQLite is locked by another process's exclusive
write lock. Either way the bot logs one line per retry, posts nothing until it
can record it, and then posts each delivery exactly once.
"""

import asyncio
import sqlite3
from collections.abc import Awaitable, Callable
from pathlib import Path

import pytest

from bot.delivery.ledger import DeliveryState, Ledger
from standins.discord_standin import DiscordStandIn
from tests.faults.botprocess import (
    WAIT,
    BotProcess,
    assert_exactly_once,
    discord_env,
    discord_posts_per_delivery,
)
from tests.faults.conftest import postgres_target, postgres_url_via
from tests.faults.tcpproxy import TcpProxy
from tests.platforms.discord_harness import TOKEN, run

CHANNELS = [1_300_000_000_000_002_000 + n for n in range(6)]
# Twenty seconds before the G20's 7-day reminder, at real speed: time for the bot
# to start (slowly, on a busy machine) before the database goes away.
AS_OF = "2017-06-30T06:59:40Z"
DUE_BUT_AWAY = "is due but the ledger is unavailable"


async def _outage(
    fake: DiscordStandIn,
    bot: BotProcess,
    cut: Callable[[], Awaitable[None]],
    restore: Callable[[], Awaitable[None]],
    failure: str,
) -> None:
    """Start the bot, take the database away before the due time, bring it back after."""
    await bot.start()
    await bot.wait_for_log("planned ")
    await cut()
    await bot.wait_for_log(failure, count=2)  # fell due, and was tried again
    assert fake.posts == [], "nothing is posted that cannot be recorded"
    await restore()
    await fake.wait_until(
        lambda: {p.channel_id for p in fake.posts} >= set(CHANNELS), WAIT, "every channel"
    )


def _all_sent(url: str, connect_args: dict[str, str] | None = None) -> dict[DeliveryState, int]:
    ledger = Ledger.open(url, connect_args=connect_args)
    try:
        return ledger.counts()
    finally:
        ledger.close()


@pytest.mark.postgres
def test_postgresql_away_across_the_due_time(tmp_path: Path, postgres_schema: str) -> None:
    async def main() -> None:
        proxy = TcpProxy(*postgres_target())
        await proxy.restore()
        async with DiscordStandIn(token=TOKEN, channels=[(c, f"c{c}") for c in CHANNELS]) as fake:
            url = postgres_url_via(proxy.port, postgres_schema)
            env = discord_env(
                fake, tmp_path / "data", CHANNELS, BRIEFBOT_AS_OF=AS_OF, DATABASE_URL=url
            )
            bot = BotProcess(env, tmp_path / "bot.log")
            try:
                await _outage(fake, bot, proxy.cut, proxy.restore, DUE_BUT_AWAY)
                counts = await asyncio.to_thread(_all_sent, url)
            finally:
                assert await bot.stop() == 0, bot.tail()
                await proxy.cut()
            assert counts[DeliveryState.SENT] == len(CHANNELS), bot.tail()
            assert_exactly_once(discord_posts_per_delivery(fake), CHANNELS, bot.text())
            assert "Traceback" not in bot.text(), bot.text()

    run(main, timeout=4 * WAIT)


def test_sqlite_locked_across_the_due_time(tmp_path: Path) -> None:
    data = tmp_path / "data"
    database = data / "briefbot.sqlite3"
    holder: list[sqlite3.Connection] = []

    async def lock() -> None:
        def take() -> None:
            connection = sqlite3.connect(
                database, isolation_level=None, check_same_thread=False, timeout=WAIT
            )
            connection.execute("BEGIN IMMEDIATE")  # the write lock, as a backup tool takes it
            holder.append(connection)

        await asyncio.to_thread(take)

    async def unlock() -> None:
        connection = holder.pop()
        connection.execute("COMMIT")
        connection.close()

    async def main() -> None:
        async with DiscordStandIn(token=TOKEN, channels=[(c, f"c{c}") for c in CHANNELS]) as fake:
            env = discord_env(fake, data, CHANNELS, BRIEFBOT_AS_OF=AS_OF)
            bot = BotProcess(env, tmp_path / "bot.log")
            try:
                await _outage(fake, bot, lock, unlock, "database is locked")
                counts = await asyncio.to_thread(_all_sent, f"sqlite:///{database}")
            finally:
                assert await bot.stop() == 0, bot.tail()
            assert counts[DeliveryState.SENT] == len(CHANNELS), bot.tail()
            assert_exactly_once(discord_posts_per_delivery(fake), CHANNELS, bot.text())
            assert "database is locked" in bot.text()
            assert "Traceback" not in bot.text(), bot.text()

    run(main, timeout=4 * WAIT)
