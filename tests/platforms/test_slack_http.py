"""Slack's HTTP endpoint stays responsive when clients send half a request, too much, or junk.

The real app serves on loopback with small limits passed in (timeouts of a few seconds, a
low connection cap), raw sockets play the slow or hostile clients, and the stand-in sends
the legitimate signed requests. Waits are on conditions, bounded by generous timeouts.
"""

import asyncio
import contextlib
import logging
import time
from collections.abc import Callable

import aiohttp
import pytest

from bot.platforms.slack.http import HttpLimits, ThrottledLog
from bot.platforms.slack.runner import SlackPlatform
from bot.runtime import Runtime
from standins.slack_payloads import sign
from standins.slack_standin import SlackStandIn
from tests.platforms.discord_harness import LogCapture
from tests.platforms.slack_harness import events_url, running_slack

HALF_SENT = 300
TIMEOUTS = 3.0  # header and body timeouts for these tests, in seconds
WAIT = 30.0  # how long a busy machine may take to show what should happen


@pytest.fixture
def socket_mode() -> bool:
    return False


def serving(
    slack: SlackStandIn, runtime: Runtime, limits: HttpLimits
) -> contextlib.AbstractAsyncContextManager[SlackPlatform]:
    """briefbot's Slack app in HTTP mode with ``limits``, until the block ends."""
    return running_slack(slack, runtime, http_limits=limits, within=WAIT)


async def connect(port: int, first: bytes) -> tuple[asyncio.StreamReader, asyncio.StreamWriter]:
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    writer.write(first)
    await writer.drain()
    return reader, writer


async def closed_by_server(reader: asyncio.StreamReader) -> bytes:
    """Everything the server sent before closing the connection (b"" if nothing)."""
    try:
        return await reader.read()
    except ConnectionResetError:
        return b""


def slack_lines(capture: LogCapture) -> list[str]:
    return [line for line in capture.lines if "Slack HTTP" in line or "refused a" in line]


@pytest.mark.timeout(90)
async def test_half_sent_requests_are_closed_and_real_ones_answered(
    slack: SlackStandIn, slack_runtime: Runtime
) -> None:
    limits = HttpLimits(header_timeout=TIMEOUTS, body_timeout=TIMEOUTS, max_connections=400)
    async with serving(slack, slack_runtime, limits) as platform:
        port = platform.http_port
        assert port is not None
        head = b"POST /slack/events HTTP/1.1\r\nHost: bot\r\n"
        body_head = (
            head
            + f"X-Slack-Request-Timestamp: {int(time.time())}\r\n".encode()
            + b"Content-Length: 500\r\n\r\npayload="
        )
        with LogCapture().installed() as capture:
            opened = time.monotonic()
            clients = [await connect(port, head if n % 2 else body_head) for n in range(HALF_SENT)]
            reply = await slack.http_command(events_url(platform), "/summit")
            answered = time.monotonic() - opened
            ends = await asyncio.wait_for(
                asyncio.gather(*(closed_by_server(reader) for reader, _ in clients)), WAIT
            )
            closed = time.monotonic() - opened
            for _, writer in clients:
                writer.close()
        assert reply.status == 200
        assert "Putin–Abe summit" in str(reply.body)
        assert answered < TIMEOUTS, "answered while the half-sent ones were still open"
        assert closed >= TIMEOUTS * 0.9, "not closed before their time"
        slow_bodies = ends[::2]
        assert all(end.startswith(b"HTTP/1.1 408") for end in slow_bodies)
        assert all(b"HTTP" not in end for end in ends[1::2])
        lines = slack_lines(capture)
        assert 1 <= len(lines) <= 3, lines
        assert not any(is_error(line) for line in capture.lines)


@pytest.mark.timeout(60)
async def test_connections_over_the_cap_are_closed_at_once(
    slack: SlackStandIn, slack_runtime: Runtime
) -> None:
    limits = HttpLimits(header_timeout=60.0, body_timeout=60.0, max_connections=20)
    async with serving(slack, slack_runtime, limits) as platform:
        port = platform.http_port
        assert port is not None
        with LogCapture().installed() as capture:
            held = [await connect(port, b"GET / HTTP/1.1\r\n") for _ in range(20)]
            extra = [await connect(port, b"GET / HTTP/1.1\r\n") for _ in range(30)]
            ends = await asyncio.wait_for(
                asyncio.gather(*(closed_by_server(reader) for reader, _ in extra)), WAIT
            )
            assert ends == [b""] * 30
            assert not any(reader.at_eof() for reader, _ in held)
            for _, writer in held:
                writer.close()
            await asyncio.wait_for(_until(lambda: len(platform_guard_open(platform)) == 0), WAIT)
            reply = await slack.http_command(events_url(platform), "/next-meeting")
        assert reply.status == 200
        refusals = [line for line in capture.lines if "connections are already open" in line]
        assert len(refusals) == 1, "one line, however many were refused"


def platform_guard_open(platform: SlackPlatform) -> list[object]:
    guard = platform.http_guard
    assert guard is not None
    return list(guard.open)


async def _until(condition: Callable[[], bool]) -> None:
    """Poll ``condition`` briefly until it holds (bounded by the caller's timeout)."""
    while True:
        if condition():
            return
        await asyncio.sleep(0.02)


@pytest.mark.timeout(60)
async def test_odd_timestamps_and_large_bodies_are_refused_in_one_line(
    slack: SlackStandIn, slack_runtime: Runtime
) -> None:
    limits = HttpLimits(max_body=4096)
    async with (
        serving(slack, slack_runtime, limits) as platform,
        aiohttp.ClientSession() as session,
    ):
        url = events_url(platform)
        body = "command=%2Fsummit&text="
        statuses = []
        with LogCapture().installed() as capture:
            for stamp in ("soon", "9" * 5000, "-5", "1e9", " 12", ""):
                headers = {
                    "X-Slack-Request-Timestamp": stamp,
                    "X-Slack-Signature": sign(slack.signing_secret, stamp, body),
                    "Content-Type": "application/x-www-form-urlencoded",
                }
                async with session.post(url, data=body, headers=headers) as response:
                    statuses.append(response.status)
            stamp = str(int(time.time()))
            big = "text=" + "x" * 5000
            headers = {
                "X-Slack-Request-Timestamp": stamp,
                "X-Slack-Signature": sign(slack.signing_secret, stamp, big),
                "Content-Type": "application/x-www-form-urlencoded",
            }
            async with session.post(url, data=big, headers=headers) as response:
                too_large = response.status
        assert statuses == [401] * 6
        assert too_large == 413
        refused = [line for line in capture.lines if "refused a request" in line]
        assert len(refused) <= 6
        assert not any(is_error(line) for line in capture.lines)
        assert (await slack.http_command(url, "/summit")).status == 200


def is_error(line: str) -> bool:
    """An error logged, or a traceback: what a refused request must never cause."""
    return line.startswith(("ERROR", "CRITICAL")) or "Traceback" in line


def test_throttled_log_counts_what_it_leaves_out(caplog: pytest.LogCaptureFixture) -> None:
    now = [0.0]
    throttled = ThrottledLog(10.0, clock=lambda: now[0])
    with caplog.at_level(logging.WARNING, logger="bot.platforms.slack.http"):
        for _ in range(100):
            throttled.warning("aborted %s", "x")
        now[0] = 11.0
        throttled.warning("aborted %s", "y")
    messages = [record.getMessage() for record in caplog.records]
    assert messages == [
        "aborted x",
        "Slack HTTP: 99 more like these in the last 11.0 s were not logged",
        "aborted y",
    ]


async def test_throttled_log_counts_at_the_window_end_when_all_is_quiet(
    caplog: pytest.LogCaptureFixture,
) -> None:
    throttled = ThrottledLog(0.2)

    def summaries() -> list[str]:
        return [r.getMessage() for r in caplog.records if "more like these" in r.getMessage()]

    with caplog.at_level(logging.WARNING, logger="bot.platforms.slack.http"):
        for n in range(5):
            throttled.warning("aborted %d", n)
        await asyncio.wait_for(_until(lambda: bool(summaries())), WAIT)
    assert caplog.records[0].getMessage() == "aborted 0"
    (summary,) = summaries()
    assert summary.startswith("Slack HTTP: 4 more like these in the last ")
