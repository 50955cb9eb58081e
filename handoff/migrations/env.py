"""Alembic environment of the handoff tables (run through ``handoff.db``)."""

from core.database import run_migrations_in_env

run_migrations_in_env()
