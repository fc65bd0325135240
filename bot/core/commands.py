"""The commands the bot answers, their options, and reading them from typed text.

Platforms build their own command menus from ``COMMANDS``; the console, the
``ask`` command and Slack's slash-command text use ``parse`` to read
``/mous area:energy``.
"""

import shlex
from dataclasses import dataclass, field


class UsageError(ValueError):
    """A command typed wrongly; the message says how to type it."""


@dataclass(frozen=True)
class OptionSpec:
    """An optional value a command takes."""

    name: str
    description: str


@dataclass(frozen=True)
class CommandSpec:
    """A command: its name without the slash, a one-line description, its options."""

    name: str
    description: str
    options: tuple[OptionSpec, ...] = ()

    def option_names(self) -> list[str]:
        """The names of this command's options."""
        return [option.name for option in self.options]


BRIEF = OptionSpec("brief", "Which brief to answer from (default: the newest)")
AREA = OptionSpec("area", "Focus on one area of the memorandums")
QUESTION = OptionSpec("question", "Your question about the brief, e.g. when is the next meeting?")

COMMANDS: tuple[CommandSpec, ...] = (
    CommandSpec("summit", "The summit at a glance: when, where, who, what came of it", (BRIEF,)),
    CommandSpec(
        "mous", "The memorandums signed: how many, their areas, the follow-ups", (BRIEF, AREA)
    ),
    CommandSpec(
        "next-meeting", "The next meetings, soonest first, with dates and a countdown", (BRIEF,)
    ),
    CommandSpec(
        "ask",
        "Ask about the brief: answered in its facts and the article's words",
        (QUESTION, BRIEF),
    ),
)
FREE_TEXT = {"ask": QUESTION.name}
"""Commands whose words after the name are one value, so a question needs no quoting:
``/ask when is the next meeting?`` (an optional ``brief:ID`` may come first)."""


def detail_option(command_name: str) -> str:
    """The option besides ``brief`` that a Sources button carries to rebuild an answer."""
    return "facts" if command_name == "ask" else "area"


CALENDAR = CommandSpec(
    "calendar", "The meetings as a calendar feed: its address, and how to subscribe"
)
"""Answered from where the feed is served, not from the briefs alone: each platform answers it
with ``bot.core.calendar_links.calendar_reply``, beside ``COMMANDS``."""


def command(name: str) -> CommandSpec:
    """The command called ``name`` (with or without its slash)."""
    bare = name.removeprefix("/")
    for spec in COMMANDS:
        if spec.name == bare:
            return spec
    listed = ", ".join(f"/{spec.name}" for spec in COMMANDS)
    raise UsageError(f"unknown command /{bare}; the commands are {listed} (and /help)")


@dataclass(frozen=True)
class Invocation:
    """A command with the options given to it."""

    command: str
    options: dict[str, str] = field(default_factory=dict)

    def __str__(self) -> str:
        if self.command in FREE_TEXT:
            brief = self.options.get(BRIEF.name)
            parts = [f"/{self.command}", f"brief:{brief}" if brief else ""]
            return " ".join([*filter(None, parts), self.options.get(FREE_TEXT[self.command], "")])
        parts = [f"/{self.command}"]
        for name, value in self.options.items():
            parts.append(f"{name}:{shlex.quote(value)}" if " " in value else f"{name}:{value}")
        return " ".join(parts)


def _free_text(name: str, rest: str) -> Invocation:
    """``/ask [brief:ID] [question:]words…``: everything after the options is the question."""
    options: dict[str, str] = {}
    head, _, tail = rest.partition(" ")
    if head.startswith(f"{BRIEF.name}:") and head != f"{BRIEF.name}:":
        options[BRIEF.name] = head.partition(":")[2]
        rest = tail.strip()
    field = FREE_TEXT[name]
    rest = rest.removeprefix(f"{field}:").strip()
    if len(rest) >= 2 and rest[0] == rest[-1] and rest[0] in "\"'":
        rest = rest[1:-1].strip()
    if rest:
        options[field] = rest
    return Invocation(name, options)


def parse(text: str) -> Invocation:
    """Read ``/mous area:energy brief:russia-japan-summit-2017``.

    Values with spaces are quoted: ``area:"resource exploration"``. A free-text
    command (``/ask``) takes the rest of the line as its value, unquoted.
    """
    name, _, tail = text.strip().partition(" ")
    if name.startswith("/") and name.removeprefix("/") in FREE_TEXT:
        return _free_text(name.removeprefix("/"), tail.strip())
    try:
        words = shlex.split(text.strip())
    except ValueError as error:
        raise UsageError(f"cannot read {text.strip()!r}: {error}") from None
    if not words:
        raise UsageError("type a command, such as /summit, or /help for the list")
    head, *rest = words
    if not head.startswith("/"):
        raise UsageError(f"commands start with a slash: try /{head}")
    spec = command(head)
    options: dict[str, str] = {}
    for word in rest:
        name, colon, value = word.partition(":")
        if not colon:
            example = f"/{spec.name} {spec.options[-1].name}:..." if spec.options else ""
            hint = f" (options are written name:value, e.g. {example})" if example else ""
            raise UsageError(f"/{spec.name} does not understand {word!r}{hint}")
        if name not in spec.option_names():
            takes = ", ".join(spec.option_names()) or "no options"
            raise UsageError(f"/{spec.name} has no option {name!r}; it takes: {takes}")
        if not value.strip():
            raise UsageError(f"option {name} needs a value, e.g. {name}:...")
        if name in options:
            raise UsageError(f"option {name} is given twice")
        options[name] = value.strip()
    return Invocation(spec.name, options)
