"""Dataset fingerprints.

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-26
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "dataset_fingerprints",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("root", sa.String(length=64), nullable=False),
        sa.Column("name", sa.String(length=500), nullable=False),
        sa.Column("path", sa.Text(), nullable=False),
        sa.Column("rows", sa.BigInteger(), nullable=False),
        sa.Column("created_at", sa.String(length=32), nullable=False),
        sa.Column("manifest", sa.Text(), nullable=False),
        sa.Column("rows_file", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_dataset_fingerprints_root", "dataset_fingerprints", ["root"])
    op.create_index("ix_dataset_fingerprints_name", "dataset_fingerprints", ["name"])


def downgrade() -> None:
    op.drop_index("ix_dataset_fingerprints_name", table_name="dataset_fingerprints")
    op.drop_index("ix_dataset_fingerprints_root", table_name="dataset_fingerprints")
    op.drop_table("dataset_fingerprints")
