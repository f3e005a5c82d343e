"""Initial issuer schema: API keys, audit log, signing keys, offers, tokens, nonces, records,
credentials, status lists and status index allocations.

Revision ID: 0001
Revises:
"""

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "issuer_api_keys",
        sa.Column("key_id", sa.String(32), primary_key=True),
        sa.Column("key_hash", sa.String(64), nullable=False),
        sa.Column("scopes", sa.String(64), nullable=False),
        sa.Column("label", sa.String(200), nullable=True),
        sa.Column("created_at", sa.BigInteger(), nullable=False),
        sa.Column("revoked_at", sa.BigInteger(), nullable=True),
    )
    op.create_table(
        "issuer_audit_log",
        sa.Column("seq", sa.BigInteger(), primary_key=True, autoincrement=False),
        sa.Column("at", sa.BigInteger(), nullable=False),
        sa.Column("actor", sa.String(64), nullable=False),
        sa.Column("action", sa.String(64), nullable=False),
        sa.Column("target", sa.String(128), nullable=True),
        sa.Column("detail", sa.Text(), nullable=False),
        sa.Column("prev_hash", sa.String(64), nullable=False),
        sa.Column("hash", sa.String(64), nullable=False),
    )
    op.create_table(
        "issuer_signing_keys",
        sa.Column("kid", sa.String(64), primary_key=True),
        sa.Column("alg", sa.String(16), nullable=False),
        sa.Column("public_jwk", sa.Text(), nullable=False),
        sa.Column("sealed", sa.LargeBinary(), nullable=False),
        sa.Column("created_at", sa.BigInteger(), nullable=False),
        sa.Column("retired_at", sa.BigInteger(), nullable=True),
    )
    op.create_table(
        "issuer_offers",
        sa.Column("id", sa.String(32), primary_key=True),
        sa.Column("code_hash", sa.String(64), nullable=False, unique=True),
        sa.Column("code_sealed", sa.LargeBinary(), nullable=False),
        sa.Column("record_id", sa.String(32), nullable=False),
        sa.Column("credential_type", sa.String(64), nullable=False),
        sa.Column("configuration_ids", sa.Text(), nullable=False),
        sa.Column("claims_sealed", sa.LargeBinary(), nullable=True),
        sa.Column("tx_code_hash", sa.String(64), nullable=True),
        sa.Column("tx_attempts", sa.Integer(), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("created_at", sa.BigInteger(), nullable=False),
        sa.Column("expires_at", sa.BigInteger(), nullable=False),
        sa.Column("redeemed_at", sa.BigInteger(), nullable=True),
    )
    op.create_index("ix_issuer_offers_record_id", "issuer_offers", ["record_id"])
    op.create_table(
        "issuer_access_tokens",
        sa.Column("token_hash", sa.String(64), primary_key=True),
        sa.Column("offer_id", sa.String(32), nullable=False),
        sa.Column("expires_at", sa.BigInteger(), nullable=False),
        sa.Column("used_at", sa.BigInteger(), nullable=True),
    )
    op.create_index("ix_issuer_access_tokens_offer_id", "issuer_access_tokens", ["offer_id"])
    op.create_table(
        "issuer_nonces",
        sa.Column("nonce_hash", sa.String(64), primary_key=True),
        sa.Column("expires_at", sa.BigInteger(), nullable=False),
        sa.Column("used_at", sa.BigInteger(), nullable=True),
    )
    op.create_index("ix_issuer_nonces_expires_at", "issuer_nonces", ["expires_at"])
    op.create_table(
        "issuer_records",
        sa.Column("id", sa.String(32), primary_key=True),
        sa.Column("credential_type", sa.String(64), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("offer_id", sa.String(32), nullable=False),
        sa.Column("issued_by", sa.String(32), nullable=False),
        sa.Column("created_at", sa.BigInteger(), nullable=False),
        sa.Column("issued_at", sa.BigInteger(), nullable=True),
        sa.Column("updated_at", sa.BigInteger(), nullable=False),
        sa.Column("claims_sealed", sa.LargeBinary(), nullable=True),
    )
    op.create_index("ix_issuer_records_credential_type", "issuer_records", ["credential_type"])
    op.create_index("ix_issuer_records_status", "issuer_records", ["status"])
    op.create_index("ix_issuer_records_created_at", "issuer_records", ["created_at"])
    op.create_table(
        "issuer_credentials",
        sa.Column("id", sa.String(32), primary_key=True),
        sa.Column("record_id", sa.String(32), nullable=False),
        sa.Column("format", sa.String(32), nullable=False),
        sa.Column("status_list_id", sa.String(64), nullable=False),
        sa.Column("status_idx", sa.Integer(), nullable=False),
        sa.Column("holder_thumbprint", sa.String(64), nullable=True),
        sa.Column("issued_at", sa.BigInteger(), nullable=False),
        sa.Column("valid_until", sa.BigInteger(), nullable=True),
    )
    op.create_index("ix_issuer_credentials_record_id", "issuer_credentials", ["record_id"])
    op.create_table(
        "issuer_status_lists",
        sa.Column("id", sa.String(64), nullable=False),
        sa.Column("purpose", sa.String(16), nullable=False),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("bits", sa.Integer(), nullable=False),
        sa.Column("size", sa.Integer(), nullable=False),
        sa.Column("data", sa.LargeBinary(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("allocated", sa.Integer(), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("signed", sa.Text(), nullable=True),
        sa.Column("signed_version", sa.Integer(), nullable=True),
        sa.Column("signed_at", sa.BigInteger(), nullable=True),
        sa.Column("created_at", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("id", "purpose", name="pk_issuer_status_lists"),
    )
    op.create_table(
        "issuer_status_allocations",
        sa.Column("list_id", sa.String(64), nullable=False),
        sa.Column("idx", sa.Integer(), nullable=False),
        sa.Column("credential_id", sa.String(32), nullable=False),
        sa.PrimaryKeyConstraint("list_id", "idx", name="pk_issuer_status_allocations"),
    )


def downgrade() -> None:
    for table in (
        "issuer_status_allocations",
        "issuer_status_lists",
        "issuer_credentials",
        "issuer_records",
        "issuer_nonces",
        "issuer_access_tokens",
        "issuer_offers",
        "issuer_signing_keys",
        "issuer_audit_log",
        "issuer_api_keys",
    ):
        op.drop_table(table)
