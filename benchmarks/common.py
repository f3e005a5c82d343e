"""What the issuer and verifier benchmarks share: the per-operation timer and a throwaway PostgreSQL schema."""

from __future__ import annotations

import os
import secrets
import statistics
import time
from collections.abc import Callable

PG_URL = os.environ.get("TESSERA_TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test")


def per_op(fn: Callable[[], object], loops: int, repeat: int = 5) -> float:
    """Median seconds per call of ``fn`` over ``repeat`` runs of ``loops`` calls."""
    samples = []
    for _ in range(repeat):
        start = time.perf_counter()
        for _ in range(loops):
            fn()
        samples.append((time.perf_counter() - start) / loops)
    return statistics.median(samples)


def pg_schema(query: str = "") -> tuple[str, Callable[[], None]] | None:
    """A fresh schema on ``PG_URL``: (a database URL whose search_path is that schema, with ``query``
    appended, a function that drops it), or None if PostgreSQL cannot be reached."""
    from sqlalchemy import create_engine, text

    schema = f"bench_{secrets.token_hex(4)}"
    try:
        engine = create_engine(PG_URL)
        with engine.begin() as conn:
            conn.execute(text(f'CREATE SCHEMA "{schema}"'))
    except Exception:
        return None

    def drop() -> None:
        with engine.begin() as conn:
            conn.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
        engine.dispose()

    sep = "&" if "?" in PG_URL else "?"
    return f"{PG_URL}{sep}options=-csearch_path%3D{schema}{query}", drop
