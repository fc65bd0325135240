"""What the scheduler needs from a platform to post reminders, and how posting can fail."""

from datetime import datetime
from typing import Protocol

from bot.core.reply import Reply


class PostFailed(Exception):
    """A post failed for now (rate limits, server errors, network): try again later."""


class ChannelUnavailable(Exception):
    """The channel cannot take posts any more (no permission, deleted): stop posting there."""


class Poster(Protocol):
    """One platform's way to post a reminder into a channel."""

    platform: str

    async def post(self, channel_id: str, reply: Reply, *, nonce: str) -> str | None:
        """Post ``reply``; return the message id if the platform gives one.

        ``nonce`` is the same on every attempt of one delivery, so a platform that
        honours it (Discord) never shows a retry twice.
        """
        ...

    async def find_marker(self, channel_id: str, marker: str, *, since: datetime) -> str | None:
        """The id of a message posted since ``since`` that carries ``marker``, if any."""
        ...
