"""outbox, relayed messages and Slack event dedupe; escalation ownership fields

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-24
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("escalations") as batch:
        batch.add_column(sa.Column("parent_id", sa.String(36), nullable=True))
        batch.add_column(sa.Column("team", sa.String(100), nullable=False, server_default=""))
        batch.add_column(sa.Column("language", sa.String(10), nullable=False, server_default="en"))
        batch.add_column(sa.Column("customer", sa.JSON, nullable=True))
        batch.add_column(sa.Column("context", sa.JSON, nullable=True))
        batch.add_column(sa.Column("slack_channel", sa.String(100), nullable=True))
        batch.add_column(sa.Column("slack_ts", sa.String(40), nullable=True))
        batch.add_column(sa.Column("claimed_by", sa.String(50), nullable=True))
        batch.add_column(sa.Column("claimed_by_name", sa.String(200), nullable=True))
        batch.add_column(sa.Column("claimed_at", sa.DateTime(timezone=True), nullable=True))
        batch.add_column(sa.Column("closed_at", sa.DateTime(timezone=True), nullable=True))
        batch.add_column(sa.Column("sla_due_at", sa.DateTime(timezone=True), nullable=True))
        batch.add_column(sa.Column("reminded_at", sa.DateTime(timezone=True), nullable=True))
        batch.add_column(sa.Column("csat_score", sa.Integer, nullable=True))
        batch.add_column(sa.Column("csat_comment", sa.Text, nullable=True))
        batch.create_index("ix_escalations_slack_ts", ["slack_ts"])

    op.create_table(
        "outbox",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("escalation_id", sa.String(36), nullable=False, index=True),
        sa.Column("kind", sa.String(40), nullable=False),
        sa.Column("payload", sa.JSON, nullable=False),
        sa.Column("dedupe_key", sa.String(200), nullable=False, unique=True),
        sa.Column("status", sa.String(10), nullable=False),
        sa.Column("attempts", sa.Integer, nullable=False, server_default="0"),
        sa.Column("next_attempt_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("last_error", sa.Text, nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("done_at", sa.DateTime(timezone=True), nullable=True),
    )
    op.create_index("ix_outbox_due", "outbox", ["status", "next_attempt_at"])

    op.create_table(
        "slack_events",
        sa.Column("event_id", sa.String(100), primary_key=True),
        sa.Column("received_at", sa.DateTime(timezone=True), nullable=False),
    )


def downgrade() -> None:
    op.drop_table("slack_events")
    op.drop_index("ix_outbox_due", table_name="outbox")
    op.drop_table("outbox")
    with op.batch_alter_table("escalations") as batch:
        batch.drop_index("ix_escalations_slack_ts")
        for column in (
            "csat_comment", "csat_score", "reminded_at", "sla_due_at", "closed_at",
            "claimed_at", "claimed_by_name", "claimed_by", "slack_ts", "slack_channel",
            "context", "customer", "language", "team", "parent_id",
        ):  # fmt: skip
            batch.drop_column(column)
