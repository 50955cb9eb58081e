"""The durable escalation queue: every handoff is written here before anything
is sent to Slack, so nothing is lost when Slack or this service is down."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import sqlalchemy as sa

from handoff.errors import EscalationNotFound

metadata = sa.MetaData()

# Mirrors migrations/versions; tests check the two agree.
escalations = sa.Table(
    "escalations",
    metadata,
    sa.Column("id", sa.String(36), primary_key=True),
    sa.Column("idempotency_key", sa.String(200), nullable=False, unique=True),
    sa.Column("conversation_id", sa.String(100), nullable=False, index=True),
    sa.Column("tier", sa.Integer, nullable=False),
    sa.Column("queue", sa.String(100), nullable=False),
    sa.Column("category", sa.String(100), nullable=False),
    sa.Column("priority", sa.String(2), nullable=False),
    sa.Column("status", sa.String(20), nullable=False, index=True),
    sa.Column("summary", sa.Text, nullable=False),
    sa.Column("transcript", sa.JSON, nullable=False),
    sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
)

STATUSES = ("queued", "posted", "claimed", "resolved", "returned")


@dataclass(frozen=True)
class Escalation:
    """One conversation handed to a human queue."""

    conversation_id: str
    idempotency_key: str
    tier: int
    queue: str
    category: str
    priority: str
    summary: str
    transcript: list[dict[str, Any]] = field(default_factory=list)
    status: str = "queued"
    id: str = field(default_factory=lambda: str(uuid.uuid4()))
    created_at: datetime = field(default_factory=lambda: datetime.now(UTC))
    updated_at: datetime = field(default_factory=lambda: datetime.now(UTC))


def _from_row(row: sa.Row[Any]) -> Escalation:
    values = dict(row._mapping)
    for key in ("created_at", "updated_at"):
        if values[key].tzinfo is None:  # SQLite drops the zone; we store UTC
            values[key] = values[key].replace(tzinfo=UTC)
    return Escalation(**values)


class EscalationStore:
    """Reads and writes escalations through an injected SQLAlchemy engine."""

    def __init__(self, engine: sa.Engine) -> None:
        self.engine = engine

    def add(self, escalation: Escalation) -> tuple[Escalation, bool]:
        """Stores ``escalation`` unless one with its idempotency key exists.

        Returns the stored escalation and whether it was created by this call.
        """
        row = {
            "id": escalation.id,
            "idempotency_key": escalation.idempotency_key,
            "conversation_id": escalation.conversation_id,
            "tier": escalation.tier,
            "queue": escalation.queue,
            "category": escalation.category,
            "priority": escalation.priority,
            "status": escalation.status,
            "summary": escalation.summary,
            "transcript": escalation.transcript,
            "created_at": escalation.created_at,
            "updated_at": escalation.updated_at,
        }
        try:
            with self.engine.begin() as connection:
                connection.execute(escalations.insert().values(**row))
        except sa.exc.IntegrityError:
            existing = self.by_idempotency_key(escalation.idempotency_key)
            if existing is None:
                raise
            return existing, False
        return escalation, True

    def get(self, escalation_id: str) -> Escalation:
        with self.engine.connect() as connection:
            row = connection.execute(
                escalations.select().where(escalations.c.id == escalation_id)
            ).first()
        if row is None:
            raise EscalationNotFound(escalation_id)
        return _from_row(row)

    def by_idempotency_key(self, key: str) -> Escalation | None:
        with self.engine.connect() as connection:
            row = connection.execute(
                escalations.select().where(escalations.c.idempotency_key == key)
            ).first()
        return None if row is None else _from_row(row)

    def list(self, statuses: Sequence[str] = ()) -> list[Escalation]:
        """Escalations, oldest first, optionally only those in ``statuses``."""
        query = escalations.select().order_by(escalations.c.created_at, escalations.c.id)
        if statuses:
            query = query.where(escalations.c.status.in_(statuses))
        with self.engine.connect() as connection:
            return [_from_row(row) for row in connection.execute(query)]

    def set_status(self, escalation_id: str, status: str) -> Escalation:
        if status not in STATUSES:
            raise ValueError(f"unknown status {status!r}; expected one of {STATUSES}")
        with self.engine.begin() as connection:
            result = connection.execute(
                escalations.update()
                .where(escalations.c.id == escalation_id)
                .values(status=status, updated_at=datetime.now(UTC))
            )
        if result.rowcount == 0:
            raise EscalationNotFound(escalation_id)
        return self.get(escalation_id)
