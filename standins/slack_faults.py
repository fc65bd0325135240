"""Faults, scopes and history paging for the Slack stand-in.

Kept apart from ``slack_standin`` (which serves them): injected failures, including a reply
lost after Slack stored what was asked (an HTTP 500, or a connection reset with no answer);
the OAuth scopes a bot token has and which methods need which; and ``conversations.history``
cursors, which, as Slack's, point at a message timestamp so that newer messages arriving
between two pages shift nothing.
"""

from __future__ import annotations

import base64
from dataclasses import dataclass

from .loopback import InjectedFault
from .slack_payloads import ApiError

#: The scopes ``slack/manifest.yml`` asks for: what a stand-in's bot token has by default.
DEFAULT_SCOPES = ("commands", "chat:write", "channels:history", "groups:history", "users:read")
#: What an app-level token (``xapp-``) has.
APP_SCOPES = ("connections:write",)
#: Scopes each Web API method needs (``conversations.history``: see :func:`history_scope`).
METHOD_SCOPES = {
    "chat.postMessage": "chat:write",
    "users.info": "users:read",
}
DEFAULT_ERRORS = {429: "ratelimited", 503: "service_unavailable"}


@dataclass
class Fault(InjectedFault):
    """A failure waiting for the next ``remaining`` calls of ``method`` (``"*"``: any).

    ``processed``: the method runs first (a post is stored) and only the reply fails.
    ``reset``: the connection is reset instead of answered (implies ``processed``).
    """

    method: str
    status: int
    error: str
    retry_after: int

    def refusal(self) -> ApiError:
        """The error answered in place of the method's own answer."""
        headers = {"Retry-After": str(self.retry_after)} if self.status == 429 else None
        return ApiError(self.error, status=self.status, headers=headers)


class ConnectionReset(Exception):
    """Raised inside the stand-in to reset the connection instead of answering."""


def history_scope(channel_id: str) -> str:
    """The scope reading a channel's history needs: private (``G…``) or public channels."""
    return "groups:history" if channel_id.startswith("G") else "channels:history"


def require_scope(scopes: frozenset[str], needed: str) -> None:
    """Raise Slack's ``missing_scope`` error unless ``needed`` is among ``scopes``."""
    if needed not in scopes:
        provided = ",".join(sorted(scopes))
        raise ApiError("missing_scope", extra={"needed": needed, "provided": provided})


def encode_cursor(next_key: int) -> str:
    """A ``next_cursor`` pointing at the first message of the next page (its ts key)."""
    return base64.urlsafe_b64encode(f"next_ts:{next_key}".encode()).decode()


def decode_cursor(cursor: str | None) -> int | None:
    """The ts key a cursor points at; ``None`` for no cursor. Raises ``ValueError`` if bad."""
    if not cursor:
        return None
    try:
        text = base64.urlsafe_b64decode(cursor.encode()).decode()
    except (ValueError, UnicodeDecodeError):
        raise ValueError(f"bad cursor {cursor!r}") from None
    prefix, _, number = text.partition(":")
    if prefix != "next_ts" or not number.isdigit():
        raise ValueError(f"bad cursor {cursor!r}")
    return int(number)
