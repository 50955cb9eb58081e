"""Exceptions of the handoff package."""

from __future__ import annotations


class HandoffError(Exception):
    """Base of every error the handoff package raises on purpose."""


class EscalationNotFound(HandoffError):
    """No escalation has this id."""

    def __init__(self, escalation_id: str) -> None:
        super().__init__(f"no escalation with id {escalation_id!r}")
        self.escalation_id = escalation_id


class DatabaseUnavailable(HandoffError):
    """The database cannot be reached or its schema is not current."""

    def __init__(self, url: str, reason: str) -> None:
        super().__init__(f"database {url}: {reason}")
        self.url = url
        self.reason = reason
