"""Initial schema: operators, consents, licence cache, audit chain, seen codes, outbox.

Revision ID: 0001
Revises:
Create Date: 2025-01-01
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0001"
down_revision: str | Sequence[str] | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

GENESIS_HASH = "0" * 64
# Matches tables.BigInt: 64-bit on PostgreSQL, INTEGER (rowid alias) on SQLite.
BigInt = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "operators",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("username", sa.String(64), nullable=False),
        sa.Column("display_name", sa.String(100), nullable=False),
        sa.Column("password_hash", sa.String(255), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("last_sign_in_at", sa.DateTime(), nullable=True),
        sa.PrimaryKeyConstraint("id", name="pk_operators"),
        sa.UniqueConstraint("username", name="uq_operators_username"),
    )

    op.create_table(
        "consents",
        sa.Column("id", sa.String(36), nullable=False),
        sa.Column("consent_ref", sa.String(128), nullable=True),
        sa.Column("holder_hash", sa.String(64), nullable=False),
        sa.Column("holder_kind", sa.String(16), nullable=False),
        sa.Column("identified_by", sa.String(16), nullable=False),
        sa.Column("applicant_name", sa.LargeBinary(), nullable=False),
        sa.Column("purpose", sa.String(200), nullable=False),
        sa.Column("matter_code", sa.String(64), nullable=False),
        sa.Column("licence_types", sa.JSON(), nullable=False),
        sa.Column("scenario", sa.String(64), nullable=False),
        sa.Column("decision", sa.String(16), nullable=False),
        sa.Column("channel", sa.String(16), nullable=False),
        sa.Column("workstation_id", sa.String(32), nullable=False),
        sa.Column("operator", sa.String(64), nullable=True),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("expires_at", sa.DateTime(), nullable=False),
        sa.Column("revoked_at", sa.DateTime(), nullable=True),
        sa.PrimaryKeyConstraint("id", name="pk_consents"),
    )
    op.create_index("ix_consents_consent_ref", "consents", ["consent_ref"])
    op.create_index("ix_consents_holder_hash", "consents", ["holder_hash"])

    op.create_table(
        "licence_cache",
        sa.Column("id", BigInt, autoincrement=True, nullable=False),
        sa.Column("licence_id", sa.String(128), nullable=False),
        sa.Column("holder_hash", sa.String(64), nullable=False),
        sa.Column("type_key", sa.String(64), nullable=False),
        sa.Column("licence_data", sa.LargeBinary(), nullable=False),
        sa.Column("thumbnail", sa.LargeBinary(), nullable=True),
        sa.Column("fetched_at", sa.DateTime(), nullable=False),
        sa.Column("expires_at", sa.DateTime(), nullable=False),
        sa.Column("consent_id", sa.String(36), nullable=True),
        sa.ForeignKeyConstraint(
            ["consent_id"], ["consents.id"], name="fk_licence_cache_consent_id_consents",
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name="pk_licence_cache"),
        sa.UniqueConstraint("licence_id", name="uq_licence_cache_licence_id"),
    )
    op.create_index(
        "ix_licence_cache_lookup", "licence_cache", ["holder_hash", "type_key", "expires_at"]
    )
    op.create_index("ix_licence_cache_expires_at", "licence_cache", ["expires_at"])

    op.create_table(
        "audit_events",
        sa.Column("seq", BigInt, autoincrement=False, nullable=False),
        sa.Column("time", sa.DateTime(), nullable=False),
        sa.Column("kind", sa.String(64), nullable=False),
        sa.Column("workstation_id", sa.String(32), nullable=False),
        sa.Column("operator", sa.String(64), nullable=True),
        sa.Column("scenario", sa.String(64), nullable=True),
        sa.Column("holder_hash", sa.String(64), nullable=True),
        sa.Column("details", sa.Text(), nullable=False),
        sa.Column("prev_hash", sa.String(64), nullable=False),
        sa.Column("row_hash", sa.String(64), nullable=False),
        sa.PrimaryKeyConstraint("seq", name="pk_audit_events"),
    )
    op.create_index("ix_audit_events_time", "audit_events", ["time"])
    op.create_index("ix_audit_events_kind", "audit_events", ["kind"])
    op.create_index("ix_audit_events_holder_hash", "audit_events", ["holder_hash"])

    head = op.create_table(
        "audit_chain_head",
        sa.Column("id", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("last_seq", BigInt, nullable=False),
        sa.Column("last_hash", sa.String(64), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_audit_chain_head"),
    )
    op.bulk_insert(head, [{"id": 1, "last_seq": 0, "last_hash": GENESIS_HASH}])

    op.create_table(
        "seen_codes",
        sa.Column("jti_hash", sa.String(64), nullable=False),
        sa.Column("expires_at", sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint("jti_hash", name="pk_seen_codes"),
    )
    op.create_index("ix_seen_codes_expires_at", "seen_codes", ["expires_at"])

    op.create_table(
        "outbox",
        sa.Column("id", BigInt, autoincrement=True, nullable=False),
        sa.Column("kind", sa.String(64), nullable=False),
        sa.Column("idempotency_key", sa.String(128), nullable=False),
        sa.Column("payload", sa.LargeBinary(), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("last_error", sa.Text(), nullable=True),
        sa.Column("next_attempt_at", sa.DateTime(), nullable=True),
        sa.Column("sent_at", sa.DateTime(), nullable=True),
        sa.PrimaryKeyConstraint("id", name="pk_outbox"),
        sa.UniqueConstraint("idempotency_key", name="uq_outbox_idempotency_key"),
    )
    op.create_index("ix_outbox_sent_at", "outbox", ["sent_at"])


def downgrade() -> None:
    op.drop_table("outbox")
    op.drop_table("seen_codes")
    op.drop_table("audit_chain_head")
    op.drop_table("audit_events")
    op.drop_table("licence_cache")
    op.drop_table("consents")
    op.drop_table("operators")
