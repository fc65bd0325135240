"""Channels named in the settings, kept in step with the ledger in a few statements."""

from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import event

from bot.delivery.ledger import Ledger, SubscriptionSource, SubscriptionState
from bot.delivery.subscriptions import sync_settings_channels

NOW = datetime(2017, 6, 30, tzinfo=UTC)


@pytest.fixture
def ledger(tmp_path: Path) -> Iterator[Ledger]:
    opened = Ledger.open(f"sqlite:///{tmp_path / 'ledger.sqlite3'}")
    yield opened
    opened.close()


def test_named_channels_are_subscribed_and_dropped_ones_forgotten(ledger: Ledger) -> None:
    ledger.subscribe("discord", "9", guild_id=None, source=SubscriptionSource.COMMAND, now=NOW)
    ledger.subscribe("discord", "3", guild_id=None, source=SubscriptionSource.SETTINGS, now=NOW)
    ledger.mark_broken("discord", "3", reason="gone", now=NOW)
    sync_settings_channels(ledger, "discord", ["1", "2", "3", "9"], NOW)
    states = {s.channel_id: (s.source, s.state) for s in ledger.subscriptions()}
    assert states == {
        "1": (SubscriptionSource.SETTINGS, SubscriptionState.ACTIVE),
        "2": (SubscriptionSource.SETTINGS, SubscriptionState.ACTIVE),
        "3": (SubscriptionSource.SETTINGS, SubscriptionState.BROKEN),  # stays broken
        "9": (SubscriptionSource.COMMAND, SubscriptionState.ACTIVE),
    }
    sync_settings_channels(ledger, "discord", ["2"], NOW)
    assert {s.channel_id for s in ledger.subscriptions()} == {"2", "9"}, "a command outlives"


def test_many_channels_take_a_few_statements_not_one_each(ledger: Ledger) -> None:
    """Counted, not timed: the statements sent to the database for 20,000 channels."""
    statements: list[str] = []
    engine = ledger._engine

    def count(*_: object) -> None:
        statements.append("")

    event.listen(engine, "before_cursor_execute", count)
    many = [str(n) for n in range(1, 20_001)]
    sync_settings_channels(ledger, "discord", many, NOW)
    first = len(statements)
    sync_settings_channels(ledger, "discord", many[:10_000], NOW)
    event.remove(engine, "before_cursor_execute", count)
    assert len(ledger.active_channels("discord")) == 10_000
    assert first < 100, first
    assert len(statements) - first < 100
