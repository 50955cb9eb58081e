"""The kb tables' schema: migrations in ``kb_index/migrations``, version table
``alembic_version_kb`` (``core.database.Schema`` does the work)."""

from __future__ import annotations

from pathlib import Path

from core.database import Schema, create_engine
from kb_index.errors import DatabaseUnavailable

__all__ = ["SCHEMA", "create_engine", "upgrade"]

SCHEMA = Schema(
    "kb",
    Path(__file__).parent / "migrations",
    fix="run `kb db upgrade`",
    error=DatabaseUnavailable,
)
upgrade = SCHEMA.upgrade
