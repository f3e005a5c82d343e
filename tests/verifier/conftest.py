"""Verifier fixtures. Every database test runs on SQLite and on PostgreSQL through ``database_url``
(tests/conftest.py)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from shared.encoding import b64url_encode
from tests.conftest import Clock
from verifier.settings import VerifierSettings

EXAMPLE_CONFIG = Path(__file__).resolve().parents[2] / "verifier" / "examples" / "verifier.toml"


@pytest.fixture
def clock() -> Clock:
    return Clock(1_760_000_000.0)


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
