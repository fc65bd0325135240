"""The loaded briefs, held in memory for the life of the process."""

from collections.abc import Iterable
from dataclasses import dataclass, field
from functools import cached_property
from typing import TYPE_CHECKING

from bot.core.schema import Brief, Event

if TYPE_CHECKING:
    from bot.core.retrieval import Indexes


class UnknownChoice(LookupError):
    """A user named a brief or area that does not exist; the message lists the valid ones."""

    def __init__(self, kind: str, given: str, choices: list[str]) -> None:
        self.kind = kind
        self.given = given
        self.choices = choices
        listed = ", ".join(choices) if choices else "none"
        super().__init__(f"no {kind} called {given!r}; choose one of: {listed}")


@dataclass(frozen=True)
class Article:
    """The lines of a brief's article that are evidence, as published."""

    brief_id: str
    lines: tuple[str, ...]


@dataclass(frozen=True)
class Library:
    """Every loaded brief, newest first, with the articles that could be read."""

    briefs: tuple[Brief, ...]
    articles: tuple[Article, ...] = field(default=(), compare=False)

    @classmethod
    def of(cls, briefs: Iterable[Brief], articles: Iterable[Article] = ()) -> "Library":
        """A library of ``briefs``, ordered newest "as of" first (then by id)."""
        ordered = sorted(briefs, key=lambda brief: brief.id)
        ordered.sort(key=lambda brief: brief.as_of, reverse=True)
        return cls(tuple(ordered), tuple(articles))

    def article(self, brief_id: str) -> tuple[str, ...]:
        """The article's lines behind ``brief_id``, or none when it was not read."""
        return next((a.lines for a in self.articles if a.brief_id == brief_id), ())

    @cached_property
    def indexes(self) -> "Indexes":
        """The /ask retrieval index of every brief, built once for this library."""
        from bot.core.retrieval import Indexes

        return Indexes.of((brief, self.article(brief.id)) for brief in self.briefs)

    @property
    def newest(self) -> Brief:
        """The brief a command answers from when none is named."""
        return self.briefs[0]

    def brief(self, brief_id: str | None) -> Brief:
        """The brief called ``brief_id``, or the newest when ``None``."""
        if brief_id is None:
            return self.newest
        for brief in self.briefs:
            if brief.id == brief_id:
                return brief
        raise UnknownChoice("brief", brief_id, [brief.id for brief in self.briefs])

    def events(self, brief_id: str | None = None) -> list[tuple[Brief, Event]]:
        """Every event of one brief, or of all briefs when ``brief_id`` is ``None``."""
        briefs = self.briefs if brief_id is None else (self.brief(brief_id),)
        return [(brief, event) for brief in briefs for event in brief.events]


def choices(library: Library, option: str, typed: str, brief_id: str | None = None) -> list[str]:
    """Values for ``option`` that match what the user has typed so far, best first.

    Platforms use this for autocomplete: ``brief`` offers brief ids, ``area``
    offers the area ids of the chosen (or newest) brief.
    """
    if option == "brief":
        values = [brief.id for brief in library.briefs]
    elif option == "area":
        try:
            brief = library.brief(brief_id)
        except UnknownChoice:
            brief = library.newest
        values = [area.id for area in brief.mous.areas]
    else:
        return []
    wanted = typed.strip().casefold()
    starts = [value for value in values if value.startswith(wanted)]
    contains = [value for value in values if wanted in value and value not in starts]
    return starts + contains
