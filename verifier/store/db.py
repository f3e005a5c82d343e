"""Engine, migrations and the verifier's data access. Every state change is one short transaction.

Single use is enforced by the database, not by process memory, so any number of replicas can share
one PostgreSQL (design.md §5): a wallet's response claims its session with one conditional UPDATE
(``status`` pending/fetched → processing, only before ``expires_at``); the loser of a race, and any
later post, sees zero rows changed and gets ``replayed``.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any, cast

from alembic import command
from alembic.config import Config
from sqlalchemy import Engine, Table, create_engine, delete, event, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import sessionmaker

from shared.errors import TesseraError
from verifier.store.models import ApiKeyRow, SessionRow, SigningKeyRow

MIGRATIONS = Path(__file__).parent / "migrations"
OPEN_STATUSES = ("pending", "fetched")
SESSIONS = cast(Table, SessionRow.__table__)


def make_engine(url: str, **kwargs: Any) -> Engine:
    """An engine for ``sqlite:///…`` or ``postgresql+psycopg://…`` (plain ``postgresql://`` is upgraded)."""
    if url.startswith("postgresql://"):
        url = "postgresql+psycopg://" + url.removeprefix("postgresql://")
    if url.startswith("sqlite"):
        engine = create_engine(url, connect_args={"check_same_thread": False, "timeout": 30}, **kwargs)

        @event.listens_for(engine, "connect")
        def _pragmas(dbapi_connection: Any, _record: Any) -> None:
            cursor = dbapi_connection.cursor()
            cursor.execute("PRAGMA journal_mode=WAL")  # readers do not block the writer
            cursor.execute("PRAGMA synchronous=NORMAL")
            cursor.close()

        return engine
    return create_engine(url, pool_pre_ping=True, pool_size=10, max_overflow=20, **kwargs)


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

    # --- API keys ----------------------------------------------------------------------------

    def add_api_key(self, key_id: str, key_hash: str, now: int) -> None:
        with self._session.begin() as db:
            db.add(ApiKeyRow(key_id=key_id, key_hash=key_hash, created_at=now, revoked=False))

    def api_key_hash(self, key_id: str) -> str | None:
        table = ApiKeyRow.__table__
        with self.engine.connect() as connection:
            row = connection.execute(select(table.c.key_hash, table.c.revoked).where(table.c.key_id == key_id)).first()
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
        with self.engine.begin() as connection:
            connection.execute(SESSIONS.insert().values(**values))

    def get_session(self, session_id: str) -> SessionRecord | None:
        with self.engine.connect() as connection:
            row = connection.execute(select(SESSIONS).where(SESSIONS.c.id == session_id)).first()
        return None if row is None else SessionRecord.of_mapping(row)

    def session_by_request(self, request_id: str) -> SessionRecord | None:
        with self.engine.connect() as connection:
            row = connection.execute(select(SESSIONS).where(SESSIONS.c.request_id == request_id)).first()
        return None if row is None else SessionRecord.of_mapping(row)

    def mark_fetched(self, session_id: str) -> None:
        with self.engine.begin() as db:
            db.execute(
                update(SESSIONS)
                .where(SESSIONS.c.id == session_id, SESSIONS.c.status == "pending")
                .values(status="fetched")
            )

    def claim(self, session_id: str, now: int) -> bool:
        """Move an open, unexpired session to ``processing``; False if it was not open (or no longer)."""
        with self.engine.begin() as db:
            result = db.execute(
                update(SESSIONS)
                .where(
                    SESSIONS.c.id == session_id,
                    SESSIONS.c.status.in_(OPEN_STATUSES),
                    SESSIONS.c.expires_at > now,
                )
                .values(status="processing")
            )
            return bool(result.rowcount)

    def finish(
        self,
        session_id: str,
        *,
        status: str,
        now: int,
        purge_at: int,
        verdict: dict[str, Any] | None,
        claims: dict[str, Any] | None,
    ) -> None:
        with self.engine.begin() as db:
            db.execute(
                update(SESSIONS)
                .where(SESSIONS.c.id == session_id, SESSIONS.c.status == "processing")
                .values(
                    status=status,
                    completed_at=now,
                    purge_at=purge_at,
                    verdict=None if verdict is None else json.dumps(verdict, separators=(",", ":")),
                    claims=None if claims is None else json.dumps(claims, separators=(",", ":")),
                )
            )

    def purge(self, now: int) -> int:
        """Delete sessions past their retention (results) or long expired (never answered)."""
        with self._session.begin() as db:
            result = db.execute(delete(SessionRow).where(SessionRow.purge_at <= now))
            return int(result.rowcount)  # type: ignore[attr-defined]

    def count_sessions(self) -> int:
        with self._session() as db:
            return len(db.scalars(select(SessionRow.id)).all())


def require_open(record: SessionRecord | None, now: int) -> SessionRecord:
    """The session if it can still be answered, else ``unknown_session`` / ``session_expired`` / ``replayed``."""
    if record is None:
        raise TesseraError("there is no such session", code="unknown_session")
    if record.status not in OPEN_STATUSES:
        raise TesseraError("this session was already answered", code="replayed")
    if record.expires_at <= now:
        raise TesseraError(code="session_expired")
    return record
