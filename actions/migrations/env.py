"""Alembic environment of the actions tables (run through ``actions.db``)."""

from core.database import run_migrations_in_env

run_migrations_in_env()
