"""Posts are recorded as sent in batches, each within half a second, and none is lost when the
ledger fails for a while."""

import asyncio
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from bot.delivery import recording
from bot.delivery.ledger import DeliveryKey, DeliveryState, Ledger, LedgerError
from bot.delivery.recording import SentRecorder

NOW = datetime(2026, 12, 1, 12, 0, tzinfo=UTC)
DUE = datetime(2017, 6, 30, 7, 0, tzinfo=UTC)


def claimed(ledger: Ledger, count: int) -> list[DeliveryKey]:
    keys = [DeliveryKey("g20-hamburg-2017:7d", "discord", str(10**17 + n)) for n in range(count)]
    ledger.claim_new(
        keys, event_id="g20", due_at=DUE, owner="me", now=NOW, lease=timedelta(seconds=30)
    )
    return keys


def test_posts_are_recorded_in_batches_and_every_one_by_the_flush(tmp_path: Path) -> None:
    ledger = Ledger.open(f"sqlite:///{tmp_path / 'ledger.sqlite3'}")
    keys = claimed(ledger, 120)
    batches: list[int] = []
    real = ledger.mark_sent_many

    def counted(sent: Sequence[tuple[DeliveryKey, str | None, bool, datetime]]) -> int:
        batches.append(len(sent))
        return real(sent)

    ledger.mark_sent_many = counted  # type: ignore[method-assign]
    recorder = SentRecorder(ledger, lambda: NOW)

    async def main() -> None:
        for n, key in enumerate(keys):
            await recorder.record(key, f"m{n}", late=False)
        assert recorder.waiting == 20
        await recorder.flush()

    try:
        asyncio.run(main())
        assert batches == [50, 50, 20]
        assert ledger.counts()[DeliveryState.SENT] == 120
        row = ledger.get(keys[7])
        assert row is not None
        assert (row.message_id, row.sent_at, row.lease_until) == ("m7", NOW, None)
    finally:
        ledger.close()


def test_a_ledger_that_fails_keeps_the_posts_for_the_next_try(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(recording, "RETRY_AFTER", 0.01)
    ledger = Ledger.open(f"sqlite:///{tmp_path / 'ledger.sqlite3'}")
    keys = claimed(ledger, 3)
    real = ledger.mark_sent_many
    failures = [LedgerError("the ledger at sqlite:///… failed: database is locked")]

    def flaky(sent: Sequence[tuple[DeliveryKey, str | None, bool, datetime]]) -> int:
        if failures:
            raise failures.pop()
        return real(sent)

    ledger.mark_sent_many = flaky  # type: ignore[method-assign]
    recorder = SentRecorder(ledger, lambda: NOW)

    async def main() -> None:
        for key in keys:
            await recorder.record(key, None, late=True)
        await recorder.flush()  # fails: kept, and tried again shortly
        assert recorder.waiting == 3
        async with asyncio.timeout(30):
            while ledger.counts()[DeliveryState.SENT] < 3:  # noqa: ASYNC110 (a timer records)
                await asyncio.sleep(0.01)

    try:
        asyncio.run(main())
        assert ledger.counts()[DeliveryState.SENT] == 3
    finally:
        ledger.close()
