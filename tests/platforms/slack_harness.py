"""Running briefbot's Slack app against the loopback Slack stand-in."""

import asyncio
import contextlib
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

from pydantic import SecretStr

from bot.delivery.ledger import Ledger
from bot.platforms.slack.http import HttpLimits
from bot.platforms.slack.runner import SlackPlatform
from bot.runtime import Runtime, serve_platforms
from bot.settings import Settings
from standins.slack_standin import SlackStandIn
from tests.conftest import BRIEFS

BOT_TOKEN = "xoxb-1111-2222-standinbottoken"
APP_TOKEN = "xapp-1-A0000BRIEF-standinapptoken"
SIGNING_SECRET = "8f742231b10e8888abcd99yyyzzz85a5"
TIMEOUT = 5.0


def slack_settings(
    slack: SlackStandIn, data_dir: Path, *, socket_mode: bool, **changes: Any
) -> Settings:
    """Settings pointing the bot at ``slack``, in Socket Mode or HTTP mode on a free port."""
    base = Settings.model_construct(
        briefs_dir=BRIEFS,
        data_dir=data_dir,
        as_of=None,
        speed=None,
        log_level="DEBUG",
        slack_bot_token=SecretStr(BOT_TOKEN),
        slack_app_token=SecretStr(APP_TOKEN) if socket_mode else None,
        slack_signing_secret=None if socket_mode else SecretStr(SIGNING_SECRET),
        slack_http_port=0,
        slack_api_base_url=slack.api_base,
    )
    return base.model_copy(update=changes)


def standin(**options: Any) -> SlackStandIn:
    """A Slack stand-in knowing the bot's tokens and secret."""
    options.setdefault("channels", [("C0001", "general"), ("C0002", "news"), ("C0003", "gone")])
    return SlackStandIn(
        bot_token=BOT_TOKEN, app_token=APP_TOKEN, signing_secret=SIGNING_SECRET, **options
    )


@contextlib.asynccontextmanager
async def running_slack(
    slack: SlackStandIn,
    runtime: Runtime,
    *,
    http_limits: HttpLimits | None = None,
    within: float = TIMEOUT,
) -> AsyncIterator[SlackPlatform]:
    """Serve briefbot's Slack app (with its reminders) until the block ends.

    ``http_limits`` replaces the HTTP endpoint's defaults; ``within`` bounds the start.
    """
    runtime.settings.prepare_data_dir()
    ledger = Ledger.open(runtime.settings.database)
    platform = SlackPlatform(runtime, ledger, host="127.0.0.1", http_limits=http_limits)
    task = asyncio.create_task(serve_platforms(runtime, ledger, [platform]))
    try:
        async with asyncio.timeout(within):
            while not (platform.http_port or (platform.socket_mode and slack.socket_connected)):
                if task.done():
                    task.result()
                await asyncio.sleep(0.01)
        yield platform
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task
        ledger.close()


def events_url(platform: SlackPlatform) -> str:
    """Where the bot listens in HTTP mode."""
    return f"http://127.0.0.1:{platform.http_port}/slack/events"
