"""Fixtures for the fault-injection suite: a PostgreSQL schema of its own per test, the
stand-ins (as in tests/platforms), and bot processes that cannot outlive their test."""

import os
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator, Mapping
from pathlib import Path

import pytest
from sqlalchemy import create_engine, make_url
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.pool import NullPool

from tests.faults.botprocess import BotProcess
from tests.platforms.conftest import discord, discord_options, slack, slack_options

__all__ = ["discord", "discord_options", "slack", "slack_options"]

POSTGRES_URL = os.environ.get(
    "BRIEFBOT_TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test"
)


@pytest.fixture
def postgres_schema() -> Iterator[str]:
    """A fresh schema on the test PostgreSQL server; skipped (failed under CI=true) without one."""
    engine = create_engine(
        POSTGRES_URL,
        connect_args={"connect_timeout": 3},
        isolation_level="AUTOCOMMIT",
        poolclass=NullPool,
    )
    schema = f"faults_{uuid.uuid4().hex}"
    try:
        with engine.connect() as connection:
            connection.exec_driver_sql(f'CREATE SCHEMA "{schema}"')
    except SQLAlchemyError as error:
        message = f"PostgreSQL (BRIEFBOT_TEST_POSTGRES_URL) is unreachable: {error}"
        if os.environ.get("CI") == "true":
            pytest.fail(message)
        pytest.skip(message)
    try:
        yield schema
    finally:
        with engine.connect() as connection:
            connection.exec_driver_sql(f'DROP SCHEMA "{schema}" CASCADE')
        engine.dispose()


def postgres_url_via(port: int, schema: str) -> str:
    """The test server's URL, reached through a proxy on ``port``, in ``schema``."""
    url = make_url(POSTGRES_URL).set(host="127.0.0.1", port=port)
    url = url.update_query_dict({"options": f"-csearch_path={schema}"})
    return url.render_as_string(hide_password=False)


def postgres_target() -> tuple[str, int]:
    """Where the test server listens."""
    url = make_url(POSTGRES_URL)
    return url.host or "127.0.0.1", url.port or 5432


@pytest.fixture
async def bot_process() -> AsyncIterator[Callable[..., Awaitable[BotProcess]]]:
    """Start ``python -m bot run`` with an environment, logging to a file; killed if left running.

    ``await bot_process(env, log)`` returns the started :class:`BotProcess`; a test stops it
    itself (and checks the exit status) before looking at what it did.
    """
    started: list[BotProcess] = []

    async def start(env: Mapping[str, str], log: Path) -> BotProcess:
        bot = BotProcess(env, log)
        started.append(bot)
        await bot.start()
        return bot

    yield start
    for bot in started:
        if bot.process is not None and bot.process.returncode is None:
            bot.process.kill()
            await bot.process.wait()
