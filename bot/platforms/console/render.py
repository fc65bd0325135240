"""Replies drawn in the terminal with rich, in the same shape as a Discord embed."""

from datetime import datetime
from typing import TYPE_CHECKING

from rich.console import Group, RenderableType
from rich.markup import escape
from rich.panel import Panel
from rich.table import Table
from rich.text import Text

from bot.core.calendar_links import FeedAddress, google_link
from bot.core.reply import ChannelRef, Countdown, Line, Moment, Reply
from bot.core.schema import Brief, Event

if TYPE_CHECKING:
    from bot.delivery.report import ScheduleReport


def _line(segments: Line) -> Text:
    text = Text()
    for segment in segments:
        if isinstance(segment, Moment):
            text.append(segment.words, style="bold")
        elif isinstance(segment, Countdown):
            text.append(segment.words, style="magenta")
        elif isinstance(segment, ChannelRef):
            text.append(segment.words, style="cyan")
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


def calendar_links(pairs: list[tuple[Brief, Event]], feed: FeedAddress | None) -> Text:
    """Under /next-meeting: each meeting's Google Calendar link and, when served, its .ics.

    Links are shown in full (and clickable where the terminal can), never cut.
    """
    text = Text()
    for brief, event in pairs:
        link = google_link(brief, event)
        if link is None:
            continue
        text.append("\N{CALENDAR} " + f"{event.name}: add to Google Calendar\n", style="bold")
        text.append(link, style=f"link {link}")
        if feed is not None:
            ics = feed.event(brief.id, event.id)
            text.append("\n.ics: ")
            text.append(ics, style=f"link {ics}")
        text.append("\n")
    text.rstrip()
    return text


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


LISTED_CHANNELS = 20  # more are shown as counts per platform
SHOWN_SUBSCRIPTIONS = 50  # rows of the channels table


def _channel_summary(channels: list[str]) -> str:
    """The channels, or with many of them how many there are on each platform."""
    if not channels:
        return "none subscribed"
    if len(channels) <= LISTED_CHANNELS:
        return ", ".join(channels)
    counts: dict[str, int] = {}
    for channel in channels:
        platform = channel.partition(":")[0]
        counts[platform] = counts.get(platform, 0) + 1
    return ", ".join(f"{count:,} {platform}" for platform, count in sorted(counts.items()))


def schedule_tables(report: "ScheduleReport") -> list[RenderableType]:
    """``briefbot schedule``: upcoming reminders, recent deliveries, subscriptions."""
    from bot.delivery.ledger import SubscriptionState

    upcoming = Table(
        title=f"Upcoming reminders (now: {report.now:%Y-%m-%d %H:%M UTC})", title_justify="left"
    )
    columns = ["Due (UTC)", "Due (event's zone)", "Event", "Before", "Channels"]
    if report.lead:
        columns.insert(2, "Starts posting (UTC)")
    for column in columns:
        upcoming.add_column(column)
    channels = _channel_summary(report.channels)
    for reminder in report.upcoming:
        local = reminder.due_at.astimezone(reminder.event.zone)
        cells = [
            f"{reminder.due_at:%Y-%m-%d %H:%M}",
            f"{local:%Y-%m-%d %H:%M %Z}",
            reminder.event.name,
            reminder.offset.label,
            channels,
        ]
        if report.lead:
            cells.insert(2, f"{report.starts_at(reminder):%Y-%m-%d %H:%M:%S}")
        upcoming.add_row(*cells)
    if not report.upcoming:
        upcoming.add_row("\u2014", "", "nothing ahead", *[""] * (len(columns) - 3))
    recent = Table(title="Recent deliveries", title_justify="left")
    for column in ("Updated (UTC)", "Reminder", "Channel", "State", "Detail"):
        recent.add_column(column)
    styles = {"sent": "green", "missed": "yellow", "failed": "red", "claimed": "cyan"}
    for delivery in report.deliveries:
        state = delivery.state.value + (" (late)" if delivery.late else "")
        recent.add_row(
            f"{delivery.updated_at:%Y-%m-%d %H:%M:%S}",
            delivery.key.reminder_id,
            f"{delivery.key.platform}:{delivery.key.channel_id}",
            Text(state, style=styles.get(delivery.state.value, "")),
            delivery.error or "",
        )
    if not report.deliveries:
        recent.add_row("\u2014", "none yet", "", "", "")
    subscriptions = Table(title="Channels", title_justify="left")
    for column in ("Channel", "State", "Subscribed by", "Reason", "Warning"):
        subscriptions.add_column(column)
    # Broken channels and warnings first; past SHOWN_SUBSCRIPTIONS rows, a count (--json: all).
    ordered = sorted(
        report.subscriptions,
        key=lambda sub: sub.state == SubscriptionState.ACTIVE and not sub.warning,
    )
    for sub in ordered[:SHOWN_SUBSCRIPTIONS]:
        subscriptions.add_row(
            f"{sub.platform}:{sub.channel_id}",
            Text(sub.state, style="green" if sub.state == SubscriptionState.ACTIVE else "red"),
            sub.source,
            sub.reason or "",
            Text(sub.warning or "", style="yellow"),
        )
    hidden = len(ordered) - SHOWN_SUBSCRIPTIONS
    if hidden > 0:
        subscriptions.add_row(f"… and {hidden:,} more", "", "", "--json lists every one", "")
    shown: list[RenderableType] = [upcoming, recent, subscriptions]
    if report.warnings:
        shown.append(
            Text(
                "Exactly once cannot hold everywhere:\n"
                + "\n".join(f"  {warning}" for warning in report.warnings),
                style="yellow",
            )
        )
    return shown
