"""What the scheduler needs from a platform to post reminders, and how posting can fail."""

from datetime import datetime
from typing import Protocol

from bot.core.reply import Reply


class PostFailed(Exception):
    """A post failed for now (rate limits, server errors, network): try again later.

    The post may still have reached the channel (a reply lost after the platform
    stored it), so the scheduler looks for it before posting again.
    """


class ChannelUnavailable(Exception):
    """The channel cannot take posts any more (no permission, deleted): stop posting there."""


class SearchBlind(Exception):
    """The bot cannot read the channel's history (a missing permission or scope).

    The message names what is missing; without it an earlier post cannot be
    found, so a retry after an uncertain failure may show twice.
    """


class Poster(Protocol):
    """One platform's way to post a reminder into a channel."""

    platform: str
    posts_per_second: float
    """How many posts a second the platform takes from the bot in all (``inf``: no limit)."""

    async def post(self, channel_id: str, reply: Reply, *, nonce: str) -> str | None:
        """Post ``reply``; return the message id if the platform gives one.

        ``nonce`` is the same on every attempt of one delivery. The post carries
        it where readers don't see it (Discord: the nonce and a component's
        custom id; Slack: message metadata), so :meth:`find_post` can find it.
        """
        ...

    async def find_post(self, channel_id: str, nonce: str, *, since: datetime) -> str | None:
        """The id of the bot's own post carrying ``nonce`` made since ``since``, if any.

        Searches every message since ``since``, page by page, however busy the
        channel. Raises ``SearchBlind`` when the bot cannot read the history,
        ``PostFailed`` when the search failed for now, ``ChannelUnavailable``
        when the channel is gone.
        """
        ...
