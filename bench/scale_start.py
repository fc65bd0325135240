"""Starting with many channels: the costs a start pays before reminders run.

Two phases of ``briefbot run`` that once grew faster than the channels, measured in-process on
the real settings loader, ledger and scheduler (no chat platform: its connection does not wait
for these any more), on a SQLite file and, when reachable, PostgreSQL:

* **first start**: settings naming N channels (``REMINDER_CHANNEL_IDS_FILE``) read, and the
  ledger's subscriptions brought in step with them, on an empty ledger;
* **restart past grace**: the plan made again with a reminder whose grace ran out while the bot
  was down, so that it is recorded as missed in all N channels.

Targets: each under 5 s at 50,000 channels.
"""

import asyncio
import os
import tempfile
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from datetime import time as time_of_day
from pathlib import Path

from sqlalchemy import create_engine
from sqlalchemy.pool import NullPool

from bench.config import Counts
from bench.results import BenchResult, Table, Target
from bench.stats import ratio
from bot.core.clock import Clock
from bot.core.loading import load_library
from bot.delivery.ledger import DeliveryState, Ledger
from bot.delivery.scheduler import ReminderScheduler, Timing
from bot.delivery.subscriptions import sync_settings_channels
from bot.settings import DEFAULT_OFFSETS, Settings, embedded_briefs_dir

NAME = "scale-start"
TITLE = "Starting with many channels"
LIMIT_S = 5.0
POSTGRES_URL = os.environ.get(
    "BRIEFBOT_TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test"
)
# A day after the G20's 7-day reminder: its 6-hour grace has run out.
PAST_GRACE = datetime(2017, 7, 1, 7, 0, tzinfo=UTC)


class _Poster:
    platform = "discord"
    posts_per_second = 48.0

    async def post(self, channel_id: str, reply: object, *, nonce: str) -> str | None:
        raise AssertionError("nothing is posted past its grace")

    async def find_post(self, channel_id: str, nonce: str, *, since: datetime) -> str | None:
        return None


@contextmanager
def _ledgers(directory: Path) -> Iterator[list[tuple[str, str, dict[str, str]]]]:
    """(name, url, connect_args) of a SQLite file and, if reachable, a fresh PostgreSQL schema."""
    found: list[tuple[str, str, dict[str, str]]] = [
        ("SQLite", f"sqlite:///{directory / 'ledger.sqlite3'}", {})
    ]
    schema = f"bench_{uuid.uuid4().hex}"
    admin = create_engine(
        POSTGRES_URL,
        connect_args={"connect_timeout": 3},
        isolation_level="AUTOCOMMIT",
        poolclass=NullPool,
    )
    try:
        with admin.connect() as connection:
            connection.exec_driver_sql(f'CREATE SCHEMA "{schema}"')
        found.append(("PostgreSQL", POSTGRES_URL, {"options": f"-csearch_path={schema}"}))
    except Exception:  # noqa: BLE001 - PostgreSQL is optional here
        schema = ""
    try:
        yield found
    finally:
        if schema:
            with admin.connect() as connection:
                connection.exec_driver_sql(f'DROP SCHEMA "{schema}" CASCADE')
        admin.dispose()


def _first_start(channel_file: Path, data: Path, url: str, args: dict[str, str]) -> float:
    began = time.perf_counter()
    settings = Settings.load(
        environ={"REMINDER_CHANNEL_IDS_FILE": str(channel_file), "DATA_DIR": str(data)},
        env_file=None,
    )
    ledger = Ledger.open(url, connect_args=args)
    try:
        sync_settings_channels(ledger, "discord", settings.discord_channels, datetime.now(UTC))
        return time.perf_counter() - began
    finally:
        ledger.close()


async def _restart_past_grace(url: str, args: dict[str, str], channels: int) -> float:
    library = load_library(embedded_briefs_dir())
    timing = Timing(
        offsets=DEFAULT_OFFSETS,
        all_day_at=time_of_day(9, 0),
        grace=timedelta(hours=6),
        lease=timedelta(seconds=30),
    )
    ledger = Ledger.open(url, connect_args=args)
    try:
        scheduler = ReminderScheduler(
            library,
            Clock(PAST_GRACE, 0.0),
            ledger,
            [_Poster()],
            timing,
        )
        began = time.perf_counter()
        await scheduler.replan(library)
        took = time.perf_counter() - began
        missed = ledger.counts()[DeliveryState.MISSED]
        if missed < channels:
            raise AssertionError(f"{missed} of {channels} channels recorded as missed")
        return took
    finally:
        ledger.close()


async def run(counts: Counts) -> BenchResult:
    """Both phases at each of ``counts.large_channels`` and 50,000, on each database."""
    sizes = sorted({*counts.large_channels, counts.scale_channels})
    result = BenchResult(NAME, TITLE)
    table = Table(f"{TITLE} (s)", ["database", "channels", "first start", "restart past grace"])
    smallest = (0.0, 0.0)
    with tempfile.TemporaryDirectory() as temporary, _ledgers(Path(temporary)) as ledgers:
        root = Path(temporary)
        for name, url, args in ledgers:
            for size in sizes:
                run_dir = root / f"{name}-{size}"
                run_dir.mkdir()
                channel_file = run_dir / "channels.txt"
                channel_file.write_text(
                    "\n".join(str(10**17 + n) for n in range(size)), encoding="ascii"
                )
                run_url = url
                if name == "SQLite":
                    run_url = f"sqlite:///{run_dir / 'ledger.sqlite3'}"
                else:  # a fresh ledger per size: empty tables
                    Ledger.open(run_url, connect_args=args).close()
                    _truncate(run_url, args)
                first = await asyncio.to_thread(_first_start, channel_file, run_dir, run_url, args)
                restart = await _restart_past_grace(run_url, args, size)
                table.add(name, f"{size:,}", f"{first:.2f}", f"{restart:.2f}")
                result.results[f"{name.lower()}.{size}.first_start_s"] = first
                result.results[f"{name.lower()}.{size}.restart_past_grace_s"] = restart
                if size == sizes[0]:
                    smallest = (first / size, restart / size)
                if size == sizes[-1] and size > sizes[0]:
                    # Linear costs: the time per channel at the largest size over the smallest's.
                    key = f"{name.lower()}.per_channel_{size}_vs_{sizes[0]}"
                    result.ratios[f"{key}.first_start"] = ratio(first / size, smallest[0])
                    result.ratios[f"{key}.restart_past_grace"] = ratio(restart / size, smallest[1])
                if size == sizes[-1]:
                    result.targets += [
                        Target(f"{name}, {size:,} channels: first start", first, LIMIT_S, "s"),
                        Target(
                            f"{name}, {size:,} channels: restart past grace",
                            restart,
                            LIMIT_S,
                            "s",
                        ),
                    ]
    result.tables.append(table)
    return result


def _truncate(url: str, args: dict[str, str]) -> None:
    engine = create_engine(url, connect_args=args, poolclass=NullPool)
    try:
        with engine.begin() as connection:
            connection.exec_driver_sql("TRUNCATE deliveries, subscriptions, named_channels")
    finally:
        engine.dispose()
