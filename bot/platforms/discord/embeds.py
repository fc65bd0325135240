"""The neutral reply as Discord embeds, always within Discord's limits.

Timed moments use Discord timestamps (``<t:UNIX:F>``, ``<t:UNIX:R>``) so each
reader sees their own time zone; all-day dates stay calendar text so they never
shift a day for a reader elsewhere. Anything too long is shortened with a
visible pointer rather than rejected by Discord.
"""

from dataclasses import dataclass

import discord
from discord.utils import escape_markdown

from bot.core.reply import (
    ChannelRef,
    Countdown,
    Direction,
    Line,
    Moment,
    Reply,
    Segment,
    Source,
)

TITLE = 256
DESCRIPTION = 4096
FIELDS = 25
FIELD_NAME = 256
FIELD_VALUE = 1024
FOOTER = 2048
TOTAL = 6000
EMBEDS = 10

COLOUR = discord.Colour(0x2F6FB3)
SOURCES_COLOUR = discord.Colour(0xC9A227)
CUT = "\u2026"
NOT_SHOWN = "\u2026 shortened to fit Discord: {count} more not shown."


def fit(text: str, limit: int) -> str:
    """``text`` cut to ``limit`` characters, ending in an ellipsis when cut."""
    if len(text) <= limit:
        return text
    return text[: limit - len(CUT)].rstrip() + CUT


def timestamp(unix: int, style: str) -> str:
    """A Discord timestamp, shown in each reader's own zone and language."""
    return f"<t:{unix}:{style}>"


def segment_text(segment: Segment) -> str:
    """One piece of a line in Discord markdown."""
    if isinstance(segment, ChannelRef):
        return channel_text(segment)
    if isinstance(segment, Moment):
        if not segment.is_timed:
            return segment.words
        start = timestamp(int(segment.start.timestamp()), "F")
        if segment.end is None or segment.end == segment.start:
            return start
        return f"{start} \u2013 {timestamp(int(segment.end.timestamp()), 'F')}"
    if isinstance(segment, Countdown):
        return countdown_text(segment)
    return escape_markdown(segment)


def channel_text(channel: ChannelRef) -> str:
    """A Discord channel as a link every reader sees by name; another platform's by its words."""
    if channel.platform == "discord" and channel.channel_id.isdigit():
        return f"<#{channel.channel_id}>"
    return escape_markdown(channel.words)


def countdown_text(countdown: Countdown) -> str:
    """A live relative time (``in 2 months``) that Discord keeps current for each reader."""
    if not countdown.live:
        return countdown.words
    relative = timestamp(int(countdown.target.timestamp()), "R")
    if countdown.direction is Direction.UNTIL:
        return relative
    if countdown.direction is Direction.SINCE:
        return f"ended {relative}"
    return countdown.words


def line_text(line: Line) -> str:
    """A whole line in Discord markdown."""
    return "".join(segment_text(segment) for segment in line)


def chunk(lines: list[str], limit: int) -> list[str]:
    """Group lines into blocks of at most ``limit`` characters; a longer line is cut."""
    blocks: list[str] = []
    current = ""
    for text in (fit(text, limit) for text in lines):
        joined = f"{current}\n{text}" if current else text
        if len(joined) > limit:
            blocks.append(current)
            current = text
        else:
            current = joined
    if current:
        blocks.append(current)
    return blocks


@dataclass(frozen=True)
class Field:
    """One embed field before packing."""

    name: str
    value: str
    inline: bool = False


def pack(
    title: str, description: str, fields: list[Field], footer: str, colour: discord.Colour
) -> list[discord.Embed]:
    """Lay out one message's embeds: at most 25 fields each, 10 embeds, 6000 characters in all."""
    title = fit(title, TITLE)
    footer = fit(footer, FOOTER)
    reserve = len(footer) + len(NOT_SHOWN) + 20
    description = fit(description, min(DESCRIPTION, TOTAL - len(title) - reserve))
    embeds = [discord.Embed(title=title, description=description or None, colour=colour)]
    used = len(title) + len(description)
    shown = 0
    for field in fields:
        name, value = fit(field.name, FIELD_NAME), fit(field.value, FIELD_VALUE)
        if used + len(name) + len(value) + reserve > TOTAL:
            break
        if len(embeds[-1].fields) >= FIELDS - 1:  # one slot stays free for the "More" note
            if len(embeds) == EMBEDS:
                break
            embeds.append(discord.Embed(colour=colour))
        embeds[-1].add_field(name=name, value=value, inline=field.inline)
        used += len(name) + len(value)
        shown += 1
    if shown < len(fields):
        note = NOT_SHOWN.format(count=len(fields) - shown)
        embeds[-1].add_field(name="More", value=note, inline=False)
    if footer:
        embeds[-1].set_footer(text=footer)
    return embeds


def reply_embeds(reply: Reply) -> list[discord.Embed]:
    """A reply as embeds: title, summary, a field per section (split if long), footer."""
    fields: list[Field] = []
    for section in reply.sections:
        lines = [f"\u2022 {line_text(entry)}" for entry in section.lines]
        for index, block in enumerate(chunk(lines, FIELD_VALUE)):
            name = section.title if index == 0 else f"{section.title} (continued)"
            fields.append(Field(escape_markdown(name), block, section.inline))
    description = "\n".join(line_text(summary) for summary in reply.summary)
    return pack(reply.title, description, fields, reply.footer, COLOUR)


def source_text(source: Source) -> str:
    """The evidence for one point: the article's sentences, then any outside reference."""
    parts = [f"> \u201c{escape_markdown(quote)}\u201d" for quote in source.quotes]
    for ref in source.external:
        title = escape_markdown(ref.title)
        named = f"[{title}]({ref.url})" if ref.url else title
        parts.append(f"Outside the article: {named} \u2014 {escape_markdown(ref.reason)}")
    return "\n".join(parts)


def sources_embeds(reply: Reply) -> list[discord.Embed]:
    """The evidence behind each point of ``reply``, for the Sources button."""
    fields = [Field(escape_markdown(source.point), source_text(source)) for source in reply.sources]
    return pack(f"Sources \u00b7 {reply.title}", "", fields, reply.footer, SOURCES_COLOUR)
