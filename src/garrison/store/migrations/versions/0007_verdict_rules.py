"""Which rules fired in each latest verdict, so findings can be counted per framework.

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-25
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # JSON text {rule id: count}; verdicts recorded before this revision named no rules.
    op.add_column(
        "inventory_verdicts",
        sa.Column("rules", sa.Text(), nullable=False, server_default="{}"),
    )


def downgrade() -> None:
    with op.batch_alter_table("inventory_verdicts") as batch:
        batch.drop_column("rules")
