"""/ask on Discord: the real discord.py client answering through the loopback stand-in."""

from typing import Any

import pytest

from standins.discord_standin import DiscordStandIn
from tests.platforms.conftest import WRITTEN, Running
from tests.platforms.discord_harness import GUILD

pytestmark = pytest.mark.timeout(30)


def text_of(data: dict[str, Any] | None) -> str:
    """Every visible text of the first embed of an answer."""
    assert data is not None
    embed = data["embeds"][0]
    parts = [embed.get("title", ""), embed.get("description") or ""]
    parts += [f"{field['name']}\n{field['value']}" for field in embed.get("fields", [])]
    return "\n".join(parts)


async def test_ask_is_synced_with_a_capped_autocompleted_question(
    discord: DiscordStandIn, discord_bot: Running
) -> None:
    commands = {command["name"]: command for command in discord.commands(GUILD)}
    (question,) = commands["ask"]["options"]
    assert question["name"] == "question"
    assert (question["type"], question["required"], question["autocomplete"]) == (3, True, True)
    assert question["max_length"] == 300


async def test_ask_answers_with_the_fact_its_quote_and_a_sources_button(
    discord: DiscordStandIn, discord_bot: Running
) -> None:
    record = await discord.send_command(
        "ask", {"question": "When do the flights for former residents start?"}, guild_id=GUILD
    )
    data = (await record.wait_response()).data
    text = text_of(data)
    assert "Visa-free air travel begins for former Japanese inhabitants" in text
    assert "in June 2017" in text
    assert "\u201cthe pledge to launch visa-free air travel" in text
    assert data is not None
    custom_id = data["components"][0]["components"][0]["custom_id"]
    assert custom_id.startswith(f"src:ask:{int(WRITTEN.timestamp())}:russia-japan-summit-2017:f")
    click = await discord.click_button(custom_id)
    shown = (await click.wait_response()).data
    assert shown is not None
    assert shown["flags"] & 64, "the sources go to the clicker alone"
    assert "Southern Kurils in June 2017\u201d" in text_of(shown)


async def test_ask_refuses_what_the_brief_does_not_cover(
    discord: DiscordStandIn, discord_bot: Running
) -> None:
    record = await discord.send_command(
        "ask", {"question": "@everyone what about Crimea? <@&1> `x`"}, guild_id=GUILD
    )
    data = (await record.wait_response()).data
    text = text_of(data)
    assert "The brief and its article don\u2019t cover that." in text
    assert "/next-meeting" in text
    assert "@" not in text
    assert "`" not in text
    assert data is not None
    assert data["allowed_mentions"] == {"parse": []}
    assert "components" not in data or data["components"] == []


async def test_autocomplete_suggests_answerable_questions(
    discord: DiscordStandIn, discord_bot: Running
) -> None:
    everything = await discord.send_autocomplete("ask", {"question": ""}, guild_id=GUILD)
    offered = await everything.wait_response()
    assert offered.type == 8
    assert offered.data is not None
    assert 10 <= len(offered.data["choices"]) <= 25
    typed = await discord.send_autocomplete("ask", {"question": "where"}, guild_id=GUILD)
    filtered = await typed.wait_response()
    assert filtered.data is not None
    names = [choice["name"] for choice in filtered.data["choices"]]
    assert names
    assert all("where" in name.casefold() for name in names)
    assert "Where is the G20 leaders\u2019 summit?" in names
