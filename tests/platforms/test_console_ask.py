"""/ask in the local console: answered, listed in /help, and completed with questions."""

import io
from datetime import UTC, datetime

from prompt_toolkit.completion import CompleteEvent
from prompt_toolkit.document import Document
from rich.console import Console

from bot.core.clock import Clock
from bot.core.library import Library
from bot.platforms.console.completion import CommandCompleter
from bot.platforms.console.session import ConsoleSession

AS_OF = datetime(2017, 4, 28, tzinfo=UTC)


def shown(library: Library, typed: str) -> str:
    sink = io.StringIO()
    out = Console(file=sink, width=5000, color_system=None)
    session = ConsoleSession(library, Clock(AS_OF, 0.0), out)
    rendered = session.handle(typed)
    assert rendered is not None
    out.print(rendered)
    if typed.startswith("/ask"):
        out.print(session.handle("/sources"))
    return sink.getvalue()


def test_ask_answers_and_its_sources_follow(library: Library) -> None:
    text = shown(library, "/ask how many MoUs did they sign?")
    assert "Memorandums of understanding signed: 29" in text
    assert "29 memorandums of understanding (MoUs) were signed" in text
    refused = shown(library, "/ask what about Crimea?")
    assert "The brief and its article don’t cover that." in refused


def test_help_shows_ask_with_its_question(library: Library) -> None:
    assert "/ask question…" in shown(library, "/help")


def test_tab_completes_questions_the_brief_answers(library: Library) -> None:
    completer = CommandCompleter(library, [])
    typed = "/ask where"
    offered = [
        completion.text
        for completion in completer.get_completions(Document(typed), CompleteEvent())
    ]
    assert "Where is the G20 leaders’ summit?" in offered
    assert all("where" in question.casefold() for question in offered)
