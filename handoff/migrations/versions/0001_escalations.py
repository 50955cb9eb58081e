"""escalations: the durable queue of conversations handed to humans

Revision ID: 0001
Revises:
Create Date: 2026-11-24
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "escalations",
        sa.Column("id", sa.String(36), primary_key=True),
        sa.Column("idempotency_key", sa.String(200), nullable=False, unique=True),
        sa.Column("conversation_id", sa.String(100), nullable=False, index=True),
        sa.Column("tier", sa.Integer, nullable=False),
        sa.Column("queue", sa.String(100), nullable=False),
        sa.Column("category", sa.String(100), nullable=False),
        sa.Column("priority", sa.String(2), nullable=False),
        sa.Column("status", sa.String(20), nullable=False, index=True),
        sa.Column("summary", sa.Text, nullable=False),
        sa.Column("transcript", sa.JSON, nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
    )


def downgrade() -> None:
    op.drop_table("escalations")
