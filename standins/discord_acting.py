"""The stand-in's acting user: slash commands, autocomplete and button clicks, sent to the bot.

A mixin of :class:`~standins.discord_standin.DiscordStandIn`: it builds each
INTERACTION_CREATE as Discord does (a guild interaction carries ``member``, ``guild_id`` and
``app_permissions`` = the bot's permissions in that channel; one from a DM carries ``user``
and no guild) and records it as an :class:`InteractionRecord` the test can wait on.
"""

# The waiting helpers take a ``timeout`` argument on purpose: tests read better that way.
# ruff: noqa: ASYNC109

from __future__ import annotations

import secrets
import time
from collections.abc import Mapping
from typing import TYPE_CHECKING

from .discord_payloads import (
    ATTACHMENT_SIZE_LIMIT,
    JSON,
    MEMBER_PERMISSIONS,
    SnowflakeFactory,
    StandInChannel,
    StandInGuild,
    StandInUser,
    build_options,
    iter_components,
)
from .discord_records import InteractionRecord

if TYPE_CHECKING:
    from collections.abc import Callable

    from .discord_gateway import Gateway

# Interaction types.
INTERACTION_COMMAND = 2
INTERACTION_COMPONENT = 3
INTERACTION_AUTOCOMPLETE = 4


class ActingUser:
    """Sends interactions to the bot as a Discord user would (mixed into the stand-in)."""

    if TYPE_CHECKING:  # provided by DiscordStandIn
        application_id: int
        guilds: list[StandInGuild]
        member: StandInUser
        interactions: list[InteractionRecord]
        messages: dict[int, JSON]
        gateway: Gateway
        _snowflake: SnowflakeFactory
        _commands: dict[int | None, list[JSON]]
        _by_id: dict[int, InteractionRecord]
        _by_token: dict[str, InteractionRecord]

        def bot_permissions_in(self, channel_id: int) -> int: ...
        def notify(self) -> None: ...
        def _find_channel(self, channel_id: int) -> tuple[StandInGuild, StandInChannel] | None: ...
        async def wait_until(
            self, predicate: Callable[[], bool], timeout: float = 5.0, what: str = "a condition"
        ) -> None: ...

    def resolve_channel(self, value: object, resolved: JSON) -> str:
        """Turn a channel option's value (an id or a channel) into its id, filling ``resolved``."""
        channel_id = value.id if isinstance(value, StandInChannel) else int(value)  # type: ignore[call-overload]
        found = self._find_channel(channel_id)
        if found is None:
            raise ValueError(f"no channel {channel_id} in the stand-in's guilds")
        payload = found[1].payload(found[0].id, permissions=self.member.permissions)
        resolved.setdefault("channels", {})[str(channel_id)] = payload
        return str(channel_id)

    def _place(
        self, guild_id: int | None, channel_id: int | None
    ) -> tuple[StandInGuild, StandInChannel]:
        if channel_id is not None:
            found = self._find_channel(channel_id)
            if found is None:
                raise ValueError(f"no channel {channel_id} in the stand-in's guilds")
            return found
        guild = next((g for g in self.guilds if guild_id in (None, g.id)), None)
        if guild is None or not guild.channels:
            raise ValueError(f"no guild {guild_id} with channels in the stand-in")
        return guild, guild.channels[0]

    def _find_command(self, guild_id: int, name: str) -> tuple[JSON, bool]:
        for scope in (guild_id, None):
            for command in self._commands.get(scope, []):
                if command["name"] == name and command.get("type", 1) == 1:
                    return command, scope is not None
        raise LookupError(f"the bot has not synced a slash command named {name!r}")

    def _app_permissions(self, channel_id: int) -> str:
        """The bot's permissions in the interaction's channel, as Discord sends them."""
        return str(self.bot_permissions_in(channel_id))

    async def _interact(
        self,
        kind: int,
        *,
        name: str,
        data: JSON,
        guild: StandInGuild | None,
        channel: StandInChannel,
        user: StandInUser | None,
        message: JSON | None = None,
    ) -> InteractionRecord:
        user = user or self.member
        interaction_id = self._snowflake()
        token = "aW50ZXJhY3Rpb24" + secrets.token_urlsafe(48)
        if guild is None:
            payload = self._dm_payload(
                interaction_id=interaction_id,
                token=token,
                kind=kind,
                channel=channel,
                user=user,
                data=data,
            )
        else:
            payload = self._guild_payload(
                interaction_id=interaction_id,
                token=token,
                kind=kind,
                guild=guild,
                channel=channel,
                user=user,
                data=data,
            )
        if message is not None:
            payload["message"] = message
        rec = InteractionRecord(
            interaction_id,
            token,
            kind,
            name,
            guild.id if guild is not None else 0,
            channel.id,
            payload,
            standin=self,
        )
        self.interactions.append(rec)
        self._by_id[interaction_id] = rec
        self._by_token[token] = rec
        await self.wait_until(lambda: self.gateway.has_session, 5.0, "a gateway session")

        def stamp() -> None:
            rec.sent_at = time.perf_counter()

        await self.gateway.dispatch("INTERACTION_CREATE", payload, before_send=stamp)
        self.notify()
        return rec

    def _dm_payload(
        self,
        *,
        interaction_id: int,
        token: str,
        kind: int,
        channel: StandInChannel,
        user: StandInUser,
        data: JSON,
    ) -> JSON:
        """An interaction from a DM with the bot: no guild, no member, a ``user`` instead."""
        return {
            "id": str(interaction_id),
            "application_id": str(self.application_id),
            "type": kind,
            "token": token,
            "version": 1,
            "channel_id": str(channel.id),
            "channel": {
                "id": str(channel.id),
                "type": 1,
                "last_message_id": None,
                "flags": 0,
                "recipients": [user.payload()],
            },
            "user": user.payload(),
            "app_permissions": str(MEMBER_PERMISSIONS),
            "locale": user.locale,
            "entitlements": [],
            "context": 1,
            "authorizing_integration_owners": {"1": str(user.id)},
            "attachment_size_limit": ATTACHMENT_SIZE_LIMIT,
            "data": data,
        }

    def _guild_payload(
        self,
        *,
        interaction_id: int,
        token: str,
        kind: int,
        guild: StandInGuild,
        channel: StandInChannel,
        user: StandInUser,
        data: JSON,
    ) -> JSON:
        return {
            "id": str(interaction_id),
            "application_id": str(self.application_id),
            "type": kind,
            "token": token,
            "version": 1,
            "guild_id": str(guild.id),
            "guild": {"id": str(guild.id), "locale": guild.locale, "features": []},
            "channel_id": str(channel.id),
            "channel": channel.payload(guild.id, permissions=user.permissions),
            "member": user.member_payload(with_permissions=True),
            "app_permissions": self._app_permissions(channel.id),
            "locale": user.locale,
            "guild_locale": guild.locale,
            "entitlements": [],
            "context": 0,
            "authorizing_integration_owners": {"0": str(guild.id)},
            "attachment_size_limit": ATTACHMENT_SIZE_LIMIT,
            "data": data,
        }

    async def _command_interaction(
        self,
        kind: int,
        *,
        name: str,
        options: Mapping[str, object] | None,
        focused: str | None,
        guild_id: int | None,
        channel_id: int | None,
        user: StandInUser | None,
        in_dm: bool = False,
    ) -> InteractionRecord:
        guild, channel = self._place(guild_id, channel_id)
        if in_dm:
            channel = StandInChannel(self._snowflake(), "dm", type=1)
        top, *path = name.split()
        command, is_guild_command = self._find_command(guild.id, top)
        resolved: JSON = {}
        built = build_options(
            command.get("options") or [],
            path,
            options or {},
            focused=focused,
            resolver=self,
            resolved=resolved,
        )
        data: JSON = {"id": command["id"], "name": top, "type": 1, "options": built}
        if resolved:
            data["resolved"] = resolved
        if is_guild_command and not in_dm:
            data["guild_id"] = str(guild.id)
        return await self._interact(
            kind, name=name, data=data, guild=None if in_dm else guild, channel=channel, user=user
        )

    async def send_command(
        self,
        name: str,
        options: Mapping[str, object] | None = None,
        *,
        guild_id: int | None = None,
        channel_id: int | None = None,
        user: StandInUser | None = None,
        in_dm: bool = False,
    ) -> InteractionRecord:
        """Run slash command ``name`` ("cmd" or "cmd sub") as ``user``.

        ``options`` maps option names to values (text, or channels by id or as
        :class:`StandInChannel`); types come from the synced command.
        ``in_dm`` sends it from a DM with the bot (no ``guild_id``, no ``member``), as a
        forged request could even for a server-only command.
        """
        return await self._command_interaction(
            INTERACTION_COMMAND,
            name=name,
            options=options,
            focused=None,
            guild_id=guild_id,
            channel_id=channel_id,
            user=user,
            in_dm=in_dm,
        )

    async def send_autocomplete(
        self,
        name: str,
        options_with_focused: Mapping[str, object],
        *,
        focused: str | None = None,
        guild_id: int | None = None,
        channel_id: int | None = None,
        user: StandInUser | None = None,
    ) -> InteractionRecord:
        """Send an autocomplete request; ``focused`` defaults to the last option given."""
        if not options_with_focused:
            raise ValueError("autocomplete needs at least the focused option")
        return await self._command_interaction(
            INTERACTION_AUTOCOMPLETE,
            name=name,
            options=options_with_focused,
            focused=focused or list(options_with_focused)[-1],
            guild_id=guild_id,
            channel_id=channel_id,
            user=user,
        )

    def _message_with(self, custom_id: str, message: JSON | int | None) -> tuple[JSON, JSON]:
        candidates: list[JSON]
        if message is None:
            candidates = [self.messages[i] for i in sorted(self.messages, reverse=True)]
        elif isinstance(message, int):
            candidates = [self.messages[message]] if message in self.messages else []
        else:
            candidates = [self.messages.get(int(message["id"]), message)]
        for candidate in candidates:
            for component in iter_components(candidate.get("components")):
                if component.get("custom_id") == custom_id:
                    if component.get("disabled"):
                        raise ValueError(f"component {custom_id!r} is disabled")
                    return candidate, component
        raise LookupError(f"no message carries a component with custom_id {custom_id!r}")

    async def click_button(
        self, custom_id: str, message: JSON | int | None = None, user: StandInUser | None = None
    ) -> InteractionRecord:
        """Click a button; ``message`` (payload or id) defaults to the newest carrying it."""
        found_message, component = self._message_with(custom_id, message)
        placed = self._find_channel(int(found_message["channel_id"]))
        if placed is None:
            raise ValueError(f"the message's channel {found_message['channel_id']} is gone")
        guild, channel = placed
        return await self._interact(
            INTERACTION_COMPONENT,
            name=custom_id,
            data={"custom_id": custom_id, "component_type": component["type"]},
            guild=guild,
            channel=channel,
            user=user,
            message=found_message,
        )
