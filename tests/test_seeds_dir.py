"""``SEEDS_DIR``: where ``briefbot check`` may read the articles briefs quote."""

import shutil
from pathlib import Path

import pytest

from bot.cli import main
from tests.conftest import BRIEF_FILE, SEEDS


def check(monkeypatch: pytest.MonkeyPatch, briefs: Path, seeds: Path | None) -> int:
    empty = briefs.parent / "empty.env"
    empty.write_text("", encoding="utf-8")
    monkeypatch.setenv("BRIEFS_DIR", str(briefs))
    if seeds is None:
        monkeypatch.delenv("SEEDS_DIR", raising=False)
    else:
        monkeypatch.setenv("SEEDS_DIR", str(seeds))
    return main(["--env-file", str(empty), "check"])


def test_a_configured_seeds_dir_is_where_seeds_may_be(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    briefs = tmp_path / "briefs"
    briefs.mkdir()
    articles = tmp_path / "articles"
    shutil.copytree(SEEDS, articles)
    text = BRIEF_FILE.read_text(encoding="utf-8").replace("../seeds/", "../articles/")
    (briefs / BRIEF_FILE.name).write_text(text, encoding="utf-8")

    assert check(monkeypatch, briefs, None) == 1, "articles/ is outside the default roots"
    assert "source.seed" in capsys.readouterr().out
    assert check(monkeypatch, briefs, articles) == 0
    assert "all good" in capsys.readouterr().err


def test_a_seeds_dir_that_is_not_a_directory_is_refused(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    briefs = tmp_path / "briefs"
    shutil.copytree(BRIEF_FILE.parent, briefs)
    assert check(monkeypatch, briefs, tmp_path / "nowhere") == 2
    assert "setting SEEDS_DIR" in capsys.readouterr().err
