"""Questions a brief can answer, made from its structure, for /ask's autocomplete.

Each suggestion names the facts that must answer it; ``briefbot check`` asks
every one and reports any that is refused or answered without them.
"""

from dataclasses import dataclass

from bot.core.schema import Brief

LONGEST = 100
"""The longest suggestion offered (Discord's limit for a choice)."""


@dataclass(frozen=True)
class Suggestion:
    """A question, and the ids of the facts any of which answers it."""

    question: str
    fact_ids: tuple[str, ...]


def _lower_first(text: str) -> str:
    """``The Korean peninsula`` → ``the Korean peninsula``; ``Energy`` → ``energy``;
    ``Abe’s wider trip`` and ``U.S. policy`` stay as they are."""
    head, _, rest = text.partition(" ")
    if head[:1].isupper() and (len(head) == 1 or (head[1:].isalpha() and head[1:].islower())):
        head = head.lower()
    return f"{head} {rest}" if rest else head


def _shortened(text: str, limit: int = LONGEST) -> str:
    """``text`` cut at a word to at most ``limit`` characters, ending in an ellipsis when cut."""
    if len(text) <= limit:
        return text
    return text[: limit - 1].rsplit(" ", 1)[0].rstrip(" ,;:") + "\u2026"


def suggestions(brief: Brief) -> list[Suggestion]:
    """Questions ``brief`` answers, most asked first, each at most ``LONGEST`` characters."""
    summit = brief.summit
    events = [f"events.{event.id}" for event in brief.events]
    made: list[Suggestion] = []
    if events:
        made.append(Suggestion("When is the next meeting?", tuple(events)))
    made.append(Suggestion(f"When was the {summit.name}?", ("summit.date",)))
    made.append(Suggestion(f"Where was the {summit.name} held?", ("summit.place",)))
    made.append(Suggestion("How many memorandums were signed?", ("mous.count",)))
    for area in brief.mous.areas:
        made.append(
            Suggestion(
                f"Was a memorandum signed on {_lower_first(area.name)}?",
                (f"mous.areas.{area.id}",),
            )
        )
    for item in brief.mous.follow_ups:
        made.append(Suggestion(_shortened(f"When? {item.text}"), (f"mous.follow_ups.{item.id}",)))
    for event in brief.events:
        made.append(Suggestion(f"When is the {event.name}?", (f"events.{event.id}",)))
        made.append(Suggestion(f"Where is the {event.name}?", (f"events.{event.id}",)))
    names = " and ".join(leader.name.split()[-1] for leader in summit.leaders)
    made.append(Suggestion(f"How many times have {names} met?", ("summit.series",)))
    for index, leader in enumerate(summit.leaders):
        made.append(Suggestion(f"Who is {leader.name}?", (f"summit.leaders[{index}]",)))
    for index, context in enumerate(summit.context):
        made.append(
            Suggestion(f"What about {_lower_first(context.topic)}?", (f"summit.context[{index}]",))
        )
    if brief.mous.note is not None:
        made.append(Suggestion("Will all the memorandums be implemented?", ("mous.note",)))
    unique: dict[str, Suggestion] = {}
    for suggestion in made:
        if len(suggestion.question) <= LONGEST:
            unique.setdefault(suggestion.question.casefold(), suggestion)
    return list(unique.values())
