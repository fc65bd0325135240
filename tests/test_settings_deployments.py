"""Settings for running several processes: a deployment's name and channel ids from a file."""

import os
from pathlib import Path

import pytest

from bot.settings import Settings, SettingsError


def load(**environ: str) -> Settings:
    return Settings.load(environ=environ, env_file=None)


def refusal(**environ: str) -> str:
    with pytest.raises(SettingsError) as caught:
        load(**environ)
    message = str(caught.value)
    assert "\n" not in message
    assert "Traceback" not in message
    return message


def test_channel_ids_come_from_a_file_and_the_list_together(tmp_path: Path) -> None:
    listed = tmp_path / "channels.txt"
    listed.write_text(
        "\ufeff# the news desks\n"
        "1300000000000000001, 1300000000000000002\n"
        "\n"
        "1300000000000000003 1300000000000000001  # again: kept once\n"
        "  01300000000000000004\n",
        encoding="utf-8",
    )
    settings = load(
        REMINDER_CHANNEL_IDS="1300000000000000009,1300000000000000002",
        REMINDER_CHANNEL_IDS_FILE=str(listed),
    )
    assert settings.discord_channels == (
        "1300000000000000009",
        "1300000000000000002",
        "1300000000000000001",
        "1300000000000000003",
        "1300000000000000004",  # written without its leading zero
    )


def test_fifty_thousand_channels_fit_in_a_file(tmp_path: Path) -> None:
    listed = tmp_path / "channels.txt"
    ids = [str(10**17 + n) for n in range(50_000)]
    listed.write_text("\n".join(ids), encoding="ascii")
    assert load(REMINDER_CHANNEL_IDS_FILE=str(listed)).discord_channels == tuple(ids)


def test_a_bad_id_in_the_file_is_named_with_its_line(tmp_path: Path) -> None:
    listed = tmp_path / "channels.txt"
    listed.write_text("1300000000000000001\n# fine\n13000x\n", encoding="utf-8")
    message = refusal(REMINDER_CHANNEL_IDS_FILE=str(listed))
    assert message.startswith("setting REMINDER_CHANNEL_IDS_FILE")
    assert "line 3" in message
    assert "13000x" in message


def test_a_file_that_cannot_be_used_is_refused_in_one_line(tmp_path: Path) -> None:
    assert "cannot be read" in refusal(REMINDER_CHANNEL_IDS_FILE=str(tmp_path / "absent"))
    assert "not a regular file" in refusal(REMINDER_CHANNEL_IDS_FILE=str(tmp_path))
    big = tmp_path / "big.txt"
    with big.open("wb") as file:
        file.truncate(16 * 1024 * 1024 + 1)
    assert "larger than 16 MiB" in refusal(REMINDER_CHANNEL_IDS_FILE=str(big))
    latin = tmp_path / "latin.txt"
    latin.write_bytes(b"13\xe900\n")
    assert "not UTF-8" in refusal(REMINDER_CHANNEL_IDS_FILE=str(latin))


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="no FIFOs here")
def test_a_fifo_is_refused_without_waiting_for_a_writer(tmp_path: Path) -> None:
    fifo = tmp_path / "fifo"
    os.mkfifo(fifo)
    assert "not a regular file" in refusal(REMINDER_CHANNEL_IDS_FILE=str(fifo))


def test_slack_channel_ids_from_a_file_need_the_slack_token(tmp_path: Path) -> None:
    listed = tmp_path / "slack.txt"
    listed.write_text("C0123456789\n", encoding="utf-8")
    message = refusal(SLACK_REMINDER_CHANNEL_IDS_FILE=str(listed))
    assert message.startswith("setting SLACK_BOT_TOKEN")
    assert "SLACK_REMINDER_CHANNEL_IDS_FILE" in message


def test_a_deployment_has_a_name_of_its_own() -> None:
    assert load().instance == "default"
    assert load(BRIEFBOT_INSTANCE="eu-west.2").instance == "eu-west.2"
    for bad in ("-x", "a b", "x" * 65, "ünï"):
        assert refusal(BRIEFBOT_INSTANCE=bad).startswith("setting BRIEFBOT_INSTANCE")
