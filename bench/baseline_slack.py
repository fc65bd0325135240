"""The Slack baseline: the smallest slack_bolt app answering /summit, /mous and /next-meeting.

An ``AsyncApp`` set up like briefbot's Slack app: an ``AsyncWebClient`` pointed at
``SLACK_API_BASE_URL`` with ``SLACK_BOT_TOKEN``, the ``SLACK_SIGNING_SECRET`` checked on every
request, ``process_before_response=True`` (the answer travels in the ack), signed HTTP at
``/slack/events`` on ``SLACK_HTTP_PORT``, and one ``auth.test`` at start as briefbot does. Each
command acks the same fixed short text in the channel. It is the floor any Slack bot on
slack_bolt reaches on a machine, and the yardstick for briefbot's own cost.

The post path: with ``BASELINE_POST_CHANNEL_IDS`` (comma-separated channel ids) set, the app
waits ``BASELINE_POST_AFTER`` seconds (default 2) after it starts listening, prints
``DUE_LINE`` and posts ``POST_TEXT`` to every channel with ``chat_postMessage``: all at once
(no pacing, no bookkeeping, the least a bot can do to post one message to K channels), or,
with ``BASELINE_POST_RATE`` set, evenly spaced at that many posts per second, as briefbot
paces its reminders.

Run: ``python bench/baseline_slack.py``. SIGTERM closes it cleanly. It imports nothing from
briefbot.
"""

import asyncio
import contextlib
import os
import signal
import sys
import traceback

from aiohttp import web
from slack_bolt.async_app import AsyncAck, AsyncApp
from slack_sdk.web.async_client import AsyncWebClient

ANSWER = "ok"
POST_TEXT = "G20 leaders' summit in 7 days"
COMMANDS = ("/summit", "/mous", "/next-meeting")
EVENTS_PATH = "/slack/events"
LISTENING_LINE = "baseline: listening"
DUE_LINE = "baseline: due: posting to"
DEFAULT_API = "https://slack.com/api/"


async def answer(ack: AsyncAck) -> None:
    """Every command's handler: the fixed string, in the channel, in the ack."""
    await ack(text=ANSWER, response_type="in_channel")


def build_app() -> AsyncApp:
    """The app: three fixed-answer commands, the same settings as briefbot's."""
    api = os.environ.get("SLACK_API_BASE_URL") or DEFAULT_API
    client = AsyncWebClient(token=os.environ["SLACK_BOT_TOKEN"], base_url=api.rstrip("/") + "/")
    app = AsyncApp(
        client=client,
        signing_secret=os.environ["SLACK_SIGNING_SECRET"],
        process_before_response=True,
    )
    for command in COMMANDS:
        app.command(command)(answer)
    return app


async def post_all(client: AsyncWebClient, channels: list[str], rate: float = 0.0) -> None:
    """Post the fixed text to every channel: at once, or ``rate`` per second evenly spaced.

    Paced, post ``k`` leaves ``k / rate`` seconds after the first (a fixed grid, as briefbot's
    limiter keeps); each post is its own task, so a slow answer does not delay the next.
    """
    print(f"{DUE_LINE} {len(channels)} channel(s)", file=sys.stderr, flush=True)
    if rate <= 0:
        await asyncio.gather(
            *(client.chat_postMessage(channel=c, text=POST_TEXT) for c in channels)
        )
        return
    loop = asyncio.get_running_loop()
    start = loop.time()
    posts = []
    for k, channel in enumerate(channels):
        await asyncio.sleep(max(0.0, start + k / rate - loop.time()))
        posts.append(
            asyncio.ensure_future(client.chat_postMessage(channel=channel, text=POST_TEXT))
        )
    await asyncio.gather(*posts)


async def main() -> None:
    """Check the token, listen for signed requests, post if asked, run until SIGTERM."""
    app = build_app()
    await app.client.auth_test()
    port = int(os.environ.get("SLACK_HTTP_PORT", "3000"))
    runner = web.AppRunner(app.web_app(path=EVENTS_PATH, port=port), access_log=None)
    await runner.setup()
    stopped = asyncio.Event()
    with contextlib.suppress(NotImplementedError):  # not on Windows
        asyncio.get_running_loop().add_signal_handler(signal.SIGTERM, stopped.set)
    posting: asyncio.Task[None] | None = None
    try:
        await web.TCPSite(runner, "0.0.0.0", port).start()  # noqa: S104 - as briefbot listens
        print(f"{LISTENING_LINE} on port {port}", file=sys.stderr, flush=True)
        channels = [c for c in os.environ.get("BASELINE_POST_CHANNEL_IDS", "").split(",") if c]
        if channels:
            delay = float(os.environ.get("BASELINE_POST_AFTER", "2"))
            rate = float(os.environ.get("BASELINE_POST_RATE", "0"))
            posting = asyncio.create_task(post_later(app.client, channels, delay, rate))
        await stopped.wait()
    finally:
        if posting is not None:
            posting.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await posting
        await runner.cleanup()


async def post_later(
    client: AsyncWebClient, channels: list[str], delay: float, rate: float
) -> None:
    """Post to ``channels`` ``delay`` seconds from now (see :func:`post_all`)."""
    await asyncio.sleep(delay)
    try:
        await post_all(client, channels, rate)
    except Exception:  # noqa: BLE001 - shown at once, for the benchmark's failure message
        traceback.print_exc()


if __name__ == "__main__":
    asyncio.run(main())
