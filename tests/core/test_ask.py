"""/ask: the question set, refusals, dates as of now, untrusted questions, suggestions."""

from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

import pytest

from bench.ask import evaluate, load_questions, names
from bot.core.answers import answer
from bot.core.ask import EXCERPT, MAX_QUESTION, complete, excerpt, search, unanswered
from bot.core.commands import Invocation, UsageError, parse
from bot.core.library import Library
from bot.core.loading import check_briefs, load_library
from bot.core.plaintext import render
from bot.core.reply import Countdown, plain

AS_OF = datetime(2017, 4, 28, 9, tzinfo=UTC)


def ask(library: Library, typed: str, now: datetime = AS_OF) -> str:
    """The plain text of the answer to ``/ask typed``."""
    return render(answer(library, parse(f"/ask {typed}"), now))


def test_the_question_set_is_large_enough_and_names_real_passages(library: Library) -> None:
    questions = load_questions()
    assert len(questions) >= 40
    assert sum(q.answerable for q in questions) >= 30
    assert sum(not q.answerable for q in questions) >= 10
    passages = library.indexes.by_brief[library.newest.id].passages
    for question in questions:
        for wanted in question.facts:
            assert any(names(passage, wanted) for passage in passages), wanted


def test_the_right_passage_comes_first_and_nothing_unanswerable_is_answered(
    library: Library,
) -> None:
    found = evaluate(library, load_questions())
    assert [o.describe() for o in found.wrongly_answered] == []
    assert found.first_right >= 0.9, [o.describe() for o in found.wrong]


def test_an_answer_is_the_brief_s_facts_with_the_article_s_quotes(library: Library) -> None:
    reply = answer(library, parse("/ask when do the flights for former residents start?"), AS_OF)
    first = plain(reply.summary[0])
    assert first.startswith(
        "Visa-free air travel begins for former Japanese inhabitants of the Southern Kurils."
    )
    assert "in June 2017" in first
    assert "\u201cthe pledge to launch visa-free air travel" in first
    assert reply.sources
    assert reply.sources[0].quotes


def test_every_sentence_shown_is_a_fact_or_a_quote(library: Library) -> None:
    brief = library.newest
    article = " ".join(library.article(brief.id))
    for question in load_questions():
        reply = answer(library, Invocation("ask", {"question": question.ask}), AS_OF)
        if not reply.sources:
            continue
        for source in reply.sources:
            for quote in source.quotes:
                assert " ".join(quote.split()) in " ".join(article.split())


def test_an_uncovered_question_is_refused_with_the_commands(library: Library) -> None:
    text = ask(library, "what did they decide about Crimea?")
    assert "The brief and its article don\u2019t cover that." in text
    for command in ("/summit", "/mous", "/next-meeting", "/calendar"):
        assert command in text
    assert "When is the next meeting?" in text
    reply = answer(library, parse("/ask what did they decide about Crimea?"), AS_OF)
    assert reply.sources == ()


def test_a_question_asked_years_later_answers_as_of_now_marked_past(library: Library) -> None:
    later = datetime(2026, 3, 1, tzinfo=UTC)
    reply = answer(library, parse("/ask when is the next G20?"), later)
    first = reply.summary[0]
    assert plain(first).startswith("G20 leaders\u2019 summit (past), Hamburg, Germany")
    assert "7\u20138 July 2017" in plain(first)
    assert any(isinstance(part, Countdown) and part.words.startswith("ended") for part in first)
    early = answer(library, parse("/ask when is the next G20?"), AS_OF)
    assert "(past)" not in plain(early.summary[0])
    assert "in 2 months" in plain(early.summary[0])


def test_an_article_sentence_answers_what_no_fact_holds(library: Library) -> None:
    text = ask(library, "what about the territorial dispute?")
    assert "\u201cFurthermore, discussing the situation on the Korean peninsula" in text


@pytest.mark.parametrize(
    "typed",
    [
        "when's the next meeting?",
        'question:"when is the next meeting?"',
        "question:when is the next meeting?",
        "brief:russia-japan-summit-2017 when is the next meeting?",
    ],
)
def test_a_question_needs_no_quoting(library: Library, typed: str) -> None:
    invocation = parse(f"/ask {typed}")
    assert invocation.command == "ask"
    assert invocation.options["question"].endswith("the next meeting?")
    assert "G20 leaders\u2019 summit" in render(answer(library, invocation, AS_OF))


def test_a_missing_or_overlong_question_is_one_clear_line(library: Library) -> None:
    with pytest.raises(UsageError, match="ask a question after /ask"):
        answer(library, parse("/ask"), AS_OF)
    with pytest.raises(UsageError, match=f"at most {MAX_QUESTION} characters"):
        answer(library, parse("/ask " + "why " * 200), AS_OF)


def test_a_question_is_shown_back_only_as_a_safe_excerpt(library: Library) -> None:
    hostile = "@everyone <@&123> `code` **bold** ||spoiler|| <!channel>\n\nnext meeting " + "x" * 90
    reply = answer(library, Invocation("ask", {"question": hostile}), AS_OF)
    shown = [reply.title, *(value for _, value in reply.options)]
    for text in shown:
        for character in "@<>`*|\n":
            assert character not in text
    assert len(reply.title) <= EXCERPT + 2
    assert excerpt("  a\tb\u200b  c ") == "a b c"


def test_the_sources_button_rebuilds_the_same_evidence(library: Library) -> None:
    reply = answer(library, parse("/ask who is Abe meeting next and where?"), AS_OF)
    options = dict(reply.options)
    again = answer(
        library,
        Invocation("ask", {"brief": options["brief"], "facts": options["facts"]}),
        AS_OF,
    )
    assert again.sources == reply.sources
    with pytest.raises(UsageError, match="no longer in the brief"):
        answer(library, Invocation("ask", {"facts": "f999"}), AS_OF)


def test_the_index_is_built_once_at_load(library: Library) -> None:
    fresh = load_library(Path(__file__).resolve().parents[2] / "briefs")
    built = fresh.__dict__["indexes"]  # built by load_library, before any question
    answer(fresh, parse("/ask when is the next meeting?"), AS_OF)
    answer(fresh, parse("/ask how many memorandums were signed?"), AS_OF)
    assert fresh.indexes is built


def test_without_its_article_a_brief_still_answers_from_its_facts(library: Library) -> None:
    bare = Library.of(library.briefs)
    found = search(bare, "how many memorandums were signed?", None)
    assert [p.fact_id for p in found.passages][:1] == ["mous.count"]


def test_autocomplete_suggests_at_most_25_filtered_and_answered(library: Library) -> None:
    everything = complete(library, "")
    assert 10 <= len(everything) <= 25
    assert all(len(question) <= 100 for question in everything)
    assert complete(library, "where") == [q for q in everything if "where" in q.casefold()]
    assert complete(library, "hambu")[0] == "When is the G20 leaders\u2019 summit?"
    assert complete(library, "qqqq zzzz") == []
    assert unanswered(library) == []


def test_check_reports_a_suggestion_that_is_not_answered(
    brief_copy: Callable[..., Path],
) -> None:
    briefs = brief_copy(('name = "G20 leaders’ summit"', 'name = "It"'))
    _, problems = check_briefs(briefs)
    assert [(p.path.name, p.message) for p in problems] == [
        ("russia-japan-summit-2017.toml", "/ask suggests 'When is the It?', but it is refused"),
        ("russia-japan-summit-2017.toml", "/ask suggests 'Where is the It?', but it is refused"),
    ]
