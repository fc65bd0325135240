"""The bot on a sharded Discord: one process on every shard, or one process per shard.

The stand-in requires two shards, as Discord requires sharding from 2,500 guilds on, and
holds one guild on each: ``(guild_id >> 22) % 2`` is 0 for ``GUILD`` and 1 for
``SECOND_GUILD``. It routes each guild's interactions to the session of the shard that owns
the guild, so an answer from a guild proves that shard is served.
"""

import asyncio
import contextlib
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import discord
import discord.gateway
import discord.http
import pytest

from bot.core.clock import Clock
from bot.core.library import Library
from bot.delivery.ledger import Ledger
from bot.platforms.discord.client import BriefBot, shard_ranges
from bot.platforms.discord.runner import DiscordPlatform, DiscordStartError
from bot.runtime import Runtime, serve_platforms
from standins.discord_standin import DiscordStandIn
from tests.platforms.conditions import eventually
from tests.platforms.conftest import WRITTEN
from tests.platforms.discord_harness import GUILD, TIMEOUT, LogCapture, settings_for

pytestmark = pytest.mark.timeout(60)

SECOND_GUILD = GUILD + (1 << 22)
SECOND_CHANNEL = 1_300_000_000_000_000_201
SUMMIT = "Putin–Abe summit · The Kremlin, Moscow · 27 April 2017"


@pytest.fixture
def discord_options() -> dict[str, Any]:
    """Two shards recommended and required; both may identify at once."""
    return {"shards": 2, "required_shards": 2, "max_concurrency": 2}


@pytest.fixture
def two_guilds(discord: DiscordStandIn) -> DiscordStandIn:
    """The stand-in with a second guild, on shard 1."""
    assert (GUILD >> 22) % 2 == 0
    assert (SECOND_GUILD >> 22) % 2 == 1
    discord.add_guild(SECOND_GUILD, [(SECOND_CHANNEL, "second")], "Second Guild")
    return discord


class Instance:
    """One bot process's worth: its platform (client), ledger, and the guilds it was asked from."""

    def __init__(self, standin: DiscordStandIn, runtime: Runtime) -> None:
        runtime.settings.prepare_data_dir()
        self.ledger = Ledger.open(runtime.settings.database)
        self.runtime = runtime
        self.platform = DiscordPlatform(runtime, self.ledger, guild_ready_timeout=0.05)
        self.asked_from: list[int | None] = []

        async def on_interaction(interaction: discord.Interaction[Any]) -> None:
            self.asked_from.append(interaction.guild_id)

        self.bot.event(on_interaction)

    @property
    def bot(self) -> BriefBot:
        return self.platform.bot


@contextlib.asynccontextmanager
async def serving(*instances: Instance) -> AsyncIterator[None]:
    """Run every instance (start-up, gateway, scheduler) until the block ends."""
    old_base = discord.http.Route.BASE
    old_gateway = discord.gateway.DiscordWebSocket.DEFAULT_GATEWAY
    tasks = [
        asyncio.create_task(serve_platforms(i.runtime, i.ledger, [i.platform])) for i in instances
    ]
    try:
        for instance in instances:
            await eventually(
                lambda i=instance: i.bot.is_ready() or any(t.done() for t in tasks),  # type: ignore[misc]
                "every instance ready",
                TIMEOUT,
            )
        for task in tasks:
            if task.done():
                task.result()  # raises what stopped it
        yield
    finally:
        for task in tasks:
            task.cancel()
        for task in tasks:
            with contextlib.suppress(asyncio.CancelledError):
                await task
        for instance in instances:
            instance.ledger.close()
        discord.http.Route.BASE = old_base
        discord.gateway.DiscordWebSocket.DEFAULT_GATEWAY = old_gateway


def runtime_on(
    standin: DiscordStandIn, data_dir: Path, library: Library, **changes: Any
) -> Runtime:
    """A runtime syncing commands globally (two guilds), pinned at the brief's date."""
    settings = settings_for(standin, data_dir, discord_guild_id=None, **changes)
    return Runtime(settings, library, Clock(WRITTEN, 0.0))


async def summit_title(standin: DiscordStandIn, channel_id: int) -> str:
    """Run /summit in a channel and return the answer's first embed title."""
    record = await standin.send_command("summit", channel_id=channel_id)
    callback = await record.wait_response(TIMEOUT)
    assert callback.type == 4
    assert callback.data is not None
    title: str = callback.data["embeds"][0]["title"]
    return title


def test_shard_ranges() -> None:
    assert shard_ranges([7, 0, 1, 2, 3]) == "0-3,7"
    assert shard_ranges([1]) == "1"
    assert shard_ranges(range(4)) == "0-3"


async def test_one_process_runs_every_recommended_shard(
    two_guilds: DiscordStandIn, tmp_path: Path, library: Library, logs: LogCapture
) -> None:
    standin = two_guilds
    instance = Instance(standin, runtime_on(standin, tmp_path / "data", library))
    async with serving(instance):
        await standin.wait_for_ready(TIMEOUT)
        shards = sorted(frame["d"]["shard"] for frame in standin.identify_payloads)
        assert shards == [[0, 2], [1, 2]]
        assert sorted(g.id for g in instance.bot.guilds) == [GUILD, SECOND_GUILD]

        assert await summit_title(standin, standin.guild.channels[0].id) == SUMMIT
        assert await summit_title(standin, SECOND_CHANNEL) == SUMMIT
        assert instance.asked_from == [GUILD, SECOND_GUILD]
    assert len(standin.command_syncs) == 1, "synced once, not once per shard"
    assert any("this process runs all 2 shard(s) Discord recommends" in line for line in logs.lines)
    assert standin.gateway.closes == [], "no IDENTIFY was refused"


async def test_two_processes_each_serve_their_own_shard(
    two_guilds: DiscordStandIn, tmp_path: Path, library: Library, logs: LogCapture
) -> None:
    standin = two_guilds
    first, second = (
        Instance(
            standin,
            runtime_on(
                standin,
                tmp_path / f"shard-{shard}",
                library,
                discord_shard_count=2,
                discord_shard_ids=(shard,),
            ),
        )
        for shard in (0, 1)
    )
    async with serving(first, second):
        await standin.wait_for_ready(TIMEOUT)
        assert [g.id for g in first.bot.guilds] == [GUILD]
        assert [g.id for g in second.bot.guilds] == [SECOND_GUILD]

        assert await summit_title(standin, SECOND_CHANNEL) == SUMMIT
        assert await summit_title(standin, standin.guild.channels[0].id) == SUMMIT
        assert await summit_title(standin, SECOND_CHANNEL) == SUMMIT
        assert first.asked_from == [GUILD]
        assert second.asked_from == [SECOND_GUILD, SECOND_GUILD]
    assert len(standin.command_syncs) == 1, "only the process on shard 0 syncs"
    assert any("this process runs shards 0 of 2" in line for line in logs.lines)
    assert any("this process runs shards 1 of 2" in line for line in logs.lines)
    assert any("synced by the process that runs shard 0" in line for line in logs.lines)


async def test_a_shard_of_another_process_is_not_a_missing_channel(
    two_guilds: DiscordStandIn, tmp_path: Path, library: Library
) -> None:
    standin = two_guilds
    runtime = runtime_on(
        standin,
        tmp_path / "data",
        library,
        discord_shard_count=2,
        discord_shard_ids=(0,),
        reminder_channel_ids=(str(SECOND_CHANNEL),),
    )
    instance = Instance(standin, runtime)
    waiter = asyncio.create_task(standin.wait_for_shard(0, TIMEOUT))
    async with serving(instance):
        await waiter
        warnings = await instance.bot.check_permissions()
    assert warnings == [], "the channel's server is on shard 1, run by another process"


@pytest.mark.parametrize("discord", [{"required_shards": 2}], indirect=True)
async def test_too_few_shards_is_one_clear_line(
    two_guilds: DiscordStandIn, tmp_path: Path, library: Library, logs: LogCapture
) -> None:
    standin = two_guilds
    instance = Instance(
        standin, runtime_on(standin, tmp_path / "data", library, discord_shard_count=1)
    )
    with pytest.raises(DiscordStartError, match=r"close code 4011") as refused:
        async with serving(instance):
            pass
    assert "\n" not in str(refused.value)
    assert standin.gateway.closes == [(4011, "Sharding required.")]
