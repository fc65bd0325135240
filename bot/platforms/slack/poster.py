"""Posting reminders into Slack channels, and finding one posted before.

Slack has no idempotency key, so each reminder carries its delivery's nonce as
message metadata (``event_type`` ``briefbot_reminder``), invisible to readers.
After an uncertain failure (a reply lost after Slack stored the post, a crash)
:meth:`SlackPoster.find_post` reads the channel's history since the claim, page
by page, for the bot's own message carrying that nonce.
"""

import asyncio
import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import aiohttp
from slack_sdk.errors import SlackApiError, SlackClientError
from slack_sdk.http_retry.builtin_async_handlers import AsyncRateLimitErrorRetryHandler
from slack_sdk.web.async_client import AsyncWebClient

from bot.core.reply import Reply
from bot.delivery.fanout import SLACK_POSTS_PER_SECOND
from bot.delivery.limiter import RateLimiter
from bot.delivery.posting import ChannelUnavailable, PostFailed, SearchBlind
from bot.platforms.slack.blocks import Block, fallback_text, reply_blocks, with_buttons

log = logging.getLogger(__name__)

RATE = SLACK_POSTS_PER_SECOND  # across channels; Slack allows about one per second per channel
RATE_LIMIT_RETRIES = 3
EVENT_TYPE = "briefbot_reminder"
HISTORY_PAGE = 200  # messages per conversations.history page
HISTORY_PAGES = 50  # at most this many pages per search (10,000 messages)
# Slack stamps a message with its own clock: search from a little before ``since`` so that
# this host's clock running ahead of Slack's cannot hide a post (the nonce still decides).
CLOCK_MARGIN = timedelta(minutes=5)
GONE = {
    "channel_not_found": "the channel is gone or the bot cannot see it (channel_not_found)",
    "not_in_channel": "the bot is not a member of the channel (not_in_channel)",
    "is_archived": "the channel is archived (is_archived)",
    "restricted_action": "the workspace does not let the bot post there (restricted_action)",
}
BLIND = {"missing_scope", "not_allowed_token_type"}
BLIND_MESSAGE = (
    "the bot cannot read channel {channel}'s history ({code}): it needs the channels:history "
    "scope (groups:history for private channels); add it under OAuth & Permissions and "
    "reinstall the app"
)
# What a lost or broken reply can raise out of slack_sdk: aiohttp's errors, a socket
# error, a timeout, or a SlackClientError for a body that is not Slack's JSON.
NETWORK = (aiohttp.ClientError, OSError, asyncio.TimeoutError, SlackClientError)


def web_client(token: str, base_url: str) -> AsyncWebClient:
    """The Web API client the bot uses: it retries ``ratelimited`` (429) and nothing else.

    slack_sdk's default retry handlers also retry a reset or dropped connection, and so
    resend a ``chat.postMessage`` that Slack may already have stored: a reminder would
    show twice whenever a reply is lost. Here such a failure surfaces as ``PostFailed``
    and the scheduler looks for the post (:meth:`SlackPoster.find_post`) before posting
    again. Server errors (5xx) are not retried by the client either, for the same reason.
    """
    return AsyncWebClient(
        token=token,
        base_url=base_url,
        retry_handlers=[AsyncRateLimitErrorRetryHandler(max_retry_count=RATE_LIMIT_RETRIES)],
    )


@dataclass(frozen=True)
class BotIdentity:
    """Who the bot is, from ``auth.test``: how its own messages are recognised."""

    user_id: str | None
    bot_id: str | None

    def wrote(self, message: dict[str, Any]) -> bool:
        """Whether ``message`` was posted by this bot."""
        if self.bot_id and message.get("bot_id") == self.bot_id:
            return True
        return bool(self.user_id) and message.get("user") == self.user_id


def reminder_metadata(nonce: str) -> dict[str, Any]:
    """The message metadata a reminder carries: the delivery's nonce, hidden from readers."""
    return {"event_type": EVENT_TYPE, "event_payload": {"nonce": nonce}}


def carries(message: dict[str, Any], nonce: str) -> bool:
    """Whether ``message`` has the reminder metadata for ``nonce``."""
    metadata = message.get("metadata")
    if not isinstance(metadata, dict) or metadata.get("event_type") != EVENT_TYPE:
        return False
    payload = metadata.get("event_payload")
    return isinstance(payload, dict) and payload.get("nonce") == nonce


def slack_ts(instant: datetime) -> str:
    """``instant`` as a Slack message timestamp (``"1498806000.000000"``)."""
    return f"{instant.timestamp():.6f}"


class SlackPoster:
    """Posts through the app's Web API client, which retries only ``ratelimited`` on its own."""

    platform = "slack"

    def __init__(
        self,
        client: AsyncWebClient,
        limiter: RateLimiter | None = None,
        *,
        identity: BotIdentity | None = None,
        buttons: Callable[[Reply], list[Block]] | None = None,
    ) -> None:
        self.client = client
        self.limiter = limiter or RateLimiter(RATE, 1.0)
        self.posts_per_second = self.limiter.rate / self.limiter.per
        self.identity = identity
        self.buttons = buttons
        """Link buttons under a reminder (Add to calendar), from the reminder's reply."""

    async def post(self, channel_id: str, reply: Reply, *, nonce: str) -> str | None:
        """Post the reminder with ``nonce`` in its metadata; return the message's ts."""
        await self.limiter.acquire()
        try:
            response = await self.client.chat_postMessage(
                channel=channel_id,
                text=fallback_text(reply),
                blocks=with_buttons(
                    reply_blocks(reply), self.buttons(reply) if self.buttons else []
                ),
                metadata=reminder_metadata(nonce),
                unfurl_links=False,
                unfurl_media=False,
            )
        except SlackApiError as error:
            raise _translate(error, channel_id) from error
        except NETWORK as error:
            raise PostFailed(_network(error)) from error
        timestamp = response.get("ts")
        return str(timestamp) if timestamp else None

    async def find_post(self, channel_id: str, nonce: str, *, since: datetime) -> str | None:
        """The ts of the bot's own post carrying ``nonce`` since ``since``, searching every page.

        The search starts :data:`CLOCK_MARGIN` before ``since``, in case Slack's clock is
        behind this host's.
        """
        identity = await self._identity()
        cursor: str | None = None
        for _ in range(HISTORY_PAGES):
            page = await self._history(channel_id, since, cursor)
            messages: list[dict[str, Any]] = page.get("messages") or []
            for message in messages:
                if identity.wrote(message) and carries(message, nonce):
                    return str(message.get("ts"))
            cursor = (page.get("response_metadata") or {}).get("next_cursor") or None
            if cursor is None:
                return None
        log.warning(
            "Slack: stopped searching channel %s for an earlier post after %d pages of %d "
            "messages; posting again may show the reminder twice",
            channel_id,
            HISTORY_PAGES,
            HISTORY_PAGE,
        )
        return None

    async def _history(self, channel_id: str, since: datetime, cursor: str | None) -> Any:
        try:
            return await self.client.conversations_history(
                channel=channel_id,
                oldest=slack_ts(since - CLOCK_MARGIN),
                limit=HISTORY_PAGE,
                include_all_metadata=True,
                cursor=cursor,
            )
        except SlackApiError as error:
            raise _translate(error, channel_id, searching=True) from error
        except NETWORK as error:
            raise PostFailed(_network(error)) from error

    async def _identity(self) -> BotIdentity:
        """The bot's identity: given by the runner, else asked of ``auth.test`` once."""
        if self.identity is None:
            try:
                answer = await self.client.auth_test()
            except SlackApiError as error:
                raise _translate(error, "", searching=True) from error
            except NETWORK as error:
                raise PostFailed(_network(error)) from error
            self.identity = BotIdentity(answer.get("user_id"), answer.get("bot_id"))
        return self.identity


def _network(error: BaseException) -> str:
    return f"network error: {error or type(error).__name__}"


def _translate(error: SlackApiError, channel_id: str, *, searching: bool = False) -> Exception:
    data = error.response.data if isinstance(error.response.data, dict) else {}
    code = str(data.get("error") or f"HTTP {error.response.status_code}")
    if code in GONE:
        return ChannelUnavailable(GONE[code])
    if searching and code in BLIND:
        return SearchBlind(BLIND_MESSAGE.format(channel=channel_id, code=code))
    return PostFailed(f"Slack answered {code}")
