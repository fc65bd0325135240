"""The baseline: the smallest discord.py 2.7 bot answering /summit, /mous and /next-meeting.

Each command answers the same fixed short string. It is the floor that any bot built on
discord.py reaches on a machine, and the yardstick briefbot's own cost is measured against.
Set up like briefbot: only the guilds intent, no member cache, no guild chunking, no mentions,
the commands synced to the guild in ``setup_hook``; pointed at Discord (or at the stand-in) by
the same settings: ``DISCORD_TOKEN``, ``DISCORD_GUILD_ID``, ``DISCORD_API_BASE_URL`` and
``DISCORD_GATEWAY_URL``. SIGTERM closes it cleanly.

Run: ``python bench/baseline_discord.py``. It imports nothing from briefbot.
"""

import asyncio
import contextlib
import os
import signal
from collections.abc import Callable, Coroutine
from typing import Any

import discord
import discord.gateway
import discord.http
import yarl
from discord import app_commands

ANSWER = "ok"
Callback = Callable[[discord.Interaction[Any]], Coroutine[Any, Any, None]]
COMMANDS = {
    "summit": "The summit at a glance",
    "mous": "The memorandums of understanding",
    "next-meeting": "The meetings ahead",
}


async def answer(interaction: discord.Interaction[Any]) -> None:
    """Every command's callback: the fixed string, at once."""
    await interaction.response.send_message(ANSWER)


class BaselineBot(discord.Client):
    """A client with a command tree of three fixed-answer commands for one guild."""

    def __init__(self, guild_id: int, callback: Callback = answer) -> None:
        discord.VoiceClient.warn_nacl = False  # as briefbot: no voice, no warning about it
        discord.VoiceClient.warn_dave = False
        wanted = discord.Intents.none()
        wanted.guilds = True
        super().__init__(
            intents=wanted,
            allowed_mentions=discord.AllowedMentions.none(),
            member_cache_flags=discord.MemberCacheFlags.none(),
            chunk_guilds_at_startup=False,
        )
        self.guild = discord.Object(id=guild_id)
        self.tree: app_commands.CommandTree[BaselineBot] = app_commands.CommandTree(self)
        for name, description in COMMANDS.items():
            command: app_commands.Command[Any, ..., None] = app_commands.Command(
                name=name, description=description, callback=callback
            )
            self.tree.add_command(command, guild=self.guild)

    async def setup_hook(self) -> None:
        """Sync the three commands to the guild."""
        await self.tree.sync(guild=self.guild)


async def main(make: Callable[[int], BaselineBot] = BaselineBot) -> None:
    """Point discord.py at the configured endpoints, run ``make(guild id)`` until SIGTERM."""
    api = os.environ.get("DISCORD_API_BASE_URL")
    gateway = os.environ.get("DISCORD_GATEWAY_URL")
    if api:
        discord.http.Route.BASE = api
    if gateway:
        discord.gateway.DiscordWebSocket.DEFAULT_GATEWAY = yarl.URL(gateway)
    bot = make(int(os.environ["DISCORD_GUILD_ID"]))
    stopping: set[asyncio.Task[None]] = set()

    def stop() -> None:
        stopping.add(asyncio.create_task(bot.close()))

    with contextlib.suppress(NotImplementedError):  # not on Windows
        asyncio.get_running_loop().add_signal_handler(signal.SIGTERM, stop)
    async with bot:
        await bot.start(os.environ["DISCORD_TOKEN"])
    await asyncio.gather(*stopping)


if __name__ == "__main__":
    asyncio.run(main())
