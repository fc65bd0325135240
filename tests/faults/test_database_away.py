"""The ledger's database goes away across a reminder's due time: none lost, none doubled.

PostgreSQL is reached through a TCP proxy the test cuts (every connection reset,
new ones refused) and restores; SQLite is locked by another process's exclusive
write lock. Either way the bot logs one line per retry, posts nothing until it
can record it, and then posts each delivery exactly once.
"""

import asyncio
import sqlite3
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path
from typing import Any

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

pytestmark = pytest.mark.timeout(4 * WAIT)

CHANNELS = [1_300_000_000_000_002_000 + n for n in range(6)]
# Twenty seconds before the G20's 7-day reminder, at real speed: time for the bot
# to start (slowly, on a busy machine) before the database goes away.
AS_OF = "2017-06-30T06:59:40Z"
DUE_BUT_AWAY = "is due but the ledger is unavailable"

StartBot = Callable[..., Awaitable[BotProcess]]


@pytest.fixture
def discord_options() -> dict[str, Any]:
    return {"channels": [(c, f"c{c}") for c in CHANNELS]}


@pytest.fixture
async def proxy() -> AsyncIterator[TcpProxy]:
    """A proxy to the test PostgreSQL server, cut at the end."""
    proxy = TcpProxy(*postgres_target())
    await proxy.restore()
    try:
        yield proxy
    finally:
        await proxy.cut()


async def _outage(
    fake: DiscordStandIn,
    bot: BotProcess,
    cut: Callable[[], Awaitable[None]],
    restore: Callable[[], Awaitable[None]],
    failure: str,
) -> None:
    """Take the database away before the started bot's due time, bring it back after."""
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


async def _recorded_sent(url: str) -> int:
    """How many deliveries the ledger records as sent, once it records one per channel (a
    post is seen by the stand-in a moment before the bot records it), or after ``WAIT``."""
    deadline = time.monotonic() + WAIT
    while True:
        sent = (await asyncio.to_thread(_all_sent, url)).get(DeliveryState.SENT, 0)
        if sent >= len(CHANNELS) or time.monotonic() > deadline:
            return sent
        await asyncio.sleep(0.1)


@pytest.mark.postgres
async def test_postgresql_away_across_the_due_time(
    postgres_schema: str,
    discord: DiscordStandIn,
    proxy: TcpProxy,
    bot_process: StartBot,
    tmp_path: Path,
) -> None:
    url = postgres_url_via(proxy.port, postgres_schema)
    env = discord_env(discord, tmp_path / "data", CHANNELS, BRIEFBOT_AS_OF=AS_OF, DATABASE_URL=url)
    bot = await bot_process(env, tmp_path / "bot.log")
    await _outage(discord, bot, proxy.cut, proxy.restore, DUE_BUT_AWAY)
    sent = await _recorded_sent(url)
    assert await bot.stop() == 0, bot.tail()
    assert sent == len(CHANNELS), bot.tail()
    assert_exactly_once(discord_posts_per_delivery(discord), CHANNELS, bot.text())
    assert "Traceback" not in bot.text(), bot.text()


async def test_sqlite_locked_across_the_due_time(
    discord: DiscordStandIn, bot_process: StartBot, tmp_path: Path
) -> None:
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

    env = discord_env(discord, data, CHANNELS, BRIEFBOT_AS_OF=AS_OF)
    bot = await bot_process(env, tmp_path / "bot.log")
    await _outage(discord, bot, lock, unlock, "database is locked")
    sent = await _recorded_sent(f"sqlite:///{database}")
    assert await bot.stop() == 0, bot.tail()
    assert sent == len(CHANNELS), bot.tail()
    assert_exactly_once(discord_posts_per_delivery(discord), CHANNELS, bot.text())
    assert "database is locked" in bot.text()
    assert "Traceback" not in bot.text(), bot.text()
