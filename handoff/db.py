"""The handoff package's tables: engine and migrations (``handoff/migrations``)."""

from __future__ import annotations

from pathlib import Path

import sqlalchemy as sa

from core import database
from core.database import create_engine
from handoff.errors import DatabaseUnavailable

__all__ = ["VERSION_TABLE", "check_current", "create_engine", "downgrade", "upgrade"]

VERSION_TABLE = "alembic_version_handoff"
MIGRATIONS = Path(__file__).parent / "migrations"


def upgrade(engine: sa.Engine, revision: str = "head") -> None:
    """Creates or migrates the handoff tables up to ``revision``."""
    database.migrate(engine, MIGRATIONS, VERSION_TABLE, revision)


def downgrade(engine: sa.Engine, revision: str) -> None:
    """Migrates down to ``revision`` ("base" removes every handoff table)."""
    database.migrate(engine, MIGRATIONS, VERSION_TABLE, revision, down=True)


def check_current(engine: sa.Engine) -> None:
    """Raises ``DatabaseUnavailable`` unless the handoff schema is current."""
    try:
        database.check_current(engine, MIGRATIONS, VERSION_TABLE, "run `handoff db upgrade`")
    except database.SchemaNotCurrent as error:
        raise DatabaseUnavailable(error.url, error.reason) from error
