"""Reminders in the console: posts shown as messages in its one channel."""

from datetime import datetime

from bot.core.reply import Reply
from bot.platforms.console.session import CHANNEL, ConsoleSession


class ConsolePoster:
    """Posts into the console session's ``#briefing`` channel."""

    platform = "console"
    posts_per_second = float("inf")
    channel = CHANNEL.removeprefix("#")

    def __init__(self, session: ConsoleSession) -> None:
        self.session = session

    async def post(self, channel_id: str, reply: Reply, *, nonce: str) -> str | None:
        """Show the reminder between prompts."""
        self.session.post(reply)
        return None

    async def find_post(self, channel_id: str, nonce: str, *, since: datetime) -> str | None:
        """The console keeps no history to search."""
        return None
