"""Engine, migrations and transactions.

Single use and uniqueness are enforced by the database, never by process memory, so any number of
replicas can share one PostgreSQL (design.md §5): a pre-authorized code, an access token and a nonce
are each consumed by one conditional ``UPDATE … WHERE used_at IS NULL``; the loser of a race sees zero
rows changed. Status indices are unique by the primary key (list_id, idx).

SQLite: pysqlite's own transaction handling is switched off and every transaction starts with
``BEGIN IMMEDIATE`` (the recipe in SQLAlchemy's SQLite dialect notes). A deferred transaction that
reads and then writes fails at once with SQLITE_BUSY when another writer got in between — the busy
timeout does not apply to that upgrade — whereas an immediate one simply waits its turn.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from alembic import command
from alembic.config import Config
from sqlalchemy import Engine, create_engine, event
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session, sessionmaker

MIGRATIONS = Path(__file__).resolve().parents[1] / "migrations"
MIGRATION_LOCK = 7447  # pg_advisory_xact_lock key of the issuer's migrator (the verifier uses 7446)
AUDIT_LOCK = 7448


def normalize_url(url: str) -> str:
    if url.startswith("postgresql://"):
        return "postgresql+psycopg://" + url.removeprefix("postgresql://")
    if url.startswith("postgres://"):
        return "postgresql+psycopg://" + url.removeprefix("postgres://")
    return url


def make_engine(url: str, **kwargs: Any) -> Engine:
    """An engine for ``sqlite:///…`` or ``postgresql+psycopg://…`` (plain ``postgresql://`` is upgraded)."""
    url = normalize_url(url)
    if url.startswith("sqlite"):
        database = make_url(url).database
        if database and database != ":memory:":
            Path(database).parent.mkdir(parents=True, exist_ok=True)
        engine = create_engine(url, connect_args={"check_same_thread": False, "timeout": 30}, **kwargs)

        @event.listens_for(engine, "connect")
        def _connect(dbapi_connection: Any, _record: Any) -> None:
            dbapi_connection.isolation_level = None  # SQLAlchemy, not pysqlite, says when a transaction begins
            cursor = dbapi_connection.cursor()
            cursor.execute("PRAGMA journal_mode=WAL")  # readers do not block the writer
            cursor.execute("PRAGMA synchronous=FULL")  # an acknowledged issuance survives a power cut
            cursor.execute("PRAGMA busy_timeout=30000")
            cursor.close()

        @event.listens_for(engine, "begin")
        def _begin(connection: Any) -> None:
            connection.exec_driver_sql("BEGIN IMMEDIATE")

        return engine
    return create_engine(url, pool_pre_ping=True, pool_size=10, max_overflow=40, **kwargs)


def migrate(engine: Engine) -> None:
    """Bring the schema to the newest revision (idempotent; safe to run from every replica at start)."""
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    with engine.begin() as connection:
        if connection.dialect.name == "postgresql":
            # one migrator at a time when replicas start together; released at commit
            connection.exec_driver_sql(f"SELECT pg_advisory_xact_lock({MIGRATION_LOCK})")
        config.attributes["connection"] = connection
        command.upgrade(config, "head")


class Database:
    """The engine plus a session factory; ``tx()`` is one short transaction, committed on success."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self._sessions = sessionmaker(engine, expire_on_commit=False)

    @property
    def dialect(self) -> str:
        return self.engine.dialect.name

    @contextmanager
    def tx(self) -> Iterator[Session]:
        with self._sessions.begin() as session:
            yield session

    def lock(self, session: Session, key: int) -> None:
        """Serialize a critical section across replicas (PostgreSQL); SQLite transactions already are."""
        if self.dialect == "postgresql":
            session.connection().exec_driver_sql(f"SELECT pg_advisory_xact_lock({int(key)})")

    def dispose(self) -> None:
        self.engine.dispose()
