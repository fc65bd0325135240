"""One sender per platform among processes sharing a ledger, and the ledger's batch operations
that make a fan-out and a takeover cheap: batch claims, batch misses, renewed and released
leases."""

import asyncio
import multiprocessing
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import event, text

from bot.delivery.election import HANDOVER, Election
from bot.delivery.ledger import ClaimOutcome, DeliveryKey, DeliveryState, Ledger
from bot.delivery.ledger.senders import AlwaysSender, FileSender, PostgresSender, lock_key
from tests.delivery.test_ledger import DUE, LEASE, NOW, Backend


@pytest.fixture
def second(backend: Backend) -> Iterator[Ledger]:
    """Another process's ledger on the same database."""
    opened = backend.open()
    yield opened
    opened.close()


def keys(count: int, reminder: str = "g20-hamburg-2017:7d") -> list[DeliveryKey]:
    return [DeliveryKey(reminder, "discord", str(10**17 + n)) for n in range(count)]


# ------------------------------------------------------------------------ the locks


def test_one_sender_per_platform_until_it_lets_go(
    backend: Backend, ledger: Ledger, second: Ledger
) -> None:
    first, other = ledger.sender_lock("discord"), second.sender_lock("discord")
    assert isinstance(first, PostgresSender if backend.name == "postgresql" else FileSender)
    assert first.acquire() is True
    assert first.acquire() is True, "asking again keeps it"
    assert other.acquire() is False
    assert second.sender_lock("slack").acquire() is True, "each platform has its own sender"
    assert first.held()
    first.release()
    assert not first.held()
    assert other.acquire() is True
    other.release()


def _hold_and_die(path: str, ready: Any) -> None:
    lock = FileSender(Path(path))
    assert lock.acquire()
    ready.set()
    while True:  # killed by the test
        pass


def test_a_killed_sender_lets_a_standby_take_over_at_once(tmp_path: Path) -> None:
    """The kernel releases a dead process's ``flock``, however it died."""
    path = tmp_path / "ledger.sqlite3.sender-discord.lock"
    ready = multiprocessing.Event()
    holder = multiprocessing.Process(target=_hold_and_die, args=(str(path), ready), daemon=True)
    holder.start()
    try:
        assert ready.wait(60)
        standby = FileSender(path)
        assert standby.acquire() is False
        holder.kill()
        holder.join(60)
        assert standby.acquire() is True
        standby.release()
    finally:
        if holder.is_alive():
            holder.kill()


@pytest.mark.postgres
def test_a_postgresql_sender_whose_session_ends_knows_it_and_a_standby_takes_over(
    backend: Backend, ledger: Ledger, second: Ledger
) -> None:
    if backend.name != "postgresql":
        pytest.skip("PostgreSQL only")
    lock, standby = ledger.sender_lock("discord"), second.sender_lock("discord")
    assert lock.acquire() is True
    assert standby.acquire() is False
    with backend.raw_engine().connect() as admin:
        key = lock_key(
            "discord", admin.execute(text("SELECT current_schema()")).scalar_one()
        )  # the server ends the sender's session
        ended = admin.execute(
            text(
                "SELECT pg_terminate_backend(pid) FROM pg_locks WHERE locktype = 'advisory' "
                "AND granted AND classid = :high AND objid = :low AND objsubid = 1"
            ),
            {"high": key >> 32, "low": key & 0xFFFFFFFF},
        ).all()
        admin.commit()
    assert len(ended) == 1
    assert lock.held() is False
    assert standby.acquire() is True
    standby.release()


def test_in_memory_every_process_sends() -> None:
    ledger = Ledger.open("sqlite://")
    try:
        assert isinstance(ledger.sender_lock("discord"), AlwaysSender)
    finally:
        ledger.close()


# ------------------------------------------------------------------------ the election


def test_a_new_sender_takes_over_the_claims_left_after_the_handover(
    ledger: Ledger, second: Ledger
) -> None:
    """The dead sender's live claims are released after ``HANDOVER``, not after their lease."""
    (key,) = keys(1)
    long_lease = timedelta(hours=1)
    claim = ledger.claim(key, event_id="g20", due_at=DUE, owner="dead", now=NOW, lease=long_lease)
    assert claim.outcome is ClaimOutcome.NEW
    clock = [NOW]
    lost: list[str] = []
    election = Election(
        second,
        {"discord": second.sender_lock("discord")},
        "standby",
        now_real=lambda: clock[0],
        on_lost=lost.append,
    )

    async def run() -> None:
        assert await election.check() == []
        assert election.may_send("discord"), "new deliveries go out at once"
        assert second.claim(key, event_id="g20", due_at=DUE, owner="standby", now=NOW, lease=LEASE)
        clock[0] = NOW + HANDOVER
        assert await election.check() == ["discord"]
        await election.close()

    asyncio.run(run())
    taken = second.claim(
        key, event_id="g20", due_at=DUE, owner="standby", now=NOW + HANDOVER, lease=LEASE
    )
    assert taken.outcome is ClaimOutcome.RESUME, "looked for, then posted: not waited for"
    assert lost == []


# ------------------------------------------------------------------------ batch operations


def test_a_batch_claim_takes_only_what_no_one_claimed(ledger: Ledger) -> None:
    wanted = keys(1200)
    ledger.claim(wanted[5], event_id="g20", due_at=DUE, owner="other", now=NOW, lease=LEASE)
    claims = ledger.claim_new(wanted, event_id="g20", due_at=DUE, owner="me", now=NOW, lease=LEASE)
    assert len(claims) == 1199
    assert wanted[5] not in {claim.delivery.key for claim in claims}
    assert all(claim.outcome is ClaimOutcome.NEW for claim in claims)
    assert ledger.counts()[DeliveryState.CLAIMED] == 1200
    again = ledger.claim_new(wanted, event_id="g20", due_at=DUE, owner="x", now=NOW, lease=LEASE)
    assert again == [], "a second batch claims nothing twice"
    row = ledger.get(wanted[0])
    assert row is not None
    assert (row.owner, row.attempts, row.lease_until) == ("me", 1, NOW + LEASE)


def test_a_heartbeat_renews_its_own_claims_only(ledger: Ledger) -> None:
    mine, theirs = keys(2)
    for key, owner in ((mine, "me"), (theirs, "them")):
        ledger.claim(key, event_id="g20", due_at=DUE, owner=owner, now=NOW, lease=LEASE)
    later = NOW + LEASE - timedelta(seconds=1)
    assert ledger.renew("me", now=later, lease=LEASE) == 1
    renewed, kept = ledger.get(mine), ledger.get(theirs)
    assert renewed is not None
    assert kept is not None
    assert renewed.lease_until == later + LEASE
    assert kept.lease_until == NOW + LEASE


def test_missing_many_is_a_few_statements_and_spares_what_is_settled(ledger: Ledger) -> None:
    """Counted, not timed: recording 20,000 misses after a long outage."""
    many = keys(20_000)
    ledger.claim(many[0], event_id="g20", due_at=DUE, owner="a", now=NOW, lease=LEASE)
    ledger.mark_sent(many[0], now=NOW, message_id="m", late=False)
    ledger.claim(many[1], event_id="g20", due_at=DUE, owner="a", now=NOW, lease=LEASE)
    statements: list[str] = []

    def count(*_: object) -> None:
        statements.append("")

    engine = ledger._engine
    event.listen(engine, "before_cursor_execute", count)
    try:
        changed = ledger.mark_missed_many(
            "g20-hamburg-2017:7d",
            "discord",
            [key.channel_id for key in many],
            event_id="g20",
            due_at=DUE,
            now=NOW,
            reason="the bot was down",
        )
    finally:
        event.remove(engine, "before_cursor_execute", count)
    assert changed == 19_999
    assert len(statements) < 200, len(statements)
    counts = ledger.counts()
    assert (counts[DeliveryState.SENT], counts[DeliveryState.MISSED]) == (1, 19_999)
    channels = [key.channel_id for key in many]
    again = ledger.mark_missed_many(
        "g20-hamburg-2017:7d", "discord", channels, event_id="g20", due_at=DUE, now=NOW, reason="x"
    )
    assert again == 0
