"""Missing channel permissions on Discord: said at start, to the admin, and kept for later.

Also the answers' limits: a huge option value echoed back, and /reminders from a DM.
"""

import asyncio
import contextlib
from datetime import UTC, datetime
from typing import Any

import pytest

from bot.delivery.ledger import Ledger
from bot.delivery.subscriptions import COMMAND
from bot.platforms.discord.reminders import IN_A_SERVER
from bot.platforms.discord.runner import DiscordPlatform
from bot.runtime import Runtime
from standins.discord_payloads import StandInUser
from standins.discord_permissions import EMBED_LINKS, READ_MESSAGE_HISTORY
from standins.discord_standin import DiscordStandIn
from tests.platforms.conditions import eventually
from tests.platforms.conftest import Running
from tests.platforms.discord_harness import CHANNEL, GUILD, LogCapture, running_bot

pytestmark = pytest.mark.timeout(30)

NEWS = CHANNEL + 1
ADMIN = StandInUser(1_300_000_000_000_000_600, "admin", "Admin", permissions=str(1 << 4))
DOUBLED = "a reminder may be doubled"
BY_AN_ADMIN = pytest.mark.parametrize("discord", [{"member": ADMIN}], indirect=True, ids=["admin"])


@pytest.fixture
def discord_options() -> dict[str, Any]:
    return {"channels": [(CHANNEL, "general"), (NEWS, "news")]}


@pytest.fixture
def as_of() -> datetime:
    return datetime(2017, 6, 1, tzinfo=UTC)  # no reminder is due


async def test_start_up_warns_once_per_channel_and_keeps_the_warnings(
    discord: DiscordStandIn, discord_runtime: Runtime, logs: LogCapture
) -> None:
    discord.set_bot_permissions(CHANNEL, deny=READ_MESSAGE_HISTORY)
    discord.set_bot_permissions(NEWS, deny=EMBED_LINKS | READ_MESSAGE_HISTORY)
    discord_runtime.settings.prepare_data_dir()
    ledger = Ledger.open(discord_runtime.settings.database)
    for channel in (CHANNEL, NEWS, CHANNEL + 9):
        ledger.subscribe(
            "discord",
            str(channel),
            guild_id=str(GUILD),
            source=COMMAND,
            now=discord_runtime.clock.now(),
        )
    platform = DiscordPlatform(discord_runtime, ledger, guild_ready_timeout=0.05)
    await platform.start()
    serving = asyncio.create_task(platform.serve())
    try:
        await eventually(lambda: len(platform.permission_warnings) == 3, "warnings")
        warned = list(platform.permission_warnings)
        discord.set_bot_permissions(NEWS)  # an admin fixes #news while the bot runs
        await discord.dispatch_channel_update(NEWS)
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
    warnings = [line for line in logs.lines if line.startswith("WARNING")]
    for expected in warned:
        assert sum(expected in line for line in warnings) == 1, "one line per channel"
    assert not any("Traceback" in line for line in logs.lines)


@BY_AN_ADMIN
async def test_subscribe_tells_the_admin_what_is_missing(
    discord: DiscordStandIn, discord_runtime: Runtime
) -> None:
    discord.set_bot_permissions(CHANNEL, deny=READ_MESSAGE_HISTORY)
    discord.set_bot_permissions(NEWS, deny=EMBED_LINKS)
    async with running_bot(discord, discord_runtime):
        here = await discord.send_command("reminders subscribe", channel_id=CHANNEL)
        there = await discord.send_command(
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


async def test_a_6000_character_option_is_echoed_short_and_inert(
    discord: DiscordStandIn, discord_bot: Running
) -> None:
    typed = "**@everyone** <@123> " + "x" * 6000
    record = await discord.send_command("mous", {"area": typed}, guild_id=GUILD)
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


@BY_AN_ADMIN
async def test_reminders_from_a_dm_get_one_line_and_no_traceback(
    discord: DiscordStandIn, logs: LogCapture, discord_bot: Running
) -> None:
    answers = []
    for name in ("reminders subscribe", "reminders unsubscribe", "reminders list"):
        record = await discord.send_command(name, in_dm=True)
        answers.append(await record.wait_response())
    await discord_bot.stop()
    for answer in answers:
        assert answer.data is not None
        assert answer.data["content"] == IN_A_SERVER
        assert answer.data["flags"] & 64
    assert not any("Traceback" in line for line in logs.lines)
    assert not any(line.startswith("ERROR") for line in logs.lines)
