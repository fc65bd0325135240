"""Channel permissions and the nonce window, as Discord applies them, for the stand-in.

What is modelled (Discord API v10, "Permissions" and "Messages" topics):

- A member's permissions in a channel: the ``@everyone`` role (id = guild id) and
  the member's roles OR-ed together (``ADMINISTRATOR`` grants everything), then the
  channel's overwrites: ``@everyone``'s, then the member's roles' (denies then
  allows, combined), then the member's own.
- ``GET /channels/{id}/messages``: without ``VIEW_CHANNEL`` a 403 Missing Access
  (50001); without ``READ_MESSAGE_HISTORY`` an empty list, **not** an error, so a
  bot searching its history is blind without knowing it.
- ``POST /channels/{id}/messages``: without ``VIEW_CHANNEL`` 403 Missing Access
  (50001), without ``SEND_MESSAGES`` 403 Missing Permissions (50013); without
  ``EMBED_LINKS`` the embeds are dropped silently (the message is posted without
  them, or refused as empty if nothing else is left).
- A message nonce sent with ``enforce_nonce`` deduplicates only for a few minutes;
  after that the same nonce posts a second message.

An invite for a bot that looks for its own earlier posts needs VIEW_CHANNEL,
SEND_MESSAGES, EMBED_LINKS and READ_MESSAGE_HISTORY: 84992.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field

from .discord_payloads import (
    ATTACH_FILES,
    EMBED_LINKS,
    JSON,
    READ_MESSAGE_HISTORY,
    SEND_MESSAGES,
    VIEW_CHANNEL,
    DiscordError,
)

__all__ = [
    "CHANNEL_PERMISSIONS",
    "EMBED_LINKS",
    "INVITE_PERMISSIONS",
    "MEMBER_OVERWRITE",
    "NONCE_WINDOW",
    "READ_MESSAGE_HISTORY",
    "SEND_MESSAGES",
    "VIEW_CHANNEL",
    "NonceWindow",
    "Overwrite",
    "base_permissions",
    "channel_permissions",
    "history_error",
    "post_error",
]

ADMINISTRATOR = 1 << 3
ALL_PERMISSIONS = (1 << 53) - 1
INVITE_PERMISSIONS = VIEW_CHANNEL | SEND_MESSAGES | EMBED_LINKS | READ_MESSAGE_HISTORY
SEND_TTS_MESSAGES = 1 << 12
MENTION_EVERYONE = 1 << 17
#: The permissions that only mean something inside a channel (text, voice, stage, threads):
#: discord.py's ``Permissions.all_channel()``.
_CHANNEL_BITS = "0 4 6 8-18 20-25 28 29 31 32 34-39 42 45 46 49-52"
CHANNEL_PERMISSIONS = sum(
    1 << bit
    for span in _CHANNEL_BITS.split()
    for bit in range(int(span.split("-")[0]), int(span.split("-")[-1]) + 1)
)
#: What a message carries beyond its text, denied with Send Messages.
MESSAGE_EXTRAS = SEND_TTS_MESSAGES | EMBED_LINKS | ATTACH_FILES | MENTION_EVERYONE

MISSING_ACCESS = DiscordError(403, 50001, "Missing Access")

ROLE_OVERWRITE = 0
MEMBER_OVERWRITE = 1

#: How long Discord remembers a message nonce (it documents "a few minutes").
NONCE_WINDOW = 300.0


@dataclass(frozen=True)
class Overwrite:
    """One channel permission overwrite, for a role (type 0) or a member (type 1)."""

    id: int
    type: int
    allow: int = 0
    deny: int = 0

    def payload(self) -> JSON:
        """The overwrite object of a channel payload (bit sets as strings)."""
        return {
            "id": str(self.id),
            "type": self.type,
            "allow": str(self.allow),
            "deny": str(self.deny),
        }


def base_permissions(role_permissions: dict[int, int], guild_id: int, roles: Iterable[int]) -> int:
    """The member's guild-wide permissions: ``@everyone`` and their roles, OR-ed."""
    permissions = role_permissions.get(guild_id, 0)
    for role in roles:
        permissions |= role_permissions.get(role, 0)
    return ALL_PERMISSIONS if permissions & ADMINISTRATOR else permissions


def channel_permissions(
    base: int,
    overwrites: Sequence[Overwrite],
    *,
    guild_id: int,
    member_id: int,
    roles: Iterable[int],
) -> int:
    """Apply a channel's overwrites to ``base`` in Discord's order."""
    if base & ADMINISTRATOR:
        return ALL_PERMISSIONS
    permissions = base
    everyone = next((o for o in overwrites if o.type == ROLE_OVERWRITE and o.id == guild_id), None)
    if everyone is not None:
        permissions = (permissions & ~everyone.deny) | everyone.allow
    member_roles = set(roles)
    allow = deny = 0
    for overwrite in overwrites:
        if overwrite.type == ROLE_OVERWRITE and overwrite.id in member_roles:
            allow |= overwrite.allow
            deny |= overwrite.deny
    permissions = (permissions & ~deny) | allow
    own = next((o for o in overwrites if o.type == MEMBER_OVERWRITE and o.id == member_id), None)
    if own is not None:
        permissions = (permissions & ~own.deny) | own.allow
    return implicit(permissions)


def implicit(permissions: int) -> int:
    """Discord's implicit denials: no View Channel denies the channel's other permissions;
    no Send Messages denies what only a message can carry (embeds, files, mentions, TTS)."""
    if not permissions & VIEW_CHANNEL:
        return permissions & ~CHANNEL_PERMISSIONS
    if not permissions & SEND_MESSAGES:
        return permissions & ~MESSAGE_EXTRAS
    return permissions


def post_error(permissions: int) -> DiscordError | None:
    """Why Discord refuses a channel post with these permissions, if it does."""
    if not permissions & VIEW_CHANNEL:
        return MISSING_ACCESS
    if not permissions & SEND_MESSAGES:
        return DiscordError(403, 50013, "Missing Permissions")
    return None


def history_error(permissions: int) -> DiscordError | None:
    """Why Discord refuses to read a channel's history (no READ_MESSAGE_HISTORY: no error)."""
    return None if permissions & VIEW_CHANNEL else MISSING_ACCESS


@dataclass
class NonceWindow:
    """Nonces seen per channel, each forgotten ``window`` seconds after its post.

    Time is read from ``monotonic``, which a test may replace to move past the
    window without sleeping (or call :meth:`expire` to forget every nonce now).
    """

    window: float = NONCE_WINDOW
    monotonic: Callable[[], float] = time.monotonic
    _seen: dict[tuple[int, str], tuple[JSON, float]] = field(default_factory=dict)

    def earlier(self, channel_id: int, nonce: str) -> JSON | None:
        """The message posted with this nonce within the window, if any."""
        found = self._seen.get((channel_id, nonce))
        if found is None:
            return None
        message, at = found
        if self.monotonic() - at >= self.window:
            del self._seen[(channel_id, nonce)]
            return None
        return message

    def remember(self, channel_id: int, nonce: str, message: JSON) -> None:
        """Note that ``message`` was posted with ``nonce`` now."""
        self._seen[(channel_id, nonce)] = (message, self.monotonic())

    def expire(self) -> None:
        """Forget every nonce, as if the window had passed for all of them."""
        self._seen.clear()
