"""Database access for the handoff package: engines and schema migrations.

The schema is owned by Alembic migrations in ``handoff/migrations`` with their
own version table, so other packages can migrate their tables in the same
database independently.
"""

from __future__ import annotations

from pathlib import Path

import sqlalchemy as sa
from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory

from handoff.errors import DatabaseUnavailable

VERSION_TABLE = "alembic_version_handoff"
MIGRATIONS = Path(__file__).parent / "migrations"
SQLITE_BUSY_TIMEOUT_SECONDS = 15
CONNECT_TIMEOUT_SECONDS = 5


def create_engine(url: str) -> sa.Engine:
    """An engine for ``url`` with timeouts; SQLite files get WAL and a busy timeout
    so several Frontline processes can share one file."""
    parsed = sa.make_url(url)
    if parsed.get_backend_name() == "sqlite":
        if parsed.database and parsed.database != ":memory:":
            Path(parsed.database).parent.mkdir(parents=True, exist_ok=True)
        engine = sa.create_engine(parsed, connect_args={"timeout": SQLITE_BUSY_TIMEOUT_SECONDS})

        @sa.event.listens_for(engine, "connect")
        def _pragmas(dbapi_connection, _record):  # type: ignore[no-untyped-def]
            cursor = dbapi_connection.cursor()
            cursor.execute("PRAGMA journal_mode=WAL")
            cursor.execute("PRAGMA foreign_keys=ON")
            cursor.close()

        return engine
    if parsed.get_backend_name() == "postgresql" and parsed.drivername == "postgresql":
        parsed = parsed.set(drivername="postgresql+psycopg")
    return sa.create_engine(
        parsed, pool_pre_ping=True, connect_args={"connect_timeout": CONNECT_TIMEOUT_SECONDS}
    )


def alembic_config(url: str) -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    config.set_main_option("version_table", VERSION_TABLE)
    return config


def upgrade(engine: sa.Engine, revision: str = "head") -> None:
    """Migrates the schema up to ``revision``."""
    with engine.begin() as connection:
        config = alembic_config(str(engine.url))
        config.attributes["connection"] = connection
        command.upgrade(config, revision)


def downgrade(engine: sa.Engine, revision: str) -> None:
    """Migrates the schema down to ``revision`` ("base" removes every table)."""
    with engine.begin() as connection:
        config = alembic_config(str(engine.url))
        config.attributes["connection"] = connection
        command.downgrade(config, revision)


def check_current(engine: sa.Engine) -> None:
    """Raises ``DatabaseUnavailable`` unless the database answers and its schema
    is at the newest migration."""
    shown = engine.url.render_as_string(hide_password=True)
    head = ScriptDirectory.from_config(alembic_config(shown)).get_current_head()
    try:
        with engine.connect() as connection:
            context = MigrationContext.configure(connection, opts={"version_table": VERSION_TABLE})
            current = context.get_current_revision()
    except sa.exc.SQLAlchemyError as error:
        raise DatabaseUnavailable(shown, f"unreachable ({error.__class__.__name__})") from error
    if current != head:
        raise DatabaseUnavailable(
            shown, f"schema at {current or 'nothing'}, expected {head}: run `handoff db upgrade`"
        )
