"""Persistence for the verifier: SQLAlchemy 2.x over SQLite (default) or PostgreSQL, with Alembic migrations."""

from verifier.store.db import Store, make_engine, migrate

__all__ = ["Store", "make_engine", "migrate"]
