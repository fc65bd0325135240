"""Slack payloads for the loopback Slack stand-in: identities, signing, Block Kit limits.

Plain functions and small dataclasses that build what Slack sends to an app (slash command
form fields, ``block_actions`` payloads, Socket Mode envelopes), sign HTTP requests the way
Slack does, hand out message timestamps, and check what an app sends against Slack's
documented Block Kit limits (the blocks briefbot sends: section, header, context and actions
with buttons). Nothing here does I/O; ``slack_standin`` serves these payloads. The limits are
listed in ``docs/standins.md``.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

JSON = dict[str, Any]

#: Block Kit limits (https://docs.slack.dev/reference/block-kit/blocks).
MAX_BLOCKS = 50
MAX_SECTION_TEXT = 3000
MAX_SECTION_FIELDS = 10
MAX_FIELD_TEXT = 2000
MAX_HEADER_TEXT = 150
MAX_MARKDOWN_TEXT = 12_000
MAX_CONTEXT_ELEMENTS = 10
MAX_ACTIONS_ELEMENTS = 25
MAX_BUTTON_TEXT = 75
MAX_BUTTON_VALUE = 2000
MAX_ID_LENGTH = 255
MAX_URL_LENGTH = 3000
#: Message text above this is refused with ``msg_too_long``.
MAX_MESSAGE_TEXT = 40_000
#: A ``response_url`` may be used this many times.
MAX_RESPONSE_URL_USES = 5
#: Slack gives an app this long to acknowledge a command or an action.
ACK_DEADLINE = 3.0

KNOWN_BLOCK_TYPES = frozenset(
    {
        "actions",
        "context",
        "divider",
        "file",
        "header",
        "image",
        "input",
        "markdown",
        "rich_text",
        "section",
        "table",
        "video",
    }
)
TEXT_TYPES = frozenset({"plain_text", "mrkdwn"})


class ApiError(Exception):
    """A Web API error: answered as ``{"ok": false, "error": error, **extra}``."""

    def __init__(
        self,
        error: str,
        *,
        status: int = 200,
        headers: Mapping[str, str] | None = None,
        extra: JSON | None = None,
    ) -> None:
        super().__init__(error)
        self.error = error
        self.status = status
        self.headers = dict(headers or {})
        self.extra = dict(extra or {})

    def body(self) -> JSON:
        """The JSON body Slack answers with."""
        return {"ok": False, "error": self.error, **self.extra}


@dataclass(frozen=True)
class SlackIdentity:
    """Who the stand-in's workspace, app and bot user are."""

    team_id: str = "T0000TEAM"
    team_domain: str = "standin"
    team_name: str = "Stand-in Workspace"
    app_id: str = "A0000BRIEF"
    bot_id: str = "B0000BRIEF"
    bot_user_id: str = "U0000BOT1"
    bot_name: str = "briefbot"
    #: The deprecated verification token Slack still puts in payloads.
    verification_token: str = "standin-verification-token"

    @property
    def url(self) -> str:
        """The workspace URL ``auth.test`` reports."""
        return f"https://{self.team_domain}.slack.com/"

    def bot_profile(self) -> JSON:
        """The ``bot_profile`` object attached to the bot's messages."""
        return {
            "id": self.bot_id,
            "app_id": self.app_id,
            "name": self.bot_name,
            "deleted": False,
            "team_id": self.team_id,
            "icons": {},
            "updated": 1_700_000_000,
        }


@dataclass
class StandInChannel:
    """A channel of the stand-in's workspace and what the bot may do in it."""

    id: str
    name: str
    archived: bool = False
    deleted: bool = False
    bot_member: bool = True


ChannelSpec = str | tuple[str, str] | StandInChannel


def build_channel(spec: ChannelSpec, index: int) -> StandInChannel:
    """Turn ``"C0001"``, ``("C0001", "general")`` or a channel into a :class:`StandInChannel`."""
    if isinstance(spec, StandInChannel):
        return spec
    if isinstance(spec, str):
        return StandInChannel(spec, "general" if index == 0 else f"channel-{index}")
    return StandInChannel(spec[0], spec[1])


class TsFactory:
    """Message timestamps ``"1700000000.000100"``: wall-clock based, unique and increasing."""

    def __init__(self, clock: Callable[[], float] = time.time) -> None:
        self._clock = clock
        self._last = 0

    def __call__(self) -> str:
        micros = max(int(self._clock() * 1_000_000), self._last + 1)
        self._last = micros
        return format_ts(micros)


def format_ts(micros: int) -> str:
    """``1700000000000100`` → ``"1700000000.000100"``."""
    return f"{micros // 1_000_000}.{micros % 1_000_000:06d}"


def ts_key(ts: str) -> int:
    """A Slack timestamp as integer microseconds, for ordering and ``oldest``/``latest``."""
    seconds, _, fraction = ts.partition(".")
    return int(seconds or 0) * 1_000_000 + int((fraction + "000000")[:6])


def new_trigger_id() -> str:
    """A trigger id shaped like Slack's (``"1234.5678.abcdef"``)."""
    return f"{secrets.randbelow(10**13)}.{secrets.randbelow(10**13)}.{secrets.token_hex(16)}"


def sign(secret: str, timestamp: str, body: str | bytes) -> str:
    """``X-Slack-Signature`` for ``body``: ``v0=`` + hex HMAC-SHA256 of ``v0:{ts}:{body}``."""
    raw = body.encode() if isinstance(body, str) else body
    base = b"v0:" + timestamp.encode() + b":" + raw
    return "v0=" + hmac.new(secret.encode(), base, hashlib.sha256).hexdigest()


def command_payload(
    identity: SlackIdentity,
    *,
    command: str,
    text: str,
    user_id: str,
    user_name: str,
    channel: StandInChannel | None,
    channel_id: str,
    response_url: str,
    trigger_id: str,
) -> dict[str, str]:
    """The form fields of a slash command (also the Socket Mode ``payload`` dict)."""
    return {
        "token": identity.verification_token,
        "team_id": identity.team_id,
        "team_domain": identity.team_domain,
        "channel_id": channel_id,
        "channel_name": channel.name if channel is not None else "directmessage",
        "user_id": user_id,
        "user_name": user_name,
        "command": command,
        "text": text,
        "api_app_id": identity.app_id,
        "is_enterprise_install": "false",
        "response_url": response_url,
        "trigger_id": trigger_id,
    }


def block_actions_payload(
    identity: SlackIdentity,
    *,
    action: JSON,
    user_id: str,
    user_name: str,
    channel: StandInChannel | None,
    channel_id: str,
    message: JSON | None,
    message_ts: str,
    response_url: str,
    trigger_id: str,
) -> JSON:
    """A ``block_actions`` interaction payload for one clicked element.

    ``message`` is the channel message carrying the element; ``None`` for an ephemeral one
    (Slack sends no ``message`` then and marks the container ``is_ephemeral``).
    """
    container: JSON = {
        "type": "message",
        "message_ts": message_ts,
        "channel_id": channel_id,
        "is_ephemeral": message is None,
    }
    payload: JSON = {
        "type": "block_actions",
        "user": {
            "id": user_id,
            "username": user_name,
            "name": user_name,
            "team_id": identity.team_id,
        },
        "api_app_id": identity.app_id,
        "token": identity.verification_token,
        "container": container,
        "trigger_id": trigger_id,
        "team": {"id": identity.team_id, "domain": identity.team_domain},
        "enterprise": None,
        "is_enterprise_install": False,
        "channel": {
            "id": channel_id,
            "name": channel.name if channel is not None else "directmessage",
        },
        "state": {"values": {}},
        "response_url": response_url,
        "actions": [action],
    }
    if message is not None:
        payload["message"] = message
    return payload


def clicked_action(element: JSON, block_id: str, action_ts: str) -> JSON:
    """The ``actions[0]`` entry Slack sends when ``element`` (a button) is clicked."""
    action: JSON = {
        "action_id": element.get("action_id", ""),
        "block_id": block_id,
        "type": element.get("type", "button"),
        "action_ts": action_ts,
    }
    if "text" in element:
        action["text"] = element["text"]
    if "value" in element:
        action["value"] = element["value"]
    if "style" in element:
        action["style"] = element["style"]
    return action


def iter_elements(blocks: Sequence[Any] | None) -> Iterator[tuple[str, JSON]]:
    """``(block_id, element)`` for every interactive element in ``blocks``."""
    for block in blocks or []:
        if not isinstance(block, dict):
            continue
        block_id = str(block.get("block_id", ""))
        accessory = block.get("accessory")
        if isinstance(accessory, dict):
            yield block_id, accessory
        if block.get("type") == "actions":
            for element in block.get("elements") or []:
                if isinstance(element, dict):
                    yield block_id, element


def default_block_id() -> str:
    """A generated block id, as Slack fills in when a block has none."""
    return secrets.token_urlsafe(4)[:5]


def with_block_ids(blocks: Sequence[Any] | None) -> list[Any] | None:
    """``blocks`` as Slack stores them: every block gets a ``block_id``."""
    if blocks is None:
        return None
    filled: list[Any] = []
    for block in blocks:
        if isinstance(block, dict) and "block_id" not in block:
            filled.append({**block, "block_id": default_block_id()})
        else:
            filled.append(block)
    return filled


# ----------------------------------------------------------------------------- checking


def _text_problems(obj: Any, pointer: str, limit: int, *, plain_only: bool = False) -> list[str]:
    if not isinstance(obj, dict):
        return [f"[ERROR] must be a text object [json-pointer:{pointer}]"]
    problems: list[str] = []
    kind = obj.get("type")
    allowed = {"plain_text"} if plain_only else TEXT_TYPES
    if kind not in allowed:
        problems.append(f"[ERROR] must be one of {sorted(allowed)} [json-pointer:{pointer}/type]")
    text = obj.get("text")
    if not isinstance(text, str) or not text:
        problems.append(f"[ERROR] must be more than 0 characters [json-pointer:{pointer}/text]")
    elif len(text) > limit:
        problems.append(
            f"[ERROR] must be less than {limit + 1} characters [json-pointer:{pointer}/text]"
        )
    return problems


def _element_problems(element: Any, pointer: str, action_ids: set[str]) -> list[str]:
    if not isinstance(element, dict) or "type" not in element:
        return [f"[ERROR] missing required field: type [json-pointer:{pointer}]"]
    problems: list[str] = []
    action_id = element.get("action_id")
    if action_id is not None:
        if not isinstance(action_id, str) or len(action_id) > MAX_ID_LENGTH:
            problems.append(f"[ERROR] invalid action_id [json-pointer:{pointer}/action_id]")
        elif action_id in action_ids:
            problems.append(
                f"[ERROR] action_id {action_id!r} is already used [json-pointer:{pointer}]"
            )
        else:
            action_ids.add(action_id)
    if element["type"] == "button":
        problems += _text_problems(
            element.get("text"), f"{pointer}/text", MAX_BUTTON_TEXT, plain_only=True
        )
        value = element.get("value")
        if value is not None and (not isinstance(value, str) or len(value) > MAX_BUTTON_VALUE):
            problems.append(
                f"[ERROR] must be less than {MAX_BUTTON_VALUE + 1} characters "
                f"[json-pointer:{pointer}/value]"
            )
        url = element.get("url")
        if url is not None and (not isinstance(url, str) or len(url) > MAX_URL_LENGTH):
            problems.append(f"[ERROR] invalid url [json-pointer:{pointer}/url]")
        style = element.get("style")
        if style is not None and style not in ("primary", "danger"):
            problems.append(f"[ERROR] must be primary or danger [json-pointer:{pointer}/style]")
    return problems


def _section_problems(block: JSON, pointer: str) -> list[str]:
    problems: list[str] = []
    if "text" not in block and "fields" not in block:
        problems.append(f"[ERROR] must provide either text or fields [json-pointer:{pointer}]")
    if "text" in block:
        problems += _text_problems(block["text"], f"{pointer}/text", MAX_SECTION_TEXT)
    fields = block.get("fields")
    if fields is not None:
        if not isinstance(fields, list) or len(fields) > MAX_SECTION_FIELDS:
            problems.append(
                f"[ERROR] no more than {MAX_SECTION_FIELDS} items allowed "
                f"[json-pointer:{pointer}/fields]"
            )
        else:
            for i, field in enumerate(fields):
                problems += _text_problems(field, f"{pointer}/fields/{i}", MAX_FIELD_TEXT)
    if "accessory" in block:
        problems += _element_problems(block["accessory"], f"{pointer}/accessory", set())
    return problems


def _elements_problems(block: JSON, pointer: str) -> list[str]:
    """``context`` and ``actions`` blocks: a bounded, non-empty list of elements."""
    kind = block["type"]
    limit = MAX_CONTEXT_ELEMENTS if kind == "context" else MAX_ACTIONS_ELEMENTS
    elements = block.get("elements")
    if not isinstance(elements, list) or not elements:
        return [f"[ERROR] must provide elements [json-pointer:{pointer}/elements]"]
    if len(elements) > limit:
        return [f"[ERROR] no more than {limit} items allowed [json-pointer:{pointer}/elements]"]
    problems: list[str] = []
    if kind == "actions":
        action_ids: set[str] = set()
        for i, element in enumerate(elements):
            problems += _element_problems(element, f"{pointer}/elements/{i}", action_ids)
    return problems


def _header_problems(block: JSON, pointer: str) -> list[str]:
    text = block.get("text")
    return _text_problems(text, f"{pointer}/text", MAX_HEADER_TEXT, plain_only=True)


def _markdown_problems(block: JSON, pointer: str) -> list[str]:
    text = block.get("text")
    if isinstance(text, str) and 0 < len(text) <= MAX_MARKDOWN_TEXT:
        return []
    return [f"[ERROR] invalid markdown text [json-pointer:{pointer}/text]"]


_BLOCK_CHECKS: dict[str, Callable[[JSON, str], list[str]]] = {
    "section": _section_problems,
    "header": _header_problems,
    "markdown": _markdown_problems,
    "context": _elements_problems,
    "actions": _elements_problems,
}


def _block_problems(block: Any, pointer: str) -> list[str]:
    if not isinstance(block, dict):
        return [f"[ERROR] must be an object [json-pointer:{pointer}]"]
    kind = block.get("type")
    if kind not in KNOWN_BLOCK_TYPES:
        return [f"[ERROR] unsupported type: {kind!r} [json-pointer:{pointer}/type]"]
    check = _BLOCK_CHECKS.get(kind)
    return [] if check is None else check(block, pointer)


def blocks_problems(blocks: Any) -> list[str]:
    """What Slack would refuse in ``blocks`` (``invalid_blocks``), Slack-style messages."""
    if blocks is None:
        return []
    if not isinstance(blocks, list):
        return ["[ERROR] must be an array [json-pointer:/blocks]"]
    problems: list[str] = []
    if len(blocks) > MAX_BLOCKS:
        problems.append(f"[ERROR] no more than {MAX_BLOCKS} items allowed [json-pointer:/blocks]")
    seen: set[str] = set()
    for i, block in enumerate(blocks):
        pointer = f"/blocks/{i}"
        problems += _block_problems(block, pointer)
        block_id = block.get("block_id") if isinstance(block, dict) else None
        if block_id is not None:
            if not isinstance(block_id, str) or len(block_id) > MAX_ID_LENGTH:
                problems.append(f"[ERROR] invalid block_id [json-pointer:{pointer}/block_id]")
            elif block_id in seen:
                problems.append(
                    f"[ERROR] block_id {block_id!r} is already used [json-pointer:{pointer}]"
                )
            seen.add(block_id)
    return problems


def message_problems(message: Mapping[str, Any], *, require_text: bool = True) -> ApiError | None:
    """Check a message (``text``, ``blocks``, ``metadata``) the way ``chat.postMessage`` does.

    Returns the error Slack would answer with, or ``None`` when the message is acceptable.
    """
    text, blocks = message.get("text"), message.get("blocks")
    has_content = bool(text) or bool(blocks)
    if require_text and not has_content:
        return ApiError("no_text")
    if isinstance(text, str) and len(text) > MAX_MESSAGE_TEXT:
        return ApiError("msg_too_long")
    problems = blocks_problems(blocks)
    if problems:
        return ApiError("invalid_blocks", extra={"response_metadata": {"messages": problems}})
    metadata = message.get("metadata")
    if metadata is not None and not (
        isinstance(metadata, dict)
        and isinstance(metadata.get("event_type"), str)
        and isinstance(metadata.get("event_payload"), dict)
    ):
        return ApiError("invalid_metadata_format")
    return None
