"""Prebuilt Core statements of the paths every issuance takes (offer, token, nonce, credential).

Built once at import, with bound parameters, and run on a bare connection (``Database.begin()``): the
ORM's unit of work and statement construction cost two to three times the database work itself on
these one-row statements, and they run four times per credential. The rules they carry — single use by
conditional UPDATE, the offer row locked while issuing — are the ones :mod:`issuer.store.db` describes.

Bound parameter names never equal a column name that a statement sets (SQLAlchemy reserves those).
"""

from __future__ import annotations

from sqlalchemy import bindparam, insert, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

from issuer.store.models import AccessTokenRow, CredentialRow, NonceRow, OfferRow, RecordRow, table_of

OFFERS = table_of(OfferRow)
RECORDS = table_of(RecordRow)
TOKENS = table_of(AccessTokenRow)
NONCES = table_of(NonceRow)
CREDENTIALS = table_of(CredentialRow)

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
