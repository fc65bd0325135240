"""The Discord stand-in's guild scheduled events: the real discord.py client round trip, and
each request Discord refuses, refused the same way."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Callable, Coroutine
from datetime import UTC, datetime, timedelta
from typing import Any

import aiohttp
import discord
import pytest

from standins.discord_events import CREATE_EVENTS, MANAGE_EVENTS
from standins.discord_payloads import BOT_PERMISSIONS
from standins.discord_standin import DiscordStandIn, point_discord_py_at

TOKEN = "stand-in.test.token"
TIMEOUT = 5.0
NOW = datetime(2017, 4, 28, 9, 0, tzinfo=UTC)
START = datetime(2017, 7, 7, 7, 0, tzinfo=UTC)
END = datetime(2017, 7, 8, 22, 0, tzinfo=UTC)
WITH_EVENTS = BOT_PERMISSIONS | MANAGE_EVENTS


def run(main: Callable[[], Coroutine[Any, Any, None]], timeout: float = 20.0) -> None:
    asyncio.run(asyncio.wait_for(main(), timeout))


def standin(permissions: int = WITH_EVENTS) -> DiscordStandIn:
    return DiscordStandIn(token=TOKEN, bot_permissions=permissions, wall_clock=lambda: NOW)


def external(**changes: Any) -> dict[str, Any]:
    """A valid body for an EXTERNAL event, with ``changes`` (None removes a field)."""
    body: dict[str, Any] = {
        "name": "G20 summit",
        "description": "Why it matters: the leaders meet again.",
        "privacy_level": 2,
        "entity_type": 3,
        "scheduled_start_time": START.isoformat(),
        "scheduled_end_time": END.isoformat(),
        "entity_metadata": {"location": "Hamburg, Germany"},
    }
    body.update(changes)
    return {key: value for key, value in body.items() if value is not None}


@contextlib.asynccontextmanager
async def rest(fake: DiscordStandIn) -> AsyncIterator[aiohttp.ClientSession]:
    headers = {"Authorization": f"Bot {TOKEN}"}
    async with aiohttp.ClientSession(base_url=fake.api_base + "/", headers=headers) as session:
        yield session


async def call(
    session: aiohttp.ClientSession, method: str, path: str, body: Any = None
) -> tuple[int, Any]:
    async with session.request(method, path.lstrip("/"), json=body) as response:
        answer = await response.json() if response.status != 204 else None
        return response.status, answer


def events_path(fake: DiscordStandIn, event_id: object = None) -> str:
    path = f"guilds/{fake.guild.id}/scheduled-events"
    return path if event_id is None else f"{path}/{event_id}"


# ---------------------------------------------------------------- through discord.py


class GuildBot(discord.Client):
    def __init__(self) -> None:
        intents = discord.Intents.none()
        intents.guilds = True
        super().__init__(intents=intents, guild_ready_timeout=0.05)


@contextlib.asynccontextmanager
async def running(fake: DiscordStandIn) -> AsyncIterator[GuildBot]:
    with point_discord_py_at(fake):
        bot = GuildBot()
        runner = asyncio.create_task(bot.start(TOKEN))
        try:
            await asyncio.wait_for(bot.wait_until_ready(), TIMEOUT)
            yield bot
        finally:
            await bot.close()
            with contextlib.suppress(asyncio.CancelledError):
                await asyncio.wait_for(runner, TIMEOUT)


def test_discord_py_creates_lists_edits_and_deletes_an_external_event() -> None:
    async def main() -> None:
        async with standin() as fake, running(fake) as bot:
            guild = bot.get_guild(fake.guild.id)
            assert guild is not None
            assert guild.me.guild_permissions.manage_events
            made = await guild.create_scheduled_event(
                name="G20 summit",
                start_time=START,
                end_time=END,
                entity_type=discord.EntityType.external,
                privacy_level=discord.PrivacyLevel.guild_only,
                location="Hamburg, Germany",
                description="Why it matters.",
            )
            assert (made.name, made.location, made.start_time, made.end_time) == (
                "G20 summit",
                "Hamburg, Germany",
                START,
                END,
            )
            assert bot.user is not None
            assert made.creator_id == bot.user.id
            [listed] = await guild.fetch_scheduled_events(with_counts=False)
            assert listed.id == made.id
            assert listed.description == "Why it matters."
            later = START + timedelta(days=1)
            edited = await listed.edit(
                name="G20", start_time=later, end_time=END + timedelta(days=1), location="Berlin"
            )
            assert (edited.name, edited.start_time, edited.location) == ("G20", later, "Berlin")
            await edited.delete()
            assert await guild.fetch_scheduled_events() == []
            writes = fake.scheduled_events
            assert [len(writes.created()), len(writes.modified()), len(writes.deleted())] == [
                1,
                1,
                1,
            ]
        fake.assert_clean()

    run(main)


def test_without_manage_events_discord_py_gets_forbidden() -> None:
    async def main() -> None:
        async with standin(BOT_PERMISSIONS) as fake, running(fake) as bot:
            guild = bot.get_guild(fake.guild.id)
            assert guild is not None
            assert not guild.me.guild_permissions.manage_events
            with pytest.raises(discord.Forbidden, match="Missing Permissions"):
                await guild.create_scheduled_event(
                    name="G20",
                    start_time=START,
                    end_time=END,
                    entity_type=discord.EntityType.external,
                    privacy_level=discord.PrivacyLevel.guild_only,
                    location="Hamburg",
                )
            assert fake.scheduled_events.of(fake.guild.id) == []

    run(main)


# ---------------------------------------------------------------- on the wire


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"entity_metadata": None}, "entity_metadata"),
        ({"entity_metadata": {"location": ""}}, "entity_metadata"),
        ({"entity_metadata": {"location": "x" * 101}}, "entity_metadata"),
        ({"scheduled_end_time": None}, "scheduled_end_time"),
        (
            {"scheduled_start_time": (NOW - timedelta(minutes=1)).isoformat()},
            "scheduled_start_time",
        ),
        ({"scheduled_start_time": NOW.isoformat()}, "scheduled_start_time"),
        ({"scheduled_end_time": START.isoformat()}, "scheduled_end_time"),
        ({"scheduled_start_time": "2017-07-07T07:00:00"}, "scheduled_start_time"),
        ({"name": None}, "name"),
        ({"name": "x" * 101}, "name"),
        ({"description": "x" * 1001}, "description"),
        ({"privacy_level": 1}, "privacy_level"),
        ({"channel_id": "1300000000000000101"}, "channel_id"),
    ],
)
def test_a_create_discord_refuses_is_refused_naming_the_field(
    changes: dict[str, Any], field: str
) -> None:
    async def main() -> None:
        async with standin() as fake, rest(fake) as session:
            status, answer = await call(session, "POST", events_path(fake), external(**changes))
            assert (status, answer["code"]) == (400, 50035)
            assert field in answer["errors"]
            assert fake.scheduled_events.of(fake.guild.id) == []
        fake.assert_clean()

    run(main)


def test_a_guild_holds_at_most_100_scheduled_events() -> None:
    async def main() -> None:
        async with standin() as fake, rest(fake) as session:
            for n in range(99):
                fake.scheduled_events.add(fake.guild.id, f"e{n}", START, END)
            status, _ = await call(session, "POST", events_path(fake), external())
            assert status == 200
            status, answer = await call(session, "POST", events_path(fake), external())
            assert (status, answer["code"]) == (400, 30038)
            status, listed = await call(session, "GET", events_path(fake))
            assert (status, len(listed)) == (200, 100)

    run(main)


def test_create_events_lets_the_bot_change_only_its_own_events() -> None:
    async def main() -> None:
        async with standin(BOT_PERMISSIONS | CREATE_EVENTS) as fake, rest(fake) as session:
            theirs = fake.scheduled_events.add(fake.guild.id, "theirs", START, END, creator_id=7)
            status, ours = await call(session, "POST", events_path(fake), external())
            assert status == 200
            status, _ = await call(session, "PATCH", events_path(fake, ours["id"]), {"name": "x"})
            assert status == 200
            status, answer = await call(
                session, "PATCH", events_path(fake, theirs["id"]), {"name": "x"}
            )
            assert (status, answer["code"]) == (403, 50013)
            status, answer = await call(session, "DELETE", events_path(fake, theirs["id"]))
            assert (status, answer["code"]) == (403, 50013)
            status, _ = await call(session, "DELETE", events_path(fake, ours["id"]))
            assert status == 204

    run(main)


def test_changes_are_checked_like_creations() -> None:
    async def main() -> None:
        async with standin() as fake, rest(fake) as session:
            _, made = await call(session, "POST", events_path(fake), external())
            path = events_path(fake, made["id"])
            past = {"scheduled_start_time": (NOW - timedelta(days=1)).isoformat()}
            for body, field in [
                (past, "scheduled_start_time"),
                ({"scheduled_end_time": START.isoformat()}, "scheduled_end_time"),
                ({"entity_metadata": {"location": ""}}, "entity_metadata"),
                ({"status": 3}, "status"),  # scheduled cannot complete without starting
            ]:
                status, answer = await call(session, "PATCH", path, body)
                assert (status, answer["code"], field in answer["errors"]) == (400, 50035, True)
            status, cancelled = await call(session, "PATCH", path, {"status": 4})
            assert (status, cancelled["status"]) == (200, 4)
            status, listed = await call(session, "GET", events_path(fake))
            assert (status, listed) == (200, [])  # a cancelled event leaves the list
            status, answer = await call(session, "PATCH", path, {"name": "x"})
            assert (status, answer["code"]) == (404, 10070)
            status, answer = await call(session, "DELETE", events_path(fake, 12345))
            assert (status, answer["code"]) == (404, 10070)
            status, answer = await call(session, "GET", "guilds/42/scheduled-events")
            assert (status, answer["code"]) == (404, 10004)
        fake.assert_clean()

    run(main)


def test_manage_events_is_per_guild() -> None:
    async def main() -> None:
        async with standin() as fake, rest(fake) as session:
            other = fake.add_guild(fake.guild.id + 1000, [(fake.guild.id + 1001, "news")])
            fake.set_guild_bot_permissions(other.id, BOT_PERMISSIONS)
            path = f"guilds/{other.id}/scheduled-events"
            status, answer = await call(session, "POST", path, external())
            assert (status, answer["code"]) == (403, 50013)
            status, _ = await call(session, "POST", events_path(fake), external())
            assert status == 200

    run(main)
