"""What the Discord stand-in records: REST requests, posts, callbacks, followups, interactions.

Plain dataclasses, kept apart from the server so tests can import and annotate with them.
"""

# The waiting helpers take a ``timeout`` argument on purpose: tests read better that way.
# ruff: noqa: ASYNC109

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from .discord_payloads import JSON
from .loopback import Waiter


@dataclass
class RequestRecord:
    """One REST request as received (``path`` is relative to ``/api/v10``)."""

    method: str
    path: str
    query: dict[str, str]
    headers: dict[str, str]
    json: Any
    time: float
    status: int = 0


@dataclass
class PostRecord:
    """A message the bot created with ``POST /channels/{id}/messages``."""

    channel_id: int
    json: JSON
    nonce: str | int | None
    message: JSON
    time: float


@dataclass
class CallbackRecord:
    """The bot's answer to an interaction (``POST /interactions/{id}/{token}/callback``)."""

    interaction_id: int
    token: str
    type: int
    data: JSON | None
    with_response: bool
    time: float
    message: JSON | None = None
    files: dict[str, bytes] = field(default_factory=dict)
    """Files uploaded with the answer (multipart), by file name."""


@dataclass
class FollowupRecord:
    """A followup message (``POST /webhooks/{app}/{token}``)."""

    interaction_id: int
    token: str
    json: JSON
    message: JSON
    time: float


@dataclass(eq=False)
class InteractionRecord:
    """An interaction the stand-in dispatched, and everything the bot did to answer it.

    ``sent_at`` and ``responded_at`` are ``time.perf_counter()`` values taken just before the
    INTERACTION_CREATE frame went out and when the first callback arrived.
    """

    id: int
    token: str
    type: int
    name: str
    guild_id: int
    channel_id: int
    payload: JSON
    standin: Waiter = field(repr=False)
    sent_at: float = 0.0
    responded_at: float | None = None
    callback: CallbackRecord | None = None
    followups: list[FollowupRecord] = field(default_factory=list)

    @property
    def latency(self) -> float | None:
        """Seconds from dispatch to the first callback, or ``None`` while unanswered."""
        return None if self.responded_at is None else self.responded_at - self.sent_at

    async def wait_response(self, timeout: float = 5.0) -> CallbackRecord:
        """Wait for the first callback to this interaction and return it."""
        await self.standin.wait_until(
            lambda: self.callback is not None, timeout, f"a callback to interaction {self.name!r}"
        )
        assert self.callback is not None
        return self.callback

    async def wait_followups(self, n: int = 1, timeout: float = 5.0) -> list[FollowupRecord]:
        """Wait until ``n`` followups were sent for this interaction; return them all."""
        await self.standin.wait_until(
            lambda: len(self.followups) >= n, timeout, f"{n} followups to {self.name!r}"
        )
        return list(self.followups)
