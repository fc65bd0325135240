"""The Discord client: slash commands, the Sources button, one error handler, sync on change."""

import asyncio
import logging
from typing import Any

import discord
from discord import app_commands

from bot.core.commands import UsageError
from bot.core.library import UnknownChoice
from bot.delivery.ledger import Ledger, LedgerError
from bot.delivery.scheduler import ReminderScheduler
from bot.platforms.cache import RenderCache
from bot.platforms.discord import commands, reminders
from bot.platforms.discord.permissions import channel_warning
from bot.platforms.discord.reminder_button import ReminderSourcesButton
from bot.platforms.discord.replies import error_text
from bot.platforms.discord.sources import SourcesButton, rendered_answer
from bot.platforms.discord.sync import sync_commands
from bot.runtime import Runtime

log = logging.getLogger(__name__)

APOLOGY = "Sorry, something went wrong while answering. It has been logged; please try again later."
UNAVAILABLE = "That command is not available any more. Type / to see the current commands."


def intents() -> discord.Intents:
    """Only the guilds intent: no privileged intents, no message content."""
    wanted = discord.Intents.none()
    wanted.guilds = True
    return wanted


class BriefBot(discord.Client):
    """A Discord client answering from ``runtime``'s briefs."""

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

    async def setup_hook(self) -> None:
        """Register the commands and the Sources button; sync commands if they changed."""
        for command in commands.build(with_brief=len(self.runtime.library.briefs) > 1):
            self.tree.add_command(command)
        self.tree.add_command(reminders.group)
        self.add_dynamic_items(SourcesButton, ReminderSourcesButton)
        assert self.application_id is not None, "login() sets the application id"
        self.synced = await sync_commands(
            self.tree,
            self.application_id,
            self.runtime.settings.discord_guild_id,
            self.runtime.settings.prepare_data_dir(),
            force=self.force_sync,
        )

    async def on_ready(self) -> None:
        """Say who we are and where."""
        guilds = ", ".join(f"{guild.name} ({guild.id})" for guild in self.guilds) or "none yet"
        log.info("Discord: ready as %s in %d guild(s): %s", self.user, len(self.guilds), guilds)
        await self.check_permissions()

    async def check_permissions(self) -> list[str]:
        """Warn once per subscribed channel where the bot lacks a permission it needs.

        Reads the bot's permissions from the gateway's cache; the result is kept
        in ``permission_warnings`` (one line per channel) for ``briefbot schedule``.
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
