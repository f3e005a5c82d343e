"""Shared pytest fixtures.

Vectors live in tests/vectors/ (copied from published sources, see its README).

Databases: ``database_url`` runs a test on SQLite and on PostgreSQL. PostgreSQL comes from
``TESSERA_TEST_POSTGRES_URL`` (default ``postgresql+psycopg://postgres@127.0.0.1:5432/test``); each run
creates a fresh schema and each test a fresh schema inside the run's namespace (reached through
``options=-csearch_path=…``); all are dropped afterwards. An unreachable server skips the PostgreSQL
cases, unless ``TESSERA_REQUIRE_POSTGRES=1`` (CI), when they fail.
"""

from __future__ import annotations

import json
import os
import secrets
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import create_engine, text

VECTORS = Path(__file__).parent / "vectors"


def load_vector(*parts: str) -> Any:
    path = VECTORS.joinpath(*parts)
    text = path.read_text(encoding="utf-8")
    return json.loads(text) if path.suffix in {".json", ".jsonld"} else text


@pytest.fixture
def vectors() -> Path:
    return VECTORS


PG_URL = os.environ.get("TESSERA_TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test")


class Clock:
    """A settable clock for services and resolvers that take ``now`` as a callable."""

    def __init__(self, start: float) -> None:
        self.t = start

    def __call__(self) -> float:
        return self.t

    def advance(self, seconds: float) -> None:
        self.t += seconds


def _pg_unreachable(exc: Exception) -> None:
    if os.environ.get("TESSERA_REQUIRE_POSTGRES") == "1":
        pytest.fail(f"PostgreSQL is required (TESSERA_REQUIRE_POSTGRES=1) but unreachable at {PG_URL}: {exc}")
    pytest.skip(f"PostgreSQL is not reachable at {PG_URL} (set TESSERA_REQUIRE_POSTGRES=1 to fail instead)")


@pytest.fixture(scope="session")
def pg_schema() -> Iterator[str | None]:
    """A fresh schema namespace for this run, or None when PostgreSQL is unreachable and not required."""
    schema = f"t_{secrets.token_hex(6)}"
    try:
        engine = create_engine(PG_URL)
        with engine.begin() as conn:
            conn.execute(text(f'CREATE SCHEMA "{schema}"'))
    except Exception as exc:
        if os.environ.get("TESSERA_REQUIRE_POSTGRES") == "1":
            pytest.fail(f"PostgreSQL is required but unreachable at {PG_URL}: {exc}")
        yield None
        return
    try:
        yield schema
    finally:
        with engine.begin() as conn:
            conn.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
        engine.dispose()


def postgres_url_for(schema: str) -> str:
    sep = "&" if "?" in PG_URL else "?"
    return f"{PG_URL}{sep}options=-csearch_path%3D{schema}"


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """A database URL for one test: a SQLite file, or a fresh PostgreSQL schema."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'test.db'}"
        return
    run_schema = request.getfixturevalue("pg_schema")
    if run_schema is None:
        _pg_unreachable(RuntimeError("no connection"))
    schema = f"{run_schema}_{secrets.token_hex(4)}"
    engine = create_engine(PG_URL)
    with engine.begin() as conn:
        conn.execute(text(f'CREATE SCHEMA "{schema}"'))
    try:
        yield postgres_url_for(schema)
    finally:
        with engine.begin() as conn:
            conn.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
        engine.dispose()
