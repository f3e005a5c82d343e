"""Persistence of the issuer: SQLAlchemy 2.x models, Alembic migrations, data access."""

from issuer.store.db import Database, make_engine, migrate

__all__ = ["Database", "make_engine", "migrate"]
