"""The calendar feed over HTTP: ``/calendar.ics``, ``/briefs/<id>.ics`` and one event's .ics.

Served when ``CALENDAR_HTTP_PORT`` is set, from the briefs the bot holds now (so a
SIGHUP's reload shows at the next fetch) and the bot's clock. Every answer carries
an ``ETag`` and ``Last-Modified``, and a calendar that polls with ``If-None-Match``
or ``If-Modified-Since`` gets ``304 Not Modified`` until the feed changes. An
unknown brief or event is 404, a method other than GET or HEAD 405.

Calendar services poll from the open internet, so the server holds no connection
for a slow or odd client: the request headers must come within ``header_timeout``
(else the connection is closed), a request with a body is refused (413), and at
most ``max_connections`` are open at once (beyond, a new one is closed at once).
aiohttp refuses a request line or header over 8 KiB (400). Refusals are logged as
one line each, at most one per ``log_interval`` seconds, with a count of the rest.

When Slack runs in HTTP mode on the same port, Slack's server serves the feed
too (``add_feed_routes``), behind Slack's own limits.
"""

import asyncio
import contextlib
import logging
import re
import time
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from http import HTTPStatus
from typing import Any

from aiohttp import web
from aiohttp.http_exceptions import HttpProcessingError
from aiohttp.typedefs import Handler
from aiohttp.web_protocol import RequestHandler

from bot.core.calendar import CalendarFeed, calendar_feed
from bot.core.calendar_links import FEED_PATH, FeedAddress
from bot.core.library import UnknownChoice
from bot.runtime import PlatformStartError, Runtime
from bot.settings import Settings

log = logging.getLogger(__name__)

SLUG = r"[a-z0-9]+(?:-[a-z0-9]+)*"
BRIEF_PATH = re.compile(rf"/briefs/(?P<brief>{SLUG})\.ics")
EVENT_PATH = re.compile(rf"/briefs/(?P<brief>{SLUG})/(?P<event>{SLUG})\.ics")
ALLOWED = "GET, HEAD"


@dataclass(frozen=True)
class FeedLimits:
    """How long a client may take to ask, and how many may be connected at once."""

    header_timeout: float = 10.0
    max_connections: int = 256
    log_interval: float = 10.0


class _Throttled:
    """Warnings at most one per ``interval`` seconds; the rest counted in the next line."""

    def __init__(self, interval: float, clock: Callable[[], float] = time.monotonic) -> None:
        self.interval = interval
        self.clock = clock
        self._last = -float("inf")
        self._dropped = 0

    def warning(self, message: str, *args: object) -> None:
        now = self.clock()
        if now - self._last < self.interval:
            self._dropped += 1
            return
        if self._dropped:
            message += f" ({self._dropped} more like it in the last {now - self._last:.0f} s)"
        self._last, self._dropped = now, 0
        log.warning(message, *args)


class _RequestLog(logging.LoggerAdapter):  # type: ignore[type-arg]
    """aiohttp's log for a request it could not parse: one throttled line, no traceback.

    Anything else aiohttp reports (a fault in a handler) keeps its traceback.
    """

    def __init__(self, refusals: _Throttled) -> None:
        super().__init__(log, {})
        self.refusals = refusals

    def exception(self, msg: object, *args: object, **kwargs: Any) -> None:
        error = kwargs.get("exc_info")
        if isinstance(error, HttpProcessingError):
            self.refusals.warning(
                "Calendar feed: refused a malformed request from %s (%d): %s",
                args[0] if args else "an unknown peer",
                error.code,
                str(error.message).splitlines()[0][:200],
            )
            return
        super().exception(msg, *args, **kwargs)


class _Connection(asyncio.Protocol):
    """One connection: aiohttp's handler, closed unless its request headers come in time."""

    def __init__(self, guard: "_Guard", inner: RequestHandler) -> None:
        self.guard = guard
        self.inner = inner
        self.transport: asyncio.Transport | None = None
        self._timer: asyncio.TimerHandle | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        assert isinstance(transport, asyncio.Transport)
        self.transport = transport
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
        """The headers came: the timer is off."""
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None

    def _expire(self) -> None:
        self._timer = None
        peer = self.transport.get_extra_info("peername") if self.transport else None
        self.guard.refusals.warning(
            "Calendar feed: closed a connection from %s that sent no complete request within %g s",
            _host(peer),
            self.guard.limits.header_timeout,
        )
        if self.transport is not None:
            self.transport.abort()


class _Refused(asyncio.Protocol):
    """A connection over the limit: closed as soon as it is made."""

    def __init__(self, guard: "_Guard") -> None:
        self.guard = guard

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.guard.refusals.warning(
            "Calendar feed: refused a connection from %s: %d connections are already open",
            _host(transport.get_extra_info("peername")),
            self.guard.limits.max_connections,
        )
        assert isinstance(transport, asyncio.Transport)
        transport.abort()


class _Guard:
    """The open connections of the feed's site, and the limits applied to them."""

    def __init__(self, limits: FeedLimits) -> None:
        self.limits = limits
        self.open: dict[RequestHandler, _Connection] = {}
        self.refusals = _Throttled(limits.log_interval)

    def factory(self, server: web.Server) -> Callable[[], asyncio.Protocol]:
        def make() -> asyncio.Protocol:
            if len(self.open) >= self.limits.max_connections:
                return _Refused(self)
            connection = _Connection(self, server())
            self.open[connection.inner] = connection
            return connection

        return make

    @web.middleware
    async def middleware(self, request: web.Request, handler: Handler) -> web.StreamResponse:
        """Stop the header timer; refuse a body, which no calendar sends."""
        connection = self.open.get(request.protocol)
        if connection is not None:
            connection.request_started()
        if request.body_exists:
            self.refusals.warning(
                "Calendar feed: refused a request to %s from %s (413): it has a body",
                request.path[:200],
                request.remote,
            )
            response = web.Response(status=HTTPStatus.REQUEST_ENTITY_TOO_LARGE, text="No body")
            response.force_close()
            return response
        return await handler(request)


class _Site(web.TCPSite):
    """A TCP site whose connections go through the guard."""

    def __init__(self, runner: web.BaseRunner, host: str, port: int, guard: _Guard) -> None:
        super().__init__(runner, host, port)
        self.guard = guard

    async def start(self) -> None:
        await web.BaseSite.start(self)
        server = self._runner.server
        assert server is not None
        loop = asyncio.get_running_loop()
        self._server = await loop.create_server(
            self.guard.factory(server), self._host, self._port, backlog=self._backlog
        )
        sockets = self._server.sockets
        self._bound_port = sockets[0].getsockname()[1] if sockets else self._port


def add_feed_routes(app: web.Application, runtime: Runtime) -> None:
    """Serve the feed from ``app``: every path under ``/calendar.ics`` and ``/briefs/``."""
    feed = _FeedHandler(runtime)
    app.router.add_route("*", FEED_PATH, feed.handle)
    app.router.add_route("*", "/briefs/{tail:.*}", feed.handle)


class _FeedHandler:
    def __init__(self, runtime: Runtime) -> None:
        self.runtime = runtime

    async def handle(self, request: web.Request) -> web.StreamResponse:
        """The feed, one brief's or one event's, with its validators; 304 when unchanged."""
        if request.method not in ("GET", "HEAD"):
            return web.Response(
                status=HTTPStatus.METHOD_NOT_ALLOWED, text="GET only", headers={"Allow": ALLOWED}
            )
        path = request.path
        brief_id = event_id = None
        if path != FEED_PATH:
            match = BRIEF_PATH.fullmatch(path) or EVENT_PATH.fullmatch(path)
            if match is None:
                return _not_found()
            brief_id, event_id = match["brief"], match.groupdict().get("event")
        library, now = self.runtime.library, self.runtime.clock.now()
        try:
            feed = await asyncio.to_thread(
                calendar_feed,
                library,
                now,
                all_events=event_id is not None,
                brief_id=brief_id,
                event_id=event_id,
            )
        except UnknownChoice:
            return _not_found()
        filename = f"{event_id or brief_id or 'briefbot'}.ics"
        disposition = "attachment" if event_id else "inline"
        headers = {
            "ETag": feed.etag,
            "Cache-Control": "no-cache",
            "Content-Disposition": f'{disposition}; filename="{filename}"',
        }
        if _unchanged(request, feed):
            response = web.Response(status=HTTPStatus.NOT_MODIFIED, headers=headers)
        else:
            response = web.Response(body=feed.body, headers=headers)
            response.content_type = "text/calendar"
            response.charset = "utf-8"
        response.last_modified = feed.last_modified
        return response


def _unchanged(request: web.Request, feed: CalendarFeed) -> bool:
    """Whether the client's copy is current: ``If-None-Match`` first, else ``If-Modified-Since``."""
    if "If-None-Match" in request.headers:
        wanted = request.if_none_match or ()
        tag = feed.etag.strip('"')
        return any(given.value in ("*", tag) for given in wanted)
    since = request.if_modified_since
    return since is not None and feed.last_modified.replace(microsecond=0) <= since


def _not_found() -> web.Response:
    return web.Response(status=HTTPStatus.NOT_FOUND, text="No such calendar")


def shares_slack_port(settings: Settings) -> bool:
    """Whether Slack's HTTP server serves the feed: both listen on the same fixed port."""
    return (
        settings.calendar_http_port is not None
        and settings.calendar_http_port != 0
        and settings.slack_bot_token is not None
        and settings.slack_app_token is None
        and settings.slack_http_port == settings.calendar_http_port
    )


def feed_address(settings: Settings) -> FeedAddress | None:
    """Where members reach the feed, or ``None`` when it is not served."""
    return FeedAddress.of(settings.calendar_public_url, settings.calendar_http_port)


class CalendarServer:
    """The feed's own HTTP server on ``port`` (0: any free port; ``port`` is then the bound one)."""

    def __init__(
        self,
        runtime: Runtime,
        port: int,
        *,
        host: str = "0.0.0.0",  # noqa: S104 (calendar services fetch from outside)
        limits: FeedLimits | None = None,
    ) -> None:
        self.runtime = runtime
        self.host = host
        self.port = port
        self.guard = _Guard(limits or FeedLimits())
        app = web.Application(middlewares=[self.guard.middleware])
        add_feed_routes(app, runtime)
        self._runner = web.AppRunner(
            app,
            access_log=None,
            logger=_RequestLog(self.guard.refusals),
            handler_cancellation=True,
            keepalive_timeout=self.guard.limits.header_timeout,
            lingering_time=0,
        )

    async def start(self) -> None:
        """Listen; raises ``PlatformStartError`` when the port cannot be had."""
        await self._runner.setup()
        site = _Site(self._runner, self.host, self.port, self.guard)
        try:
            await site.start()
        except OSError as error:
            await self._runner.cleanup()
            raise PlatformStartError(
                f"cannot listen on CALENDAR_HTTP_PORT {self.port}: {error.strerror}"
            ) from None
        self.port = site.port
        address = feed_address(self.runtime.settings)
        log.info(
            "Calendar feed: listening at http://%s:%d%s; members reach it at %s",
            self.host,
            self.port,
            FEED_PATH,
            address.feed if address else "?",
        )

    async def close(self) -> None:
        """Stop listening."""
        await self._runner.cleanup()


@contextlib.asynccontextmanager
async def serving_feed(runtime: Runtime, **options: Any) -> AsyncIterator[CalendarServer | None]:
    """Serve the feed while the block runs, when ``CALENDAR_HTTP_PORT`` is set and Slack's
    HTTP server does not serve it already."""
    settings = runtime.settings
    if settings.calendar_http_port is None:
        yield None
        return
    if shares_slack_port(settings):
        log.info(
            "Calendar feed: served with Slack's requests on port %d", settings.calendar_http_port
        )
        yield None
        return
    server = CalendarServer(runtime, settings.calendar_http_port, **options)
    await server.start()
    try:
        yield server
    finally:
        await server.close()


def _host(peer: Any) -> str:
    return str(peer[0]) if isinstance(peer, tuple) and peer else "an unknown peer"
