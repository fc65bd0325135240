"""The delivery ledger on SQLite and PostgreSQL: migrations, claims, races, subscriptions."""

import json
import os
import re
import subprocess
import sys
import threading
import uuid
from collections.abc import Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, cast
from zoneinfo import ZoneInfo

import pytest
from hypothesis import assume, given
from hypothesis import strategies as st
from sqlalchemy import Engine, create_engine, inspect, make_url
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.pool import NullPool

from bot.delivery.ledger import (
    ClaimOutcome,
    Delivery,
    DeliveryKey,
    DeliveryState,
    Ledger,
    LedgerError,
    Subscription,
    SubscriptionSource,
    SubscriptionState,
)
from bot.delivery.ledger.schema import head_revision

ROOT = Path(__file__).resolve().parents[2]
POSTGRES_URL = os.environ.get(
    "BRIEFBOT_TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test"
)
NOW = datetime(2017, 7, 1, 9, 0, tzinfo=UTC)
DUE = datetime(2017, 7, 1, 10, 0, tzinfo=UTC)
LEASE = timedelta(minutes=5)
COMMAND = SubscriptionSource.COMMAND
SETTINGS = SubscriptionSource.SETTINGS
ACTIVE = SubscriptionState.ACTIVE
BROKEN = SubscriptionState.BROKEN
KEY = DeliveryKey("g20-hamburg-2017:7d", "discord", "1300000000000000001")
RACE_KEYS = [DeliveryKey(f"event-{n}:1d", "discord", "1300") for n in range(50)]


# ---------------------------------------------------------------------- backends


@dataclass(frozen=True)
class Backend:
    """Where a test's ledger lives: a URL and the driver arguments that isolate it."""

    name: str
    url: str
    connect_args: dict[str, str]

    def open(self) -> Ledger:
        """Open (and migrate) a ledger on this backend."""
        return Ledger.open(self.url, connect_args=self.connect_args)

    def raw_engine(self) -> Engine:
        """A plain engine on the same database, for poking at it behind the ledger's back."""
        return create_engine(self.url, connect_args=self.connect_args, poolclass=NullPool)


@pytest.fixture(scope="session")
def postgres_admin() -> Iterator[Engine]:
    """An engine on the test PostgreSQL server; skips (fails under CI=true) if unreachable."""
    engine = create_engine(
        POSTGRES_URL,
        connect_args={"connect_timeout": 3},
        isolation_level="AUTOCOMMIT",
        poolclass=NullPool,
    )
    try:
        with engine.connect():
            pass
    except SQLAlchemyError as error:
        shown = engine.url.render_as_string(hide_password=True)
        reason = " ".join(str(getattr(error, "orig", None) or error).split())
        message = f"PostgreSQL at {shown} (BRIEFBOT_TEST_POSTGRES_URL) is unreachable: {reason}"
        if os.environ.get("CI") == "true":
            pytest.fail(message)
        pytest.skip(message)
    yield engine
    engine.dispose()


def _postgres_backend(admin: Engine) -> Iterator[Backend]:
    """A fresh schema of its own for one test, dropped afterwards."""
    schema = f"ledger_test_{uuid.uuid4().hex}"
    with admin.connect() as connection:
        connection.exec_driver_sql(f'CREATE SCHEMA "{schema}"')
    try:
        yield Backend("postgresql", POSTGRES_URL, {"options": f"-csearch_path={schema}"})
    finally:
        with admin.connect() as connection:
            connection.exec_driver_sql(f'DROP SCHEMA "{schema}" CASCADE')


@pytest.fixture(
    params=[pytest.param("sqlite"), pytest.param("postgresql", marks=pytest.mark.postgres)]
)
def backend(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Backend]:
    """Each test runs on a SQLite file (in a directory not yet made) and on PostgreSQL."""
    if request.param == "sqlite":
        yield Backend("sqlite", f"sqlite:///{tmp_path / 'data' / 'ledger.sqlite3'}", {})
    else:
        yield from _postgres_backend(request.getfixturevalue("postgres_admin"))


@pytest.fixture
def ledger(backend: Backend) -> Iterator[Ledger]:
    """A migrated ledger, closed after the test."""
    opened = backend.open()
    yield opened
    opened.close()


def claim(
    ledger: Ledger, key: DeliveryKey = KEY, *, owner: str = "a", at: datetime = NOW
) -> ClaimOutcome:
    """Claim ``key`` with the usual lease and return only the outcome."""
    return ledger.claim(key, event_id="g20", due_at=DUE, owner=owner, now=at, lease=LEASE).outcome


# ---------------------------------------------------------------------- schema


def test_migrates_an_empty_database_to_the_newest_revision(
    backend: Backend, ledger: Ledger
) -> None:
    assert ledger.schema_revision() == head_revision()
    engine = backend.raw_engine()
    try:
        tables = inspect(engine)
        for model in (Delivery, Subscription):
            found = {column["name"] for column in tables.get_columns(model.__tablename__)}
            assert found == set(model.__table__.columns.keys()), model.__tablename__
    finally:
        engine.dispose()


def test_reopening_changes_nothing(backend: Backend, ledger: Ledger) -> None:
    assert claim(ledger) is ClaimOutcome.NEW
    ledger.close()
    again = backend.open()
    try:
        assert again.schema_revision() == head_revision()
        assert again.get(KEY) is not None
        assert claim(again, owner="b") is ClaimOutcome.BUSY
    finally:
        again.close()
    engine = backend.raw_engine()
    try:
        with engine.connect() as connection:
            revisions = connection.exec_driver_sql("SELECT version_num FROM alembic_version")
            assert revisions.scalars().all() == [head_revision()]
    finally:
        engine.dispose()


def test_a_newer_schema_is_refused(backend: Backend, ledger: Ledger) -> None:
    ledger.close()
    engine = backend.raw_engine()
    try:
        with engine.begin() as connection:
            connection.exec_driver_sql("UPDATE alembic_version SET version_num = 'future'")
    finally:
        engine.dispose()
    expected = (
        f"database schema revision future is newer than this briefbot "
        f"({head_revision()}); upgrade briefbot"
    )
    with pytest.raises(LedgerError, match=re.escape(expected)):
        backend.open()


# ---------------------------------------------------------------------- claims


def test_a_first_claim_is_new(ledger: Ledger) -> None:
    made = ledger.claim(KEY, event_id="g20", due_at=DUE, owner="a", now=NOW, lease=LEASE)
    assert made.outcome is ClaimOutcome.NEW
    delivery = made.delivery
    assert (delivery.state, delivery.attempts, delivery.owner) == (DeliveryState.CLAIMED, 1, "a")
    assert delivery.first_claimed_at == delivery.claimed_at == NOW
    assert delivery.lease_until == NOW + LEASE
    assert ledger.get(KEY) == delivery


def test_a_live_claim_is_busy_even_for_its_own_owner(ledger: Ledger) -> None:
    claim(ledger, owner="a")
    assert claim(ledger, owner="a", at=NOW + timedelta(minutes=1)) is ClaimOutcome.BUSY
    assert claim(ledger, owner="b", at=NOW + LEASE - timedelta(seconds=1)) is ClaimOutcome.BUSY
    stored = ledger.get(KEY)
    assert stored is not None
    assert (stored.attempts, stored.owner) == (1, "a")


def test_an_expired_claim_is_resumed_by_one_new_owner(ledger: Ledger) -> None:
    claim(ledger, owner="a")
    later = NOW + LEASE
    resumed = ledger.claim(KEY, event_id="g20", due_at=DUE, owner="b", now=later, lease=LEASE)
    assert resumed.outcome is ClaimOutcome.RESUME
    delivery = resumed.delivery
    assert (delivery.attempts, delivery.owner) == (2, "b")
    assert delivery.first_claimed_at == NOW
    assert (delivery.claimed_at, delivery.lease_until) == (later, later + LEASE)
    assert ledger.get(KEY) == delivery
    assert claim(ledger, owner="c", at=later) is ClaimOutcome.BUSY


def test_a_sent_delivery_is_done(ledger: Ledger) -> None:
    claim(ledger)
    ledger.mark_sent(KEY, now=NOW + timedelta(seconds=2), message_id="m1", late=True)
    sent = ledger.get(KEY)
    assert sent is not None
    assert (sent.state, sent.message_id, sent.late, sent.lease_until) == (
        DeliveryState.SENT,
        "m1",
        True,
        None,
    )
    assert claim(ledger, owner="b", at=NOW + timedelta(days=1)) is ClaimOutcome.DONE


def test_marking_sent_twice_keeps_the_first_post(ledger: Ledger) -> None:
    claim(ledger)
    ledger.mark_sent(KEY, now=NOW + timedelta(seconds=2), message_id="m1", late=False)
    ledger.mark_sent(KEY, now=NOW + timedelta(seconds=9), message_id="m2", late=True)
    sent = ledger.get(KEY)
    assert sent is not None
    assert (sent.sent_at, sent.message_id, sent.late) == (NOW + timedelta(seconds=2), "m1", False)


def test_a_failure_is_retried_once_its_time_comes(ledger: Ledger) -> None:
    claim(ledger)
    retry_at = NOW + timedelta(minutes=1)
    ledger.mark_failed(KEY, now=NOW + timedelta(seconds=1), error="503", retry_at=retry_at)
    failed = ledger.get(KEY)
    assert failed is not None
    assert (failed.state, failed.error, failed.retry_at, failed.lease_until) == (
        DeliveryState.FAILED,
        "503",
        retry_at,
        None,
    )
    assert claim(ledger, owner="b", at=retry_at - timedelta(seconds=1)) is ClaimOutcome.BUSY
    retried = ledger.claim(KEY, event_id="g20", due_at=DUE, owner="b", now=retry_at, lease=LEASE)
    assert retried.outcome is ClaimOutcome.RETRY
    assert (retried.delivery.attempts, retried.delivery.owner) == (2, "b")
    assert retried.delivery.first_claimed_at == NOW
    assert claim(ledger, owner="c", at=retry_at) is ClaimOutcome.BUSY


def test_a_permanent_failure_is_done(ledger: Ledger) -> None:
    claim(ledger)
    ledger.mark_failed(KEY, now=NOW, error="403 Missing Access", retry_at=None)
    assert claim(ledger, owner="b", at=NOW + timedelta(days=1)) is ClaimOutcome.DONE


def test_a_failure_after_the_post_is_ignored(ledger: Ledger) -> None:
    claim(ledger)
    ledger.mark_sent(KEY, now=NOW, message_id="m1", late=False)
    ledger.mark_failed(KEY, now=NOW, error="late timeout", retry_at=NOW)
    sent = ledger.get(KEY)
    assert sent is not None
    assert (sent.state, sent.error, sent.message_id) == (DeliveryState.SENT, None, "m1")


def test_marking_an_unclaimed_delivery_is_a_mistake(ledger: Ledger) -> None:
    with pytest.raises(LedgerError, match="never claimed"):
        ledger.mark_sent(KEY, now=NOW, message_id=None, late=False)
    with pytest.raises(LedgerError, match="never claimed"):
        ledger.mark_failed(KEY, now=NOW, error="x", retry_at=None)


def test_missed_never_overrides_a_post(ledger: Ledger) -> None:
    def miss(key: DeliveryKey) -> bool:
        return ledger.mark_missed(key, event_id="g20", due_at=DUE, now=NOW, reason="bot was down")

    assert miss(KEY) is True
    missed = ledger.get(KEY)
    assert missed is not None
    assert (missed.state, missed.attempts, missed.error) == (
        DeliveryState.MISSED,
        0,
        "bot was down",
    )
    assert miss(KEY) is False
    assert claim(ledger) is ClaimOutcome.DONE

    sent_key = DeliveryKey("g20-hamburg-2017:1d", "slack", "C01")
    claim(ledger, sent_key)
    ledger.mark_sent(sent_key, now=NOW, message_id="m1", late=False)
    assert miss(sent_key) is False
    assert ledger.counts()[DeliveryState.SENT] == 1

    claimed_key = DeliveryKey("g20-hamburg-2017:1h", "slack", "C01")
    claim(ledger, claimed_key)
    assert miss(claimed_key) is True
    assert claim(ledger, claimed_key, at=NOW + LEASE) is ClaimOutcome.DONE


def test_listing_and_counting_deliveries(ledger: Ledger) -> None:
    keys = [
        DeliveryKey("r:7d", "discord", "1"),
        DeliveryKey("r:7d", "discord", "2"),
        DeliveryKey("r:7d", "slack", "1"),
    ]
    for minutes, key in enumerate(keys):
        claim(ledger, key, at=NOW + timedelta(minutes=minutes))
    ledger.mark_sent(keys[0], now=NOW + timedelta(minutes=5), message_id=None, late=False)

    assert [d.key for d in ledger.deliveries()] == [keys[0], keys[2], keys[1]]
    assert [d.key for d in ledger.deliveries(platform="discord")] == [keys[0], keys[1]]
    assert [d.key for d in ledger.deliveries(channel_ids={"1"})] == [keys[0], keys[2]]
    assert ledger.deliveries(channel_ids=[]) == []
    assert len(ledger.deliveries(limit=1)) == 1
    assert ledger.counts() == {
        DeliveryState.CLAIMED: 2,
        DeliveryState.SENT: 1,
        DeliveryState.FAILED: 0,
        DeliveryState.MISSED: 0,
    }


def test_aware_datetimes_round_trip(ledger: Ledger) -> None:
    due = datetime(2017, 7, 7, 12, 30, 15, 123456, tzinfo=ZoneInfo("Europe/Berlin"))
    now = datetime(2017, 7, 1, 18, 0, 0, 654321, tzinfo=ZoneInfo("Asia/Tokyo"))
    ledger.claim(KEY, event_id="g20", due_at=due, owner="a", now=now, lease=LEASE)
    stored = ledger.get(KEY)
    assert stored is not None
    for instant, expected in ((stored.due_at, due), (stored.claimed_at, now)):
        assert instant == expected
        assert instant is not None
        assert instant.utcoffset() == timedelta(0)
        assert instant.microsecond == expected.microsecond
    # the lease ends at 09:05 UTC; the same instant in another zone has expired it
    assert claim(ledger, owner="b", at=now + LEASE - timedelta(microseconds=1)) is (
        ClaimOutcome.BUSY
    )
    assert claim(ledger, owner="b", at=(now + LEASE).astimezone(ZoneInfo("America/New_York"))) is (
        ClaimOutcome.RESUME
    )


def test_naive_datetimes_are_refused(ledger: Ledger) -> None:
    naive = datetime(2017, 7, 1, 9, 0)  # noqa: DTZ001 (the point of the test)
    with pytest.raises(ValueError, match="aware"):
        claim(ledger, at=naive)
    with pytest.raises(ValueError, match="aware"):
        ledger.subscribe("discord", "1", guild_id=None, source=COMMAND, now=naive)
    assert ledger.get(KEY) is None


# ---------------------------------------------------------------------- nonces

fields = st.text(st.characters(min_codepoint=0x20, max_codepoint=0x7E), min_size=1, max_size=40)
keys = st.builds(DeliveryKey, fields, st.sampled_from(["discord", "slack", "console"]), fields)


@given(keys)
def test_a_nonce_is_short_plain_and_deterministic(key: DeliveryKey) -> None:
    nonce = key.nonce()
    assert re.fullmatch(r"[0-9a-z]{1,25}", nonce)
    assert DeliveryKey(key.reminder_id, key.platform, key.channel_id).nonce() == nonce


@given(keys, keys)
def test_different_keys_have_different_nonces(one: DeliveryKey, other: DeliveryKey) -> None:
    assume(one != other)
    assert one.nonce() != other.nonce()


def test_nonces_are_stable_and_respect_field_boundaries() -> None:
    assert KEY.nonce() == DeliveryKey(KEY.reminder_id, KEY.platform, KEY.channel_id).nonce()
    assert DeliveryKey("a:b", "discord", "c").nonce() != DeliveryKey("a", "discord", "b:c").nonce()
    assert DeliveryKey("ab", "discord", "c").nonce() != DeliveryKey("a", "discord", "bc").nonce()
    # posted messages carry the nonce: changing how it is made breaks crash recovery
    assert KEY.nonce() == "e7bxqyje94hrlsnbgqopv6pb0"


@pytest.mark.parametrize(
    ("reminder", "platform", "channel"),
    [
        ("", "discord", "1"),
        ("r" * 256, "discord", "1"),
        ("r", "d" * 33, "1"),
        ("r", "slack", "1\x00"),
    ],
)
def test_keys_the_columns_cannot_hold_are_refused(
    reminder: str, platform: str, channel: str
) -> None:
    with pytest.raises(ValueError, match="characters"):
        DeliveryKey(reminder, platform, channel)


# ---------------------------------------------------------------------- races


def _race(ledgers: Sequence[Ledger], at: datetime) -> list[list[ClaimOutcome]]:
    """Every ledger claims every race key at once, each from its own thread."""
    start = threading.Barrier(len(ledgers))

    def run(index: int) -> list[ClaimOutcome]:
        start.wait()
        return [claim(ledgers[index], key, owner=f"t{index}", at=at) for key in RACE_KEYS]

    with ThreadPoolExecutor(len(ledgers)) as pool:
        return list(pool.map(run, range(len(ledgers))))


def _per_key(results: Sequence[Sequence[ClaimOutcome]]) -> list[list[ClaimOutcome]]:
    return [sorted(column) for column in zip(*results, strict=True)]


def test_threads_sharing_a_ledger_claim_and_take_over_each_key_once(ledger: Ledger) -> None:
    others = [ClaimOutcome.BUSY] * 7
    first = _per_key(_race([ledger] * 8, NOW))
    assert first == [sorted([ClaimOutcome.NEW, *others])] * len(RACE_KEYS)
    second = _per_key(_race([ledger] * 8, NOW + LEASE))
    assert second == [sorted([ClaimOutcome.RESUME, *others])] * len(RACE_KEYS)
    stored = ledger.get(RACE_KEYS[0])
    assert stored is not None
    assert stored.attempts == 2


def test_threads_with_their_own_ledgers_open_and_claim_safely(backend: Backend) -> None:
    with ThreadPoolExecutor(8) as pool:
        ledgers = list(pool.map(lambda _: backend.open(), range(8)))
    try:
        assert {each.schema_revision() for each in ledgers} == {head_revision()}
        first = _per_key(_race(ledgers, NOW))
        assert first == [sorted([ClaimOutcome.NEW, *[ClaimOutcome.BUSY] * 7])] * len(RACE_KEYS)
        for key in RACE_KEYS:
            ledgers[0].mark_failed(key, now=NOW, error="503", retry_at=NOW + timedelta(minutes=1))
        second = _per_key(_race(ledgers, NOW + timedelta(minutes=1)))
        assert second == [sorted([ClaimOutcome.RETRY, *[ClaimOutcome.BUSY] * 7])] * len(RACE_KEYS)
    finally:
        for each in ledgers:
            each.close()


CLAIMER = """
import json, sys
from datetime import datetime, timedelta
from bot.delivery.ledger import DeliveryKey, Ledger

url, connect_args, owner, now = sys.argv[1], json.loads(sys.argv[2]), sys.argv[3], sys.argv[4]
keys = [DeliveryKey(f"event-{n}:1d", "discord", "1300") for n in range(50)]
print("ready", flush=True)
sys.stdin.readline()
ledger = Ledger.open(url, connect_args=connect_args)
outcomes = [
    ledger.claim(
        key, event_id="e", due_at=datetime.fromisoformat(now), owner=owner,
        now=datetime.fromisoformat(now), lease=timedelta(minutes=5),
    ).outcome.value
    for key in keys
]
ledger.close()
print(json.dumps(outcomes), flush=True)
"""


def test_two_processes_open_a_fresh_database_and_claim_each_key_once(backend: Backend) -> None:
    arguments = [json.dumps(backend.connect_args), NOW.isoformat()]
    processes = [
        subprocess.Popen(
            [sys.executable, "-c", CLAIMER, backend.url, arguments[0], f"p{n}", arguments[1]],
            cwd=ROOT,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for n in range(2)
    ]
    try:
        for process in processes:
            assert process.stdout is not None
            assert process.stdout.readline().strip() == "ready"
        for process in processes:  # both are loaded: start them together
            assert process.stdin is not None
            process.stdin.write("go\n")
            process.stdin.flush()
        results = []
        for process in processes:
            out, err = process.communicate(timeout=60)
            assert process.returncode == 0, err
            results.append([ClaimOutcome(value) for value in json.loads(out)])
    finally:
        for process in processes:
            if process.poll() is None:
                process.kill()
                process.wait()
    per_key = _per_key(results)
    assert per_key == [sorted([ClaimOutcome.NEW, ClaimOutcome.BUSY])] * len(RACE_KEYS)


def test_an_in_memory_sqlite_ledger_is_shared_by_threads() -> None:
    memory = Ledger.open("sqlite://")
    try:
        first = _per_key(_race([memory] * 4, NOW))
        assert first == [sorted([ClaimOutcome.NEW, *[ClaimOutcome.BUSY] * 3])] * len(RACE_KEYS)
    finally:
        memory.close()


# ---------------------------------------------------------------------- subscriptions


def test_subscribe_break_and_unsubscribe(ledger: Ledger) -> None:
    def subscribe(channel: str) -> bool:
        return ledger.subscribe("discord", channel, guild_id="g1", source=COMMAND, now=NOW)

    assert subscribe("1") is True
    assert subscribe("1") is False
    assert subscribe("2") is True
    assert ledger.active_channels("discord") == ["1", "2"]
    assert ledger.active_channels("slack") == []

    later = NOW + timedelta(hours=1)
    assert ledger.mark_broken("discord", "1", reason="403 Missing Access", now=later) is True
    assert ledger.mark_broken("discord", "1", reason="403 again", now=later) is False
    assert ledger.mark_broken("discord", "9", reason="unknown", now=later) is False
    assert ledger.active_channels("discord") == ["2"]
    broken = ledger.subscriptions(platform="discord")[0]
    assert (broken.channel_id, broken.state, broken.reason) == ("1", BROKEN, "403 Missing Access")
    assert (broken.created_at, broken.updated_at) == (NOW, later)

    assert subscribe("1") is True
    again = ledger.subscriptions(platform="discord")[0]
    assert (again.state, again.reason) == (ACTIVE, None)

    assert ledger.unsubscribe("discord", "2") is True
    assert ledger.unsubscribe("discord", "2") is False
    assert ledger.active_channels("discord") == ["1"]
    assert subscribe("2") is True


def test_subscriptions_by_guild_and_platform(ledger: Ledger) -> None:
    ledger.subscribe("discord", "1", guild_id="g1", source=COMMAND, now=NOW)
    ledger.subscribe("discord", "2", guild_id="g2", source=COMMAND, now=NOW)
    ledger.subscribe("slack", "C1", guild_id=None, source=SETTINGS, now=NOW)
    ledger.mark_broken("discord", "2", reason="gone", now=NOW)
    assert [s.channel_id for s in ledger.subscriptions(guild_id="g2")] == ["2"]
    assert [s.channel_id for s in ledger.subscriptions(platform="slack")] == ["C1"]
    assert [(s.platform, s.channel_id) for s in ledger.subscriptions()] == [
        ("discord", "1"),
        ("discord", "2"),
        ("slack", "C1"),
    ]


def test_settings_never_downgrade_a_command_subscription(ledger: Ledger) -> None:
    def source_of(channel: str) -> SubscriptionSource:
        (found,) = [s for s in ledger.subscriptions() if s.channel_id == channel]
        return found.source

    ledger.subscribe("discord", "1", guild_id="g1", source=COMMAND, now=NOW)
    assert ledger.subscribe("discord", "1", guild_id=None, source=SETTINGS, now=NOW) is False
    assert source_of("1") is COMMAND
    assert ledger.subscriptions()[0].guild_id == "g1"

    ledger.subscribe("discord", "2", guild_id=None, source=SETTINGS, now=NOW)
    ledger.subscribe("discord", "2", guild_id="g1", source=COMMAND, now=NOW)
    assert source_of("2") is COMMAND

    with pytest.raises(ValueError, match="source"):
        ledger.subscribe("discord", "3", guild_id=None, source=cast(Any, "admin"), now=NOW)


# ---------------------------------------------------------------------- opening


def _open_error(url: str) -> str:
    with pytest.raises(LedgerError) as raised:
        Ledger.open(url)
    return str(raised.value)


def test_an_unreachable_server_names_the_url_without_its_password() -> None:
    message = _open_error("postgresql+psycopg://u:s3cret@127.0.0.1:1/x")
    assert "postgresql+psycopg://u:***@127.0.0.1:1/x" in message
    assert "s3cret" not in message


def test_a_sqlite_path_under_a_file_is_refused(tmp_path: Path) -> None:
    blocker = tmp_path / "not-a-directory"
    blocker.write_text("", encoding="utf-8")
    url = f"sqlite:///{blocker / 'ledger.sqlite3'}"
    assert url in _open_error(url)


@pytest.mark.parametrize(
    ("url", "shown"),
    [
        ("nosuchdb://u:s3cret@host/x", "nosuchdb://u:***@host/x"),
        ("not a url u:s3cret@host", "***@host"),
    ],
)
def test_unusable_urls_are_refused_without_their_password(url: str, shown: str) -> None:
    message = _open_error(url)
    assert shown in message
    assert "s3cret" not in message


def test_the_display_url_hides_the_password(backend: Backend, ledger: Ledger) -> None:
    shown = make_url(backend.url).render_as_string(hide_password=True)
    assert ledger.url_for_display == shown
    password = make_url(backend.url).password
    assert password is None or str(password) not in ledger.url_for_display


@pytest.mark.parametrize("spelling", ["١٢٣", "¹²³", "12\u200b3", "12\n3"])
def test_a_channel_cannot_be_subscribed_under_a_second_spelling(
    ledger: Ledger, spelling: str
) -> None:
    ledger.subscribe("discord", "123", guild_id=None, source=COMMAND, now=NOW)
    with pytest.raises(ValueError, match="printable ASCII"):
        ledger.subscribe("discord", spelling, guild_id=None, source=COMMAND, now=NOW)
    assert [s.channel_id for s in ledger.subscriptions()] == ["123"]


# ------------------------------------------------------------ deployments' own channels


def test_a_deployment_never_unsubscribes_the_channels_another_names(ledger: Ledger) -> None:
    """Two deployments with split lists on one ledger: each start keeps the other's channels."""
    east = [str(n) for n in range(1, 101)]
    west = [str(n) for n in range(101, 201)]
    ledger.sync_named("discord", east, now=NOW, instance="east")
    ledger.sync_named("discord", west, now=NOW, instance="west")
    ledger.sync_named("discord", east, now=NOW, instance="east")  # east restarts
    assert len(ledger.active_channels("discord")) == 200
    added, dropped = ledger.sync_named("discord", west[:50], now=NOW, instance="west")
    assert (added, dropped) == ([], west[50:])
    assert set(ledger.active_channels("discord")) == set(east) | set(west[:50])


def test_a_channel_two_deployments_name_lasts_until_neither_does(ledger: Ledger) -> None:
    ledger.sync_named("discord", ["7", "8"], now=NOW, instance="east")
    ledger.sync_named("discord", ["8"], now=NOW, instance="west")
    assert ledger.sync_named("discord", ["7"], now=NOW, instance="east") == ([], [])
    assert ledger.active_channels("discord") == ["7", "8"]
    assert ledger.sync_named("discord", [], now=NOW, instance="west") == ([], ["8"])
    assert ledger.active_channels("discord") == ["7"]


def test_a_deployment_name_is_checked_like_an_id(ledger: Ledger) -> None:
    with pytest.raises(ValueError, match="instance"):
        ledger.sync_named("discord", ["7"], now=NOW, instance="x" * 65)
