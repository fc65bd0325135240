"""What the command and button handlers need of the running bot.

The handlers receive the bot as ``interaction.client``; they name it by this protocol rather
than by the client's class, so the client can import them without a circle.
"""

from typing import Any, Protocol

import discord

from bot.delivery.ledger import Ledger
from bot.delivery.scheduler import ReminderScheduler
from bot.platforms.cache import RenderCache
from bot.runtime import Runtime


class BotContext(Protocol):
    """The running Discord bot (``bot.platforms.discord.client.BriefBot``), as handlers see it."""

    runtime: Runtime
    ledger: Ledger
    scheduler: ReminderScheduler | None
    rendered: RenderCache[Any]

    def get_channel(self, id: int, /) -> Any:
        """A channel from the gateway's cache, if the bot sees it."""

    async def check_permissions(self) -> list[str]:
        """Check every subscribed channel's permissions; the warnings found."""

    async def report_error(self, interaction: discord.Interaction[Any], error: Exception) -> None:
        """Log an unexpected error and tell the member, once."""
