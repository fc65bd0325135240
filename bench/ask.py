"""/ask: how well it answers the question set, and what an answer costs next to /summit.

Quality: every question of ``tests/core/ask_questions.toml`` is asked as of the brief's date.
An answerable question is answered right when one of the passages it lists comes first;
an unanswerable one is right when it is refused. Precision is the share of answers given
that are right; recall the share of answerable questions answered right.

Cost: the core's answer and Discord's rendering of it (embeds and the Sources view, what an
interaction computes before it is sent), each question of the set followed by /summit, with
no render cache; the median and 99th percentile over a few rounds of the set. And what the
index costs once, at load: the time and memory of building it for the shipped brief.
"""

import gc
import time
import tomllib
import tracemalloc
from dataclasses import dataclass
from datetime import UTC, datetime
from datetime import time as day_time
from pathlib import Path

from bench.bots import ROOT
from bench.config import Counts
from bench.results import BenchResult, Table, Target
from bench.stats import median, percentile
from bot.core.answers import answer
from bot.core.ask import search
from bot.core.commands import Invocation
from bot.core.library import Library
from bot.core.loading import load_library
from bot.core.retrieval import Indexes, Passage

NAME = "ask"
TITLE = "/ask: the question set, and the cost of an answer"
QUESTIONS = ROOT / "tests" / "core" / "ask_questions.toml"
ARTICLE = "article:"
KIB = 1024


@dataclass(frozen=True)
class Question:
    """A question of the set: the passages any of which must come first, or a refusal."""

    ask: str
    facts: tuple[str, ...]

    @property
    def answerable(self) -> bool:
        """Whether the brief or its article answers it."""
        return bool(self.facts)


def load_questions(path: Path = QUESTIONS) -> list[Question]:
    """The question set."""
    data = tomllib.loads(path.read_text(encoding="utf-8"))
    questions = []
    for entry in data["question"]:
        facts = tuple(entry.get("facts", ()))
        if bool(facts) == bool(entry.get("refused", False)):
            raise ValueError(f"{entry['ask']!r}: give either facts or refused = true")
        questions.append(Question(entry["ask"], facts))
    return questions


def names(passage: Passage, wanted: str) -> bool:
    """Whether ``passage`` is the one ``wanted`` names (a fact id, or ``article:`` words)."""
    if wanted.startswith(ARTICLE):
        return passage.fact is None and wanted.removeprefix(ARTICLE) in passage.text
    return passage.fact_id == wanted


@dataclass(frozen=True)
class Outcome:
    """How one question was answered."""

    question: Question
    shown: tuple[Passage, ...]

    @property
    def answered(self) -> bool:
        """Whether /ask answered (rather than refused)."""
        return bool(self.shown)

    @property
    def first_right(self) -> bool:
        """Whether a wanted passage came first."""
        return bool(self.shown) and any(names(self.shown[0], want) for want in self.question.facts)

    @property
    def surfaced(self) -> bool:
        """Whether a wanted passage was shown at all."""
        return any(names(p, want) for p in self.shown for want in self.question.facts)

    @property
    def right(self) -> bool:
        """Right first for an answerable question; refused for an unanswerable one."""
        return self.first_right if self.question.answerable else not self.answered

    def describe(self) -> str:
        """One line for a report: the question and what came first."""
        first = self.shown[0] if self.shown else None
        got = "refused" if first is None else (first.fact_id or f"article: {first.text[:50]}")
        want = " or ".join(self.question.facts) or "refused"
        return f"{self.question.ask!r}: got {got}, wanted {want}"


@dataclass(frozen=True)
class Evaluation:
    """The question set's outcomes and their figures."""

    outcomes: tuple[Outcome, ...]

    def _count(self, answerable: bool) -> int:
        return sum(1 for o in self.outcomes if o.question.answerable is answerable)

    @property
    def answerable(self) -> int:
        """How many questions the brief or article answers."""
        return self._count(True)

    @property
    def unanswerable(self) -> int:
        """How many they do not."""
        return self._count(False)

    @property
    def first_right(self) -> float:
        """The share of answerable questions whose wanted passage came first."""
        right = sum(1 for o in self.outcomes if o.question.answerable and o.first_right)
        return right / max(self.answerable, 1)

    @property
    def surfaced(self) -> float:
        """The share of answerable questions whose wanted passage was shown at all."""
        shown = sum(1 for o in self.outcomes if o.question.answerable and o.surfaced)
        return shown / max(self.answerable, 1)

    @property
    def wrongly_answered(self) -> list[Outcome]:
        """Unanswerable questions that got an answer."""
        return [o for o in self.outcomes if not o.question.answerable and o.answered]

    @property
    def precision(self) -> float:
        """Of the answers given, the share whose first passage is a wanted one."""
        given = [o for o in self.outcomes if o.answered]
        return sum(1 for o in given if o.first_right) / max(len(given), 1)

    @property
    def recall(self) -> float:
        """Of the answerable questions, the share answered with a wanted passage first."""
        return self.first_right

    @property
    def wrong(self) -> list[Outcome]:
        """Every question not answered as it should be."""
        return [o for o in self.outcomes if not o.right]


def evaluate(library: Library, questions: list[Question]) -> Evaluation:
    """Ask every question of the set of the newest brief."""
    return Evaluation(tuple(Outcome(q, search(library, q.ask, None).passages) for q in questions))


def _now(library: Library) -> datetime:
    return datetime.combine(library.newest.as_of, day_time(9), tzinfo=UTC)


def _answer_times(
    library: Library, asks: list[Invocation], rounds: int
) -> tuple[list[float], list[float]]:
    """Seconds per answer with its Discord rendering: each question of ``asks`` and /summit
    alternately, ``rounds`` times, so that both meet the same moments of a busy machine."""
    from bot.platforms.discord.sources import rendered_answer

    now = _now(library)
    summit = Invocation("summit")
    timed: tuple[list[float], list[float]] = ([], [])
    gc.collect()
    for _ in range(rounds):
        for invocation in asks:
            for times, asked in zip(timed, (invocation, summit), strict=True):
                start = time.perf_counter()
                rendered_answer(answer(library, asked, now), now)
                times.append(time.perf_counter() - start)
    return timed


def _index_cost(library: Library, repeats: int) -> tuple[float, int]:
    """(median seconds to build the index, bytes it keeps)."""
    times = []
    briefs = [(brief, library.article(brief.id)) for brief in library.briefs]
    for _ in range(repeats):
        start = time.perf_counter()
        Indexes.of(briefs)
        times.append(time.perf_counter() - start)
    gc.collect()
    tracemalloc.start()
    try:
        before, _ = tracemalloc.get_traced_memory()
        kept = Indexes.of(briefs)
        current, _ = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    del kept
    return median(times), current - before


async def run(counts: Counts) -> BenchResult:
    """The question set's figures, then the cost of /ask against /summit."""
    result = BenchResult(NAME, TITLE)
    library = load_library(ROOT / "briefs")
    questions = load_questions()
    found = evaluate(library, questions)
    quality = Table(
        f"Question set: {len(questions)} questions ({found.answerable} answerable, "
        f"{found.unanswerable} not), asked as of {library.newest.as_of}",
        ["figure", "value"],
    )
    quality.add("right passage first (answerable)", f"{found.first_right:.0%}")
    quality.add("right passage shown (answerable)", f"{found.surfaced:.0%}")
    refused = found.unanswerable - len(found.wrongly_answered)
    quality.add("unanswerable refused", f"{refused}/{found.unanswerable}")
    quality.add("precision", f"{found.precision:.0%}")
    quality.add("recall", f"{found.recall:.0%}")
    result.tables.append(quality)
    result.results.update(
        {
            "questions": len(questions),
            "first_right": found.first_right,
            "surfaced": found.surfaced,
            "precision": found.precision,
            "recall": found.recall,
            "unanswerable_answered": len(found.wrongly_answered),
        }
    )
    result.notes.extend(f"not as wanted: {outcome.describe()}" for outcome in found.wrong)

    asks = [Invocation("ask", {"question": q.ask}) for q in questions]
    rounds = max(counts.interactions // 50, 5)
    _answer_times(library, asks, 1)  # warm both paths
    ask_times, summit_times = _answer_times(library, asks, rounds)
    cost = Table(
        f"One answer with its Discord rendering, no cache ({rounds} rounds of the "
        f"{len(asks)} questions, each followed by /summit)",
        ["command", "p50 µs", "p99 µs"],
    )
    for label, times in (("/ask", ask_times), ("/summit", summit_times)):
        cost.add(label, median(times) * 1e6, percentile(times, 0.99) * 1e6)
    result.tables.append(cost)
    ratio_p50 = median(ask_times) / median(summit_times)
    ratio_p99 = percentile(ask_times, 0.99) / percentile(summit_times, 0.99)
    result.ratios["ask_vs_summit_p50"] = ratio_p50
    result.ratios["ask_vs_summit_p99"] = ratio_p99
    build_s, kept = _index_cost(library, max(rounds // 10, 3))
    result.results["index_build_ms"] = build_s * 1e3
    result.results["index_kept_kib"] = kept / KIB
    result.notes.append(
        f"the index is built once at load (and on SIGHUP): {build_s * 1e3:.1f} ms and "
        f"{kept / KIB:.0f} KiB for the shipped brief and its article"
    )
    result.targets.extend(
        [
            Target(
                "share of answerable questions without the right passage first",
                1 - found.first_right,
                0.10,
                "",
            ),
            Target("unanswerable questions answered", len(found.wrongly_answered), 0, ""),
            Target("/ask p50 / /summit p50", ratio_p50, 1.0),
        ]
    )
    return result
