"""Alembic environment of the handoff tables (run through ``handoff.db``)."""

from __future__ import annotations

from alembic import context

from handoff.db import VERSION_TABLE, create_engine

config = context.config
connection = config.attributes.get("connection")


def run_migrations(conn) -> None:  # type: ignore[no-untyped-def]
    context.configure(connection=conn, version_table=VERSION_TABLE, render_as_batch=True)
    with context.begin_transaction():
        context.run_migrations()


if connection is not None:
    run_migrations(connection)
else:
    engine = create_engine(config.get_main_option("sqlalchemy.url") or "")
    with engine.begin() as conn:
        run_migrations(conn)
