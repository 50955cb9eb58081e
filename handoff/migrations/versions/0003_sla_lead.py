"""SLA: when an unclaimed escalation goes to the leads, and when it did

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-24
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("escalations") as batch:
        batch.add_column(sa.Column("sla_lead_at", sa.DateTime(timezone=True), nullable=True))
        batch.add_column(sa.Column("lead_notified_at", sa.DateTime(timezone=True), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("escalations") as batch:
        batch.drop_column("lead_notified_at")
        batch.drop_column("sla_lead_at")
