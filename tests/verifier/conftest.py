"""Verifier fixtures. Every database test runs on SQLite and on PostgreSQL through ``database_url``
(tests/conftest.py)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from shared.encoding import b64url_encode
from verifier.settings import VerifierSettings

EXAMPLE_CONFIG = Path(__file__).resolve().parents[2] / "verifier" / "examples" / "verifier.toml"


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
