"""Alembic environment: runs on the connection :func:`issuer.store.db.migrate` hands over."""

from __future__ import annotations

from alembic import context

from issuer.store.models import Base

connection = context.config.attributes["connection"]
context.configure(
    connection=connection,
    target_metadata=Base.metadata,
    # own version table, so the issuer and the verifier can share one database
    version_table="issuer_alembic_version",
    render_as_batch=connection.dialect.name == "sqlite",
)
with context.begin_transaction():
    context.run_migrations()
