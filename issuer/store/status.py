"""Status lists in the database: random unique index allocation and entry updates.

- Kinds: ``token`` (IETF Token Status List, one row, purpose ``status``, 2 bits per entry: 0 VALID,
  1 INVALID, 2 SUSPENDED — Token Status List "Status Types") and ``bitstring`` (W3C Bitstring Status
  List, one ``revocation`` and one ``suspension`` row sharing the group's indices, 1 bit each).
- Allocation: a uniformly random index in the active list, inserted into ``issuer_status_allocations``
  whose primary key (list_id, idx) makes it unique; a taken index is skipped with ``ON CONFLICT DO
  NOTHING`` and another drawn. Herd privacy (Bitstring Status List §6.1, Token Status List "Privacy
  Considerations"): lists have ≥ 131,072 entries and are retired from allocation once half full, which
  also keeps the expected number of draws below two. No counter is bumped per issuance, so concurrent
  issuances do not queue on one hot row; the fill is counted only when a draw collides.
- Updates: the list row is locked (``SELECT … FOR UPDATE`` on PostgreSQL; SQLite transactions are
  already serialized), its packed entries changed with :class:`shared.status_list.StatusList`, and its
  ``version`` bumped — which invalidates the signed copy that is served.
"""

from __future__ import annotations

import secrets
from collections.abc import Callable
from typing import Final

from sqlalchemy import bindparam, func, insert, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session

from issuer.store.db import Executor, dialect_of
from issuer.store.models import StatusAllocationRow, StatusListRow, table_of
from shared.crypto import RandomBytes
from shared.encoding import b64url_encode
from shared.status_list import LSB_FIRST, MSB_FIRST, StatusList

TOKEN: Final = "token"  # noqa: S105 - a list kind, not a secret
BITSTRING: Final = "bitstring"
PURPOSES: Final = {TOKEN: ("status",), BITSTRING: ("revocation", "suspension")}
TOKEN_VALID, TOKEN_INVALID, TOKEN_SUSPENDED = 0, 1, 2
MAX_FILL: Final = 0.5
MAX_DRAWS: Final = 32


def random_index(n: int, random_bytes: RandomBytes) -> int:
    """Uniform in [0, n) by rejection sampling (no modulo bias for sizes that are not powers of two)."""
    bits = max(1, (n - 1).bit_length())
    while True:
        value = int.from_bytes(random_bytes((bits + 7) // 8), "big") & ((1 << bits) - 1)
        if value < n:
            return value


LISTS = table_of(StatusListRow)
ALLOCATIONS = table_of(StatusAllocationRow)
# Prebuilt Core statements: allocation runs for every credential issued.
_ACTIVE_LIST = (
    select(LISTS.c.id, LISTS.c.size)
    .where(LISTS.c.kind == bindparam("kind"), LISTS.c.purpose == bindparam("purpose"), LISTS.c.active.is_(True))
    .order_by(LISTS.c.created_at)
    .limit(1)
)
_NEW_LIST = insert(LISTS)
_USED = select(func.count()).select_from(ALLOCATIONS).where(ALLOCATIONS.c.list_id == bindparam("list_id"))
_RETIRE = update(LISTS).where(LISTS.c.id == bindparam("list_id")).values(active=False, allocated=bindparam("used"))
_INSERT_IGNORE = {
    # RETURNING, not rowcount: what the driver reports for a skipped row differs
    name: dialect_insert(ALLOCATIONS)
    .on_conflict_do_nothing(index_elements=["list_id", "idx"])
    .returning(ALLOCATIONS.c.idx)
    for name, dialect_insert in (("postgresql", pg_insert), ("sqlite", sqlite_insert))
}


def _new_list(executor: Executor, kind: str, size: int, now: int, random_bytes: RandomBytes) -> str:
    list_id = ("t" if kind == TOKEN else "b") + b64url_encode(random_bytes(9))
    bits = 2 if kind == TOKEN else 1
    order = LSB_FIRST if kind == TOKEN else MSB_FIRST
    empty = StatusList.zeros(size, bits=bits, order=order).data
    rows = [
        {
            "id": list_id,
            "purpose": purpose,
            "kind": kind,
            "bits": bits,
            "size": size,
            "data": empty,
            "version": 1,
            "allocated": 0,
            "active": True,
            "signed": None,
            "signed_version": None,
            "signed_at": None,
            "created_at": now,
        }
        for purpose in PURPOSES[kind]
    ]
    executor.execute(_NEW_LIST, rows)
    return list_id


def allocate(
    executor: Executor,
    *,
    kind: str,
    credential_id: str,
    size: int,
    now: int,
    random_bytes: RandomBytes = secrets.token_bytes,
    on_new_list: Callable[[str], None] | None = None,
) -> tuple[str, int]:
    """A fresh (list_id, idx) for one credential, in the caller's transaction (an ORM session or a
    Core connection)."""
    primary = PURPOSES[kind][0]
    insert_ignore = _INSERT_IGNORE[dialect_of(executor)]
    for _ in range(8):  # a fresh list takes the first draw; more rounds mean a broken random source
        row = executor.execute(_ACTIVE_LIST, {"kind": kind, "purpose": primary}).first()
        if row is None:
            list_id, list_size = _new_list(executor, kind, size, now, random_bytes), size
            if on_new_list is not None:
                on_new_list(list_id)
        else:
            list_id, list_size = row[0], row[1]
        used = 0
        for _ in range(MAX_DRAWS):
            idx = random_index(list_size, random_bytes)
            values = {"list_id": list_id, "idx": idx, "credential_id": credential_id}
            if executor.execute(insert_ignore, values).first() is not None:
                return list_id, idx
            # a collision: is the list getting full?
            used = executor.execute(_USED, {"list_id": list_id}).scalar() or 0
            if used >= list_size * MAX_FILL:
                break
        executor.execute(_RETIRE, {"list_id": list_id, "used": used})
    raise RuntimeError("no free status index could be drawn; is the random source broken?")


def set_entries(session: Session, list_id: str, purpose: str, values: dict[int, int]) -> int:
    """Write status values into one list; returns its new version."""
    row = session.scalars(
        select(StatusListRow).where(StatusListRow.id == list_id, StatusListRow.purpose == purpose).with_for_update()
    ).one()
    order = LSB_FIRST if row.kind == TOKEN else MSB_FIRST
    current = StatusList(row.bits, row.data, order)
    changed = {i: v for i, v in values.items() if current.get(i) != v}
    if changed:
        row.data = current.with_values(changed).data
        row.version += 1
    session.flush()
    return row.version


def get_list(session: Session, list_id: str, purpose: str) -> StatusListRow | None:
    return session.get(StatusListRow, (list_id, purpose))
