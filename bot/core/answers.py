"""Answers to /summit, /mous, /next-meeting and /ask: pure functions of (library, command, now)."""

import dataclasses
from collections.abc import Callable
from datetime import datetime
from zoneinfo import ZoneInfo

from bot.core.ask import ask
from bot.core.commands import Invocation, command
from bot.core.dates import (
    day_words,
    local_midnight,
)
from bot.core.library import Library, UnknownChoice
from bot.core.parts import Status, countdown, footer, moment, source, status
from bot.core.reply import (
    Line,
    Moment,
    Reply,
    Section,
    Source,
    line,
)
from bot.core.schema import Area, Brief, Event

PAST_SHOWN = 3

__all__ = ["Status", "answer", "countdown", "moment", "status"]


def _event_lines(event: Event, now: datetime) -> tuple[Line, ...]:
    lines = [
        line(event.place, " \u00b7 ", moment(event), " \u00b7 ", countdown(event, now)),
        line(event.why),
    ]
    lines.extend(line(note.text) for note in event.notes)
    return tuple(lines)


def _event_sources(event: Event) -> list[Source]:
    sources = [source(f"{event.name}, {event.place}", event)]
    sources.extend(source(note.text, note) for note in event.notes)
    return sources


def summit(library: Library, invocation: Invocation, now: datetime) -> Reply:
    """The summit at a glance, then its outcomes, how it went, its context and what comes next."""
    brief = library.brief(invocation.options.get("brief"))
    meeting = brief.summit
    leaders = ", ".join(f"{leader.name} ({leader.role})" for leader in meeting.leaders)
    glance = Section(
        "At a glance",
        (
            line("When: ", day_words(meeting.date.value)),
            line("Where: ", meeting.place.value),
            line("Who: ", leaders),
            line("Meeting: ", meeting.series.value),
        ),
    )
    sections = [
        glance,
        Section("Outcomes", tuple(line(fact.text) for fact in meeting.outcomes)),
    ]
    if meeting.characterisation:
        lines = tuple(line(fact.text) for fact in meeting.characterisation)
        sections.append(Section("How it went", lines))
    if meeting.context:
        lines = tuple(line(f"{item.topic}: ", item.text) for item in meeting.context)
        sections.append(Section("Context", lines))
    ahead = sorted(
        (event for event in brief.events if status(event, now) is not Status.PAST),
        key=Event.starts_at,
    )
    if ahead:
        lines = tuple(
            line(
                f"{event.name}, {event.place} \u00b7 ",
                moment(event),
                " \u00b7 ",
                countdown(event, now),
            )
            for event in ahead
        )
        sections.append(Section("What comes next", lines))
    elif brief.events:
        sections.append(
            Section(
                "What comes next",
                (line("Every meeting in this brief is now past: see /next-meeting."),),
            )
        )
    sources = [
        source("Summary", meeting.summary),
        source(f"When: {day_words(meeting.date.value)}", meeting.date),
        source(f"Where: {meeting.place.value}", meeting.place),
        *(source(f"Who: {leader.name}", leader) for leader in meeting.leaders),
        source(f"Meeting: {meeting.series.value}", meeting.series),
        *(source(fact.text, fact) for fact in meeting.outcomes),
        *(source(fact.text, fact) for fact in meeting.characterisation),
        *(source(item.topic, item) for item in meeting.context),
        *(source for event in ahead for source in _event_sources(event)),
    ]
    return Reply(
        command="summit",
        title=f"{meeting.name} \u00b7 {meeting.place.value} \u00b7 {day_words(meeting.date.value)}",
        summary=(line(meeting.summary.text),),
        sections=tuple(sections),
        footer=footer(brief),
        sources=tuple(sources),
        brief_id=brief.id,
    )


def find_area(brief: Brief, wanted: str) -> Area:
    """The area whose id or name is ``wanted`` (case does not matter)."""
    folded = wanted.strip().casefold()
    for area in brief.mous.areas:
        if folded in (area.id, area.name.casefold()):
            return area
    raise UnknownChoice("area", wanted, [area.id for area in brief.mous.areas])


def _follow_up_lines(brief: Brief) -> tuple[Line, ...]:
    zone = brief.summit.time_zone
    lines = []
    for item in brief.mous.follow_ups:
        start = local_midnight(item.when.first_day(), ZoneInfo(zone))
        when = Moment(start, None, item.when.precision, zone, item.when_words())
        lines.append(line(item.text, " \u2014 ", when))
    return tuple(lines)


def mous(library: Library, invocation: Invocation, now: datetime) -> Reply:
    """The number of memorandums and their areas, then the follow-ups with their dates."""
    brief = library.brief(invocation.options.get("brief"))
    memos = brief.mous
    count = memos.count.value
    names = [area.name for area in memos.areas]
    when = day_words(brief.summit.date.value)
    sources = [source(f"{count} memorandums", memos.count)]
    area = None
    if "area" in invocation.options:
        area = find_area(brief, invocation.options["area"])
        others = [name for name in names if name != area.name]
        summary = (
            line(
                f"{area.name} is one of {len(names)} areas covered by the {count} memorandums "
                f"of understanding signed on {when}."
            ),
        )
        sections = [Section("The other areas", tuple(line(name) for name in others))]
        sources.append(source(area.name, area))
        title = f"{area.name} \u00b7 memorandums of {when}"
    else:
        summary = (
            line(
                f"{count} memorandums of understanding signed on {when}, in {len(names)} areas: "
                f"{_join(names)}."
            ),
        )
        sections = [Section("Areas", tuple(line(name) for name in names))]
        sources.extend(source(area.name, area) for area in memos.areas)
        title = f"{count} memorandums of understanding \u00b7 {brief.summit.name}, {when}"
    if memos.follow_ups:
        sections.append(Section("Pledged follow-ups", _follow_up_lines(brief)))
        sources.extend(source(item.text, item) for item in memos.follow_ups)
    if memos.note is not None:
        sections.append(Section("Note", (line(memos.note.text),)))
        sources.append(source(memos.note.text, memos.note))
    return Reply(
        command="mous",
        title=title,
        summary=summary,
        sections=tuple(sections),
        footer=footer(brief),
        sources=tuple(sources),
        brief_id=brief.id,
        options=(("area", area.id),) if area else (),
    )


def next_meeting(library: Library, invocation: Invocation, now: datetime) -> Reply:
    """Upcoming meetings soonest first; when none remain, says so and shows the latest as past."""
    brief_id = invocation.options.get("brief")
    pairs = library.events(brief_id)
    footer_brief = library.brief(brief_id)
    ahead = sorted(
        ((brief, event) for brief, event in pairs if status(event, now) is not Status.PAST),
        key=lambda pair: (pair[1].starts_at(), pair[1].id),
    )
    if ahead:
        first = ahead[0][1]
        after = {0: "", 1: " One more meeting follows."}.get(
            len(ahead) - 1, f" {len(ahead) - 1} more meetings follow."
        )
        summary = line(
            f"{first.name} in {first.place.split(',')[0]}: ",
            moment(first),
            ", ",
            countdown(first, now),
            f".{after}",
        )
        title = f"Next meeting: {first.name} \u00b7 {moment(first).words}"
        shown = ahead
    else:
        past = sorted(pairs, key=lambda pair: (pair[1].ends_at(), pair[1].id), reverse=True)[
            :PAST_SHOWN
        ]
        title = "Nothing upcoming"
        if past:
            summary = line("No meeting in the briefs is still ahead. The latest ones, now past:")
        else:
            summary = line("The briefs name no meetings.")
        shown = past
    sections = tuple(
        Section(
            f"{event.name}" + (" (past)" if status(event, now) is Status.PAST else ""),
            _event_lines(event, now),
        )
        for _, event in shown
    )
    sources = tuple(source for _, event in shown for source in _event_sources(event))
    return Reply(
        command="next-meeting",
        title=title,
        summary=(summary,),
        sections=sections,
        footer=footer(footer_brief),
        sources=sources,
        brief_id=footer_brief.id,
    )


def _join(names: list[str]) -> str:
    if len(names) <= 2:
        return " and ".join(names)
    return ", ".join(names[:-1]) + " and " + names[-1]


ANSWERS: dict[str, Callable[[Library, Invocation, datetime], Reply]] = {
    "summit": summit,
    "mous": mous,
    "next-meeting": next_meeting,
    "ask": ask,
}


def answer(library: Library, invocation: Invocation, now: datetime) -> Reply:
    """Answer one command. Raises ``UnknownChoice`` for an unknown brief or area."""
    if now.tzinfo is None:
        raise ValueError("now must be time-zone aware")
    spec = command(invocation.command)
    reply = ANSWERS[spec.name](library, invocation, now)
    options = {**invocation.options, **dict(reply.options)}  # with names resolved to ids
    if "brief" in options and reply.brief_id is not None:
        options["brief"] = reply.brief_id
    return dataclasses.replace(reply, options=tuple(sorted(options.items())))
