"""Persistence: migrations, the hash-chained audit log, sealing, status index allocation."""

from __future__ import annotations

import threading
from typing import Any

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import select, text, update

from issuer.sealing import Sealer, load_sealer
from issuer.settings import IssuerSettings
from issuer.store import Database, audit, make_engine, migrate
from issuer.store import status as status_store
from issuer.store.models import AuditRow, Base, SigningKeyRow, StatusListRow
from shared.errors import MalformedError
from shared.status_list import LSB_FIRST, StatusList


@pytest.fixture
def db(database_url: str) -> Any:
    engine = make_engine(database_url)
    migrate(engine)
    database = Database(engine)
    yield database
    database.dispose()


def test_migrations_match_the_models_and_are_idempotent(db: Database) -> None:
    migrate(db.engine)  # a second run is a no-op
    with db.engine.connect() as connection:
        context = MigrationContext.configure(connection, opts={"version_table": "issuer_alembic_version"})
        diff = [d for d in compare_metadata(context, Base.metadata) if "alembic_version" not in str(d)]
    assert diff == []


def _append(db: Database, n: int) -> None:
    for i in range(n):
        with db.tx() as session:
            audit.append(db, session, at=1000 + i, actor="k1", action="test", target=f"r{i}", detail={"i": i})


def test_audit_chain_verifies_and_detects_tampering(db: Database) -> None:
    _append(db, 5)
    report = audit.verify(db)
    assert report.ok and report.entries == 5
    with db.tx() as session:
        session.execute(update(AuditRow).where(AuditRow.seq == 3).values(detail='{"i":99}'))
    report = audit.verify(db)
    assert not report.ok and report.first_bad_seq == 3
    assert "changed" in (report.problem or "")


def test_audit_chain_detects_a_removed_row(db: Database) -> None:
    _append(db, 4)
    with db.tx() as session:
        session.execute(text("DELETE FROM issuer_audit_log WHERE seq = 2"))
    report = audit.verify(db)
    assert not report.ok and report.first_bad_seq == 3


def test_concurrent_audit_appends_keep_one_chain(db: Database) -> None:
    errors: list[BaseException] = []

    def worker() -> None:
        try:
            _append(db, 5)
        except BaseException as exc:  # pragma: no cover - reported below
            errors.append(exc)

    threads = [threading.Thread(target=worker) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    report = audit.verify(db)
    assert report.ok and report.entries == 40


def test_sealing_round_trip_and_context_binding(tmp_path: Any) -> None:
    sealer = Sealer(b"s" * 32)
    sealed = sealer.seal(b"seed", "a")
    assert sealer.open(sealed, "a") == b"seed"
    with pytest.raises(MalformedError):
        sealer.open(sealed, "b")
    with pytest.raises(MalformedError):
        Sealer(b"t" * 32).open(sealed, "a")


def test_key_file_is_created_once_with_mode_0600(tmp_path: Any) -> None:
    settings = IssuerSettings(data_dir=tmp_path / "d")
    first = load_sealer(settings)
    path = settings.resolved_key_file
    assert path.stat().st_mode & 0o777 == 0o600
    again = load_sealer(settings)
    assert again.open(first.seal(b"x", "c"), "c") == b"x"


def test_signing_keys_are_sealed_at_rest(app: Any) -> None:
    service = app.state.service
    active = service.identity.active()
    with service.db.tx() as session:
        row = session.scalars(select(SigningKeyRow)).one()
    assert active.key.seed not in row.sealed
    assert row.kid == active.kid


def test_status_indices_are_unique_and_random(db: Database) -> None:
    with db.tx() as session:
        got = [
            status_store.allocate(session, kind="token", credential_id=f"c{i}", size=131_072, now=1) for i in range(300)
        ]
    lists = {list_id for list_id, _ in got}
    assert len(lists) == 1
    indices = [idx for _, idx in got]
    assert len(set(indices)) == 300
    assert max(indices) > 65_536  # spread over the list, not handed out in order


def _scripted(values: list[int]) -> Any:
    """A "random" source drawing the given 17-bit indices in turn (then anything for list ids)."""
    queue = list(values)
    counter = iter(range(1, 1_000_000))

    def draw(n: int) -> bytes:
        if n == 3 and queue:
            return queue.pop(0).to_bytes(3, "big")
        return next(counter).to_bytes(n, "big")

    return draw


def test_collisions_are_retried(db: Database) -> None:
    rand = _scripted([0, 0, 0, 0, 5])
    with db.tx() as session:
        first = status_store.allocate(
            session, kind="bitstring", credential_id="a", size=131_072, now=1, random_bytes=rand
        )
        second = status_store.allocate(
            session, kind="bitstring", credential_id="b", size=131_072, now=1, random_bytes=rand
        )
    assert first[0] == second[0]
    assert (first[1], second[1]) == (0, 5)


def test_a_list_that_keeps_colliding_is_retired(db: Database) -> None:
    rand = _scripted([0] * (status_store.MAX_DRAWS + 1) + [0])
    with db.tx() as session:
        first = status_store.allocate(session, kind="token", credential_id="a", size=131_072, now=1, random_bytes=rand)
        second = status_store.allocate(session, kind="token", credential_id="b", size=131_072, now=1, random_bytes=rand)
        active = session.scalars(
            select(StatusListRow.id).where(StatusListRow.active.is_(True), StatusListRow.kind == "token")
        ).all()
    assert first[0] != second[0]
    assert second == (second[0], 0)
    assert active == [second[0]]


def test_set_entries_bumps_the_version(db: Database) -> None:
    with db.tx() as session:
        list_id, idx = status_store.allocate(session, kind="token", credential_id="c", size=131_072, now=1)
        v1 = status_store.get_list(session, list_id, "status").version  # type: ignore[union-attr]
        v2 = status_store.set_entries(session, list_id, "status", {idx: status_store.TOKEN_SUSPENDED})
        assert v2 == v1 + 1
        assert status_store.set_entries(session, list_id, "status", {idx: status_store.TOKEN_SUSPENDED}) == v2
        row = status_store.get_list(session, list_id, "status")
        assert row is not None
        assert StatusList(2, row.data, LSB_FIRST).get(idx) == 2
