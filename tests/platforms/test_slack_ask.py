"""/ask on Slack: the real slack_bolt app answering through the loopback stand-in."""

from pathlib import Path
from typing import Any

import pytest

from standins.slack_standin import SlackStandIn
from tests.platforms.conftest import RunningSlack
from tests.platforms.slack_harness import TIMEOUT

pytestmark = pytest.mark.timeout(30)

MANIFEST = Path(__file__).resolve().parents[2] / "slack" / "manifest.yml"


def text_of(payload: dict[str, Any] | None) -> str:
    assert payload is not None
    return str(payload.get("text", "")) + "\n" + str(payload.get("blocks", ""))


async def test_ask_answers_in_the_channel_and_its_sources_go_to_the_clicker(
    slack: SlackStandIn, slack_app: RunningSlack
) -> None:
    asked = await slack.socket_command("/ask", "who is Abe meeting next and where?")
    ack = await asked.wait_ack(TIMEOUT)
    assert ack.payload is not None
    assert ack.payload["response_type"] == "in_channel"
    text = text_of(ack.payload)
    assert "G20 leaders’ summit, Hamburg, Germany" in text
    assert "“The next time Abe and Putin will touch base" in text
    click = await slack.socket_action("briefbot_sources")
    responses = await click.wait_responses(1, TIMEOUT)
    shown = responses[0].json
    assert shown["response_type"] == "ephemeral"
    assert "on the margins of the July G20 summit in Hamburg" in str(shown["blocks"])


async def test_ask_refuses_plainly_and_pings_no_one(
    slack: SlackStandIn, slack_app: RunningSlack
) -> None:
    asked = await slack.socket_command("/ask", "<!channel> <@U123> what about Crimea?")
    ack = await asked.wait_ack(TIMEOUT)
    text = text_of(ack.payload)
    assert "The brief and its article don’t cover that." in text
    assert "<!channel>" not in text
    assert "<@U123>" not in text
    too_long = await slack.socket_command("/ask", "why " * 100)
    refused = await too_long.wait_ack(TIMEOUT)
    assert refused.payload is not None
    assert refused.payload.get("response_type") != "in_channel"
    assert "at most 300 characters" in text_of(refused.payload)


def test_the_manifest_declares_ask() -> None:
    assert "    - command: /ask\n" in MANIFEST.read_text(encoding="utf-8")
