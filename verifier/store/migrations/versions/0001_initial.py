"""Initial verifier schema: API keys, the signing key, sessions.

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
        "verifier_api_keys",
        sa.Column("key_id", sa.String(32), nullable=False),
        sa.Column("key_hash", sa.String(64), nullable=False),
        sa.Column("created_at", sa.BigInteger(), nullable=False),
        sa.Column("revoked", sa.Boolean(), nullable=False),
        sa.PrimaryKeyConstraint("key_id", name="pk_verifier_api_keys"),
    )
    op.create_table(
        "verifier_signing_keys",
        sa.Column("id", sa.String(32), nullable=False),
        sa.Column("alg", sa.String(16), nullable=False),
        sa.Column("public_jwk", sa.Text(), nullable=False),
        sa.Column("sealed", sa.LargeBinary(), nullable=False),
        sa.Column("created_at", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_verifier_signing_keys"),
    )
    op.create_table(
        "verifier_sessions",
        sa.Column("id", sa.String(64), nullable=False),
        sa.Column("policy", sa.String(128), nullable=False),
        sa.Column("request_id", sa.String(64), nullable=False),
        sa.Column("client_id", sa.String(2048), nullable=False),
        sa.Column("nonce", sa.String(64), nullable=False),
        sa.Column("state", sa.String(64), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("created_at", sa.BigInteger(), nullable=False),
        sa.Column("expires_at", sa.BigInteger(), nullable=False),
        sa.Column("completed_at", sa.BigInteger(), nullable=True),
        sa.Column("verdict", sa.Text(), nullable=True),
        sa.Column("claims", sa.Text(), nullable=True),
        sa.Column("purge_at", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_verifier_sessions"),
        sa.UniqueConstraint("request_id", name="uq_verifier_sessions_request_id"),
        sa.UniqueConstraint("nonce", name="uq_verifier_sessions_nonce"),
        sa.UniqueConstraint("state", name="uq_verifier_sessions_state"),
    )
    op.create_index("ix_verifier_sessions_purge_at", "verifier_sessions", ["purge_at"])


def downgrade() -> None:
    op.drop_index("ix_verifier_sessions_purge_at", table_name="verifier_sessions")
    op.drop_table("verifier_sessions")
    op.drop_table("verifier_signing_keys")
    op.drop_table("verifier_api_keys")
