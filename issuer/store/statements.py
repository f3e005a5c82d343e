"""Prebuilt Core statements of the paths every issuance takes (offer, token, nonce, credential).

Built once at import, with bound parameters, and run on a bare connection (``Database.begin()``): the
ORM's unit of work and statement construction cost two to three times the database work itself on
these one-row statements, and they run four times per credential. The rules they carry — single use by
conditional UPDATE, the offer row locked while issuing — are the ones :mod:`issuer.store.db` describes.

Bound parameter names never equal a column name that a statement sets (SQLAlchemy reserves those).
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import ARRAY, Boolean, Connection, Table, bindparam, exists, func, insert, literal, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.sql.elements import BindParameter

from issuer.store.db import AUDIT_LOCK
from issuer.store.models import (
    AccessTokenRow,
    CredentialRow,
    NonceRow,
    OfferRow,
    RecordRow,
    StatusAllocationRow,
    StatusListRow,
    table_of,
)

OFFERS = table_of(OfferRow)
RECORDS = table_of(RecordRow)
TOKENS = table_of(AccessTokenRow)
NONCES = table_of(NonceRow)
CREDENTIALS = table_of(CredentialRow)
LISTS = table_of(StatusListRow)
ALLOCATIONS = table_of(StatusAllocationRow)

# --- offers ---------------------------------------------------------------------------------------------
NEW_RECORD = insert(RECORDS)
NEW_OFFER = insert(OFFERS)

# --- token: redeem a pre-authorized code ------------------------------------------------------------------
OFFER_BY_CODE = select(
    OFFERS.c.id, OFFERS.c.status, OFFERS.c.expires_at, OFFERS.c.tx_code_hash, OFFERS.c.tx_attempts
).where(OFFERS.c.code_hash == bindparam("code_hash"))
# a wrong tx_code: one more attempt, and the offer dies with the last one (:then is its new status)
COUNT_ATTEMPT = (
    update(OFFERS)
    .where(OFFERS.c.id == bindparam("offer_id"), OFFERS.c.status == "pending")
    .values(tx_attempts=OFFERS.c.tx_attempts + 1, status=bindparam("then"))
)
# the one winner of any number of parallel redemptions sees one row changed
REDEEM = (
    update(OFFERS)
    .where(OFFERS.c.id == bindparam("offer_id"), OFFERS.c.status == "pending")
    .values(status="redeemed", redeemed_at=bindparam("at"))
)
NEW_TOKEN = insert(TOKENS)

# --- nonce: a c_nonce is recorded when it is used; the primary key makes that happen once -----------------
# the one winner of any number of parallel uses gets its row back; RETURNING, as drivers differ on rowcount
USE_NONCE = {
    name: dialect_insert(NONCES).on_conflict_do_nothing(index_elements=["nonce_hash"]).returning(NONCES.c.nonce_hash)
    for name, dialect_insert in (("postgresql", pg_insert), ("sqlite", sqlite_insert))
}

# --- credential -----------------------------------------------------------------------------------------
TOKEN = select(TOKENS.c.offer_id, TOKENS.c.expires_at).where(TOKENS.c.token_hash == bindparam("hash"))
# FOR UPDATE (PostgreSQL; SQLite transactions are serialized anyway): two requests for one offer queue
OFFER_LOCKED = (
    select(OFFERS.c.id, OFFERS.c.record_id, OFFERS.c.configuration_ids, OFFERS.c.claims_sealed)
    .where(OFFERS.c.id == bindparam("offer_id"))
    .with_for_update()
)
RECORD = select(RECORDS.c.id, RECORDS.c.status, RECORDS.c.issued_at).where(RECORDS.c.id == bindparam("record_id"))
FORMATS_ISSUED = select(CREDENTIALS.c.format).where(CREDENTIALS.c.record_id == bindparam("record_id"))
NEW_CREDENTIAL = insert(CREDENTIALS)
RECORD_ISSUED = (
    update(RECORDS)
    .where(RECORDS.c.id == bindparam("record_id"))
    .values(status=bindparam("then"), issued_at=bindparam("issued"), updated_at=bindparam("at"))
)
# data minimization: the claims go once every configuration of the offer is issued
OFFER_ISSUED = update(OFFERS).where(OFFERS.c.id == bindparam("offer_id")).values(status="issued", claims_sealed=None)

# --- PostgreSQL: fewer round trips ------------------------------------------------------------------------
# Every statement, BEGIN and COMMIT is a round trip to PostgreSQL (and work for its backend on the same
# cores), so the paths above are merged there into data-modifying WITH statements — one statement is
# atomic, and a single-statement change runs in autocommit (``Database.write()``). SQLite has no
# data-modifying WITH; it runs the statements above in one transaction, where a statement costs no round
# trip. The rules stay the ones above: the conditional UPDATE still decides single use, and the offer row
# is still locked before anything about its issuance is read (READ COMMITTED: a statement sees what was
# committed before it began, so whatever must be read after the lock is read by a later statement).


def _values(table: Table, prefix: str, *, skip: tuple[str, ...] = ()) -> dict[str, BindParameter[Any]]:
    return {c.name: bindparam(prefix + c.name, type_=c.type) for c in table.c if c.name not in skip}


# offer creation: the record, the offer and the audit log's lock (audit.append then needs one statement)
PG_NEW_OFFER = select(func.pg_advisory_xact_lock(AUDIT_LOCK)).add_cte(
    insert(RECORDS).values(_values(RECORDS, "r_")).cte("new_record"),
    insert(OFFERS).values(_values(OFFERS, "o_")).cte("new_offer"),
)

# token: redeem the code and store the access token, one autocommit statement; no row back = already used
_REDEEMED = REDEEM.returning(OFFERS.c.id).cte("redeemed")
PG_REDEEM = (
    insert(TOKENS)
    .from_select(
        ["token_hash", "offer_id", "expires_at"],
        select(
            bindparam("token_hash", type_=TOKENS.c.token_hash.type),
            _REDEEMED.c.id,
            bindparam("token_expires", type_=TOKENS.c.expires_at.type),
        ),
    )
    .returning(TOKENS.c.offer_id)
)

# credential 1: the token and its offer, the offer row locked (a waiting request gets the row as the
# holder left it); no row = no such token
PG_TOKEN_OFFER_LOCKED = (
    select(
        TOKENS.c.expires_at.label("token_expires"),
        OFFERS.c.id,
        OFFERS.c.record_id,
        OFFERS.c.configuration_ids,
        OFFERS.c.claims_sealed,
    )
    .join_from(TOKENS, OFFERS, OFFERS.c.id == TOKENS.c.offer_id)
    .where(TOKENS.c.token_hash == bindparam("hash"))
    .with_for_update(of=OFFERS)
)

# credential 2, after the lock: use the nonce, read the record and the formats issued for it, and draw the
# first status index (from the oldest active list of :kind/:purpose if it has :size entries; no row back
# — a taken index, no such list — and status.allocate draws it the general way). Whatever fails after
# this rolls all of it back.
_USED_NONCE = (
    pg_insert(NONCES)
    .values(_values(NONCES, "n_"))
    .on_conflict_do_nothing(index_elements=["nonce_hash"])
    .returning(NONCES.c.nonce_hash)
    .cte("used_nonce")
)
_LIST = (
    select(LISTS.c.id)
    .where(
        LISTS.c.kind == bindparam("kind"),
        LISTS.c.purpose == bindparam("purpose"),
        LISTS.c.active.is_(True),
        LISTS.c.size == bindparam("size"),
    )
    .order_by(LISTS.c.created_at)
    .limit(1)
    .subquery("active_list")
)
_ALLOCATED = (
    pg_insert(ALLOCATIONS)
    .from_select(
        ["list_id", "idx", "credential_id"],
        select(
            _LIST.c.id,
            bindparam("idx", type_=ALLOCATIONS.c.idx.type),
            bindparam("credential_id", type_=ALLOCATIONS.c.credential_id.type),
        ),
    )
    .on_conflict_do_nothing(index_elements=["list_id", "idx"])
    .returning(ALLOCATIONS.c.list_id, ALLOCATIONS.c.idx)
    .cte("allocated")
)
_ONE = select(literal(1).label("one")).subquery("one")
PG_ISSUE_START = (
    select(
        exists(select(_USED_NONCE.c.nonce_hash)).label("won"),
        RECORDS.c.id,
        RECORDS.c.status,
        RECORDS.c.issued_at,
        select(func.array_agg(CREDENTIALS.c.format))
        .where(CREDENTIALS.c.record_id == bindparam("record_id"))
        .scalar_subquery()
        .label("formats"),
        select(_ALLOCATED.c.list_id).scalar_subquery().label("list_id"),
        select(_ALLOCATED.c.idx).scalar_subquery().label("idx"),
    )
    .select_from(_ONE.outerjoin(RECORDS, RECORDS.c.id == bindparam("record_id")))
    .add_cte(_USED_NONCE, _ALLOCATED)
)

# credential 3: the credentials, the record's status and (once every configuration is issued) the offer
_CREDENTIALS = (
    insert(CREDENTIALS)
    .from_select(
        [c.name for c in CREDENTIALS.c],
        select(*(func.unnest(bindparam(f"c_{c.name}", type_=ARRAY(c.type))) for c in CREDENTIALS.c)),
    )
    .cte("new_credentials")
)
# (a nested UPDATE would SET any column a parameter is named after: no parameter here names a column)
PG_ISSUED = select(literal(1)).add_cte(
    _CREDENTIALS,
    update(RECORDS)
    .where(RECORDS.c.id == bindparam("issued_record"))
    .values(status=bindparam("then"), issued_at=bindparam("issued"), updated_at=bindparam("at"))
    .cte("record_issued"),
    update(OFFERS)
    .where(OFFERS.c.id == bindparam("issued_offer"), bindparam("finished", type_=Boolean))
    .values(status="issued", claims_sealed=None)
    .cte("offer_issued"),
)


def redeem(connection: Connection, *, offer_id: str, at: int, token_hash: str, expires_at: int) -> bool:
    """Redeem a pending offer's code and store its access token; False if another request won. One
    statement on PostgreSQL (fit for ``Database.write()``'s autocommit), two in the caller's transaction
    on SQLite."""
    if connection.dialect.name == "postgresql":
        values = {"offer_id": offer_id, "at": at, "token_hash": token_hash, "token_expires": expires_at}
        return connection.execute(PG_REDEEM, values).first() is not None
    if connection.execute(REDEEM, {"offer_id": offer_id, "at": at}).rowcount != 1:
        return False
    connection.execute(NEW_TOKEN, {"token_hash": token_hash, "offer_id": offer_id, "expires_at": expires_at})
    return True
