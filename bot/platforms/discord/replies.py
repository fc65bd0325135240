"""Plain-text answers within Discord's limits, echoing user input only in a safe, short form.

A message's content holds at most 2,000 characters; Discord refuses a longer
one and the user sees only "interaction failed". Whatever a user typed is
shown at most ``ECHO`` characters long, on one line, with markdown and
mentions escaped, so it can neither break the layout nor ping anyone.
"""

import re

from discord.utils import escape_markdown, escape_mentions

from bot.core.commands import UsageError
from bot.core.library import UnknownChoice
from bot.platforms.discord.embeds import fit

CONTENT = 2000
ECHO = 100
_SPACE = re.compile(r"\s+")


def echo(value: str, limit: int = ECHO) -> str:
    """``value`` as typed, for showing back: one line, at most ``limit`` characters, inert."""
    text = fit(_SPACE.sub(" ", value).strip(), limit)
    return escape_mentions(escape_markdown(text))


def content(text: str) -> str:
    """``text`` cut to fit a message's content."""
    return fit(text, CONTENT)


def error_text(error: UnknownChoice | UsageError) -> str:
    """A user's mistake as one short sentence, their own words shortened and escaped."""
    if isinstance(error, UnknownChoice):
        listed = ", ".join(error.choices) if error.choices else "none"
        text = f"No {error.kind} called '{echo(error.given)}'; choose one of: {listed}."
        return content(text)
    text = str(error)
    return content(escape_mentions(text[:1].upper() + text[1:] + "."))
