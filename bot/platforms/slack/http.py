"""Serving Slack's signed HTTP requests without letting slow or odd clients hold the bot.

slack_bolt gives an aiohttp application; this module serves it with limits Slack's own
requests never reach: a connection must send its headers within ``header_timeout`` and
its body within ``body_timeout`` (else it is closed: 408 when headers came), a body over
``max_body`` is refused (413), at most ``max_connections`` are open at once (beyond, a new
connection is closed at once), and an ``X-Slack-Request-Timestamp`` that is not a plain
Unix time is refused with 401 before bolt sees it. Each refusal or abort is logged as one
line, and such lines are rate limited: at most ``burst`` per ``log_interval`` seconds,
then one line counting what was left out.
"""

import asyncio
import contextlib
import logging
import re
import time
from collections.abc import Callable
from dataclasses import dataclass
from http import HTTPStatus
from typing import Any

from aiohttp import web
from aiohttp.typedefs import Handler
from aiohttp.web_protocol import RequestHandler

log = logging.getLogger(__name__)

TIMESTAMP = re.compile(r"[0-9]{1,10}")  # Unix seconds; Slack refuses anything 5 minutes off


@dataclass(frozen=True)
class HttpLimits:
    """How long and how large Slack's requests may be, and how many at once."""

    header_timeout: float = 10.0
    body_timeout: float = 10.0
    max_body: int = 1024 * 1024
    max_connections: int = 256
    log_interval: float = 10.0


class ThrottledLog:
    """Warnings of one kind, at most ``burst`` per ``interval`` seconds, then a count.

    What was left out is counted in one line when the window ends: at the next warning,
    or from a timer on the running loop if there is one.
    """

    def __init__(
        self, interval: float, burst: int = 1, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self.interval = interval
        self.burst = burst
        self.clock = clock
        self._window_start = -float("inf")
        self._logged = 0
        self._dropped = 0
        self._timer: asyncio.TimerHandle | None = None

    def warning(self, message: str, *args: object) -> None:
        """Log ``message`` unless this window's lines are spent; then only count it."""
        now = self.clock()
        if now - self._window_start >= self.interval:
            self.flush()
            self._window_start, self._logged = now, 0
        if self._logged < self.burst:
            self._logged += 1
            log.warning(message, *args)
            return
        self._dropped += 1
        if self._timer is None:
            with contextlib.suppress(RuntimeError):  # no running loop: the next warning tells
                loop = asyncio.get_running_loop()
                self._timer = loop.call_later(self._window_start + self.interval - now, self.flush)

    def flush(self) -> None:
        """Log how many warnings were left out since the last line, if any."""
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None
        if self._dropped:
            log.warning(
                "Slack HTTP: %d more like these in the last %.1f s were not logged",
                self._dropped,
                self.clock() - self._window_start,
            )
            self._dropped = 0


class _Guarded(asyncio.Protocol):
    """One connection: aiohttp's handler, closed unless its headers come in time."""

    def __init__(self, guard: "ConnectionGuard", inner: RequestHandler) -> None:
        self.guard = guard
        self.inner = inner
        self.transport: asyncio.Transport | None = None
        self.peer: Any = None
        self._timer: asyncio.TimerHandle | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        assert isinstance(transport, asyncio.Transport)
        self.transport = transport
        self.peer = transport.get_extra_info("peername")
        self.guard.open[self.inner] = self
        self._timer = asyncio.get_running_loop().call_later(
            self.guard.limits.header_timeout, self._expire
        )
        self.inner.connection_made(transport)

    def data_received(self, data: bytes) -> None:
        self.inner.data_received(data)

    def eof_received(self) -> None:
        self.inner.eof_received()

    def pause_writing(self) -> None:
        self.inner.pause_writing()

    def resume_writing(self) -> None:
        self.inner.resume_writing()

    def connection_lost(self, exc: Exception | None) -> None:
        self.request_started()
        self.guard.open.pop(self.inner, None)
        self.inner.connection_lost(exc)

    def request_started(self) -> None:
        """Headers arrived: from now on the body timeout applies."""
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None

    def _expire(self) -> None:
        self._timer = None
        self.guard.aborts.warning(
            "Slack HTTP: closed a connection from %s that sent no complete request headers "
            "within %g s",
            _host(self.peer),
            self.guard.limits.header_timeout,
        )
        if self.transport is not None:
            self.transport.abort()


class _Refused(asyncio.Protocol):
    """A connection over the limit: closed as soon as it is made."""

    def __init__(self, guard: "ConnectionGuard") -> None:
        self.guard = guard

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.guard.aborts.warning(
            "Slack HTTP: refused a connection from %s: %d connections are already open",
            _host(transport.get_extra_info("peername")),
            self.guard.limits.max_connections,
        )
        assert isinstance(transport, asyncio.Transport)
        transport.abort()


class ConnectionGuard:
    """Counts the open connections of one site and applies ``limits`` to them."""

    def __init__(self, limits: HttpLimits) -> None:
        self.limits = limits
        self.open: dict[RequestHandler, _Guarded] = {}
        self.aborts = ThrottledLog(limits.log_interval)
        self.refusals = ThrottledLog(limits.log_interval, burst=5)

    def factory(self, server: web.Server) -> Callable[[], asyncio.Protocol]:
        """The protocol factory for ``loop.create_server``: aiohttp's handler, guarded."""

        def make() -> asyncio.Protocol:
            if len(self.open) >= self.limits.max_connections:
                return _Refused(self)
            guarded = _Guarded(self, server())
            self.open[guarded.inner] = guarded  # counted from now: accepts come in bursts
            return guarded

        return make

    @web.middleware
    async def middleware(self, request: web.Request, handler: Handler) -> web.StreamResponse:
        """Check the timestamp, read the body within the limits, then let bolt answer."""
        guarded = self.open.get(request.protocol)
        if guarded is not None:
            guarded.request_started()
        stamp = request.headers.get("X-Slack-Request-Timestamp", "")
        if request.method == "POST" and not TIMESTAMP.fullmatch(stamp):
            return self._refuse(request, "its X-Slack-Request-Timestamp is not a Unix time")
        length = request.content_length
        if length is not None and length > self.limits.max_body:
            return self._abort(request, HTTPStatus.REQUEST_ENTITY_TOO_LARGE, "too large")
        try:
            async with asyncio.timeout(self.limits.body_timeout):
                await request.read()  # kept by aiohttp: bolt reads it again from memory
        except TimeoutError:
            return self._abort(request, HTTPStatus.REQUEST_TIMEOUT, "too slow to send its body")
        except web.HTTPRequestEntityTooLarge:
            return self._abort(request, HTTPStatus.REQUEST_ENTITY_TOO_LARGE, "too large")
        response = await handler(request)
        if response.status == HTTPStatus.UNAUTHORIZED:
            self._refused(request, "its signature is wrong or its timestamp is 5 minutes off")
        return response

    def _refuse(self, request: web.Request, why: str) -> web.Response:
        self._refused(request, why)
        return web.json_response({"error": "unauthorized"}, status=HTTPStatus.UNAUTHORIZED)

    def _refused(self, request: web.Request, why: str) -> None:
        self.refusals.warning(
            "Slack: refused a request to %s from %s (401): %s", request.path, request.remote, why
        )

    def _abort(self, request: web.Request, status: HTTPStatus, why: str) -> web.Response:
        self.aborts.warning(
            "Slack HTTP: refused a request to %s from %s (%d): %s",
            request.path,
            request.remote,
            status,
            why,
        )
        response = web.Response(status=status, text=status.phrase)
        response.force_close()
        return response


class GuardedSite(web.TCPSite):
    """A TCP site whose connections go through a :class:`ConnectionGuard`."""

    def __init__(
        self, runner: web.BaseRunner, host: str, port: int, guard: ConnectionGuard
    ) -> None:
        super().__init__(runner, host, port)
        self.guard = guard

    async def start(self) -> None:
        """Listen, handing each new connection to the guard (and through it to aiohttp)."""
        await web.BaseSite.start(self)
        server = self._runner.server
        assert server is not None
        loop = asyncio.get_running_loop()
        self._server = await loop.create_server(
            self.guard.factory(server), self._host, self._port, backlog=self._backlog
        )
        sockets = self._server.sockets
        self._bound_port = sockets[0].getsockname()[1] if sockets else self._port


def guarded_runner(
    app: web.Application, limits: HttpLimits
) -> tuple[web.AppRunner, ConnectionGuard]:
    """An app runner for ``app`` with ``limits`` applied, and the guard for its sites."""
    guard = ConnectionGuard(limits)
    app.middlewares.append(guard.middleware)
    app._client_max_size = limits.max_body  # what request.read() accepts
    runner = web.AppRunner(
        app,
        access_log=None,
        handler_cancellation=True,  # a client gone mid-request ends its handler quietly
        keepalive_timeout=limits.header_timeout,  # an idle kept-alive connection is closed
        lingering_time=0,  # a refused body is not read on after the answer
    )
    return runner, guard


def _host(peer: Any) -> str:
    return str(peer[0]) if isinstance(peer, tuple) and peer else "an unknown peer"
