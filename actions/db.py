"""The actions tables' schema (one-time codes, conversation outcomes, account
requests; see ``actions.backends.tables``): migrations in ``actions/migrations``
(not a package: rasa-sdk imports every module under ``actions/``), version table
``alembic_version_actions`` (``core.database.Schema`` does the work)."""

from __future__ import annotations

from pathlib import Path

from core.database import Schema, create_engine

__all__ = ["SCHEMA", "create_engine", "upgrade"]

SCHEMA = Schema("actions", Path(__file__).parent / "migrations", fix="run `make run` (it migrates)")
upgrade = SCHEMA.upgrade
