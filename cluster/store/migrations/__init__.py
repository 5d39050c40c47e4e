"""Alembic migrations of the store (``env.py``, ``versions/``); see ``cluster.store.migrate``."""
