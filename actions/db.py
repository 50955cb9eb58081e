"""The actions package's tables (one-time codes, conversation outcomes, account
requests; see ``actions.backends.tables``): engine and migrations
(``actions/migrations``, version table ``alembic_version_actions``)."""

from __future__ import annotations

from pathlib import Path

import sqlalchemy as sa

from core import database
from core.database import SchemaNotCurrent, create_engine

__all__ = [
    "VERSION_TABLE",
    "SchemaNotCurrent",
    "check_current",
    "create_engine",
    "downgrade",
    "upgrade",
]

VERSION_TABLE = "alembic_version_actions"
MIGRATIONS = Path(__file__).parent / "migrations"


def upgrade(engine: sa.Engine, revision: str = "head") -> None:
    """Creates or migrates the actions tables up to ``revision``."""
    database.migrate(engine, MIGRATIONS, VERSION_TABLE, revision)


def downgrade(engine: sa.Engine, revision: str) -> None:
    """Migrates down to ``revision`` ("base" removes every actions table)."""
    database.migrate(engine, MIGRATIONS, VERSION_TABLE, revision, down=True)


def check_current(engine: sa.Engine) -> None:
    """Raises ``SchemaNotCurrent`` (``url``, ``reason``) unless the database
    answers and the actions schema is at its newest migration."""
    database.check_current(engine, MIGRATIONS, VERSION_TABLE, "run `make run` (it migrates)")
