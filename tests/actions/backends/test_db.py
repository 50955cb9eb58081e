"""Migrations of the actions tables (SQLite and PostgreSQL)."""

from __future__ import annotations

import pytest
import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext

from actions.backends.tables import metadata
from actions.db import SCHEMA, create_engine, upgrade
from core.database import DatabaseUnavailable


def test_migrations_create_exactly_the_tables_the_code_uses(database_url: str) -> None:
    engine = create_engine(database_url)
    upgrade(engine)
    with engine.connect() as connection:
        context = MigrationContext.configure(
            connection, opts={"version_table": SCHEMA.version_table}
        )
        assert context.get_current_revision() == "0001"
        assert compare_metadata(context, metadata) == []
    assert sorted(sa.inspect(engine).get_table_names()) == [
        "account_requests",
        "alembic_version_actions",
        "conversation_outcomes",
        "verification_codes",
    ]
    SCHEMA.check_current(engine)
    engine.dispose()


def test_downgrade_to_base_removes_the_tables(database_url: str) -> None:
    engine = create_engine(database_url)
    upgrade(engine)
    SCHEMA.downgrade(engine, "base")
    assert sa.inspect(engine).get_table_names() == ["alembic_version_actions"]
    with pytest.raises(DatabaseUnavailable, match="schema at nothing, expected 0001"):
        SCHEMA.check_current(engine)
    engine.dispose()


def test_the_migrations_folder_is_not_a_package() -> None:
    # rasa-sdk imports every module of every package under actions/: the
    # migrations must stay out of its reach.
    assert SCHEMA.migrations.is_dir()
    assert [path.name for path in SCHEMA.migrations.rglob("__init__.py")] == []
