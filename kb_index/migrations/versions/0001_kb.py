"""kb: index versions, their documents and passages, misses and feedback

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
        "kb_versions",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("status", sa.String(20), nullable=False),
        sa.Column("parent_id", sa.Integer, nullable=True),
        sa.Column("model", sa.String(500), nullable=False),
        sa.Column("dimension", sa.Integer, nullable=True),
        sa.Column("index_kind", sa.String(10), nullable=True),
        sa.Column("document_count", sa.Integer, nullable=False),
        sa.Column("chunk_count", sa.Integer, nullable=False),
        sa.Column("embedded_count", sa.Integer, nullable=False),
        sa.Column("reused_count", sa.Integer, nullable=False),
        sa.Column("folder", sa.String(200), nullable=False),
        sa.Column("source_dir", sa.Text, nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("finished_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("published_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("build_seconds", sa.Float, nullable=True),
        sa.Column("error", sa.Text, nullable=True),
    )
    op.create_table(
        "kb_current",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=False),
        sa.Column("version_id", sa.Integer, sa.ForeignKey("kb_versions.id"), nullable=False),
        sa.Column("changed_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_table(
        "kb_documents",
        sa.Column("version_id", sa.Integer, sa.ForeignKey("kb_versions.id"), primary_key=True),
        sa.Column("doc_id", sa.String(200), primary_key=True),
        sa.Column("title", sa.Text, nullable=False),
        sa.Column("category", sa.String(100), nullable=False),
        sa.Column("product", sa.String(100), nullable=False),
        sa.Column("locale", sa.String(20), nullable=False),
        sa.Column("tier", sa.Integer, nullable=False),
        sa.Column("tags", sa.JSON, nullable=False),
        sa.Column("url", sa.Text, nullable=False),
        sa.Column("updated", sa.Date, nullable=False),
        sa.Column("source", sa.Text, nullable=False),
        sa.Column("content_hash", sa.String(64), nullable=False),
    )
    op.create_table(
        "kb_chunks",
        sa.Column("version_id", sa.Integer, sa.ForeignKey("kb_versions.id"), primary_key=True),
        sa.Column("row", sa.Integer, primary_key=True, autoincrement=False),
        sa.Column("chunk_id", sa.String(300), nullable=False),
        sa.Column("doc_id", sa.String(200), nullable=False),
        sa.Column("position", sa.Integer, nullable=False),
        sa.Column("heading_path", sa.Text, nullable=False),
        sa.Column("text", sa.Text, nullable=False),
        sa.Column("line", sa.Integer, nullable=False),
        sa.Column("embed_hash", sa.String(64), nullable=False),
    )
    op.create_table(
        "kb_misses",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("conversation_id", sa.String(100), nullable=False),
        sa.Column("query", sa.Text, nullable=False),
        sa.Column("best_score", sa.Float, nullable=True),
        sa.Column("doc_id", sa.String(200), nullable=True),
        sa.Column("version_id", sa.Integer, nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_index("ix_kb_misses_conversation_id", "kb_misses", ["conversation_id"])
    op.create_index("ix_kb_misses_created_at", "kb_misses", ["created_at"])
    op.create_table(
        "kb_feedback",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("conversation_id", sa.String(100), nullable=False),
        sa.Column("query", sa.Text, nullable=False),
        sa.Column("doc_ids_shown", sa.JSON, nullable=False),
        sa.Column("helpful", sa.Boolean, nullable=False),
        sa.Column("version_id", sa.Integer, nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_index("ix_kb_feedback_conversation_id", "kb_feedback", ["conversation_id"])


def downgrade() -> None:
    op.drop_table("kb_feedback")
    op.drop_table("kb_misses")
    op.drop_table("kb_chunks")
    op.drop_table("kb_documents")
    op.drop_table("kb_current")
    op.drop_table("kb_versions")
