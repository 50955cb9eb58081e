"""What can happen to an escalation, whoever asks: the bot, Slack or the CLI.

Each operation changes the escalation and queues the deliveries it implies in
one transaction (see ``handoff.store``); ``handoff.worker`` delivers them. The
Slack listeners and the ``handoff`` terminal commands call the same functions,
so trying Frontline without Slack exercises the same code below the Slack layer.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Any, Protocol

from core.contract import (
    AGENT_JOINED,
    AGENT_MESSAGE,
    AGENT_NAME,
    AGENT_TEXT,
    HANDOFF_UPDATE,
    TEAM,
    TRANSFERRED,
    UPDATE_KIND,
)
from handoff.errors import AlreadyClaimed, HandoffError, NotOpen
from handoff.store import OPEN_STATUSES, Conflict, Escalation, EscalationStore, Job, now_utc

logger = logging.getLogger(__name__)

# Kinds of outbox jobs (what handoff.worker knows how to deliver).
POST_ESCALATION = "slack.post_escalation"
POST_TRANSCRIPT = "slack.post_transcript"
THREAD_MESSAGE = "slack.thread_message"
UPDATE_CARD = "slack.update_card"
SLA_REMINDER = "slack.sla_reminder"
TO_CUSTOMER = "rasa.trigger_intent"

REASONS = {
    "explicit_request": "the customer asked for a person",
    "low_confidence": "the bot did not understand twice in a row",
    "kb_no_answer": "the help center had no confident answer",
    "kb_rejected": "the customer said the articles did not help",
    "kb_tier2": "the help-center article says our team must handle it; the customer asked for them",
    "form_failed": "the customer could not complete a form",
    "tier2_topic": "the request needs a person by its nature",
    "triage": "the customer's words show a request only a person can handle",
    "backend_error": "a business system did not answer",
    "frustration": "the customer is frustrated",
}


class Route(Protocol):
    tier: int
    queue: str
    channel: str
    team: str
    priority: str
    sla_minutes: int
    usual_wait_minutes: int


class Router(Protocol):
    """What the service needs of ``handoff.routing.Routing``."""

    def route(self, category: str, text: str, verified: bool, repeat_contact: bool) -> Any: ...

    def queue_for_tier(self, tier: int) -> Any: ...

    def triage(self, text: str) -> str | None: ...

    def is_open(self, queue: str, now: datetime) -> tuple[bool, datetime | None]: ...

    def sla_deadlines(self, queue: str, priority: str, since: datetime) -> Any: ...

    def queue(self, name: str) -> Any: ...

    @property
    def lead_channel(self) -> str: ...


@dataclass(frozen=True)
class Agent:
    """A person working the queue (a Slack user, or whoever runs the CLI)."""

    id: str
    name: str


@dataclass(frozen=True)
class EscalationRequest:
    """What the bot knows when it hands a conversation over."""

    conversation_id: str
    reason: str
    category: str
    transcript: list[dict[str, Any]]
    customer: dict[str, Any] = field(default_factory=lambda: {"verified": False})
    context: dict[str, Any] = field(default_factory=dict)
    language: str = "en"
    attempt: int = 1

    @property
    def idempotency_key(self) -> str:
        return f"{self.conversation_id}:{self.attempt}"


@dataclass(frozen=True)
class Ticket:
    """What the customer is told after a handoff."""

    escalation_id: str
    tier: int
    team: str
    usual_wait_minutes: int
    open_now: bool
    opens_at: datetime | None
    created: bool
    category: str = ""  # as routed (triage may have refined the bot's)


def customer_texts(transcript: list[dict[str, Any]]) -> list[str]:
    return [str(turn.get("text", "")) for turn in transcript if turn.get("from") == "customer"]


def summarize(request: EscalationRequest) -> str:
    """One paragraph for the agent: what the customer wants, what the bot tried."""
    said = customer_texts(request.transcript)
    wants = f"Customer wants help with {request.category.replace('_', ' ')}"
    if said:
        wants += f': "{said[-1][:300]}"'
    parts = [wants + "."]
    tried = []
    if request.context.get("intents"):
        tried.append("understood " + ", ".join(request.context["intents"]))
    if request.context.get("kb_articles"):
        tried.append("showed articles " + ", ".join(request.context["kb_articles"]))
    if request.context.get("actions"):
        tried.append("ran " + ", ".join(request.context["actions"]))
    if tried:
        parts.append("The bot " + "; ".join(tried) + ".")
    parts.append(f"Handed over because {REASONS.get(request.reason, request.reason)}.")
    customer = request.customer
    if customer.get("verified"):
        who = customer.get("name") or customer.get("email") or "the account holder"
        parts.append(f"Identity verified: {who}.")
    else:
        parts.append("Identity not verified.")
    return " ".join(parts)


def first_jobs(escalation_id: str, now: datetime) -> list[Job]:
    """The card, then the transcript in its thread: queued together so that
    nothing relayed later can overtake the transcript."""
    # Times from the service's clock, not the jobs' real-time defaults.
    return [
        Job(
            escalation_id,
            kind,
            {},
            f"{escalation_id}:{suffix}",
            created_at=now,
            next_attempt_at=now,
        )
        for kind, suffix in ((POST_ESCALATION, "post"), (POST_TRANSCRIPT, "transcript"))
    ]


def _trigger(intent: str, entities: dict[str, Any]) -> dict[str, Any]:
    return {"intent": intent, "entities": entities}


class HandoffService:
    """Operations on escalations; ``clock`` is injectable for tests."""

    def __init__(
        self,
        store: EscalationStore,
        router: Router,
        clock: Callable[[], datetime] = now_utc,
    ) -> None:
        self.store = store
        self.router = router
        self.clock = clock

    # -- from the bot --------------------------------------------------------

    def _job(self, escalation_id: str, kind: str, payload: dict[str, Any], key: str) -> Job:
        """A job stamped with the service's clock (created and due now)."""
        now = self.clock()
        return Job(escalation_id, kind, payload, key, created_at=now, next_attempt_at=now)

    def open(self, request: EscalationRequest) -> Ticket:
        """Stores the escalation and queues its Slack post (once per key)."""
        now = self.clock()
        said = " ".join(customer_texts(request.transcript))
        repeat = request.attempt > 1 or bool(request.context.get("repeat_contact"))
        route = self.router.route(
            request.category, said, bool(request.customer.get("verified")), repeat
        )
        escalation = Escalation(
            conversation_id=request.conversation_id,
            idempotency_key=request.idempotency_key,
            tier=route.tier,
            queue=route.queue,
            category=route.category,
            priority=route.priority,
            summary=summarize(request),
            transcript=request.transcript,
            team=route.team,
            language=request.language,
            customer=request.customer,
            context={**request.context, "reason": request.reason},
            slack_channel=route.channel,
            created_at=now,
            updated_at=now,
        )
        deadlines = self.router.sla_deadlines(route.queue, route.priority, now)
        escalation = replace(
            escalation, sla_due_at=deadlines.reminder_at, sla_lead_at=deadlines.lead_at
        )
        stored, created = self.store.add(escalation, jobs=first_jobs(escalation.id, now))
        open_now, opens_at = self.router.is_open(stored.queue, now)
        if opens_at is not None:
            # Told to the customer: in the team's time zone, not UTC.
            opens_at = opens_at.astimezone(self.router.queue(stored.queue).schedule.timezone)
        logger.info(
            "escalation %s to %s (%s)",
            stored.id,
            stored.queue,
            "new" if created else "existing",
            extra={"conversation_id": request.conversation_id},
        )
        return Ticket(
            escalation_id=stored.id,
            tier=stored.tier,
            team=stored.team,
            usual_wait_minutes=route.usual_wait_minutes,
            open_now=open_now,
            opens_at=opens_at,
            created=created,
            category=stored.category,
        )

    def triage(self, text: str) -> str | None:
        """The category of a request that needs a person by its nature (the
        routing's ``hand_over`` keyword rules), or None: the bot may try."""
        return self.router.triage(text)

    def customer_message(self, conversation_id: str, text: str, key: str) -> Escalation | None:
        """Relays a customer's message into the open escalation's thread and
        returns that escalation (its status tells whether someone claimed it).

        None if the conversation has no open escalation; a repeated ``key``
        queues nothing new."""
        escalation = self.store.open_for_conversation(conversation_id)
        if escalation is None:
            return None
        self.store.enqueue(
            self._job(
                escalation.id,
                THREAD_MESSAGE,
                {"from": "customer", "text": text},
                f"{escalation.id}:customer:{key}",
            )
        )
        return escalation

    def leave_contact_email(self, conversation_id: str, email: str) -> Escalation | None:
        """Records the address a customer left for the answer while the queue
        was closed (``customer["contact_email"]``) and updates the card.

        None, and nothing recorded, if the conversation has no unclaimed
        escalation or its queue is open now (an agent will answer in the chat)."""
        escalation = self.store.open_for_conversation(conversation_id)
        if escalation is None or escalation.status not in ("queued", "posted"):
            return None
        open_now, _ = self.router.is_open(escalation.queue, self.clock())
        if open_now or (escalation.customer or {}).get("contact_email") == email:
            return None
        customer = {**(escalation.customer or {}), "contact_email": email}
        try:
            return self.store.update(
                escalation.id,
                {"customer": customer, "updated_at": self.clock()},
                expect_status=("queued", "posted"),
                jobs=[
                    self._job(
                        escalation.id,
                        UPDATE_CARD,
                        {},
                        f"{escalation.id}:card:contact:{email}",
                    )
                ],
            )
        except Conflict:  # claimed meanwhile: the agent answers in the chat
            return None

    def customer_presence(self, conversation_id: str, present: bool) -> bool:
        """Tells the agent in the open escalation's thread that the customer
        left the chat or came back. False if no escalation is open."""
        escalation = self.store.open_for_conversation(conversation_id)
        if escalation is None:
            return False
        text = "The customer is back in the chat." if present else "The customer left the chat."
        now = self.clock()
        self.store.enqueue(
            self._job(
                escalation.id,
                THREAD_MESSAGE,
                {"from": "system", "text": text},
                f"{escalation.id}:presence:{now.isoformat()}:{present}",
            )
        )
        return True

    def record_csat(self, conversation_id: str, score: int, comment: str | None) -> Escalation:
        """Stores the customer's rating of the latest escalation and posts it in
        its thread."""
        if not 1 <= score <= 5:
            raise ValueError(f"CSAT score must be 1-5, got {score}")
        closed = [e for e in self.store.for_conversation(conversation_id) if not e.is_open]
        if not closed:
            raise HandoffError(f"conversation {conversation_id} has no closed escalation to rate")
        latest = closed[-1]
        return self.store.update(
            latest.id,
            {"csat_score": score, "csat_comment": comment},
            jobs=[
                self._job(
                    latest.id,
                    THREAD_MESSAGE,
                    {"from": "csat", "score": score, "comment": comment or ""},
                    f"{latest.id}:csat",
                )
            ],
        )

    def record_csat_comment(self, conversation_id: str, comment: str) -> Escalation:
        """Adds the customer's optional comment to their latest rating."""
        rated = [e for e in self.store.for_conversation(conversation_id) if e.csat_score]
        if not rated:
            raise HandoffError(f"conversation {conversation_id} has no rating to comment on")
        latest = rated[-1]
        return self.store.update(
            latest.id,
            {"csat_comment": comment},
            jobs=[
                self._job(
                    latest.id,
                    THREAD_MESSAGE,
                    {"from": "csat", "score": latest.csat_score, "comment": comment},
                    f"{latest.id}:csat-comment",
                )
            ],
        )

    # -- from agents -----------------------------------------------------------

    def claim(self, escalation_id: str, agent: Agent) -> Escalation:
        """Makes ``agent`` the owner; a second claim raises ``AlreadyClaimed``."""
        now = self.clock()
        try:
            claimed = self.store.update(
                escalation_id,
                {
                    "status": "claimed",
                    "claimed_by": agent.id,
                    "claimed_by_name": agent.name,
                    "claimed_at": now,
                },
                expect_status=("queued", "posted"),
                jobs=[
                    self._job(
                        escalation_id,
                        UPDATE_CARD,
                        {},
                        f"{escalation_id}:card:claimed",
                    ),
                    self._job(
                        escalation_id,
                        TO_CUSTOMER,
                        _trigger(
                            HANDOFF_UPDATE, {UPDATE_KIND: AGENT_JOINED, AGENT_NAME: agent.name}
                        ),
                        f"{escalation_id}:customer:joined",
                    ),
                ],
            )
        except Conflict as conflict:
            if conflict.escalation.status == "claimed":
                raise AlreadyClaimed(escalation_id, conflict.escalation.claimed_by_name) from None
            raise NotOpen(escalation_id, conflict.escalation.status) from None
        return claimed

    def reply(self, escalation_id: str, agent: Agent, text: str, key: str) -> str:
        """An agent's message: relayed to the customer, or kept internal if it
        starts with ``note:``. Returns "note" or "relayed"."""
        escalation = self.store.get(escalation_id)
        if text.strip().lower().startswith("note:"):
            return "note"
        if escalation.status != "claimed":
            raise NotOpen(escalation_id, escalation.status)
        self.store.enqueue(
            self._job(
                escalation_id,
                TO_CUSTOMER,
                _trigger(AGENT_MESSAGE, {AGENT_TEXT: text, AGENT_NAME: agent.name}),
                f"{escalation_id}:agent:{key}",
            )
        )
        return "relayed"

    def resolve(self, escalation_id: str, agent: Agent) -> Escalation:
        """Closes the case: the bot resumes, thanks the customer, asks for CSAT."""
        return self._close(escalation_id, agent, "resolved")

    def return_to_bot(self, escalation_id: str, agent: Agent) -> Escalation:
        """Hands the conversation back to the bot with its context."""
        return self._close(escalation_id, agent, "returned")

    def _close(self, escalation_id: str, agent: Agent, status: str) -> Escalation:
        now = self.clock()
        try:
            return self.store.update(
                escalation_id,
                {"status": status, "closed_at": now},
                expect_status=OPEN_STATUSES,
                jobs=[
                    self._job(
                        escalation_id,
                        UPDATE_CARD,
                        {},
                        f"{escalation_id}:card:{status}",
                    ),
                    self._job(
                        escalation_id,
                        TO_CUSTOMER,
                        _trigger(HANDOFF_UPDATE, {UPDATE_KIND: status, AGENT_NAME: agent.name}),
                        f"{escalation_id}:customer:{status}",
                    ),
                ],
            )
        except Conflict as conflict:
            raise NotOpen(escalation_id, conflict.escalation.status) from None

    def transfer(self, escalation_id: str, tier: int, agent: Agent) -> Escalation:
        """Moves the case to ``tier``'s queue: a new escalation there with the
        history, summary and a link to the earlier thread."""
        now = self.clock()
        old = self.store.get(escalation_id)
        if not old.is_open:
            raise NotOpen(escalation_id, old.status)
        queue = self.router.queue_for_tier(tier)
        new = Escalation(
            conversation_id=old.conversation_id,
            idempotency_key=f"{old.idempotency_key}:tier{tier}",
            tier=tier,
            queue=queue.name,
            category=old.category,
            priority=old.priority,
            summary=old.summary,
            transcript=old.transcript,
            team=queue.team,
            language=old.language,
            customer=old.customer,
            context={**(old.context or {}), "transferred_by": agent.name},
            slack_channel=queue.channel,
            parent_id=old.id,
            created_at=now,
            updated_at=now,
        )
        deadlines = self.router.sla_deadlines(queue.name, old.priority, now)
        new = replace(new, sla_due_at=deadlines.reminder_at, sla_lead_at=deadlines.lead_at)
        try:
            self.store.update(
                escalation_id,
                {"status": "transferred", "closed_at": now},
                expect_status=OPEN_STATUSES,
                jobs=[
                    self._job(
                        escalation_id,
                        UPDATE_CARD,
                        {},
                        f"{escalation_id}:card:transferred",
                    )
                ],
            )
        except Conflict as conflict:
            raise NotOpen(escalation_id, conflict.escalation.status) from None
        stored, _ = self.store.add(
            new,
            jobs=[
                *first_jobs(new.id, now),
                self._job(
                    new.id,
                    TO_CUSTOMER,
                    _trigger(HANDOFF_UPDATE, {UPDATE_KIND: TRANSFERRED, TEAM: queue.team}),
                    f"{new.id}:customer:transferred",
                ),
            ],
        )
        return stored

    # -- service level ---------------------------------------------------------

    def check_sla(self) -> int:
        """Queues a reminder in the queue's channel for unclaimed escalations
        past their SLA, and a post to the leads past the lead deadline; each once.
        Returns how many were queued."""
        now = self.clock()
        queued = 0
        for escalation in self.store.overdue(now):
            sla_minutes = int(self.router.queue(escalation.queue).sla_minutes[escalation.priority])
            stages = []
            if (
                escalation.reminded_at is None
                and escalation.sla_due_at
                and escalation.sla_due_at <= now
            ):
                stages.append(("reminder", {"reminded_at": now}, escalation.slack_channel))
            if (
                escalation.lead_notified_at is None
                and escalation.sla_lead_at
                and escalation.sla_lead_at <= now
            ):
                stages.append(("lead", {"lead_notified_at": now}, self.router.lead_channel))
            for stage, changes, channel in stages:
                try:
                    self.store.update(
                        escalation.id,
                        changes,
                        expect_status=("queued", "posted"),
                        jobs=[
                            self._job(
                                escalation.id,
                                SLA_REMINDER,
                                {
                                    "lead": stage == "lead",
                                    "channel": channel,
                                    "sla_minutes": sla_minutes,
                                },
                                f"{escalation.id}:sla:{stage}",
                            )
                        ],
                    )
                except Conflict:
                    break  # claimed meanwhile
                queued += 1
        return queued
