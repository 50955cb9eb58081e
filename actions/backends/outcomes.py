"""The category and outcome of every Tier 1 request, for metrics.

A conversation can hold several requests, so it can have several outcomes.
"""

from __future__ import annotations

import uuid
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Any

import sqlalchemy as sa

from actions.backends.models import Clock, utc_now
from actions.backends.tables import aware, conversation_outcomes, run


class Outcome(StrEnum):
    RESOLVED_BY_BOT = "resolved_by_bot"
    SELF_SERVICE_ARTICLE = "self_service_article"
    ESCALATED = "escalated"
    ABANDONED = "abandoned"


@dataclass(frozen=True)
class ConversationOutcome:
    conversation_id: str
    category: str  # e.g. password_reset, order_status, compatibility
    outcome: Outcome
    created_at: datetime
    detail: str | None = None
    id: str = field(default_factory=lambda: str(uuid.uuid4()))


def _from_row(row: sa.Row[Any]) -> ConversationOutcome:
    return ConversationOutcome(
        conversation_id=row.conversation_id,
        category=row.category,
        outcome=Outcome(row.outcome),
        created_at=aware(row.created_at),
        detail=row.detail,
        id=row.id,
    )


class OutcomeStore:
    def __init__(self, engine: sa.Engine, *, clock: Clock = utc_now) -> None:
        self.engine = engine
        self.clock = clock

    async def record(
        self, conversation_id: str, category: str, outcome: Outcome | str, detail: str | None = None
    ) -> ConversationOutcome:
        """Stores one outcome; ``ValueError`` for an unknown outcome or empty category."""
        if not category.strip():
            raise ValueError("category must not be empty")
        entry = ConversationOutcome(
            conversation_id=conversation_id,
            category=category.strip(),
            outcome=Outcome(outcome),
            created_at=aware(self.clock()),
            detail=detail,
        )

        def work(connection: sa.Connection) -> None:
            connection.execute(
                conversation_outcomes.insert().values(
                    id=entry.id,
                    conversation_id=entry.conversation_id,
                    category=entry.category,
                    outcome=entry.outcome.value,
                    detail=entry.detail,
                    created_at=entry.created_at,
                )
            )

        await run(self.engine, "record_outcome", work)
        return entry

    async def list(
        self, conversation_id: str | None = None, since: datetime | None = None
    ) -> list[ConversationOutcome]:
        """Outcomes, oldest first, optionally of one conversation or since a time."""
        query = conversation_outcomes.select().order_by(
            conversation_outcomes.c.created_at, conversation_outcomes.c.id
        )
        if conversation_id is not None:
            query = query.where(conversation_outcomes.c.conversation_id == conversation_id)
        if since is not None:
            query = query.where(conversation_outcomes.c.created_at >= aware(since))

        def work(connection: sa.Connection) -> list[ConversationOutcome]:
            return [_from_row(row) for row in connection.execute(query)]

        return await run(self.engine, "list_outcomes", work)

    async def counts(self, since: datetime | None = None) -> dict[tuple[str, Outcome], int]:
        """How many requests of each category ended in each outcome."""
        c = conversation_outcomes.c
        query = sa.select(c.category, c.outcome, sa.func.count()).group_by(c.category, c.outcome)
        if since is not None:
            query = query.where(c.created_at >= aware(since))

        def work(connection: sa.Connection) -> dict[tuple[str, Outcome], int]:
            return {
                (category, Outcome(outcome)): int(count)
                for category, outcome, count in connection.execute(query)
            }

        return await run(self.engine, "count_outcomes", work)


def outcome_counts(
    engine: sa.Engine, start: datetime, end: datetime
) -> dict[str, dict[str, int]] | None:
    """How many requests of each category ended in each outcome in ``[start, end)``:
    ``{category: {outcome: count}}``, both sorted by name. ``None`` when the
    outcomes table does not exist (the actions tables were never migrated here).

    Synchronous, for reports (``handoff report``); actions use ``OutcomeStore``."""
    if not sa.inspect(engine).has_table(conversation_outcomes.name):
        return None
    c = conversation_outcomes.c
    query = (
        sa.select(c.category, c.outcome, sa.func.count())
        .where(c.created_at >= aware(start), c.created_at < aware(end))
        .group_by(c.category, c.outcome)
        .order_by(c.category, c.outcome)
    )
    found: dict[str, dict[str, int]] = defaultdict(dict)
    with engine.connect() as connection:
        for category, outcome, count in connection.execute(query):
            found[category][outcome] = int(count)
    return dict(found)
