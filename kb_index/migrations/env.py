"""Alembic environment of the kb tables (run through ``kb_index.db``)."""

from core.database import run_migrations_in_env

run_migrations_in_env()
