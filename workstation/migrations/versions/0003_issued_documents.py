"""issued_documents and print_jobs: verification codes, PDF digests, idempotent prints.

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-27
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0003"
down_revision: str | Sequence[str] | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# Matches tables.BigInt: 64-bit on PostgreSQL, INTEGER (rowid alias) on SQLite.
BigInt = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "issued_documents",
        sa.Column("code", sa.String(16), nullable=False),
        sa.Column("kind", sa.String(64), nullable=False),
        sa.Column("title", sa.String(100), nullable=False),
        sa.Column("sha256", sa.String(64), nullable=False),
        sa.Column("pages", sa.Integer(), nullable=False),
        sa.Column("size_bytes", sa.Integer(), nullable=False),
        sa.Column("issuing_unit", sa.String(100), nullable=False),
        sa.Column("purpose", sa.String(200), nullable=False),
        sa.Column("workstation_id", sa.String(32), nullable=False),
        sa.Column("operator", sa.String(64), nullable=True),
        sa.Column("scenario", sa.String(64), nullable=True),
        sa.Column("case_number", sa.String(64), nullable=True),
        sa.Column("holder_hash", sa.String(64), nullable=True),
        sa.Column("issued_at", sa.DateTime(), nullable=False),
        sa.Column("registered_at", sa.DateTime(), nullable=True),
        sa.PrimaryKeyConstraint("code", name="pk_issued_documents"),
    )
    op.create_index("ix_issued_documents_holder_hash", "issued_documents", ["holder_hash"])
    op.create_index("ix_issued_documents_issued_at", "issued_documents", ["issued_at"])

    op.create_table(
        "print_jobs",
        sa.Column("id", BigInt, autoincrement=True, nullable=False),
        sa.Column("idempotency_key", sa.String(40), nullable=False),
        sa.Column("document_code", sa.String(16), nullable=False),
        sa.Column("destination", sa.String(16), nullable=False),
        sa.Column("printer", sa.String(128), nullable=True),
        sa.Column("cups_job_id", sa.Integer(), nullable=True),
        sa.Column("state", sa.String(16), nullable=False),
        sa.Column("problem", sa.String(32), nullable=True),
        sa.Column("submitted_at", sa.DateTime(), nullable=False),
        sa.Column("updated_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["document_code"], ["issued_documents.code"],
            name="fk_print_jobs_document_code_issued_documents", ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name="pk_print_jobs"),
        sa.UniqueConstraint("idempotency_key", name="uq_print_jobs_idempotency_key"),
    )
    op.create_index("ix_print_jobs_document_code", "print_jobs", ["document_code"])


def downgrade() -> None:
    op.drop_table("print_jobs")
    op.drop_table("issued_documents")
