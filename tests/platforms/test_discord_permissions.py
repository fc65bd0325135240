"""Missing channel permissions on Discord: said at start, to the admin, and kept for later.

Also the answers' limits: a huge option value echoed back, and /reminders from a DM.
"""

import asyncio
import contextlib
import time as clock_time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

from bot.core.clock import Clock
from bot.core.library import Library
from bot.delivery.ledger import Ledger
from bot.delivery.subscriptions import COMMAND
from bot.platforms.discord.reminders import IN_A_SERVER
from bot.platforms.discord.runner import DiscordPlatform
from bot.runtime import Runtime
from standins.discord_payloads import StandInUser
from standins.discord_permissions import EMBED_LINKS, READ_MESSAGE_HISTORY
from standins.discord_standin import DiscordStandIn
from tests.platforms.discord_harness import (
    CHANNEL,
    GUILD,
    TIMEOUT,
    TOKEN,
    LogCapture,
    run,
    running_bot,
    settings_for,
)

NEWS = CHANNEL + 1
ADMIN = StandInUser(1_300_000_000_000_000_600, "admin", "Admin", permissions=str(1 << 4))
DOUBLED = "a reminder may be doubled"


async def eventually(predicate: Callable[[], bool], what: str, within: float = TIMEOUT) -> None:
    """Wait until ``predicate()`` holds, checking often; fail naming ``what`` after ``within`` s."""
    deadline = clock_time.monotonic() + within
    while not predicate():
        if clock_time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        await asyncio.sleep(0.01)


def standin(**options: object) -> DiscordStandIn:
    channels = [(CHANNEL, "general"), (NEWS, "news")]
    return DiscordStandIn(token=TOKEN, channels=channels, **options)  # type: ignore[arg-type]


def runtime_for(fake: DiscordStandIn, tmp_path: Path, library: Library) -> Runtime:
    at = datetime(2017, 6, 1, tzinfo=UTC)  # no reminder is due
    return Runtime(settings_for(fake, tmp_path / "data"), library, Clock(at, 0.0))


def test_start_up_warns_once_per_channel_and_keeps_the_warnings(
    tmp_path: Path, library: Library
) -> None:
    async def main() -> None:
        async with standin() as fake:
            fake.set_bot_permissions(CHANNEL, deny=READ_MESSAGE_HISTORY)
            fake.set_bot_permissions(NEWS, deny=EMBED_LINKS | READ_MESSAGE_HISTORY)
            runtime = runtime_for(fake, tmp_path, library)
            runtime.settings.prepare_data_dir()
            ledger = Ledger.open(runtime.settings.database)
            for channel in (CHANNEL, NEWS, CHANNEL + 9):
                ledger.subscribe(
                    "discord",
                    str(channel),
                    guild_id=str(GUILD),
                    source=COMMAND,
                    now=runtime.clock.now(),
                )
            platform = DiscordPlatform(runtime, ledger, guild_ready_timeout=0.05)
            with LogCapture().installed() as capture:
                await platform.start()
                serving = asyncio.create_task(platform.serve())
                try:
                    await eventually(lambda: len(platform.permission_warnings) == 3, "warnings")
                    warned = list(platform.permission_warnings)
                    fake.set_bot_permissions(NEWS)  # an admin fixes #news while the bot runs
                    await fake.dispatch_channel_update(NEWS)
                    await eventually(lambda: len(platform.permission_warnings) == 2, "a recheck")
                finally:
                    await platform.close()
                    with contextlib.suppress(asyncio.CancelledError):
                        await serving
                    ledger.close()
            general, news, unknown = warned
            assert platform.permission_warnings == [general, unknown]
            assert f"#general ({CHANNEL})" in general
            assert "no Read Message History" in general
            assert DOUBLED in general
            assert "Embed Links" not in general
            assert f"#news ({NEWS})" in news
            assert "no Embed Links" in news
            assert "no Read Message History" in news
            assert str(CHANNEL + 9) in unknown
            assert "not in any server" in unknown
            warnings = [line for line in capture.lines if line.startswith("WARNING")]
            for expected in warned:
                assert sum(expected in line for line in warnings) == 1, "one line per channel"
            assert not any("Traceback" in line for line in capture.lines)
            fake.assert_clean()

    run(main)


def test_subscribe_tells_the_admin_what_is_missing(tmp_path: Path, library: Library) -> None:
    async def main() -> None:
        async with standin(member=ADMIN) as fake:
            fake.set_bot_permissions(CHANNEL, deny=READ_MESSAGE_HISTORY)
            fake.set_bot_permissions(NEWS, deny=EMBED_LINKS)
            async with running_bot(fake, runtime_for(fake, tmp_path, library)):
                here = await fake.send_command("reminders subscribe", channel_id=CHANNEL)
                there = await fake.send_command(
                    "reminders subscribe", {"channel": NEWS}, channel_id=CHANNEL
                )
                here_answer = await here.wait_response()
                there_answer = await there.wait_response()
            assert here_answer.data is not None
            text = here_answer.data["content"]
            assert here_answer.data["flags"] & 64
            assert text.startswith(f"<#{CHANNEL}> will get reminders")
            assert "Read Message History" in text
            assert DOUBLED in text
            assert "g20-hamburg-2017" not in text, "no internal id"
            assert there_answer.data is not None
            other = there_answer.data["content"]
            assert f"lacks Embed Links in <#{NEWS}>" in other
            assert "Read Message History" not in other
            fake.assert_clean()

    run(main)


def test_a_6000_character_option_is_echoed_short_and_inert(
    tmp_path: Path, library: Library
) -> None:
    async def main() -> None:
        async with standin() as fake:
            async with running_bot(fake, runtime_for(fake, tmp_path, library)):
                typed = "**@everyone** <@123> " + "x" * 6000
                record = await fake.send_command("mous", {"area": typed}, guild_id=GUILD)
                answer = await record.wait_response()
            assert answer.data is not None
            content = answer.data["content"]
            assert answer.data["flags"] & 64
            assert len(content) <= 2000
            assert content.startswith("No area called '")
            assert "choose one of: fisheries" in content
            echoed = content.split("'")[1]
            assert len(echoed) <= 130, "at most 100 characters of input, escaped"
            assert echoed.endswith("\u2026")
            assert "**" not in echoed.replace("\\*", "")
            assert "@everyone" not in echoed, "escaped so it cannot even look like a ping"
            fake.assert_clean()

    run(main)


def test_reminders_from_a_dm_get_one_line_and_no_traceback(
    tmp_path: Path, library: Library
) -> None:
    async def main() -> None:
        async with standin(member=ADMIN) as fake:
            with LogCapture().installed() as capture:
                async with running_bot(fake, runtime_for(fake, tmp_path, library)):
                    answers = []
                    for name in ("reminders subscribe", "reminders unsubscribe", "reminders list"):
                        record = await fake.send_command(name, in_dm=True)
                        answers.append(await record.wait_response())
            for answer in answers:
                assert answer.data is not None
                assert answer.data["content"] == IN_A_SERVER
                assert answer.data["flags"] & 64
            assert not any("Traceback" in line for line in capture.lines)
            assert not any(line.startswith("ERROR") for line in capture.lines)
            fake.assert_clean()

    run(main)
