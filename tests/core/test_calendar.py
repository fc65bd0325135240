"""The .ics feed, read back with icalendar: every field, all-day and timed, and its stability."""

from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from icalendar import Calendar

from bot.core.calendar import (
    CONTENT_TYPE,
    calendar_bytes,
    calendar_feed,
    etag,
)
from bot.core.library import Library, UnknownChoice
from bot.core.loading import load_library
from tests.conftest import BRIEFS

BRIEF_ID = "russia-japan-summit-2017"
G20_UID = f"g20-hamburg-2017@{BRIEF_ID}.briefbot"
EEF_UID = f"eastern-economic-forum-2017@{BRIEF_ID}.briefbot"
AS_OF = datetime(2017, 4, 28, tzinfo=UTC)
G20_DAYS = "all_day = true\nstart = 2017-07-07\nend = 2017-07-08"
# Through the night the clocks go back in Hamburg: 22:00 CEST to 04:00 CET is 7 hours.
G20_OVERNIGHT = "all_day = false\nstart = 2017-10-28T22:00:00\nend = 2017-10-29T04:00:00"

MakeBriefs = Callable[..., Path]


def parse(body: bytes) -> Calendar:
    return Calendar.from_ical(body)


def events(calendar: Calendar) -> dict[str, Any]:
    return {str(event["UID"]): event for event in calendar.walk("VEVENT")}


def x_text(calendar: Calendar, name: str) -> list[str]:
    """An X- property's values as text (icalendar reads them back unescaped as bytes)."""
    values = calendar.get(name, [])
    values = values if isinstance(values, list) else [values]
    return [_unescape(value.to_ical().decode()) for value in values]


def _unescape(text: str) -> str:
    """TEXT as RFC 5545 escapes it (3.3.11): backslash, semicolon, comma and newline."""
    out, chars = [], iter(text)
    for char in chars:
        if char == "\\":
            following = next(chars)
            out.append("\n" if following in "nN" else following)
        else:
            out.append(char)
    return "".join(out)


def test_all_day_events_hold_every_field(library: Library) -> None:
    body = calendar_bytes(library, AS_OF, all_events=True)
    calendar = parse(body)
    assert str(calendar["VERSION"]) == "2.0"
    assert str(calendar["PRODID"]) == "-//briefbot//briefings calendar//EN"
    assert calendar.walk("VTIMEZONE") == []  # all-day dates are the same day everywhere
    found = events(calendar)
    assert sorted(found) == sorted([G20_UID, EEF_UID])

    g20 = found[G20_UID]
    assert b"DTSTART;VALUE=DATE:20170707\r\n" in body
    assert b"DTEND;VALUE=DATE:20170709\r\n" in body  # exclusive: the 8th is the last day
    assert g20.decoded("DTSTART") == date(2017, 7, 7)
    assert g20.decoded("DTEND") == date(2017, 7, 9)
    assert not isinstance(g20.decoded("DTSTART"), datetime)
    assert str(g20["SUMMARY"]) == "G20 leaders’ summit"
    assert str(g20["LOCATION"]) == "Hamburg, Germany"
    revised = datetime(2017, 4, 28, tzinfo=UTC)
    assert g20.decoded("LAST-MODIFIED") == revised
    assert g20.decoded("DTSTAMP") == revised
    assert int(g20["SEQUENCE"]) == (date(2017, 4, 28) - date(1900, 1, 1)).days
    assert str(g20["TRANSP"]) == "TRANSPARENT"
    text = str(g20["DESCRIPTION"])
    assert text.startswith(
        "Why it matters: Abe and Putin’s next chance to touch base, on the margins of the summit."
    )
    assert (
        "“The next time Abe and Putin will touch base will be on the margins of the July G20 "
        "summit in Hamburg”"
    ) in text
    assert "https://en.wikipedia.org/wiki/2017_G20_Hamburg_summit" in text
    assert (
        "Source: “Russia-Japan summit: Putin, Abe inch closer towards normalizing ties”, "
        "Russia Beyond. Brief as of 28 April 2017."
    ) in text
    assert "URL" not in g20  # the shipped brief names no address for its article

    eef = found[EEF_UID]
    assert eef.decoded("DTSTART") == date(2017, 9, 6)
    assert eef.decoded("DTEND") == date(2017, 9, 8)
    assert str(eef["LOCATION"]) == "Vladivostok, Russia"
    assert "Putin and Abe met on 7 September, the forum’s second day." in str(eef["DESCRIPTION"])


def test_lines_are_folded_crlf_lines_of_at_most_75_octets(library: Library) -> None:
    body = calendar_bytes(library, AS_OF, all_events=True)
    assert body.endswith(b"END:VCALENDAR\r\n")
    lines = body.split(b"\r\n")
    assert all(b"\n" not in line for line in lines)
    assert max(len(line) for line in lines) <= 75
    body.decode("utf-8")  # folding never splits a character


def test_source_url_is_the_events_url_and_in_its_description(brief_copy: MakeBriefs) -> None:
    address = "https://www.rbth.com/international/2017/04/28/example"
    briefs = brief_copy(
        ('publisher = "Russia Beyond"\n', f'publisher = "Russia Beyond"\nurl = "{address}"\n')
    )
    found = events(parse(calendar_bytes(load_library(briefs), AS_OF, all_events=True)))
    for event in found.values():
        assert str(event["URL"]) == address
        assert f"Russia Beyond <{address}>." in str(event["DESCRIPTION"])


def test_a_timed_event_across_a_dst_change(brief_copy: MakeBriefs) -> None:
    briefs = brief_copy((G20_DAYS, G20_OVERNIGHT))
    body = calendar_bytes(load_library(briefs), AS_OF, all_events=True)
    assert b"DTSTART;TZID=Europe/Berlin:20171028T220000\r\n" in body
    assert b"DTEND;TZID=Europe/Berlin:20171029T040000\r\n" in body
    calendar = parse(body)
    assert calendar.get_missing_tzids() == set()
    (vtimezone,) = calendar.timezones
    assert str(vtimezone["TZID"]) == "Europe/Berlin"
    # The autumn change: at 03:00 CEST (01:00 UTC) the clocks go back to 02:00 CET.
    changes = {
        (str(sub["TZOFFSETFROM"].to_ical()), str(sub["TZOFFSETTO"].to_ical())): sub
        for sub in vtimezone.walk("STANDARD")
        if sub.decoded("DTSTART").year == 2017
    }
    autumn = changes[("+0200", "+0100")]
    assert autumn.decoded("DTSTART").isoformat() == "2017-10-29T03:00:00"  # local, CEST
    assert str(autumn["TZNAME"]) == "CET"

    # Read the times through the feed's own VTIMEZONE, not the machine's tz database.
    rules = vtimezone.to_tz(lookup_tzid=False)
    g20 = events(calendar)[G20_UID]
    start = g20.decoded("DTSTART").replace(tzinfo=None)
    end = g20.decoded("DTEND").replace(tzinfo=None)
    assert start.replace(tzinfo=rules).astimezone(UTC) == datetime(2017, 10, 28, 20, 0, tzinfo=UTC)
    assert end.replace(tzinfo=rules).astimezone(UTC) == datetime(2017, 10, 29, 3, 0, tzinfo=UTC)


@pytest.mark.parametrize("zone", ["Europe/Berlin", "America/New_York", "Australia/Sydney"])
def test_the_vtimezone_agrees_with_the_tz_database(brief_copy: MakeBriefs, zone: str) -> None:
    briefs = brief_copy(
        (G20_DAYS, G20_OVERNIGHT), ('time_zone = "Europe/Berlin"', f'time_zone = "{zone}"')
    )
    (vtimezone,) = parse(calendar_bytes(load_library(briefs), AS_OF, all_events=True)).timezones
    rules, tz = vtimezone.to_tz(lookup_tzid=False), ZoneInfo(zone)
    instant = datetime(2017, 1, 1, tzinfo=UTC)
    while instant < datetime(2018, 1, 1, tzinfo=UTC):  # every half hour, both changes included
        assert instant.astimezone(rules).utcoffset() == instant.astimezone(tz).utcoffset(), instant
        local = instant.astimezone(tz).replace(tzinfo=None)
        if local.replace(tzinfo=tz).astimezone(UTC) == instant:  # not the repeated hour's second
            assert local.replace(tzinfo=rules).astimezone(UTC) == instant, local
        instant += timedelta(minutes=30)


def test_the_second_of_two_repeated_hours_is_written_in_utc(brief_copy: MakeBriefs) -> None:
    # 02:30 CET on 29 October 2017 comes after 02:30 CEST: a TZID time would mean the first.
    repeated = "all_day = false\nstart = 2017-10-29T02:30:00+01:00\nend = 2017-10-29T05:00:00"
    briefs = brief_copy((G20_DAYS, repeated))
    body = calendar_bytes(load_library(briefs), AS_OF, all_events=True)
    g20 = events(parse(body))[G20_UID]
    assert b"DTSTART:20171029T013000Z\r\n" in body
    assert g20.decoded("DTSTART") == datetime(2017, 10, 29, 1, 30, tzinfo=UTC)
    assert g20.decoded("DTEND") == datetime(2017, 10, 29, 4, 0, tzinfo=UTC)


def test_month_precision_follow_ups_are_left_out_and_the_feed_says_why(library: Library) -> None:
    body = calendar_bytes(library, AS_OF, all_events=True)
    calendar = parse(body)
    summaries = [str(event["SUMMARY"]) for event in calendar.walk("VEVENT")]
    assert not any("feasibility" in summary or "Visa-free" in summary for summary in summaries)
    assert b"201705" not in body  # no day in May is invented
    assert b"201706" not in body
    left_out = x_text(calendar, "X-BRIEFBOT-LEFT-OUT")
    assert len(left_out) == 2
    (study,) = [line for line in left_out if "kurils-feasibility-study" in line]
    assert study.startswith(f"{BRIEF_ID}/kurils-feasibility-study: A joint public-private")
    assert study.endswith(
        "(as early as May 2017: the article gives only the month, a calendar entry needs a day, "
        "and briefbot never invents one)"
    )
    described = str(calendar["DESCRIPTION"])
    assert "Not in this calendar" in described
    assert study in described
    assert x_text(calendar, "X-WR-CALDESC") == [described]


def test_two_generations_are_byte_identical(library: Library) -> None:
    first = calendar_feed(library, AS_OF, all_events=True)
    again = calendar_feed(load_library(BRIEFS), AS_OF, all_events=True)
    assert first == again
    assert first.etag == etag(first.body)
    assert first.content_type == CONTENT_TYPE


def test_a_timed_feed_is_byte_identical_too(brief_copy: MakeBriefs) -> None:
    briefs = brief_copy((G20_DAYS, G20_OVERNIGHT))
    first = calendar_bytes(load_library(briefs), AS_OF, all_events=False)
    assert calendar_bytes(load_library(briefs), AS_OF, all_events=False) == first


def test_a_revised_event_keeps_its_uid_with_a_higher_sequence(brief_copy: MakeBriefs) -> None:
    before = events(parse(calendar_bytes(load_library(brief_copy()), AS_OF, all_events=True)))
    revised = brief_copy(
        ("as_of = 2017-04-28", "as_of = 2017-05-02"),
        ("end = 2017-07-08", "end = 2017-07-09"),
    )
    body = calendar_bytes(load_library(revised), AS_OF, all_events=True)
    after = events(parse(body))
    assert sorted(after) == sorted(before)
    old, new = before[G20_UID], after[G20_UID]
    assert int(new["SEQUENCE"]) > int(old["SEQUENCE"])
    assert new.decoded("LAST-MODIFIED") > old.decoded("LAST-MODIFIED")
    assert new.decoded("LAST-MODIFIED") == datetime(2017, 5, 2, tzinfo=UTC)
    assert new.decoded("DTSTAMP") == new.decoded("LAST-MODIFIED")
    assert new.decoded("DTEND") == date(2017, 7, 10)


def test_ahead_only_or_all(library: Library) -> None:
    def uids(now: datetime, *, all_events: bool = False) -> list[str]:
        return list(events(parse(calendar_bytes(library, now, all_events=all_events))))

    assert uids(AS_OF) == [G20_UID, EEF_UID]  # soonest first
    assert uids(datetime(2017, 7, 8, 12, tzinfo=UTC)) == [G20_UID, EEF_UID]  # under way
    assert uids(datetime(2017, 7, 8, 22, 1, tzinfo=UTC)) == [EEF_UID]  # midnight in Hamburg
    assert uids(datetime(2019, 1, 1, tzinfo=UTC)) == []
    assert uids(datetime(2019, 1, 1, tzinfo=UTC), all_events=True) == [G20_UID, EEF_UID]
    empty = parse(calendar_bytes(library, datetime(2019, 1, 1, tzinfo=UTC), all_events=False))
    assert len(x_text(empty, "X-BRIEFBOT-LEFT-OUT")) == 2


def test_last_modified_moves_when_an_event_leaves_the_feed(library: Library) -> None:
    revised = datetime(2017, 4, 28, tzinfo=UTC)
    assert calendar_feed(library, AS_OF, all_events=False).last_modified == revised
    later = datetime(2017, 8, 1, tzinfo=UTC)
    g20_over = datetime(2017, 7, 8, 22, 0, tzinfo=UTC)  # midnight after the 8th in Hamburg
    assert calendar_feed(library, later, all_events=False).last_modified == g20_over
    assert calendar_feed(library, later, all_events=True).last_modified == revised
    ahead, rest = (calendar_feed(library, now, all_events=False) for now in (AS_OF, later))
    assert ahead.etag != rest.etag


def test_one_brief_or_an_unknown_one(library: Library) -> None:
    one = parse(calendar_bytes(library, AS_OF, all_events=True, brief_id=BRIEF_ID))
    assert str(one["NAME"]) == "Putin–Abe summit in Moscow, April 2017"
    assert len(one.walk("VEVENT")) == 2
    with pytest.raises(UnknownChoice):
        calendar_bytes(library, AS_OF, all_events=True, brief_id="no-such-brief")
