"""/calendar and the calendar links under /next-meeting in the local console."""

import io
from datetime import UTC, datetime

from rich.console import Console

from bot.core.calendar_links import FeedAddress
from bot.core.clock import Clock
from bot.core.library import Library
from bot.platforms.console.session import ConsoleSession

AS_OF = datetime(2017, 4, 28, tzinfo=UTC)
FEED = FeedAddress("https://cal.example.org")


def shown(library: Library, typed: str, feed: FeedAddress | None = None) -> str:
    sink = io.StringIO()
    out = Console(file=sink, width=5000, color_system=None)
    session = ConsoleSession(library, Clock(AS_OF, 0.0), out, feed)
    rendered = session.handle(typed)
    assert rendered is not None
    out.print(rendered)
    return sink.getvalue()


def test_next_meeting_shows_each_meetings_google_link(library: Library) -> None:
    text = shown(library, "/next-meeting")
    assert "G20 leaders’ summit: add to Google Calendar" in text
    assert (
        "https://calendar.google.com/calendar/render?action=TEMPLATE&text=G20%20leaders"
        "%E2%80%99%20summit&dates=20170707/20170709&details=Why%20it%20matters" in text
    )
    assert "dates=20170906/20170908" in text
    assert ".ics:" not in text
    served = shown(library, "/next-meeting", FEED)
    assert f".ics: {FEED.base}/briefs/russia-japan-summit-2017/g20-hamburg-2017.ics" in served


def test_calendar_with_and_without_the_feed(library: Library) -> None:
    assert "has not turned on the calendar feed" in shown(library, "/calendar")
    assert "briefbot calendar --out briefbot.ics" in shown(library, "/calendar")
    served = shown(library, "/calendar", FEED)
    assert "Subscribe to https://cal.example.org/calendar.ics" in served
    assert "Subscribe from web" in served
    assert "/calendar" in shown(library, "/help")
