"""Exceptions of the handoff package."""

from __future__ import annotations

from core import database


class HandoffError(Exception):
    """Base of every error the handoff package raises on purpose."""


class EscalationNotFound(HandoffError):
    """No escalation has this id."""

    def __init__(self, escalation_id: str) -> None:
        super().__init__(f"no escalation with id {escalation_id!r}")
        self.escalation_id = escalation_id


class DatabaseUnavailable(HandoffError, database.DatabaseUnavailable):
    """The database cannot be reached or the handoff schema is not current
    (``url``, ``reason``: ``core.database.DatabaseUnavailable`` in this tree)."""


class AlreadyClaimed(HandoffError):
    """Another agent claimed the escalation first."""

    def __init__(self, escalation_id: str, owner: str | None) -> None:
        super().__init__(f"escalation {escalation_id} is already claimed by {owner or 'someone'}")
        self.escalation_id = escalation_id
        self.owner = owner


class NotOpen(HandoffError):
    """The escalation is closed (resolved, returned, transferred) or not claimed."""

    def __init__(self, escalation_id: str, status: str) -> None:
        super().__init__(f"escalation {escalation_id} is {status}")
        self.escalation_id = escalation_id
        self.status = status


class NotAMember(HandoffError):
    """Only members of the queue's channel may claim its escalations."""

    def __init__(self, escalation_id: str, user_id: str, channel: str) -> None:
        super().__init__(f"user {user_id} is not in {channel}, the queue of {escalation_id}")
        self.escalation_id = escalation_id
        self.user_id = user_id
        self.channel = channel
