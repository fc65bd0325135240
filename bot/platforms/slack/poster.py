"""Posting reminders into Slack channels with ``chat.postMessage``."""

import asyncio
import json
from datetime import datetime
from typing import Any

import aiohttp
from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from bot.core.reply import Reply
from bot.delivery.limiter import RateLimiter
from bot.delivery.posting import ChannelUnavailable, PostFailed
from bot.platforms.slack.blocks import fallback_text, reply_blocks

RATE = 20  # posts per second across channels; Slack allows about one per second per channel
HISTORY_LIMIT = 100
GONE = {
    "channel_not_found": "the channel is gone or the bot cannot see it (channel_not_found)",
    "not_in_channel": "the bot is not a member of the channel (not_in_channel)",
    "is_archived": "the channel is archived (is_archived)",
    "restricted_action": "the workspace does not let the bot post there (restricted_action)",
}
NETWORK = (aiohttp.ClientError, OSError, asyncio.TimeoutError)


class SlackPoster:
    """Posts through the app's Web API client (which retries ``ratelimited`` on its own)."""

    platform = "slack"

    def __init__(self, client: AsyncWebClient, limiter: RateLimiter | None = None) -> None:
        self.client = client
        self.limiter = limiter or RateLimiter(RATE, 1.0)

    async def post(self, channel_id: str, reply: Reply, *, nonce: str) -> str | None:
        """Post the reminder; Slack has no nonce, so the footer's marker is what finds it again."""
        await self.limiter.acquire()
        try:
            response = await self.client.chat_postMessage(
                channel=channel_id,
                text=fallback_text(reply),
                blocks=reply_blocks(reply),
                unfurl_links=False,
                unfurl_media=False,
            )
        except SlackApiError as error:
            raise _translate(error) from error
        except NETWORK as error:
            raise PostFailed(f"network error: {error or type(error).__name__}") from error
        timestamp = response.get("ts")
        return str(timestamp) if timestamp else None

    async def find_marker(self, channel_id: str, marker: str, *, since: datetime) -> str | None:
        """Search the channel's history since ``since`` for a message carrying ``marker``."""
        try:
            response = await self.client.conversations_history(
                channel=channel_id, oldest=f"{since.timestamp():.6f}", limit=HISTORY_LIMIT
            )
        except SlackApiError as error:
            raise _translate(error) from error
        except NETWORK as error:
            raise PostFailed(f"network error: {error or type(error).__name__}") from error
        messages: list[dict[str, Any]] = response.get("messages", [])
        for message in messages:
            if marker in message.get("text", "") or marker in json.dumps(message.get("blocks", [])):
                return str(message.get("ts"))
        return None


def _translate(error: SlackApiError) -> Exception:
    code = str(error.response.get("error", "unknown_error"))
    if code in GONE:
        return ChannelUnavailable(GONE[code])
    return PostFailed(f"Slack answered {code}")
