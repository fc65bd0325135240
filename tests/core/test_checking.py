"""Checking broken briefs: each problem is named with its file, line and field."""

from collections.abc import Callable
from pathlib import Path

import pytest

from bot.core.loading import check_briefs, load_library
from bot.core.problems import BriefsInvalid
from tests.conftest import BRIEF_FILE, BRIEFS


def line_of(text: str, briefs: Path) -> int:
    """The 1-based line of the first occurrence of ``text`` in the copied brief."""
    content = (briefs / "russia-japan-summit-2017.toml").read_text(encoding="utf-8")
    before = content[: content.index(text)]
    return before.count("\n") + 1


def messages(briefs: Path) -> list[str]:
    _, problems = check_briefs(briefs)
    return [str(problem) for problem in problems]


def test_shipped_brief_passes() -> None:
    count, problems = check_briefs(BRIEFS)
    assert count == 1
    assert problems == []


def test_quote_not_in_seed(brief_copy: Callable[..., Path]) -> None:
    briefs = brief_copy(('"cooperation over energy",', '"cooperation over nuclear energy",'))
    found = messages(briefs)
    line = line_of('"cooperation over nuclear energy"', briefs)
    assert len(found) == 1
    assert found[0].endswith(
        f"russia-japan-summit-2017.toml:{line}: mous.areas[1].quotes[0]: "
        "quote not found in " + str(briefs.parent / "seeds" / "russia-japan-summit-2017.txt")
    ) or found[0].endswith("quote not found in " + "seeds/russia-japan-summit-2017.txt")
    assert f":{line}: mous.areas[1].quotes[0]: quote not found in" in found[0]


def test_quote_folds_whitespace_and_typographic_quotes(brief_copy: Callable[..., Path]) -> None:
    briefs = brief_copy(
        (
            '"had the most ‘business as usual’ of bilateral summits",',
            "\"had   the most 'business as usual'\\nof bilateral summits\",",
        )
    )
    assert messages(briefs) == []


def test_boilerplate_is_not_evidence(brief_copy: Callable[..., Path]) -> None:
    briefs = brief_copy(
        ('"No breakthrough",', '"This website uses cookies. Click here to find out more.",')
    )
    found = messages(briefs)
    assert len(found) == 1
    assert "summit.summary.quotes[1]: quote is site boilerplate in" in found[0]


def test_photo_caption_is_not_evidence(brief_copy: Callable[..., Path]) -> None:
    caption = "attend a media briefing following their meeting at the Kremlin"
    briefs = brief_copy(('"No breakthrough",', f'"{caption}",'))
    assert any("site boilerplate" in message for message in messages(briefs))


def test_syntax_error_names_the_line(brief_copy: Callable[..., Path]) -> None:
    briefs = brief_copy(('id = "energy"', 'id = "energy'))
    found = messages(briefs)
    line = line_of('id = "energy', briefs)
    assert len(found) == 1
    assert f"russia-japan-summit-2017.toml:{line}: TOML syntax error:" in found[0]


def test_missing_field(brief_copy: Callable[..., Path]) -> None:
    briefs = brief_copy(('place = "Hamburg, Germany"\n', ""))
    found = messages(briefs)
    line = line_of('id = "g20-hamburg-2017"', briefs)
    assert found == [
        f"{found[0].split(':', 1)[0]}:{line - 1}: events[0].place: missing required field"
    ] or (len(found) == 1 and "events[0].place: missing required field" in found[0])


def test_bad_time_zone(brief_copy: Callable[..., Path]) -> None:
    briefs = brief_copy(('time_zone = "Europe/Berlin"', 'time_zone = "Europe/Hamberg"'))
    found = messages(briefs)
    line = line_of('time_zone = "Europe/Hamberg"', briefs)
    assert len(found) == 1
    assert f":{line}: events[0].time_zone: unknown time zone 'Europe/Hamberg'" in found[0]


def test_end_before_start(brief_copy: Callable[..., Path]) -> None:
    briefs = brief_copy(("end = 2017-07-08", "end = 2017-07-06"))
    found = messages(briefs)
    assert len(found) == 1
    assert "events[0]: end (2017-07-06) is before start (2017-07-07)" in found[0]
    line = line_of('id = "g20-hamburg-2017"', briefs) - 1  # the [[events]] header
    assert f":{line}: events[0]:" in found[0]


def test_invalid_date(brief_copy: Callable[..., Path]) -> None:
    briefs = brief_copy(('when = "2017-06"', 'when = "2017-13"'))
    found = messages(briefs)
    assert len(found) == 1
    assert "mous.follow_ups[1].when:" in found[0]
    assert "2017-13" in found[0]


def test_duplicate_id(brief_copy: Callable[..., Path]) -> None:
    briefs = brief_copy(('id = "healthcare"', 'id = "energy"'))
    found = messages(briefs)
    line = line_of('id = "energy"\nname = "Healthcare"', briefs)
    assert len(found) == 1
    assert f":{line}: mous.areas[4].id: duplicate id 'energy'" in found[0]


def test_duplicate_ids_across_briefs(brief_copy: Callable[..., Path]) -> None:
    brief_copy()
    briefs = brief_copy(name="copy.toml")
    found = messages(briefs)
    assert any("id: brief id 'russia-japan-summit-2017' is also used by" in m for m in found)
    assert any("event id 'g20-hamburg-2017' is also used in" in m for m in found)


def test_missing_seed(brief_copy: Callable[..., Path]) -> None:
    briefs = brief_copy(("../seeds/russia-japan-summit-2017.txt", "../seeds/missing.txt"))
    found = messages(briefs)
    assert len(found) == 1
    assert "source.seed: seed file" in found[0]
    assert "missing.txt does not exist" in found[0]


def test_fact_without_evidence(brief_copy: Callable[..., Path]) -> None:
    note = '"even if not all the MoUs reach a fully-fledged implementation stage later on",'
    briefs = brief_copy((f"quotes = [\n    {note}\n]", "quotes = []"))
    found = messages(briefs)
    assert len(found) == 1
    assert "mous.note: this fact cites no evidence: add quotes or an external reference" in found[0]


def test_unknown_schema_version(brief_copy: Callable[..., Path]) -> None:
    briefs = brief_copy(("schema_version = 1", "schema_version = 7"))
    found = messages(briefs)
    assert len(found) == 1
    assert ":6: schema_version: unsupported schema version 7; this briefbot reads 1" in found[0]


def test_timed_event_in_a_dst_gap(brief_copy: Callable[..., Path]) -> None:
    briefs = brief_copy(
        (
            "all_day = true\nstart = 2017-07-07\nend = 2017-07-08",
            "all_day = false\nstart = 2017-03-26T02:30:00\nend = 2017-03-26T04:00:00",
        )
    )
    found = messages(briefs)
    assert len(found) == 1
    assert "does not exist in Europe/Berlin" in found[0]


def test_load_library_refuses_a_broken_brief(brief_copy: Callable[..., Path]) -> None:
    briefs = brief_copy(('time_zone = "Europe/Berlin"', 'time_zone = "Mars/Olympus"'))
    with pytest.raises(BriefsInvalid) as caught:
        load_library(briefs)
    assert "events[0].time_zone: unknown time zone 'Mars/Olympus'" in str(caught.value)


def test_empty_directory(tmp_path: Path) -> None:
    count, problems = check_briefs(tmp_path)
    assert count == 0
    assert [problem.message for problem in problems] == [
        "no briefs (*.toml files) in this directory"
    ]


def test_every_fact_in_the_shipped_brief_has_evidence() -> None:
    """A reader can trace every fact: quotes, or an external reference with a reason."""
    from bot.core.loading import evidenced, read_brief

    brief, problems = read_brief(BRIEF_FILE)
    assert brief is not None
    assert problems == []
    facts = list(evidenced(brief))
    assert len(facts) >= 25
    for where, fact in facts:
        assert fact.quotes or fact.external, where
        for ref in fact.external:
            assert ref.reason, where
