"""The reminders listing: built once, shown by Discord and Slack each in their own way."""

from collections.abc import Iterator
from datetime import UTC, datetime, time, timedelta
from pathlib import Path

import pytest

from bot.core.library import Library
from bot.core.plaintext import render
from bot.core.reminders import parse_offsets, plan
from bot.delivery.ledger import DeliveryKey, Ledger, SubscriptionSource
from bot.delivery.listing import reminders_reply
from bot.platforms.discord.embeds import reply_embeds
from bot.platforms.slack.blocks import reply_blocks

NOW = datetime(2017, 6, 30, 7, 0, tzinfo=UTC)


@pytest.fixture
def ledger(tmp_path: Path) -> Iterator[Ledger]:
    opened = Ledger.open(f"sqlite:///{tmp_path / 'ledger.sqlite3'}")
    yield opened
    opened.close()


def test_one_listing_three_renderings(library: Library, ledger: Ledger) -> None:
    for channel, source in (
        ("101", SubscriptionSource.COMMAND),
        ("102", SubscriptionSource.SETTINGS),
    ):
        ledger.subscribe("discord", channel, guild_id="1", source=source, now=NOW)
    ledger.mark_broken("discord", "102", reason="the channel is gone (404)", now=NOW)
    ledger.set_warning("discord", "101", "no Read Message History")
    key = DeliveryKey("g20-hamburg-2017:7d", "discord", "101")
    ledger.claim(
        key, event_id="g20-hamburg-2017", due_at=NOW, owner="a", now=NOW, lease=timedelta(minutes=2)
    )
    ledger.mark_sent(key, now=NOW, message_id="m1", late=True)
    reminders = plan(library, parse_offsets("7d,1d,1h"), time(9))
    ahead = [r for r in reminders if r.due_at > NOW]
    reply = reminders_reply(library, ahead, ledger.subscriptions(), ledger.deliveries())

    text = render(reply)
    assert "discord:101 · active · ⚠ no Read Message History" in text
    assert "discord:102 · broken: the channel is gone (404) (from the settings)" in text
    assert "G20 leaders’ summit · 1d before" in text
    assert "1 channel(s) get reminders" in text
    assert "G20 leaders’ summit, 7d before → discord:101 · sent (late)" in text
    assert "g20-hamburg-2017" not in text, "no internal id shown"

    embedded = " ".join(str(field.value) for embed in reply_embeds(reply) for field in embed.fields)
    assert "<#101> · active" in embedded
    assert "<t:" in embedded, "Discord shows each due time in the reader's own zone"
    blocks = str(reply_blocks(reply))
    assert "discord:101" in blocks, "Slack links only its own channels"
    assert "<!date^" in blocks
