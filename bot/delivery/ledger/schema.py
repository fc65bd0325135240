"""Bringing a ledger's database to the schema this briefbot knows, with Alembic.

The migration scripts ship inside the package (``migrations/``) and are found
from here, so an installed briefbot needs no ``alembic.ini``. ``upgrade`` runs
in one transaction under a lock: SQLite's write lock (``BEGIN IMMEDIATE``),
or on PostgreSQL a transaction-scoped advisory lock, so several processes
starting at once migrate one after the other and the later ones find nothing
to do. A database from before Alembic is brought to the base revision first
(``legacy``); one from a newer briefbot is refused.
"""

import logging
import threading
from pathlib import Path
from typing import TYPE_CHECKING

from sqlalchemy import Connection, Engine

from bot.delivery.ledger import legacy

if TYPE_CHECKING:
    from alembic.config import Config

log = logging.getLogger(__name__)

# Alembic logs at INFO what it loads and which dialect it found, at every start (from
# its first import on, so Alembic is imported only below); its warnings still show.
logging.getLogger("alembic").setLevel(logging.WARNING)

MIGRATIONS = Path(__file__).resolve().parent / "migrations"
BASE_REVISION = "0001"  # the schema of the releases before Alembic (their version 3)
POSTGRES_LOCK = int.from_bytes(b"briefbot", "big")  # the advisory lock migrators take

# Alembic's ``context`` and ``op`` are process-wide: one migration at a time per process.
_running = threading.Lock()


class SchemaError(Exception):
    """The database cannot be brought to this briefbot's schema; the message says why."""


class SchemaTooNewError(SchemaError):
    """The database was migrated by a newer briefbot than this one."""


def head_revision() -> str:
    """The newest revision this briefbot knows."""
    from alembic.script import ScriptDirectory

    head = ScriptDirectory.from_config(_config()).get_current_head()
    if head is None:
        raise RuntimeError(f"no migration scripts in {MIGRATIONS}")
    return head


def current_revision(connection: Connection) -> str | None:
    """The revision the database is at; None before its first migration."""
    from alembic.runtime.migration import MigrationContext

    heads = MigrationContext.configure(connection).get_current_heads()
    return heads[0] if heads else None


def upgrade(engine: Engine) -> str:
    """Migrate the database to the newest revision in one locked transaction; return it.

    Raises ``SchemaTooNewError`` for a database from a newer briefbot (a
    revision unknown here, or a legacy ``schema_version`` above 3), and ``SchemaError``
    when Alembic cannot do it (a broken revision history).
    """
    from alembic.util import CommandError

    try:
        return _upgrade(engine)
    except CommandError as error:
        raise SchemaError(str(error)) from error


def _upgrade(engine: Engine) -> str:
    from alembic import command
    from alembic.runtime.migration import MigrationContext
    from alembic.script import ScriptDirectory

    with _running, engine.begin() as connection:
        _lock(connection)
        config = _config(connection)
        scripts = ScriptDirectory.from_config(config)
        head = scripts.get_current_head()
        known = {script.revision for script in scripts.walk_revisions()}
        found = MigrationContext.configure(connection).get_current_heads()
        for revision in found:
            if revision not in known:
                raise SchemaTooNewError(
                    f"database schema revision {revision} is newer than this briefbot "
                    f"({head}); upgrade briefbot"
                )
        if not found:
            _adopt_legacy(connection, config)
        command.upgrade(config, "head")
        legacy.hand_over(connection)
        reached = current_revision(connection)
    if found and tuple(found) != (reached,):
        log.info("ledger schema upgraded from %s to %s", ", ".join(found), reached)
    return str(reached)


def _adopt_legacy(connection: Connection, config: "Config") -> None:
    """Bring a ledger from before Alembic to the base revision and stamp it; no rows change."""
    from alembic import command

    version = legacy.version(connection)
    if version is None:
        return  # a new database: the base revision creates the tables
    if version > legacy.LATEST:
        raise SchemaTooNewError(
            f"database schema version {version} is newer than this briefbot "
            f"({legacy.LATEST}); upgrade briefbot"
        )
    legacy.bring_to_latest(connection, version)
    command.stamp(config, BASE_REVISION)
    log.info("ledger schema version %d handed over to revision %s", version, BASE_REVISION)


def _config(connection: Connection | None = None) -> "Config":
    """Alembic's configuration, made here rather than read from an ``alembic.ini``."""
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    if connection is not None:
        config.attributes["connection"] = connection
    return config


def _lock(connection: Connection) -> None:
    """Serialise migrators. SQLite's ``BEGIN IMMEDIATE`` already holds the write lock."""
    if connection.dialect.name == "postgresql":
        connection.exec_driver_sql(f"SELECT pg_advisory_xact_lock({POSTGRES_LOCK})")
