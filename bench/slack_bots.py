"""The Slack bots under test, each a subprocess serving signed HTTP: ours and the baseline.

Ours runs as deployed, ``python -m bot run``, with only Slack configured (no
``DISCORD_TOKEN``): ``SLACK_BOT_TOKEN`` and ``SLACK_SIGNING_SECRET`` (HTTP mode, no app
token), ``SLACK_HTTP_PORT`` on a free port, ``SLACK_API_BASE_URL`` at the stand-in, a fresh
``DATA_DIR`` and the clock pinned as in the Discord benchmarks. The baseline is
``bench/baseline_slack.py`` with the same settings. Both are watched and stopped as
:class:`bench.bots.BotProcess` does (SIGTERM, then SIGKILL).
"""

import asyncio
import contextlib
import os
import socket
import sys
import tempfile
import time
from collections.abc import AsyncIterator, Awaitable, Mapping, Sequence
from pathlib import Path

from bench.bots import AS_OF, READY_TIMEOUT, ROOT, BotProcess, Kind
from bench.slack_standin import BenchSlackStandIn

BASELINE_SCRIPT = ROOT / "bench" / "baseline_slack.py"
EVENTS_PATH = "/slack/events"
POLL = 0.02  # seconds between attempts to connect to a starting bot
# Settings of ours and of the baseline that must not leak in from the caller's environment.
_OWN_SETTINGS = (
    "DISCORD_",
    "SLACK_",
    "BRIEF",
    "REMINDER_",
    "DATABASE_URL",
    "DATA_DIR",
    "LOG_LEVEL",
    "BASELINE_",
)


def free_port() -> int:
    """A TCP port that was free on 127.0.0.1 a moment ago (the bot binds it next)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def slack_command_line(kind: Kind) -> list[str]:
    """How to start ``kind``: ``python -m bot run``, or the Slack baseline script."""
    if kind is Kind.OURS:
        return [sys.executable, "-m", "bot", "run"]
    return [sys.executable, str(BASELINE_SCRIPT)]


def slack_environment(
    standin: BenchSlackStandIn,
    data_dir: Path,
    port: int,
    extra: Mapping[str, str] | None = None,
) -> dict[str, str]:
    """The environment both bots get: Slack over signed HTTP at the stand-in, nothing stray."""
    keep = {k: v for k, v in os.environ.items() if not k.startswith(_OWN_SETTINGS)}
    return {
        **keep,
        "PYTHONPATH": str(ROOT),
        "SLACK_BOT_TOKEN": standin.bot_token,
        "SLACK_SIGNING_SECRET": standin.signing_secret,
        "SLACK_HTTP_PORT": str(port),
        "SLACK_API_BASE_URL": standin.api_base,
        "BRIEFS_DIR": str(ROOT / "briefs"),
        "DATA_DIR": str(data_dir),
        "LOG_LEVEL": "WARNING",
        "BRIEFBOT_AS_OF": AS_OF,
        **(extra or {}),
    }


class SlackBotProcess(BotProcess):
    """A Slack bot subprocess listening for signed requests on ``port``."""

    def __init__(
        self,
        kind: Kind,
        env: Mapping[str, str],
        cwd: Path,
        port: int,
        watch: Sequence[str] = (),
    ) -> None:
        super().__init__(kind, env, cwd, watch)
        self.port = port

    @property
    def events_url(self) -> str:
        """Where the bot takes Slack's signed requests."""
        return f"http://127.0.0.1:{self.port}{EVENTS_PATH}"

    def command(self) -> list[str]:
        """The command line that starts this bot."""
        return slack_command_line(self.kind)

    async def bounded(self, awaitable: Awaitable[None], within: float, what: str) -> None:
        """Await ``awaitable`` for at most ``within`` seconds, failing early if the bot exits."""
        waiter = asyncio.ensure_future(awaitable)
        exited = asyncio.ensure_future(self.process.wait())
        try:
            done, _ = await asyncio.wait(
                {waiter, exited}, timeout=within, return_when=asyncio.FIRST_COMPLETED
            )
        finally:
            for task in (waiter, exited):
                task.cancel()
            await asyncio.gather(waiter, exited, return_exceptions=True)
        if waiter in done:
            error = waiter.exception()
            if isinstance(error, TimeoutError):
                raise self.failure(f"timed out waiting for {what}")
            if error is not None:
                raise error
            return
        if exited in done:
            raise self.failure(f"exited while waiting for {what}")
        raise self.failure(f"timed out after {within:.0f} s waiting for {what}")

    async def _accepting(self) -> None:
        while True:
            try:
                _, writer = await asyncio.open_connection("127.0.0.1", self.port)
            except OSError:
                await asyncio.sleep(POLL)
                continue
            writer.close()
            with contextlib.suppress(OSError):
                await writer.wait_closed()
            return

    async def wait_listening(self, within: float = READY_TIMEOUT) -> float:
        """Wait until the bot accepts connections on its port; return when (perf_counter)."""
        await self.bounded(self._accepting(), within, f"the bot to listen on port {self.port}")
        return time.perf_counter()


@contextlib.asynccontextmanager
async def running_slack(
    kind: Kind,
    standin: BenchSlackStandIn,
    *,
    extra_env: Mapping[str, str] | None = None,
    watch: Sequence[str] = (),
) -> AsyncIterator[SlackBotProcess]:
    """Run ``kind`` against ``standin`` in a fresh data directory until the block ends."""
    with tempfile.TemporaryDirectory(prefix=f"bench-slack-{kind}-") as tmp:
        port = free_port()
        env = slack_environment(standin, Path(tmp) / "data", port, extra_env)
        bot = SlackBotProcess(kind, env, Path(tmp), port, watch)
        try:
            await bot.start()
            yield bot
        finally:
            await bot.stop()
