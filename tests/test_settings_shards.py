"""DISCORD_SHARD_COUNT and DISCORD_SHARD_IDS: read at load, and a bad pair is one clear line."""

import os
from pathlib import Path

import pytest

from bot.cli import main
from bot.settings import Settings, SettingsError


def load(**environ: str) -> Settings:
    """Settings from ``environ`` alone (no ``.env``)."""
    return Settings.load(environ, env_file=None)


def test_no_shard_setting_runs_what_discord_recommends() -> None:
    settings = load()
    assert settings.discord_shard_count is None
    assert settings.discord_shard_ids == ()


def test_shard_ids_take_ranges_and_lists() -> None:
    settings = load(DISCORD_SHARD_COUNT="8", DISCORD_SHARD_IDS="0-3,7")
    assert settings.discord_shard_count == 8
    assert settings.discord_shard_ids == (0, 1, 2, 3, 7)


def test_a_count_alone_runs_every_shard_of_it() -> None:
    settings = load(DISCORD_SHARD_COUNT="2")
    assert (settings.discord_shard_count, settings.discord_shard_ids) == (2, ())


@pytest.mark.parametrize(
    ("environ", "message"),
    [
        ({"DISCORD_SHARD_IDS": "0"}, "needs DISCORD_SHARD_COUNT"),
        (
            {"DISCORD_SHARD_COUNT": "2", "DISCORD_SHARD_IDS": "0,2"},
            "names shard 2, but DISCORD_SHARD_COUNT=2 makes the shards 0 to 1",
        ),
        ({"DISCORD_SHARD_COUNT": "0"}, "must be a whole number from 1 to"),
        ({"DISCORD_SHARD_COUNT": "2", "DISCORD_SHARD_IDS": "1-0"}, "is not a range"),
    ],
)
def test_a_bad_shard_setting_is_refused(environ: dict[str, str], message: str) -> None:
    with pytest.raises(SettingsError, match=message):
        load(**environ)


@pytest.fixture
def clean_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> pytest.MonkeyPatch:
    """No briefbot setting in the environment, no ``.env``, a private data directory."""
    for key in list(os.environ):
        if key.startswith(("BRIEFBOT_", "DISCORD_", "SLACK_", "REMINDER_", "DATABASE_URL")):
            monkeypatch.delenv(key)
    for key in ("BRIEFS_DIR", "LOG_LEVEL"):
        monkeypatch.delenv(key, raising=False)
    monkeypatch.setenv("DATA_DIR", str(tmp_path / "data"))
    monkeypatch.chdir(tmp_path)
    return monkeypatch


@pytest.mark.parametrize(
    ("environ", "message"),
    [
        (
            {"DISCORD_SHARD_IDS": "0-1"},
            "briefbot: setting DISCORD_SHARD_IDS: needs DISCORD_SHARD_COUNT, "
            "the number of shards in all\n",
        ),
        (
            {"DISCORD_SHARD_COUNT": "4", "DISCORD_SHARD_IDS": "2-4"},
            "briefbot: setting DISCORD_SHARD_IDS: names shard 4, but DISCORD_SHARD_COUNT=4 "
            "makes the shards 0 to 3\n",
        ),
    ],
)
def test_briefbot_check_refuses_in_one_line(
    clean_env: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    environ: dict[str, str],
    message: str,
) -> None:
    for name, value in environ.items():
        clean_env.setenv(name, value)
    assert main(["check"]) == 2
    out, err = capsys.readouterr()
    assert out == ""
    assert err == message
