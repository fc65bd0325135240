"""``/reminders subscribe|unsubscribe|list``: for members who can manage channels."""

import asyncio
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

import discord
from discord import app_commands

from bot.delivery.ledger import SubscriptionSource
from bot.delivery.listing import SHOWN, reminders_reply
from bot.platforms.discord.embeds import reply_embeds, timestamp
from bot.platforms.discord.permissions import admin_warning
from bot.platforms.discord.replies import content

if TYPE_CHECKING:
    from bot.platforms.discord.context import BotContext

Interaction = discord.Interaction[Any]
COLOUR = discord.Colour(0x3A8F5C)
IN_A_SERVER = "Use /reminders in a server channel: reminders are posted in server channels."


def _bot(interaction: Interaction) -> "BotContext":
    bot: BotContext = interaction.client
    return bot


async def _private(interaction: Interaction, text: str) -> None:
    await interaction.response.send_message(
        content(text), ephemeral=True, allowed_mentions=discord.AllowedMentions.none()
    )


async def _outside_a_server(interaction: Interaction) -> bool:
    """Answer a /reminders sent from outside a server (a DM, or forged) with one line."""
    if interaction.guild_id is not None and interaction.channel_id is not None:
        return False
    await _private(interaction, IN_A_SERVER)
    return True


def _permissions_in(interaction: Interaction, target: int) -> discord.Permissions | None:
    """The bot's permissions in ``target``: from the interaction, or else the gateway's cache."""
    if target == interaction.channel_id:
        return interaction.app_permissions
    channel = _bot(interaction).get_channel(target)
    if isinstance(channel, (discord.abc.GuildChannel, discord.Thread)) and channel.guild.me:
        return channel.permissions_for(channel.guild.me)
    return None


group = app_commands.Group(
    name="reminders",
    description="Reminders before the meetings in the briefs, for this server's channels",
    default_permissions=discord.Permissions(manage_channels=True),
    guild_only=True,
)


@group.command(name="subscribe", description="Post reminders in a channel (default: this one)")
@app_commands.describe(channel="The channel to post reminders in")
async def subscribe(interaction: Interaction, channel: discord.TextChannel | None = None) -> None:
    """Subscribe a channel, and tell the admin which needed permissions the bot lacks there."""
    if await _outside_a_server(interaction):
        return
    bot = _bot(interaction)
    target = channel.id if channel else interaction.channel_id
    assert target is not None
    assert interaction.guild_id is not None
    ledger = bot.ledger
    await asyncio.to_thread(
        ledger.subscribe,
        "discord",
        str(target),
        guild_id=str(interaction.guild_id),
        source=SubscriptionSource.COMMAND,
        now=datetime.now(UTC),
    )
    ahead = bot.scheduler.upcoming() if bot.scheduler else []
    nxt = (
        f" Next: **{ahead[0].event.name}** ({ahead[0].offset.label} before) "
        f"{timestamp(int(ahead[0].due_at.timestamp()), 'R')}."
        if ahead
        else ""
    )
    text = f"<#{target}> will get reminders ({len(ahead)} planned).{nxt}"
    permissions = _permissions_in(interaction, target)
    warning = admin_warning(target, permissions) if permissions is not None else None
    await _private(interaction, f"{text}\n{warning}" if warning else text)
    await bot.check_permissions()


@group.command(name="unsubscribe", description="Stop reminders in a channel (default: this one)")
@app_commands.describe(channel="The channel to stop posting reminders in")
async def unsubscribe(interaction: Interaction, channel: discord.TextChannel | None = None) -> None:
    """Unsubscribe a channel."""
    if await _outside_a_server(interaction):
        return
    target = channel.id if channel else interaction.channel_id
    removed = await asyncio.to_thread(_bot(interaction).ledger.unsubscribe, "discord", str(target))
    if removed:
        await _private(interaction, f"<#{target}> will get no more reminders.")
    else:
        await _private(interaction, f"<#{target}> was not subscribed to reminders.")
    await _bot(interaction).check_permissions()


@group.command(name="list", description="Upcoming reminders, channels and recent deliveries")
async def show(interaction: Interaction) -> None:
    """What will be posted where and when, and what was posted, late, missed or refused."""
    if await _outside_a_server(interaction):
        return
    bot = _bot(interaction)
    guild = interaction.guild
    if guild is None:  # a server the gateway has not told the bot about
        await _private(interaction, IN_A_SERVER)
        return
    channel_ids = {str(channel.id) for channel in guild.channels}
    subscriptions = [
        s
        for s in await asyncio.to_thread(bot.ledger.subscriptions, platform="discord")
        if s.guild_id == str(guild.id) or s.channel_id in channel_ids
    ]
    mine = {s.channel_id for s in subscriptions}
    deliveries = await asyncio.to_thread(
        bot.ledger.deliveries, platform="discord", channel_ids=mine, limit=SHOWN
    )
    ahead = bot.scheduler.upcoming() if bot.scheduler else []
    reply = reminders_reply(bot.runtime.library, ahead, subscriptions, deliveries)
    await interaction.response.send_message(
        embeds=reply_embeds(reply),
        ephemeral=True,
        allowed_mentions=discord.AllowedMentions.none(),
    )
