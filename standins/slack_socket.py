"""The Socket Mode half of the Slack stand-in: the websocket ``apps.connections.open`` hands out.

Accepts connections carrying a ticket the Web API issued, greets each with ``hello``, pushes
envelopes (slash commands, block actions) down the newest connection, passes every ack frame
(``{"envelope_id", "payload"}``) to its :class:`SocketHost`, and can ask the client to
reconnect (a ``disconnect`` message) or drop the connection outright.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import secrets
import time
from dataclasses import dataclass
from typing import Any, Protocol

from aiohttp import WSCloseCode, WSMsgType, web

from .slack_payloads import JSON, SlackIdentity
from .slack_records import EnvelopeRecord, InteractionRecord

#: How :meth:`SocketModeServer.drop` may end a connection.
DROP_MODES = ("disconnect", "close")


class SocketHost(Protocol):
    """What the Socket Mode server asks of the stand-in that owns it."""

    identity: SlackIdentity

    def protocol_error(self, text: str) -> None:
        """Record something real Slack would have refused."""
        ...

    def notify(self) -> None:
        """Wake waiters: something was recorded."""
        ...

    def accept_socket_ack(self, envelope_id: str, payload: Any, now: float) -> None:
        """Record the app's ack of envelope ``envelope_id``."""
        ...


@dataclass(eq=False)
class SocketConnection:
    """One websocket connection from the app; ``number`` counts from 1."""

    number: int
    ticket: str
    ws: web.WebSocketResponse
    opened_at: float
    closed_at: float | None = None

    @property
    def active(self) -> bool:
        """Whether the connection is still open."""
        return self.closed_at is None and not self.ws.closed


class SocketModeServer:
    """Serves ``GET /socket?ticket=...`` for the stand-in (see the module docstring)."""

    def __init__(self, host: SocketHost) -> None:
        self.host = host
        self.connections: list[SocketConnection] = []
        self.envelopes: list[EnvelopeRecord] = []
        self.tickets_issued = 0
        self._tickets: set[str] = set()
        self._closing = False

    # ----------------------------------------------------------------- tickets

    def issue_ticket(self) -> str:
        """A new ticket for the URL ``apps.connections.open`` returns."""
        ticket = secrets.token_hex(16)
        self._tickets.add(ticket)
        self.tickets_issued += 1
        return ticket

    # ----------------------------------------------------------------- state

    @property
    def opened(self) -> int:
        """Connections accepted (greeted with ``hello``) so far."""
        return len(self.connections)

    def active(self) -> SocketConnection | None:
        """The newest open connection, if any."""
        return next((c for c in reversed(self.connections) if c.active), None)

    # ----------------------------------------------------------------- serving

    async def handle(self, request: web.Request) -> web.StreamResponse:
        """Upgrade to a websocket, say ``hello`` and read acks until the connection ends."""
        ticket = request.query.get("ticket", "")
        if self._closing or ticket not in self._tickets:
            if not self._closing:
                self.host.protocol_error(f"Socket Mode connection with unknown ticket {ticket!r}")
            body = json.dumps({"ok": False, "error": "invalid_ticket"}).encode()
            headers = {"Content-Type": "application/json"}
            return web.Response(body=body, status=401, headers=headers)
        ws = web.WebSocketResponse(autoping=True, heartbeat=None)
        await ws.prepare(request)
        connection = SocketConnection(len(self.connections) + 1, ticket, ws, time.perf_counter())
        self.connections.append(connection)
        identity = self.host.identity
        hello = {
            "type": "hello",
            "num_connections": sum(1 for c in self.connections if c.active),
            "debug_info": {
                "host": f"applink-standin-{connection.number}",
                "build_number": 1,
                "approximate_connection_time": 18060,
            },
            "connection_info": {"app_id": identity.app_id},
        }
        try:
            await ws.send_str(json.dumps(hello))
            self.host.notify()
            async for message in ws:
                if message.type == WSMsgType.TEXT:
                    self._frame(connection, message.data)
                elif message.type == WSMsgType.BINARY:
                    self.host.protocol_error(f"binary frame on connection {connection.number}")
        finally:
            connection.closed_at = time.perf_counter()
            self.host.notify()
        return ws

    def _frame(self, connection: SocketConnection, raw: str) -> None:
        now = time.perf_counter()
        try:
            frame = json.loads(raw)
        except ValueError:
            self.host.protocol_error(f"non-JSON frame on connection {connection.number}: {raw!r}")
            return
        if not isinstance(frame, dict) or not isinstance(frame.get("envelope_id"), str):
            self.host.protocol_error(f"frame without envelope_id: {raw!r}")
            return
        self.host.accept_socket_ack(frame["envelope_id"], frame.get("payload"), now)

    # ----------------------------------------------------------------- sending

    async def send_envelope(
        self, rec: InteractionRecord, connection: SocketConnection
    ) -> EnvelopeRecord:
        """Send ``rec`` as an envelope on ``connection``; stamps ``rec.sent_at``."""
        envelope: JSON = {
            "envelope_id": rec.id,
            "type": rec.type,
            "payload": rec.payload,
            "accepts_response_payload": rec.accepts_response_payload,
        }
        record = EnvelopeRecord(rec.id, rec.type, envelope, connection.number, 0.0)
        self.envelopes.append(record)
        rec.sent_at = record.time = time.perf_counter()
        await connection.ws.send_str(json.dumps(envelope))
        return record

    async def drop(self, mode: str = "disconnect", reason: str = "refresh_requested") -> int:
        """End the newest connection; return its number.

        ``"disconnect"`` sends Slack's ``{"type": "disconnect", "reason": ...}`` so the client
        fetches a new URL and reconnects on its own (closing the old connection); ``"close"``
        closes the websocket from the server side (code 1001), as a lost link would.
        """
        if mode not in DROP_MODES:
            raise ValueError(f"drop mode must be one of {DROP_MODES}, not {mode!r}")
        connection = self.active()
        if connection is None:
            raise LookupError("no open Socket Mode connection to drop")
        if mode == "disconnect":
            message = {
                "type": "disconnect",
                "reason": reason,
                "debug_info": {"host": f"applink-standin-{connection.number}"},
            }
            await connection.ws.send_str(json.dumps(message))
        else:
            await connection.ws.close(code=WSCloseCode.GOING_AWAY, message=reason.encode())
        return connection.number

    async def close(self) -> None:
        """Close every connection (code 1001) and refuse new ones."""
        self._closing = True
        for connection in self.connections:
            if connection.active:
                with contextlib.suppress(Exception):
                    await asyncio.wait_for(
                        connection.ws.close(code=WSCloseCode.GOING_AWAY, message=b"shutdown"),
                        2.0,
                    )
