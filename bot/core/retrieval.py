"""The passages of a brief that answer a question: its facts, then its article's sentences.

Each brief is indexed once, when the briefs are loaded (``Library.indexes``):
every fact of the brief is a passage made of its own words, the quotes behind it
and a few words naming what it holds; every sentence of the article is another.
A question is scored against them all with BM25 (``bm25s``, on English stems),
then weighed by the brief's structure: a passage holding the kind of value the
question asks for (a date for "when", a place for "where", a person for "who",
a count for "how many") scores higher, and so does a fact holding a number the
question names.

How much of the question a passage covers is measured apart from its score:
the share of the question's words, weighted by how rare they are in the brief
and its article, that the passage contains. A word found nowhere weighs the most,
so a question about something the brief never mentions covers little of any passage.
"""

import dataclasses
import logging
import math
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import NamedTuple

import bm25s

from bot.core.dates import MONTHS, day_words
from bot.core.schema import Brief, Evidenced
from bot.core.suggestions import suggestions
from bot.core.terms import (
    LIGHT_WEIGHT,
    MONTH_WORDS,
    Holds,
    Question,
    Tense,
    stem,
    terms,
    words,
)
from bot.core.text import fold

# bm25s sets its own logger to DEBUG when imported; let it follow the level the bot chose.
logging.getLogger("bm25s").setLevel(logging.NOTSET)

ASKED_BOOST = 0.8
"""How much more a passage scores when it holds the kind of value the question asks for."""
NUMBER_BOOST = 0.5
"""How much more a fact scores when it holds a number the question names."""
TENSE_BOOST = 1.0
"""How much more a fact scores when it lies on the side of the article's day the question
asks about: done (the summit) or ahead (the next meetings, the follow-ups)."""
INHERITED = 0.9
"""A fact scores at least this share of the best article sentence it quotes: the brief's
words come before the article's when they say the same."""
COMPLETED = 3
"""The shortest beginning of a word that autocomplete completes from the index."""
_SENTENCE_END = re.compile(r"(?<=[.!?\u201d\"])\s+(?=[A-Z0-9\u201c\"\u2018])")
_ABBREVIATIONS = ("St.", "Mr.", "Mrs.", "Ms.", "Dr.", "U.S.", "U.K.", "No.")


@dataclass(frozen=True)
class Passage:
    """A fact of the brief (``fact`` set) or a sentence of its article, as the index holds it.

    ``key`` names it within its brief's index (``f3``, ``s12``); ``fact_id`` names a fact
    in the brief (``mous.follow_ups.visa-free-air-travel``) and is ``None`` for a sentence.
    """

    key: str
    fact_id: str | None
    text: str
    fact: Evidenced | None
    holds: Holds
    numbers: frozenset[str]
    terms: frozenset[str]
    tense: Tense = Tense.ANY
    quoted: tuple[int, ...] = ()
    """For a fact, the positions in the index of the article's sentences it quotes."""


class Hit(NamedTuple):
    """A passage with its score for one question and the share of the question it covers."""

    passage: Passage
    score: float
    coverage: float
    position: int = 0
    """Where the passage stands in its index."""


def _numbers(*values: object) -> frozenset[str]:
    found: set[str] = set()
    for value in values:
        found.update(re.findall(r"\d+", str(value)))
    return frozenset(found)


@dataclass(frozen=True)
class _Fact:
    fact_id: str
    fact: Evidenced
    text: str
    hints: str = ""
    holds: Holds = Holds.NOTHING
    numbers: frozenset[str] = frozenset()
    tense: Tense = Tense.BEFORE


def _facts(brief: Brief) -> Iterator[_Fact]:
    """Every fact of ``brief`` with the words that say what it holds."""
    summit = brief.summit
    when = summit.date.value
    yield _Fact(
        "summit.date",
        summit.date,
        f"When: {day_words(when)}",
        f"{summit.name} date day held took place {MONTHS[when.month - 1]}",
        Holds.DATE,
        _numbers(when.day, when.year),
    )
    yield _Fact(
        "summit.place",
        summit.place,
        f"Where: {summit.place.value}",
        f"{summit.name} place venue city held",
        Holds.PLACE,
    )
    for index, leader in enumerate(summit.leaders):
        yield _Fact(
            f"summit.leaders[{index}]",
            leader,
            f"Who: {leader.name} ({leader.role})",
            f"{leader.name} {leader.role} name role leader took part",
            Holds.PERSON,
        )
    yield _Fact(
        "summit.series",
        summit.series,
        f"Meeting: {summit.series.value}",
        "number count meetings met",
        Holds.COUNT,
        _numbers(summit.series.value),
    )
    yield _Fact("summit.summary", summit.summary, summit.summary.text, "happened summit")
    for index, fact in enumerate(summit.characterisation):
        yield _Fact(f"summit.characterisation[{index}]", fact, fact.text, "went tone", Holds.REASON)
    for index, fact in enumerate(summit.outcomes):
        yield _Fact(f"summit.outcomes[{index}]", fact, fact.text, "outcome result achieved")
    for index, context in enumerate(summit.context):
        yield _Fact(
            f"summit.context[{index}]",
            context,
            f"{context.topic}: {context.text}",
            context.topic,
            Holds.REASON,
        )
    memos = brief.mous
    count = memos.count.value
    yield _Fact(
        "mous.count",
        memos.count,
        f"Memorandums of understanding signed: {count}",
        "number count memorandums signed",
        Holds.COUNT,
        _numbers(count),
    )
    if memos.note is not None:
        yield _Fact("mous.note", memos.note, memos.note.text, "memorandums")
    for area in memos.areas:
        yield _Fact(
            f"mous.areas.{area.id}",
            area,
            f"Memorandum area: {area.name}",
            "area memorandums signed cover covered",
        )
    for item in memos.follow_ups:
        yield _Fact(
            f"mous.follow_ups.{item.id}",
            item,
            f"{item.text} \u2014 {item.when_words()}",
            f"follow-up pledged planned {item.when_words()}",
            Holds.DATE,
            _numbers(item.when.year),
            Tense.AHEAD,
        )
    for event in brief.events:
        first = event.first_day()
        yield _Fact(
            f"events.{event.id}",
            event,
            f"{event.name}, {event.place}",
            f"{event.name} {event.place} {event.why} next meeting {MONTHS[first.month - 1]}",
            Holds.DATE | Holds.PLACE | Holds.REASON,
            _numbers(first.year, first.day, event.last_day().day),
            Tense.AHEAD,
        )
        for index, note in enumerate(event.notes):
            yield _Fact(
                f"events.{event.id}.notes[{index}]",
                note,
                note.text,
                f"{event.name} {event.place}",
                Holds.DATE,
                tense=Tense.AHEAD,
            )


def sentences(lines: tuple[str, ...]) -> list[str]:
    """The article's sentences, each once; headings and lines without a full stop left out."""
    found: dict[str, None] = {}
    for line in lines:
        if not line.rstrip("\u201d\"' ").endswith((".", "?", "!")):
            continue
        pending = ""
        for piece in _SENTENCE_END.split(line):
            pending = f"{pending} {piece}" if pending else piece
            if not pending.endswith(_ABBREVIATIONS):
                found.setdefault(pending.strip())
                pending = ""
        if pending:
            found.setdefault(pending.strip())
    return list(found)


def _sentence_holds(sentence: str) -> Holds:
    folded = set(words(sentence))
    dated = folded & MONTH_WORDS or re.search(r"\b(?:19|20)\d\d\b", sentence)
    return Holds.REASON | (Holds.DATE if dated else Holds.NOTHING)


class BriefIndex:
    """One brief's passages and their BM25 index, built once."""

    def __init__(self, brief: Brief, article: tuple[str, ...]) -> None:
        self.brief = brief
        passages: list[Passage] = []
        documents: list[list[str]] = []
        for index, fact in enumerate(_facts(brief)):
            document = terms(" ".join((fact.text, fact.hints, *fact.fact.quotes)))
            passages.append(
                Passage(
                    f"f{index}",
                    fact.fact_id,
                    fact.text,
                    fact.fact,
                    fact.holds,
                    fact.numbers,
                    frozenset(document),
                    fact.tense,
                )
            )
            documents.append(document)
        article_sentences = sentences(article)
        folded = [fold(sentence) for sentence in article_sentences]
        first = len(passages)
        for position, passage in enumerate(passages):
            quotes = [fold(quote) for quote in passage.fact.quotes] if passage.fact else []
            quoted = tuple(
                first + index
                for index, sentence in enumerate(folded)
                if any(quote in sentence for quote in quotes)
            )
            passages[position] = dataclasses.replace(passage, quoted=quoted)
        for index, sentence in enumerate(article_sentences):
            document = terms(sentence)
            passages.append(
                Passage(
                    f"s{index}",
                    None,
                    sentence,
                    None,
                    _sentence_holds(sentence),
                    frozenset(),
                    frozenset(document),
                )
            )
            documents.append(document)
        self.passages = tuple(passages)
        self._holds = [passage.holds.value for passage in passages]
        self.by_key = {passage.key: passage for passage in passages}
        self._bm25 = bm25s.BM25()
        self._bm25.index(documents, show_progress=False)
        postings: dict[str, list[int]] = {}
        for position, document in enumerate(documents):
            for term in set(document):
                postings.setdefault(term, []).append(position)
        self._postings = {term: tuple(positions) for term, positions in postings.items()}
        total = len(documents)
        self._idf = {term: _idf(total, len(found)) for term, found in postings.items()}
        self.suggestions = suggestions(brief)
        self._unknown_idf = _idf(total, 0)

    def completions(self, prefix: str) -> list[str]:
        """The terms of the index that begin like ``prefix`` (a word being typed)."""
        start = stem(prefix.casefold())
        if len(start) < COMPLETED:
            return []
        return sorted(term for term in self._idf if term.startswith(start) and term != start)

    def weight(self, group: tuple[str, ...], light: frozenset[str] = frozenset()) -> float:
        """How much one word of a question (with its synonyms) weighs: rarer weighs more."""
        own, *others = group
        if own in self._idf:
            weight = self._idf[own]
        else:
            known = [self._idf[term] for term in others if term in self._idf]
            weight = max(known) if known else self._unknown_idf
        return weight * LIGHT_WEIGHT if own in light else weight

    def search(self, question: Question) -> list[Hit]:
        """Every passage that shares a term with ``question``, best first."""
        wanted = [term for term in question.terms if term in self._idf]
        if not wanted:
            return []
        scores: list[float] = self._bm25.get_scores(wanted).tolist()
        weights = [self.weight(group, question.light) for group in question.groups]
        total = sum(weights) or 1.0
        coverage = [0.0] * len(self.passages)
        for weight, group in zip(weights, question.groups, strict=True):
            holding: set[int] = set()
            for term in group:
                holding.update(self._postings.get(term, ()))
            for position in holding:
                coverage[position] += weight / total
        hits = []
        asks, numbers = question.asks.value, question.numbers
        tense = question.tense if question.tense is not Tense.ANY else None
        for position, passage in enumerate(self.passages):
            score, covered = scores[position], coverage[position]
            for quoted in passage.quoted:
                if scores[quoted] * INHERITED > score:
                    score, covered = scores[quoted] * INHERITED, max(covered, coverage[quoted])
            if score <= 0:
                continue
            boost = 1.0
            if self._holds[position] & asks:
                boost += ASKED_BOOST
            if numbers and passage.numbers & numbers:
                boost += NUMBER_BOOST
            if passage.tense is tense:
                boost += TENSE_BOOST
            hits.append(Hit(passage, score * boost, covered, position))
        hits.sort(key=_rank)
        return hits


def _rank(hit: Hit) -> tuple[float, int, int]:
    """Best score first; among equals, the fact drawn from fewer of the article's sentences
    (the more specific), then the brief's order (its facts, then the article's)."""
    return -hit.score, len(hit.passage.quoted), hit.position


def _idf(total: int, count: int) -> float:
    """Lucene's BM25 inverse document frequency, as ``bm25s`` computes it."""
    return math.log(1 + (total - count + 0.5) / (count + 0.5))


@dataclass(frozen=True)
class Indexes:
    """The index of every brief in a library, by brief id."""

    by_brief: dict[str, BriefIndex]

    @classmethod
    def of(cls, briefs: Iterable[tuple[Brief, tuple[str, ...]]]) -> "Indexes":
        """Index every brief with its article's lines (none when the article was not read)."""
        return cls({brief.id: BriefIndex(brief, lines) for brief, lines in briefs})
