"""One package's schema (``core.database.Schema``) on SQLite and PostgreSQL, and
the one error every package raises for an unusable database."""

from __future__ import annotations

from pathlib import Path

import pytest
import sqlalchemy as sa

import actions
import handoff
import kb_index
from core import database
from core.database import DatabaseUnavailable, Schema, create_engine

ENV = "from core.database import run_migrations_in_env\n\nrun_migrations_in_env()\n"
FIRST = """
import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade():
    op.create_table("{table}", sa.Column("id", sa.Integer, primary_key=True))


def downgrade():
    op.drop_table("{table}")
"""
SECOND = """
import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade():
    op.add_column("{table}", sa.Column("text", sa.Text, nullable=True))


def downgrade():
    with op.batch_alter_table("{table}") as batch:
        batch.drop_column("text")
"""


class NotesUnavailable(DatabaseUnavailable):
    """What a package's own error looks like: the core error in its tree."""


def migrations(folder: Path, table: str) -> Path:
    """A package's migrations folder: two revisions of one table."""
    (folder / "versions").mkdir(parents=True)
    (folder / "env.py").write_text(ENV)
    (folder / "versions" / "0001_create.py").write_text(FIRST.format(table=table))
    (folder / "versions" / "0002_text.py").write_text(SECOND.format(table=table))
    return folder


def notes_schema(tmp_path: Path) -> Schema:
    return Schema(
        "notes",
        migrations(tmp_path / "notes", "notes"),
        fix="run `notes db upgrade`",
        error=NotesUnavailable,
    )


def tables(engine: sa.Engine) -> dict[str, list[str]]:
    inspector = sa.inspect(engine)
    return {
        name: [column["name"] for column in inspector.get_columns(name)]
        for name in sorted(inspector.get_table_names())
    }


def versions(engine: sa.Engine, *version_tables: str) -> dict[str, list[str]]:
    with engine.connect() as connection:
        return {
            table: [
                row[0] for row in connection.execute(sa.text(f"SELECT version_num FROM {table}"))
            ]
            for table in version_tables
        }


def test_a_schema_migrates_up_and_down_in_its_own_version_table(
    database_url: str, tmp_path: Path
) -> None:
    schema = notes_schema(tmp_path)
    engine = create_engine(database_url)
    assert (schema.version_table, schema.head()) == ("alembic_version_notes", "0002")

    schema.upgrade(engine, "0001")
    assert tables(engine) == {"alembic_version_notes": ["version_num"], "notes": ["id"]}
    schema.upgrade(engine)
    assert tables(engine) == {"alembic_version_notes": ["version_num"], "notes": ["id", "text"]}
    assert versions(engine, "alembic_version_notes") == {"alembic_version_notes": ["0002"]}
    schema.check_current(engine)  # current: nothing raised

    schema.downgrade(engine, "base")
    assert tables(engine) == {"alembic_version_notes": ["version_num"]}
    engine.dispose()


def test_two_schemas_share_a_database_and_migrate_independently(
    database_url: str, tmp_path: Path
) -> None:
    notes = notes_schema(tmp_path)
    tasks = Schema("tasks", migrations(tmp_path / "tasks", "tasks"), fix="run `tasks upgrade`")
    engine = create_engine(database_url)

    notes.upgrade(engine)
    tasks.upgrade(engine, "0001")
    assert versions(engine, "alembic_version_notes", "alembic_version_tasks") == {
        "alembic_version_notes": ["0002"],
        "alembic_version_tasks": ["0001"],
    }
    notes.check_current(engine)
    with pytest.raises(DatabaseUnavailable, match="schema at 0001, expected 0002"):
        tasks.check_current(engine)

    notes.downgrade(engine, "base")
    assert tables(engine) == {
        "alembic_version_notes": ["version_num"],
        "alembic_version_tasks": ["version_num"],
        "tasks": ["id"],
    }
    engine.dispose()


def test_an_old_schema_raises_the_packages_error_with_what_to_run(tmp_path: Path) -> None:
    schema = notes_schema(tmp_path)
    engine = create_engine(f"sqlite:///{tmp_path / 'app.db'}")
    url = f"sqlite:///{tmp_path / 'app.db'}"

    with pytest.raises(NotesUnavailable) as empty:
        schema.check_current(engine)
    schema.upgrade(engine, "0001")
    with pytest.raises(NotesUnavailable) as old:
        schema.check_current(engine)

    assert [(str(e.value), e.value.url, e.value.reason) for e in (empty, old)] == [
        (
            f"database {url}: schema at nothing, expected 0002: run `notes db upgrade`",
            url,
            "schema at nothing, expected 0002: run `notes db upgrade`",
        ),
        (
            f"database {url}: schema at 0001, expected 0002: run `notes db upgrade`",
            url,
            "schema at 0001, expected 0002: run `notes db upgrade`",
        ),
    ]
    engine.dispose()


def test_an_unreachable_database_is_named_without_its_password(tmp_path: Path) -> None:
    engine = create_engine("postgresql://nobody:secret@127.0.0.1:1/nothing")
    with pytest.raises(NotesUnavailable) as raised:
        notes_schema(tmp_path).check_current(engine)
    assert (str(raised.value), raised.value.url, raised.value.reason) == (
        "database postgresql+psycopg://nobody:***@127.0.0.1:1/nothing: "
        "unreachable (OperationalError)",
        "postgresql+psycopg://nobody:***@127.0.0.1:1/nothing",
        "unreachable (OperationalError)",
    )


def test_every_package_declares_only_its_schema_and_raises_the_one_error() -> None:
    root = Path(__file__).resolve().parents[2]
    assert [
        (schema.name, schema.version_table, schema.migrations, schema.fix, schema.error)
        for schema in (handoff.SCHEMA, actions.SCHEMA, kb_index.SCHEMA)
    ] == [
        (
            "handoff",
            "alembic_version_handoff",
            root / "handoff" / "migrations",
            "run `handoff db upgrade`",
            handoff.DatabaseUnavailable,
        ),
        (
            "actions",
            "alembic_version_actions",
            root / "actions" / "migrations",
            "run `make run` (it migrates)",
            database.DatabaseUnavailable,
        ),
        (
            "kb",
            "alembic_version_kb",
            root / "kb_index" / "migrations",
            "run `kb db upgrade`",
            kb_index.DatabaseUnavailable,
        ),
    ]
    # One error, in each package's own tree: ``except HandoffError`` and
    # ``except core.database.DatabaseUnavailable`` both catch handoff's.
    assert handoff.DatabaseUnavailable.__mro__[1:] == (
        handoff.HandoffError,
        database.DatabaseUnavailable,
        Exception,
        BaseException,
        object,
    )
    assert kb_index.DatabaseUnavailable.__mro__[1:] == (
        kb_index.KBError,
        database.DatabaseUnavailable,
        Exception,
        BaseException,
        object,
    )
    assert [
        vars(cls).get("__init__")
        for cls in (handoff.DatabaseUnavailable, kb_index.DatabaseUnavailable)
    ] == [None, None]
