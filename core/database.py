"""Engines and schema migrations shared by Frontline's packages (app environment).

Each package that owns tables keeps its own Alembic migrations folder and its
own version table (``alembic_version_<package>``), so packages migrate the same
database independently. Its ``db`` module wraps these helpers with its folder
and table name; see ``handoff/db.py``.
"""

from __future__ import annotations

from pathlib import Path

import sqlalchemy as sa
from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory

from core.sqlite_wal import enable_wal

SQLITE_BUSY_TIMEOUT_SECONDS = 15
CONNECT_TIMEOUT_SECONDS = 5


class SchemaNotCurrent(Exception):
    """The database is unreachable or its schema is not at the newest migration."""

    def __init__(self, url: str, reason: str) -> None:
        super().__init__(f"database {url}: {reason}")
        self.url = url
        self.reason = reason


def create_engine(url: str) -> sa.Engine:
    """An engine for ``url`` with timeouts. SQLite files get WAL and a busy
    timeout so several Frontline processes can share one file; a plain
    ``postgresql://`` URL uses psycopg 3.

    Errors never carry the statement's values (``hide_parameters``): they are
    customer messages, transcripts and e-mail addresses, and errors get logged."""
    parsed = sa.make_url(url)
    if parsed.get_backend_name() == "sqlite":
        if parsed.database and parsed.database != ":memory:":
            Path(parsed.database).parent.mkdir(parents=True, exist_ok=True)
        engine = sa.create_engine(
            parsed,
            connect_args={"timeout": SQLITE_BUSY_TIMEOUT_SECONDS},
            hide_parameters=True,
        )

        @sa.event.listens_for(engine, "connect")
        def _pragmas(dbapi_connection, _record):  # type: ignore[no-untyped-def]
            enable_wal(dbapi_connection, SQLITE_BUSY_TIMEOUT_SECONDS)
            cursor = dbapi_connection.cursor()
            cursor.execute("PRAGMA foreign_keys=ON")
            cursor.close()

        return engine
    if parsed.get_backend_name() == "postgresql" and parsed.drivername == "postgresql":
        parsed = parsed.set(drivername="postgresql+psycopg")
    return sa.create_engine(
        parsed,
        pool_pre_ping=True,
        connect_args={"connect_timeout": CONNECT_TIMEOUT_SECONDS},
        hide_parameters=True,
    )


def shown(engine: sa.Engine) -> str:
    """The engine's URL without its password, for messages."""
    return engine.url.render_as_string(hide_password=True)


def alembic_config(url: str, migrations: Path, version_table: str) -> Config:
    config = Config()
    config.set_main_option("script_location", str(migrations))
    config.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    config.set_main_option("version_table", version_table)
    config.attributes["version_table"] = version_table
    return config


def migrate(
    engine: sa.Engine, migrations: Path, version_table: str, revision: str, down: bool = False
) -> None:
    """Runs the package's migrations up (or down) to ``revision``."""
    with engine.begin() as connection:
        config = alembic_config(shown(engine), migrations, version_table)
        config.attributes["connection"] = connection
        if down:
            command.downgrade(config, revision)
        else:
            command.upgrade(config, revision)


def check_current(engine: sa.Engine, migrations: Path, version_table: str, hint: str) -> None:
    """Raises ``SchemaNotCurrent`` unless the database answers and the package's
    schema is at its newest migration; ``hint`` says how to fix an old schema."""
    url = shown(engine)
    head = ScriptDirectory.from_config(
        alembic_config(url, migrations, version_table)
    ).get_current_head()
    try:
        with engine.connect() as connection:
            context = MigrationContext.configure(connection, opts={"version_table": version_table})
            current = context.get_current_revision()
    except sa.exc.SQLAlchemyError as error:
        raise SchemaNotCurrent(url, f"unreachable ({error.__class__.__name__})") from error
    if current != head:
        raise SchemaNotCurrent(url, f"schema at {current or 'nothing'}, expected {head}: {hint}")


def run_migrations_in_env() -> None:
    """Body of every package's ``migrations/env.py``: run against the connection
    handed over by ``migrate`` (or a new engine from the configured URL)."""
    from alembic import context

    config = context.config
    version_table = config.get_main_option("version_table")

    def run(connection: sa.Connection) -> None:
        context.configure(connection=connection, version_table=version_table, render_as_batch=True)
        with context.begin_transaction():
            context.run_migrations()

    connection = config.attributes.get("connection")
    if connection is not None:
        run(connection)
        return
    engine = create_engine(config.get_main_option("sqlalchemy.url") or "")
    with engine.begin() as new_connection:
        run(new_connection)
