"""Options given before the command's name are kept; a reader that goes away ends quietly."""

import subprocess
import sys
from pathlib import Path

import pytest

from bot.cli import main


@pytest.fixture
def clean_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Path:
    for name in ("BRIEFBOT_AS_OF", "BRIEFBOT_SPEED", "BRIEFS_DIR", "DISCORD_TOKEN"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("DATA_DIR", str(tmp_path / "data"))
    monkeypatch.chdir(tmp_path)
    return tmp_path


@pytest.mark.parametrize(
    ("argv", "countdown"),
    [
        (["--as-of", "2017-04-28", "ask", "/next-meeting"], "in 2 months"),
        (["ask", "/next-meeting", "--as-of", "2017-04-28"], "in 2 months"),
        (["--as-of", "2017-04-28", "ask", "/next-meeting", "--as-of", "2017-07-01"], "in 6 days"),
    ],
)
def test_as_of_before_or_after_the_command(
    clean_env: Path, capsys: pytest.CaptureFixture[str], argv: list[str], countdown: str
) -> None:
    assert main(argv) == 0
    assert f"7–8 July 2017, {countdown}" in capsys.readouterr().out


def test_env_file_before_the_command_is_read(
    clean_env: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    settings = clean_env / "pinned.env"
    settings.write_text("BRIEFBOT_AS_OF=2017-07-01\n", encoding="utf-8")
    assert main(["--env-file", str(settings), "ask", "/next-meeting"]) == 0
    assert "7–8 July 2017, in 6 days" in capsys.readouterr().out


def test_a_reader_that_goes_away_gets_no_traceback(clean_env: Path) -> None:
    command = [sys.executable, "-m", "bot", "ask", "/mous", "--as-of", "2017-04-28"]
    with subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE) as child:
        assert child.stdout is not None
        child.stdout.close()  # like `| head -0`: the reader is gone before the answer
        _, err = child.communicate(timeout=60)
    assert b"Traceback" not in err, err.decode()
    assert b"Exception ignored" not in err, err.decode()
    assert child.returncode == 1
