"""Posting reminders into Discord channels, within Discord's global rate limit.

Each post carries its delivery's nonce twice: as the message nonce (discord.py
then sets ``enforce_nonce``, so Discord returns the first message for a retry
within its nonce window of a few minutes) and in the ``custom_id`` of the
reminder's Sources button, which no reader sees but the channel's history
returns. :meth:`DiscordPoster.find_post` pages through that history to find
the post again after the window has passed.
"""

import asyncio
import contextlib
import time
from collections.abc import Iterable
from datetime import datetime
from typing import Any

import aiohttp
import discord

from bot.core.reply import Reply
from bot.delivery.fanout import DISCORD_POSTS_PER_SECOND
from bot.delivery.limiter import ChannelWindows, RateLimiter
from bot.delivery.posting import ChannelUnavailable, PostFailed, SearchBlind
from bot.platforms.discord.embeds import reply_embeds
from bot.platforms.discord.permissions import SEARCH, missing
from bot.platforms.discord.reminder_button import carried_nonce, reminder_view

GLOBAL_RATE = DISCORD_POSTS_PER_SECOND  # evenly spaced, under Discord's 50 for every bot
CHANNEL_LIMIT = (5, 5.0)  # messages per seconds into one channel, as Discord allows
BUCKET_CLEANUP = 60.0  # seconds between discord.py's scans for idle rate-limit buckets
READY_WAIT = 15.0  # seconds a search waits for the gateway's cache at start
PAGE = 100  # Discord's largest page of message history
FAILURES = (discord.HTTPException, aiohttp.ClientError, OSError, asyncio.TimeoutError)


class DiscordPoster:
    """Posts through a logged-in discord.py client (REST; the gateway cache adds permissions)."""

    platform = "discord"

    def __init__(
        self,
        client: discord.Client,
        limiter: RateLimiter | None = None,
        channels: ChannelWindows | None = None,
    ) -> None:
        self.client = client
        _throttle_bucket_cleanup(client.http)
        self.limiter = limiter or RateLimiter(GLOBAL_RATE, 1.0)
        self.channels = channels or ChannelWindows(*CHANNEL_LIMIT)
        self.posts_per_second = self.limiter.rate / self.limiter.per
        self.pages_read = 0  # history pages requested, for tests and logs
        self._rendered: tuple[Reply | None, list[discord.Embed]] = (None, [])

    def _channel(self, channel_id: str) -> discord.PartialMessageable:
        return self.client.get_partial_messageable(int(channel_id))

    async def post(self, channel_id: str, reply: Reply, *, nonce: str) -> str | None:
        """Post with the nonce, a Sources button carrying it, and no mentions."""
        view = reminder_view(reply, nonce)
        if reply is not self._rendered[0]:  # a fan-out posts one reply to every channel
            self._rendered = (reply, reply_embeds(reply))
        await self.channels.acquire(channel_id)
        await self.limiter.acquire()
        try:
            message = await self._channel(channel_id).send(
                embeds=self._rendered[1],
                view=view,
                nonce=nonce,
                allowed_mentions=discord.AllowedMentions.none(),
            )
        except FAILURES as error:
            raise _translate(error) from error
        return str(message.id)

    async def _wait_for_cache(self) -> None:
        """Give the gateway a moment to fill the cache that knows the bot's permissions."""
        if self.client.is_ready():
            return
        with contextlib.suppress(RuntimeError, TimeoutError):  # not logged in / no gateway
            await asyncio.wait_for(self.client.wait_until_ready(), READY_WAIT)

    def check_searchable(self, channel_id: str) -> None:
        """Raise ``SearchBlind`` if the gateway cache shows the bot cannot read the history.

        Without Read Message History Discord answers an empty list, not an error,
        so a search would find nothing and look like "never posted". A channel not
        in the cache (gateway not ready, or not a server channel) is searched anyway.
        """
        channel = self.client.get_channel(int(channel_id))
        if not isinstance(channel, (discord.abc.GuildChannel, discord.Thread)):
            return
        me = channel.guild.me
        if me is None:
            return
        lacking = missing(channel.permissions_for(me), SEARCH)
        if lacking:
            names = " and ".join(needed.name for needed in lacking)
            raise SearchBlind(
                f"the bot lacks {names} in #{channel.name} ({channel_id}): "
                "it cannot look for an earlier post there, so a retry may post twice"
            )

    async def find_post(self, channel_id: str, nonce: str, *, since: datetime) -> str | None:
        """Page through every message after ``since``, oldest first, for our post with ``nonce``."""
        await self._wait_for_cache()
        self.check_searchable(channel_id)
        after = discord.utils.time_snowflake(since, high=False)
        me = self.client.user.id if self.client.user else None
        while True:
            await self.limiter.acquire()  # every page is a request against the global limit
            try:
                page = await self.client.http.logs_from(int(channel_id), PAGE, after=after)
            except FAILURES as error:
                raise _translate(error) from error
            self.pages_read += 1
            for message in sorted(page, key=lambda m: int(m["id"])):
                author = int(message.get("author", {}).get("id", 0))
                if (me is None or author == me) and nonce in _nonces(message):
                    return str(message["id"])
            if len(page) < PAGE:
                return None
            after = max(int(message["id"]) for message in page)


def _throttle_bucket_cleanup(http: Any) -> None:
    """Let discord.py forget idle rate-limit buckets at most once a minute.

    discord.py keeps a bucket per channel's message route and, each time it makes a new one
    past 256, scans all of them for idle ones (idle for 5 minutes). A fan-out makes one per
    channel, so that scan made each post cost time in proportion to the channels before it:
    quadratic in all. Its buckets and their behaviour are unchanged; the scan runs less often.
    """
    original = getattr(http, "_try_clear_expired_ratelimits", None)
    if original is None or getattr(original, "throttled", False):
        return
    last = [float("-inf")]

    def throttled() -> None:
        now = time.monotonic()
        if now - last[0] >= BUCKET_CLEANUP:
            last[0] = now
            original()

    throttled.throttled = True  # type: ignore[attr-defined]
    http._try_clear_expired_ratelimits = throttled


def _nonces(message: Any) -> set[str]:
    """The nonces carried by a message's component custom ids."""
    found: set[str] = set()
    for custom_id in _custom_ids(message.get("components") or []):
        nonce = carried_nonce(custom_id)
        if nonce is not None:
            found.add(nonce)
    return found


def _custom_ids(components: Iterable[Any]) -> list[str]:
    ids: list[str] = []
    for component in components:
        if isinstance(component, dict):
            if isinstance(component.get("custom_id"), str):
                ids.append(component["custom_id"])
            ids.extend(_custom_ids(component.get("components") or []))
    return ids


def _translate(error: BaseException) -> Exception:
    """Discord's answer as the scheduler's: gone for good, or try later."""
    if isinstance(error, discord.Forbidden):
        reason = error.text or "Forbidden"
        return ChannelUnavailable(f"no permission in that channel (403: {reason})")
    if isinstance(error, discord.NotFound):
        return ChannelUnavailable(f"the channel is gone (404: {error.text or 'Not Found'})")
    if isinstance(error, discord.HTTPException):
        return PostFailed(f"Discord answered {error.status}: {error.text or error}")
    return PostFailed(f"network error: {error or type(error).__name__}")
