"""The real ``briefbot run`` as a child process, pointed at the loopback stand-ins.

The child's clock is pinned a little before a reminder falls due and runs at
real speed; the tests wait on what the stand-in records or the log says, with
generous bounds, never for a fixed time.
"""

import asyncio
import json
import os
import signal
import sys
import time
from collections import Counter
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any, TypeVar

from standins.discord_standin import DiscordStandIn
from standins.slack_standin import SlackStandIn
from tests.platforms.discord_harness import GUILD, TOKEN
from tests.platforms.slack_harness import APP_TOKEN, BOT_TOKEN

WAIT = 60.0  # the longest any condition is waited for, on a busy machine


def _clean_environment() -> dict[str, str]:
    return {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("DISCORD_", "SLACK_", "BRIEF", "REMIND", "DATABASE_"))
    }


def slack_env(
    fake: SlackStandIn, data: Path, channels: Iterable[str], **extra: str
) -> dict[str, str]:
    """The environment of a bot serving ``fake`` over Socket Mode with reminders in ``channels``."""
    return {
        **_clean_environment(),
        "SLACK_BOT_TOKEN": BOT_TOKEN,
        "SLACK_APP_TOKEN": APP_TOKEN,
        "SLACK_API_BASE_URL": fake.api_base,
        "DATA_DIR": str(data),
        "LOG_LEVEL": "INFO",
        "BRIEFBOT_SPEED": "1",
        "SLACK_REMINDER_CHANNEL_IDS": ",".join(channels),
        "REMINDER_CLAIM_LEASE": "1s",
        **extra,
    }


def discord_env(
    fake: DiscordStandIn, data: Path, channels: Iterable[int], **extra: str
) -> dict[str, str]:
    """The environment of a bot serving ``fake`` with reminders in ``channels``."""
    return {
        **_clean_environment(),
        "DISCORD_TOKEN": TOKEN,
        "DISCORD_GUILD_ID": str(GUILD),
        "DISCORD_API_BASE_URL": fake.api_base,
        "DISCORD_GATEWAY_URL": fake.gateway_url,
        "DATA_DIR": str(data),
        "LOG_LEVEL": "INFO",
        "BRIEFBOT_SPEED": "1",
        "REMINDER_CHANNEL_IDS": ",".join(str(c) for c in channels),
        "REMINDER_CLAIM_LEASE": "1s",
        **extra,
    }


class BotProcess:
    """One ``python -m bot run`` with its output in ``log``."""

    def __init__(self, env: Mapping[str, str], log: Path) -> None:
        self.env = dict(env)
        self.log = log
        self.process: asyncio.subprocess.Process | None = None

    async def start(self) -> None:
        """Start the bot (its output is appended to the log)."""
        with self.log.open("ab") as handle:
            self.process = await asyncio.create_subprocess_exec(
                sys.executable,
                "-m",
                "bot",
                "run",
                env=self.env,
                stdin=asyncio.subprocess.DEVNULL,
                stdout=handle,
                stderr=handle,
            )

    def text(self) -> str:
        """Everything the bot has logged so far."""
        return self.log.read_text(encoding="utf-8", errors="replace") if self.log.exists() else ""

    async def wait_for_log(self, needle: str, count: int = 1) -> None:
        """Wait until ``needle`` has appeared ``count`` times in the log (at most ``WAIT``)."""
        deadline = time.monotonic() + WAIT
        while self.text().count(needle) < count:
            if self.process is not None and self.process.returncode is not None:
                raise AssertionError(f"the bot exited before logging {needle!r}:\n{self.tail()}")
            if time.monotonic() > deadline:
                raise AssertionError(f"timed out waiting for {needle!r} in:\n{self.tail()}")
            await asyncio.sleep(0.05)

    def tail(self, size: int = 4000) -> str:
        """The end of the log, for a failure message."""
        return self.text()[-size:]

    async def kill(self) -> None:
        """SIGKILL: a crash at this instant."""
        assert self.process is not None
        self.process.send_signal(signal.SIGKILL)
        await self.process.wait()

    async def schedule(self) -> dict[str, Any]:
        """What ``briefbot schedule --json`` says with this bot's settings."""
        process = await asyncio.create_subprocess_exec(
            sys.executable,
            "-m",
            "bot",
            "schedule",
            "--json",
            env=self.env,
            stdin=asyncio.subprocess.DEVNULL,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE,
        )
        out, err = await asyncio.wait_for(process.communicate(), WAIT)
        assert process.returncode == 0, err.decode()
        report: dict[str, Any] = json.loads(out)
        return report

    async def stop(self) -> int:
        """SIGTERM, and the exit status; a bot that does not stop fails with its log."""
        assert self.process is not None
        if self.process.returncode is None:
            self.process.terminate()
        try:
            return await asyncio.wait_for(self.process.wait(), WAIT)
        except TimeoutError:
            self.process.kill()
            await self.process.wait()
            raise AssertionError(f"the bot did not stop on SIGTERM:\n{self.tail()}") from None


def discord_posts_per_delivery(fake: DiscordStandIn) -> Counter[tuple[int, str]]:
    """How many messages each (channel, delivery) got; a delivery is known by its nonce."""
    return Counter((post.channel_id, str(post.nonce)) for post in fake.posts)


def slack_posts_per_delivery(fake: SlackStandIn) -> Counter[tuple[str, str]]:
    """How many messages each (channel, delivery) got; a delivery is known by the nonce
    in its message metadata."""
    counted: Counter[tuple[str, str]] = Counter()
    for post in fake.posts:
        metadata = post.message.get("metadata") or {}
        nonce = (metadata.get("event_payload") or {}).get("nonce")
        counted[(post.channel, str(nonce))] += 1
    return counted


Channel = TypeVar("Channel", int, str)


def assert_exactly_once(
    posts: Counter[tuple[Channel, str]], channels: Iterable[Channel], log: str
) -> None:
    """Every channel got its reminder, and no (channel, delivery) got it twice."""
    wanted = set(channels)
    reached = {channel for channel, _ in posts}
    assert reached == wanted, f"lost in {sorted(wanted - reached)}:\n{log[-3000:]}"
    doubled = [key for key, count in posts.items() if count > 1]
    assert not doubled, f"doubled: {doubled}:\n{log[-3000:]}"
