"""What the Discord stand-in records: REST requests, posts, callbacks, followups, edits.

Plain dataclasses, kept apart from the server so tests can import and annotate with them.
"""

# The waiting helpers take a ``timeout`` argument on purpose: tests read better that way.
# ruff: noqa: ASYNC109

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Protocol

from .discord_payloads import JSON


class Waiter(Protocol):
    """The part of the stand-in an :class:`InteractionRecord` uses to wait."""

    async def wait_until(
        self, predicate: Callable[[], bool], timeout: float = 5.0, what: str = "a condition"
    ) -> None:
        """Wait until ``predicate()`` holds."""
        ...


@dataclass(frozen=True)
class UploadedFile:
    """A file part of a multipart request."""

    field_name: str
    filename: str
    content_type: str
    data: bytes


@dataclass
class RequestRecord:
    """One REST request as received (``path`` is relative to ``/api/v10``)."""

    method: str
    path: str
    query: dict[str, str]
    headers: dict[str, str]
    json: Any
    files: list[UploadedFile]
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
    files: list[UploadedFile] = field(default_factory=list)


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


@dataclass
class FollowupRecord:
    """A followup message (``POST /webhooks/{app}/{token}``)."""

    interaction_id: int
    token: str
    json: JSON
    message: JSON
    time: float
    files: list[UploadedFile] = field(default_factory=list)


@dataclass
class EditRecord:
    """A message edit; ``kind`` is ``"original"``, ``"followup"`` or ``"channel"``."""

    kind: str
    message_id: int
    json: JSON
    message: JSON
    time: float
    interaction_id: int | None = None


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
    edits: list[EditRecord] = field(default_factory=list)
    original: JSON | None = field(default=None, repr=False)

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

    async def wait_edits(self, n: int = 1, timeout: float = 5.0) -> list[EditRecord]:
        """Wait until ``n`` edits of this interaction's messages; return them all."""
        await self.standin.wait_until(
            lambda: len(self.edits) >= n, timeout, f"{n} edits for {self.name!r}"
        )
        return list(self.edits)
