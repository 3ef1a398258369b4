"""The AI asset inventory and the latest verdict of each area on each asset.

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-25
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "inventory_assets",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("uri", sa.Text(), nullable=False),
        sa.Column("category", sa.String(length=32), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("path", sa.Text(), nullable=False),
        sa.Column("location", sa.Text(), nullable=False),
        sa.Column("detail", sa.Text(), nullable=False),
        sa.Column("digest", sa.String(length=64), nullable=True),
        sa.Column("first_seen", sa.String(length=32), nullable=False),
        sa.Column("last_seen", sa.String(length=32), nullable=False),
        sa.Column("owner", sa.String(length=200), nullable=True),
        sa.Column("risk_tier", sa.String(length=16), nullable=True),
        sa.Column("classification", sa.Text(), nullable=True),
        sa.Column("classified_by", sa.String(length=200), nullable=True),
        sa.Column("classified_at", sa.String(length=32), nullable=True),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("uri"),
    )
    op.create_index("ix_inventory_assets_category", "inventory_assets", ["category"])
    op.create_index("ix_inventory_assets_risk_tier", "inventory_assets", ["risk_tier"])
    op.create_table(
        "inventory_verdicts",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("asset_id", sa.Integer(), nullable=False),
        sa.Column("area", sa.String(length=32), nullable=False),
        sa.Column("passed", sa.Boolean(), nullable=False),
        sa.Column("max_severity", sa.String(length=16), nullable=True),
        sa.Column("findings", sa.Integer(), nullable=False),
        sa.Column("ts", sa.String(length=32), nullable=False),
        sa.ForeignKeyConstraint(["asset_id"], ["inventory_assets.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("asset_id", "area"),
    )


def downgrade() -> None:
    op.drop_table("inventory_verdicts")
    op.drop_index("ix_inventory_assets_risk_tier", table_name="inventory_assets")
    op.drop_index("ix_inventory_assets_category", table_name="inventory_assets")
    op.drop_table("inventory_assets")
