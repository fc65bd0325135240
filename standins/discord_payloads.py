"""Discord API v10 payloads for the loopback Discord stand-in.

Plain functions and dataclasses that build the JSON objects Discord sends (users, members,
guilds, channels, messages), check what a bot sends against Discord's documented limits
(messages, embeds, buttons, autocomplete choices, application commands), and turn a test's
``{"option": value}`` mapping into interaction options shaped after the command the bot synced.
Nothing here does I/O; ``discord_standin`` serves these payloads. The limits are listed in
``docs/standins.md``.
"""

from __future__ import annotations

import datetime as dt
import time
import unicodedata
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

# Application command option types the stand-in models (the bot's: subcommands, text, channels).
OPT_SUB_COMMAND = 1
OPT_STRING = 3
OPT_CHANNEL = 7

# Message flags.
FLAG_EPHEMERAL = 1 << 6
FLAG_SUPPRESS_EMBEDS = 1 << 2
FLAG_SUPPRESS_NOTIFICATIONS = 1 << 12
SETTABLE_FLAGS = FLAG_EPHEMERAL | FLAG_SUPPRESS_EMBEDS | FLAG_SUPPRESS_NOTIFICATIONS

ATTACHMENT_SIZE_LIMIT = 10 * 1024 * 1024  # sent in every interaction; the bot uploads nothing


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
    """Every component in action rows, rows included, in order."""
    found: list[JSON] = []
    for row in components if isinstance(components, list) else []:
        if isinstance(row, dict):
            found.append(row)
            found.extend(c for c in row.get("components") or [] if isinstance(c, dict))
    return found


def _component_problems(components: object) -> list[tuple[str, str]]:
    if not isinstance(components, list):
        return [("components", "Must be an array.")]
    problems: list[tuple[str, str]] = []
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


def validate_message(body: object) -> DiscordError | None:
    """Check a message create body against Discord's limits; ``None`` when it is fine."""
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
    if body.get("components") is not None:
        problems.extend(_component_problems(body["components"]))
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
    if not (content or body.get("embeds") or body.get("components")):
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


# ------------------------------------------------------------ application commands

#: A command's names, descriptions and choice values together, at most.
COMMAND_TEXT_LIMIT = 8000
_NAME_SCRIPTS = ("DEVANAGARI", "THAI")


def _name_char(char: str) -> bool:
    r"""One character of ``^[-_\p{L}\p{N}\p{sc=Deva}\p{sc=Thai}]$``."""
    if char in "-_" or char.isalnum():
        return True
    return unicodedata.name(char, "").startswith(_NAME_SCRIPTS)


def valid_command_name(name: object) -> bool:
    """Whether Discord accepts ``name`` for a chat-input command or option: 1-32 of
    letters, numbers, ``-``, ``_`` and Devanagari or Thai characters, in lowercase."""
    return (
        isinstance(name, str)
        and 1 <= len(name) <= 32
        and all(_name_char(c) for c in name)
        and name == name.lower()
    )


def _description_problem(value: object) -> bool:
    return not (isinstance(value, str) and 1 <= len(value) <= 100)


def _options_problems(options: object, path: str, kind: int) -> tuple[int, list[tuple[str, str]]]:
    """Characters counted towards :data:`COMMAND_TEXT_LIMIT`, and problems, of ``options``."""
    if options is None:
        return 0, []
    if not isinstance(options, list):
        return 0, [(path, "Must be an array.")]
    problems: list[tuple[str, str]] = []
    if len(options) > 25:
        problems.append((path, "Must be 25 or fewer in length."))
    total = 0
    for i, option in enumerate(options):
        where = f"{path}.{i}"
        if not isinstance(option, dict):
            problems.append((where, "Must be an object."))
            continue
        name, description = option.get("name"), option.get("description")
        total += len(name) if isinstance(name, str) else 0
        total += len(description) if isinstance(description, str) else 0
        if kind == 1 and not valid_command_name(name):
            problems.append((f"{where}.name", "Command name is invalid"))
        if _description_problem(description):
            problems.append((f"{where}.description", "Must be between 1 and 100 in length."))
        choices = option.get("choices") or []
        if len(choices) > 25:
            problems.append((f"{where}.choices", "Must be 25 or fewer in length."))
        for j, choice in enumerate(choices):
            if not isinstance(choice, dict):
                problems.append((f"{where}.choices.{j}", "Must be an object."))
                continue
            total += len(str(choice.get("name") or "")) + len(str(choice.get("value") or ""))
        count, found = _options_problems(option.get("options"), f"{where}.options", kind)
        total, problems = total + count, problems + found
    return total, problems


def command_problems(body: object) -> list[tuple[str, str]]:
    """What Discord refuses in a bulk overwrite of application commands (``PUT``)."""
    if not isinstance(body, list):
        return [("_root", "Must be an array of commands.")]
    problems: list[tuple[str, str]] = []
    seen: set[tuple[object, int]] = set()
    for i, command in enumerate(body):
        if not isinstance(command, dict):
            problems.append((str(i), "Must be an object."))
            continue
        name, kind = command.get("name"), int(command.get("type", 1))
        if (name, kind) in seen:
            problems.append((f"{i}.name", "Application command names must be unique"))
        seen.add((name, kind))
        if kind != 1:
            continue  # user and message commands: not modelled, the bot has none
        if not valid_command_name(name):
            problems.append((f"{i}.name", "Command name is invalid"))
        description = command.get("description")
        if _description_problem(description):
            problems.append((f"{i}.description", "Must be between 1 and 100 in length."))
        permissions = command.get("default_member_permissions")
        if permissions is not None and not str(permissions).isdigit():
            problems.append((f"{i}.default_member_permissions", "Must be a bit set."))
        total, found = _options_problems(command.get("options"), f"{i}.options", kind)
        total += len(name) if isinstance(name, str) else 0
        total += len(description) if isinstance(description, str) else 0
        problems += found
        if total > COMMAND_TEXT_LIMIT:
            problems.append((str(i), f"Command exceeds maximum size ({COMMAND_TEXT_LIMIT})"))
    return problems


def stored_command(command: JSON) -> JSON:
    """A synced command's fields as Discord answers them (bit sets as strings)."""
    stored = {"type": int(command.get("type", 1)), **command}
    permissions = stored.get("default_member_permissions")
    if permissions is not None:
        stored["default_member_permissions"] = str(permissions)
    return stored


# ------------------------------------------------------------------------ messages


def build_message(
    *,
    message_id: int,
    channel_id: int,
    guild_id: int | None,
    author: StandInUser,
    body: JSON,
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
        "tts": False,
        "mention_everyone": False,
        "mentions": [],
        "mention_roles": [],
        "attachments": [],
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
    return message


# ------------------------------------------------------------------ interaction options


class ChannelResolver(Protocol):
    """Turns a channel option's value into its id, filling ``resolved`` data."""

    def resolve_channel(self, value: object, resolved: JSON) -> str:
        """Return the channel's id string and add its object to ``resolved``."""
        ...


def _convert(
    definition: JSON, value: object, *, focused: bool, resolver: ChannelResolver, resolved: JSON
) -> object:
    option_type = int(definition["type"])
    if focused or option_type == OPT_STRING:
        return str(value)
    if option_type == OPT_CHANNEL:
        return resolver.resolve_channel(value, resolved)
    raise ValueError(f"option type {option_type} is not modelled by the stand-in")


def build_options(
    definitions: Sequence[JSON],
    path: Sequence[str],
    values: Mapping[str, object],
    *,
    focused: str | None,
    resolver: ChannelResolver,
    resolved: JSON,
) -> list[JSON]:
    """Interaction ``data.options`` for a command whose synced options are ``definitions``.

    ``path`` names the subcommand to walk into; ``values`` maps option names to values;
    ``focused`` marks the option being typed (autocomplete), which also skips the
    required/choices checks Discord's client applies before sending a command.
    """
    subcommands = [d for d in definitions if d.get("type") == OPT_SUB_COMMAND]
    if path:
        definition = next((d for d in subcommands if d.get("name") == path[0]), None)
        if definition is None or len(path) > 1:
            raise ValueError(f"no subcommand named {' '.join(path)!r}")
        inner = build_options(
            definition.get("options") or [],
            (),
            values,
            focused=focused,
            resolver=resolver,
            resolved=resolved,
        )
        return [{"type": OPT_SUB_COMMAND, "name": path[0], "options": inner}]
    if subcommands:
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
