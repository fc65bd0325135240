"""Calendar buttons and /calendar on Slack: the real slack_bolt app on the loopback stand-in."""

from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest

from bot.core.reminders import Offset, Reminder, reminder_reply
from bot.runtime import Runtime
from standins.slack_standin import SlackStandIn
from tests.platforms.conftest import RunningSlack
from tests.platforms.slack_harness import TIMEOUT, running_slack

pytestmark = pytest.mark.timeout(30)

BRIEF = "russia-japan-summit-2017"
FEED = "https://cal.example.org"


def buttons(payload: dict[str, Any] | None) -> list[dict[str, Any]]:
    assert payload is not None
    return [
        element
        for block in payload.get("blocks", [])
        if block["type"] == "actions"
        for element in block["elements"]
    ]


def google(url: str) -> dict[str, str]:
    parts = urlsplit(url)
    assert f"{parts.netloc}{parts.path}" == "calendar.google.com/calendar/render"
    return {name: values[0] for name, values in parse_qs(parts.query).items()}


async def test_next_meeting_links_each_meeting_to_google_calendar(
    slack: SlackStandIn, slack_app: RunningSlack
) -> None:
    answered = await slack.socket_command("/next-meeting")
    shown = buttons((await answered.wait_ack(TIMEOUT)).payload)
    assert [button["text"]["text"] for button in shown] == [
        "Sources",
        "Add G20 leaders’ summit to Google Calendar",
        "Add 3rd Eastern Economic Forum to Google Calendar",
    ]
    g20, eef = (google(button["url"]) for button in shown[1:])
    assert (g20["text"], g20["dates"]) == ("G20 leaders’ summit", "20170707/20170709")
    assert (eef["text"], eef["dates"]) == ("3rd Eastern Economic Forum", "20170906/20170908")
    # Slack reports a click on a link button too: the app acknowledges it.
    click = await slack.socket_action("briefbot_calendar_0")
    await click.wait_ack(TIMEOUT)


async def test_with_the_feed_each_meeting_also_links_its_ics(
    slack: SlackStandIn, slack_runtime_for: Any
) -> None:
    runtime: Runtime = slack_runtime_for(calendar_http_port=8080, calendar_public_url=FEED)
    async with running_slack(slack, runtime):
        answered = await slack.socket_command("/next-meeting")
        shown = buttons((await answered.wait_ack(TIMEOUT)).payload)
        calendar = await slack.socket_command("/calendar")
        feed = (await calendar.wait_ack(TIMEOUT)).payload
    assert [(b["text"]["text"], b["url"]) for b in shown if "ics" in b["text"]["text"]] == [
        ("G20 leaders’ summit (.ics)", f"{FEED}/briefs/{BRIEF}/g20-hamburg-2017.ics"),
        (
            "3rd Eastern Economic Forum (.ics)",
            f"{FEED}/briefs/{BRIEF}/eastern-economic-forum-2017.ics",
        ),
    ]
    assert feed is not None
    assert feed["response_type"] == "in_channel"
    assert f"Subscribe to {FEED}/calendar.ics" in str(feed["blocks"])
    assert "New Calendar Subscription" in str(feed["blocks"])
    (link,) = buttons(feed)
    assert link["url"] == f"{FEED}/calendar.ics"


async def test_calendar_without_the_feed_says_how_to_get_one(
    slack: SlackStandIn, slack_app: RunningSlack
) -> None:
    answered = await slack.socket_command("/calendar")
    payload = (await answered.wait_ack(TIMEOUT)).payload
    assert payload is not None
    assert payload["text"].startswith("No calendar feed here")
    assert "has not turned on the calendar feed" in str(payload["blocks"])
    assert "briefbot calendar --out briefbot.ics" in str(payload["blocks"])
    assert buttons(payload) == []


async def test_a_reminder_links_its_meeting(slack: SlackStandIn, slack_runtime_for: Any) -> None:
    runtime: Runtime = slack_runtime_for(calendar_http_port=8080, calendar_public_url=FEED)
    brief = runtime.library.newest
    event = next(event for event in brief.events if event.id == "g20-hamburg-2017")
    now = datetime(2017, 6, 30, 7, 0, tzinfo=UTC)
    reminder = Reminder(event.id, brief.id, event, Offset(timedelta(days=7), "7d"), now)
    reply = reminder_reply(reminder, brief, now, late=False)
    async with running_slack(slack, runtime) as platform:
        await platform.poster.post("C0001", reply, nonce="n0nce")
    (post,) = slack.posts
    shown = [
        element
        for block in post.message["blocks"]
        if block["type"] == "actions"
        for element in block["elements"]
    ]
    assert [button["text"]["text"] for button in shown] == [
        "Add to Google Calendar",
        "Download .ics",
    ]
    assert google(shown[0]["url"])["dates"] == "20170707/20170709"
    assert shown[1]["url"] == f"{FEED}/briefs/{BRIEF}/g20-hamburg-2017.ics"
