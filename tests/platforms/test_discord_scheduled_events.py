"""The briefs' events in Discord's Events tab: the real bot against the stand-in's scheduled
events, on a real SQLite ledger. Created once, found again after a crash, edited when the
brief changes, deleted when it drops an event, and a guild without Manage Events is warned
about while the bot keeps answering."""

import asyncio
import contextlib
import shutil
from collections.abc import AsyncIterator, Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import discord
import discord.gateway
import discord.http
import pytest
from sqlalchemy import create_engine, text

from bot.core.clock import Clock
from bot.core.library import Library
from bot.core.loading import load_library
from bot.delivery.ledger import Ledger, MirrorState
from bot.platforms.discord.event_copies import marker
from bot.platforms.discord.runner import DiscordPlatform
from bot.platforms.discord.scheduled_events import MANAGE_EVENTS
from bot.runtime import Reloader, Runtime, serve_platforms
from standins.discord_payloads import BOT_PERMISSIONS
from standins.discord_standin import DiscordStandIn
from tests.conftest import BRIEFS
from tests.platforms.conditions import eventually
from tests.platforms.conftest import WRITTEN
from tests.platforms.discord_harness import GUILD, TIMEOUT, LogCapture, settings_for

pytestmark = pytest.mark.timeout(60)

G20 = "g20-hamburg-2017@russia-japan-summit-2017.briefbot"
EEF = "eastern-economic-forum-2017@russia-japan-summit-2017.briefbot"
OTHER_GUILD = GUILD + 1000


@pytest.fixture
def discord_options() -> dict[str, Any]:
    """The bot may manage events; Discord's clock is the bot's (2017)."""
    return {"bot_permissions": BOT_PERMISSIONS | MANAGE_EVENTS, "wall_clock": lambda: WRITTEN}


@pytest.fixture
def briefs(tmp_path: Path) -> Path:
    """A copy of the shipped briefs, to edit."""
    copy = tmp_path / "briefs"
    shutil.copytree(BRIEFS, copy)
    return copy


@pytest.fixture
def runtime_for(
    discord: DiscordStandIn, tmp_path: Path, briefs: Path, as_of: datetime
) -> Callable[..., Runtime]:
    def make(**changes: Any) -> Runtime:
        changes.setdefault("discord_scheduled_events", True)
        settings = settings_for(discord, tmp_path / "data", briefs_dir=briefs, **changes)
        return Runtime(settings, load_library(briefs), Clock(as_of, 0.0))

    return make


class Serving:
    """One run of ``briefbot run`` on Discord, in this process."""

    def __init__(self, platform: DiscordPlatform, reloader: Reloader, ledger: Ledger) -> None:
        self.platform, self.reloader, self.ledger = platform, reloader, ledger

    @property
    def syncs(self) -> int:
        return self.platform.bot.scheduled_events.syncs

    async def synced(self, count: int = 1) -> None:
        await eventually(lambda: self.syncs >= count, f"{count} scheduled-events sync(s)")


@contextlib.asynccontextmanager
async def serving(standin: DiscordStandIn, runtime: Runtime) -> AsyncIterator[Serving]:
    """Serve ``runtime`` on the stand-in (a reload is ``reloader.request()``, as on SIGHUP)."""
    old_base = discord.http.Route.BASE
    old_gateway = discord.gateway.DiscordWebSocket.DEFAULT_GATEWAY
    runtime.settings.prepare_data_dir()
    ledger = Ledger.open(runtime.settings.database)
    platform = DiscordPlatform(runtime, ledger, guild_ready_timeout=0.05)
    reloader = Reloader(runtime)
    task = asyncio.create_task(serve_platforms(runtime, ledger, [platform], reloader))
    try:
        await standin.wait_for_ready(TIMEOUT)
        yield Serving(platform, reloader, ledger)
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task
        ledger.close()
        discord.http.Route.BASE = old_base
        discord.gateway.DiscordWebSocket.DEFAULT_GATEWAY = old_gateway


def event_requests(standin: DiscordStandIn, method: str) -> int:
    return sum(1 for r in standin.requests if r.method == method and "/scheduled-events" in r.path)


async def test_each_upcoming_event_is_created_once_with_the_calendar_fields(
    discord: DiscordStandIn, runtime_for: Callable[..., Runtime]
) -> None:
    runtime = runtime_for()
    async with serving(discord, runtime) as run:
        await run.synced()
        rows = run.ledger.mirrored_events("discord", str(GUILD))
    events = discord.scheduled_events.of(GUILD)
    assert [e["name"] for e in events] == ["G20 leaders’ summit", "3rd Eastern Economic Forum"]
    g20 = events[0]
    assert (g20["entity_type"], g20["privacy_level"], g20["channel_id"]) == (3, 2, None)
    assert g20["entity_metadata"] == {"location": "Hamburg, Germany"}
    # all day in Hamburg: 00:00 on 7 July to 24:00 on 8 July, Berlin time (UTC+2)
    assert g20["scheduled_start_time"] == "2017-07-06T22:00:00+00:00"
    assert g20["scheduled_end_time"] == "2017-07-08T22:00:00+00:00"
    text_ = g20["description"]
    assert text_.startswith("Why it matters: Abe and Putin’s next chance to touch base")
    assert "Russia Beyond" in text_
    assert text_.endswith(marker(G20))
    assert len(text_) <= 1000
    # the month-precision follow-ups are not events and are never copied
    assert not any("Kurils" in e["name"] for e in events)
    assert {(r.event_key, r.state, r.remote_id) for r in rows} == {
        (G20, MirrorState.SCHEDULED, g20["id"]),
        (EEF, MirrorState.SCHEDULED, events[1]["id"]),
    }

    # a restart on the same ledger creates nothing, and edits nothing
    async with serving(discord, runtime_for()) as again:
        await again.synced()
    assert len(discord.scheduled_events.created()) == 2
    assert discord.scheduled_events.modified() == []
    assert len(discord.scheduled_events.of(GUILD)) == 2


def _as_if_crashed(database: str, *, forget: bool) -> None:
    """Leave the ledger as a crash between Discord's create and the ledger's record does:
    each copy still claimed, by a process that is gone (``forget``: no row at all)."""
    engine = create_engine(database)
    lease = (datetime.now(UTC) + timedelta(hours=1)).replace(tzinfo=None)
    with engine.begin() as connection:
        if forget:
            connection.execute(text("DELETE FROM mirrored_events"))
        else:
            connection.execute(
                text(
                    "UPDATE mirrored_events SET state = 'creating', remote_id = NULL, "
                    "fingerprint = NULL, owner = 'crashed', lease_until = :lease"
                ),
                {"lease": lease},
            )
    engine.dispose()


@pytest.mark.parametrize("forget", [False, True], ids=["claimed", "unrecorded"])
async def test_a_crash_between_create_and_record_then_a_restart_makes_no_duplicate(
    discord: DiscordStandIn, runtime_for: Callable[..., Runtime], forget: bool, logs: LogCapture
) -> None:
    runtime = runtime_for()
    async with serving(discord, runtime) as run:
        await run.synced()
    made = {e["id"] for e in discord.scheduled_events.of(GUILD)}
    _as_if_crashed(runtime.settings.database, forget=forget)

    async with serving(discord, runtime_for()) as again:
        await again.synced()
        rows = again.ledger.mirrored_events("discord", str(GUILD))
    assert len(discord.scheduled_events.created()) == 2
    assert {e["id"] for e in discord.scheduled_events.of(GUILD)} == made
    assert {r.remote_id for r in rows} == made
    assert {r.state for r in rows} == {MirrorState.SCHEDULED}
    assert any("2 found again" in line for line in logs.lines)


async def test_a_lost_reply_retried_by_discord_py_leaves_one_copy(
    discord: DiscordStandIn, runtime_for: Callable[..., Runtime]
) -> None:
    # Discord creates the event, the answer is lost (502), discord.py sends the POST again
    discord.fail_next("POST", r"/scheduled-events$", 502, processed=True)
    async with serving(discord, runtime_for()) as run:
        await run.synced()
        rows = run.ledger.mirrored_events("discord", str(GUILD))
    assert len(discord.scheduled_events.created()) == 3
    assert len(discord.scheduled_events.deleted()) == 1
    events = discord.scheduled_events.of(GUILD)
    assert sorted(e["name"] for e in events) == [
        "3rd Eastern Economic Forum",
        "G20 leaders’ summit",
    ]
    assert {r.remote_id for r in rows} == {e["id"] for e in events}


def _edit(briefs: Path, old: str, new: str) -> None:
    path = briefs / "russia-japan-summit-2017.toml"
    content = path.read_text(encoding="utf-8")
    assert old in content
    path.write_text(content.replace(old, new, 1), encoding="utf-8")


async def test_an_edited_brief_edits_the_event_and_a_dropped_event_is_deleted(
    discord: DiscordStandIn, runtime_for: Callable[..., Runtime], briefs: Path
) -> None:
    async with serving(discord, runtime_for()) as run:
        await run.synced()
        created = {e["name"]: e["id"] for e in discord.scheduled_events.of(GUILD)}

        _edit(briefs, 'place = "Hamburg, Germany"', 'place = "Hamburg Messe, Germany"')
        run.reloader.request()  # what SIGHUP does
        await run.synced(2)
        [patch] = discord.scheduled_events.modified()
        assert patch.event_id == int(created["G20 leaders’ summit"])
        assert patch.body["entity_metadata"] == {"location": "Hamburg Messe, Germany"}

        content = (briefs / "russia-japan-summit-2017.toml").read_text(encoding="utf-8")
        start = content.index('[[events]]\nid = "eastern-economic-forum-2017"')
        (briefs / "russia-japan-summit-2017.toml").write_text(content[:start], encoding="utf-8")
        run.reloader.request()
        await run.synced(3)
        rows = {r.event_key: r for r in run.ledger.mirrored_events("discord", str(GUILD))}

    assert len(discord.scheduled_events.created()) == 2
    [deleted] = discord.scheduled_events.deleted()
    assert deleted.event_id == int(created["3rd Eastern Economic Forum"])
    [left] = discord.scheduled_events.of(GUILD)
    assert left["entity_metadata"] == {"location": "Hamburg Messe, Germany"}
    assert (rows[G20].state, rows[EEF].state) == (MirrorState.SCHEDULED, MirrorState.CANCELLED)


@pytest.fixture
def two_guilds(discord: DiscordStandIn) -> DiscordStandIn:
    discord.add_guild(OTHER_GUILD, [(OTHER_GUILD + 1, "news")], name="No Events Here")
    discord.set_guild_bot_permissions(OTHER_GUILD, BOT_PERMISSIONS)
    return discord


async def test_a_guild_without_manage_events_is_warned_about_and_the_bot_keeps_serving(
    two_guilds: DiscordStandIn, runtime_for: Callable[..., Runtime], logs: LogCapture
) -> None:
    discord = two_guilds
    async with serving(discord, runtime_for()) as run:
        await run.synced()
        answer = await (await discord.send_command("summit", guild_id=GUILD)).wait_response()
        assert answer.data is not None
        assert answer.data["embeds"]
        run.reloader.request()
        await run.synced(2)
    warnings = [line for line in logs.lines if "Manage Events" in line]
    assert len(warnings) == 1, warnings  # once, not at every sync
    assert warnings[0].startswith("WARNING")
    assert f"No Events Here ({OTHER_GUILD})" in warnings[0]
    assert str(MANAGE_EVENTS) in warnings[0]
    assert len(discord.scheduled_events.of(GUILD)) == 2
    assert discord.scheduled_events.of(OTHER_GUILD) == []
    assert not any(w.guild_id == OTHER_GUILD for w in discord.scheduled_events.writes)


@pytest.mark.parametrize("as_of", [datetime(2017, 8, 1, tzinfo=UTC)])
async def test_past_events_are_not_copied(
    discord: DiscordStandIn, runtime_for: Callable[..., Runtime], as_of: datetime
) -> None:
    discord.scheduled_events.now = lambda: as_of
    async with serving(discord, runtime_for()) as run:
        await run.synced()
    assert [e["name"] for e in discord.scheduled_events.of(GUILD)] == ["3rd Eastern Economic Forum"]


async def test_off_by_default_nothing_is_copied(
    discord: DiscordStandIn, runtime_for: Callable[..., Runtime], library: Library
) -> None:
    runtime = runtime_for(discord_scheduled_events=False)
    async with serving(discord, runtime) as run:
        answer = await (await discord.send_command("summit", guild_id=GUILD)).wait_response()
        assert answer.data is not None
        assert answer.data["embeds"]
        assert run.syncs == 0
    assert event_requests(discord, "GET") == event_requests(discord, "POST") == 0
    assert runtime.on_reload == []


async def test_a_guild_at_discords_limit_gets_the_soonest_event_and_a_warning(
    discord: DiscordStandIn, runtime_for: Callable[..., Runtime], logs: LogCapture
) -> None:
    later = datetime(2018, 1, 1, tzinfo=UTC)
    for n in range(99):  # the server's own events
        discord.scheduled_events.add(GUILD, f"club night {n}", later, later + timedelta(hours=2))
    async with serving(discord, runtime_for()) as run:
        await run.synced()
    [created] = discord.scheduled_events.created()
    assert created.body["name"] == "G20 leaders’ summit"
    assert len(discord.scheduled_events.of(GUILD)) == 100
    assert not [w for w in discord.scheduled_events.writes if w.status >= 400]
    [warning] = [line for line in logs.lines if "limit of 100" in line]
    assert warning.startswith("WARNING")
    assert "1 of the briefs' events are not in its Events tab" in warning
