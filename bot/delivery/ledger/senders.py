"""One sender per platform among the processes sharing a ledger.

Discord's global rate limit (50 requests per second) belongs to the bot's token,
not to a process; so does the pace Slack tolerates. Processes sharing a ledger
therefore elect one sender per platform, and the others stand by, ready to take
over:

- PostgreSQL: a session-level advisory lock on a connection of its own. It is
  released the moment the holder's connection closes (a crash, a kill), and the
  server ends a session silent for ``IDLE_SESSION_TIMEOUT`` (a machine that
  vanished), since the holder checks on it every second or so.
- A SQLite file: an exclusive ``flock`` on a file beside the database, which the
  kernel releases when the holding process ends, however it ends.
- In-memory SQLite (one process by nature), or where ``flock`` does not exist:
  every process sends.
"""

import contextlib
import hashlib
import logging
from pathlib import Path
from typing import IO, Any, Protocol

from sqlalchemy import Connection, Engine, create_engine, text
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.pool import NullPool

log = logging.getLogger(__name__)

IDLE_SESSION_TIMEOUT = "10s"
"""A PostgreSQL sender's session ends this long after its last sign of life."""


class SenderLock(Protocol):
    """Whether this process is the one that sends a platform's reminders."""

    def acquire(self) -> bool | None:
        """Become the sender if no one is: True if this process is (or already was) it,
        False if another process is, None if that cannot be told now (no database)."""

    def held(self) -> bool:
        """Whether this process is still the sender (False once the lock is lost)."""

    def release(self) -> None:
        """Stop being the sender (others may take over)."""


class AlwaysSender:
    """Every process sends: one process by nature, or nothing to elect with."""

    def acquire(self) -> bool | None:
        """Always the sender."""
        return True

    def held(self) -> bool:
        """Always the sender."""
        return True

    def release(self) -> None:
        """Nothing to release."""


def lock_key(platform: str, schema: str) -> int:
    """The advisory lock's key for ``platform`` in the ledger's ``schema`` (ledgers in other
    schemas of one database are other deployments): 63 bits of a hash, alike in every process."""
    digest = hashlib.sha256(f"briefbot sender {platform} {schema}".encode()).digest()
    return int.from_bytes(digest[:8], "big") >> 1


class PostgresSender:
    """The sender is the session holding the platform's advisory lock."""

    def __init__(self, engine: Engine, platform: str, connect_args: dict[str, Any]) -> None:
        # A connection of its own, outside the ledger's pool: its session settings (the idle
        # timeout) and its lock never reach the ledger's other work.
        self._engine = create_engine(engine.url, poolclass=NullPool, connect_args=connect_args)
        self._platform = platform
        self._connection: Connection | None = None

    def acquire(self) -> bool | None:
        """Try the lock on a connection of its own; False if another session holds it, None
        if the database cannot be reached."""
        if self._connection is not None:
            return self.held() or None
        try:
            connection = self._engine.connect().execution_options(isolation_level="AUTOCOMMIT")
        except SQLAlchemyError:
            return None
        try:
            connection.execute(text(f"SET idle_session_timeout = '{IDLE_SESSION_TIMEOUT}'"))
            schema = connection.execute(text("SELECT current_schema()")).scalar_one()
            got = connection.execute(
                text("SELECT pg_try_advisory_lock(:key)"),
                {"key": lock_key(self._platform, str(schema))},
            ).scalar_one()
        except SQLAlchemyError:
            _discard(connection)
            return None
        if not got:
            connection.close()
            return False
        self._connection = connection
        return True

    def held(self) -> bool:
        """Whether the lock's session is alive: a round trip on it (which also keeps it alive)."""
        if self._connection is None:
            return False
        try:
            self._connection.execute(text("SELECT 1"))
        except SQLAlchemyError:
            _discard(self._connection)
            self._connection = None
            return False
        return True

    def release(self) -> None:
        """Close the lock's session, which releases the lock."""
        if self._connection is not None:
            _discard(self._connection)
            self._connection = None
        self._engine.dispose()


def _discard(connection: Connection) -> None:
    """Close a connection that may be broken; a broken one is not returned to the pool."""
    with contextlib.suppress(SQLAlchemyError):
        connection.invalidate()
    with contextlib.suppress(SQLAlchemyError):
        connection.close()


class FileSender:
    """The sender is the process holding an exclusive ``flock`` on ``path``."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._file: IO[bytes] | None = None

    def acquire(self) -> bool | None:
        """Try the lock without waiting; False if another process holds it."""
        import fcntl

        if self._file is not None:
            return True
        try:
            file = self.path.open("ab")
        except OSError as error:
            log.warning("cannot open the sender lock %s (%s): sending anyway", self.path, error)
            return True
        try:
            fcntl.flock(file.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            file.close()
            return False
        self._file = file
        return True

    def held(self) -> bool:
        """A ``flock`` is held until released or the process ends."""
        return self._file is not None

    def release(self) -> None:
        """Unlock (by closing the file)."""
        if self._file is not None:
            self._file.close()
            self._file = None


def sender_lock(engine: Engine, platform: str, connect_args: dict[str, Any]) -> SenderLock:
    """How processes on ``engine``'s database elect ``platform``'s sender; ``connect_args`` are
    the driver arguments the ledger connects with."""
    url = engine.url
    backend = url.get_backend_name()
    if backend == "postgresql":
        return PostgresSender(engine, platform, connect_args)
    database = url.database or ""
    on_disk = database not in ("", ":memory:") and not database.startswith("file:")
    if backend == "sqlite" and on_disk and _can_flock():
        return FileSender(Path(f"{database}.sender-{platform}.lock"))
    return AlwaysSender()


def _can_flock() -> bool:
    try:
        import fcntl  # noqa: F401
    except ImportError:  # Windows
        return False
    return True
