"""Reading typed commands, and the catalogue platforms build their menus from."""

import pytest

from bot.core.commands import COMMANDS, UsageError, parse
from bot.core.library import Library, choices
from bot.core.tomllines import LineIndex


def test_parse_options() -> None:
    invocation = parse('/mous area:"resource exploration" brief:russia-japan-summit-2017')
    assert invocation.command == "mous"
    assert invocation.options == {
        "area": "resource exploration",
        "brief": "russia-japan-summit-2017",
    }
    assert str(invocation) == "/mous area:'resource exploration' brief:russia-japan-summit-2017"


@pytest.mark.parametrize(
    ("typed", "hint"),
    [
        ("/weather", "unknown command /weather; the commands are /summit, /mous, /next-meeting"),
        ("summit", "commands start with a slash: try /summit"),
        ("/mous energy", "options are written name:value, e.g. /mous area:..."),
        ("/mous colour:red", "/mous has no option 'colour'; it takes: brief, area"),
        ("/summit area:energy", "/summit has no option 'area'; it takes: brief"),
        ("/mous area:", "option area needs a value"),
        ("/mous area:a area:b", "option area is given twice"),
        ('/mous area:"energy', "cannot read"),
        ("   ", "type a command"),
    ],
)
def test_mistakes_get_a_hint(typed: str, hint: str) -> None:
    with pytest.raises(UsageError, match=None) as caught:
        parse(typed)
    assert hint in str(caught.value)


def test_command_names_are_unique_and_short() -> None:
    names = [spec.name for spec in COMMANDS]
    assert len(names) == len(set(names))
    assert names == ["summit", "mous", "next-meeting", "ask"]
    for spec in COMMANDS:
        assert 1 <= len(spec.description) <= 100, "Discord allows 100 characters"
        for option in spec.options:
            assert 1 <= len(option.description) <= 100


def test_choices_for_autocomplete(library: Library) -> None:
    assert choices(library, "area", "en") == ["energy"]
    assert choices(library, "area", "")[:2] == ["fisheries", "energy"]
    assert choices(library, "area", "care") == ["healthcare"]
    assert choices(library, "brief", "russ") == ["russia-japan-summit-2017"]
    assert choices(library, "colour", "") == []


def test_line_index_places_nested_fields() -> None:
    text = "\n".join(
        [
            "a = 1",
            "[[events]]",
            'id = "x"',
            "quotes = [",
            '    "one",',
            '    "two",',
            "]",
            "[[events.external]]",
            'title = "t"',
            "[[events]]",
            'id = "y"',
        ]
    )
    lines = LineIndex(text)
    assert lines.line_of("a") == 1
    assert lines.line_of("events[0].quotes[1]") == 6
    assert lines.line_of("events[0].external[0].title") == 9
    assert lines.line_of("events[1].id") == 11
    assert lines.line_of("events[1].place") == 10  # missing: its table's header
    assert lines.line_of("nowhere") is None
