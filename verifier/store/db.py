"""Engine, migrations and the verifier's data access. Every state change is one statement.

Single use is enforced by the database, not by process memory, so any number of replicas (and
uvicorn workers) can share one database (design.md §5): a wallet's verified response is stored with
one conditional UPDATE (``status`` pending/fetched → the verdict, only before ``expires_at``), which
is atomic on its own; the loser of a race, and any later post, sees zero rows changed and gets
``replayed``. So the session's nonce is accepted once.

Round trips per session (benchmarks/bench_verifier.py): create = 1 INSERT; request object = 1
``UPDATE … RETURNING`` (open → fetched, and the row); response = 1 SELECT + 1 conditional UPDATE;
result = 1 SELECT. On PostgreSQL these run in autocommit mode, so each is one round trip with no
BEGIN/COMMIT around it (a single statement is its own transaction); the error paths may add a SELECT
to say why a session cannot be used.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any, cast

from alembic import command
from alembic.config import Config
from sqlalchemy import Engine, Table, and_, bindparam, create_engine, delete, event, make_url, or_, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import sessionmaker

from shared import oid4vp
from shared.errors import TesseraError
from verifier.store.models import ApiKeyRow, SessionRow, SigningKeyRow

MIGRATIONS = Path(__file__).parent / "migrations"
OPEN_STATUSES = ("pending", "fetched")
SESSIONS = cast(Table, SessionRow.__table__)
API_KEYS = cast(Table, ApiKeyRow.__table__)
# Connections per process (uvicorn worker), kept open: with no overflow a request that finds them all
# busy waits for one (each request holds at most one, briefly, so this cannot deadlock). An overflow
# connection is closed when returned, so under a burst every few statements paid for a new connection
# (a PostgreSQL backend started and stopped each time): that was most of PostgreSQL's cost per session
# in benchmarks/bench_verifier.py. workers × replicas × POOL_SIZE must stay under PostgreSQL's
# max_connections (100 by default).
POOL_SIZE = 10

# The session statements, built once with bound parameters: SQLAlchemy memoizes a statement object's
# cache key, so executing one of these skips building the statement and its key on every call (most
# of SQLAlchemy's own cost per statement in benchmarks/bench_verifier.py). Parameter names differ
# from column names, which SQLAlchemy reserves for the SET clause.
_OPEN = and_(or_(*(SESSIONS.c.status == s for s in OPEN_STATUSES)), SESSIONS.c.expires_at > bindparam("now"))
_INSERT_SESSION = SESSIONS.insert()
_SESSION_BY_ID = select(SESSIONS).where(SESSIONS.c.id == bindparam("session_id"))
_SESSION_BY_REQUEST = select(SESSIONS).where(SESSIONS.c.request_id == bindparam("req"))
_API_KEY = select(API_KEYS.c.key_hash, API_KEYS.c.revoked).where(API_KEYS.c.key_id == bindparam("key_id"))
_FETCH_SIGNED_REQUEST = (
    update(SESSIONS)
    .where(
        SESSIONS.c.request_id == bindparam("req"),
        _OPEN,
        # only a request passed by reference is fetched: its client_id is a DID (OpenID4VP §5.9.3)
        SESSIONS.c.client_id.startswith(f"{oid4vp.DID_PREFIX}:", autoescape=True),
    )
    .values(status="fetched")
    .returning(*SESSIONS.columns)
)
_FINISH = (
    update(SESSIONS)
    .where(SESSIONS.c.id == bindparam("session_id"), _OPEN)
    .values(
        status=bindparam("outcome"),
        completed_at=bindparam("now"),
        purge_at=bindparam("purge"),
        verdict=bindparam("verdict_json"),
        claims=bindparam("claims_json"),
    )
)


def make_engine(url: str, **kwargs: Any) -> Engine:
    """An engine for ``sqlite:///…`` or ``postgresql+psycopg://…`` (plain ``postgresql://`` is upgraded)."""
    if url.startswith("postgresql://"):
        url = "postgresql+psycopg://" + url.removeprefix("postgresql://")
    if url.startswith("sqlite"):
        database = make_url(url).database
        pool = {} if database in (None, "", ":memory:") else {"pool_size": POOL_SIZE, "max_overflow": 0}
        engine = create_engine(url, connect_args={"check_same_thread": False, "timeout": 30}, **pool, **kwargs)

        @event.listens_for(engine, "connect")
        def _pragmas(dbapi_connection: Any, _record: Any) -> None:
            cursor = dbapi_connection.cursor()
            cursor.execute("PRAGMA journal_mode=WAL")  # readers do not block the writer
            cursor.execute("PRAGMA synchronous=NORMAL")
            cursor.close()

        return engine
    # No pool_pre_ping: it costs a round trip per checkout (5 per session). After a database restart
    # the first statement on a dead pooled connection fails (one 500); SQLAlchemy then recognises the
    # disconnect and replaces every connection of the pool that is older than the failure.
    return create_engine(url, pool_size=POOL_SIZE, max_overflow=0, pool_recycle=1800, pool_pre_ping=False, **kwargs)


def migrate(engine: Engine) -> None:
    """Bring the schema to the newest revision (idempotent; safe to run from every replica at start)."""
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    with engine.begin() as connection:
        if connection.dialect.name == "postgresql":
            # one migrator at a time when replicas start together; released at commit
            connection.exec_driver_sql("SELECT pg_advisory_xact_lock(7446)")
        config.attributes["connection"] = connection
        command.upgrade(config, "head")


@dataclass(frozen=True)
class SessionRecord:
    id: str
    policy: str
    request_id: str
    client_id: str
    nonce: str
    state: str
    status: str
    created_at: int
    expires_at: int
    completed_at: int | None
    verdict: dict[str, Any] | None
    claims: dict[str, Any] | None

    @classmethod
    def of_mapping(cls, row: Any) -> SessionRecord:
        """From a Core result row or an ORM row: both expose the columns as attributes (the hot paths
        skip the ORM: a fraction of the per-query overhead)."""
        return cls(
            row.id,
            row.policy,
            row.request_id,
            row.client_id,
            row.nonce,
            row.state,
            row.status,
            row.created_at,
            row.expires_at,
            row.completed_at,
            json.loads(row.verdict) if row.verdict else None,
            json.loads(row.claims) if row.claims else None,
        )


class Store:
    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self._session = sessionmaker(engine, expire_on_commit=False)
        # The hot paths are single statements: on PostgreSQL, autocommit spares the BEGIN and COMMIT
        # round trips. SQLite runs in-process and keeps its implicit transaction per statement.
        self._fast = engine.execution_options(isolation_level="AUTOCOMMIT") if _is_postgres(engine) else engine

    # --- API keys ----------------------------------------------------------------------------

    def add_api_key(self, key_id: str, key_hash: str, now: int) -> None:
        with self._session.begin() as db:
            db.add(ApiKeyRow(key_id=key_id, key_hash=key_hash, created_at=now, revoked=False))

    def api_key_hash(self, key_id: str) -> str | None:
        with self._fast.connect() as connection:
            row = connection.execute(_API_KEY, {"key_id": key_id}).first()
        return None if row is None or row.revoked else str(row.key_hash)

    # --- the verifier's signing key ----------------------------------------------------------

    def signing_key(self, key_id: str) -> SigningKeyRow | None:
        with self._session() as db:
            return db.get(SigningKeyRow, key_id)

    def add_signing_key_once(self, row: SigningKeyRow) -> SigningKeyRow:
        """Insert unless another replica won the race; either way return the stored row."""
        try:
            with self._session.begin() as db:
                db.add(row)
        except IntegrityError:
            pass
        stored = self.signing_key(row.id)
        if stored is None:  # pragma: no cover - the insert or the winner's insert is there
            raise TesseraError("the signing key could not be stored", code="malformed")
        return stored

    # --- sessions ----------------------------------------------------------------------------

    # The session paths run several times per session and use SQLAlchemy Core on the mapped table
    # (compiled-statement cache, no unit of work): the ORM's per-query overhead was most of a session's
    # server time in benchmarks/bench_verifier.py.

    def add_session(self, row: SessionRow) -> None:
        values = {c.name: getattr(row, c.key) for c in SESSIONS.columns}
        with self._fast.begin() as connection:
            connection.execute(_INSERT_SESSION, values)

    def get_session(self, session_id: str) -> SessionRecord | None:
        with self._fast.connect() as connection:
            row = connection.execute(_SESSION_BY_ID, {"session_id": session_id}).first()
        return None if row is None else SessionRecord.of_mapping(row)

    def session_by_request(self, request_id: str) -> SessionRecord | None:
        with self._fast.connect() as connection:
            row = connection.execute(_SESSION_BY_REQUEST, {"req": request_id}).first()
        return None if row is None else SessionRecord.of_mapping(row)

    def fetch_signed_request(self, request_id: str, now: int) -> SessionRecord | None:
        """The open, unexpired session behind a request_uri, if its request is passed by reference
        (a DID client_id), marked ``fetched`` in the same statement; None if there is none such."""
        with self._fast.begin() as connection:
            row = connection.execute(_FETCH_SIGNED_REQUEST, {"req": request_id, "now": now}).first()
        return None if row is None else SessionRecord.of_mapping(row)

    def finish(
        self,
        session_id: str,
        *,
        status: str,
        now: int,
        purge_at: int,
        verdict: dict[str, Any] | None,
        claims: dict[str, Any] | None,
    ) -> bool:
        """Store a response's outcome if the session is still open and unexpired at ``now``: the one
        statement that makes a session (and its nonce) single use. False if it was not (replay, a lost
        race with another post, or expiry meanwhile)."""
        params = {
            "session_id": session_id,
            "now": now,
            "outcome": status,
            "purge": purge_at,
            "verdict_json": None if verdict is None else json.dumps(verdict, separators=(",", ":")),
            "claims_json": None if claims is None else json.dumps(claims, separators=(",", ":")),
        }
        with self._fast.begin() as connection:
            return bool(connection.execute(_FINISH, params).rowcount)

    def purge(self, now: int) -> int:
        """Delete sessions past their retention (results) or long expired (never answered)."""
        with self._session.begin() as db:
            result = db.execute(delete(SessionRow).where(SessionRow.purge_at <= now))
            return int(result.rowcount)  # type: ignore[attr-defined]

    def count_sessions(self) -> int:
        with self._session() as db:
            return len(db.scalars(select(SessionRow.id)).all())


def _is_postgres(engine: Engine) -> bool:
    return engine.dialect.name == "postgresql"


def require_open(record: SessionRecord | None, now: int) -> SessionRecord:
    """The session if it can still be answered, else ``unknown_session`` / ``session_expired`` / ``replayed``."""
    if record is None:
        raise TesseraError("there is no such session", code="unknown_session")
    if record.status not in OPEN_STATUSES:
        raise TesseraError("this session was already answered", code="replayed")
    if record.expires_at <= now:
        raise TesseraError(code="session_expired")
    return record
