"""Where ``briefbot check`` reads a seed from: inside the allowed roots, regular, bounded."""

import os
import shutil
from collections.abc import Callable
from pathlib import Path

import pytest

from bot.core import seeds
from bot.core.loading import check_briefs, load_library

SEED = "../seeds/russia-japan-summit-2017.txt"
TXT = "russia-japan-summit-2017.txt"
ATTRIBUTION = "russia-japan-summit-2017.source.toml"


def seed_problem(briefs: Path, seeds_dir: Path | None = None) -> str:
    """The one problem ``check_briefs`` finds, which must be about ``source.seed``."""
    _, problems = check_briefs(briefs, seeds_dir=seeds_dir)
    assert len(problems) == 1, problems
    assert problems[0].field == "source.seed"
    assert problems[0].line == 12
    return problems[0].message


@pytest.mark.parametrize("seed", ["/etc/passwd", "../../../../../../../../etc/passwd"])
def test_a_seed_outside_the_roots_is_refused(brief_copy: Callable[..., Path], seed: str) -> None:
    briefs = brief_copy((SEED, seed))
    message = seed_problem(briefs)
    assert message.startswith("/etc/passwd is outside the allowed seed locations (")
    assert str(briefs) in message
    assert str(briefs.parent / "seeds") in message
    assert load_library(briefs).newest.source.seed == seed, "the bot itself reads no seed"


def test_dev_zero_is_refused_without_reading_it(brief_copy: Callable[..., Path]) -> None:
    briefs = brief_copy((SEED, "/dev/zero"))
    assert "/dev/zero is outside the allowed seed locations" in seed_problem(briefs)
    if Path("/dev/zero").exists():
        message = seed_problem(briefs, seeds_dir=Path("/dev"))
        assert message == "seed file /dev/zero is a device, not a regular file"


def test_a_symlink_leading_out_is_refused(brief_copy: Callable[..., Path], tmp_path: Path) -> None:
    briefs = brief_copy()
    outside = tmp_path / "elsewhere"
    outside.mkdir()
    seed = tmp_path / "seeds" / TXT
    shutil.move(seed, outside / TXT)
    seed.symlink_to(outside / TXT)
    assert seed_problem(briefs).startswith(f"{outside / TXT} is outside the allowed seed locations")


def test_a_symlink_within_the_roots_is_followed(
    brief_copy: Callable[..., Path], tmp_path: Path
) -> None:
    briefs = brief_copy((SEED, "articles/article.txt"))
    (briefs / "articles").mkdir()
    (briefs / "articles" / "article.txt").symlink_to(tmp_path / "seeds" / TXT)
    (briefs / "articles" / "article.source.toml").symlink_to(tmp_path / "seeds" / ATTRIBUTION)
    _, problems = check_briefs(briefs)
    assert problems == []


def test_an_attribution_symlink_leading_out_is_refused(
    brief_copy: Callable[..., Path], tmp_path: Path
) -> None:
    briefs = brief_copy()
    about = tmp_path / "seeds" / ATTRIBUTION
    shutil.move(about, tmp_path / ATTRIBUTION)
    about.symlink_to(tmp_path / ATTRIBUTION)
    message = seed_problem(briefs)
    assert message.startswith(f"{tmp_path / ATTRIBUTION} is outside the allowed seed locations")


def test_a_seed_under_the_briefs_directory(brief_copy: Callable[..., Path], tmp_path: Path) -> None:
    briefs = brief_copy((SEED, f"articles/{TXT}"))
    shutil.move(tmp_path / "seeds", briefs / "articles")
    _, problems = check_briefs(briefs)
    assert problems == []


def test_seeds_dir_names_another_root(brief_copy: Callable[..., Path], tmp_path: Path) -> None:
    briefs = brief_copy((SEED, f"../articles/{TXT}"))
    shutil.move(tmp_path / "seeds", tmp_path / "articles")
    assert "is outside the allowed seed locations" in seed_problem(briefs)
    _, problems = check_briefs(briefs, seeds_dir=tmp_path / "articles")
    assert problems == []


def test_a_seed_over_the_size_limit(
    brief_copy: Callable[..., Path], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    briefs = brief_copy()
    size = (tmp_path / "seeds" / TXT).stat().st_size
    monkeypatch.setattr(seeds, "MAX_SEED_BYTES", size)
    assert check_briefs(briefs)[1] == []
    monkeypatch.setattr(seeds, "MAX_SEED_BYTES", size - 1)
    message = seed_problem(briefs)
    assert message == (
        f"seed file {tmp_path / 'seeds' / TXT} is larger than the {size - 1} bytes limit"
    )


def test_a_50_mb_seed_is_refused(brief_copy: Callable[..., Path], tmp_path: Path) -> None:
    briefs = brief_copy()
    with (tmp_path / "seeds" / TXT).open("wb") as file:
        file.truncate(50 << 20)  # sparse
    assert seed_problem(briefs).endswith(" is larger than the 4 MiB limit")


def test_an_attribution_over_the_size_limit(
    brief_copy: Callable[..., Path], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    briefs = brief_copy()
    monkeypatch.setattr(seeds, "MAX_ATTRIBUTION_BYTES", 100)
    message = seed_problem(briefs)
    about = tmp_path / "seeds" / ATTRIBUTION
    assert message == f"attribution file {about} is larger than the 100 bytes limit"


def test_a_deeply_nested_attribution(brief_copy: Callable[..., Path], tmp_path: Path) -> None:
    briefs = brief_copy()
    about = tmp_path / "seeds" / ATTRIBUTION
    about.write_text("x = " + "[" * 100 + "]" * 100, encoding="utf-8")
    message = seed_problem(briefs)
    assert message == f"cannot read {about}:1: arrays or inline tables nest deeper than 32"


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="named pipes are POSIX")
def test_a_named_pipe_as_seed_does_not_hang(
    brief_copy: Callable[..., Path], tmp_path: Path
) -> None:
    briefs = brief_copy((SEED, "../seeds/pipe.txt"))
    os.mkfifo(tmp_path / "seeds" / "pipe.txt")
    message = seed_problem(briefs)
    assert (
        message
        == f"seed file {tmp_path / 'seeds' / 'pipe.txt'} is a named pipe, not a regular file"
    )
