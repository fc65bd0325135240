"""The real slack_bolt app, unpatched, answering through the loopback Slack stand-in."""

import asyncio
import time
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import pytest
from pydantic import SecretStr

from bot.delivery.ledger import DeliveryKey, DeliveryState, Ledger
from bot.platforms.slack.runner import SlackStartError
from bot.runtime import Runtime
from standins.slack_faults import DEFAULT_SCOPES
from standins.slack_standin import SlackStandIn
from tests.platforms.conditions import eventually
from tests.platforms.conftest import RunningSlack
from tests.platforms.discord_harness import LogCapture
from tests.platforms.slack_harness import (
    BOT_TOKEN,
    SIGNING_SECRET,
    TIMEOUT,
    events_url,
    running_slack,
)

pytestmark = pytest.mark.timeout(30)

G20_7D = datetime(2017, 6, 30, 7, 0, tzinfo=UTC)


def text_of(payload: dict[str, Any] | None) -> str:
    assert payload is not None
    return str(payload.get("text", "")) + "\n" + str(payload.get("blocks", ""))


@pytest.mark.parametrize("socket_mode", [False], ids=["http"])
async def test_http_commands_are_signed_and_answered(
    slack: SlackStandIn, logs: LogCapture, slack_app: RunningSlack
) -> None:
    url = events_url(slack_app.platform)
    summit = await slack.http_command(url, "/summit")
    mous = await slack.http_command(url, "/mous", "area:energy")
    nxt = await slack.http_command(url, "/next-meeting")
    forged = await slack.http_command(url, "/summit", secret="wrong-secret-value")
    stale = await slack.http_command(url, "/summit", timestamp=time.time() - 360)
    await slack_app.stop()
    assert summit.status == 200
    assert isinstance(summit.body, dict)
    assert summit.body["response_type"] == "in_channel"
    blocks = summit.body["blocks"]
    assert blocks[0]["text"]["text"] == "Putin–Abe summit · The Kremlin, Moscow · 27 April 2017"
    for fact in (
        "17th bilateral meeting",
        "29 memorandums",
        "Korean peninsula",
        "Russia Beyond",
    ):
        assert fact in str(blocks)
    assert blocks[-1]["elements"][0]["action_id"] == "briefbot_sources"
    assert isinstance(mous.body, dict)
    assert "Energy is one of 6 areas" in str(mous.body["blocks"])
    assert isinstance(nxt.body, dict)
    assert "G20 leaders’ summit" in nxt.body["blocks"][0]["text"]["text"]
    assert forged.status == 401
    assert stale.status == 401
    lines = "\n".join(logs.lines)
    assert lines.count("Slack: refused a request to /slack/events") == 2
    assert SIGNING_SECRET not in lines
    assert BOT_TOKEN not in lines


async def test_socket_mode_commands_sources_and_mistakes(
    slack: SlackStandIn, slack_app: RunningSlack
) -> None:
    mous = await slack.socket_command("/mous")
    ack = await mous.wait_ack(TIMEOUT)
    assert ack.payload is not None
    assert "29 memorandums of understanding" in text_of(ack.payload)
    assert "as early as May 2017" in text_of(ack.payload)
    click = await slack.socket_action("briefbot_sources")
    responses = await click.wait_responses(1, TIMEOUT)
    wrong = await slack.socket_command("/mous", "area:nuclear")
    wrong_ack = await wrong.wait_ack(TIMEOUT)
    bad = await slack.socket_command("/summit", "colour:red")
    bad_ack = await bad.wait_ack(TIMEOUT)
    shown = responses[0].json
    assert shown["response_type"] == "ephemeral", "only the clicker sees the sources"
    assert "“29 memorandums of understanding (MoUs) were signed”" in str(shown["blocks"])
    assert wrong_ack.payload is not None
    assert wrong_ack.payload.get("response_type") != "in_channel"
    assert "No area called 'nuclear'; choose one of: fisheries" in text_of(wrong_ack.payload)
    assert bad_ack.payload is not None
    assert "/summit has no option 'colour'; it takes: brief" in text_of(bad_ack.payload)


@pytest.mark.timeout(40)
async def test_socket_mode_reconnects(slack: SlackStandIn, slack_app: RunningSlack) -> None:
    await slack.drop_socket()
    await slack.wait_for_connections(2, TIMEOUT * 2)
    record = await slack.socket_command("/next-meeting")
    ack = await record.wait_ack(TIMEOUT)
    assert "Next meeting: G20 leaders’ summit" in text_of(ack.payload)


@pytest.mark.timeout(40)
@pytest.mark.parametrize("as_of", [G20_7D], ids=["g20-7d-due"])
async def test_reminders_once_each_across_a_restart_and_broken_channels(
    slack: SlackStandIn, slack_runtime_for: Callable[..., Runtime], logs: LogCapture
) -> None:
    slack.delete_channel("C0003")
    slack.fail_next("chat.postMessage", times=1)  # ratelimited, Retry-After 1
    runtime = slack_runtime_for(slack_reminder_channel_ids=("C0001", "C0002", "C0003"))
    async with running_slack(slack, runtime):
        await slack.wait_for_posts(2, TIMEOUT * 2)
        # The rate-limited post is retried after its Retry-After, whichever channel it was.
        await eventually(
            lambda: any("is broken" in line for line in logs.lines), "C0003 broken", TIMEOUT * 2
        )
        await asyncio.sleep(0.3)
    async with running_slack(slack, runtime):  # a restart: nothing posted twice
        await asyncio.sleep(1.0)
    posted = sorted(post.channel for post in slack.posts)
    assert posted == ["C0001", "C0002"]
    assert all("Reminder: G20 leaders’ summit in 7 days" in post.text for post in slack.posts)
    ledger = Ledger.open(runtime.settings.database)
    try:
        states = {s.channel_id: s for s in ledger.subscriptions(platform="slack")}
        sent = ledger.get(DeliveryKey("g20-hamburg-2017:7d", "slack", "C0001"))
    finally:
        ledger.close()
    assert states["C0003"].state == "broken"
    assert "channel_not_found" in (states["C0003"].reason or "")
    assert sent is not None
    assert sent.state is DeliveryState.SENT
    assert sum("is broken" in line for line in logs.lines) == 1
    assert slack.injected_fault_count == 1, "one post was rate limited, then retried"


@pytest.mark.parametrize("as_of", [datetime(2017, 6, 1, tzinfo=UTC)], ids=["june"])
@pytest.mark.parametrize("admin", [True, False])
async def test_reminders_command_is_for_admins(
    slack: SlackStandIn, slack_runtime: Runtime, admin: bool
) -> None:
    if admin:
        slack.admins.add(slack.user_id)
    async with running_slack(slack, slack_runtime):
        sub = await slack.socket_command("/reminders", "subscribe <#C0002|news>")
        first = await sub.wait_ack(TIMEOUT)
        listing = await slack.socket_command("/reminders", "list")
        second = await listing.wait_ack(TIMEOUT)
    if admin:
        assert "<#C0002> will get reminders (6 planned)" in text_of(first.payload)
        assert "<#C0002> · active" in text_of(second.payload)
        assert "G20 leaders’ summit · 7d before" in text_of(second.payload)
    else:
        assert "Only workspace admins can manage reminders." in text_of(first.payload)


async def test_rejected_bot_token_is_one_clear_error(
    slack: SlackStandIn, slack_runtime_for: Callable[..., Runtime]
) -> None:
    runtime = slack_runtime_for(slack_bot_token=SecretStr("xoxb-wrong-token-value"))
    with pytest.raises(SlackStartError) as caught:
        async with running_slack(slack, runtime):
            pass
    assert str(caught.value).startswith("Slack rejected SLACK_BOT_TOKEN (invalid_auth)")
    assert "wrong-token" not in str(caught.value)


@pytest.mark.parametrize(
    ("slack", "readable"),
    [
        ({"scopes": list(DEFAULT_SCOPES)}, True),
        ({"scopes": [s for s in DEFAULT_SCOPES if s != "channels:history"]}, False),
    ],
    indirect=["slack"],
    ids=["readable", "unreadable"],
)
async def test_start_says_once_when_history_cannot_be_read(
    slack: SlackStandIn, logs: LogCapture, slack_app: RunningSlack, readable: bool
) -> None:
    platform = slack_app.platform
    assert platform.history_readable is readable
    assert platform.poster.identity is not None
    assert platform.poster.identity.bot_id == slack.identity.bot_id
    await slack_app.stop()
    warned = [line for line in logs.lines if "lacks channels:history" in line]
    if readable:
        assert platform.warnings == []
        assert warned == []
    else:
        (warning,) = platform.warnings
        assert "may show twice" in warning
        assert "public channels" in warning
        assert len(warned) == 1
