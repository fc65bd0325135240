"""The ledger's copies of brief events in guilds' scheduled events, on SQLite and PostgreSQL."""

from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import inspect

from bot.delivery.ledger import Ledger, MirroredEvent, MirrorState
from bot.delivery.ledger.schema import head_revision
from tests.delivery.test_ledger import Backend, backend, ledger, postgres_admin

__all__ = ["backend", "ledger", "postgres_admin"]  # fixtures: each test on SQLite and PostgreSQL

NOW = datetime(2017, 7, 1, 9, 0, tzinfo=UTC)
LEASE = timedelta(minutes=1)
GUILD = "1300000000000000001"
G20 = "g20-hamburg-2017@russia-japan-summit-2017.briefbot"


def _claim(ledger: Ledger, owner: str = "a", at: datetime = NOW, key: str = G20) -> bool:
    return ledger.claim_mirror("discord", GUILD, key, owner=owner, now=at, lease=LEASE)


def _record(ledger: Ledger, remote: str = "900", fingerprint: str = "f1") -> None:
    ledger.record_mirror(
        "discord", GUILD, G20, remote_id=remote, fingerprint=fingerprint, sequence=42851, now=NOW
    )


def test_the_table_is_created_by_the_newest_revision(backend: Backend, ledger: Ledger) -> None:
    assert ledger.schema_revision() == head_revision() == "0003"
    engine = backend.raw_engine()
    try:
        columns = {c["name"]: c["nullable"] for c in inspect(engine).get_columns("mirrored_events")}
    finally:
        engine.dispose()
    assert columns == {c.name: c.nullable for c in MirroredEvent.__table__.columns}


def test_a_copy_is_claimed_once_then_recorded(ledger: Ledger) -> None:
    assert _claim(ledger, "a")
    assert not _claim(ledger, "b")  # a live claim of another owner
    assert _claim(ledger, "a")  # its own owner, again (a retry within one sync)
    _record(ledger)
    assert not _claim(ledger, "a")  # scheduled: never created again
    [row] = ledger.mirrored_events("discord", GUILD)
    assert (row.state, row.remote_id, row.fingerprint, row.owner) == (
        MirrorState.SCHEDULED,
        "900",
        "f1",
        None,
    )
    assert ledger.mirrored_events("discord", "1300000000000000002") == []
    assert ledger.mirrored_events("slack", GUILD) == []


def test_an_unfinished_creation_is_taken_over_once_its_lease_ran_out(ledger: Ledger) -> None:
    assert _claim(ledger, "crashed")
    assert not _claim(ledger, "b", NOW + LEASE / 2)
    assert _claim(ledger, "b", NOW + LEASE)
    assert not _claim(ledger, "c", NOW + LEASE)


def test_a_cancelled_copy_may_be_made_again_but_a_deleted_one_not(ledger: Ledger) -> None:
    assert _claim(ledger)
    _record(ledger)
    ledger.end_mirror("discord", GUILD, G20, MirrorState.CANCELLED, now=NOW)
    assert _claim(ledger, "b")  # back in the briefs
    _record(ledger, remote="901")
    ledger.end_mirror("discord", GUILD, G20, MirrorState.GONE, now=NOW)
    assert not _claim(ledger, "c")
    with pytest.raises(ValueError, match="cancelled or gone"):
        ledger.end_mirror("discord", GUILD, G20, MirrorState.SCHEDULED, now=NOW)


def test_an_abandoned_claim_is_free_again(ledger: Ledger) -> None:
    assert _claim(ledger, "a")
    ledger.abandon_mirror("discord", GUILD, G20, owner="b")  # not b's: kept
    assert not _claim(ledger, "b")
    ledger.abandon_mirror("discord", GUILD, G20, owner="a")
    assert ledger.mirrored_events("discord", GUILD) == []
    assert _claim(ledger, "b")


def test_keys_the_columns_cannot_hold_are_refused(ledger: Ledger) -> None:
    with pytest.raises(ValueError, match="event_key"):
        _claim(ledger, key="x" * 256)
    with pytest.raises(ValueError, match="now must be time-zone aware"):
        _claim(ledger, at=NOW.replace(tzinfo=None))


def test_processes_racing_for_one_copy_let_one_create_it(backend: Backend) -> None:
    ledgers = [backend.open() for _ in range(4)]
    try:
        with ThreadPoolExecutor(len(ledgers)) as pool:
            won = list(pool.map(lambda pair: _claim(pair[1], f"p{pair[0]}"), enumerate(ledgers)))
    finally:
        for each in ledgers:
            each.close()
    assert sorted(won) == [False, False, False, True]
