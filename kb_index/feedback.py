"""Questions the KB could not answer confidently, and customers' feedback on
the answers they were shown."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import sqlalchemy as sa

from kb_index import tables
from kb_index.catalog import aware_utc, now


@dataclass(frozen=True)
class Miss:
    """A question without a confident answer."""

    id: int
    conversation_id: str
    query: str
    best_score: float | None
    doc_id: str | None
    version_id: int | None
    created_at: datetime


@dataclass(frozen=True)
class Feedback:
    """A customer's answer to "Did this answer your question?"."""

    id: int
    conversation_id: str
    query: str
    doc_ids_shown: tuple[str, ...]
    helpful: bool
    version_id: int | None
    created_at: datetime


class FeedbackStore:
    """Writes and reads ``kb_misses`` and ``kb_feedback``."""

    def __init__(self, engine: sa.Engine) -> None:
        self.engine = engine

    def record_miss(
        self,
        conversation_id: str,
        query: str,
        best_score: float | None,
        doc_id: str | None,
        version_id: int | None = None,
    ) -> int:
        with self.engine.begin() as connection:
            return int(
                connection.execute(
                    sa.insert(tables.misses)
                    .values(
                        conversation_id=conversation_id,
                        query=query,
                        best_score=best_score,
                        doc_id=doc_id,
                        version_id=version_id,
                        created_at=now(),
                    )
                    .returning(tables.misses.c.id)
                ).scalar_one()
            )

    def record_feedback(
        self,
        conversation_id: str,
        query: str,
        doc_ids_shown: Sequence[str],
        helpful: bool,
        version_id: int | None = None,
    ) -> int:
        with self.engine.begin() as connection:
            return int(
                connection.execute(
                    sa.insert(tables.feedback)
                    .values(
                        conversation_id=conversation_id,
                        query=query,
                        doc_ids_shown=list(doc_ids_shown),
                        helpful=helpful,
                        version_id=version_id,
                        created_at=now(),
                    )
                    .returning(tables.feedback.c.id)
                ).scalar_one()
            )

    def misses(self, since: datetime | None = None, limit: int = 10_000) -> list[Miss]:
        """Most recent first."""
        return [
            Miss(
                row.id,
                row.conversation_id,
                row.query,
                row.best_score,
                row.doc_id,
                row.version_id,
                aware_utc(row.created_at) or now(),
            )
            for row in self._recent(tables.misses, since, limit)
        ]

    def feedback(self, since: datetime | None = None, limit: int = 10_000) -> list[Feedback]:
        """Most recent first."""
        return [
            Feedback(
                row.id,
                row.conversation_id,
                row.query,
                tuple(row.doc_ids_shown),
                bool(row.helpful),
                row.version_id,
                aware_utc(row.created_at) or now(),
            )
            for row in self._recent(tables.feedback, since, limit)
        ]

    def _recent(self, table: sa.Table, since: datetime | None, limit: int) -> Sequence[sa.Row[Any]]:
        """Rows of ``table``, newest first, created at ``since`` or later."""
        query = sa.select(table).order_by(table.c.id.desc()).limit(limit)
        if since is not None:
            query = query.where(table.c.created_at >= since)
        with self.engine.connect() as connection:
            return connection.execute(query).all()
