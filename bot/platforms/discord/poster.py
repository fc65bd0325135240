"""Posting reminders into Discord channels, within Discord's global rate limit."""

import asyncio
from datetime import datetime

import aiohttp
import discord

from bot.core.reply import Reply
from bot.delivery.limiter import RateLimiter
from bot.delivery.posting import ChannelUnavailable, PostFailed
from bot.platforms.discord.embeds import reply_embeds

GLOBAL_RATE = 48  # requests per second, evenly spaced, under Discord's 50 for every bot
HISTORY_LIMIT = 100
FAILURES = (discord.HTTPException, aiohttp.ClientError, OSError, asyncio.TimeoutError)


class DiscordPoster:
    """Posts through a logged-in discord.py client (REST only: no gateway needed)."""

    platform = "discord"

    def __init__(self, client: discord.Client, limiter: RateLimiter | None = None) -> None:
        self.client = client
        self.limiter = limiter or RateLimiter(GLOBAL_RATE, 1.0)

    def _channel(self, channel_id: str) -> discord.PartialMessageable:
        return self.client.get_partial_messageable(int(channel_id))

    async def post(self, channel_id: str, reply: Reply, *, nonce: str) -> str | None:
        """Post with a nonce (discord.py then sets ``enforce_nonce``) and no mentions."""
        await self.limiter.acquire()
        try:
            message = await self._channel(channel_id).send(
                embeds=reply_embeds(reply),
                nonce=nonce,
                allowed_mentions=discord.AllowedMentions.none(),
            )
        except FAILURES as error:
            raise _translate(error) from error
        return str(message.id)

    async def find_marker(self, channel_id: str, marker: str, *, since: datetime) -> str | None:
        """Search the channel's recent history for a post whose footer carries ``marker``."""
        await self.limiter.acquire()  # a history read counts against the global limit too
        try:
            async for message in self._channel(channel_id).history(
                limit=HISTORY_LIMIT, after=since
            ):
                if self.client.user and message.author.id != self.client.user.id:
                    continue
                for embed in message.embeds:
                    if embed.footer.text and marker in embed.footer.text:
                        return str(message.id)
        except FAILURES as error:
            raise _translate(error) from error
        return None


def _translate(error: BaseException) -> Exception:
    """Discord's answer as the scheduler's: gone for good, or try later."""
    if isinstance(error, discord.Forbidden):
        return ChannelUnavailable(f"no permission to post there (403: {error.text or 'Forbidden'})")
    if isinstance(error, discord.NotFound):
        return ChannelUnavailable(f"the channel is gone (404: {error.text or 'Not Found'})")
    if isinstance(error, discord.HTTPException):
        return PostFailed(f"Discord answered {error.status}: {error.text or error}")
    return PostFailed(f"network error: {error or type(error).__name__}")
