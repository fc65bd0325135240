"""The equal-work baseline: the minimal discord.py bot sending briefbot's own answers.

It is ``baseline_discord.py`` with one difference: each command answers with exactly the
payload briefbot sends for it (the same embeds, the same Sources button in the same view),
rendered once at start from briefbot's own rendering, at the instant ``BRIEFBOT_AS_OF`` (the
clock the bench pins briefbot to). Per interaction it does the least any bot sending those
answers must do: look the prebuilt answer up and send it. The gap between briefbot and this
bot is briefbot's own cost (its clock, render cache, command parsing), not the cost of rich
answers, which both pay alike. Clicks on the button are not served: the bench sends none.

Run: ``python bench/baseline_equal.py`` with the project root on ``PYTHONPATH``, and the
settings of ``baseline_discord.py`` plus ``BRIEFS_DIR`` and ``BRIEFBOT_AS_OF``.
"""

import asyncio
import os
from datetime import UTC, datetime
from pathlib import Path

import discord

from bench.baseline_discord import COMMANDS, BaselineBot, main
from bot.core.answers import answer
from bot.core.calendar_links import events_ahead
from bot.core.commands import Invocation
from bot.core.library import Library
from bot.core.loading import load_library
from bot.platforms.discord.calendar_button import with_calendar_buttons
from bot.platforms.discord.sources import RenderedAnswer, rendered_answer, sources_view


def prebuilt(library: Library, name: str, at: datetime) -> RenderedAnswer:
    """Command ``name``'s answer at ``at`` exactly as briefbot sends it: /next-meeting's view
    also holds an Add to calendar button per meeting ahead."""
    reply = answer(library, Invocation(name), at)
    found = rendered_answer(reply, at)
    if name != "next-meeting":
        return found
    ahead = events_ahead(library, dict(reply.options).get("brief"), at)
    return found._replace(view=with_calendar_buttons(sources_view(reply, at), ahead))


def answer_instant() -> datetime:
    """The minute briefbot answers at: ``BRIEFBOT_AS_OF`` to the minute (else now)."""
    pinned = os.environ.get("BRIEFBOT_AS_OF")
    moment = datetime.fromisoformat(pinned) if pinned else datetime.now(UTC)
    return moment.replace(second=0, microsecond=0)


async def send_prebuilt(interaction: discord.Interaction["EqualWorkBot"]) -> None:
    """Every command's callback: its prebuilt answer, at once."""
    assert interaction.command is not None
    embeds, view = interaction.client.answers[interaction.command.name]
    await interaction.response.send_message(
        embeds=embeds,
        allowed_mentions=discord.AllowedMentions.none(),
        view=view if view is not None else discord.utils.MISSING,
    )


class EqualWorkBot(BaselineBot):
    """The baseline bot, answering each command with briefbot's prebuilt answer."""

    def __init__(self, guild_id: int) -> None:
        super().__init__(guild_id, callback=send_prebuilt)
        self.answers: dict[str, RenderedAnswer] = {}

    async def setup_hook(self) -> None:
        """Render every command's answer once (views need the running loop), then sync."""
        library = load_library(Path(os.environ["BRIEFS_DIR"]))
        at = answer_instant()
        for name in COMMANDS:
            self.answers[name] = prebuilt(library, name, at)
        await super().setup_hook()


if __name__ == "__main__":
    asyncio.run(main(EqualWorkBot))
