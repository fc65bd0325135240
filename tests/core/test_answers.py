"""The three answers against the shipped brief: facts present, order, past and upcoming."""

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bot.core.answers import Status, answer, status
from bot.core.commands import parse
from bot.core.library import Library, UnknownChoice
from bot.core.plaintext import render
from bot.core.reply import Countdown, Moment, Reply, plain

WRITTEN = datetime(2017, 4, 28, 9, 0, tzinfo=UTC)
G20_START = datetime(2017, 7, 7, 0, 0, tzinfo=ZoneInfo("Europe/Berlin"))
G20_END = datetime(2017, 7, 9, 0, 0, tzinfo=ZoneInfo("Europe/Berlin"))
EEF_START = datetime(2017, 9, 6, 0, 0, tzinfo=ZoneInfo("Asia/Vladivostok"))
EEF_END = datetime(2017, 9, 8, 0, 0, tzinfo=ZoneInfo("Asia/Vladivostok"))

instants = st.datetimes(
    min_value=datetime(2017, 1, 1),  # noqa: DTZ001 (hypothesis bounds are naive; zones are added)
    max_value=datetime(2019, 1, 1),  # noqa: DTZ001
    timezones=st.just(UTC),
)


def ask(library: Library, typed: str, now: datetime = WRITTEN) -> Reply:
    return answer(library, parse(typed), now)


def test_summit_at_a_glance(library: Library) -> None:
    reply = ask(library, "/summit")
    assert reply.title == "Putin–Abe summit · The Kremlin, Moscow · 27 April 2017"
    text = render(reply)
    for fact in (
        "27 April 2017",
        "Vladimir Putin (President of Russia)",
        "Shinzo Abe (Prime Minister of Japan)",
        "17th bilateral meeting since April 2013",
        "29 memorandums of understanding",
        "visa-free air travel",
        "The Korean peninsula",
        "The U.S. factor",
        "four Nordic countries and the UK",
        "Russia Beyond",
    ):
        assert fact in text
    titles = [section.title for section in reply.sections]
    assert titles[0] == "At a glance"
    assert "Outcomes" in titles
    assert "Context" in titles
    assert titles[-1] == "What comes next"
    summary = plain(reply.summary[0])
    assert summary.count(". ") + 1 in (2, 3), "a two- or three-sentence summary"


def test_every_answer_carries_its_sources(library: Library) -> None:
    for typed in ("/summit", "/mous", "/next-meeting", "/mous area:energy"):
        reply = ask(library, typed)
        assert reply.sources
        for source in reply.sources:
            assert source.quotes or source.external, (typed, source.point)
    mous = ask(library, "/mous")
    quotes = [quote for source in mous.sources for quote in source.quotes]
    assert "29 memorandums of understanding (MoUs) were signed" in quotes


def test_mous_lists_count_areas_and_follow_ups(library: Library) -> None:
    reply = ask(library, "/mous")
    assert reply.title.startswith("29 memorandums of understanding")
    areas = next(section for section in reply.sections if section.title == "Areas")
    assert [plain(entry) for entry in areas.lines] == [
        "Fisheries near the disputed Southern Kuril Islands",
        "Energy",
        "Resource exploration",
        "Pharmaceuticals",
        "Healthcare",
        "Ecotourism",
    ]
    follow = next(section for section in reply.sections if section.title == "Pledged follow-ups")
    lines = [plain(entry) for entry in follow.lines]
    assert lines[0].endswith("as early as May 2017")
    assert lines[1].endswith("in June 2017")
    moments = [seg for entry in follow.lines for seg in entry if isinstance(seg, Moment)]
    assert [moment.precision.value for moment in moments] == ["month", "month"]


def test_mous_focus_on_one_area(library: Library) -> None:
    reply = ask(library, "/mous area:Energy")
    assert reply.title.startswith("Energy")
    assert "one of 6 areas" in plain(reply.summary[0])
    assert [source.point for source in reply.sources][:2] == ["29 memorandums", "Energy"]


def test_unknown_area_names_the_choices(library: Library) -> None:
    with pytest.raises(UnknownChoice) as caught:
        ask(library, "/mous area:nuclear")
    assert "no area called 'nuclear'" in str(caught.value)
    assert "fisheries, energy, resource-exploration" in str(caught.value)


def test_unknown_brief_names_the_choices(library: Library) -> None:
    with pytest.raises(UnknownChoice) as caught:
        ask(library, "/summit brief:nope")
    assert "choose one of: russia-japan-summit-2017" in str(caught.value)


def test_next_meeting_when_the_brief_was_written(library: Library) -> None:
    reply = ask(library, "/next-meeting")
    assert reply.title == "Next meeting: G20 leaders’ summit · 7–8 July 2017"
    assert [section.title for section in reply.sections] == [
        "G20 leaders’ summit",
        "3rd Eastern Economic Forum",
    ]
    first = reply.sections[0].lines[0]
    assert "Hamburg" in plain(first)
    countdown = next(seg for seg in first if isinstance(seg, Countdown))
    assert countdown.words == "in 2 months"
    assert countdown.target == G20_START


def test_next_meeting_when_all_is_past(library: Library) -> None:
    reply = ask(library, "/next-meeting", datetime(2018, 1, 1, tzinfo=UTC))
    assert reply.title == "Nothing upcoming"
    assert "No meeting in the briefs is still ahead" in plain(reply.summary[0])
    assert [section.title for section in reply.sections] == [
        "3rd Eastern Economic Forum (past)",
        "G20 leaders’ summit (past)",
    ]
    assert "ended 4 months ago" in plain(reply.sections[0].lines[0])
    summit = ask(library, "/summit", datetime(2018, 1, 1, tzinfo=UTC))
    assert "in 2 months" not in render(summit)


def test_all_day_event_in_its_own_zone(library: Library) -> None:
    """The G20 begins at midnight in Hamburg: 22:00 UTC the evening before."""
    just_before = datetime(2017, 7, 6, 21, 59, tzinfo=UTC)
    just_after = datetime(2017, 7, 6, 22, 0, tzinfo=UTC)
    g20 = library.newest.events[0]
    assert status(g20, just_before) is Status.UPCOMING
    assert status(g20, just_after) is Status.ONGOING
    assert "tomorrow" in render(ask(library, "/next-meeting", just_before))
    assert "happening now" in render(ask(library, "/next-meeting", just_after))
    # The last instant of 8 July in Hamburg is still the summit; a moment later it is over.
    assert status(g20, G20_END - timedelta(microseconds=1)) is Status.ONGOING
    assert status(g20, G20_END) is Status.PAST


@settings(max_examples=200, deadline=None)
@given(now=instants)
def test_next_meeting_is_ordered_and_never_shows_the_past_as_upcoming(
    library: Library, now: datetime
) -> None:
    reply = ask(library, "/next-meeting", now)
    events = {event.name: event for event in library.newest.events}
    if reply.title == "Nothing upcoming":
        assert all(now >= event.ends_at() for event in events.values())
        assert all(section.title.endswith("(past)") for section in reply.sections)
        ends = [events[s.title.removesuffix(" (past)")].ends_at() for s in reply.sections]
        assert ends == sorted(ends, reverse=True)
        return
    shown = [events[section.title] for section in reply.sections]
    assert shown, "something upcoming is shown"
    assert all(now < event.ends_at() for event in shown)
    starts = [event.starts_at() for event in shown]
    assert starts == sorted(starts)
    hidden = [event for event in events.values() if event not in shown]
    assert all(now >= event.ends_at() for event in hidden)


@settings(max_examples=200, deadline=None)
@given(now=instants)
def test_status_matches_the_event_boundaries(library: Library, now: datetime) -> None:
    for event in library.newest.events:
        expected = (
            Status.UPCOMING
            if now < event.starts_at()
            else Status.ONGOING
            if now < event.ends_at()
            else Status.PAST
        )
        assert status(event, now) is expected


@given(
    now=instants,
    zone=st.sampled_from(["UTC", "Asia/Tokyo", "America/Los_Angeles", "Pacific/Kiritimati"]),
)
def test_answers_do_not_depend_on_how_now_is_expressed(
    library: Library, now: datetime, zone: str
) -> None:
    local = now.astimezone(ZoneInfo(zone))
    for typed in ("/summit", "/mous", "/next-meeting"):
        assert ask(library, typed, now) == ask(library, typed, local)


def test_eef_dates_are_vladivostok_calendar_days(library: Library) -> None:
    eef = library.newest.events[1]
    assert eef.starts_at() == EEF_START
    assert eef.ends_at() == EEF_END
    assert eef.starts_at().astimezone(UTC) == datetime(2017, 9, 5, 14, 0, tzinfo=UTC)


def test_naive_now_is_refused(library: Library) -> None:
    with pytest.raises(ValueError, match="aware"):
        answer(library, parse("/summit"), datetime(2017, 4, 28))  # noqa: DTZ001
