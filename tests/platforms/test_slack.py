"""The real slack_bolt app, unpatched, answering through the loopback Slack stand-in."""

import asyncio
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from bot.core.clock import Clock
from bot.core.library import Library
from bot.delivery.ledger import DeliveryKey, DeliveryState, Ledger
from bot.runtime import Runtime
from tests.platforms.discord_harness import LogCapture, run
from tests.platforms.slack_harness import (
    BOT_TOKEN,
    SIGNING_SECRET,
    TIMEOUT,
    events_url,
    running_slack,
    slack_settings,
    standin,
)

WRITTEN = datetime(2017, 4, 28, 9, 0, tzinfo=UTC)
G20_7D = datetime(2017, 6, 30, 7, 0, tzinfo=UTC)


def runtime_for(
    slack: Any,
    tmp_path: Path,
    library: Library,
    *,
    socket_mode: bool,
    at: datetime = WRITTEN,
    **changes: Any,
) -> Runtime:
    settings = slack_settings(slack, tmp_path / "data", socket_mode=socket_mode, **changes)
    return Runtime(settings, library, Clock(at, 0.0))


def text_of(payload: dict[str, Any] | None) -> str:
    assert payload is not None
    return str(payload.get("text", "")) + "\n" + str(payload.get("blocks", ""))


def test_http_commands_are_signed_and_answered(tmp_path: Path, library: Library) -> None:
    async def main() -> None:
        async with standin() as slack:
            runtime = runtime_for(slack, tmp_path, library, socket_mode=False)
            with LogCapture().installed() as capture:
                async with running_slack(slack, runtime) as platform:
                    url = events_url(platform)
                    summit = await slack.http_command(url, "/summit")
                    mous = await slack.http_command(url, "/mous", "area:energy")
                    nxt = await slack.http_command(url, "/next-meeting")
                    forged = await slack.http_command(url, "/summit", secret="wrong-secret-value")
                    stale = await slack.http_command(url, "/summit", timestamp=time.time() - 360)
            assert summit.status == 200
            assert isinstance(summit.body, dict)
            assert summit.body["response_type"] == "in_channel"
            blocks = summit.body["blocks"]
            assert (
                blocks[0]["text"]["text"]
                == "Putin–Abe summit · The Kremlin, Moscow · 27 April 2017"
            )
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
            logs = "\n".join(capture.lines)
            assert logs.count("Slack: refused a request to /slack/events") == 2
            assert SIGNING_SECRET not in logs
            assert BOT_TOKEN not in logs
            slack.assert_clean()

    run(main)


def test_socket_mode_commands_sources_and_mistakes(tmp_path: Path, library: Library) -> None:
    async def main() -> None:
        async with standin() as slack:
            runtime = runtime_for(slack, tmp_path, library, socket_mode=True)
            async with running_slack(slack, runtime):
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
            assert "No area called 'nuclear'; choose one of: fisheries" in text_of(
                wrong_ack.payload
            )
            assert bad_ack.payload is not None
            assert "/summit has no option 'colour'; it takes: brief" in text_of(bad_ack.payload)
            slack.assert_clean()

    run(main)


def test_socket_mode_reconnects(tmp_path: Path, library: Library) -> None:
    async def main() -> None:
        async with standin() as slack:
            runtime = runtime_for(slack, tmp_path, library, socket_mode=True)
            async with running_slack(slack, runtime):
                await slack.drop_socket()
                await slack.wait_for_connections(2, TIMEOUT * 2)
                record = await slack.socket_command("/next-meeting")
                ack = await record.wait_ack(TIMEOUT)
            assert "Next meeting: G20 leaders’ summit" in text_of(ack.payload)
            slack.assert_clean()

    run(main, timeout=40)


def test_reminders_once_each_across_a_restart_and_broken_channels(
    tmp_path: Path, library: Library
) -> None:
    async def main() -> None:
        async with standin() as slack:
            slack.delete_channel("C0003")
            slack.fail_next("chat.postMessage", times=1)  # ratelimited, Retry-After 1
            runtime = runtime_for(
                slack,
                tmp_path,
                library,
                socket_mode=True,
                at=G20_7D,
                slack_reminder_channel_ids=("C0001", "C0002", "C0003"),
            )
            with LogCapture().installed() as capture:
                async with running_slack(slack, runtime):
                    await slack.wait_for_posts(2, TIMEOUT * 2)
                    await asyncio.sleep(0.3)
                async with running_slack(slack, runtime):  # a restart: nothing posted twice
                    await asyncio.sleep(1.0)
            posted = sorted(post.channel for post in slack.posts)
            assert posted == ["C0001", "C0002"]
            assert all(
                "Reminder: G20 leaders’ summit in 7 days" in post.text for post in slack.posts
            )
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
            assert sum("is broken" in line for line in capture.lines) == 1
            assert slack.injected_fault_count == 1, "one post was rate limited, then retried"
            slack.assert_clean()

    run(main, timeout=40)


@pytest.mark.parametrize("admin", [True, False])
def test_reminders_command_is_for_admins(tmp_path: Path, library: Library, admin: bool) -> None:
    async def main() -> None:
        async with standin() as slack:
            if admin:
                slack.admins.add(slack.user_id)
            runtime = runtime_for(
                slack, tmp_path, library, socket_mode=True, at=datetime(2017, 6, 1, tzinfo=UTC)
            )
            async with running_slack(slack, runtime):
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
            slack.assert_clean()

    run(main)


def test_rejected_bot_token_is_one_clear_error(tmp_path: Path, library: Library) -> None:
    from pydantic import SecretStr

    from bot.platforms.slack.runner import SlackStartError

    async def main() -> None:
        async with standin() as slack:
            runtime = runtime_for(
                slack,
                tmp_path,
                library,
                socket_mode=True,
                slack_bot_token=SecretStr("xoxb-wrong-token-value"),
            )
            with pytest.raises(SlackStartError) as caught:
                async with running_slack(slack, runtime):
                    pass
            assert str(caught.value).startswith("Slack rejected SLACK_BOT_TOKEN (invalid_auth)")
            assert "wrong-token" not in str(caught.value)

    run(main)


@pytest.mark.parametrize("readable", [True, False])
def test_start_says_once_when_history_cannot_be_read(
    tmp_path: Path, library: Library, readable: bool
) -> None:
    from standins.slack_faults import DEFAULT_SCOPES

    scopes = [s for s in DEFAULT_SCOPES if readable or s != "channels:history"]

    async def main() -> None:
        async with standin(scopes=scopes) as slack:
            runtime = runtime_for(slack, tmp_path, library, socket_mode=True)
            with LogCapture().installed() as capture:
                async with running_slack(slack, runtime) as platform:
                    assert platform.history_readable is readable
                    assert platform.poster.identity is not None
                    assert platform.poster.identity.bot_id == slack.identity.bot_id
            warned = [line for line in capture.lines if "lacks channels:history" in line]
            if readable:
                assert platform.warnings == []
                assert warned == []
            else:
                (warning,) = platform.warnings
                assert "may show twice" in warning
                assert "public channels" in warning
                assert len(warned) == 1
            slack.assert_clean()

    run(main)
