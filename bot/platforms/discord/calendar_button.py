"""The "Add to calendar" button under ``/next-meeting`` answers and reminders.

Its ``custom_id`` is ``cal:<event id>[:<brief id>]`` (at most 100 characters; the
brief id is left out when it would not fit, and the event is then found by its id
alone). A click answers the clicker alone with the event's ``.ics`` attached, which
any calendar app opens, and a Google Calendar link. The event is read from the
briefs held at the click, so the button keeps working after a restart or a reload
(a discord.py dynamic item).
"""

import io
from typing import TYPE_CHECKING, Any

import discord
from discord.utils import escape_markdown

from bot.core.answers import moment
from bot.core.calendar import calendar_bytes
from bot.core.calendar_links import google_link
from bot.core.library import Library
from bot.core.schema import Brief, Event
from bot.platforms.discord.embeds import fit

if TYPE_CHECKING:
    from bot.platforms.discord.context import BotContext

CUSTOM_ID_LIMIT = 100
LABEL_LIMIT = 80
BUTTONS = 4
"""At most this many under one answer: with its Sources button, one row of five."""
LINK_LIMIT = 1500
"""The Google link's share of the answer's 2,000 characters."""
HEAD_LIMIT = 400
TEMPLATE = r"cal:(?P<event>[a-z0-9-]+)(?::(?P<brief>[a-z0-9-]+))?"
LABEL = "Add to calendar"
GONE = "That meeting is no longer in the briefs, so it cannot be added to a calendar."


def custom_id(event_id: str, brief_id: str | None) -> str | None:
    """The button's id, or ``None`` when even the event id alone would not fit."""
    value = f"cal:{event_id}"
    if len(value) > CUSTOM_ID_LIMIT:
        return None
    with_brief = f"{value}:{brief_id}"
    return with_brief if brief_id and len(with_brief) <= CUSTOM_ID_LIMIT else value


def find(library: Library, event_id: str, brief_id: str | None) -> tuple[Brief, Event] | None:
    """The event, in ``brief_id`` if it is still there, else in any brief."""
    found = [(brief, event) for brief, event in library.events() if event.id == event_id]
    return next((pair for pair in found if pair[0].id == brief_id), None) or next(iter(found), None)


def answer_text(brief: Brief, event: Event) -> str:
    """What the click answers, beside the attached .ics."""
    head = fit(
        f"**{escape_markdown(event.name)}** \u00b7 {escape_markdown(moment(event).words)} "
        f"\u00b7 {escape_markdown(event.place)}",
        HEAD_LIMIT,
    )
    text = f"{head}\nOpen the attached `{event.id}.ics` to add it to your calendar app"
    link = google_link(brief, event, limit=LINK_LIMIT)
    return f"{text}, or [add it to Google Calendar](<{link}>)." if link else f"{text}."


class CalendarButton(discord.ui.DynamicItem[discord.ui.Button[Any]], template=TEMPLATE):
    """A grey "Add to calendar" button."""

    def __init__(self, event_id: str, brief_id: str | None = None, label: str = LABEL) -> None:
        self.event_id = event_id
        self.brief_id = brief_id
        item_id = custom_id(event_id, brief_id)
        if item_id is None:
            raise ValueError(f"event id {event_id!r} does not fit a button's custom id")
        super().__init__(
            discord.ui.Button(
                label=fit(label, LABEL_LIMIT),
                style=discord.ButtonStyle.secondary,
                custom_id=item_id,
                emoji="\N{CALENDAR}",
            )
        )

    @classmethod
    async def from_custom_id(
        cls,
        interaction: discord.Interaction[Any],
        item: discord.ui.Item[Any],
        match: Any,
        /,
    ) -> "CalendarButton":
        """Rebuild the button from a click on any message, old or new."""
        return cls(match["event"], match["brief"])

    async def callback(self, interaction: discord.Interaction[Any]) -> None:
        """Answer the clicker alone with the event's .ics and a Google Calendar link."""
        bot: BotContext = interaction.client
        try:
            library = bot.runtime.library
            found = find(library, self.event_id, self.brief_id)
            if found is None:
                await interaction.response.send_message(
                    GONE, ephemeral=True, allowed_mentions=discord.AllowedMentions.none()
                )
                return
            brief, event = found
            body = calendar_bytes(
                library,
                bot.runtime.clock.now(),
                all_events=True,
                brief_id=brief.id,
                event_id=event.id,
            )
            await interaction.response.send_message(
                answer_text(brief, event),
                file=discord.File(io.BytesIO(body), filename=f"{event.id}.ics"),
                ephemeral=True,
                allowed_mentions=discord.AllowedMentions.none(),
            )
        except Exception as error:  # noqa: BLE001 (every failure gets an answer and a log line)
            await bot.report_error(interaction, error)


def calendar_buttons(pairs: list[tuple[Brief, Event]]) -> list[CalendarButton]:
    """A button per event (at most ``BUTTONS``), labelled with its name when there are several."""
    shown = pairs[:BUTTONS]
    buttons = []
    for brief, event in shown:
        label = LABEL if len(shown) == 1 else f"Add {event.name}"
        if custom_id(event.id, brief.id) is not None:
            buttons.append(CalendarButton(event.id, brief.id, label))
    return buttons


def with_calendar_buttons(
    view: discord.ui.View | None, pairs: list[tuple[Brief, Event]]
) -> discord.ui.View | None:
    """``view`` (a new one if ``None``) with the calendar buttons of ``pairs`` added."""
    buttons = calendar_buttons(pairs)
    if not buttons:
        return view
    view = view if view is not None else discord.ui.View(timeout=None)
    for button in buttons:
        view.add_item(button)
    return view
