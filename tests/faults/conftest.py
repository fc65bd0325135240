"""Fixtures for the fault-injection suite: a PostgreSQL schema of its own per test."""

import os
import uuid
from collections.abc import Iterator

import pytest
from sqlalchemy import create_engine, make_url
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.pool import NullPool

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
