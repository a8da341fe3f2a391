"""scenario_records: what scenario plugins keep (form history, drafts, locker state, ...).

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-28
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0004"
down_revision: str | Sequence[str] | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

BigInt = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "scenario_records",
        sa.Column("id", BigInt, autoincrement=True, nullable=False),
        sa.Column("scenario", sa.String(64), nullable=False),
        sa.Column("kind", sa.String(64), nullable=False),
        sa.Column("key", sa.String(128), nullable=False),
        sa.Column("state", sa.String(32), nullable=False),
        sa.Column("holder_hash", sa.String(64), nullable=True),
        sa.Column("data", sa.LargeBinary(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("updated_at", sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_scenario_records"),
        sa.UniqueConstraint("scenario", "kind", "key",
                            name="uq_scenario_records_scenario_kind_key"),
    )
    op.create_index("ix_scenario_records_holder", "scenario_records",
                    ["scenario", "kind", "holder_hash"])
    op.create_index("ix_scenario_records_state", "scenario_records",
                    ["scenario", "kind", "state"])


def downgrade() -> None:
    op.drop_table("scenario_records")
