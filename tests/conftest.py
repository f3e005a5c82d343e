"""Shared pytest fixtures. Vectors live in tests/vectors/ (copied from published sources, see its README)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

VECTORS = Path(__file__).parent / "vectors"


def load_vector(*parts: str) -> Any:
    path = VECTORS.joinpath(*parts)
    text = path.read_text(encoding="utf-8")
    return json.loads(text) if path.suffix in {".json", ".jsonld"} else text


@pytest.fixture
def vectors() -> Path:
    return VECTORS
