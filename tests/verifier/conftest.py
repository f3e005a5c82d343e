"""Verifier fixtures: every database test runs on SQLite and on PostgreSQL.

PostgreSQL: ``TESSERA_TEST_POSTGRES_URL`` (default ``postgresql+psycopg://postgres@127.0.0.1:5432/test``);
each test run gets a fresh schema, dropped afterwards. If the server is unreachable the PostgreSQL
cases are skipped — unless ``TESSERA_REQUIRE_POSTGRES=1``, when they fail.
"""

from __future__ import annotations

import os
import secrets
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import create_engine, text

from shared.encoding import b64url_encode
from verifier.settings import VerifierSettings

PG_URL = os.environ.get("TESSERA_TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test")
EXAMPLE_CONFIG = Path(__file__).resolve().parents[2] / "verifier" / "examples" / "verifier.toml"


@pytest.fixture(scope="session")
def pg_schema() -> Iterator[str | None]:
    """A fresh schema for this run (None when PostgreSQL is unreachable and not required)."""
    schema = f"tv_{secrets.token_hex(6)}"
    try:
        engine = create_engine(PG_URL)
        with engine.begin() as conn:
            conn.execute(text(f'CREATE SCHEMA "{schema}"'))
    except Exception as exc:
        if os.environ.get("TESSERA_REQUIRE_POSTGRES") == "1":
            pytest.fail(f"PostgreSQL required but unreachable at {PG_URL}: {exc}")
        yield None
        return
    try:
        yield schema
    finally:
        with engine.begin() as conn:
            conn.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
        engine.dispose()


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'verifier.db'}"
        return
    schema = request.getfixturevalue("pg_schema")
    if schema is None:
        pytest.skip("PostgreSQL is not reachable (set TESSERA_REQUIRE_POSTGRES=1 to fail instead)")
    # one schema per test inside the run's schema namespace, so tests do not see each other's rows
    sub = f"{schema}_{secrets.token_hex(4)}"
    engine = create_engine(PG_URL)
    with engine.begin() as conn:
        conn.execute(text(f'CREATE SCHEMA "{sub}"'))
    sep = "&" if "?" in PG_URL else "?"
    try:
        yield f"{PG_URL}{sep}options=-csearch_path%3D{sub}"
    finally:
        with engine.begin() as conn:
            conn.execute(text(f'DROP SCHEMA "{sub}" CASCADE'))
        engine.dispose()


class Clock:
    def __init__(self, start: float = 1_760_000_000.0) -> None:
        self.t = start

    def __call__(self) -> float:
        return self.t

    def advance(self, seconds: float) -> None:
        self.t += seconds


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def make_settings(database_url: str, tmp_path: Path) -> Callable[..., VerifierSettings]:
    def build(**overrides: Any) -> VerifierSettings:
        values: dict[str, Any] = {
            "database_url": database_url,
            "config": EXAMPLE_CONFIG,
            "key_secret": b64url_encode(b"k" * 32),
            "public_url": "http://verifier.test",
            "allow_private_fetch": True,
        }
        values.update(overrides)
        return VerifierSettings(**values)

    return build
