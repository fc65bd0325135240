"""The calendar feed over HTTP: the feed, validators and 304s, 404 and 405, hostile clients,
a reload, and the feed sharing Slack's port.

The real server listens on loopback; aiohttp's client plays the calendars that poll it and
raw sockets the slow or odd ones. Waits are on conditions, with generous bounds.
"""

import asyncio
import contextlib
import socket
from collections.abc import AsyncIterator, Callable
from datetime import UTC, datetime
from email.utils import format_datetime
from pathlib import Path

import aiohttp
import pytest
from icalendar import Calendar
from multidict import CIMultiDict

from bot.core.calendar import calendar_bytes
from bot.core.clock import Clock
from bot.core.loading import load_library
from bot.platforms.web import CalendarServer, FeedLimits, serving_feed
from bot.runtime import Runtime
from bot.settings import Settings
from standins.slack_standin import SlackStandIn
from tests.conftest import BRIEFS
from tests.platforms.discord_harness import LogCapture
from tests.platforms.slack_harness import running_slack, slack_settings

AS_OF = datetime(2017, 4, 28, 9, 0, tzinfo=UTC)
BRIEF = "russia-japan-summit-2017"
WAIT = 30.0


def runtime_for(briefs: Path = BRIEFS) -> Runtime:
    settings = Settings.model_construct(
        briefs_dir=briefs, as_of=AS_OF, speed=None, calendar_http_port=0
    )
    return Runtime(settings, load_library(briefs), Clock(AS_OF, 0.0))


@contextlib.asynccontextmanager
async def served(
    runtime: Runtime, limits: FeedLimits | None = None
) -> AsyncIterator[tuple[CalendarServer, str]]:
    async with serving_feed(runtime, host="127.0.0.1", limits=limits) as server:
        assert server is not None
        yield server, f"http://127.0.0.1:{server.port}"


async def fetch(
    url: str, method: str = "GET", **headers: str
) -> tuple[int, CIMultiDict[str], bytes]:
    async with (
        aiohttp.ClientSession() as session,
        session.request(method, url, headers=headers) as response,
    ):
        return response.status, CIMultiDict(response.headers), await response.read()


async def test_the_feed_is_the_calendar_of_events_ahead_with_validators() -> None:
    runtime = runtime_for()
    async with served(runtime) as (_, base):
        status, headers, body = await fetch(f"{base}/calendar.ics")
    assert status == 200
    assert body == calendar_bytes(runtime.library, AS_OF, all_events=False)
    assert headers["Content-Type"] == "text/calendar; charset=utf-8"
    assert headers["ETag"].startswith('"')
    assert headers["Last-Modified"] == "Fri, 28 Apr 2017 00:00:00 GMT"  # the brief's as_of


async def test_unchanged_feed_gets_304() -> None:
    async with served(runtime_for()) as (_, base):
        url = f"{base}/calendar.ics"
        _, headers, _ = await fetch(url)
        tag, modified = headers["ETag"], headers["Last-Modified"]
        status, again, body = await fetch(url, **{"If-None-Match": tag})
        assert (status, body) == (304, b"")
        assert again["ETag"] == tag
        assert (await fetch(url, **{"If-None-Match": f'"other", {tag}'}))[0] == 304
        assert (await fetch(url, **{"If-None-Match": '"other"'}))[0] == 200
        # If-None-Match decides when both are sent.
        both = {"If-None-Match": '"other"', "If-Modified-Since": modified}
        assert (await fetch(url, **both))[0] == 200
        assert (await fetch(url, **{"If-Modified-Since": modified}))[0] == 304
        earlier = format_datetime(datetime(2017, 4, 27, tzinfo=UTC), usegmt=True)
        assert (await fetch(url, **{"If-Modified-Since": earlier}))[0] == 200
        assert (await fetch(url, "HEAD", **{"If-None-Match": tag}))[0] == 304


async def test_one_brief_one_event_and_unknown_ones() -> None:
    runtime = runtime_for()
    async with served(runtime) as (_, base):
        status, _, body = await fetch(f"{base}/briefs/{BRIEF}.ics")
        assert status == 200
        assert body == calendar_bytes(runtime.library, AS_OF, all_events=False, brief_id=BRIEF)
        status, headers, body = await fetch(f"{base}/briefs/{BRIEF}/g20-hamburg-2017.ics")
        assert status == 200
        (event,) = Calendar.from_ical(body).walk("VEVENT")
        assert str(event["UID"]) == f"g20-hamburg-2017@{BRIEF}.briefbot"
        assert headers["Content-Disposition"] == 'attachment; filename="g20-hamburg-2017.ics"'
        for path in (
            "/briefs/no-such-brief.ics",
            f"/briefs/{BRIEF}/no-such-event.ics",
            "/briefs/UPPER.ics",
            "/briefs/a/b/c.ics",
            "/",
            "/calendar.ics/extra",
        ):
            assert (await fetch(f"{base}{path}"))[0] == 404, path


@pytest.mark.parametrize("method", ["POST", "PUT", "DELETE", "OPTIONS", "PATCH"])
async def test_other_methods_get_405(method: str) -> None:
    async with served(runtime_for()) as (_, base):
        status, headers, _ = await fetch(f"{base}/calendar.ics", method)
    assert status == 405
    assert headers["Allow"] == "GET, HEAD"


async def raw(port: int, request: bytes) -> bytes:
    """Send ``request`` on a new connection; everything the server sent until it closed."""
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    try:
        writer.write(request)
        await writer.drain()
        async with asyncio.timeout(WAIT):
            try:
                return await reader.read()
            except ConnectionResetError:
                return b""
    finally:
        writer.close()


async def test_a_huge_path_and_a_body_are_refused(logs: LogCapture) -> None:
    async with served(runtime_for()) as (server, base):
        huge = b"GET /" + b"a" * 20_000 + b" HTTP/1.1\r\nHost: x\r\n\r\n"
        assert (await raw(server.port, huge)).startswith(b"HTTP/1.0 400 Bad Request")
        status, _, _ = await fetch(f"{base}/calendar.ics")  # still serving
        assert status == 200
        with_body = b"GET /calendar.ics HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\n\r\nhello"
        assert (await raw(server.port, with_body)).startswith(b"HTTP/1.1 413")
    lines = "\n".join(logs.lines)
    assert "refused a malformed request from 127.0.0.1 (400): Got more than 8190 bytes" in lines
    assert "Traceback" not in lines


@pytest.mark.timeout(90)
async def test_slow_headers_are_cut_off_and_the_connection_cap_holds() -> None:
    limits = FeedLimits(header_timeout=1.0, max_connections=3, log_interval=0.0)
    with LogCapture().installed() as capture:
        async with served(runtime_for(), limits) as (server, base):
            started = asyncio.get_running_loop().time()
            slow = await raw(server.port, b"GET /calendar.ics HTTP/1.1\r\nHost: x\r\n")
            assert slow == b""  # closed without an answer
            assert asyncio.get_running_loop().time() - started < WAIT
            # Three idle connections fill the cap: a fourth is closed at once.
            idle = [await asyncio.open_connection("127.0.0.1", server.port) for _ in range(3)]
            assert await raw(server.port, b"GET /calendar.ics HTTP/1.1\r\nHost: x\r\n\r\n") == b""
            for _, writer in idle:
                writer.close()
            status = 0
            async with asyncio.timeout(WAIT):
                while status != 200:  # the idle ones closed: served again
                    with contextlib.suppress(aiohttp.ClientError):
                        status = (await fetch(f"{base}/calendar.ics"))[0]
    lines = "\n".join(capture.lines)
    assert "sent no complete request within 1 s" in lines
    assert "3 connections are already open" in lines
    assert "Traceback" not in lines


async def test_a_reloaded_brief_is_served_with_a_higher_sequence(
    brief_copy: Callable[..., Path],
) -> None:
    make = brief_copy
    briefs = make()
    runtime = runtime_for(briefs)
    async with served(runtime) as (_, base):
        url = f"{base}/briefs/{BRIEF}/g20-hamburg-2017.ics"
        _, headers, body = await fetch(url)
        before = int(str(Calendar.from_ical(body).walk("VEVENT")[0]["SEQUENCE"]))
        make(("as_of = 2017-04-28", "as_of = 2017-05-02"), ("end = 2017-07-08", "end = 2017-07-09"))
        runtime.library = load_library(briefs)  # what a SIGHUP's reload does
        status, _, body = await fetch(url, **{"If-None-Match": headers["ETag"]})
    assert status == 200
    (event,) = Calendar.from_ical(body).walk("VEVENT")
    assert int(str(event["SEQUENCE"])) == before + 4
    assert event.decoded("DTEND").isoformat() == "2017-07-10"


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


async def test_the_feed_shares_slacks_port(slack: SlackStandIn, tmp_path: Path) -> None:
    port = free_port()
    settings = slack_settings(
        slack, tmp_path / "data", socket_mode=False, slack_http_port=port, calendar_http_port=port
    )
    runtime = Runtime(settings, load_library(BRIEFS), Clock(AS_OF, 0.0))
    async with serving_feed(runtime) as own:
        assert own is None, "Slack's server serves it"
        async with running_slack(slack, runtime) as platform:
            assert platform.http_port == port
            status, _, body = await fetch(f"http://127.0.0.1:{port}/calendar.ics")
    assert status == 200
    assert body == calendar_bytes(runtime.library, AS_OF, all_events=False)
