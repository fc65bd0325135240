"""Reading brief files into the in-memory library, and checking them.

``load_library`` is what the bot calls at start: schema, dates, time zones and
unique ids, then the articles and the /ask index. ``check_briefs`` adds what only
an editor needs: every quote found in its seed, the seed's attribution agreeing
with the brief, and every question /ask suggests answered.

A hostile or broken file is a problem line, never a traceback or a hang: a
brief is read bounded (``MAX_BRIEF_BYTES``) and its shape scanned before
``tomllib`` parses it (see ``bot.core.tomllines.shape_problem``).
"""

import re
import reprlib
import tomllib
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ValidationError
from pydantic_core import ErrorDetails

from bot.core.library import Article, Library
from bot.core.problems import BriefsInvalid, Problem, Unreadable, display_path, read_limited
from bot.core.schema import SCHEMA_VERSION, Brief, Evidenced
from bot.core.seeds import SeedError, attribution_path, read_seed
from bot.core.tomllines import MAX_DEPTH, LineIndex, shape_problem

_TOML_POSITION = r"\(at line (\d+), column (\d+)\)"
MAX_BRIEF_BYTES = 1 << 20
"""The largest brief file read, in bytes."""
MAX_PROBLEMS = 50
"""The most problems listed for one brief; the rest are counted in one line."""
_MAX_FIELD_PART = 64


@dataclass(frozen=True)
class _Read:
    """A brief file that parsed and validated, with its text for finding lines."""

    path: Path
    text: str
    brief: Brief


def brief_files(directory: Path) -> list[Path]:
    """Every ``*.toml`` entry in ``directory``, in name order.

    A directory or a pipe named like a brief is listed too, so that it is
    reported rather than silently skipped.
    """
    return sorted(directory.glob("*.toml"))


def field_path(location: tuple[int | str, ...]) -> str:
    """``('mous', 'areas', 2, 'quotes', 0)`` → ``mous.areas[2].quotes[0]``."""
    text = ""
    previous: int | str = ""
    for part in location:
        union_member = part in ("date", "datetime") and previous in ("start", "end")
        previous = part
        if isinstance(part, int):
            text += f"[{part}]"
        elif not part.startswith(("function-", "tagged-union")) and not union_member:
            name = part  # an unknown key may be of any length
            if len(name) > _MAX_FIELD_PART:
                name = name[: _MAX_FIELD_PART - 1] + "\u2026"
            text = f"{text}.{name}" if text else name
    return text


def _message(error: ErrorDetails) -> str:
    kind = error["type"]
    if kind == "missing":
        return "missing required field"
    if kind == "extra_forbidden":
        return "unknown field (see docs/briefs.md for the fields a brief takes)"
    if kind == "literal_error" and error["loc"] == ("schema_version",):
        given = reprlib.repr(error["input"])
        return f"unsupported schema version {given}; this briefbot reads {SCHEMA_VERSION}"
    message = error["msg"]
    for prefix in ("Value error, ", "Assertion failed, "):
        message = message.removeprefix(prefix)
    return message[:1].lower() + message[1:]


def _load_toml(path: Path) -> tuple[str, dict[str, Any]] | Problem:
    """Read, scan and parse one TOML file, or the one problem that stops it."""
    try:
        text = read_limited(path, MAX_BRIEF_BYTES)
    except FileNotFoundError:
        return Problem(path, None, "", "cannot read the file: it does not exist")
    except Unreadable as error:
        return Problem(path, None, "", f"brief file {error}")
    if (shape := shape_problem(text)) is not None:
        return Problem(path, shape[0], "", shape[1])
    try:
        return text, tomllib.loads(text)
    except tomllib.TOMLDecodeError as error:
        message = str(error)
        match = re.search(_TOML_POSITION, message)
        line = int(match.group(1)) if match else None
        message = re.sub(r"\s*" + _TOML_POSITION, "", message)
        return Problem(path, line, "", f"TOML syntax error: {message}")
    except RecursionError:  # the shape scan should have refused it first
        return Problem(path, None, "", f"arrays or inline tables nest deeper than {MAX_DEPTH}")


def _parse(path: Path) -> tuple[_Read | None, list[Problem]]:
    """Read, scan, parse and validate one brief file. Never raises for a user's mistake."""
    loaded = _load_toml(path)
    if isinstance(loaded, Problem):
        return None, [loaded]
    text, data = loaded
    try:
        return _Read(path, text, Brief.model_validate(data)), []
    except ValidationError as error:
        lines = LineIndex(text)
        problems = []
        details = error.errors(include_url=False)
        for detail in details[:MAX_PROBLEMS]:
            where = field_path(detail["loc"])
            problems.append(Problem(path, lines.line_of(where), where, _message(detail)))
        if len(details) > MAX_PROBLEMS:
            more = len(details) - MAX_PROBLEMS
            problems.append(Problem(path, None, "", f"and {more} more problems not listed"))
        return None, problems


def read_brief(path: Path) -> tuple[Brief | None, list[Problem]]:
    """Parse and validate one brief file. Never raises for a user's mistake."""
    read, problems = _parse(path)
    return (read.brief if read else None), problems


def evidenced(value: Any, path: str = "") -> Iterator[tuple[str, Evidenced]]:
    """Every fact in a brief with its field path, depth first."""
    if isinstance(value, Evidenced):
        yield path, value
    if isinstance(value, list):
        for index, item in enumerate(value):
            yield from evidenced(item, f"{path}[{index}]")
    elif isinstance(value, BaseModel):
        for name in type(value).model_fields:
            yield from evidenced(getattr(value, name), f"{path}.{name}" if path else name)


def seed_roots(directory: Path, seeds_dir: Path | None = None) -> list[Path]:
    """Where the seeds of the briefs in ``directory`` may be: there, or in the seeds directory.

    ``seeds_dir`` defaults to ``seeds`` beside the briefs directory, as shipped.
    """
    return [directory, seeds_dir if seeds_dir is not None else directory / ".." / "seeds"]


def check_quotes(read: _Read, roots: list[Path]) -> list[Problem]:
    """Every quote of a brief must stand in its seed, outside the site's boilerplate."""
    path, brief = read.path, read.brief
    lines = LineIndex(read.text)
    try:
        seed = read_seed(path.parent / brief.source.seed, roots)
    except SeedError as error:
        return [Problem(path, lines.line_of("source.seed"), "source.seed", str(error))]
    problems = []
    for where, fact in evidenced(brief):
        for index, quote in enumerate(fact.quotes):
            quote_path = f"{where}.quotes[{index}]"
            if (wrong := seed.find(quote)) is not None:
                problems.append(Problem(path, lines.line_of(quote_path), quote_path, wrong))
    for name in ("publisher", "headline"):
        expected = getattr(seed, name)
        actual = getattr(brief.source, name)
        if expected is not None and expected != actual:
            problems.append(
                Problem(
                    path,
                    lines.line_of(f"source.{name}"),
                    f"source.{name}",
                    f"{actual!r} differs from {expected!r} in "
                    f"{display_path(attribution_path(seed.path))}",
                )
            )
    return problems


def _duplicate_ids(loaded: list[_Read]) -> list[Problem]:
    problems = []
    seen_briefs: dict[str, Path] = {}
    seen_events: dict[str, Path] = {}
    for read in loaded:
        path, brief = read.path, read.brief
        lines = LineIndex(read.text)
        if brief.id in seen_briefs:
            problems.append(
                Problem(
                    path,
                    lines.line_of("id"),
                    "id",
                    f"brief id {brief.id!r} is also used by {display_path(seen_briefs[brief.id])}",
                )
            )
        seen_briefs.setdefault(brief.id, path)
        for group, ids in (
            ("mous.areas", [area.id for area in brief.mous.areas]),
            ("mous.follow_ups", [item.id for item in brief.mous.follow_ups]),
            ("events", [event.id for event in brief.events]),
        ):
            local: set[str] = set()
            for index, item_id in enumerate(ids):
                where = f"{group}[{index}].id"
                message = None
                if item_id in local:
                    message = f"duplicate id {item_id!r}"
                elif group == "events" and item_id in seen_events:
                    other = display_path(seen_events[item_id])
                    message = f"event id {item_id!r} is also used in {other}"
                if message:
                    problems.append(Problem(path, lines.line_of(where), where, message))
                local.add(item_id)
                if group == "events":
                    seen_events.setdefault(item_id, path)
    return problems


def _read_all(
    directory: Path, *, with_quotes: bool, seeds_dir: Path | None = None
) -> tuple[list[_Read], list[Problem]]:
    if not directory.is_dir():
        problem = Problem(directory, None, "", "briefs directory does not exist")
        return [], [problem]
    files = brief_files(directory)
    if not files:
        return [], [Problem(directory, None, "", "no briefs (*.toml files) in this directory")]
    roots = seed_roots(directory, seeds_dir)
    loaded: list[_Read] = []
    problems: list[Problem] = []
    for path in files:
        read, found = _parse(path)
        problems.extend(found)
        if read is not None:
            loaded.append(read)
            if with_quotes:
                problems.extend(check_quotes(read, roots))
    problems.extend(_duplicate_ids(loaded))
    return loaded, problems


def _articles(loaded: list[_Read], roots: list[Path]) -> list[Article]:
    """The articles that can be read; a brief whose seed cannot is answered from itself alone."""
    articles = []
    for read in loaded:
        try:
            seed = read_seed(read.path.parent / read.brief.source.seed, roots)
        except SeedError:
            continue
        articles.append(Article(read.brief.id, seed.lines))
    return articles


def load_library(directory: Path, seeds_dir: Path | None = None) -> Library:
    """Load every brief in ``directory`` for the bot; raise ``BriefsInvalid`` on any problem.

    Each brief's article is read too, when it can be, and the /ask index is built
    from both, once, here.
    """
    loaded, problems = _read_all(directory, with_quotes=False)
    if problems:
        raise BriefsInvalid(problems)
    articles = _articles(loaded, seed_roots(directory, seeds_dir))
    library = Library.of((read.brief for read in loaded), articles)
    _ = library.indexes
    return library


def check_briefs(directory: Path, seeds_dir: Path | None = None) -> tuple[int, list[Problem]]:
    """Check every brief in ``directory`` fully; return how many were read and the problems.

    Seeds must lie in ``directory`` or in ``seeds_dir`` (by default ``seeds``
    beside ``directory``), after symbolic links.
    """
    loaded, problems = _read_all(directory, with_quotes=True, seeds_dir=seeds_dir)
    if not problems:
        problems = _check_suggestions(loaded, seed_roots(directory, seeds_dir))
    return len(brief_files(directory)) if directory.is_dir() else 0, problems


def _check_suggestions(loaded: list[_Read], roots: list[Path]) -> list[Problem]:
    """Every question /ask's autocomplete suggests must be answered above the threshold,
    with the facts it was made from."""
    from bot.core.ask import unanswered

    library = Library.of((read.brief for read in loaded), _articles(loaded, roots))
    paths = {read.brief.id: read.path for read in loaded}
    return [Problem(paths[brief_id], None, "", wrong) for brief_id, wrong in unanswered(library)]
