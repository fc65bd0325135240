"""The ledger's schema migrations (Alembic): ``env.py`` and one script per revision."""
