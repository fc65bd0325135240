"""Add to calendar and /calendar on Discord: the real discord.py client on the loopback stand-in."""

from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
from icalendar import Calendar

from bot.core.clock import Clock
from bot.core.library import Library
from bot.core.reminders import Offset, Reminder, reminder_reply
from bot.platforms.discord.reminder_button import reminder_view
from bot.runtime import Runtime
from standins.discord_standin import DiscordStandIn
from tests.platforms.discord_harness import GUILD, running_bot
from tests.platforms.test_discord import all_text, embeds_of

pytestmark = pytest.mark.timeout(30)

BRIEF = "russia-japan-summit-2017"
G20 = f"cal:g20-hamburg-2017:{BRIEF}"
EEF = f"cal:eastern-economic-forum-2017:{BRIEF}"


def buttons(data: dict[str, Any] | None) -> list[dict[str, Any]]:
    assert data is not None
    return [button for row in data.get("components", []) for button in row["components"]]


def google_fields(content: str) -> dict[str, str]:
    link = content.split("](<", 1)[1].split(">)", 1)[0]
    parts = urlsplit(link)
    assert parts.netloc == "calendar.google.com"
    return {name: values[0] for name, values in parse_qs(parts.query).items()}


async def test_next_meeting_offers_each_meeting_and_a_click_gets_its_ics(
    discord: DiscordStandIn, discord_runtime: Runtime
) -> None:
    async with running_bot(discord, discord_runtime):
        answered = await discord.send_command("next-meeting", guild_id=GUILD)
        data = (await answered.wait_response()).data
    shown = buttons(data)
    assert [button["label"] for button in shown] == [
        "Sources",
        "Add G20 leaders’ summit",
        "Add 3rd Eastern Economic Forum",
    ]
    assert [button["custom_id"] for button in shown[1:]] == [G20, EEF]
    # A new process, later: the old message's button still works.
    discord_runtime.clock = Clock(datetime(2020, 1, 1, tzinfo=UTC), 0.0)
    async with running_bot(discord, discord_runtime):
        click = await discord.click_button(G20)
        answer = await click.wait_response()
    assert answer.type == 4
    assert answer.data is not None
    assert answer.data["flags"] & 64, "ephemeral: only the clicker sees it"
    assert list(answer.files) == ["g20-hamburg-2017.ics"]
    assert answer.data["attachments"][0]["filename"] == "g20-hamburg-2017.ics"
    (event,) = Calendar.from_ical(answer.files["g20-hamburg-2017.ics"]).walk("VEVENT")
    assert str(event["UID"]) == f"g20-hamburg-2017@{BRIEF}.briefbot"
    assert str(event["SUMMARY"]) == "G20 leaders’ summit"
    assert event.decoded("DTSTART").isoformat() == "2017-07-07"
    assert event.decoded("DTEND").isoformat() == "2017-07-09"
    content = answer.data["content"]
    assert content.startswith("**G20 leaders’ summit** · 7–8 July 2017 · Hamburg, Germany")
    assert len(content) <= 2000
    google = google_fields(content)
    assert google["text"] == "G20 leaders’ summit"
    assert google["dates"] == "20170707/20170709"


async def test_one_meeting_ahead_gets_a_plain_label_and_a_gone_one_says_so(
    discord: DiscordStandIn, discord_runtime: Runtime
) -> None:
    discord_runtime.clock = Clock(datetime(2017, 8, 1, tzinfo=UTC), 0.0)
    async with running_bot(discord, discord_runtime):
        answered = await discord.send_command("next-meeting", guild_id=GUILD)
        shown = buttons((await answered.wait_response()).data)
        assert [(b["label"], b["custom_id"]) for b in shown[1:]] == [("Add to calendar", EEF)]
        brief = discord_runtime.library.newest
        discord_runtime.library = Library.of([brief.model_copy(update={"events": []})])
        click = await discord.click_button(EEF)
        answer = await click.wait_response()
    assert answer.data is not None
    assert answer.data["flags"] & 64
    assert "no longer in the briefs" in answer.data["content"]


def test_a_reminder_carries_add_to_calendar(discord_runtime: Runtime) -> None:
    library = discord_runtime.library
    brief = library.newest
    event = brief.events[0]
    now = datetime(2017, 7, 1, tzinfo=UTC)
    reminder = Reminder(event.id, brief.id, event, Offset(timedelta(0), "0s"), now)
    view = reminder_view(reminder_reply(reminder, brief, now, late=False), "n0nce")
    ids = [item.custom_id for item in view.children]  # type: ignore[attr-defined]
    assert ids == [f"rem:n0nce:{event.id}:{brief.id}", f"cal:{event.id}:{brief.id}"]


async def test_calendar_without_the_feed_says_how_to_get_one(
    discord: DiscordStandIn, discord_runtime: Runtime
) -> None:
    async with running_bot(discord, discord_runtime):
        assert "calendar" in [command["name"] for command in discord.commands(GUILD)]
        answered = await discord.send_command("calendar", guild_id=GUILD)
        data = (await answered.wait_response()).data
    text = all_text(embeds_of(data)[0])
    assert "No calendar feed here" in text
    assert "briefbot calendar \\-\\-out" in text or "briefbot calendar --out" in text
    assert buttons(data) == []


async def test_calendar_with_the_feed_gives_its_address(
    discord: DiscordStandIn, discord_runtime_for: Any
) -> None:
    runtime = discord_runtime_for(
        calendar_http_port=8080, calendar_public_url="https://cal.example.org"
    )
    async with running_bot(discord, runtime):
        answered = await discord.send_command("calendar", guild_id=GUILD)
        data = (await answered.wait_response()).data
    text = all_text(embeds_of(data)[0])
    assert "Subscribe to https://cal.example.org/calendar.ics" in text
    assert "From URL" in text
    (link,) = buttons(data)
    assert link["style"] == 5
    assert link["url"] == "https://cal.example.org/calendar.ics"
