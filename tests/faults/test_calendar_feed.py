"""The calendar feed served by the real ``briefbot run``: the same bytes as ``briefbot calendar``,
304 while unchanged, and a higher SEQUENCE once an edited brief is reloaded on SIGHUP."""

import asyncio
import re
import signal
import sys
from collections.abc import Awaitable, Callable
from pathlib import Path

import aiohttp
import pytest
from icalendar import Calendar

from standins.discord_standin import DiscordStandIn
from tests.faults.botprocess import WAIT, BotProcess, discord_env

AS_OF = "2017-04-28T09:00:00+00:00"
EVENT = "/briefs/russia-japan-summit-2017/g20-hamburg-2017.ics"
LISTENING = re.compile(r"Calendar feed: listening at http://[^:]+:(\d+)/calendar\.ics")


async def fetch(url: str, **headers: str) -> tuple[int, str, bytes]:
    async with (
        aiohttp.ClientSession() as session,
        session.get(url, headers=headers) as response,
    ):
        return response.status, response.headers.get("ETag", ""), await response.read()


async def briefbot_calendar(env: dict[str, str]) -> bytes:
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "bot",
        "calendar",
        env=env,
        stdin=asyncio.subprocess.DEVNULL,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    out, err = await asyncio.wait_for(process.communicate(), WAIT)
    assert process.returncode == 0, err.decode()
    return out


def sequence(body: bytes) -> int:
    (event,) = Calendar.from_ical(body).walk("VEVENT")
    return int(str(event["SEQUENCE"]))


@pytest.mark.timeout(3 * WAIT)
async def test_the_served_feed_is_briefbot_calendar_and_follows_a_reload(
    discord: DiscordStandIn,
    bot_process: Callable[..., Awaitable[BotProcess]],
    brief_copy: Callable[..., Path],
    tmp_path: Path,
) -> None:
    briefs = brief_copy()
    env = discord_env(
        discord,
        tmp_path / "data",
        [],
        BRIEFS_DIR=str(briefs),
        BRIEFBOT_AS_OF=AS_OF,
        BRIEFBOT_SPEED="0",
        CALENDAR_HTTP_PORT="0",
    )
    bot = await bot_process(env, tmp_path / "bot.log")
    await bot.wait_for_log("Calendar feed: listening at")
    found = LISTENING.search(bot.text())
    assert found is not None, bot.tail()
    base = f"http://127.0.0.1:{found[1]}"

    status, tag, served = await fetch(f"{base}/calendar.ics")
    assert status == 200
    assert served == await briefbot_calendar(env), "byte for byte"
    assert (await fetch(f"{base}/calendar.ics", **{"If-None-Match": tag}))[0] == 304

    _, event_tag, before = await fetch(f"{base}{EVENT}")
    brief_copy(
        ("as_of = 2017-04-28", "as_of = 2017-05-02"), ("end = 2017-07-08", "end = 2017-07-09")
    )
    assert bot.process is not None
    bot.process.send_signal(signal.SIGHUP)
    await bot.wait_for_log("reloaded 1 brief(s)")
    status, _, after = await fetch(f"{base}{EVENT}", **{"If-None-Match": event_tag})
    assert status == 200, "changed: no 304"
    assert sequence(after) == sequence(before) + 4  # as_of moved on four days
    (event,) = Calendar.from_ical(after).walk("VEVENT")
    assert event.decoded("DTEND").isoformat() == "2017-07-10"
    assert (await fetch(f"{base}/calendar.ics"))[2] == await briefbot_calendar(env)

    assert await bot.stop() == 0, bot.tail()
    assert "Traceback" not in bot.text()
