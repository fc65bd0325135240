"""The slash commands, built from the core's command catalogue and the loaded briefs.

The ``brief`` option is offered only when more than one brief is loaded.
"""

from typing import TYPE_CHECKING, Any

import discord
from discord import app_commands

from bot.core.ask import MAX_QUESTION, complete
from bot.core.calendar_links import FeedAddress, calendar_reply, events_ahead
from bot.core.commands import AREA, BRIEF, CALENDAR, COMMANDS, QUESTION, Invocation
from bot.core.library import choices
from bot.platforms.cache import this_minute
from bot.platforms.discord.calendar_button import with_calendar_buttons
from bot.platforms.discord.embeds import reply_embeds
from bot.platforms.discord.sources import sources_view

if TYPE_CHECKING:
    from bot.platforms.discord.context import BotContext

Interaction = discord.Interaction[Any]
CHOICES_LIMIT = 25
LINK_URL_LIMIT = 512
"""The longest address a link button takes."""


async def respond(interaction: Interaction, command: str, **options: str | None) -> None:
    """Answer a command at once with embeds and a Sources button, both from the render cache."""
    bot: BotContext = interaction.client
    given = {name: value for name, value in options.items() if value}
    now = this_minute(bot.runtime.clock.now())
    library = bot.runtime.library
    reply, (embeds, view) = bot.rendered.get(library, Invocation(command, given), now)
    if command == "next-meeting":  # its own view: the buttons name the briefs' events
        ahead = events_ahead(library, dict(reply.options).get("brief"), now)
        view = with_calendar_buttons(sources_view(reply, now), ahead)
    await interaction.response.send_message(
        embeds=embeds,
        allowed_mentions=discord.AllowedMentions.none(),
        view=view if view is not None else discord.utils.MISSING,
    )


async def calendar(interaction: Interaction) -> None:
    """``/calendar``: the feed's address and how to subscribe, or why there is none."""
    bot: BotContext = interaction.client
    settings = bot.runtime.settings
    address = FeedAddress.of(settings.calendar_public_url, settings.calendar_http_port)
    reply = calendar_reply(bot.runtime.library, address, bot.runtime.clock.now())
    view = discord.utils.MISSING
    if address is not None and len(address.feed) <= LINK_URL_LIMIT:
        view = discord.ui.View(timeout=None)
        view.add_item(discord.ui.Button(label="Calendar feed (.ics)", url=address.feed))
    await interaction.response.send_message(
        embeds=reply_embeds(reply), view=view, allowed_mentions=discord.AllowedMentions.none()
    )


async def complete_brief(interaction: Interaction, current: str) -> list[app_commands.Choice[str]]:
    """Brief ids that match what has been typed."""
    bot: BotContext = interaction.client
    values = choices(bot.runtime.library, "brief", current)[:CHOICES_LIMIT]
    titles = {brief.id: brief.title for brief in bot.runtime.library.briefs}
    return [app_commands.Choice(name=titles[value][:100], value=value) for value in values]


async def complete_area(interaction: Interaction, current: str) -> list[app_commands.Choice[str]]:
    """Area ids of the chosen (or newest) brief that match what has been typed."""
    bot: BotContext = interaction.client
    library = bot.runtime.library
    brief_id = getattr(interaction.namespace, "brief", None)
    values = choices(library, "area", current, brief_id)[:CHOICES_LIMIT]
    try:
        areas = {area.id: area.name for area in library.brief(brief_id).mous.areas}
    except LookupError:
        areas = {area.id: area.name for area in library.newest.mous.areas}
    return [app_commands.Choice(name=areas.get(v, v)[:100], value=v) for v in values]


async def complete_question(
    interaction: Interaction, current: str
) -> list[app_commands.Choice[str]]:
    """Questions the chosen (or newest) brief answers that match what has been typed."""
    bot: BotContext = interaction.client
    brief_id = getattr(interaction.namespace, "brief", None)
    values = complete(bot.runtime.library, current, brief_id, CHOICES_LIMIT)
    return [app_commands.Choice(name=value[:100], value=value[:100]) for value in values]


Question = app_commands.Range[str, 1, MAX_QUESTION]


def _description(name: str) -> str:
    return next(spec.description for spec in (*COMMANDS, CALENDAR) if spec.name == name)


def build(with_brief: bool) -> list[app_commands.Command[Any, ..., None]]:
    """The commands; ``with_brief`` adds the ``brief`` option to each that answers from a brief."""
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

        @app_commands.describe(question=QUESTION.description, brief=BRIEF.description)
        @app_commands.autocomplete(question=complete_question, brief=complete_brief)
        async def ask_b(
            interaction: Interaction, question: Question, brief: str | None = None
        ) -> None:
            await respond(interaction, "ask", question=question, brief=brief)

        add("summit", summit_b)
        add("mous", mous_b)
        add("next-meeting", next_b)
        add("ask", ask_b)
        add("calendar", calendar)
        return built

    async def summit(interaction: Interaction) -> None:
        await respond(interaction, "summit")

    @app_commands.describe(area=AREA.description)
    @app_commands.autocomplete(area=complete_area)
    async def mous(interaction: Interaction, area: str | None = None) -> None:
        await respond(interaction, "mous", area=area)

    async def next_meeting(interaction: Interaction) -> None:
        await respond(interaction, "next-meeting")

    @app_commands.describe(question=QUESTION.description)
    @app_commands.autocomplete(question=complete_question)
    async def ask(interaction: Interaction, question: Question) -> None:
        await respond(interaction, "ask", question=question)

    add("summit", summit)
    add("mous", mous)
    add("next-meeting", next_meeting)
    add("ask", ask)
    add("calendar", calendar)
    return built
