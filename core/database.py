"""Engines and schema migrations shared by Frontline's packages (app environment).

Each package that owns tables declares one ``Schema``: its Alembic migrations
folder and its own version table (``alembic_version_<name>``), so packages
migrate the same database independently::

    SCHEMA = Schema("handoff", Path(__file__).parent / "migrations",
                    fix="run `handoff db upgrade`", error=DatabaseUnavailable)
    SCHEMA.upgrade(engine)        # create or migrate to the newest revision
    SCHEMA.check_current(engine)  # raises ``error`` unless reachable and current

``DatabaseUnavailable`` (``url``, ``reason``) is the one error for "unreachable
or not migrated"; a package whose errors share a base subclasses it into its
own tree (``handoff.errors``, ``kb_index.errors``) and hands that to its schema.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import sqlalchemy as sa
from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory

from core.sqlite_wal import enable_wal

SQLITE_BUSY_TIMEOUT_SECONDS = 15
CONNECT_TIMEOUT_SECONDS = 5


class DatabaseUnavailable(Exception):
    """The database cannot be reached or a package's schema is not current."""

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


@dataclass(frozen=True)
class Schema:
    """One package's tables: where its migrations are and how to tell them apart.

    ``name`` makes the version table ``alembic_version_<name>``; ``fix`` ends the
    message of an old schema (how to migrate); ``error`` is what
    ``check_current`` raises (``DatabaseUnavailable`` or a subclass)."""

    name: str
    migrations: Path
    fix: str
    error: type[DatabaseUnavailable] = DatabaseUnavailable

    @property
    def version_table(self) -> str:
        return f"alembic_version_{self.name}"

    def head(self) -> str | None:
        """The newest revision of the migrations folder."""
        return ScriptDirectory.from_config(self._config("")).get_current_head()

    def upgrade(self, engine: sa.Engine, revision: str = "head") -> None:
        """Creates or migrates the package's tables up to ``revision``."""
        self._migrate(engine, revision, down=False)

    def downgrade(self, engine: sa.Engine, revision: str) -> None:
        """Migrates down to ``revision`` ("base" removes every table of the package)."""
        self._migrate(engine, revision, down=True)

    def check_current(self, engine: sa.Engine) -> None:
        """Raises ``error`` (``url``, ``reason``) unless the database answers and
        the package's schema is at its newest migration."""
        url = shown(engine)
        head = self.head()
        try:
            with engine.connect() as connection:
                context = MigrationContext.configure(
                    connection, opts={"version_table": self.version_table}
                )
                current = context.get_current_revision()
        except sa.exc.SQLAlchemyError as error:
            raise self.error(url, f"unreachable ({error.__class__.__name__})") from error
        if current != head:
            raise self.error(url, f"schema at {current or 'nothing'}, expected {head}: {self.fix}")

    def _migrate(self, engine: sa.Engine, revision: str, down: bool) -> None:
        with engine.begin() as connection:
            config = self._config(shown(engine))
            config.attributes["connection"] = connection
            if down:
                command.downgrade(config, revision)
            else:
                command.upgrade(config, revision)

    def _config(self, url: str) -> Config:
        config = Config()
        config.set_main_option("script_location", str(self.migrations))
        config.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
        config.set_main_option("version_table", self.version_table)
        return config


def run_migrations_in_env() -> None:
    """Body of every package's ``migrations/env.py``: run against the connection
    handed over by ``Schema.upgrade``/``downgrade`` (or a new engine from the
    configured URL, when Alembic's own command line runs it)."""
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
