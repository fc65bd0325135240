"""Replies drawn in the terminal with rich, in the same shape as a Discord embed."""

from datetime import datetime

from rich.console import Group, RenderableType
from rich.markup import escape
from rich.panel import Panel
from rich.table import Table
from rich.text import Text

from bot.core.reply import Countdown, Line, Moment, Reply


def _line(segments: Line) -> Text:
    text = Text()
    for segment in segments:
        if isinstance(segment, Moment):
            text.append(segment.words, style="bold")
        elif isinstance(segment, Countdown):
            text.append(segment.words, style="magenta")
        else:
            text.append(segment)
    return text


def reply_panel(reply: Reply, *, border: str = "cyan", subtitle: str | None = None) -> Panel:
    """One reply: title, summary, a block per section, the footer."""
    parts: list[RenderableType] = [_line(summary) for summary in reply.summary]
    for section in reply.sections:
        parts.append(Text(""))
        parts.append(Text(section.title, style="bold underline"))
        bullets = Table.grid(padding=(0, 1))
        bullets.add_column(width=1)
        bullets.add_column(ratio=1)
        for entry in section.lines:
            bullets.add_row("\u2022", _line(entry))
        parts.append(bullets)
    if reply.footer:
        parts.extend([Text(""), Text(reply.footer, style="dim")])
    hint = "/sources shows the article's words behind this answer" if reply.sources else None
    return Panel(
        Group(*parts),
        title=Text(reply.title, style="bold"),
        title_align="left",
        subtitle=subtitle or hint,
        subtitle_align="right",
        border_style=border,
        padding=(0, 1),
    )


def sources_panel(reply: Reply) -> Panel:
    """The evidence behind each point of ``reply``."""
    table = Table.grid(padding=(0, 1))
    table.add_column(style="bold", ratio=1)
    table.add_column(ratio=3)
    for source in reply.sources:
        evidence = Text()
        for quote in source.quotes:
            evidence.append(f"\u201c{quote}\u201d\n", style="italic")
        for ref in source.external:
            evidence.append("Outside the article: ", style="yellow")
            evidence.append(ref.title)
            if ref.url:
                evidence.append(f" <{ref.url}>", style="blue")
            evidence.append(f" \u2014 {ref.reason}\n")
        evidence.rstrip()
        table.add_row(Text(source.point), evidence)
    return Panel(
        table,
        title=f"Sources \u00b7 {escape(reply.title)}",
        title_align="left",
        border_style="yellow",
    )


def post_panel(reply: Reply, channel: str, at: datetime) -> Panel:
    """A scheduled post, shown as a message in a named channel."""
    return reply_panel(
        reply, border="green", subtitle=f"{channel} \u00b7 briefbot \u00b7 {at:%Y-%m-%d %H:%M %Z}"
    )


def help_table(commands: list[tuple[str, str]]) -> Panel:
    """The commands and what each answers."""
    table = Table.grid(padding=(0, 2))
    for name, description in commands:
        table.add_row(Text(name, style="bold cyan"), Text(description))
    return Panel(table, title="Commands", title_align="left", border_style="blue")
