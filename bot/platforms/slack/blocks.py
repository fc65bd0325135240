"""The neutral reply as Slack Block Kit, always within Slack's limits.

Timed moments use ``<!date^…>`` so each reader sees their own time zone, with
the brief's own words as the fallback; all-day dates stay calendar text. Every
mrkdwn text object is ``verbatim``: Slack then formats only what the bot spelled
out (``<!date^…>``, ``<url|title>``), never a plain ``@here``, channel name or
URL that came from a brief.
"""

from collections.abc import Iterable
from typing import Any

from bot.core.calendar_links import FeedAddress, google_link
from bot.core.commands import detail_option
from bot.core.reply import ChannelRef, Countdown, Line, Moment, Reply, Segment, Source
from bot.core.schema import Brief, Event

BLOCKS = 50
SECTION_TEXT = 3000
HEADER_TEXT = 150
FALLBACK_TEXT = 3000
CUT = "\u2026"
NOT_SHOWN = "_\u2026 shortened to fit Slack: {count} more not shown._"
SOURCES_ACTION = "briefbot_sources"
CALENDAR_ACTION = "briefbot_calendar"
"""The prefix of the calendar buttons' action ids: links, which Slack reports when clicked."""
ACTIONS_ELEMENTS = 25
BUTTON_TEXT = 75
BUTTON_URL = 3000
CALENDAR_EVENTS = 4
"""At most this many meetings get calendar buttons under one message."""

Block = dict[str, Any]


def escape(text: str) -> str:
    """Slack's three control characters, so brief text can neither format links nor ping."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def fit(text: str, limit: int) -> str:
    """``text`` cut to ``limit`` characters, ending in an ellipsis when cut."""
    return text if len(text) <= limit else text[: limit - len(CUT)].rstrip() + CUT


def segment_text(segment: Segment) -> str:
    """One piece of a line in Slack mrkdwn."""
    if isinstance(segment, ChannelRef):
        if segment.platform == "slack" and segment.channel_id.isalnum():
            return f"<#{segment.channel_id}>"
        return escape(segment.words)
    if isinstance(segment, Moment):
        if not segment.is_timed:
            return escape(segment.words)
        unix = int(segment.start.timestamp())
        return f"<!date^{unix}^{{date_long_pretty}} {{time}}|{escape(segment.words)}>"
    if isinstance(segment, Countdown):
        return escape(segment.words)
    return escape(segment)


def line_text(line: Line) -> str:
    """A whole line in Slack mrkdwn."""
    return "".join(segment_text(segment) for segment in line)


def mrkdwn(text: str) -> Block:
    """A verbatim mrkdwn text object: Slack parses no mention or link the bot did not spell out."""
    return {"type": "mrkdwn", "text": text, "verbatim": True}


def section(text: str) -> Block:
    """A mrkdwn section, cut to Slack's limit."""
    return {"type": "section", "text": mrkdwn(fit(text, SECTION_TEXT))}


def chunks(title: str, lines: Iterable[str]) -> list[str]:
    """``*title*`` and its lines, split into texts that each fit one section."""
    texts: list[str] = []
    current = f"*{escape(title)}*"
    for entry in lines:
        joined = f"{current}\n{entry}"
        if len(joined) > SECTION_TEXT and current:
            texts.append(current)
            current = f"*{escape(title)} (continued)*\n{entry}"
        else:
            current = joined
    texts.append(current)
    return texts


def assemble(head: list[Block], body: list[Block], tail: list[Block]) -> list[Block]:
    """At most 50 blocks: the head and tail always, the body cut with a note if it must be."""
    room = BLOCKS - len(head) - len(tail)
    if len(body) > room:
        hidden = len(body) - (room - 1)
        body = [*body[: room - 1], section(NOT_SHOWN.format(count=hidden))]
    return [*head, *body, *tail]


def sources_value(reply: Reply, at: int) -> str:
    """What the Sources button carries: the command, its options and the instant answered."""
    options = dict(reply.options)
    detail = options.get(detail_option(reply.command), "")
    return f"{reply.command}:{at}:{options.get('brief', '')}:{detail}"


def reply_blocks(reply: Reply, *, sources_at: int | None = None) -> list[Block]:
    """A reply as blocks: header, summary, a section per part, footer, and a Sources button."""
    head: list[Block] = [
        {"type": "header", "text": {"type": "plain_text", "text": fit(reply.title, HEADER_TEXT)}},
        section("\n".join(line_text(summary) for summary in reply.summary)),
    ]
    body: list[Block] = []
    for part in reply.sections:
        lines = [f"\u2022 {line_text(entry)}" for entry in part.lines]
        body.extend(section(text) for text in chunks(part.title, lines))
    tail: list[Block] = []
    if reply.footer:
        tail.append({"type": "context", "elements": [mrkdwn(escape(reply.footer))]})
    if sources_at is not None and reply.sources:
        tail.append(
            {
                "type": "actions",
                "elements": [
                    {
                        "type": "button",
                        "text": {"type": "plain_text", "text": "Sources"},
                        "action_id": SOURCES_ACTION,
                        "value": sources_value(reply, sources_at),
                    }
                ],
            }
        )
    return assemble(head, body, tail)


def fallback_text(reply: Reply) -> str:
    """Plain words for notifications and clients that cannot show blocks."""
    summary = " ".join(line_text(entry) for entry in reply.summary)
    return fit(f"{escape(reply.title)}: {summary}", FALLBACK_TEXT)


def source_text(source: Source) -> str:
    """The evidence for one point: the article's sentences, then any outside reference."""
    parts = [f"*{escape(source.point)}*"]
    parts.extend(f"> \u201c{escape(quote)}\u201d" for quote in source.quotes)
    for ref in source.external:
        named = f"<{ref.url}|{escape(ref.title)}>" if ref.url else escape(ref.title)
        parts.append(f"Outside the article: {named} \u2014 {escape(ref.reason)}")
    return "\n".join(parts)


def sources_blocks(reply: Reply) -> list[Block]:
    """The evidence behind each point of ``reply``."""
    head: list[Block] = [
        {
            "type": "header",
            "text": {
                "type": "plain_text",
                "text": fit(f"Sources \u00b7 {reply.title}", HEADER_TEXT),
            },
        }
    ]
    body = [section(source_text(source)) for source in reply.sources]
    return assemble(head, body, [])


def link_button(text: str, url: str, action_id: str) -> Block:
    """A button that opens ``url`` in the reader's browser."""
    return {
        "type": "button",
        "text": {"type": "plain_text", "text": fit(text, BUTTON_TEXT)},
        "url": url,
        "action_id": action_id,
    }


def calendar_buttons(pairs: list[tuple[Brief, Event]], address: FeedAddress | None) -> list[Block]:
    """Per meeting: a Google Calendar button and, when the feed is served, its .ics.

    With one meeting the buttons say "Add to Google Calendar" and "Download .ics"; with
    several, each names its meeting.
    """
    shown = pairs[:CALENDAR_EVENTS]
    buttons: list[Block] = []
    for brief, event in shown:
        named = len(shown) > 1
        link = google_link(brief, event, limit=BUTTON_URL)
        if link is not None:
            text = f"Add {event.name} to Google Calendar" if named else "Add to Google Calendar"
            buttons.append(link_button(text, link, f"{CALENDAR_ACTION}_{len(buttons)}"))
        if address is not None:
            url = address.event(brief.id, event.id)
            if len(url) <= BUTTON_URL:
                text = f"{event.name} (.ics)" if named else "Download .ics"
                buttons.append(link_button(text, url, f"{CALENDAR_ACTION}_{len(buttons)}"))
    return buttons


def with_buttons(blocks: list[Block], buttons: list[Block]) -> list[Block]:
    """``blocks`` (left unchanged) with ``buttons`` after a closing actions block's, or in a
    new actions block; within Slack's 50 blocks and 25 elements an actions block."""
    if not buttons:
        return blocks
    if blocks and blocks[-1].get("type") == "actions":
        last = blocks[-1]
        elements = [*last["elements"], *buttons][:ACTIONS_ELEMENTS]
        return [*blocks[:-1], {**last, "elements": elements}]
    actions = {"type": "actions", "elements": buttons[:ACTIONS_ELEMENTS]}
    return [*blocks[: BLOCKS - 1], actions]
