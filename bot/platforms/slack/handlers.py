"""Slack's slash commands, the Sources button and the calendar buttons, answered from the core.

Calendar buttons are links (Google Calendar's new-event page, and the event's .ics when the
feed is served): a member's own browser opens them. The .ics is not uploaded as a file, since
``files.uploadV2`` shares a file with the whole channel (there is no ephemeral file), and
would need the ``files:write`` scope.
"""

import asyncio
import logging
import re
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from slack_bolt.async_app import AsyncAck, AsyncApp, AsyncRespond
from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from bot.core.answers import answer
from bot.core.calendar_links import FeedAddress, calendar_reply, events_ahead
from bot.core.commands import CALENDAR, COMMANDS, Invocation, UsageError, detail_option, parse
from bot.core.library import UnknownChoice
from bot.core.reply import Reply
from bot.delivery.ledger import SubscriptionSource
from bot.delivery.listing import SHOWN, reminders_reply
from bot.platforms.cache import this_minute
from bot.platforms.slack.blocks import (
    CALENDAR_ACTION,
    SOURCES_ACTION,
    Block,
    calendar_buttons,
    fallback_text,
    link_button,
    reply_blocks,
    sources_blocks,
    with_buttons,
)

if TYPE_CHECKING:
    from bot.platforms.slack.context import SlackContext

log = logging.getLogger(__name__)

APOLOGY = "Sorry, something went wrong while answering. It has been logged; please try again later."
CHANNEL_REF = re.compile(r"^<#([CG][A-Z0-9]+)(?:\|[^>]*)?>$")
REMINDERS_USAGE = (
    "Use `/reminders subscribe`, `/reminders unsubscribe` or `/reminders list`"
    " (optionally with a #channel)."
)


def register(app: AsyncApp, platform: "SlackContext") -> None:
    """Attach every command and action handler to ``app``."""

    async def on_command(ack: AsyncAck, command: dict[str, Any]) -> None:
        await answer_command(ack, command, platform)

    async def on_reminders(ack: AsyncAck, command: dict[str, Any], client: AsyncWebClient) -> None:
        await reminders_command(ack, command, client, platform)

    async def on_sources(ack: AsyncAck, body: dict[str, Any], respond: AsyncRespond) -> None:
        await ack()
        await show_sources(body, respond, platform)

    async def on_calendar(ack: AsyncAck) -> None:
        await calendar_command(ack, platform)

    async def on_link(ack: AsyncAck) -> None:
        await ack()  # a link button: the reader's browser opens it, nothing more to do

    for spec in COMMANDS:
        app.command(f"/{spec.name}")(on_command)
    app.command("/reminders")(on_reminders)
    app.command(f"/{CALENDAR.name}")(on_calendar)
    app.action(SOURCES_ACTION)(on_sources)
    app.action(re.compile(f"^{CALENDAR_ACTION}_"))(on_link)


async def answer_command(ack: AsyncAck, command: dict[str, Any], platform: "SlackContext") -> None:
    """``/summit``, ``/mous``, ``/next-meeting``, ``/ask``: the answer in the channel, mistakes
    privately."""
    typed = f"{command.get('command', '')} {command.get('text', '')}".strip()
    try:
        now = this_minute(platform.runtime.clock.now())
        library = platform.runtime.library
        reply, (text, blocks) = platform.rendered.get(library, parse(typed), now)
        if reply.command == "next-meeting":
            ahead = events_ahead(library, dict(reply.options).get("brief"), now)
            blocks = with_buttons(blocks, calendar_buttons(ahead, feed_address(platform)))
    except (UsageError, UnknownChoice) as error:
        text = str(error)
        await ack(text=text[:1].upper() + text[1:] + ".")
        return
    except Exception:
        log.exception("Slack: answering %s failed", typed)
        await ack(text=APOLOGY)
        return
    await ack(response_type="in_channel", text=text, blocks=blocks)


def feed_address(platform: "SlackContext") -> FeedAddress | None:
    """Where members reach the calendar feed, or ``None`` when it is not served."""
    settings = platform.runtime.settings
    return FeedAddress.of(settings.calendar_public_url, settings.calendar_http_port)


async def calendar_command(ack: AsyncAck, platform: "SlackContext") -> None:
    """``/calendar``: the feed's address with a button to it, or why there is none."""
    address = feed_address(platform)
    try:
        reply = calendar_reply(platform.runtime.library, address, platform.runtime.clock.now())
    except Exception:
        log.exception("Slack: answering /calendar failed")
        await ack(text=APOLOGY)
        return
    feed = (
        [link_button("Calendar feed (.ics)", address.feed, f"{CALENDAR_ACTION}_feed")]
        if address is not None
        else []
    )
    blocks = with_buttons(reply_blocks(reply), feed)
    await ack(response_type="in_channel", text=fallback_text(reply), blocks=blocks)


def reminder_buttons(platform: "SlackContext", reply: Reply) -> list[Block]:
    """The calendar buttons under a reminder of the event ``reply`` names."""
    event_id = dict(reply.options).get("event")
    found = [
        (brief, event)
        for brief, event in platform.runtime.library.events(None)
        if event.id == event_id
    ]
    pair = next((p for p in found if p[0].id == reply.brief_id), None) or next(iter(found), None)
    return calendar_buttons([pair], feed_address(platform)) if pair else []


async def show_sources(
    body: dict[str, Any], respond: AsyncRespond, platform: "SlackContext"
) -> None:
    """The Sources button: the evidence, to the clicker alone."""
    try:
        value = body["actions"][0]["value"]
        command, at, brief, detail = value.split(":")
        pairs = (("brief", brief), (detail_option(command), detail))
        options = {name: v for name, v in pairs if v}
        reply = answer(
            platform.runtime.library,
            Invocation(command, options),
            datetime.fromtimestamp(int(at), UTC),
        )
    except (UsageError, UnknownChoice) as error:
        await respond(
            text=f"These sources are not available any more: {error}.",
            response_type="ephemeral",
            replace_original=False,
        )
        return
    except Exception:
        log.exception("Slack: showing sources failed")
        await respond(text=APOLOGY, response_type="ephemeral", replace_original=False)
        return
    await respond(
        text=f"Sources: {reply.title}",
        blocks=sources_blocks(reply),
        response_type="ephemeral",
        replace_original=False,
    )


async def _is_admin(client: AsyncWebClient, user_id: str) -> bool:
    try:
        response = await client.users_info(user=user_id)
    except SlackApiError as error:
        log.warning(
            "Slack: cannot check whether %s is an admin: %s", user_id, error.response.get("error")
        )
        return False
    user = response.get("user") or {}
    return bool(user.get("is_admin") or user.get("is_owner") or user.get("is_primary_owner"))


async def reminders_command(
    ack: AsyncAck, command: dict[str, Any], client: AsyncWebClient, platform: "SlackContext"
) -> None:
    """``/reminders subscribe|unsubscribe|list [#channel]``, for workspace admins."""
    words = str(command.get("text", "")).split()
    action = words[0].lower() if words else ""
    if action not in ("subscribe", "unsubscribe", "list") or len(words) > 2:
        await ack(text=REMINDERS_USAGE)
        return
    channel = str(command.get("channel_id", ""))
    if len(words) == 2:
        match = CHANNEL_REF.match(words[1])
        if not match:
            await ack(text=f"{words[1]} is not a channel: pick one with #. {REMINDERS_USAGE}")
            return
        channel = match.group(1)
    if not await _is_admin(client, str(command.get("user_id", ""))):
        await ack(text="Only workspace admins can manage reminders.")
        return
    ledger = platform.ledger
    team = str(command.get("team_id", "")) or None
    if action == "subscribe":
        await asyncio.to_thread(
            ledger.subscribe,
            "slack",
            channel,
            guild_id=team,
            source=SubscriptionSource.COMMAND,
            now=datetime.now(UTC),
        )
        await platform.record_warnings([channel])
        ahead = platform.scheduler.upcoming() if platform.scheduler else []
        nxt = f" Next: {ahead[0].id}." if ahead else ""
        warning = f" \u26a0\ufe0f {platform.channel_warning}" if platform.channel_warning else ""
        await ack(
            text=f"<#{channel}> will get reminders ({len(ahead)} planned).{nxt}"
            f" Invite me there if I am not in it yet.{warning}"
        )
    elif action == "unsubscribe":
        removed = await asyncio.to_thread(ledger.unsubscribe, "slack", channel)
        await ack(
            text=f"<#{channel}> will get no more reminders."
            if removed
            else f"<#{channel}> was not subscribed to reminders."
        )
    else:
        listing = await reminders_listing(platform)
        await ack(text=fallback_text(listing), blocks=reply_blocks(listing))


async def reminders_listing(platform: "SlackContext") -> Reply:
    """Channels, upcoming reminders and recent deliveries: the shared listing."""
    ledger = platform.ledger
    subscriptions = await asyncio.to_thread(ledger.subscriptions, platform="slack")
    deliveries = await asyncio.to_thread(ledger.deliveries, platform="slack", limit=SHOWN)
    ahead = platform.scheduler.upcoming() if platform.scheduler else []
    return reminders_reply(platform.runtime.library, ahead, subscriptions, deliveries)
