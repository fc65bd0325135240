"""The Sources button: shows the article's words behind an answer, to the clicker alone.

Its ``custom_id`` names the command, its options and the instant it was
answered, so the same evidence can be rebuilt on any later click, even after
the bot restarts (a discord.py dynamic item). The view holding it is built with
the answer's embeds and cached with them (``rendered_answer``): a persistent view
whose only item is dynamic is never dispatched itself, so one view serves every
message that shows the same answer.
"""

import logging
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any, NamedTuple

import discord

from bot.core.answers import answer
from bot.core.commands import Invocation, detail_option
from bot.core.reply import Reply
from bot.platforms.discord.embeds import reply_embeds, sources_embeds

if TYPE_CHECKING:
    from bot.platforms.discord.context import BotContext

log = logging.getLogger(__name__)

CUSTOM_ID_LIMIT = 100
TEMPLATE = r"src:(?P<command>[a-z-]+):(?P<at>\d+):(?P<brief>[a-z0-9-]*):(?P<area>[a-z0-9-]*)"


def custom_id(reply: Reply, at: datetime, area: str | None) -> str | None:
    """The button's id for ``reply``, or ``None`` when it would not fit Discord's 100 characters."""
    options = dict(reply.options)
    brief = options.get("brief", "")
    value = f"src:{reply.command}:{int(at.timestamp())}:{brief}:{area or ''}"
    return value if len(value) <= CUSTOM_ID_LIMIT else None


class SourcesButton(discord.ui.DynamicItem[discord.ui.Button[Any]], template=TEMPLATE):
    """A grey "Sources" button under an answer."""

    def __init__(self, command: str, at: int, brief: str, area: str) -> None:
        self.command = command
        self.at = at
        self.brief = brief
        self.area = area
        super().__init__(
            discord.ui.Button(
                label="Sources",
                style=discord.ButtonStyle.secondary,
                custom_id=f"src:{command}:{at}:{brief}:{area}",
                emoji="\N{OPEN BOOK}",
            )
        )

    @classmethod
    async def from_custom_id(
        cls,
        interaction: discord.Interaction[Any],
        item: discord.ui.Item[Any],
        match: Any,
        /,
    ) -> "SourcesButton":
        """Rebuild the button from a click on any message, old or new."""
        return cls(match["command"], int(match["at"]), match["brief"], match["area"])

    async def callback(self, interaction: discord.Interaction[Any]) -> None:
        """Answer the click with the evidence, visible only to the person who clicked."""
        bot: BotContext = interaction.client
        detail = detail_option(self.command)
        options = {
            name: value for name, value in (("brief", self.brief), (detail, self.area)) if value
        }
        try:
            reply = answer(
                bot.runtime.library,
                Invocation(self.command, options),
                datetime.fromtimestamp(self.at, UTC),
            )
            await interaction.response.send_message(
                embeds=sources_embeds(reply),
                ephemeral=True,
                allowed_mentions=discord.AllowedMentions.none(),
            )
        except Exception as error:  # noqa: BLE001 (every failure gets an answer and a log line)
            await bot.report_error(interaction, error)


def sources_view(reply: Reply, at: datetime) -> discord.ui.View | None:
    """A view holding the Sources button for ``reply``, if it has sources and the id fits."""
    if not reply.sources:
        return None
    area = dict(reply.options).get(detail_option(reply.command))
    item_id = custom_id(reply, at, area)
    if item_id is None:
        log.warning("no Sources button: its id would exceed %d characters", CUSTOM_ID_LIMIT)
        return None
    view = discord.ui.View(timeout=None)
    _, command, at_text, brief, area_id = item_id.split(":")
    view.add_item(SourcesButton(command, int(at_text), brief, area_id))
    return view


class RenderedAnswer(NamedTuple):
    """An answer as Discord shows it: its embeds and the view with its Sources button."""

    embeds: list[discord.Embed]
    view: discord.ui.View | None


def rendered_answer(reply: Reply, at: datetime) -> RenderedAnswer:
    """``reply`` answered at ``at`` as embeds and a Sources view, built once for the render cache.

    Sending a view that is persistent (no timeout) and holds only a dynamic item
    registers nothing per message in discord.py's view store, so the same view can
    go out with every message carrying this answer.
    """
    return RenderedAnswer(reply_embeds(reply), sources_view(reply, at))
