"""DISCORD_SCHEDULED_EVENTS: off by default, on/off (true/false, 1/0), anything else one line."""

import pytest

from bot.settings import Settings, SettingsError


def load(**environ: str) -> Settings:
    """Settings from ``environ`` alone (no ``.env``)."""
    return Settings.load(environ, env_file=None)


def test_scheduled_events_are_off_by_default() -> None:
    assert load().discord_scheduled_events is False


@pytest.mark.parametrize(
    ("value", "expected"),
    [("on", True), ("ON", True), ("true", True), ("1", True), ("off", False), ("False", False)],
)
def test_scheduled_events_are_switched_on_or_off(value: str, expected: bool) -> None:
    assert load(DISCORD_SCHEDULED_EVENTS=value).discord_scheduled_events is expected


@pytest.mark.parametrize("value", ["yes", "2", "onn", "ｏｎ"])
def test_anything_else_is_refused_in_one_line(value: str) -> None:
    with pytest.raises(SettingsError) as refused:
        load(DISCORD_SCHEDULED_EVENTS=value)
    message = str(refused.value)
    assert message.startswith(
        "setting DISCORD_SCHEDULED_EVENTS (from the environment): must be on or off"
    )
    assert "\n" not in message
