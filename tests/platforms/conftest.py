"""Fixtures for the platform tests: started stand-ins, runtimes on them, and running bots.

Each stand-in fixture checks, after everything that used it has stopped, that it saw no
unhandled request and no protocol error. A module sets the stand-in's constructor
arguments by overriding ``discord_options`` or ``slack_options``; one test adds its own
with ``@pytest.mark.parametrize("discord", [{...}], indirect=True)`` (or ``"slack"``).
The bots' clock is pinned at ``as_of`` (override the fixture, or parametrize it).
"""

import contextlib
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from bot.core.clock import Clock
from bot.core.library import Library
from bot.platforms.slack.runner import SlackPlatform
from bot.runtime import Runtime
from standins.discord_standin import DiscordStandIn
from standins.slack_standin import SlackStandIn
from tests.platforms.discord_harness import TOKEN, LogCapture, running_bot, settings_for
from tests.platforms.slack_harness import running_slack, slack_settings, standin

WRITTEN = datetime(2017, 4, 28, 9, 0, tzinfo=UTC)
"""When the shipped brief was written: the default pinned clock."""


@dataclass
class Running:
    """A bot running in the background: its runtime, and ``stop()`` to end it early."""

    runtime: Runtime
    stop: Callable[[], Awaitable[None]]


@dataclass
class RunningSlack(Running):
    """The Slack app running in the background."""

    platform: SlackPlatform


def _options(request: pytest.FixtureRequest, defaults: dict[str, Any]) -> dict[str, Any]:
    """The module's stand-in options with the test's indirect parameters on top."""
    return {**defaults, **getattr(request, "param", {})}


def _capture_first(request: pytest.FixtureRequest) -> None:
    """Install the test's ``logs`` capture before the bot starts, so start-up is in it."""
    if "logs" in request.fixturenames:
        request.getfixturevalue("logs")


@pytest.fixture
def as_of() -> datetime:
    """The instant the bots' clock is pinned at (it does not run)."""
    return WRITTEN


@pytest.fixture
def logs() -> Iterator[LogCapture]:
    """Every log record at DEBUG and above, formatted, while the test runs."""
    with LogCapture().installed() as capture:
        yield capture


@pytest.fixture
def discord_options() -> dict[str, Any]:
    """Constructor arguments for the Discord stand-in besides its token."""
    return {}


@pytest.fixture
async def discord(
    request: pytest.FixtureRequest, discord_options: dict[str, Any]
) -> AsyncIterator[DiscordStandIn]:
    """A started Discord stand-in knowing the bot's token; checked clean at the end."""
    async with DiscordStandIn(token=TOKEN, **_options(request, discord_options)) as standin:
        yield standin
    standin.assert_clean()


@pytest.fixture
def discord_runtime_for(
    discord: DiscordStandIn, tmp_path: Path, library: Library, as_of: datetime
) -> Callable[..., Runtime]:
    """Make a runtime on the Discord stand-in, with settings ``changes``."""

    def make(**changes: Any) -> Runtime:
        settings = settings_for(discord, tmp_path / "data", **changes)
        return Runtime(settings, library, Clock(as_of, 0.0))

    return make


@pytest.fixture
def discord_runtime(discord_runtime_for: Callable[..., Runtime]) -> Runtime:
    """The runtime of a Discord bot on the stand-in."""
    return discord_runtime_for()


@pytest.fixture
async def discord_bot(
    request: pytest.FixtureRequest, discord: DiscordStandIn, discord_runtime: Runtime
) -> AsyncIterator[Running]:
    """The Discord bot running against the stand-in, ready, until the test ends or stops it."""
    _capture_first(request)
    async with contextlib.AsyncExitStack() as stack:
        await stack.enter_async_context(running_bot(discord, discord_runtime))
        yield Running(discord_runtime, stack.aclose)


@pytest.fixture
def slack_options() -> dict[str, Any]:
    """Constructor arguments for the Slack stand-in besides the bot's tokens and secret."""
    return {}


@pytest.fixture
async def slack(
    request: pytest.FixtureRequest, slack_options: dict[str, Any]
) -> AsyncIterator[SlackStandIn]:
    """A started Slack stand-in knowing the bot's tokens; checked clean at the end."""
    async with standin(**_options(request, slack_options)) as fake:
        yield fake
    fake.assert_clean()


@pytest.fixture
def socket_mode() -> bool:
    """Whether the Slack app connects over Socket Mode (else it serves HTTP)."""
    return True


@pytest.fixture
def slack_runtime_for(
    slack: SlackStandIn, tmp_path: Path, library: Library, as_of: datetime, socket_mode: bool
) -> Callable[..., Runtime]:
    """Make a runtime on the Slack stand-in, with settings ``changes``."""

    def make(**changes: Any) -> Runtime:
        settings = slack_settings(slack, tmp_path / "data", socket_mode=socket_mode, **changes)
        return Runtime(settings, library, Clock(as_of, 0.0))

    return make


@pytest.fixture
def slack_runtime(slack_runtime_for: Callable[..., Runtime]) -> Runtime:
    """The runtime of a Slack app on the stand-in."""
    return slack_runtime_for()


@pytest.fixture
async def slack_app(
    request: pytest.FixtureRequest, slack: SlackStandIn, slack_runtime: Runtime
) -> AsyncIterator[RunningSlack]:
    """briefbot's Slack app serving the stand-in, until the test ends or stops it."""
    _capture_first(request)
    async with contextlib.AsyncExitStack() as stack:
        platform = await stack.enter_async_context(running_slack(slack, slack_runtime))
        yield RunningSlack(slack_runtime, stack.aclose, platform)
