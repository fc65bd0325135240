"""The ledger's backends (a SQLite file and PostgreSQL), for every delivery test module."""

from tests.delivery.test_ledger import backend, ledger, postgres_admin

__all__ = ["backend", "ledger", "postgres_admin"]
