"""Engines for the ledger's databases: SQLite set up for several processes, PostgreSQL with
timeouts, and URLs and driver errors shown without their password."""

import time
from pathlib import Path
from typing import Any

from sqlalchemy import URL, Connection, Engine, create_engine, event, make_url
from sqlalchemy.exc import ArgumentError, DBAPIError, NoSuchModuleError
from sqlalchemy.pool import ConnectionPoolEntry, StaticPool

SQLITE_BUSY_TIMEOUT_MS = 5000
POSTGRES_CONNECT_TIMEOUT_S = 10
READ_ONLY = "briefbot_read_only"  # execution option: a transaction that only reads


class LedgerError(Exception):
    """The ledger's database cannot be opened or used; the message says which and why."""


def parse_url(url: str) -> URL:
    """``url`` parsed, or a ``LedgerError`` that shows it without its password."""
    try:
        return make_url(url)
    except (ArgumentError, ValueError) as error:
        raise LedgerError(f"cannot open the ledger at {_mask(url)}: not a database URL") from error


def _mask(url: str) -> str:
    """Hide everything before the host of a URL too malformed for SQLAlchemy to parse."""
    if "@" not in url:
        return url
    userinfo, _, host = url.rpartition("@")
    scheme, separator, _ = userinfo.partition("://")
    return f"{scheme}{separator}***@{host}" if separator else f"***@{host}"


def _is_sqlite_memory(url: URL) -> bool:
    return url.get_backend_name() == "sqlite" and url.database in (None, "", ":memory:")


def ledger_engine(url: URL, connect_args: dict[str, Any]) -> tuple[Engine, bool]:
    """An engine for ``url``, and whether its use must be serialised (one shared connection)."""
    backend = url.get_backend_name()
    options: dict[str, Any] = {}
    serialise = False
    if backend == "sqlite":
        if _is_sqlite_memory(url):
            connect_args.setdefault("check_same_thread", False)
            options["poolclass"] = StaticPool
            serialise = True
        elif url.database and not url.database.startswith("file:"):
            Path(url.database).parent.mkdir(parents=True, exist_ok=True)
    else:
        options["pool_pre_ping"] = True
        if backend == "postgresql":
            connect_args.setdefault("connect_timeout", POSTGRES_CONNECT_TIMEOUT_S)
    engine = create_engine(url, connect_args=connect_args, **options)
    if backend == "sqlite":
        _configure_sqlite(engine)
    return engine, serialise


def _configure_sqlite(engine: Engine) -> None:
    """WAL, ``synchronous=NORMAL``, a busy timeout, and transactions SQLAlchemy begins itself.

    pysqlite's own transaction handling neither begins a transaction before DDL
    nor takes the write lock up front; ``BEGIN IMMEDIATE`` makes every writing
    transaction take it at once, so a read-then-write never fails half-way.
    """

    locked: type[Exception] = engine.dialect.loaded_dbapi.OperationalError

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: ConnectionPoolEntry) -> None:
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        try:
            cursor.execute(f"PRAGMA busy_timeout = {SQLITE_BUSY_TIMEOUT_MS}")
            _enable_wal(cursor, locked)
            cursor.execute("PRAGMA synchronous = NORMAL")
        finally:
            cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(connection: Connection) -> None:
        read_only = connection.get_execution_options().get(READ_ONLY, False)
        connection.exec_driver_sql("BEGIN" if read_only else "BEGIN IMMEDIATE")


def _enable_wal(cursor: Any, locked: type[Exception]) -> None:
    """Switch the file to WAL, waiting out another connection switching it at the same time.

    While one connection turns a new file to WAL, SQLite answers another's
    ``PRAGMA journal_mode`` with "database is locked" at once, without waiting
    for the busy timeout; so wait here, for as long as the busy timeout.
    """
    deadline = time.monotonic() + SQLITE_BUSY_TIMEOUT_MS / 1000
    delay = 0.005
    while True:
        try:
            cursor.execute("PRAGMA journal_mode = WAL")
        except locked as error:
            if "locked" not in str(error) or time.monotonic() >= deadline:
                raise
            time.sleep(delay)
            delay = min(delay * 2, 0.1)
        else:
            return


def cannot_open(url: URL, reason: str) -> LedgerError:
    """The error for a ledger that cannot be opened, naming the URL without its password."""
    return LedgerError(
        f"cannot open the ledger at {url.render_as_string(hide_password=True)}: {reason}"
    )


def reason(error: BaseException, url: URL) -> str:
    """The driver's one-line reason for ``error``, with the URL's password blanked out."""
    cause: BaseException = error
    if isinstance(error, NoSuchModuleError):
        return f"no database driver for {url.drivername!r}"
    if isinstance(error, DBAPIError) and error.orig is not None:
        cause = error.orig
    text = " ".join(str(cause).split()) or type(cause).__name__
    if isinstance(cause, OSError) and cause.strerror:
        text = f"{cause.strerror}: {cause.filename}" if cause.filename else cause.strerror
    if url.password:
        text = text.replace(str(url.password), "***")
    return text
