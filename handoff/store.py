"""The durable escalation queue and its outbox.

Every handoff is written here before anything is sent anywhere: the
escalation row and the outbox jobs that deliver it (Slack posts, thread
messages, card updates, messages to the customer's widget) are inserted in one
transaction, and a worker delivers the jobs with retries. Nothing is lost when
Slack, Rasa or this service is down, and dedupe keys make every job and every
escalation happen once.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, fields
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
    sa.Column("parent_id", sa.String(36), nullable=True),
    sa.Column("team", sa.String(100), nullable=False, server_default=""),
    sa.Column("language", sa.String(10), nullable=False, server_default="en"),
    sa.Column("customer", sa.JSON, nullable=True),
    sa.Column("context", sa.JSON, nullable=True),
    sa.Column("slack_channel", sa.String(100), nullable=True),
    sa.Column("slack_ts", sa.String(40), nullable=True, index=True),
    sa.Column("claimed_by", sa.String(50), nullable=True),
    sa.Column("claimed_by_name", sa.String(200), nullable=True),
    sa.Column("claimed_at", sa.DateTime(timezone=True), nullable=True),
    sa.Column("closed_at", sa.DateTime(timezone=True), nullable=True),
    sa.Column("sla_due_at", sa.DateTime(timezone=True), nullable=True),
    sa.Column("reminded_at", sa.DateTime(timezone=True), nullable=True),
    sa.Column("csat_score", sa.Integer, nullable=True),
    sa.Column("csat_comment", sa.Text, nullable=True),
    sa.Column("sla_lead_at", sa.DateTime(timezone=True), nullable=True),
    sa.Column("lead_notified_at", sa.DateTime(timezone=True), nullable=True),
)

outbox = sa.Table(
    "outbox",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("escalation_id", sa.String(36), nullable=False, index=True),
    sa.Column("kind", sa.String(40), nullable=False),
    sa.Column("payload", sa.JSON, nullable=False),
    sa.Column("dedupe_key", sa.String(200), nullable=False, unique=True),
    sa.Column("status", sa.String(10), nullable=False),
    sa.Column("attempts", sa.Integer, nullable=False, server_default="0"),
    sa.Column("next_attempt_at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("last_error", sa.Text, nullable=True),
    sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("done_at", sa.DateTime(timezone=True), nullable=True),
    sa.Index("ix_outbox_due", "status", "next_attempt_at"),
)

slack_events = sa.Table(
    "slack_events",
    metadata,
    sa.Column("event_id", sa.String(100), primary_key=True),
    sa.Column("received_at", sa.DateTime(timezone=True), nullable=False),
)

# Jobs travel in lanes: those to Slack (kinds "slack.*") and those to the
# customer. Within one escalation's lane jobs go out strictly in order, also
# across retries; different lanes and escalations do not wait for each other.
SLACK_LANE = "slack"
CUSTOMER_LANE = "customer"


def lane_of(kind: str) -> str:
    return SLACK_LANE if kind.startswith("slack.") else CUSTOMER_LANE


def _lane(table: sa.FromClause) -> sa.ColumnElement[str]:
    return sa.case((table.c.kind.like("slack.%"), SLACK_LANE), else_=CUSTOMER_LANE)


# queued: stored, not yet in Slack; posted: in the queue's channel; claimed: an
# agent owns it; resolved / returned (to the bot) / transferred (to another
# tier's escalation, see parent_id) are final.
STATUSES = ("queued", "posted", "claimed", "resolved", "returned", "transferred")
OPEN_STATUSES = ("queued", "posted", "claimed")


def now_utc() -> datetime:
    return datetime.now(UTC)


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
    created_at: datetime = field(default_factory=now_utc)
    updated_at: datetime = field(default_factory=now_utc)
    parent_id: str | None = None
    team: str = ""
    language: str = "en"
    customer: dict[str, Any] | None = None
    context: dict[str, Any] | None = None
    slack_channel: str | None = None
    slack_ts: str | None = None
    claimed_by: str | None = None
    claimed_by_name: str | None = None
    claimed_at: datetime | None = None
    closed_at: datetime | None = None
    sla_due_at: datetime | None = None
    reminded_at: datetime | None = None
    csat_score: int | None = None
    csat_comment: str | None = None
    sla_lead_at: datetime | None = None
    lead_notified_at: datetime | None = None

    @property
    def is_open(self) -> bool:
        return self.status in OPEN_STATUSES


@dataclass(frozen=True)
class Job:
    """One delivery to make: ``kind`` says to whom (see ``handoff.worker``)."""

    escalation_id: str
    kind: str
    payload: dict[str, Any]
    dedupe_key: str
    id: int | None = None
    status: str = "pending"
    attempts: int = 0
    next_attempt_at: datetime = field(default_factory=now_utc)
    last_error: str | None = None
    created_at: datetime = field(default_factory=now_utc)
    done_at: datetime | None = None


def _aware(values: dict[str, Any]) -> dict[str, Any]:
    for key, value in values.items():
        if isinstance(value, datetime) and value.tzinfo is None:
            values[key] = value.replace(tzinfo=UTC)  # SQLite drops the zone; we store UTC
    return values


def _escalation(row: sa.Row[Any]) -> Escalation:
    return Escalation(**_aware(dict(row._mapping)))


def _job(row: sa.Row[Any]) -> Job:
    return Job(**_aware(dict(row._mapping)))


def _row(obj: Any, skip: Sequence[str] = ()) -> dict[str, Any]:
    return {f.name: getattr(obj, f.name) for f in fields(obj) if f.name not in skip}


class Conflict(Exception):
    """A compare-and-set update found the escalation in another state."""

    def __init__(self, escalation: Escalation) -> None:
        super().__init__(f"escalation {escalation.id} is {escalation.status}")
        self.escalation = escalation


class EscalationStore:
    """Reads and writes escalations and outbox jobs through an injected engine."""

    def __init__(self, engine: sa.Engine) -> None:
        self.engine = engine

    # -- escalations ---------------------------------------------------------

    def add(self, escalation: Escalation, jobs: Sequence[Job] = ()) -> tuple[Escalation, bool]:
        """Stores ``escalation`` and its first ``jobs`` together, unless an
        escalation with the same idempotency key exists (then nothing is written).

        Returns the stored escalation and whether this call created it.
        """
        try:
            with self.engine.begin() as connection:
                connection.execute(escalations.insert().values(**_row(escalation)))
                for job in jobs:
                    connection.execute(outbox.insert().values(**_row(job, skip=("id",))))
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
        return _escalation(row)

    def by_idempotency_key(self, key: str) -> Escalation | None:
        return self._one(escalations.c.idempotency_key == key)

    def by_slack_thread(self, channel: str, ts: str) -> Escalation | None:
        return self._one((escalations.c.slack_channel == channel) & (escalations.c.slack_ts == ts))

    def open_for_conversation(self, conversation_id: str) -> Escalation | None:
        """The conversation's escalation that is still with humans, if any."""
        return self._one(
            (escalations.c.conversation_id == conversation_id)
            & escalations.c.status.in_(OPEN_STATUSES)
        )

    def overdue(self, now: datetime) -> list[Escalation]:
        """Unclaimed escalations past a reminder or lead deadline not yet acted on."""
        c = escalations.c
        query = (
            escalations.select()
            .where(
                c.status.in_(("queued", "posted"))
                & (
                    ((c.sla_due_at <= now) & c.reminded_at.is_(None))
                    | ((c.sla_lead_at <= now) & c.lead_notified_at.is_(None))
                )
            )
            .order_by(c.created_at, c.id)
        )
        with self.engine.connect() as connection:
            return [_escalation(row) for row in connection.execute(query)]

    def for_conversation(self, conversation_id: str) -> list[Escalation]:
        """Every escalation of a conversation, oldest first."""
        query = (
            escalations.select()
            .where(escalations.c.conversation_id == conversation_id)
            .order_by(escalations.c.created_at, escalations.c.id)
        )
        with self.engine.connect() as connection:
            return [_escalation(row) for row in connection.execute(query)]

    def _one(self, condition: sa.ColumnElement[bool]) -> Escalation | None:
        query = escalations.select().where(condition).order_by(escalations.c.created_at.desc())
        with self.engine.connect() as connection:
            row = connection.execute(query).first()
        return None if row is None else _escalation(row)

    def update(
        self,
        escalation_id: str,
        changes: Mapping[str, Any],
        expect_status: Sequence[str] = (),
        jobs: Sequence[Job] = (),
    ) -> Escalation:
        """Applies ``changes`` (and queues ``jobs``) in one transaction.

        With ``expect_status`` the update happens only if the escalation is in
        one of those states (compare-and-set); otherwise ``Conflict`` carries
        the escalation as it is.
        """
        if "status" in changes and changes["status"] not in STATUSES:
            raise ValueError(f"unknown status {changes['status']!r}; expected one of {STATUSES}")
        condition = escalations.c.id == escalation_id
        if expect_status:
            condition = condition & escalations.c.status.in_(expect_status)
        with self.engine.begin() as connection:
            result = connection.execute(
                escalations.update()
                .where(condition)
                .values(**{"updated_at": now_utc(), **dict(changes)})
            )
            if result.rowcount == 1:
                for job in jobs:
                    self._enqueue(connection, job)
        if result.rowcount == 0:
            current = self.get(escalation_id)  # raises EscalationNotFound
            raise Conflict(current)
        return self.get(escalation_id)

    def set_status(self, escalation_id: str, status: str) -> Escalation:
        return self.update(escalation_id, {"status": status})

    # -- outbox --------------------------------------------------------------

    def enqueue(self, job: Job) -> bool:
        """Queues ``job``; False if a job with its dedupe key already exists."""
        try:
            with self.engine.begin() as connection:
                self._enqueue(connection, job)
        except sa.exc.IntegrityError:
            return False
        return True

    @staticmethod
    def _enqueue(connection: sa.Connection, job: Job) -> None:
        connection.execute(outbox.insert().values(**_row(job, skip=("id",))))

    def due_jobs(self, now: datetime, limit: int = 50) -> list[Job]:
        """Pending jobs whose time has come, oldest first, leaving out any job
        behind an earlier pending job of its escalation's lane that waits for
        its retry: a later message never overtakes one that failed."""
        earlier = outbox.alias("earlier")
        waiting_ahead = (
            sa.select(earlier.c.id)
            .where(
                (earlier.c.escalation_id == outbox.c.escalation_id)
                & (earlier.c.status == "pending")
                & (earlier.c.id < outbox.c.id)
                & (earlier.c.next_attempt_at > now)
                & (_lane(earlier) == _lane(outbox))
            )
            .exists()
        )
        query = (
            outbox.select()
            .where(
                (outbox.c.status == "pending") & (outbox.c.next_attempt_at <= now) & ~waiting_ahead
            )
            .order_by(outbox.c.id)
            .limit(limit)
        )
        with self.engine.connect() as connection:
            return [_job(row) for row in connection.execute(query)]

    def jobs(self, escalation_id: str | None = None) -> list[Job]:
        query = outbox.select().order_by(outbox.c.id)
        if escalation_id is not None:
            query = query.where(outbox.c.escalation_id == escalation_id)
        with self.engine.connect() as connection:
            return [_job(row) for row in connection.execute(query)]

    def job_done(
        self, job: Job, now: datetime, escalation_changes: Mapping[str, Any] | None = None
    ) -> None:
        """Marks ``job`` delivered, with what delivery taught us about its
        escalation (e.g. the Slack message ts) in the same transaction."""
        with self.engine.begin() as connection:
            connection.execute(
                outbox.update()
                .where(outbox.c.id == job.id)
                .values(status="done", done_at=now, attempts=job.attempts + 1, last_error=None)
            )
            if escalation_changes:
                connection.execute(
                    escalations.update()
                    .where(escalations.c.id == job.escalation_id)
                    .values(**dict(escalation_changes), updated_at=now)
                )

    def job_failed(self, job: Job, error: str, retry_at: datetime | None) -> None:
        """Records a failed attempt; ``retry_at`` None gives the job up."""
        values: dict[str, Any] = {"attempts": job.attempts + 1, "last_error": error[:2000]}
        if retry_at is None:
            values["status"] = "failed"
        else:
            values["next_attempt_at"] = retry_at
        with self.engine.begin() as connection:
            connection.execute(outbox.update().where(outbox.c.id == job.id).values(**values))

    def set_job_payload(self, job: Job, payload: dict[str, Any]) -> None:
        """Records a job's progress (e.g. how many transcript parts went out)."""
        with self.engine.begin() as connection:
            connection.execute(outbox.update().where(outbox.c.id == job.id).values(payload=payload))

    def job_skipped(self, job: Job, reason: str) -> None:
        """Records that ``job`` was deliberately not delivered (e.g. no Slack)."""
        with self.engine.begin() as connection:
            connection.execute(
                outbox.update()
                .where(outbox.c.id == job.id)
                .values(status="skipped", last_error=reason)
            )

    # -- Slack event dedupe ----------------------------------------------------

    def event_seen(self, event_id: str) -> bool:
        """Whether a Slack event was already handled (see ``first_time_seen``)."""
        query = sa.select(slack_events.c.event_id).where(slack_events.c.event_id == event_id)
        with self.engine.connect() as connection:
            return connection.execute(query).first() is not None

    def first_time_seen(self, event_id: str, now: datetime) -> bool:
        """Remembers a Slack event id; False if it was seen before (a retry)."""
        try:
            with self.engine.begin() as connection:
                connection.execute(slack_events.insert().values(event_id=event_id, received_at=now))
        except sa.exc.IntegrityError:
            return False
        return True

    # Last in the class: a method named `list` shadows the builtin for the
    # annotations below it.
    def list(self, statuses: Sequence[str] = ()) -> list[Escalation]:
        """Escalations, oldest first, optionally only those in ``statuses``."""
        query = escalations.select().order_by(escalations.c.created_at, escalations.c.id)
        if statuses:
            query = query.where(escalations.c.status.in_(statuses))
        with self.engine.connect() as connection:
            return [_escalation(row) for row in connection.execute(query)]
