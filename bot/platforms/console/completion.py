"""Tab completion of commands, option names and option values in the console."""

from collections.abc import Iterable

from prompt_toolkit.completion import CompleteEvent, Completer, Completion
from prompt_toolkit.document import Document

from bot.core.ask import complete
from bot.core.commands import COMMANDS, FREE_TEXT, UsageError, command
from bot.core.library import Library, choices


class CommandCompleter(Completer):
    """Completes ``/mo`` → ``/mous``, ``/mous a`` → ``area:``, ``area:en`` → ``area:energy``."""

    def __init__(self, library: Library, extra: list[str]) -> None:
        self.library = library
        self.names = [f"/{spec.name}" for spec in COMMANDS] + extra

    def get_completions(self, document: Document, event: CompleteEvent) -> Iterable[Completion]:
        """Offer what fits the word under the cursor."""
        before = document.text_before_cursor
        word = document.get_word_before_cursor(WORD=True)
        words = before.split()
        if len(words) <= 1 and not before.endswith(" "):
            for name in self.names:
                if name.startswith(word):
                    yield Completion(name, start_position=-len(word))
            return
        try:
            spec = command(words[0])
        except UsageError:
            return
        if spec.name in FREE_TEXT:  # offer whole questions the brief answers
            typed_question = before.split(None, 1)[1] if len(words) > 1 else ""
            for question in complete(self.library, typed_question, limit=10):
                yield Completion(question, start_position=-len(typed_question))
            return
        name, colon, typed = word.partition(":")
        if not colon:
            for option in spec.options:
                if option.name.startswith(name):
                    yield Completion(
                        f"{option.name}:",
                        start_position=-len(word),
                        display_meta=option.description,
                    )
            return
        brief_id = next((w.split(":", 1)[1] for w in words if w.startswith("brief:")), None)
        for value in choices(self.library, name, typed, brief_id):
            yield Completion(f"{name}:{value}", start_position=-len(word))
