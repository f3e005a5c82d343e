"""End-to-end fixtures: the demo's own services (``wallet.demo.services``), once per module and database.

The issuer and the verifier run as real ``uvicorn`` processes on 127.0.0.1, exactly as ``tessera demo``
starts them, on a SQLite file and on a fresh PostgreSQL schema inside this run's namespace
(``pg_schema`` from tests/conftest.py; with ``TESSERA_REQUIRE_POSTGRES=1`` an unreachable server fails
the run instead of skipping). Both services share the database: their tables carry ``issuer_`` and
``verifier_`` prefixes and separate migration tables. Each test makes its own wallet and its own offers,
so tests do not depend on each other's order even though they share the services.
"""

from __future__ import annotations

import secrets
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text

from tests.conftest import PG_URL, postgres_url_for
from wallet.demo.services import Services
from wallet.demo.story import Story
from wallet.vault import FAST_KDF


@pytest.fixture(scope="module", params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def services(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Services]:
    workdir = tmp_path_factory.mktemp(f"e2e-{request.param}")
    if request.param == "sqlite":
        with Services(workdir) as running:
            yield running
        return
    run_schema = request.getfixturevalue("pg_schema")  # fails (not skips) when PostgreSQL is required
    if run_schema is None:
        pytest.skip(f"PostgreSQL is not reachable at {PG_URL} (set TESSERA_REQUIRE_POSTGRES=1 to fail instead)")
    schema = f"{run_schema}_{secrets.token_hex(4)}"
    engine = create_engine(PG_URL)
    with engine.begin() as conn:
        conn.execute(text(f'CREATE SCHEMA "{schema}"'))
    try:
        with Services(workdir, database_url=postgres_url_for(schema)) as running:
            yield running
    finally:
        with engine.begin() as conn:
            conn.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
        engine.dispose()


@pytest.fixture
def story(services: Services, tmp_path: Path) -> Iterator[Story]:
    """A new, empty wallet (cheapest Argon2id: the vault's cost is not what these tests are about)."""
    told = Story(services, tmp_path / "wallet" / "wallet.db", kdf=FAST_KDF)
    yield told
    told.close()
