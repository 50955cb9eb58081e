"""The handoff tables' schema: migrations in ``handoff/migrations``, version
table ``alembic_version_handoff`` (``core.database.Schema`` does the work)."""

from __future__ import annotations

from pathlib import Path

from core.database import Schema, create_engine
from handoff.errors import DatabaseUnavailable

__all__ = ["SCHEMA", "create_engine", "upgrade"]

SCHEMA = Schema(
    "handoff",
    Path(__file__).parent / "migrations",
    fix="run `handoff db upgrade`",
    error=DatabaseUnavailable,
)
upgrade = SCHEMA.upgrade
