"""What the Slack stand-in records: Web API calls, posts, acks, response_url posts, envelopes.

Plain dataclasses, kept apart from the server so tests can import and annotate with them.
Times are ``time.perf_counter()`` values.
"""

# The waiting helpers take a ``timeout`` argument on purpose: tests read better that way.
# ruff: noqa: ASYNC109

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, NamedTuple

from .loopback import Waiter
from .slack_payloads import JSON


@dataclass
class RequestRecord:
    """One Web API call as received.

    ``token_kind`` is ``"bot"``, ``"app"``, ``"invalid"`` or ``"missing"``; ``params`` merges
    the query string and the (form or JSON) body, with the token removed.
    """

    method: str
    http_method: str
    token_kind: str
    params: JSON
    time: float
    status: int = 0
    response: JSON | None = None

    @property
    def ok(self) -> bool:
        """Whether the stand-in answered ``"ok": true``."""
        return bool(self.response and self.response.get("ok"))

    @property
    def error(self) -> str | None:
        """The ``error`` the stand-in answered with, if any."""
        return None if self.response is None else self.response.get("error")


@dataclass
class PostRecord:
    """A message the bot posted with ``chat.postMessage``."""

    channel: str
    ts: str
    params: JSON
    message: JSON
    time: float

    @property
    def text(self) -> str:
        """The message's ``text``."""
        return str(self.params.get("text") or "")

    @property
    def blocks(self) -> list[JSON]:
        """The message's blocks (empty when it has none)."""
        return list(self.params.get("blocks") or [])

    @property
    def metadata(self) -> JSON | None:
        """The message's ``metadata``, if posted with some."""
        metadata = self.params.get("metadata")
        return metadata if isinstance(metadata, dict) else None


@dataclass
class ResponseRecord:
    """A POST to an interaction's ``response_url``."""

    interaction_id: str
    json: JSON
    time: float

    @property
    def response_type(self) -> str:
        """``"ephemeral"`` (Slack's default) or ``"in_channel"``."""
        return str(self.json.get("response_type") or "ephemeral")

    @property
    def text(self) -> str:
        """The response's ``text``."""
        return str(self.json.get("text") or "")

    @property
    def blocks(self) -> list[JSON]:
        """The response's blocks (empty when it has none)."""
        return list(self.json.get("blocks") or [])


@dataclass
class EnvelopeRecord:
    """A Socket Mode envelope the stand-in sent; ``connection`` is its 1-based number."""

    envelope_id: str
    type: str
    envelope: JSON
    connection: int
    time: float


@dataclass
class AckRecord:
    """How the app acknowledged an interaction.

    In Socket Mode: the ``{"envelope_id", "payload"}`` frame (``status`` 200). Over HTTP: the
    response to Slack's POST; ``body`` is the parsed JSON or the text, and ``payload`` is
    what Slack would make of it (JSON as is, text as ``{"text": ...}``, empty as ``None``).
    """

    interaction_id: str
    mode: str
    payload: JSON | None
    time: float
    status: int = 200
    body: JSON | str | None = None

    @property
    def text(self) -> str:
        """The ``text`` of the ack's payload ("" when it has none)."""
        return str((self.payload or {}).get("text") or "")

    @property
    def blocks(self) -> list[JSON]:
        """The blocks of the ack's payload (empty when it has none)."""
        return list((self.payload or {}).get("blocks") or [])


@dataclass(eq=False)
class InteractionRecord:
    """A slash command or block action the stand-in delivered, and how the app answered it.

    ``mode`` is ``"socket"`` or ``"http"``; ``type`` is ``"slash_commands"`` or
    ``"block_actions"``; ``id`` is the envelope id (Socket Mode) or a stand-in id (HTTP).
    ``sent_at``/``acked_at``/``responded_at`` are taken when the envelope or POST went out,
    when the ack arrived, and when the first ``response_url`` post arrived.
    """

    id: str
    mode: str
    type: str
    payload: JSON
    response_url: str
    channel_id: str
    standin: Waiter = field(repr=False)
    accepts_response_payload: bool = True
    sent_at: float = 0.0
    acked_at: float | None = None
    responded_at: float | None = None
    ack: AckRecord | None = None
    responses: list[ResponseRecord] = field(default_factory=list)

    @property
    def ack_latency(self) -> float | None:
        """Seconds from sending to the ack, or ``None`` while unacknowledged."""
        return None if self.acked_at is None else self.acked_at - self.sent_at

    @property
    def response_latency(self) -> float | None:
        """Seconds from sending to the first ``response_url`` post, or ``None``."""
        return None if self.responded_at is None else self.responded_at - self.sent_at

    async def wait_ack(self, timeout: float = 5.0) -> AckRecord:
        """Wait for the app's ack and return it."""
        await self.standin.wait_until(
            lambda: self.ack is not None, timeout, f"an ack of {self.type} {self.id}"
        )
        assert self.ack is not None
        return self.ack

    async def wait_responses(self, n: int = 1, timeout: float = 5.0) -> list[ResponseRecord]:
        """Wait until ``n`` posts reached this interaction's ``response_url``; return them."""
        await self.standin.wait_until(
            lambda: len(self.responses) >= n,
            timeout,
            f"{n} response_url posts for {self.type} {self.id}",
        )
        return list(self.responses)


class HttpReply(NamedTuple):
    """What :meth:`SlackStandIn.http_command` returns: ``status, body, record = reply``."""

    status: int
    body: Any
    record: InteractionRecord
