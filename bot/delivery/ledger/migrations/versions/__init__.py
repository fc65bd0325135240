"""One Alembic revision per module; ``r0001`` is the schema the first releases built."""
