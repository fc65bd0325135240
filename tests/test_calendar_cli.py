"""``briefbot calendar``: the feed on standard output or in a file, ahead of "now" or all."""

import contextlib
import logging
import os
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import pytest
from icalendar import Calendar

from bot import cli, log
from bot.core.calendar import calendar_bytes
from bot.core.library import Library
from tests.conftest import ROOT

SETTINGS_PREFIXES = ("BRIEFBOT_", "DISCORD_", "SLACK_", "BRIEFS_DIR", "DATA_DIR", "LOG_LEVEL")
G20 = "g20-hamburg-2017@russia-japan-summit-2017.briefbot"
EEF = "eastern-economic-forum-2017@russia-japan-summit-2017.briefbot"


@dataclass
class Done:
    returncode: int
    stdout: bytes
    stderr: str


Briefbot = Callable[..., Done]


@contextlib.contextmanager
def restored_logging() -> Iterator[None]:
    """Undo the logging set-up ``main()`` does."""
    root = logging.getLogger()
    handlers, level = root.handlers[:], root.level
    quiet = {name: logging.getLogger(name).level for name in log.QUIET_LIBRARIES}
    try:
        yield
    finally:
        root.handlers[:] = handlers
        root.setLevel(level)
        for name, old in quiet.items():
            logging.getLogger(name).setLevel(old)


@pytest.fixture
def briefbot(
    monkeypatch: pytest.MonkeyPatch, capfdbinary: pytest.CaptureFixture[bytes], tmp_path: Path
) -> Briefbot:
    """``bot.cli.main`` in this process, with a clean environment and a private data directory."""

    def run(*args: str, env: dict[str, str] | None = None) -> Done:
        with restored_logging(), monkeypatch.context() as patch:
            for key in list(os.environ):
                if key.startswith(SETTINGS_PREFIXES):
                    patch.delenv(key)
            for key, value in {"DATA_DIR": str(tmp_path / "data"), **(env or {})}.items():
                patch.setenv(key, value)
            patch.chdir(ROOT)
            capfdbinary.readouterr()
            try:
                status = cli.main(list(args))
            except SystemExit as leaving:  # argparse: a usage error
                status = leaving.code if isinstance(leaving.code, int) else 1
            out, err = capfdbinary.readouterr()
        return Done(status, out, err.decode())

    return run


def uids(body: bytes) -> list[str]:
    return [str(event["UID"]) for event in Calendar.from_ical(body).walk("VEVENT")]


def test_writes_the_events_ahead_to_standard_output(briefbot: Briefbot, library: Library) -> None:
    done = briefbot("calendar", "--as-of", "2017-08-01")
    assert done.returncode == 0, done.stderr
    assert uids(done.stdout) == [EEF]  # the G20 is over by August
    assert done.stdout == calendar_bytes(
        library, datetime(2017, 8, 1, tzinfo=UTC), all_events=False
    )


def test_all_writes_past_events_too(briefbot: Briefbot) -> None:
    done = briefbot("calendar", "--all", "--as-of", "2019-01-01")
    assert done.returncode == 0, done.stderr
    assert uids(done.stdout) == [G20, EEF]
    ahead = briefbot("calendar", "--as-of", "2019-01-01")
    assert ahead.returncode == 0, ahead.stderr
    assert uids(ahead.stdout) == []
    assert b"X-BRIEFBOT-LEFT-OUT" in ahead.stdout


def test_the_clock_comes_from_the_environment_too(briefbot: Briefbot) -> None:
    done = briefbot("calendar", env={"BRIEFBOT_AS_OF": "2017-04-28"})
    assert uids(done.stdout) == [G20, EEF]


def test_writes_a_file_and_says_so(briefbot: Briefbot, tmp_path: Path) -> None:
    out = tmp_path / "briefbot.ics"
    done = briefbot("calendar", "--out", str(out), "--as-of", "2017-04-28")
    assert done.returncode == 0, done.stderr
    assert done.stdout == b""
    assert done.stderr.strip() == f"wrote 2 events ahead of 2017-04-28 00:00 UTC to {out}"
    first = out.read_bytes()
    assert uids(first) == [G20, EEF]
    again = briefbot("calendar", "--out", str(out), "--as-of", "2017-04-28")
    assert again.returncode == 0, again.stderr
    assert out.read_bytes() == first  # the same bytes again


def test_a_directory_is_refused_with_one_line(briefbot: Briefbot, tmp_path: Path) -> None:
    done = briefbot("calendar", "--out", str(tmp_path))
    assert done.returncode == 2
    assert done.stderr == (
        f"briefbot: --out: {tmp_path} is a directory; name a file, e.g. briefbot.ics\n"
    )
    assert done.stdout == b""


@pytest.mark.parametrize(
    ("where", "reason"),
    [
        ("missing/briefbot.ics", "No such file or directory"),
        ("a-file/briefbot.ics", "Not a directory"),
    ],
)
def test_an_unwritable_path_is_one_line(
    briefbot: Briefbot, tmp_path: Path, where: str, reason: str
) -> None:
    (tmp_path / "a-file").write_text("not a directory")
    out = tmp_path / where
    done = briefbot("calendar", "--out", str(out))
    assert done.returncode == 1
    assert done.stderr == f"briefbot: --out: cannot write {out}: {reason}\n"
    assert "Traceback" not in done.stderr
    assert not out.exists()
