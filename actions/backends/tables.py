"""Frontline's own Tier 1 tables (in the application database, ``DATABASE_URL``).

They mirror ``actions/migrations/versions``; a test checks the two agree.
Migrate with ``actions.db.upgrade(engine)`` (``actions.db.SCHEMA``).
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from datetime import UTC, datetime
from typing import TypeVar

import sqlalchemy as sa

from actions.backends.errors import BackendUnavailable

T = TypeVar("T")
SYSTEM = "frontline-database"

metadata = sa.MetaData()

verification_codes = sa.Table(
    "verification_codes",
    metadata,
    sa.Column("id", sa.String(36), primary_key=True),
    sa.Column("conversation_id", sa.String(100), nullable=False, index=True),
    sa.Column("email_hash", sa.String(64), nullable=False),  # sha256 of the normalised email
    sa.Column("salt", sa.String(32), nullable=False),
    sa.Column("code_hash", sa.String(64), nullable=False),  # scrypt; never the code
    sa.Column("attempts", sa.Integer, nullable=False),
    sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("used_at", sa.DateTime(timezone=True), nullable=True),
    sa.Column("superseded_at", sa.DateTime(timezone=True), nullable=True),
)

conversation_outcomes = sa.Table(
    "conversation_outcomes",
    metadata,
    sa.Column("id", sa.String(36), primary_key=True),
    sa.Column("conversation_id", sa.String(100), nullable=False, index=True),
    sa.Column("category", sa.String(100), nullable=False),
    sa.Column("outcome", sa.String(30), nullable=False),
    sa.Column("detail", sa.Text, nullable=True),
    sa.Column("created_at", sa.DateTime(timezone=True), nullable=False, index=True),
)

account_requests = sa.Table(
    "account_requests",
    metadata,
    sa.Column("id", sa.String(36), primary_key=True),
    sa.Column("conversation_id", sa.String(100), nullable=False, index=True),
    sa.Column("customer_id", sa.String(100), nullable=False, index=True),
    sa.Column("kind", sa.String(50), nullable=False),
    sa.Column("reference", sa.String(100), nullable=True),
    sa.Column("effective_on", sa.Date, nullable=True),
    sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
)


def aware(value: datetime) -> datetime:
    """SQLite drops the zone; every time we store is UTC."""
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


async def run(engine: sa.Engine, operation: str, work: Callable[[sa.Connection], T]) -> T:
    """``work(connection)`` in one transaction, in a worker thread; database
    errors become ``BackendUnavailable``."""

    def in_thread() -> T:
        with engine.begin() as connection:
            return work(connection)

    try:
        return await asyncio.to_thread(in_thread)
    except sa.exc.SQLAlchemyError as error:
        raise BackendUnavailable(
            SYSTEM, f"database error ({error.__class__.__name__})", operation=operation
        ) from error
