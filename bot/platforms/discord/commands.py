"""The slash commands, built from the core's command catalogue and the loaded briefs.

The ``brief`` option is offered only when more than one brief is loaded.
"""

from typing import TYPE_CHECKING, Any

import discord
from discord import app_commands

from bot.core.commands import AREA, BRIEF, COMMANDS, Invocation
from bot.core.library import choices
from bot.platforms.cache import this_minute

if TYPE_CHECKING:
    from bot.platforms.discord.client import BriefBot

Interaction = discord.Interaction[Any]
CHOICES_LIMIT = 25


async def respond(interaction: Interaction, command: str, **options: str | None) -> None:
    """Answer a command at once with embeds and a Sources button, both from the render cache."""
    bot: BriefBot = interaction.client
    given = {name: value for name, value in options.items() if value}
    now = this_minute(bot.runtime.clock.now())
    _, (embeds, view) = bot.rendered.get(bot.runtime.library, Invocation(command, given), now)
    await interaction.response.send_message(
        embeds=embeds,
        allowed_mentions=discord.AllowedMentions.none(),
        view=view if view is not None else discord.utils.MISSING,
    )


async def complete_brief(interaction: Interaction, current: str) -> list[app_commands.Choice[str]]:
    """Brief ids that match what has been typed."""
    bot: BriefBot = interaction.client
    values = choices(bot.runtime.library, "brief", current)[:CHOICES_LIMIT]
    titles = {brief.id: brief.title for brief in bot.runtime.library.briefs}
    return [app_commands.Choice(name=titles[value][:100], value=value) for value in values]


async def complete_area(interaction: Interaction, current: str) -> list[app_commands.Choice[str]]:
    """Area ids of the chosen (or newest) brief that match what has been typed."""
    bot: BriefBot = interaction.client
    library = bot.runtime.library
    brief_id = getattr(interaction.namespace, "brief", None)
    values = choices(library, "area", current, brief_id)[:CHOICES_LIMIT]
    try:
        areas = {area.id: area.name for area in library.brief(brief_id).mous.areas}
    except LookupError:
        areas = {area.id: area.name for area in library.newest.mous.areas}
    return [app_commands.Choice(name=areas.get(v, v)[:100], value=v) for v in values]


def _description(name: str) -> str:
    return next(spec.description for spec in COMMANDS if spec.name == name)


def build(with_brief: bool) -> list[app_commands.Command[Any, ..., None]]:
    """The three commands; ``with_brief`` adds the ``brief`` option to each."""
    built: list[app_commands.Command[Any, ..., None]] = []

    def add(name: str, callback: Any) -> app_commands.Command[Any, ..., None]:
        command: app_commands.Command[Any, ..., None] = app_commands.Command(
            name=name, description=_description(name), callback=callback
        )
        built.append(command)
        return command

    if with_brief:

        @app_commands.describe(brief=BRIEF.description)
        @app_commands.autocomplete(brief=complete_brief)
        async def summit_b(interaction: Interaction, brief: str | None = None) -> None:
            await respond(interaction, "summit", brief=brief)

        @app_commands.describe(area=AREA.description, brief=BRIEF.description)
        @app_commands.autocomplete(area=complete_area, brief=complete_brief)
        async def mous_b(
            interaction: Interaction, area: str | None = None, brief: str | None = None
        ) -> None:
            await respond(interaction, "mous", area=area, brief=brief)

        @app_commands.describe(brief=BRIEF.description)
        @app_commands.autocomplete(brief=complete_brief)
        async def next_b(interaction: Interaction, brief: str | None = None) -> None:
            await respond(interaction, "next-meeting", brief=brief)

        add("summit", summit_b)
        add("mous", mous_b)
        add("next-meeting", next_b)
        return built

    async def summit(interaction: Interaction) -> None:
        await respond(interaction, "summit")

    @app_commands.describe(area=AREA.description)
    @app_commands.autocomplete(area=complete_area)
    async def mous(interaction: Interaction, area: str | None = None) -> None:
        await respond(interaction, "mous", area=area)

    async def next_meeting(interaction: Interaction) -> None:
        await respond(interaction, "next-meeting")

    add("summit", summit)
    add("mous", mous)
    add("next-meeting", next_meeting)
    return built
