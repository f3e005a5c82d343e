"""Issuer fixtures. The database fixtures (``pg_schema``, ``database_url``) are service-neutral so they can
move to ``tests/conftest.py`` unchanged when the verifier adopts them.

PostgreSQL: ``TESSERA_TEST_POSTGRES_URL`` (default ``postgresql+psycopg://postgres@127.0.0.1:5432/test``).
Each test run creates a fresh schema, and each test a fresh schema inside the run's namespace (reached
through ``options=-csearch_path=…``); all are dropped afterwards. An unreachable server skips the
PostgreSQL cases — unless ``TESSERA_REQUIRE_POSTGRES=1`` (CI), when they fail.
"""

from __future__ import annotations

import json
import os
import secrets
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import create_engine, text

from shared.encoding import b64url_encode

PG_URL = os.environ.get("TESSERA_TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test")
EXAMPLE_CLAIMS = Path(__file__).resolve().parents[2] / "issuer" / "examples" / "birth-certificate.json"


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


# --- issuer -----------------------------------------------------------------------------------------


class Clock:
    def __init__(self, start: float = 1_780_000_000.0) -> None:
        self.t = start

    def __call__(self) -> float:
        return self.t

    def advance(self, seconds: float) -> None:
        self.t += seconds


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def claims() -> dict[str, Any]:
    value: dict[str, Any] = json.loads(EXAMPLE_CLAIMS.read_text(encoding="utf-8"))
    return value


@pytest.fixture
def make_settings(database_url: str, tmp_path: Path) -> Callable[..., Any]:
    from issuer.settings import IssuerSettings

    def build(**overrides: Any) -> IssuerSettings:
        values: dict[str, Any] = {
            "database_url": database_url,
            "data_dir": tmp_path / "data",
            "key_encryption_key": b64url_encode(b"k" * 32),
            "public_url": "http://issuer.test",
        }
        values.update(overrides)
        return IssuerSettings(**values)

    return build


@pytest.fixture
def make_app(make_settings: Callable[..., Any], clock: Clock) -> Iterator[Callable[..., FastAPI]]:
    from issuer.app import create_app

    apps: list[FastAPI] = []

    def build(**overrides: Any) -> FastAPI:
        app = create_app(make_settings(**overrides), now=clock)
        apps.append(app)
        return app

    yield build
    for app in apps:
        app.state.service.db.dispose()


@pytest.fixture
def app(make_app: Callable[..., FastAPI]) -> FastAPI:
    return make_app()


@pytest.fixture
def client(app: FastAPI) -> Iterator[TestClient]:
    with TestClient(app) as test_client:
        yield test_client


@pytest.fixture
def api_key(app: FastAPI) -> Callable[..., dict[str, str]]:
    """``api_key("issue", "revoke")`` → headers with a fresh key holding those scopes."""

    def make(*scopes: str) -> dict[str, str]:
        key = app.state.service.create_api_key(list(scopes or ("admin",)))
        return {"Authorization": f"Bearer {key}"}

    return make
