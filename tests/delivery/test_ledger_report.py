"""``briefbot schedule``'s report from the ledger, and a delivery layer free of the settings."""

import subprocess
import sys
from collections.abc import Iterator
from datetime import UTC, datetime, time, timedelta
from pathlib import Path

import pytest

from bot.core.library import Library
from bot.core.reminders import parse_offsets
from bot.delivery.ledger import Ledger, SubscriptionSource
from bot.delivery.report import schedule_report
from bot.delivery.scheduler import Timing

ROOT = Path(__file__).resolve().parents[2]
NOW = datetime(2017, 7, 1, 9, 0, tzinfo=UTC)
TIMING = Timing(
    offsets=parse_offsets("1d"),
    all_day_at=time(9, 0),
    grace=timedelta(hours=6),
    lease=timedelta(minutes=2),
)


@pytest.fixture
def ledger(tmp_path: Path) -> Iterator[Ledger]:
    opened = Ledger.open(f"sqlite:///{tmp_path / 'ledger.sqlite3'}")
    yield opened
    opened.close()


def test_the_report_lists_active_and_named_channels_once(library: Library, ledger: Ledger) -> None:
    for channel in ("1", "2"):
        ledger.subscribe(
            "discord", channel, guild_id=None, source=SubscriptionSource.COMMAND, now=NOW
        )
    ledger.mark_broken("discord", "2", reason="403 Missing Access", now=NOW)
    ledger.set_warnings("discord", {"1": "missing Read Message History", "2": "missing View"})
    named = {"discord": ("1", "3"), "slack": ("C01",)}

    report = schedule_report(library, ledger, NOW, timing=TIMING, named=named)

    assert report.channels == ["discord:1", "discord:3", "slack:C01"]
    assert report.warnings == ["discord:1: missing Read Message History"]
    assert report.upcoming
    assert {r.offset.label for r in report.upcoming} == {"1d"}
    assert all(r.due_at > NOW for r in report.upcoming)
    assert report.to_json()["subscriptions"][1]["state"] == "broken"


def test_the_delivery_layer_imports_nothing_from_the_settings() -> None:
    probe = (
        "import sys\n"
        "import bot.delivery.ledger, bot.delivery.report, bot.delivery.scheduler\n"
        "import bot.delivery.subscriptions, bot.delivery.posting\n"
        "print(sorted(m for m in sys.modules if m == 'bot.settings' or m.startswith('bot.app')))"
    )
    done = subprocess.run(
        [sys.executable, "-c", probe], cwd=ROOT, capture_output=True, text=True, check=True
    )
    assert done.stdout.strip() == "[]"
