"""Recent answers, rendered once per minute for a platform.

Answers are pure functions of (briefs, command, options, now): at a minute's
resolution the same question asked again costs a lookup instead of a render.
"""

from collections import OrderedDict
from collections.abc import Callable
from datetime import datetime
from typing import Generic, TypeVar

from bot.core.answers import answer
from bot.core.commands import Invocation
from bot.core.library import Library
from bot.core.reply import Reply

T = TypeVar("T")


class RenderCache(Generic[T]):
    """The last ``size`` answers with their platform rendering."""

    def __init__(self, render: Callable[[Reply, datetime], T], size: int = 256) -> None:
        self.render = render
        self.size = size
        self._entries: OrderedDict[tuple[object, ...], tuple[Library, Reply, T]] = OrderedDict()

    def get(self, library: Library, invocation: Invocation, now: datetime) -> tuple[Reply, T]:
        """The reply at ``now`` and its rendering; ``now`` should be a whole minute."""
        key = (id(library), invocation.command, tuple(sorted(invocation.options.items())), now)
        found = self._entries.get(key)
        if found is not None and found[0] is library:
            self._entries.move_to_end(key)
            return found[1], found[2]
        reply = answer(library, invocation, now)
        rendered = self.render(reply, now)
        self._entries[key] = (library, reply, rendered)
        if len(self._entries) > self.size:
            self._entries.popitem(last=False)
        return reply, rendered


def this_minute(now: datetime) -> datetime:
    """``now`` to the minute: the resolution answers are cached at."""
    return now.replace(second=0, microsecond=0)
