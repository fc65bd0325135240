"""The channel permissions the bot needs on Discord, and what breaks without each.

The invite asks for View Channel, Send Messages, Embed Links and Read Message
History (``INVITE_PERMISSIONS`` = 84992). A server can still take any of them
away in one channel; the bot then says which, where, and what stops working.
"""

from dataclasses import dataclass

import discord

INVITE_PERMISSIONS = 84992


@dataclass(frozen=True)
class Needed:
    """One permission: its discord.py flag name, its name in Discord's UI, what it is for."""

    flag: str
    name: str
    breaks: str


NEEDED = (
    Needed("view_channel", "View Channel", "the bot cannot see the channel: nothing can be posted"),
    Needed("send_messages", "Send Messages", "reminders cannot be posted there"),
    Needed(
        "embed_links",
        "Embed Links",
        "Discord drops the embeds: reminders and answers arrive without their text",
    ),
    Needed(
        "read_message_history",
        "Read Message History",
        "a retry after a lost reply or a crash cannot look for an earlier post; "
        "a reminder may be doubled",
    ),
)
SEARCH = ("view_channel", "read_message_history")
"""What searching a channel's history for an earlier post needs."""

assert sum(getattr(discord.Permissions, n.flag).flag for n in NEEDED) == INVITE_PERMISSIONS


def missing(permissions: discord.Permissions, flags: tuple[str, ...] | None = None) -> list[Needed]:
    """The needed permissions (or only ``flags``) that ``permissions`` lacks, in order."""
    return [
        needed
        for needed in NEEDED
        if (flags is None or needed.flag in flags) and not getattr(permissions, needed.flag)
    ]


def describe(lacking: list[Needed]) -> str:
    """``no Read Message History (a retry ... may be doubled)``, joined with semicolons."""
    return "; ".join(f"no {needed.name} ({needed.breaks})" for needed in lacking)


def channel_warning(
    name: str, channel_id: int | str, permissions: discord.Permissions
) -> str | None:
    """One line naming the channel and each missing permission with its effect, or ``None``."""
    lacking = missing(permissions)
    if not lacking:
        return None
    return f"Discord channel #{name} ({channel_id}): {describe(lacking)}"


def admin_warning(channel_id: int | str, permissions: discord.Permissions) -> str | None:
    """The same, for the admin who ran ``/reminders subscribe``: with what to do about it."""
    lacking = missing(permissions)
    if not lacking:
        return None
    names = ", ".join(needed.name for needed in lacking)
    return (
        f"\u26a0\ufe0f The bot lacks {names} in <#{channel_id}>: {describe(lacking)}. "
        "Grant them in the channel's permissions (or the bot's role)."
    )
