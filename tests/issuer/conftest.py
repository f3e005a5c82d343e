"""Issuer fixtures. The database fixtures (``database_url`` on SQLite and PostgreSQL) are in tests/conftest.py."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from shared.encoding import b64url_encode
from tests.conftest import Clock

EXAMPLE_CLAIMS = Path(__file__).resolve().parents[2] / "issuer" / "examples" / "birth-certificate.json"


# --- issuer -----------------------------------------------------------------------------------------


@pytest.fixture
def clock() -> Clock:
    return Clock(1_780_000_000.0)


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
