"""The append-only, hash-chained audit log of admin actions.

Each row's ``hash`` is ``SHA-256(prev_hash_hex || JCS(entry))`` (hex), where ``entry`` is
``{"seq", "at", "actor", "action", "target", "detail"}`` canonicalized with RFC 8785 JCS, and the first
row's ``prev_hash`` is 64 zeros. Changing, removing or reordering any row breaks every hash after it;
:func:`verify_chain` finds the first broken row. Appends are serialized (an advisory lock on PostgreSQL,
``BEGIN IMMEDIATE`` on SQLite) so two replicas never chain onto the same row. The entry goes into the
same transaction as the action it records: no action without its audit row, and no audit row for an
action that was rolled back.

Details hold identifiers (record ids, key ids, credential type) — never claims or secrets.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import Any

from sqlalchemy import insert, select
from sqlalchemy.orm import Session

from issuer.store.db import AUDIT_LOCK, Database, Executor
from issuer.store.models import AuditRow, table_of
from shared.encoding import jcs

GENESIS = "0" * 64


def entry_hash(prev_hash: str, entry: dict[str, Any]) -> str:
    return hashlib.sha256(prev_hash.encode("ascii") + jcs(entry)).hexdigest()


def _entry(row: AuditRow) -> dict[str, Any]:
    return {
        "seq": row.seq,
        "at": row.at,
        "actor": row.actor,
        "action": row.action,
        "target": row.target,
        "detail": json.loads(row.detail),
    }


AUDIT = table_of(AuditRow)
_LAST = select(AUDIT.c.seq, AUDIT.c.hash).order_by(AUDIT.c.seq.desc()).limit(1)
_APPEND = insert(AUDIT)


def append(
    db: Database, executor: Executor, *, at: int, actor: str, action: str, target: str | None, detail: dict[str, Any]
) -> int:
    """Append one entry inside the caller's transaction (an ORM session or a Core connection); returns
    its sequence number."""
    if isinstance(executor, Session):
        # Write the caller's pending rows first: the lock serializes every audited action of every
        # replica until commit, so it should cover this entry and nothing else.
        executor.flush()
    db.lock(executor, AUDIT_LOCK)
    last = executor.execute(_LAST).first()
    seq, prev = (last[0] + 1, last[1]) if last else (1, GENESIS)
    stored = json.dumps(detail, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    # hashed as verify_chain will read it back: the stored JSON, parsed
    entry = {"seq": seq, "at": at, "actor": actor, "action": action, "target": target, "detail": json.loads(stored)}
    executor.execute(_APPEND, {**entry, "detail": stored, "prev_hash": prev, "hash": entry_hash(prev, entry)})
    return seq


@dataclass(frozen=True)
class ChainReport:
    ok: bool
    entries: int
    first_bad_seq: int | None = None
    problem: str | None = None
    head: str = GENESIS


def verify_chain(rows: Iterable[AuditRow]) -> ChainReport:
    prev, expected_seq, count = GENESIS, 1, 0
    for row in rows:
        if row.seq != expected_seq:
            problem = f"expected entry {expected_seq}, found {row.seq} (entries removed?)"
            return ChainReport(False, count, row.seq, problem)
        if row.prev_hash != prev:
            return ChainReport(False, count, row.seq, "prev_hash does not match the previous entry's hash")
        try:
            computed = entry_hash(prev, _entry(row))
        except (ValueError, TypeError):
            return ChainReport(False, count, row.seq, "the entry's detail is not valid JSON")
        if computed != row.hash:
            return ChainReport(False, count, row.seq, "the entry was changed after it was written")
        prev, expected_seq, count = row.hash, expected_seq + 1, count + 1
    return ChainReport(True, count, head=prev)


def iter_rows(db: Database, batch: int = 1000) -> Iterator[AuditRow]:
    """All rows in order, read in pages so a long log does not fill memory."""
    after = 0
    while True:
        with db.read() as session:
            query = select(AuditRow).where(AuditRow.seq > after).order_by(AuditRow.seq).limit(batch)
            rows = list(session.scalars(query))
        yield from rows
        if len(rows) < batch:
            return
        after = rows[-1].seq


def verify(db: Database) -> ChainReport:
    return verify_chain(iter_rows(db))


def entries(db: Database, *, limit: int = 100, before: int | None = None) -> list[dict[str, Any]]:
    with db.read() as session:
        query = select(AuditRow).order_by(AuditRow.seq.desc()).limit(limit)
        if before is not None:
            query = query.where(AuditRow.seq < before)
        return [{**_entry(r), "hash": r.hash} for r in session.scalars(query)]
