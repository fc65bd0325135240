"""Google Calendar links for one event, the feed's addresses, and the /calendar answer."""

from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import pytest
from icalendar import Calendar

from bot.core.calendar import calendar_bytes
from bot.core.calendar_links import (
    LINK_LIMIT,
    FeedAddress,
    calendar_reply,
    events_ahead,
    google_link,
)
from bot.core.library import Library, UnknownChoice
from bot.core.loading import load_library
from bot.core.reply import plain

AS_OF = datetime(2017, 4, 28, tzinfo=UTC)
G20_DAYS = "all_day = true\nstart = 2017-07-07\nend = 2017-07-08"
# Through the night the clocks go back in Hamburg: 22:00 CEST to 04:00 CET.
G20_OVERNIGHT = "all_day = false\nstart = 2017-10-28T22:00:00\nend = 2017-10-29T04:00:00"
MakeBriefs = Callable[..., Path]


def fields(link: str) -> dict[str, str]:
    parts = urlsplit(link)
    assert f"{parts.scheme}://{parts.netloc}{parts.path}" == (
        "https://calendar.google.com/calendar/render"
    )
    parsed = parse_qs(parts.query, strict_parsing=True)
    assert all(len(values) == 1 for values in parsed.values()), "each field once"
    return {name: values[0] for name, values in parsed.items()}


def test_an_all_day_event_gets_dates_with_an_exclusive_end(library: Library) -> None:
    brief = library.newest
    g20 = next(event for event in brief.events if event.id == "g20-hamburg-2017")
    link = google_link(brief, g20)
    assert link is not None
    assert len(link) <= LINK_LIMIT
    got = fields(link)
    assert got["action"] == "TEMPLATE"
    assert got["text"] == "G20 leaders’ summit"
    assert got["dates"] == "20170707/20170709"  # 7–8 July: the 9th is the exclusive end
    assert "ctz" not in got  # calendar days are the same days everywhere
    assert got["location"] == "Hamburg, Germany"
    assert got["details"].startswith(
        "Why it matters: Abe and Putin’s next chance to touch base, on the margins of the summit."
    )
    assert (
        "“The next time Abe and Putin will touch base will be on the margins of the July G20 "
        "summit in Hamburg”"
    ) in got["details"]
    assert got["details"].endswith(
        "Source: “Russia-Japan summit: Putin, Abe inch closer towards normalizing ties”, "
        "Russia Beyond"
    )
    assert " " not in link
    assert "\n" not in link
    assert "“" not in link


def test_a_timed_event_across_a_dst_change_is_local_in_its_zone(brief_copy: MakeBriefs) -> None:
    library = load_library(brief_copy((G20_DAYS, G20_OVERNIGHT)))
    brief = library.newest
    g20 = next(event for event in brief.events if event.id == "g20-hamburg-2017")
    got = fields(google_link(brief, g20) or "")
    # 22:00 CEST to 04:00 CET: local wall times, read in ctz, span the change (7 hours).
    assert got["dates"] == "20171028T220000/20171029T040000"
    assert got["ctz"] == "Europe/Berlin"


def test_the_second_of_two_repeated_hours_is_given_in_utc(brief_copy: MakeBriefs) -> None:
    repeated = "all_day = false\nstart = 2017-10-29T02:30:00+01:00\nend = 2017-10-29T05:00:00"
    library = load_library(brief_copy((G20_DAYS, repeated)))
    brief = library.newest
    g20 = next(event for event in brief.events if event.id == "g20-hamburg-2017")
    got = fields(google_link(brief, g20) or "")
    assert got["dates"] == "20171029T013000Z/20171029T040000Z"
    assert "ctz" not in got


def test_the_article_address_is_in_the_details(brief_copy: MakeBriefs) -> None:
    address = "https://www.rbth.com/international/2017/04/28/example"
    library = load_library(
        brief_copy(
            ('publisher = "Russia Beyond"\n', f'publisher = "Russia Beyond"\nurl = "{address}"\n')
        )
    )
    brief = library.newest
    got = fields(google_link(brief, brief.events[0]) or "")
    assert got["details"].endswith(f"Russia Beyond {address}")


def test_a_month_precision_follow_up_gets_no_link(library: Library) -> None:
    brief = library.newest
    study = next(item for item in brief.mous.follow_ups if item.id == "kurils-feasibility-study")
    assert study.when_words() == "as early as May 2017"
    assert google_link(brief, study) is None


@pytest.mark.parametrize("limit", [LINK_LIMIT, 512, 300])
def test_long_text_is_cut_to_keep_the_link_within_the_limit(
    brief_copy: MakeBriefs, limit: int
) -> None:
    why = "Abe and Putin’s next chance to touch base, on the margins of the summit."
    long_why = "Ünïcode & reasons, said twice? " * 300
    library = load_library(brief_copy((why, long_why)))
    brief = library.newest
    g20 = next(event for event in brief.events if event.id == "g20-hamburg-2017")
    link = google_link(brief, g20, limit=limit)
    assert link is not None
    assert len(link) <= limit
    assert limit - len(link) < 12, "cut no more than needed"
    got = fields(link)
    assert got["text"] == "G20 leaders’ summit"
    assert got["dates"] == "20170707/20170709"
    assert got["details"].startswith("Why it matters: Ünïcode & reasons")
    assert got["details"].endswith("…")


def test_a_huge_name_is_cut_too(brief_copy: MakeBriefs) -> None:
    library = load_library(
        brief_copy(('name = "G20 leaders’ summit"', f'name = "{"Summit " * 1400}"'))
    )
    brief = library.newest
    g20 = next(event for event in brief.events if event.id == "g20-hamburg-2017")
    got = fields(google_link(brief, g20, limit=400) or "")
    assert got["text"].startswith("Summit Summit")
    assert got["dates"] == "20170707/20170709"


def test_one_event_ics(library: Library) -> None:
    body = calendar_bytes(
        library,
        AS_OF,
        all_events=True,
        brief_id="russia-japan-summit-2017",
        event_id="g20-hamburg-2017",
    )
    (only,) = Calendar.from_ical(body).walk("VEVENT")
    assert str(only["UID"]) == "g20-hamburg-2017@russia-japan-summit-2017.briefbot"
    with pytest.raises(UnknownChoice):
        calendar_bytes(
            library, AS_OF, all_events=True, brief_id="russia-japan-summit-2017", event_id="nope"
        )


def test_feed_addresses() -> None:
    assert FeedAddress.of(None, None) is None
    assert FeedAddress.of(None, 8080) == FeedAddress("http://localhost:8080")
    address = FeedAddress.of("https://cal.example.org/briefbot/", 8080)
    assert address is not None
    assert address.feed == "https://cal.example.org/briefbot/calendar.ics"
    assert address.brief("b") == "https://cal.example.org/briefbot/briefs/b.ics"
    assert address.event("b", "e") == "https://cal.example.org/briefbot/briefs/b/e.ics"


def test_calendar_answer_with_and_without_the_feed(library: Library) -> None:
    served = calendar_reply(library, FeedAddress("https://cal.example.org"), AS_OF)
    text = "\n".join(plain(entry) for part in served.sections for entry in part.lines) + "".join(
        plain(entry) for entry in served.summary
    )
    assert "Subscribe to https://cal.example.org/calendar.ics" in text
    assert "From URL" in text
    assert "New Calendar Subscription" in text
    assert "Subscribe from web" in text
    assert "G20 leaders’ summit, Hamburg, Germany" in text
    assert dict(served.options)["feed"] == "https://cal.example.org/calendar.ics"

    unserved = calendar_reply(library, None, AS_OF)
    text = "\n".join(plain(entry) for part in unserved.sections for entry in part.lines) + "".join(
        plain(entry) for entry in unserved.summary
    )
    assert "has not turned on the calendar feed" in text
    assert "briefbot calendar --out" in text
    assert "CALENDAR_HTTP_PORT" in text
    assert "feed" not in dict(unserved.options)


def test_events_ahead_match_next_meeting(library: Library) -> None:
    ahead = events_ahead(library, None, AS_OF)
    assert [event.id for _, event in ahead] == ["g20-hamburg-2017", "eastern-economic-forum-2017"]
    assert events_ahead(library, None, datetime(2017, 8, 1, tzinfo=UTC))[0][1].id == (
        "eastern-economic-forum-2017"
    )
    assert events_ahead(library, None, datetime(2018, 1, 1, tzinfo=UTC)) == []
