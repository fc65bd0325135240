"""Hostile or broken brief files: one clear problem line each, never a traceback or a hang."""

import os
import tracemalloc
from collections.abc import Callable
from pathlib import Path

import pytest

from bot.core import loading
from bot.core.loading import check_briefs, load_library
from bot.core.problems import BriefsInvalid
from bot.core.tomllines import MAX_DEPTH, MAX_KEY_PARTS, shape_problem

BRIEF = "russia-japan-summit-2017.toml"


def problems_of(briefs: Path) -> list[str]:
    """What ``briefbot check`` says, one line per problem."""
    _, problems = check_briefs(briefs)
    return [str(problem) for problem in problems]


def refusal(briefs: Path) -> list[str]:
    """What the bot says when it refuses to start on ``briefs``."""
    with pytest.raises(BriefsInvalid) as caught:
        load_library(briefs)
    return [str(problem) for problem in caught.value.problems]


def both(briefs: Path) -> list[str]:
    """The problems from ``check_briefs``, after asserting ``load_library`` says the same."""
    found = problems_of(briefs)
    assert refusal(briefs) == found
    return found


def write(tmp_path: Path, text: str | bytes) -> Path:
    """A briefs directory holding one brief file with ``text``."""
    briefs = tmp_path / "briefs"
    briefs.mkdir(exist_ok=True)
    path = briefs / BRIEF
    if isinstance(text, bytes):
        path.write_bytes(text)
    else:
        path.write_text(text, encoding="utf-8")
    return briefs


@pytest.mark.parametrize(
    "text",
    [
        "x = " + "[" * 100_000 + "]" * 100_000,
        "x = " + "{a=" * 100_000 + "1" + "}" * 100_000,
    ],
    ids=["arrays", "inline-tables"],
)
def test_a_100000_deep_line_is_refused_before_parsing(tmp_path: Path, text: str) -> None:
    found = both(write(tmp_path, text))
    assert found == [f"{tmp_path / 'briefs' / BRIEF}:1: line is longer than 20,000 characters"]


@pytest.mark.parametrize(
    "text",
    [
        "x = [\n" + "[\n" * 100_000,
        "x = " + "{a=" * (MAX_DEPTH + 1) + "1" + "}" * (MAX_DEPTH + 1),
    ],
    ids=["arrays-over-lines", "inline-tables"],
)
def test_nesting_deeper_than_the_limit_is_refused(tmp_path: Path, text: str) -> None:
    found = both(write(tmp_path, text))
    assert len(found) == 1
    line = 1 if text.startswith("x = {") else MAX_DEPTH + 1
    assert found[0].endswith(f":{line}: arrays or inline tables nest deeper than {MAX_DEPTH}")


def test_a_dotted_key_of_100000_parts_is_refused_at_once(tmp_path: Path) -> None:
    found = both(write(tmp_path, ".".join(["a"] * 100_000) + " = 1"))
    assert len(found) == 1
    assert found[0].endswith(":1: line is longer than 20,000 characters")


@pytest.mark.parametrize(
    "text", ["a." * MAX_KEY_PARTS + "a = 1", "[" + "a." * MAX_KEY_PARTS + "a]"]
)
def test_a_dotted_key_over_the_part_limit_is_refused(tmp_path: Path, text: str) -> None:
    found = both(write(tmp_path, f"# a comment\n{text}\n"))
    assert len(found) == 1
    assert found[0].endswith(f":2: a dotted key has more than {MAX_KEY_PARTS} parts")


def test_the_shape_scan_skips_strings_and_comments() -> None:
    deep = "[" * 100 + "a." * 100
    text = (
        f'a = "{deep}\\" {deep}"\n'
        f"b = '{deep}'\n"
        f"# {deep}\n"
        f'c = """\n{deep}\n\\""" {deep}\n"""\n'
        f"d = '''\n{deep}'''\n"
        f'e = """x""""\n'
        f"f = {'[' * MAX_DEPTH}{']' * MAX_DEPTH}\n"
        f"{'a.' * (MAX_KEY_PARTS - 1)}a = 1.5\n"
    )
    assert shape_problem(text) is None
    assert shape_problem(text + f"g = {'[' * (MAX_DEPTH + 1)}") == (
        13,
        f"arrays or inline tables nest deeper than {MAX_DEPTH}",
    )


def test_a_50_mb_brief_is_refused_without_reading_it(tmp_path: Path) -> None:
    briefs = write(tmp_path, "")
    with (briefs / BRIEF).open("wb") as file:
        file.truncate(50 << 20)  # sparse: nothing is written to disk
    tracemalloc.start()
    try:
        found = both(briefs)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert found == [f"{briefs / BRIEF}: brief file is larger than the 1 MiB limit"]
    assert peak < 8 << 20, "at most the limit and a byte are read"


def test_a_brief_just_over_a_lowered_limit(
    brief_copy: Callable[..., Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    briefs = brief_copy()
    size = (briefs / BRIEF).stat().st_size
    monkeypatch.setattr(loading, "MAX_BRIEF_BYTES", size)
    assert problems_of(briefs) == []
    monkeypatch.setattr(loading, "MAX_BRIEF_BYTES", size - 1)
    assert both(briefs) == [
        f"{briefs / BRIEF}: brief file is larger than the {size - 1} bytes limit"
    ]


def test_a_zone_that_is_a_directory_is_an_unknown_zone(brief_copy: Callable[..., Path]) -> None:
    briefs = brief_copy(('time_zone = "Europe/Berlin"', 'time_zone = "Europe"'))
    found = both(briefs)
    assert len(found) == 1
    assert "events[0].time_zone: unknown time zone 'Europe'" in found[0]


@pytest.mark.parametrize(
    ("old", "new", "where", "shown"),
    [
        (
            "all_day = true\nstart = 2017-07-07\nend = 2017-07-08",
            "all_day = false\nstart = 0001-01-01T00:30:00\nend = 2017-07-08T00:00:00",
            "events[0].start",
            "0001-01-01T00:30:00",
        ),
        ("end = 2017-07-08", "end = 9999-12-31", "events[0].end", "9999-12-31"),
        ("start = 2017-07-07", "start = 1899-12-31", "events[0].start", "1899-12-31"),
        ("as_of = 2017-04-28", "as_of = 3000-01-01", "as_of", "3000-01-01"),
        ("value = 2017-04-27", "value = 0001-01-01", "summit.date.value", "0001-01-01"),
        ('when = "2017-06"', 'when = "9999"', "mous.follow_ups[1].when", "9999"),
    ],
)
def test_dates_outside_the_range_are_refused(
    brief_copy: Callable[..., Path], old: str, new: str, where: str, shown: str
) -> None:
    briefs = brief_copy((old, new))
    found = both(briefs)
    assert len(found) == 1
    assert f": {where}: {shown} is outside the dates a brief may give " in found[0]
    assert found[0].endswith("(1900-01-01 to 2999-12-31)")


def test_a_utf8_bom_is_accepted(brief_copy: Callable[..., Path]) -> None:
    briefs = brief_copy()
    path = briefs / BRIEF
    path.write_bytes(b"\xef\xbb\xbf" + path.read_bytes())
    assert problems_of(briefs) == []
    assert load_library(briefs).newest.id == "russia-japan-summit-2017"


def test_bytes_that_are_not_utf8(brief_copy: Callable[..., Path]) -> None:
    briefs = brief_copy()
    path = briefs / BRIEF
    data = path.read_bytes()
    path.write_bytes(data.replace(b"Putin", b"Put\xefn", 1))
    byte = data.index(b"Putin") + 4
    assert both(briefs) == [f"{path}: brief file is not UTF-8 text (byte {byte} cannot be read)"]


def test_a_nul_byte(brief_copy: Callable[..., Path]) -> None:
    briefs = brief_copy(('title = "', 'title = "\0'))
    found = both(briefs)
    assert found == [f"{briefs / BRIEF}:8: the file holds a NUL byte: it is not text"]


def test_a_directory_named_like_a_brief(brief_copy: Callable[..., Path]) -> None:
    briefs = brief_copy()
    (briefs / "notes.toml").mkdir()
    found = both(briefs)
    assert found == [f"{briefs / 'notes.toml'}: brief file is a directory, not a regular file"]


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="named pipes are POSIX")
def test_a_named_pipe_named_like_a_brief_does_not_hang(brief_copy: Callable[..., Path]) -> None:
    briefs = brief_copy()
    os.mkfifo(briefs / "pipe.toml")
    found = both(briefs)
    assert found == [f"{briefs / 'pipe.toml'}: brief file is a named pipe, not a regular file"]


def test_too_many_items_in_a_list(brief_copy: Callable[..., Path]) -> None:
    many = ", ".join(['"No breakthrough"'] * 1001)
    briefs = brief_copy(('"No breakthrough",', f"{many},"))
    found = both(briefs)
    assert len(found) == 1
    assert "summit.summary.quotes: list should have at most 1000 items" in found[0]


def test_too_long_a_string(brief_copy: Callable[..., Path]) -> None:
    briefs = brief_copy(('"No breakthrough",', f'"{"x" * 10_001}",'))
    found = both(briefs)
    assert len(found) == 1
    assert "summit.summary.quotes[1]: string should have at most 10000 characters" in found[0]


def test_a_flood_of_problems_is_cut_short(brief_copy: Callable[..., Path]) -> None:
    unknown = "\n".join(f"k{index} = 1" for index in range(200))
    briefs = brief_copy(("schema_version = 1\n", f"schema_version = 1\n{unknown}\n"))
    found = both(briefs)
    assert len(found) == loading.MAX_PROBLEMS + 1
    assert found[0].endswith(
        ":7: k0: unknown field (see docs/briefs.md for the fields a brief takes)"
    )
    assert found[-1] == f"{briefs / BRIEF}: and 150 more problems not listed"


def test_a_huge_schema_version_is_shown_short(brief_copy: Callable[..., Path]) -> None:
    briefs = brief_copy(("schema_version = 1", f'schema_version = "{"7" * 5000}"'))
    found = both(briefs)
    assert len(found) == 1
    assert len(found[0]) < 300
    assert "schema_version: unsupported schema version '777" in found[0]


@pytest.mark.parametrize(
    ("old", "new", "expected"),
    [
        (
            'time_zone = "Europe/Berlin"',
            f'time_zone = "{"Europe/" * 1000}"',
            "events[0].time_zone: string should have at most 64 characters",
        ),
        (
            'when = "2017-06"',
            f'when = "{"2017" * 2000}"',
            "mous.follow_ups[1].when: '201720172017...7201720172017' is not a date of the form",
        ),
    ],
)
def test_long_values_are_shown_short(
    brief_copy: Callable[..., Path], old: str, new: str, expected: str
) -> None:
    found = both(brief_copy((old, new)))
    assert len(found) == 1
    assert expected in found[0]
    assert len(found[0]) < 300
