"""The console chat: read a command, answer it, show scheduled posts between prompts."""

import asyncio
import sys
from pathlib import Path
from typing import TextIO

from rich.console import Console, Group, RenderableType
from rich.text import Text

from bot.core.answers import answer
from bot.core.calendar_links import FeedAddress, calendar_reply, events_ahead
from bot.core.clock import Clock
from bot.core.commands import CALENDAR, COMMANDS, FREE_TEXT, UsageError, parse
from bot.core.library import Library, UnknownChoice
from bot.core.reply import Reply
from bot.platforms.console.render import (
    calendar_links,
    help_table,
    post_panel,
    reply_panel,
    sources_panel,
)

CHANNEL = "#briefing"
EXTRA_COMMANDS = (
    (f"/{CALENDAR.name}", CALENDAR.description),
    ("/sources", "The article's words behind the last answer"),
    ("/help", "This list"),
    ("/quit", "Leave the console (Ctrl-D works too)"),
)


class ConsoleSession:
    """One person at a terminal, talking to the bot in the channel ``#briefing``."""

    def __init__(
        self, library: Library, clock: Clock, console: Console, feed: FeedAddress | None = None
    ) -> None:
        self.library = library
        self.clock = clock
        self.console = console
        self.feed = feed
        """Where the calendar feed is served, for /calendar and the links under /next-meeting."""
        self.last: Reply | None = None

    def welcome(self) -> RenderableType:
        """The first lines a newcomer sees."""
        briefs = ", ".join(brief.title for brief in self.library.briefs)
        now = self.clock.now()
        when = "" if self.clock.is_real else f" Time is set to {now:%Y-%m-%d %H:%M} UTC."
        tip = ""
        if all(now >= event.ends_at() for _, event in self.library.events()):
            as_of = self.library.newest.as_of.isoformat()
            tip = (
                f"\nEvery meeting in the briefs is past. To see them as the brief was written, "
                f"run with --as-of {as_of}; to watch the reminders, run briefbot demo."
            )
        return Text.assemble(
            ("briefbot", "bold"),
            f" \u00b7 local console, channel {CHANNEL} \u00b7 briefs: {briefs}.{when}\n",
            "Type ",
            ("/summit", "bold cyan"),
            ", ",
            ("/mous", "bold cyan"),
            ", ",
            ("/next-meeting", "bold cyan"),
            " or ",
            ("/help", "bold cyan"),
            ".",
            (tip, "yellow"),
        )

    def handle(self, text: str) -> RenderableType | None:
        """Answer one typed line; ``None`` for a blank one. Raises ``EOFError`` on /quit."""
        typed = text.strip()
        if not typed:
            return None
        word = typed.split()[0].lower()
        if word in ("/quit", "/exit"):
            raise EOFError
        if word == "/help":
            return help_table(self._help_rows())
        if word == "/sources":
            if self.last is None:
                return Text(
                    "Ask something first, e.g. /summit; then /sources shows its evidence.",
                    style="yellow",
                )
            return sources_panel(self.last)
        if word == f"/{CALENDAR.name}":
            return reply_panel(calendar_reply(self.library, self.feed, self.clock.now()))
        return self._answer(typed)

    def _answer(self, typed: str) -> RenderableType:
        """A command's answer; under /next-meeting, each meeting's calendar links."""
        now = self.clock.now()
        try:
            reply = answer(self.library, parse(typed), now)
        except (UsageError, UnknownChoice) as error:
            return Text(f"{error}", style="yellow")
        self.last = reply
        if reply.command == "next-meeting":
            ahead = events_ahead(self.library, dict(reply.options).get("brief"), now)
            return Group(reply_panel(reply), calendar_links(ahead, self.feed))
        return reply_panel(reply)

    def _help_rows(self) -> list[tuple[str, str]]:
        rows = []
        for spec in COMMANDS:
            shown = [o for o in spec.options if o.name != "brief" or len(self.library.briefs) > 1]
            usage = "".join(f" [{option.name}:\u2026]" for option in shown)
            if spec.name in FREE_TEXT:  # the rest of the line is the question
                usage = "".join(f" [{o.name}:\u2026]" for o in shown if o.name == "brief")
                usage += f" {FREE_TEXT[spec.name]}\u2026"
            rows.append((f"/{spec.name}{usage}", spec.description))
        return rows + list(EXTRA_COMMANDS)

    def post(self, reply: Reply) -> None:
        """Show a scheduled post as a message in the console's channel."""
        self.console.print(post_panel(reply, CHANNEL, self.clock.now()))

    async def run(self, stdin: TextIO = sys.stdin, history: Path | None = None) -> None:
        """Chat until /quit or end of input."""
        self.console.print(self.welcome())
        if stdin.isatty() and self.console.is_terminal:
            await self._run_interactive(history)
        else:
            await self._run_piped(stdin)

    async def _run_piped(self, stdin: TextIO) -> None:
        loop = asyncio.get_running_loop()
        while True:
            typed = await loop.run_in_executor(None, stdin.readline)
            if not typed:
                return
            self.console.print(Text(f"> {typed.rstrip()}", style="dim"))
            try:
                shown = self.handle(typed)
            except EOFError:
                return
            if shown is not None:
                self.console.print(shown)

    async def _run_interactive(self, history: Path | None) -> None:
        from prompt_toolkit import PromptSession
        from prompt_toolkit.history import FileHistory, InMemoryHistory
        from prompt_toolkit.patch_stdout import patch_stdout

        from bot.platforms.console.completion import CommandCompleter

        session: PromptSession[str] = PromptSession(
            history=FileHistory(str(history)) if history else InMemoryHistory(),
            completer=CommandCompleter(self.library, [name for name, _ in EXTRA_COMMANDS]),
            complete_while_typing=True,
        )
        with patch_stdout(raw=True):
            while True:
                try:
                    typed = await session.prompt_async(f"{CHANNEL} > ")
                    shown = self.handle(typed)
                except (EOFError, KeyboardInterrupt):
                    return
                if shown is not None:
                    self.console.print(shown)
