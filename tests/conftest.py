"""Shared fixtures: the shipped brief, copies of it to break, and a clean environment."""

import os
import shutil
from collections.abc import Callable
from pathlib import Path

import pytest
from hypothesis import settings

from bot.core.library import Library
from bot.core.loading import load_library

# CI explores new examples on every run, from a seed it prints (.ci/run passes
# ``--hypothesis-seed``), within a bounded number of examples per test; a failure
# is replayed with that seed, or with the ``@reproduce_failure`` blob it prints.
settings.register_profile("ci", derandomize=False, max_examples=150, deadline=None, print_blob=True)
settings.register_profile("dev", deadline=None, print_blob=True)
settings.load_profile("ci" if os.environ.get("CI") == "true" else "dev")


ROOT = Path(__file__).resolve().parent.parent
BRIEFS = ROOT / "briefs"
SEEDS = ROOT / "seeds"
BRIEF_FILE = BRIEFS / "russia-japan-summit-2017.toml"


@pytest.fixture(scope="session")
def library() -> Library:
    """The briefs shipped with the project."""
    return load_library(BRIEFS)


@pytest.fixture
def brief_copy(tmp_path: Path) -> Callable[..., Path]:
    """Copy the shipped brief and its seed into a temporary tree, editing the brief's text.

    ``brief_copy(("old", "new"), ...)`` replaces each ``old`` once (it must be
    present) and returns the briefs directory.
    """

    def make(*edits: tuple[str, str], name: str = "russia-japan-summit-2017.toml") -> Path:
        briefs = tmp_path / "briefs"
        briefs.mkdir(exist_ok=True)
        seeds = tmp_path / "seeds"
        if not seeds.exists():
            shutil.copytree(SEEDS, seeds)
        text = BRIEF_FILE.read_text(encoding="utf-8")
        for old, new in edits:
            assert old in text, f"test setup: {old!r} is not in the shipped brief"
            text = text.replace(old, new, 1)
        (briefs / name).write_text(text, encoding="utf-8")
        return briefs

    return make
