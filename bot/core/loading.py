"""Reading brief files into the in-memory library, and checking them.

``load_library`` is what the bot calls at start: schema, dates, time zones and
unique ids. ``check_briefs`` adds what only an editor needs: every quote found
in its seed, and the seed's attribution agreeing with the brief.
"""

import re
import tomllib
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ValidationError
from pydantic_core import ErrorDetails

from bot.core.library import Library
from bot.core.problems import BriefsInvalid, Problem, display_path
from bot.core.schema import SCHEMA_VERSION, Brief, Evidenced
from bot.core.seeds import SeedError, read_seed
from bot.core.tomllines import LineIndex

_TOML_POSITION = r"\(at line (\d+), column (\d+)\)"


def brief_files(directory: Path) -> list[Path]:
    """The brief files in ``directory``, in name order."""
    return sorted(path for path in directory.glob("*.toml") if path.is_file())


def field_path(location: tuple[int | str, ...]) -> str:
    """``('mous', 'areas', 2, 'quotes', 0)`` → ``mous.areas[2].quotes[0]``."""
    text = ""
    for part in location:
        if isinstance(part, int):
            text += f"[{part}]"
        elif not part.startswith(("function-", "tagged-union")) and part not in (
            "date",
            "datetime",
        ):
            text = f"{text}.{part}" if text else part
    return text


def _message(error: ErrorDetails) -> str:
    kind = error["type"]
    if kind == "missing":
        return "missing required field"
    if kind == "extra_forbidden":
        return "unknown field (see docs/briefs.md for the fields a brief takes)"
    if kind == "literal_error" and error["loc"] == ("schema_version",):
        return (
            f"unsupported schema version {error['input']!r}; this briefbot reads {SCHEMA_VERSION}"
        )
    message = error["msg"]
    for prefix in ("Value error, ", "Assertion failed, "):
        message = message.removeprefix(prefix)
    return message[:1].lower() + message[1:]


def read_brief(path: Path) -> tuple[Brief | None, list[Problem]]:
    """Parse and validate one brief file. Never raises for a user's mistake."""
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as error:
        return None, [Problem(path, None, "", f"cannot read the file: {error}")]
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as error:
        message = str(error)
        match = re.search(_TOML_POSITION, message)
        line = int(match.group(1)) if match else None
        message = re.sub(r"\s*" + _TOML_POSITION, "", message)
        return None, [Problem(path, line, "", f"TOML syntax error: {message}")]
    try:
        return Brief.model_validate(data), []
    except ValidationError as error:
        lines = LineIndex(text)
        problems = []
        for detail in error.errors():
            where = field_path(detail["loc"])
            problems.append(Problem(path, lines.line_of(where), where, _message(detail)))
        return None, problems


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


def check_quotes(path: Path, brief: Brief) -> list[Problem]:
    """Every quote of ``brief`` must stand in its seed, outside the site's boilerplate."""
    lines = LineIndex(path.read_text(encoding="utf-8"))
    seed_path = (path.parent / brief.source.seed).resolve()
    try:
        seed = read_seed(seed_path)
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
                    f"{display_path(seed_path.with_suffix('.source.toml'))}",
                )
            )
    return problems


def _duplicate_ids(loaded: list[tuple[Path, Brief]]) -> list[Problem]:
    problems = []
    seen_briefs: dict[str, Path] = {}
    seen_events: dict[str, Path] = {}
    for path, brief in loaded:
        lines = LineIndex(path.read_text(encoding="utf-8"))
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
    directory: Path, *, with_quotes: bool
) -> tuple[list[tuple[Path, Brief]], list[Problem]]:
    if not directory.is_dir():
        problem = Problem(directory, None, "", "briefs directory does not exist")
        return [], [problem]
    files = brief_files(directory)
    if not files:
        return [], [Problem(directory, None, "", "no briefs (*.toml files) in this directory")]
    loaded: list[tuple[Path, Brief]] = []
    problems: list[Problem] = []
    for path in files:
        brief, found = read_brief(path)
        problems.extend(found)
        if brief is not None:
            loaded.append((path, brief))
            if with_quotes:
                problems.extend(check_quotes(path, brief))
    problems.extend(_duplicate_ids(loaded))
    return loaded, problems


def load_library(directory: Path) -> Library:
    """Load every brief in ``directory`` for the bot; raise ``BriefsInvalid`` on any problem."""
    loaded, problems = _read_all(directory, with_quotes=False)
    if problems:
        raise BriefsInvalid(problems)
    return Library.of(brief for _, brief in loaded)


def check_briefs(directory: Path) -> tuple[int, list[Problem]]:
    """Check every brief in ``directory`` fully; return how many were read and the problems."""
    _, problems = _read_all(directory, with_quotes=True)
    return len(brief_files(directory)) if directory.is_dir() else 0, problems
