"""Tables. Times are integer Unix seconds (the same on SQLite and PostgreSQL, no time-zone surprises).

What is stored is deliberately little (design.md §1.2): API keys only as hashes, the signing key only
sealed, and for a session only its verdict and the claims the policy asked for — never the raw
presentation and never extra disclosed claims — until ``purge_at``.
"""

from __future__ import annotations

from sqlalchemy import BigInteger, Boolean, Index, LargeBinary, MetaData, String, Text
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

# Named constraints so migrations are the same on every backend.
NAMING = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING)


class ApiKeyRow(Base):
    __tablename__ = "verifier_api_keys"
    key_id: Mapped[str] = mapped_column(String(32), primary_key=True)
    key_hash: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[int] = mapped_column(BigInteger)
    revoked: Mapped[bool] = mapped_column(Boolean, default=False)


class SigningKeyRow(Base):
    __tablename__ = "verifier_signing_keys"
    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    alg: Mapped[str] = mapped_column(String(16))
    public_jwk: Mapped[str] = mapped_column(Text)
    sealed: Mapped[bytes] = mapped_column(LargeBinary)  # SecretBox nonce || ciphertext of the seed
    created_at: Mapped[int] = mapped_column(BigInteger)


class SessionRow(Base):
    __tablename__ = "verifier_sessions"
    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    policy: Mapped[str] = mapped_column(String(128))
    # the id in request_uri / response_uri: public (it is in the QR code), unlike the session id,
    # which only the API client knows and which reads the result
    request_id: Mapped[str] = mapped_column(String(64), unique=True)
    client_id: Mapped[str] = mapped_column(String(2048))
    nonce: Mapped[str] = mapped_column(String(64), unique=True)
    state: Mapped[str] = mapped_column(String(64), unique=True)
    # pending → fetched → verified | rejected | declined; the outcome is written by one conditional
    # UPDATE (verifier.store.db), so there is no state in between
    status: Mapped[str] = mapped_column(String(16))
    created_at: Mapped[int] = mapped_column(BigInteger)
    expires_at: Mapped[int] = mapped_column(BigInteger)
    completed_at: Mapped[int | None] = mapped_column(BigInteger, nullable=True)
    verdict: Mapped[str | None] = mapped_column(Text, nullable=True)  # JSON
    claims: Mapped[str | None] = mapped_column(Text, nullable=True)  # JSON: the requested claims only
    purge_at: Mapped[int] = mapped_column(BigInteger)

    __table_args__ = (Index("ix_verifier_sessions_purge_at", "purge_at"),)
