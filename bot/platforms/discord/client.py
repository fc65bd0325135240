"""The Discord client: slash commands, the Sources button, one error handler, sync on change.

The client is sharded (discord.py's ``AutoShardedClient``): it runs the shards named by
``DISCORD_SHARD_COUNT`` and ``DISCORD_SHARD_IDS``, or as many as ``GET /gateway/bot``
recommends. Nothing here depends on which shard a command or event came on: posting is REST,
and the gateway cache is the union of this process's shards.
"""

import asyncio
import logging
from collections.abc import Iterable
from typing import Any

import discord
from discord import app_commands

from bot.core.commands import UsageError
from bot.core.library import UnknownChoice
from bot.delivery.ledger import Ledger, LedgerError
from bot.delivery.scheduler import ReminderScheduler
from bot.platforms.cache import RenderCache
from bot.platforms.discord import commands, reminders
from bot.platforms.discord.calendar_button import CalendarButton
from bot.platforms.discord.permissions import channel_warning
from bot.platforms.discord.reminder_button import ReminderSourcesButton
from bot.platforms.discord.replies import error_text
from bot.platforms.discord.scheduled_events import EventMirror
from bot.platforms.discord.sources import SourcesButton, rendered_answer
from bot.platforms.discord.sync import sync_commands
from bot.runtime import Runtime

log = logging.getLogger(__name__)

IDENTIFY_SPACING = 5.0
"""Seconds between two IDENTIFYs in one of Discord's session start buckets."""

APOLOGY = "Sorry, something went wrong while answering. It has been logged; please try again later."
UNAVAILABLE = "That command is not available any more. Type / to see the current commands."


def intents() -> discord.Intents:
    """Only the guilds intent: no privileged intents, no message content."""
    wanted = discord.Intents.none()
    wanted.guilds = True
    return wanted


def shard_ranges(shard_ids: Iterable[int]) -> str:
    """``0-3,7`` for shards 0, 1, 2, 3 and 7."""
    ranges: list[list[int]] = []
    for shard_id in sorted(set(shard_ids)):
        if ranges and shard_id == ranges[-1][1] + 1:
            ranges[-1][1] = shard_id
        else:
            ranges.append([shard_id, shard_id])
    return ",".join(str(low) if low == high else f"{low}-{high}" for low, high in ranges)


class BriefBot(discord.AutoShardedClient):
    """A Discord client answering from ``runtime``'s briefs, on the shards its settings name."""

    def __init__(
        self,
        runtime: Runtime,
        ledger: Ledger,
        *,
        force_sync: bool = False,
        **options: Any,
    ) -> None:
        # A briefing bot never joins voice: discord.py need not warn that voice is unsupported.
        discord.VoiceClient.warn_nacl = False
        discord.VoiceClient.warn_dave = False
        settings = runtime.settings
        options.setdefault("shard_count", settings.discord_shard_count)
        if settings.discord_shard_ids:
            options.setdefault("shard_ids", list(settings.discord_shard_ids))
        super().__init__(
            intents=intents(),
            allowed_mentions=discord.AllowedMentions.none(),
            member_cache_flags=discord.MemberCacheFlags.none(),
            chunk_guilds_at_startup=False,
            **options,
        )
        self.runtime = runtime
        self.ledger = ledger
        self.force_sync = force_sync
        self.scheduler: ReminderScheduler | None = None  # shared, set by the platform
        self.rendered = RenderCache(rendered_answer)
        self.tree: app_commands.CommandTree[BriefBot] = app_commands.CommandTree(self)
        self.tree.on_error = self.on_app_command_error  # type: ignore[method-assign]
        self.synced: bool | None = None
        self.permission_warnings: list[str] = []
        self.max_concurrency = 1  # IDENTIFYs at once, from GET /gateway/bot
        self.recommended = False  # whether the shard count is Discord's recommendation
        self._identified: dict[int, float] = {}  # session start bucket -> last IDENTIFY
        self._started_shards: set[int] = set()
        self.scheduled_events = EventMirror(self, runtime, ledger)

    @property
    def runs_every_shard(self) -> bool:
        """Whether this process runs all the bot's shards (else other processes run some)."""
        return self.shard_ids is None or (
            self.shard_count is not None and set(self.shard_ids) >= set(range(self.shard_count))
        )

    def describe_shards(self) -> str:
        """``shards 0-1 of 4``, or ``all 2 shard(s) Discord recommends``."""
        count = self.shard_count
        if self.recommended:
            return f"all {count} shard(s) Discord recommends"
        ids = self.shard_ids if self.shard_ids is not None else range(count or 1)
        return f"shards {shard_ranges(ids)} of {count}"

    async def plan_shards(self) -> None:
        """Ask ``GET /gateway/bot`` for the recommended count (used when none is set) and how
        many IDENTIFYs may go at once; say which shards this process runs."""
        recommended: int | None = None
        try:
            recommended, _url, limits = await self.http.get_bot_gateway()
            self.max_concurrency = max(int(limits.get("max_concurrency", 1)), 1)
        except discord.GatewayNotFound:
            if self.shard_count is None:
                raise
            log.warning("Discord: GET /gateway/bot failed: identifying one shard at a time")
        if self.shard_count is None:
            self.shard_count, self.recommended = recommended, True
        elif recommended is not None and self.shard_count < recommended:
            log.warning(
                "Discord recommends %d shards but DISCORD_SHARD_COUNT is %d: "
                "Discord refuses too few shards (close code 4011)",
                recommended,
                self.shard_count,
            )
        log.info("Discord: this process runs %s", self.describe_shards())

    async def connect(self, *, reconnect: bool = True) -> None:
        """Settle the shards (see :meth:`plan_shards`), then open their gateway sessions."""
        await self.plan_shards()
        await super().connect(reconnect=reconnect)

    async def before_identify_hook(self, shard_id: int | None, *, initial: bool = False) -> None:
        """Space the shards' first IDENTIFYs as Discord asks: one per 5 s in each of
        ``max_concurrency`` buckets (shard id modulo ``max_concurrency``). A shard that
        identifies again waits as discord.py does."""
        if shard_id is None or shard_id in self._started_shards:
            await super().before_identify_hook(shard_id, initial=initial)
            return
        self._started_shards.add(shard_id)
        bucket = shard_id % self.max_concurrency
        last = self._identified.get(bucket)
        if last is not None:
            wait = last + IDENTIFY_SPACING - self.loop.time()
            if wait > 0:
                await asyncio.sleep(wait)
        self._identified[bucket] = self.loop.time()

    async def setup_hook(self) -> None:
        """Register the commands and the Sources button; sync commands if they changed."""
        for command in commands.build(with_brief=len(self.runtime.library.briefs) > 1):
            self.tree.add_command(command)
        self.tree.add_command(reminders.group)
        self.add_dynamic_items(SourcesButton, ReminderSourcesButton, CalendarButton)
        assert self.application_id is not None, "login() sets the application id"
        if not self.force_sync and self.shard_ids is not None and 0 not in self.shard_ids:
            log.info("slash commands are synced by the process that runs shard 0")
            self.synced = False
            return
        self.synced = await sync_commands(
            self.tree,
            self.application_id,
            self.runtime.settings.discord_guild_id,
            self.runtime.settings.prepare_data_dir(),
            force=self.force_sync,
        )

    async def on_ready(self) -> None:
        """Say who we are and where, once every shard of this process is ready."""
        guilds = ", ".join(f"{guild.name} ({guild.id})" for guild in self.guilds) or "none yet"
        log.info(
            "Discord: ready as %s on %s, in %d guild(s): %s",
            self.user,
            self.describe_shards(),
            len(self.guilds),
            guilds,
        )
        await self.check_permissions()
        self.scheduled_events.request(self.guilds)

    async def on_guild_join(self, guild: discord.Guild) -> None:
        """A new guild: copy the briefs' events into its Events tab (when turned on)."""
        self.scheduled_events.request([guild])

    async def close(self) -> None:
        """Stop syncing scheduled events, then disconnect."""
        await self.scheduled_events.close()
        await super().close()

    async def on_shard_ready(self, shard_id: int) -> None:
        """A shard has a fresh session: after start-up, check the permissions again."""
        count = sum(1 for guild in self.guilds if guild.shard_id == shard_id)
        log.info("Discord: shard %d ready in %d guild(s)", shard_id, count)
        if self.is_ready():  # at start-up, on_ready checks once every shard is in
            await self.check_permissions()

    async def check_permissions(self) -> list[str]:
        """Warn once per subscribed channel where the bot lacks a permission it needs.

        Reads the bot's permissions from the gateway's cache; the result is kept
        in ``permission_warnings`` (one line per channel) for ``briefbot schedule``.
        A process running only some of the shards leaves a channel it does not see to
        the process whose shard has the channel's server.
        Run when the gateway is ready, when a channel or role changes, and after
        ``/reminders subscribe`` and ``unsubscribe``; a warning is logged when it first appears.
        """
        try:
            channel_ids = await asyncio.to_thread(self.ledger.active_channels, "discord")
        except LedgerError as error:
            log.warning("cannot check the channels' permissions now: %s", error)
            return self.permission_warnings
        by_channel: dict[str, str | None] = {}
        for channel_id in channel_ids:
            channel = self.get_channel(int(channel_id)) if channel_id.isdigit() else None
            if not isinstance(channel, (discord.abc.GuildChannel, discord.Thread)):
                if not self.runs_every_shard:
                    continue
                by_channel[channel_id] = (
                    f"Discord channel {channel_id}: not in any server the bot is in: "
                    "reminders cannot be posted there"
                )
                continue
            me = channel.guild.me
            if me is None:
                continue
            by_channel[channel_id] = channel_warning(
                channel.name, channel_id, channel.permissions_for(me)
            )
        warnings = [warning for warning in by_channel.values() if warning is not None]
        for warning in warnings:
            if warning not in self.permission_warnings:  # each once, not on every check
                log.warning("%s", warning)
        self.permission_warnings = warnings
        try:  # kept in the ledger, for briefbot schedule
            await asyncio.to_thread(self.ledger.set_warnings, "discord", by_channel)
        except LedgerError as error:
            log.warning("cannot record the channels' permissions now: %s", error)
        return warnings

    async def on_guild_channel_update(
        self, before: discord.abc.GuildChannel, after: discord.abc.GuildChannel
    ) -> None:
        """A channel's overwrites may have changed: check the permissions again."""
        await self.check_permissions()

    async def on_guild_role_update(self, before: discord.Role, after: discord.Role) -> None:
        """A role's permissions may have changed: check the permissions again."""
        await self.check_permissions()

    async def on_resumed(self) -> None:
        """Note a resumed gateway session."""
        log.info("Discord: gateway session resumed")

    async def on_app_command_error(
        self, interaction: discord.Interaction[Any], error: app_commands.AppCommandError
    ) -> None:
        """The one handler for every slash command's failure."""
        await self.report_error(interaction, error)

    async def report_error(self, interaction: discord.Interaction[Any], error: Exception) -> None:
        """Tell the user privately: their mistake with the valid choices, or a short apology."""
        original = getattr(error, "original", error)
        if isinstance(original, (UnknownChoice, UsageError)):
            message = error_text(original)
        elif isinstance(original, app_commands.CommandNotFound):
            message = UNAVAILABLE
        else:
            name = interaction.command.name if interaction.command else interaction.data
            log.error("Discord: answering %s failed", name, exc_info=original)
            message = APOLOGY
        try:
            if interaction.response.is_done():
                await interaction.followup.send(
                    message, ephemeral=True, allowed_mentions=discord.AllowedMentions.none()
                )
            else:
                await interaction.response.send_message(
                    message, ephemeral=True, allowed_mentions=discord.AllowedMentions.none()
                )
        except discord.HTTPException as failure:
            log.error("Discord: could not tell the user about an error: %s", failure)
