"""SQLAlchemy 2.x models of the issuer. Table names carry an ``issuer_`` prefix so the issuer and the
verifier can share one database. Times are integer Unix seconds (no time-zone ambiguity across
SQLite and PostgreSQL). Secrets are stored as SHA-256 hashes, private material sealed (see
:mod:`issuer.sealing`). The schema itself is created by the Alembic migrations in ``issuer/migrations``;
a test checks that the two agree.
"""

from __future__ import annotations

from sqlalchemy import BigInteger, Boolean, Integer, LargeBinary, PrimaryKeyConstraint, String, Table, Text
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column


class Base(DeclarativeBase):
    pass


def table_of(model: type[Base]) -> Table:
    """A model's Core table, for the prebuilt statements of the paths every issuance takes."""
    table = model.__table__
    assert isinstance(table, Table)
    return table


class ApiKeyRow(Base):
    __tablename__ = "issuer_api_keys"
    key_id: Mapped[str] = mapped_column(String(32), primary_key=True)
    key_hash: Mapped[str] = mapped_column(String(64))
    scopes: Mapped[str] = mapped_column(String(64))  # space-separated: issue revoke admin
    label: Mapped[str | None] = mapped_column(String(200))
    created_at: Mapped[int] = mapped_column(BigInteger)
    revoked_at: Mapped[int | None] = mapped_column(BigInteger)


class AuditRow(Base):
    """Append-only; ``hash`` = SHA-256(``prev_hash`` || JCS(entry)) chains every row to the one before."""

    __tablename__ = "issuer_audit_log"
    seq: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    at: Mapped[int] = mapped_column(BigInteger)
    actor: Mapped[str] = mapped_column(String(64))
    action: Mapped[str] = mapped_column(String(64))
    target: Mapped[str | None] = mapped_column(String(128))
    detail: Mapped[str] = mapped_column(Text)  # JSON object
    prev_hash: Mapped[str] = mapped_column(String(64))
    hash: Mapped[str] = mapped_column(String(64))


class SigningKeyRow(Base):
    __tablename__ = "issuer_signing_keys"
    kid: Mapped[str] = mapped_column(String(64), primary_key=True)  # JWK thumbprint
    alg: Mapped[str] = mapped_column(String(16))
    public_jwk: Mapped[str] = mapped_column(Text)
    sealed: Mapped[bytes] = mapped_column(LargeBinary)  # the seed, sealed with the key-encryption key
    created_at: Mapped[int] = mapped_column(BigInteger)
    # A retired key signs nothing new but stays published, so its credentials keep verifying.
    retired_at: Mapped[int | None] = mapped_column(BigInteger)


class OfferRow(Base):
    __tablename__ = "issuer_offers"
    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    code_hash: Mapped[str] = mapped_column(String(64), unique=True)  # SHA-256 of the pre-authorized code
    # the code itself, sealed: the offer is served again at its credential_offer_uri until redeemed
    code_sealed: Mapped[bytes] = mapped_column(LargeBinary)
    record_id: Mapped[str] = mapped_column(String(32), index=True)
    credential_type: Mapped[str] = mapped_column(String(64))
    configuration_ids: Mapped[str] = mapped_column(Text)  # JSON array
    claims_sealed: Mapped[bytes | None] = mapped_column(LargeBinary)  # wiped once issued
    tx_code_hash: Mapped[str | None] = mapped_column(String(64))
    tx_attempts: Mapped[int] = mapped_column(Integer, default=0)
    status: Mapped[str] = mapped_column(String(16))  # pending | redeemed | invalidated | issued
    created_at: Mapped[int] = mapped_column(BigInteger)
    expires_at: Mapped[int] = mapped_column(BigInteger)
    redeemed_at: Mapped[int | None] = mapped_column(BigInteger)


class AccessTokenRow(Base):
    __tablename__ = "issuer_access_tokens"
    token_hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    offer_id: Mapped[str] = mapped_column(String(32), index=True)
    expires_at: Mapped[int] = mapped_column(BigInteger)
    used_at: Mapped[int | None] = mapped_column(BigInteger)


class NonceRow(Base):
    """A c_nonce that was used, kept until it expires (issuer/issuance.py: nonces are not stored when
    handed out); the primary key is what makes a nonce single-use."""

    __tablename__ = "issuer_nonces"
    nonce_hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    expires_at: Mapped[int] = mapped_column(BigInteger, index=True)
    used_at: Mapped[int | None] = mapped_column(BigInteger)


class RecordRow(Base):
    """One issuance (one offer): what was issued, to whom (key thumbprints), when and by whom — no claims
    unless retention is configured."""

    __tablename__ = "issuer_records"
    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    credential_type: Mapped[str] = mapped_column(String(64), index=True)
    status: Mapped[str] = mapped_column(String(16), index=True)  # offered | issued | revoked | suspended
    offer_id: Mapped[str] = mapped_column(String(32))
    issued_by: Mapped[str] = mapped_column(String(32))  # API key id
    created_at: Mapped[int] = mapped_column(BigInteger, index=True)
    issued_at: Mapped[int | None] = mapped_column(BigInteger)
    updated_at: Mapped[int] = mapped_column(BigInteger)
    claims_sealed: Mapped[bytes | None] = mapped_column(LargeBinary)  # only with retain_claims


class CredentialRow(Base):
    """One credential of a record (a batch gives several, each bound to its own holder key)."""

    __tablename__ = "issuer_credentials"
    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    record_id: Mapped[str] = mapped_column(String(32), index=True)
    format: Mapped[str] = mapped_column(String(32))
    status_list_id: Mapped[str] = mapped_column(String(64))
    status_idx: Mapped[int] = mapped_column(Integer)
    holder_thumbprint: Mapped[str | None] = mapped_column(String(64))
    issued_at: Mapped[int] = mapped_column(BigInteger)
    valid_until: Mapped[int | None] = mapped_column(BigInteger)


class StatusListRow(Base):
    """A status list. Token lists have one row (purpose ``status``, 2 bits: valid/invalid/suspended);
    a Bitstring group has a ``revocation`` and a ``suspension`` row sharing its indices."""

    __tablename__ = "issuer_status_lists"
    __table_args__ = (PrimaryKeyConstraint("id", "purpose", name="pk_issuer_status_lists"),)
    id: Mapped[str] = mapped_column(String(64))
    purpose: Mapped[str] = mapped_column(String(16))
    kind: Mapped[str] = mapped_column(String(16))  # token | bitstring
    bits: Mapped[int] = mapped_column(Integer)
    size: Mapped[int] = mapped_column(Integer)
    data: Mapped[bytes] = mapped_column(LargeBinary)  # packed entries, uncompressed
    version: Mapped[int] = mapped_column(Integer)  # bumped on every change (optimistic concurrency, ETag)
    allocated: Mapped[int] = mapped_column(Integer)
    active: Mapped[bool] = mapped_column(Boolean)  # new indices are drawn from active lists only
    signed: Mapped[str | None] = mapped_column(Text)  # the served, signed form of ``signed_version``
    signed_version: Mapped[int | None] = mapped_column(Integer)
    signed_at: Mapped[int | None] = mapped_column(BigInteger)
    created_at: Mapped[int] = mapped_column(BigInteger)


class StatusAllocationRow(Base):
    """The unique constraint (list_id, idx) is what makes every status index unique."""

    __tablename__ = "issuer_status_allocations"
    __table_args__ = (PrimaryKeyConstraint("list_id", "idx", name="pk_issuer_status_allocations"),)
    list_id: Mapped[str] = mapped_column(String(64))
    idx: Mapped[int] = mapped_column(Integer)
    credential_id: Mapped[str] = mapped_column(String(32))
