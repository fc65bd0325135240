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
from bot.core.commands import Invocation
from bot.core.loading import load_library
from bot.platforms.discord.sources import RenderedAnswer, rendered_answer


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
            self.answers[name] = rendered_answer(answer(library, Invocation(name), at), at)
        await super().setup_hook()


if __name__ == "__main__":
    asyncio.run(main(EqualWorkBot))
