"""The Sources button under a reminder: it also carries the delivery's nonce, unseen.

Its ``custom_id`` is ``rem:<nonce>:<event id>[:<brief id>]`` (at most 100
characters; the brief id is left out when it would not fit). Readers see only
the "Sources" label, while the channel's history returns the ``custom_id``, so
the poster can find its own earlier post after a lost reply or a crash. A click
shows the event's evidence to the clicker alone, rebuilt from the briefs by
event id, so it keeps working after a restart (a discord.py dynamic item).
"""

import dataclasses
import re
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

import discord

from bot.core.library import Library
from bot.core.reminders import Offset, Reminder, reminder_reply
from bot.core.reply import Reply
from bot.platforms.discord.calendar_button import CalendarButton
from bot.platforms.discord.calendar_button import custom_id as custom_calendar_id
from bot.platforms.discord.embeds import sources_embeds

if TYPE_CHECKING:
    from bot.platforms.discord.context import BotContext

CUSTOM_ID_LIMIT = 100
NONCE_LIMIT = 25
PREFIX = "rem"
TEMPLATE = (
    rf"{PREFIX}:(?P<nonce>[^:]{{1,{NONCE_LIMIT}}}):(?P<event>[a-z0-9-]+)(?::(?P<brief>[a-z0-9-]+))?"
)
PATTERN = re.compile(TEMPLATE)
GONE = "That event is no longer in the briefs, so its sources cannot be shown."


def custom_id(nonce: str, event_id: str, brief_id: str | None) -> str:
    """The button's id; raises ``ValueError`` if the nonce or event id cannot be carried."""
    if not 1 <= len(nonce) <= NONCE_LIMIT or ":" in nonce:
        raise ValueError(f"a nonce of 1 to {NONCE_LIMIT} characters without ':' is needed")
    value = f"{PREFIX}:{nonce}:{event_id}"
    if len(value) > CUSTOM_ID_LIMIT or not PATTERN.fullmatch(value):
        raise ValueError(f"event id {event_id!r} does not fit a button's custom id")
    with_brief = f"{value}:{brief_id}"
    return with_brief if brief_id and len(with_brief) <= CUSTOM_ID_LIMIT else value


def carried_nonce(value: str) -> str | None:
    """The nonce a reminder button's ``custom_id`` carries, if it is one."""
    match = PATTERN.fullmatch(value)
    return match["nonce"] if match else None


def event_sources(library: Library, event_id: str, brief_id: str | None, now: datetime) -> Reply:
    """The reminder reply of ``event_id`` (in ``brief_id`` if still there), for its sources."""
    found = [(b, e) for b, e in library.events() if e.id == event_id]
    brief, event = next(((b, e) for b, e in found if b.id == brief_id), None) or found[0]
    reminder = Reminder(event.id, brief.id, event, Offset(timedelta(0), "0s"), now)
    reply = reminder_reply(reminder, brief, now, late=False)
    return dataclasses.replace(reply, title=event.name)


class ReminderSourcesButton(discord.ui.DynamicItem[discord.ui.Button[Any]], template=TEMPLATE):
    """A grey "Sources" button under a reminder."""

    def __init__(self, nonce: str, event_id: str, brief_id: str | None = None) -> None:
        self.nonce = nonce
        self.event_id = event_id
        self.brief_id = brief_id
        super().__init__(
            discord.ui.Button(
                label="Sources",
                style=discord.ButtonStyle.secondary,
                custom_id=custom_id(nonce, event_id, brief_id),
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
    ) -> "ReminderSourcesButton":
        """Rebuild the button from a click on any reminder, old or new."""
        return cls(match["nonce"], match["event"], match["brief"])

    async def callback(self, interaction: discord.Interaction[Any]) -> None:
        """Answer the click with the event's evidence, visible only to the person who clicked."""
        bot: BotContext = interaction.client
        try:
            library = bot.runtime.library
            if not any(event.id == self.event_id for _, event in library.events()):
                await interaction.response.send_message(
                    GONE, ephemeral=True, allowed_mentions=discord.AllowedMentions.none()
                )
                return
            reply = event_sources(library, self.event_id, self.brief_id, datetime.now(UTC))
            await interaction.response.send_message(
                embeds=sources_embeds(reply),
                ephemeral=True,
                allowed_mentions=discord.AllowedMentions.none(),
            )
        except Exception as error:  # noqa: BLE001 (every failure gets an answer and a log line)
            await bot.report_error(interaction, error)


def reminder_view(reply: Reply, nonce: str) -> discord.ui.View:
    """The view under a reminder: its Sources button, carrying ``nonce``, and Add to calendar."""
    event_id = dict(reply.options).get("event")
    if not event_id:
        raise ValueError("a reminder reply names its event in options")
    view = discord.ui.View(timeout=None)
    view.add_item(ReminderSourcesButton(nonce, event_id, reply.brief_id))
    if custom_calendar_id(event_id, reply.brief_id) is not None:
        view.add_item(CalendarButton(event_id, reply.brief_id))
    return view
