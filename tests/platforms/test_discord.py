"""The real discord.py client, unpatched, answering through the loopback Discord stand-in."""

import asyncio
import json
import os
import sys
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from pydantic import SecretStr

from bot.core.clock import Clock
from bot.core.library import Library
from bot.delivery.ledger import Ledger
from bot.platforms.discord.runner import DiscordStartError, sync_once
from bot.platforms.discord.sync import STATE_FILE
from bot.runtime import Runtime
from standins.discord_standin import DiscordStandIn
from tests.platforms.conftest import WRITTEN, Running
from tests.platforms.discord_harness import GUILD, TIMEOUT, TOKEN, LogCapture, running_bot

pytestmark = pytest.mark.timeout(30)

CALLBACK = r"^/interactions/\d+/[^/]+/callback$"
POST = r"^/channels/\d+/messages$"


def embeds_of(data: dict[str, Any] | None) -> list[dict[str, Any]]:
    assert data is not None
    embeds: list[dict[str, Any]] = data["embeds"]
    return embeds


def all_text(embed: dict[str, Any]) -> str:
    parts = [embed.get("title", ""), embed.get("description") or ""]
    parts += [f"{field['name']}\n{field['value']}" for field in embed.get("fields", [])]
    parts.append(embed.get("footer", {}).get("text", ""))
    return "\n".join(parts)


def run_env(standin: DiscordStandIn, tmp_path: Path, **extra: str) -> dict[str, str]:
    """The environment of ``briefbot run`` against ``standin``, without the caller's settings."""
    return {
        **{k: v for k, v in os.environ.items() if not k.startswith(("DISCORD_", "BRIEF"))},
        "DISCORD_API_BASE_URL": standin.api_base,
        "DISCORD_GATEWAY_URL": standin.gateway_url,
        "DATA_DIR": str(tmp_path / "data"),
        **extra,
    }


async def briefbot_run(env: dict[str, str], cwd: Path) -> asyncio.subprocess.Process:
    """``python -m bot run`` in a child process, its output piped."""
    return await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "bot",
        "run",
        env=env,
        cwd=cwd,
        stdin=asyncio.subprocess.DEVNULL,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )


async def test_start_up_syncs_the_commands_to_the_guild(
    discord: DiscordStandIn, discord_bot: Running
) -> None:
    commands = {command["name"]: command for command in discord.commands(GUILD)}
    assert sorted(commands) == ["ask", "calendar", "mous", "next-meeting", "reminders", "summit"]
    reminders = commands["reminders"]
    assert str(reminders["default_member_permissions"]) == "16", "Manage Channels"
    assert reminders["dm_permission"] is False, "servers only"
    assert [option["name"] for option in reminders["options"]] == [
        "subscribe",
        "unsubscribe",
        "list",
    ]
    assert commands["summit"]["description"].startswith("The summit at a glance")
    assert commands["summit"].get("options", []) == []
    area = commands["mous"]["options"][0]
    assert (area["name"], area["type"], area["required"], area["autocomplete"]) == (
        "area",
        3,
        False,
        True,
    )
    identify = discord.identify_payloads[0]["d"]
    assert identify["intents"] == 1, "only the guilds intent"


async def test_sync_only_when_the_commands_changed(
    discord: DiscordStandIn, discord_runtime: Runtime, tmp_path: Path
) -> None:
    async with running_bot(discord, discord_runtime):
        pass
    assert len(discord.command_syncs) == 1
    async with running_bot(discord, discord_runtime):
        pass
    assert len(discord.command_syncs) == 1, "a restart with the same commands syncs nothing"
    state = tmp_path / "data" / STATE_FILE
    stored = json.loads(state.read_text())
    state.write_text(json.dumps({key: "0" * 64 for key in stored}))
    async with running_bot(discord, discord_runtime):
        pass
    assert len(discord.command_syncs) == 2, "a changed command set is synced"


async def test_summit_embed_carries_the_facts(
    discord: DiscordStandIn, discord_bot: Running
) -> None:
    record = await discord.send_command("summit", guild_id=GUILD)
    callback = await record.wait_response(TIMEOUT)
    assert callback.type == 4
    assert callback.data is not None
    assert callback.data["allowed_mentions"] == {"parse": []}
    embed = embeds_of(callback.data)[0]
    assert embed["title"] == "Putin–Abe summit · The Kremlin, Moscow · 27 April 2017"
    text = all_text(embed)
    for fact in (
        "17th bilateral meeting",
        "29 memorandums",
        "Korean peninsula",
        "Russia Beyond",
        "7–8 July 2017",
    ):
        assert fact in text
    names = [field["name"] for field in embed["fields"]]
    assert names[0] == "At a glance"
    assert names[-1] == "What comes next"
    assert "7–8 July 2017 · in 2 months" in text, "all-day: calendar days, not hours"
    assert embed["footer"]["text"].startswith("Brief as of 28 April 2017")
    button = callback.data["components"][0]["components"][0]
    assert button["label"] == "Sources"
    assert button["custom_id"] == f"src:summit:{int(WRITTEN.timestamp())}::"


async def test_mous_and_next_meeting(discord: DiscordStandIn, discord_bot: Running) -> None:
    mous = await (await discord.send_command("mous", guild_id=GUILD)).wait_response()
    nxt = await discord.send_command("next-meeting", guild_id=GUILD)
    upcoming = await nxt.wait_response()
    text = all_text(embeds_of(mous.data)[0])
    assert embeds_of(mous.data)[0]["title"].startswith("29 memorandums of understanding")
    for area in (
        "Fisheries near the disputed Southern Kuril Islands",
        "Energy",
        "Ecotourism",
    ):
        assert area in text
    assert "as early as May 2017" in text
    embed = embeds_of(upcoming.data)[0]
    assert [field["name"] for field in embed["fields"]] == [
        "G20 leaders’ summit",
        "3rd Eastern Economic Forum",
    ]
    assert "6–7 September 2017" in embed["fields"][1]["value"], "all-day: calendar text"


@pytest.mark.parametrize("as_of", [datetime(2018, 1, 1, tzinfo=UTC)], ids=["2018"])
async def test_next_meeting_when_everything_is_past(
    discord: DiscordStandIn, discord_bot: Running
) -> None:
    record = await discord.send_command("next-meeting", guild_id=GUILD)
    callback = await record.wait_response()
    embed = embeds_of(callback.data)[0]
    assert embed["title"] == "Nothing upcoming"
    assert all(field["name"].endswith("(past)") for field in embed["fields"])
    assert "ended 4 months ago" in embed["fields"][0]["value"]


async def test_autocomplete_offers_the_areas(discord: DiscordStandIn, discord_bot: Running) -> None:
    record = await discord.send_autocomplete("mous", {"area": "care"}, guild_id=GUILD)
    callback = await record.wait_response()
    every = await discord.send_autocomplete("mous", {"area": ""}, guild_id=GUILD)
    all_areas = await every.wait_response()
    assert callback.type == 8
    assert callback.data == {"choices": [{"name": "Healthcare", "value": "healthcare"}]}
    assert all_areas.data is not None
    assert len(all_areas.data["choices"]) == 6


async def test_sources_button_shows_quotes_to_the_clicker_only(
    discord: DiscordStandIn, discord_runtime: Runtime
) -> None:
    async with running_bot(discord, discord_runtime):
        answered = await discord.send_command("mous", {"area": "energy"}, guild_id=GUILD)
        data = (await answered.wait_response()).data
        assert data is not None
        custom_id = data["components"][0]["components"][0]["custom_id"]
        assert custom_id == f"src:mous:{int(WRITTEN.timestamp())}::energy"
    # A new process, later: the old message's button still works.
    discord_runtime.clock = Clock(datetime(2020, 1, 1, tzinfo=UTC), 0.0)
    async with running_bot(discord, discord_runtime):
        click = await discord.click_button(custom_id)
        shown = await click.wait_response()
    assert shown.type == 4
    assert shown.data is not None
    assert shown.data["flags"] & 64, "ephemeral: only the clicker sees it"
    text = all_text(embeds_of(shown.data)[0])
    assert "“cooperation over energy”" in text
    assert "“29 memorandums of understanding (MoUs) were signed”" in text


async def test_unknown_area_gets_a_private_hint(
    discord: DiscordStandIn, discord_bot: Running
) -> None:
    record = await discord.send_command("mous", {"area": "nuclear"}, guild_id=GUILD)
    callback = await record.wait_response()
    assert callback.data is not None
    assert callback.data["flags"] & 64
    assert callback.data["content"] == (
        "No area called 'nuclear'; choose one of: fisheries, energy, "
        "resource-exploration, pharmaceuticals, healthcare, ecotourism."
    )
    assert callback.data["allowed_mentions"] == {"parse": []}


@pytest.mark.parametrize("status", [429, 500, 502])
async def test_callback_is_retried_after_rate_limit_or_server_error(
    discord: DiscordStandIn, discord_bot: Running, status: int
) -> None:
    discord.fail_next("POST", CALLBACK, status, times=1, retry_after=0.05)
    record = await discord.send_command("summit", guild_id=GUILD)
    callback = await record.wait_response(TIMEOUT)
    await asyncio.sleep(0.2)
    await discord_bot.stop()
    assert callback.type == 4
    answered = [c for c in discord.callbacks if c.interaction_id == record.id]
    assert len(answered) == 1, "answered exactly once"
    assert discord.injected_fault_count == 1


@pytest.mark.timeout(45)
async def test_dropped_gateway_is_resumed(discord: DiscordStandIn, discord_bot: Running) -> None:
    await discord.drop_connection()
    await discord.wait_for_resume(TIMEOUT * 2)
    record = await discord.send_command("mous", guild_id=GUILD)
    callback = await record.wait_response()
    assert callback.type == 4
    assert discord.identify_count == 1, "resumed, not re-identified"


@pytest.mark.timeout(60)
async def test_token_never_appears_in_logs(
    discord: DiscordStandIn, logs: LogCapture, discord_bot: Running
) -> None:
    await (await discord.send_command("summit", guild_id=GUILD)).wait_response()
    discord.fail_next("POST", CALLBACK, 500, times=10)
    await discord.send_command("mous", guild_id=GUILD)
    await asyncio.sleep(0.5)
    await discord_bot.stop()
    assert logs.lines, "logs were captured"
    assert any("synced 6 slash command(s)" in line for line in logs.lines)
    assert not [line for line in logs.lines if TOKEN in line]
    assert not [line for line in logs.lines if TOKEN.split(".")[-1] in line]


async def test_wrong_token_is_one_clear_error(
    discord: DiscordStandIn, discord_runtime_for: Any
) -> None:
    runtime = discord_runtime_for(discord_token=SecretStr("wrong-token-but-long-enough"))
    with pytest.raises(DiscordStartError) as caught:
        async with running_bot(discord, runtime):
            pass
    message = str(caught.value)
    assert message.startswith("Discord rejected DISCORD_TOKEN (401 Unauthorized)")
    assert "wrong-token" not in message


async def test_unreachable_gateway_is_one_clear_error(
    discord: DiscordStandIn, discord_runtime_for: Any
) -> None:
    runtime = discord_runtime_for(discord_gateway_url="ws://127.0.0.1:9/gateway")
    with pytest.raises(DiscordStartError) as caught:
        async with running_bot(discord, runtime):
            pass
    assert str(caught.value).startswith(
        "cannot reach the Discord gateway at ws://127.0.0.1:9/gateway:"
    )


async def test_every_bot_payload_disables_mentions(
    discord: DiscordStandIn, discord_bot: Running
) -> None:
    for name, options in (
        ("summit", {}),
        ("mous", {"area": "x"}),
        ("next-meeting", {}),
    ):
        await (await discord.send_command(name, options, guild_id=GUILD)).wait_response()
    data = discord.callbacks[0].data
    assert data is not None
    custom_id = data["components"][0]["components"][0]["custom_id"]
    await (await discord.click_button(custom_id)).wait_response()
    await discord_bot.stop()
    messages = [c.data for c in discord.callbacks if c.type == 4]
    assert len(messages) == 4
    for data in messages:
        assert data is not None
        assert data["allowed_mentions"] == {"parse": []}


class BrokenLibrary(Library):
    """A library whose every lookup fails as a bug would."""

    def brief(self, brief_id: str | None) -> Any:
        raise RuntimeError("a bug in answering")


async def test_an_internal_error_gets_a_short_apology_and_a_log(
    discord: DiscordStandIn, logs: LogCapture, discord_bot: Running, library: Library
) -> None:
    discord_bot.runtime.library = BrokenLibrary(library.briefs)
    record = await discord.send_command("summit", guild_id=GUILD)
    callback = await record.wait_response()
    await discord_bot.stop()
    assert callback.data is not None
    assert callback.data["flags"] & 64
    assert callback.data["content"].startswith("Sorry, something went wrong")
    failure = [line for line in logs.lines if "answering summit failed" in line]
    assert failure
    assert "RuntimeError: a bug in answering" in failure[0], "logged with its traceback"


@pytest.mark.timeout(60)
async def test_briefbot_run_in_a_subprocess(discord: DiscordStandIn, tmp_path: Path) -> None:
    """`briefbot run` with a token: logs the start-up, answers, and never prints the token."""
    env = run_env(
        discord,
        tmp_path,
        DISCORD_TOKEN=TOKEN,
        DISCORD_GUILD_ID=str(GUILD),
        LOG_LEVEL="DEBUG",
        BRIEFBOT_AS_OF="2017-04-28T09:00Z",
    )
    process = await briefbot_run(env, tmp_path)
    assert process.stderr is not None
    lines: list[str] = []
    try:
        while not any("Discord: ready as" in line for line in lines):
            raw = await asyncio.wait_for(process.stderr.readline(), 20)
            assert raw, "briefbot stopped: " + "".join(lines)
            lines.append(raw.decode())
        record = await discord.send_command("mous", guild_id=GUILD)
        callback = await record.wait_response(10)
        assert embeds_of(callback.data)[0]["title"].startswith("29 memorandums")
    finally:
        process.terminate()
        out, err = await asyncio.wait_for(process.communicate(), 20)
    log = "".join(lines) + err.decode()
    assert "Discord: logged in as briefbot" in log
    assert "synced 6 slash command(s) to guild" in log
    assert "Discord: ready as briefbot" in log
    assert "loaded 1 brief(s)" in log
    assert TOKEN not in log + out.decode()
    assert process.returncode == 0


@pytest.mark.timeout(45)
async def test_briefbot_run_with_a_rejected_token(discord: DiscordStandIn, tmp_path: Path) -> None:
    wrong = "wrong-but-plausible-token.abcdefghij"
    process = await briefbot_run(run_env(discord, tmp_path, DISCORD_TOKEN=wrong), tmp_path)
    out, err = await asyncio.wait_for(process.communicate(), 30)
    log = err.decode()
    assert process.returncode == 1
    assert log.strip().splitlines()[-1] == (
        "briefbot: Discord rejected DISCORD_TOKEN (401 Unauthorized): copy the bot token "
        "again from the Developer Portal (Bot → Reset Token) into .env"
    )
    assert "Traceback" not in log
    assert wrong not in log + out.decode()


async def test_briefbot_sync_forces_a_sync(
    discord: DiscordStandIn, discord_runtime: Runtime
) -> None:
    async with running_bot(discord, discord_runtime):
        pass
    assert len(discord.command_syncs) == 1
    ledger = Ledger.open(discord_runtime.settings.database)
    try:
        assert await sync_once(discord_runtime, ledger)
    finally:
        ledger.close()
    assert len(discord.command_syncs) == 2, "synced although nothing changed"
    assert discord.identify_count == 1, "over HTTP only: no gateway session"
