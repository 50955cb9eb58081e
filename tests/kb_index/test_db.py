from __future__ import annotations

import pytest
import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext

from kb_index import DatabaseUnavailable
from kb_index.db import SCHEMA, create_engine, upgrade
from kb_index.tables import metadata


def test_migrations_create_exactly_the_tables_the_code_uses(database_url: str) -> None:
    engine = create_engine(database_url)
    upgrade(engine)
    with engine.connect() as connection:
        context = MigrationContext.configure(
            connection, opts={"version_table": SCHEMA.version_table}
        )
        assert context.get_current_revision() == "0001"
        assert compare_metadata(context, metadata) == []
    SCHEMA.check_current(engine)
    assert sorted(sa.inspect(engine).get_table_names()) == [
        "alembic_version_kb",
        "kb_chunks",
        "kb_current",
        "kb_documents",
        "kb_feedback",
        "kb_misses",
        "kb_versions",
    ]
    engine.dispose()


def test_downgrade_to_base_removes_the_tables(database_url: str) -> None:
    engine = create_engine(database_url)
    upgrade(engine)
    SCHEMA.downgrade(engine, "base")
    assert sa.inspect(engine).get_table_names() == ["alembic_version_kb"]
    with pytest.raises(DatabaseUnavailable, match="schema at nothing, expected 0001"):
        SCHEMA.check_current(engine)
    engine.dispose()
