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

from sqlalchemy import LargeBinary, String, bindparam, cast, func, insert, literal, select, union_all
from sqlalchemy.orm import Session

from issuer.store.db import AUDIT_LOCK, Database, Executor, dialect_of
from issuer.store.models import AuditRow, table_of
from shared.encoding import jcs

GENESIS = "0" * 64


def entry_hash(prev_hash: str, entry: dict[str, Any]) -> str:
    return hashlib.sha256(prev_hash.encode("ascii") + jcs(entry)).hexdigest()


def entry_bytes_around_seq(entry: dict[str, Any]) -> tuple[bytes, bytes]:
    """JCS(entry) of an entry without its ``seq``, as the bytes before and after where the seq goes:
    ``before + str(seq) + after == jcs(entry | {"seq": seq})``."""
    head = {k: entry[k] for k in ("action", "actor", "at", "detail")}
    return jcs(head)[:-1] + b',"seq":', b',"target":' + jcs(entry["target"]) + b"}"


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
# PostgreSQL: the whole append as one statement — the next seq and prev_hash read from the last row and
# the hash computed by the server, over the same bytes: prev_hash || JCS(entry), where the JCS text is
# sent as the bytes before and after the seq (keys sort action, actor, at, detail, seq, target). It must
# run after AUDIT_LOCK was taken, in an earlier statement (READ COMMITTED: a statement sees the rows
# committed before it began — a lock taken within it would not make the last append visible).
_HEAD = (
    union_all(select(AUDIT.c.seq, AUDIT.c.hash), select(literal(0, AUDIT.c.seq.type), literal(GENESIS, String)))
    .order_by(AUDIT.c.seq.desc())
    .limit(1)
    .subquery("head")
)
_NEXT = _HEAD.c.seq + 1


def _utf8(expression: Any) -> Any:
    return func.convert_to(cast(expression, String), "UTF8")


_PG_APPEND = (
    insert(AUDIT)
    .from_select(
        ["seq", "at", "actor", "action", "target", "detail", "prev_hash", "hash"],
        select(
            _NEXT,
            bindparam("e_at", type_=AUDIT.c.at.type),
            bindparam("e_actor", type_=AUDIT.c.actor.type),
            bindparam("e_action", type_=AUDIT.c.action.type),
            bindparam("e_target", type_=AUDIT.c.target.type),
            bindparam("e_detail", type_=AUDIT.c.detail.type),
            _HEAD.c.hash,
            func.encode(
                func.sha256(
                    _utf8(_HEAD.c.hash)
                    .op("||")(bindparam("e_before", type_=LargeBinary))
                    .op("||")(_utf8(_NEXT))
                    .op("||")(bindparam("e_after", type_=LargeBinary))
                ),
                "hex",
            ),
        ),
    )
    .returning(AUDIT.c.seq)
)


def append(
    db: Database,
    executor: Executor,
    *,
    at: int,
    actor: str,
    action: str,
    target: str | None,
    detail: dict[str, Any],
    locked: bool = False,
) -> int:
    """Append one entry inside the caller's transaction (an ORM session or a Core connection); returns
    its sequence number. ``locked``: the caller took ``AUDIT_LOCK`` in this transaction already, in an
    earlier statement (PostgreSQL; see ``statements.PG_NEW_OFFER``)."""
    if isinstance(executor, Session):
        # Write the caller's pending rows first: the lock serializes every audited action of every
        # replica until commit, so it should cover this entry and nothing else.
        executor.flush()
    if not locked:
        db.lock(executor, AUDIT_LOCK)
    stored = json.dumps(detail, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    # hashed as verify_chain will read it back: the stored JSON, parsed
    entry = {"at": at, "actor": actor, "action": action, "target": target, "detail": json.loads(stored)}
    if dialect_of(executor) == "postgresql":
        before, after = entry_bytes_around_seq(entry)
        values = {"e_at": at, "e_actor": actor, "e_action": action, "e_target": target, "e_detail": stored}
        return int(executor.execute(_PG_APPEND, {**values, "e_before": before, "e_after": after}).scalar_one())
    last = executor.execute(_LAST).first()
    seq, prev = (last[0] + 1, last[1]) if last else (1, GENESIS)
    entry["seq"] = seq
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
