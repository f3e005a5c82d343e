"""Engine, migrations and transactions.

Single use and uniqueness are enforced by the database, never by process memory, so any number of
replicas can share one PostgreSQL (design.md §5): a pre-authorized code, an access token and a nonce
are each consumed by one conditional ``UPDATE … WHERE used_at IS NULL``; the loser of a race sees zero
rows changed. Status indices are unique by the primary key (list_id, idx).

Two kinds of transaction: ``tx()`` for work that writes, ``read()`` for work that only reads — each
as an ORM session, or as a bare Core connection (``begin()``, ``begin_read()``) for the request paths
that run on every issuance: a prebuilt Core statement costs about a third of the ORM equivalent.

SQLite: pysqlite's own transaction handling is switched off and every write transaction starts with
``BEGIN IMMEDIATE`` (the recipe in SQLAlchemy's SQLite dialect notes). A deferred transaction that
reads and then writes fails at once with SQLITE_BUSY when another writer got in between — the busy
timeout does not apply to that upgrade — whereas an immediate one simply waits its turn. Read
transactions start with a plain ``BEGIN``: in WAL mode they see a consistent snapshot and neither wait
for the writer nor hold it up, so they must never write.

SQLite has one writer at a time; how the others wait matters. Its busy handler polls with growing
sleeps (1, 2, 5, 10 … 100 ms), so under load a waiting writer often sleeps on while the lock is long
free. Writers therefore queue on :class:`SqliteWriterLock` first — a thread lock within a process, an
``flock`` on ``<database>.writer-lock`` across processes (workers, replicas, CLI commands), both woken
the moment the holder lets go — and ``BEGIN IMMEDIATE`` then finds the database free. The busy timeout
stays as the fallback for writers that do not take the lock (another program on the same file).
"""

from __future__ import annotations

import fcntl
import os
import threading
from collections.abc import Iterator
from contextlib import AbstractContextManager, contextmanager, nullcontext
from pathlib import Path
from types import TracebackType
from typing import Any, Final

from alembic import command
from alembic.config import Config
from sqlalchemy import Connection, Engine, create_engine, event
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session, sessionmaker

MIGRATIONS = Path(__file__).resolve().parents[1] / "migrations"
MIGRATION_LOCK = 7447  # pg_advisory_xact_lock key of the issuer's migrator (the verifier uses 7446)
AUDIT_LOCK = 7448
READ_ONLY: Final = "tessera_read_only"  # execution option: this transaction only reads
Executor = Session | Connection  # what the store helpers run their statements on


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
            # Connections are cheap and readers run side by side in WAL mode: enough for every thread
            # of the request thread pool (40), so a writer never waits for a connection a reader holds.
            kwargs = {"pool_size": 5, "max_overflow": 60, **kwargs}
        engine = create_engine(url, connect_args={"check_same_thread": False, "timeout": 30}, **kwargs)

        @event.listens_for(engine, "connect")
        def _connect(dbapi_connection: Any, _record: Any) -> None:
            dbapi_connection.isolation_level = None  # SQLAlchemy, not pysqlite, says when a transaction begins
            cursor = dbapi_connection.cursor()
            cursor.execute("PRAGMA journal_mode=WAL")  # readers do not block the writer
            # NORMAL in WAL mode: a commit is appended to the WAL without an fsync (the WAL is synced at
            # checkpoints). The operating system holds the written pages, so a commit survives the
            # process being killed — what the issuer promises ("killing the server mid-issuance loses
            # nothing that was acknowledged"); only a power cut or kernel crash can take the last few
            # commits, never corrupt the database. FULL would fsync on every commit: ~1 ms each here.
            cursor.execute("PRAGMA synchronous=NORMAL")
            cursor.execute("PRAGMA busy_timeout=30000")
            cursor.close()

        @event.listens_for(engine, "begin")
        def _begin(connection: Any) -> None:
            read_only = connection.get_execution_options().get(READ_ONLY, False)
            connection.exec_driver_sql("BEGIN" if read_only else "BEGIN IMMEDIATE")

        return engine
    # Per process: at most 20 connections — more than the request threads (request_threads) use at
    # once — so several workers or replicas stay well under PostgreSQL's default max_connections of 100.
    # No pool_pre_ping: it costs a round trip per checkout (three per issuance). After a database
    # restart the first statement on a dead pooled connection fails (one refused request, nothing
    # committed); SQLAlchemy then recognises the disconnect and replaces every pooled connection older
    # than the failure. pool_recycle retires connections before server-side idle timeouts would.
    kwargs = {"pool_pre_ping": False, "pool_recycle": 1800, "pool_size": 10, "max_overflow": 10, **kwargs}
    return create_engine(url, **kwargs)


class SqliteWriterLock:
    """One writer at a time on a SQLite file, without sleeping while the database is free: a reentrant
    thread lock, then an ``flock`` held for the outermost transaction of the thread (the lock is per
    open file, shared by the threads of a process, hence the thread lock in front of it)."""

    def __init__(self, database: str | None) -> None:
        self._thread_lock = threading.RLock()
        self._depth = 0
        self._path = f"{database}.writer-lock" if database and database != ":memory:" else None
        self._fd: int | None = None
        self._pid = 0

    def _file(self) -> int | None:
        if self._path is None:
            return None
        if self._fd is None or self._pid != os.getpid():  # a forked child opens its own
            self._fd = os.open(self._path, os.O_RDWR | os.O_CREAT, 0o600)
            self._pid = os.getpid()
        return self._fd

    def __enter__(self) -> None:
        self._thread_lock.acquire()
        if self._depth == 0:
            try:
                fd = self._file()
                if fd is not None:
                    fcntl.flock(fd, fcntl.LOCK_EX)
            except BaseException:
                self._thread_lock.release()
                raise
        self._depth += 1

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self._depth -= 1
        try:
            if self._depth == 0 and self._fd is not None:
                fcntl.flock(self._fd, fcntl.LOCK_UN)
        finally:
            self._thread_lock.release()


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
    """The engine plus session factories. ``tx()``/``begin()``: one short transaction that may write,
    committed on success; ``read()``/``begin_read()``: one that only reads."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self._read_engine = engine.execution_options(**{READ_ONLY: True})
        self._autocommit_engine = engine.execution_options(isolation_level="AUTOCOMMIT")
        self._sessions = sessionmaker(engine, expire_on_commit=False)
        self._readers = sessionmaker(self._read_engine, expire_on_commit=False)
        self._writer: AbstractContextManager[Any] = nullcontext()
        if engine.dialect.name == "sqlite":
            self._writer = SqliteWriterLock(engine.url.database)

    @property
    def dialect(self) -> str:
        return self.engine.dialect.name

    @contextmanager
    def tx(self) -> Iterator[Session]:
        with self._writer, self._sessions.begin() as session:
            yield session

    @contextmanager
    def read(self) -> Iterator[Session]:
        """A transaction that only reads (on SQLite it neither waits for nor blocks the writer)."""
        with self._readers.begin() as session:
            yield session

    @contextmanager
    def begin(self) -> Iterator[Connection]:
        """``tx()`` without the ORM: a connection in a write transaction, for Core statements."""
        with self._writer, self.engine.begin() as connection:
            yield connection

    @contextmanager
    def write(self) -> Iterator[Connection]:
        """A connection for one write statement that is its own transaction. PostgreSQL: autocommit,
        so a statement (one ``INSERT … RETURNING``, an ``UPDATE`` or a data-modifying ``WITH``) commits
        by itself, with no ``BEGIN`` and ``COMMIT`` round trips; each statement run on it commits
        separately, so use it only where one statement carries the whole change (reads before it are
        fine). SQLite: a write transaction, as ``begin()``; helpers that need two statements there (no
        data-modifying ``WITH``) get them in one transaction."""
        if self.dialect != "postgresql":
            with self.begin() as connection:
                yield connection
            return
        with self._autocommit_engine.connect() as connection:
            yield connection

    @contextmanager
    def begin_read(self) -> Iterator[Connection]:
        """``read()`` without the ORM."""
        with self._read_engine.begin() as connection:
            yield connection

    def lock(self, executor: Executor, key: int) -> None:
        """Serialize a critical section across replicas (PostgreSQL); SQLite transactions already are."""
        if self.dialect == "postgresql":
            connection = executor if isinstance(executor, Connection) else executor.connection()
            connection.exec_driver_sql(f"SELECT pg_advisory_xact_lock({int(key)})")

    def dispose(self) -> None:
        self.engine.dispose()


def dialect_of(executor: Executor) -> str:
    return executor.dialect.name if isinstance(executor, Connection) else executor.get_bind().dialect.name
