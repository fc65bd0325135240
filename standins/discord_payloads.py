"""Discord API v10 payloads for the loopback Discord stand-in.

Plain functions and dataclasses that build the JSON objects Discord sends (users, members,
guilds, channels, messages, interactions), check what a bot sends against Discord's documented
limits, and turn a test's ``{"option": value}`` mapping into interaction options shaped after
the command the bot synced. Nothing here does I/O; ``discord_standin`` serves these payloads.
"""

from __future__ import annotations

import datetime as dt
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

JSON = dict[str, Any]

DISCORD_EPOCH_MS = 1_420_070_400_000

# Permission bits (https://discord.com/developers/docs/topics/permissions).
CREATE_INSTANT_INVITE = 1 << 0
ADD_REACTIONS = 1 << 6
VIEW_CHANNEL = 1 << 10
SEND_MESSAGES = 1 << 11
EMBED_LINKS = 1 << 14
ATTACH_FILES = 1 << 15
READ_MESSAGE_HISTORY = 1 << 16
USE_EXTERNAL_EMOJIS = 1 << 18
CONNECT = 1 << 20
SPEAK = 1 << 21
CHANGE_NICKNAME = 1 << 26
USE_APPLICATION_COMMANDS = 1 << 31
SEND_MESSAGES_IN_THREADS = 1 << 38

#: What an ordinary member of a fresh server may do: no administrator, no moderation.
MEMBER_PERMISSIONS = (
    CREATE_INSTANT_INVITE
    | ADD_REACTIONS
    | VIEW_CHANNEL
    | SEND_MESSAGES
    | EMBED_LINKS
    | ATTACH_FILES
    | READ_MESSAGE_HISTORY
    | USE_EXTERNAL_EMOJIS
    | CONNECT
    | SPEAK
    | CHANGE_NICKNAME
    | USE_APPLICATION_COMMANDS
    | SEND_MESSAGES_IN_THREADS
)
#: What the bot's managed role grants by default.
BOT_PERMISSIONS = (
    VIEW_CHANNEL
    | SEND_MESSAGES
    | EMBED_LINKS
    | ATTACH_FILES
    | READ_MESSAGE_HISTORY
    | ADD_REACTIONS
    | USE_EXTERNAL_EMOJIS
    | SEND_MESSAGES_IN_THREADS
)

# Gateway intents that must be switched on in the developer portal.
PRIVILEGED_INTENTS = (1 << 1) | (1 << 8) | (1 << 15)

# Application command option types.
OPT_SUB_COMMAND = 1
OPT_SUB_COMMAND_GROUP = 2
OPT_STRING = 3
OPT_INTEGER = 4
OPT_BOOLEAN = 5
OPT_USER = 6
OPT_CHANNEL = 7
OPT_ROLE = 8
OPT_MENTIONABLE = 9
OPT_NUMBER = 10
OPT_ATTACHMENT = 11

# Message flags.
FLAG_EPHEMERAL = 1 << 6
FLAG_LOADING = 1 << 7
FLAG_SUPPRESS_EMBEDS = 1 << 2
FLAG_SUPPRESS_NOTIFICATIONS = 1 << 12
FLAG_COMPONENTS_V2 = 1 << 15
SETTABLE_FLAGS = (
    FLAG_EPHEMERAL | FLAG_SUPPRESS_EMBEDS | FLAG_SUPPRESS_NOTIFICATIONS | FLAG_COMPONENTS_V2
)

ATTACHMENT_SIZE_LIMIT = 10 * 1024 * 1024


class SnowflakeFactory:
    """Hands out increasing snowflakes whose timestamp part is the current time."""

    def __init__(self) -> None:
        self._last = 0

    def __call__(self) -> int:
        """Return a new snowflake, larger than every earlier one."""
        now = (int(time.time() * 1000) - DISCORD_EPOCH_MS) << 22
        self._last = max(self._last + 1, now)
        return self._last


def iso_now() -> str:
    """Return the current UTC time in Discord's ISO 8601 format."""
    return dt.datetime.now(dt.UTC).isoformat()


@dataclass(frozen=True)
class StandInUser:
    """A Discord user; as the acting member, ``permissions`` is their permission bitfield."""

    id: int
    username: str
    global_name: str | None = None
    bot: bool = False
    permissions: str = str(MEMBER_PERMISSIONS)
    roles: tuple[int, ...] = ()
    locale: str = "en-US"

    def payload(self) -> JSON:
        """The user object."""
        return {
            "id": str(self.id),
            "username": self.username,
            "discriminator": "0",
            "global_name": self.global_name,
            "avatar": None,
            "bot": self.bot,
            "public_flags": 0,
            "flags": 0,
        }

    def member_payload(self, *, with_user: bool = True, with_permissions: bool = False) -> JSON:
        """The guild member object (``with_permissions`` as sent inside an interaction)."""
        member: JSON = {
            "roles": [str(role) for role in self.roles],
            "joined_at": "2024-01-01T00:00:00+00:00",
            "premium_since": None,
            "nick": None,
            "avatar": None,
            "deaf": False,
            "mute": False,
            "pending": False,
            "flags": 0,
            "communication_disabled_until": None,
        }
        if with_user:
            member["user"] = self.payload()
        if with_permissions:
            member["permissions"] = self.permissions
        return member


@dataclass(frozen=True)
class StandInChannel:
    """A guild channel (type 0 is a text channel)."""

    id: int
    name: str
    type: int = 0
    position: int = 0
    topic: str | None = None

    def payload(
        self,
        guild_id: int,
        *,
        permissions: str | None = None,
        overwrites: Sequence[JSON] = (),
    ) -> JSON:
        """The channel object; ``permissions`` is added for interaction payloads."""
        channel: JSON = {
            "id": str(self.id),
            "type": self.type,
            "name": self.name,
            "position": self.position,
            "guild_id": str(guild_id),
            "topic": self.topic,
            "nsfw": False,
            "parent_id": None,
            "last_message_id": None,
            "rate_limit_per_user": 0,
            "permission_overwrites": list(overwrites),
            "flags": 0,
        }
        if permissions is not None:
            channel["permissions"] = permissions
        return channel


ChannelSpec = StandInChannel | tuple[int, str]


@dataclass
class StandInGuild:
    """A guild (server) with its channels."""

    id: int
    name: str = "Stand-in Guild"
    channels: list[StandInChannel] = field(default_factory=list)
    locale: str = "en-US"

    @classmethod
    def build(cls, guild_id: int, channels: Sequence[ChannelSpec], name: str) -> StandInGuild:
        """Make a guild from ``(id, name)`` pairs or :class:`StandInChannel` objects."""
        built = [
            spec if isinstance(spec, StandInChannel) else StandInChannel(spec[0], spec[1], 0, i)
            for i, spec in enumerate(channels)
        ]
        return cls(guild_id, name, built)

    def channel(self, channel_id: int) -> StandInChannel | None:
        """The channel with this id, if the guild has it."""
        return next((c for c in self.channels if c.id == channel_id), None)

    def everyone_role(self) -> JSON:
        """The ``@everyone`` role, whose id is the guild id."""
        return role_payload(self.id, "@everyone", MEMBER_PERMISSIONS, position=0)

    def bot_role_id(self) -> int:
        """Id of the bot's managed role (derived from the guild id)."""
        return self.id + 1

    def payload(
        self,
        bot: StandInUser,
        bot_permissions: int,
        member: StandInUser,
        overwrites: Mapping[int, Sequence[JSON]] | None = None,
    ) -> JSON:
        """The GUILD_CREATE payload: roles, channels (with ``overwrites`` by channel id) and
        the bot and acting member, so a client can compute the bot's permissions itself."""
        bot_role = role_payload(self.bot_role_id(), bot.username, bot_permissions, position=1)
        bot_role["managed"] = True
        bot_role["tags"] = {"bot_id": str(bot.id)}
        bot_member = bot.member_payload()
        bot_member["roles"] = [str(self.bot_role_id())]
        return {
            "id": str(self.id),
            "name": self.name,
            "icon": None,
            "owner_id": str(member.id),
            "afk_timeout": 300,
            "verification_level": 0,
            "default_message_notifications": 0,
            "explicit_content_filter": 0,
            "mfa_level": 0,
            "nsfw_level": 0,
            "premium_tier": 0,
            "preferred_locale": self.locale,
            "features": [],
            "emojis": [],
            "stickers": [],
            "roles": [self.everyone_role(), bot_role],
            "channels": [
                c.payload(self.id, overwrites=(overwrites or {}).get(c.id, ()))
                for c in self.channels
            ],
            "threads": [],
            "members": [bot_member, member.member_payload()],
            "member_count": 2,
            "large": False,
            "unavailable": False,
            "joined_at": "2024-01-01T00:00:00+00:00",
            "voice_states": [],
            "presences": [],
            "stage_instances": [],
            "guild_scheduled_events": [],
            "soundboard_sounds": [],
            "system_channel_id": None,
            "application_id": None,
        }


def role_payload(role_id: int, name: str, permissions: int, *, position: int) -> JSON:
    """A role object."""
    return {
        "id": str(role_id),
        "name": name,
        "permissions": str(permissions),
        "position": position,
        "color": 0,
        "colors": {"primary_color": 0, "secondary_color": None, "tertiary_color": None},
        "hoist": False,
        "managed": False,
        "mentionable": False,
        "icon": None,
        "unicode_emoji": None,
        "flags": 0,
    }


@dataclass(frozen=True)
class DiscordError:
    """An error answer in Discord's JSON shape."""

    status: int
    code: int
    message: str
    errors: JSON | None = None

    def body(self) -> JSON:
        """The response body."""
        body: JSON = {"message": self.message, "code": self.code}
        if self.errors is not None:
            body["errors"] = self.errors
        return body


UNAUTHORIZED = DiscordError(401, 0, "401: Unauthorized")
NOT_FOUND = DiscordError(404, 0, "404: Not Found")
UNKNOWN_CHANNEL = DiscordError(404, 10003, "Unknown Channel")
UNKNOWN_GUILD = DiscordError(404, 10004, "Unknown Guild")
UNKNOWN_APPLICATION = DiscordError(404, 10002, "Unknown Application")
UNKNOWN_MESSAGE = DiscordError(404, 10008, "Unknown Message")
UNKNOWN_WEBHOOK = DiscordError(404, 10015, "Unknown Webhook")
UNKNOWN_INTERACTION = DiscordError(404, 10062, "Unknown interaction")
MISSING_PERMISSIONS = DiscordError(403, 50013, "Missing Permissions")
ALREADY_ACKNOWLEDGED = DiscordError(400, 40060, "Interaction has already been acknowledged.")
EMPTY_MESSAGE = DiscordError(400, 50006, "Cannot send an empty message")
INVALID_JSON = DiscordError(400, 50109, "The request body contains invalid JSON.")


def invalid_form(problems: Sequence[tuple[str, str]]) -> DiscordError:
    """A 400 ``Invalid Form Body`` (code 50035) for ``(dotted.path, message)`` problems."""
    errors: JSON = {}
    for path, message in problems:
        node = errors
        for part in path.split("."):
            node = node.setdefault(part, {})
        node.setdefault("_errors", []).append({"code": "BASE_TYPE_INVALID", "message": message})
    return DiscordError(400, 50035, "Invalid Form Body", errors)


def _too_long(value: object, limit: int) -> bool:
    return isinstance(value, str) and len(value) > limit


def _text_problems(
    embed: JSON, path: str, limits: Sequence[tuple[str, str | None, int]]
) -> tuple[int, list[tuple[str, str]]]:
    """Characters counted towards the 6000 total, and over-long fields of one embed part."""
    total, problems = 0, []
    for key, sub, limit in limits:
        value = embed.get(key)
        if sub is not None:
            value = value.get(sub) if isinstance(value, dict) else None
        if isinstance(value, str):
            total += len(value)
            if len(value) > limit:
                where = f"{path}.{key}" + (f".{sub}" if sub else "")
                problems.append((where, f"Must be {limit} or fewer in length."))
    return total, problems


_EMBED_LIMITS = (
    ("title", None, 256),
    ("description", None, 4096),
    ("footer", "text", 2048),
    ("author", "name", 256),
)
_FIELD_LIMITS = (("name", None, 256), ("value", None, 1024))


def _embed_problems(embeds: object) -> list[tuple[str, str]]:
    if not isinstance(embeds, list):
        return [("embeds", "Must be an array.")]
    problems: list[tuple[str, str]] = []
    if len(embeds) > 10:
        problems.append(("embeds", "Must be 10 or fewer in length."))
    total = 0
    for i, embed in enumerate(embeds):
        if not isinstance(embed, dict):
            problems.append((f"embeds.{i}", "Must be an object."))
            continue
        count, found = _text_problems(embed, f"embeds.{i}", _EMBED_LIMITS)
        total, problems = total + count, problems + found
        fields = embed.get("fields") or []
        if len(fields) > 25:
            problems.append((f"embeds.{i}.fields", "Must be 25 or fewer in length."))
        for j, fld in enumerate(fields):
            path = f"embeds.{i}.fields.{j}"
            problems += [
                (f"{path}.{k}", "This field is required")
                for k in ("name", "value")
                if not fld.get(k)
            ]
            count, found = _text_problems(fld, path, _FIELD_LIMITS)
            total, problems = total + count, problems + found
    if total > 6000:
        problems.append(("embeds", "Embed size exceeds maximum size of 6000"))
    return problems


def iter_components(components: object) -> list[JSON]:
    """Every component in a component tree, depth first (rows, sections, containers, ...)."""
    found: list[JSON] = []
    if not isinstance(components, list):
        return found
    for component in components:
        if not isinstance(component, dict):
            continue
        found.append(component)
        found.extend(iter_components(component.get("components")))
        if isinstance(component.get("component"), dict):
            found.extend(iter_components([component["component"]]))
        if isinstance(component.get("accessory"), dict):
            found.extend(iter_components([component["accessory"]]))
    return found


def _component_problems(components: object, flags: int) -> list[tuple[str, str]]:
    if not isinstance(components, list):
        return [("components", "Must be an array.")]
    problems: list[tuple[str, str]] = []
    if not flags & FLAG_COMPONENTS_V2:
        if len(components) > 5:
            problems.append(("components", "Must be 5 or fewer in length."))
        for i, row in enumerate(components):
            if not isinstance(row, dict) or row.get("type") != 1:
                problems.append((f"components.{i}", "Top-level components must be action rows."))
            elif not 1 <= len(row.get("components") or []) <= 5:
                problems.append((f"components.{i}.components", "Must be between 1 and 5."))
    seen: set[str] = set()
    for component in iter_components(components):
        custom_id = component.get("custom_id")
        if custom_id is not None:
            if not isinstance(custom_id, str) or not 1 <= len(custom_id) <= 100:
                problems.append(("components", f"custom_id {custom_id!r} must be 1-100 chars."))
            elif custom_id in seen:
                problems.append(("components", "Component custom id cannot be duplicated"))
            seen.add(str(custom_id))
        if _too_long(component.get("label"), 80):
            problems.append(("components", "Button label must be 80 or fewer in length."))
    return problems


def validate_message(body: object, *, file_count: int, creating: bool) -> DiscordError | None:
    """Check a message create/edit body against Discord's limits; ``None`` when it is fine."""
    if not isinstance(body, dict):
        return invalid_form([("_root", "Expected an object.")])
    problems: list[tuple[str, str]] = []
    content = body.get("content")
    if content is not None and not isinstance(content, str):
        problems.append(("content", "Must be a string."))
    elif _too_long(content, 2000):
        problems.append(("content", "Must be 2000 or fewer in length."))
    if body.get("embeds") is not None:
        problems.extend(_embed_problems(body["embeds"]))
    flags = body.get("flags") or 0
    if body.get("components") is not None:
        problems.extend(_component_problems(body["components"], flags))
    nonce = body.get("nonce")
    if isinstance(nonce, str) and len(nonce) > 25:
        problems.append(("nonce", "Must be 25 or fewer in length."))
    mentions = body.get("allowed_mentions")
    if mentions is not None:
        parse = mentions.get("parse", []) if isinstance(mentions, dict) else None
        if not isinstance(parse, list) or not set(parse) <= {"users", "roles", "everyone"}:
            problems.append(("allowed_mentions.parse", "Must be a list of mention types."))
    if problems:
        return invalid_form(problems)
    if (
        creating
        and not (content or body.get("embeds") or body.get("components") or file_count)
        and not (body.get("sticker_ids") or body.get("poll"))
    ):
        return EMPTY_MESSAGE
    return None


def validate_choices(data: object) -> DiscordError | None:
    """Check an autocomplete result (callback type 8)."""
    choices = data.get("choices") if isinstance(data, dict) else None
    if not isinstance(choices, list):
        return invalid_form([("data.choices", "This field is required")])
    problems: list[tuple[str, str]] = []
    if len(choices) > 25:
        problems.append(("data.choices", "Must be 25 or fewer in length."))
    for i, choice in enumerate(choices):
        name = choice.get("name") if isinstance(choice, dict) else None
        if not isinstance(name, str) or not 1 <= len(name) <= 100:
            problems.append((f"data.choices.{i}.name", "Must be between 1 and 100 in length."))
        if isinstance(choice, dict) and _too_long(choice.get("value"), 100):
            problems.append((f"data.choices.{i}.value", "Must be 100 or fewer in length."))
    return invalid_form(problems) if problems else None


def validate_modal(data: object) -> DiscordError | None:
    """Check a modal (callback type 9)."""
    if not isinstance(data, dict):
        return invalid_form([("data", "This field is required")])
    problems: list[tuple[str, str]] = []
    if not data.get("custom_id"):
        problems.append(("data.custom_id", "This field is required"))
    title = data.get("title")
    if not isinstance(title, str) or not 1 <= len(title) <= 45:
        problems.append(("data.title", "Must be between 1 and 45 in length."))
    if not 1 <= len(data.get("components") or []) <= 5:
        problems.append(("data.components", "Must be between 1 and 5 in length."))
    return invalid_form(problems) if problems else None


def build_message(
    *,
    message_id: int,
    channel_id: int,
    guild_id: int | None,
    author: StandInUser,
    body: JSON,
    attachments: list[JSON],
    message_type: int = 0,
    application_id: int | None = None,
) -> JSON:
    """A message object as Discord returns it for a create request ``body``."""
    message: JSON = {
        "id": str(message_id),
        "channel_id": str(channel_id),
        "type": message_type,
        "content": body.get("content") or "",
        "author": author.payload(),
        "timestamp": iso_now(),
        "edited_timestamp": None,
        "tts": bool(body.get("tts", False)),
        "mention_everyone": False,
        "mentions": [],
        "mention_roles": [],
        "attachments": attachments,
        "embeds": [{"type": "rich", **e} for e in body.get("embeds") or []],
        "components": body.get("components") or [],
        "pinned": False,
        "flags": (body.get("flags") or 0) & SETTABLE_FLAGS,
    }
    if guild_id is not None:
        message["guild_id"] = str(guild_id)
    if application_id is not None:
        message["webhook_id"] = str(application_id)
        message["application_id"] = str(application_id)
    if body.get("nonce") is not None:
        message["nonce"] = body["nonce"]
    reference = body.get("message_reference")
    if isinstance(reference, dict) and reference.get("message_id"):
        message["type"] = 19
        message["message_reference"] = {
            "type": 0,
            "message_id": str(reference["message_id"]),
            "channel_id": str(reference.get("channel_id") or channel_id),
            **({"guild_id": str(guild_id)} if guild_id is not None else {}),
        }
    return message


def apply_message_edit(message: JSON, body: JSON, new_attachments: list[JSON]) -> None:
    """Apply an edit request ``body`` to a stored ``message`` in place."""
    if "content" in body:
        message["content"] = body["content"] or ""
    if "embeds" in body:
        message["embeds"] = [{"type": "rich", **e} for e in body["embeds"] or []]
    if "components" in body:
        message["components"] = body["components"] or []
    if "flags" in body and body["flags"] is not None:
        kept = message["flags"] & FLAG_EPHEMERAL
        message["flags"] = kept | (body["flags"] & SETTABLE_FLAGS & ~FLAG_EPHEMERAL)
    if "attachments" in body:
        keep = {str(a.get("id")) for a in body["attachments"] or [] if isinstance(a, dict)}
        message["attachments"] = [a for a in message["attachments"] if a["id"] in keep]
    message["attachments"] = message["attachments"] + new_attachments
    message["flags"] &= ~FLAG_LOADING
    message["edited_timestamp"] = iso_now()


class OptionResolver(Protocol):
    """Turns a snowflake-typed option value into its id, filling ``resolved`` data."""

    def resolve_option(self, option_type: int, value: object, resolved: JSON) -> str:
        """Return the option's id string and add its object to ``resolved``."""
        ...


def _convert(
    definition: JSON, value: object, *, focused: bool, resolver: OptionResolver, resolved: JSON
) -> object:
    option_type = int(definition["type"])
    if focused:
        return str(value)
    if option_type == OPT_STRING:
        return str(value)
    if option_type == OPT_INTEGER:
        return int(value)  # type: ignore[call-overload]
    if option_type == OPT_NUMBER:
        return float(value)  # type: ignore[arg-type]
    if option_type == OPT_BOOLEAN:
        return bool(value)
    return resolver.resolve_option(option_type, value, resolved)


def build_options(
    definitions: Sequence[JSON],
    path: Sequence[str],
    values: Mapping[str, object],
    *,
    focused: str | None,
    resolver: OptionResolver,
    resolved: JSON,
) -> list[JSON]:
    """Interaction ``data.options`` for a command whose synced options are ``definitions``.

    ``path`` names the subcommand group and/or subcommand to walk into; ``values`` maps leaf
    option names to values; ``focused`` marks the option being typed (autocomplete), which also
    skips the required/choices checks Discord's client applies before sending a command.
    """
    if path:
        head = path[0]
        definition = next(
            (
                d
                for d in definitions
                if d.get("name") == head
                and d.get("type") in (OPT_SUB_COMMAND, OPT_SUB_COMMAND_GROUP)
            ),
            None,
        )
        if definition is None:
            raise ValueError(f"no subcommand or group named {head!r}")
        inner = build_options(
            definition.get("options") or [],
            path[1:],
            values,
            focused=focused,
            resolver=resolver,
            resolved=resolved,
        )
        return [{"type": definition["type"], "name": head, "options": inner}]
    if any(d.get("type") in (OPT_SUB_COMMAND, OPT_SUB_COMMAND_GROUP) for d in definitions):
        raise ValueError("this command needs a subcommand: name it as 'command subcommand'")
    by_name = {d["name"]: d for d in definitions}
    options: list[JSON] = []
    for name, value in values.items():
        definition = by_name.get(name)
        if definition is None:
            raise ValueError(f"the synced command has no option {name!r} (has {sorted(by_name)})")
        is_focused = name == focused
        converted = _convert(
            definition, value, focused=is_focused, resolver=resolver, resolved=resolved
        )
        choices = [c.get("value") for c in definition.get("choices") or []]
        if choices and focused is None and converted not in choices:
            raise ValueError(f"option {name!r} must be one of {choices}, not {converted!r}")
        option: JSON = {"name": name, "type": definition["type"], "value": converted}
        if is_focused:
            option["focused"] = True
        options.append(option)
    if focused is None:
        missing = [d["name"] for d in definitions if d.get("required") and d["name"] not in values]
        if missing:
            raise ValueError(f"required options missing: {missing}")
    return options


def modal_submission(components: Sequence[JSON], values: Mapping[str, object]) -> list[JSON]:
    """The ``data.components`` a user sends back when submitting a modal with ``values``."""
    submitted: list[JSON] = []
    for component in components:
        kind = component.get("type")
        if kind == 1:
            inner = modal_submission(component.get("components") or [], values)
            submitted.append({"type": 1, "components": inner})
        elif kind == 18 and isinstance(component.get("component"), dict):
            inner = modal_submission([component["component"]], values)
            if inner:
                submitted.append({"type": 18, "component": inner[0]})
        elif kind == 4:
            value = values.get(component["custom_id"], component.get("value") or "")
            submitted.append({"type": 4, "custom_id": component["custom_id"], "value": value})
        elif kind == 3:
            chosen = values.get(component["custom_id"], [])
            chosen = [chosen] if isinstance(chosen, str) else list(chosen)  # type: ignore[call-overload]
            submitted.append({"type": 3, "custom_id": component["custom_id"], "values": chosen})
    return submitted
