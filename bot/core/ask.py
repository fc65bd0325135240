"""/ask: any question about a brief, answered with the brief's facts and the article's words.

The answer is extractive. First the brief's facts that answer the question, best
first, each as the brief writes it with a quote from the article behind it;
then, where no fact fits as well, the article's own sentences, as quotes. Nothing
else is written: when no passage covers enough of the question, the answer says
the brief and its article do not cover it, and names the commands that exist.

Dates are told as of the answer's "now": a meeting that is over is shown as the
brief's last known one, marked past.

A question is untrusted: it is at most ``MAX_QUESTION`` characters long and is
shown back only as a short excerpt (``excerpt``) that can neither format nor
mention anyone.
"""

import re
from dataclasses import dataclass
from datetime import datetime
from functools import lru_cache
from zoneinfo import ZoneInfo

from bot.core.commands import CALENDAR, COMMANDS, Invocation, UsageError
from bot.core.dates import local_midnight
from bot.core.library import Library
from bot.core.parts import Status, countdown, footer, moment, source, status
from bot.core.reply import Line, Moment, Reply, Section, Source, line
from bot.core.retrieval import BriefIndex, Hit, Passage
from bot.core.schema import Event, FollowUp
from bot.core.terms import read_question, terms
from bot.core.text import fold

MAX_QUESTION = 300
"""The longest question read, in characters."""
EXCERPT = 80
"""The longest excerpt of a question shown back."""
COVERAGE = 0.6
"""The share of a question a passage must cover to answer it."""
RELATIVE = 0.5
"""A passage is shown beside the best one when it scores at least this share of the best."""
FACTS_SHOWN = 3
SENTENCES_SHOWN = 2
SUGGESTED = 3
"""Questions offered with a refusal."""
_UNSAFE = re.compile(r"[^\w\s.,;:!?'\u2019\"\u201c\u201d()%/&+\-\u2013\u2014]")
_SPACE = re.compile(r"\s+")


def excerpt(question: str, limit: int = EXCERPT) -> str:
    """``question`` safe to show: one line, no markup or mention characters, at most ``limit``."""
    text = _SPACE.sub(" ", _UNSAFE.sub(" ", question)).strip()
    if len(text) > limit:
        text = text[: limit - 1].rstrip() + "\u2026"
    return text


def read(invocation: Invocation) -> str:
    """The question asked, checked: present, and not too long."""
    question = _SPACE.sub(" ", invocation.options.get("question", "")).strip()
    if not question:
        raise UsageError("ask a question after /ask, e.g. /ask when is the next meeting?")
    if len(question) > MAX_QUESTION:
        raise UsageError(
            f"a question may be at most {MAX_QUESTION} characters long; this one has "
            f"{len(question)}"
        )
    return question


@dataclass(frozen=True)
class Found:
    """What answers a question in one brief: facts first, then article sentences."""

    index: BriefIndex
    facts: tuple[Hit, ...]
    sentences: tuple[Hit, ...]

    @property
    def best(self) -> float:
        """The best score among what was found (0 when nothing was)."""
        return max((hit.score for hit in (*self.facts, *self.sentences)), default=0.0)

    @property
    def passages(self) -> tuple[Passage, ...]:
        """What is shown, in order."""
        return tuple(hit.passage for hit in (*self.facts, *self.sentences))


def _covered(sentence: str, facts: tuple[Hit, ...]) -> bool:
    folded = fold(sentence)
    return any(
        fold(quote) in folded
        for hit in facts
        if hit.passage.fact is not None
        for quote in hit.passage.fact.quotes
    )


def find(index: BriefIndex, question: str) -> Found:
    """The facts and sentences of one brief that answer ``question`` above the threshold."""
    hits = [hit for hit in index.search(read_question(question)) if hit.coverage >= COVERAGE]
    if not hits:
        return Found(index, (), ())
    floor = hits[0].score * RELATIVE
    shown = [hit for hit in hits if hit.score >= floor]
    facts = tuple(hit for hit in shown if hit.passage.fact is not None)[:FACTS_SHOWN]
    best_fact = facts[0].score if facts else 0.0
    sentences = tuple(
        hit
        for hit in shown
        if hit.passage.fact is None
        and hit.score > best_fact
        and not _covered(hit.passage.text, facts)
    )[:SENTENCES_SHOWN]
    return Found(index, facts, sentences)


def search(library: Library, question: str, brief_id: str | None) -> Found:
    """What answers ``question``: in the named brief, or in the brief that answers it best."""
    indexes = library.indexes.by_brief
    if brief_id is not None:
        return find(indexes[library.brief(brief_id).id], question)
    found = [find(indexes[brief.id], question) for brief in library.briefs]
    return max(found, key=lambda each: each.best)  # the first (newest) of equals


@lru_cache(maxsize=4096)
def _quote_terms(quote: str) -> frozenset[str]:
    """A quote's terms; the same few quotes are shown again and again."""
    return frozenset(terms(quote))


def _best_quote(passage: Passage, wanted: frozenset[str]) -> str | None:
    """The fact's quote that shares the most terms with the question (the first of equals)."""
    if passage.fact is None or not passage.fact.quotes:
        return None
    return max(passage.fact.quotes, key=lambda quote: len(wanted & _quote_terms(quote)))


def _quoted(text: str) -> str:
    return f"\u201c{text}\u201d"


def _fact_line(passage: Passage, wanted: frozenset[str], now: datetime, zone: str) -> Line:
    fact = passage.fact
    if isinstance(fact, Event):
        past = " (past)" if status(fact, now) is Status.PAST else ""
        head: Line = line(
            f"{fact.name}{past}, {fact.place} \u00b7 ",
            moment(fact),
            " \u00b7 ",
            countdown(fact, now),
        )
    elif isinstance(fact, FollowUp):
        start = fact.when.first_day()
        when = Moment(
            local_midnight(start, ZoneInfo(zone)),
            None,
            fact.when.precision,
            zone,
            fact.when_words(),
        )
        head = line(fact.text, " \u2014 ", when)
    else:
        head = line(passage.text)
    quote = _best_quote(passage, wanted)
    if quote is not None:
        return (*head, f" \u00b7 article: {_quoted(quote)}")
    if fact is not None and fact.external:
        return (*head, f" (from outside the article: {fact.external[0].title})")
    return head


def _sources(found: Found) -> tuple[Source, ...]:
    shown = []
    for passage in found.passages:
        if passage.fact is not None:
            shown.append(source(passage.text, passage.fact))
        else:
            shown.append(Source("From the article", (passage.text,)))
    return tuple(shown)


def _answer(found: Found, title: str, question: str, now: datetime) -> Reply:
    brief = found.index.brief
    zone = brief.summit.time_zone
    wanted = frozenset(terms(question))
    lines = [_fact_line(hit.passage, wanted, now, zone) for hit in found.facts]
    quotes = [line(_quoted(hit.passage.text)) for hit in found.sentences]
    first, *rest = lines + quotes
    sections = []
    more_facts = rest[: max(len(lines) - 1, 0)]
    if more_facts:
        sections.append(Section("Also in the brief", tuple(more_facts)))
    more_quotes = quotes if lines else quotes[1:]
    if more_quotes:
        sections.append(Section("From the article", tuple(more_quotes)))
    keys = "-".join(passage.key for passage in found.passages)
    return Reply(
        command="ask",
        title=title,
        summary=(first,),
        sections=tuple(sections),
        footer=footer(brief),
        sources=_sources(found),
        brief_id=brief.id,
        options=(
            (("brief", brief.id), ("facts", keys), ("question", excerpt(question)))
            if question
            else (("brief", brief.id), ("facts", keys))
        ),
    )


def _refusal(library: Library, question: str, brief_id: str | None) -> Reply:
    brief = library.brief(brief_id)
    commands = [
        line(f"/{spec.name} \u2014 {spec.description}")
        for spec in (*COMMANDS, CALENDAR)
        if spec.name != "ask"
    ]
    offered = library.indexes.by_brief[brief.id].suggestions
    asked = [line(item.question) for item in offered[:SUGGESTED]]
    sections = [Section("Try", tuple(commands))]
    if asked:
        sections.append(Section("Or ask", tuple(asked)))
    return Reply(
        command="ask",
        title=_quoted(excerpt(question)),
        summary=(line("The brief and its article don\u2019t cover that."),),
        sections=tuple(sections),
        footer=footer(brief),
        brief_id=brief.id,
        options=(("question", excerpt(question)),),
    )


def _from_keys(library: Library, invocation: Invocation, now: datetime) -> Reply:
    """The same answer again from the passages it showed (the Sources button's way back)."""
    brief = library.brief(invocation.options.get("brief"))
    index = library.indexes.by_brief[brief.id]
    passages = []
    for key in invocation.options["facts"].split("-"):
        if key not in index.by_key:
            raise UsageError("this answer's passages are no longer in the brief")
        passages.append(index.by_key[key])
    hits = [Hit(passage, 0.0, 1.0) for passage in passages]
    found = Found(
        index,
        tuple(hit for hit in hits if hit.passage.fact is not None),
        tuple(hit for hit in hits if hit.passage.fact is None),
    )
    return _answer(found, f"Answer from {brief.title}", "", now)


def ask(library: Library, invocation: Invocation, now: datetime) -> Reply:
    """Answer ``/ask question:…``, or refuse plainly when the brief does not cover it."""
    if "facts" in invocation.options and "question" not in invocation.options:
        return _from_keys(library, invocation, now)
    question = read(invocation)
    found = search(library, question, invocation.options.get("brief"))
    if not found.passages:
        return _refusal(library, question, invocation.options.get("brief"))
    return _answer(found, _quoted(excerpt(question)), question, now)


def complete(
    library: Library, typed: str, brief_id: str | None = None, limit: int = 25
) -> list[str]:
    """Suggested questions matching what has been typed, at most ``limit``, for autocomplete.

    Those containing every typed word come first (those starting with it before
    the rest); when none does, those whose facts best answer what was typed.
    """
    try:
        brief = library.brief(brief_id)
    except LookupError:
        brief = library.newest
    offered = library.indexes.by_brief[brief.id].suggestions
    wanted = excerpt(typed, MAX_QUESTION).casefold().split()
    if not wanted:
        return [item.question for item in offered][:limit]
    text = " ".join(wanted)
    matching = [
        item.question
        for item in offered
        if all(word in item.question.casefold() for word in wanted)
    ]
    matching.sort(key=lambda question: not question.casefold().startswith(text))
    if matching:
        return matching[:limit]
    index = library.indexes.by_brief[brief.id]
    endings = index.completions(wanted[-1])  # the last word may be typed only in part
    completed = " ".join([*wanted[:-1], *endings]) if endings else typed
    hits = index.search(read_question(completed))
    rank = {
        hit.passage.fact_id: place
        for place, hit in enumerate(hits)
        if hit.passage.fact_id and hit.coverage >= COVERAGE
    }
    scored = [
        (min(rank[fact_id] for fact_id in item.fact_ids if fact_id in rank), item.question)
        for item in offered
        if any(fact_id in rank for fact_id in item.fact_ids)
    ]
    return [question for _, question in sorted(scored)][:limit]


def unanswered(library: Library) -> list[tuple[str, str]]:
    """Every suggested question that /ask refuses or answers without its facts.

    Each as (brief id, what is wrong); ``briefbot check`` reports them.
    """
    wrong = []
    for brief in library.briefs:
        index = library.indexes.by_brief[brief.id]
        for item in index.suggestions:
            found = find(index, item.question)
            shown = [passage.fact_id for passage in found.passages]
            if not shown:
                wrong.append((brief.id, f"/ask suggests {item.question!r}, but it is refused"))
            elif not set(item.fact_ids) & set(shown):
                wrong.append(
                    (
                        brief.id,
                        f"/ask suggests {item.question!r}, but the answer shows "
                        f"{', '.join(str(fact_id or 'an article sentence') for fact_id in shown)}"
                        f" rather than {' or '.join(item.fact_ids)}",
                    )
                )
    return wrong
