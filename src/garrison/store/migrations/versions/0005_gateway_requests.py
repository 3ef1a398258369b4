"""Gateway requests: one row per decision, linked to its audit record.

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-27
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "gateway_requests",
        sa.Column(
            "id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=True,
            nullable=False,
        ),
        sa.Column("request_id", sa.String(length=160), nullable=False),
        sa.Column("ts", sa.String(length=32), nullable=False),
        sa.Column("key_id", sa.String(length=100), nullable=True),
        sa.Column("owner", sa.Text(), nullable=True),
        sa.Column("route", sa.String(length=32), nullable=False),
        sa.Column("model", sa.Text(), nullable=True),
        sa.Column("status", sa.Integer(), nullable=False),
        sa.Column("decision", sa.String(length=16), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("prompt_tokens", sa.Integer(), nullable=False),
        sa.Column("completion_tokens", sa.Integer(), nullable=False),
        sa.Column("latency_ms", sa.Float(), nullable=False),
        sa.Column("upstream_ms", sa.Float(), nullable=True),
        sa.Column("guards", sa.Text(), nullable=False),
        sa.Column("prompt", sa.Text(), nullable=False),
        sa.Column("completion", sa.Text(), nullable=False),
        sa.Column("audit_seq", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index(
        "ix_gateway_requests_request_id", "gateway_requests", ["request_id"], unique=True
    )
    op.create_index("ix_gateway_requests_ts", "gateway_requests", ["ts"])
    op.create_index("ix_gateway_requests_key_id", "gateway_requests", ["key_id"])
    op.create_index("ix_gateway_requests_decision", "gateway_requests", ["decision"])


def downgrade() -> None:
    op.drop_index("ix_gateway_requests_decision", table_name="gateway_requests")
    op.drop_index("ix_gateway_requests_key_id", table_name="gateway_requests")
    op.drop_index("ix_gateway_requests_ts", table_name="gateway_requests")
    op.drop_index("ix_gateway_requests_request_id", table_name="gateway_requests")
    op.drop_table("gateway_requests")
