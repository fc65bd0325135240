"""What the Slack handlers need of the running platform.

The handlers name the platform by this protocol rather than by its class, so the platform can
register them without a circle.
"""

from typing import Protocol

from bot.delivery.ledger import Ledger
from bot.delivery.scheduler import ReminderScheduler
from bot.platforms.cache import RenderCache
from bot.platforms.slack.blocks import Block
from bot.runtime import Runtime


class SlackContext(Protocol):
    """The running Slack platform (``bot.platforms.slack.runner.SlackPlatform``), as its
    handlers see it."""

    runtime: Runtime
    ledger: Ledger
    scheduler: ReminderScheduler | None
    rendered: RenderCache[tuple[str, list[Block]]]

    @property
    def channel_warning(self) -> str | None:
        """What exactly-once delivery lacks on this token (a missing scope), if anything."""

    async def record_warnings(self, channels: list[str] | None = None) -> None:
        """Keep the scope warning on the subscribed channels in the ledger."""
