"""What happened in a conversation, read from the tracker (pure functions)."""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from rasa_sdk import Tracker

# Slots holding the verified identity (kept for the session; shown to agents).
IDENTITY_SLOTS = ("verified_email", "customer_id", "customer_name")
SESSION_START_ACTION = "action_session_start"


@dataclass(frozen=True)
class Turn:
    """The customer's latest message as the flows see it."""

    text: str = ""
    intent: str | None = None
    confidence: float = 0.0
    entities: dict[str, tuple[str, ...]] = field(default_factory=dict)
    ranking: tuple[tuple[str, float], ...] = ()
    metadata: dict[str, Any] = field(default_factory=dict)

    def entity(self, name: str) -> str | None:
        """The first value of entity ``name``, if NLU found one."""
        values = self.entities.get(name)
        return values[0] if values else None


def turn_of(tracker: Tracker) -> Turn:
    """The latest user message of ``tracker``."""
    message = tracker.latest_message or {}
    intent = message.get("intent") or {}
    entities: dict[str, list[str]] = {}
    for entity in message.get("entities") or []:
        name, value = entity.get("entity"), entity.get("value")
        if isinstance(name, str) and isinstance(value, str) and value not in entities.get(name, []):
            entities.setdefault(name, []).append(value)
    ranking = tuple(
        (str(item.get("name")), float(item.get("confidence") or 0.0))
        for item in message.get("intent_ranking") or []
        if item.get("name")
    )
    metadata = message.get("metadata") or _latest_user_event(tracker.events).get("metadata") or {}
    return Turn(
        text=str(message.get("text") or ""),
        intent=intent.get("name"),
        confidence=float(intent.get("confidence") or 0.0),
        entities={name: tuple(values) for name, values in entities.items()},
        ranking=ranking,
        metadata=dict(metadata),
    )


def _latest_user_event(events: list[dict[str, Any]]) -> dict[str, Any]:
    return next((e for e in reversed(events) if e.get("event") == "user"), {})


class FormTurn(StrEnum):
    """Why a form's validation action runs."""

    ACTIVATION = "activation"  # the form starts (or resumes after another flow)
    ANSWER = "answer"  # the customer replied to the form's question
    RESUME = "resume"  # back after another action answered an interruption


def form_turn(events: list[dict[str, Any]], form: str) -> FormTurn:
    """Tells activation, an answer and a return after an interruption apart.

    Rasa calls a form's validation action in all three cases with the same
    latest message; what happened since that message says which it is."""
    start = max((i for i, e in enumerate(events) if e.get("event") == "user"), default=-1)
    after = events[start + 1 :]
    if any(e.get("event") == "active_loop" and e.get("name") == form for e in after):
        return FormTurn.ACTIVATION
    for event in after:
        kind = event.get("event")
        if kind == "action_execution_rejected":
            return FormTurn.RESUME
        if kind == "action" and event.get("name") not in (form, "action_listen"):
            return FormTurn.RESUME
    return FormTurn.ANSWER


def previous_active_loop(events: list[dict[str, Any]]) -> str | None:
    """The form that was active before the newest ``active_loop`` event, if
    that event replaced it directly (one flow interrupting another)."""
    loops = [e.get("name") for e in events if e.get("event") == "active_loop"]
    if len(loops) < 2:
        return None
    previous = loops[-2]
    return previous if isinstance(previous, str) and previous != loops[-1] else None


def verified_this_session(events: list[dict[str, Any]]) -> bool:
    """Whether the customer was verified in the current session.

    Rasa carries slots over into a new session (``carry_over_slots_to_new_session``),
    so a ``verified_email`` slot alone may be from an earlier session: only a
    value set by a Tier 1 action after the newest session start counts."""
    verified = False
    last_action: str | None = None
    for event in events:
        kind = event.get("event")
        if kind == "session_started":
            verified = False
        elif kind == "action":
            last_action = event.get("name")
        elif kind == "slot" and event.get("name") == "verified_email":
            if not event.get("value"):
                verified = False
            elif last_action != SESSION_START_ACTION:
                verified = True
    return verified


def identity(tracker: Tracker) -> dict[str, str] | None:
    """The customer verified in this session: ``{"email", "customer_id", "name"}``."""
    email, customer_id, name = (tracker.get_slot(slot) for slot in IDENTITY_SLOTS)
    if not (email and customer_id and verified_this_session(tracker.events)):
        return None
    return {"email": str(email), "customer_id": str(customer_id), "name": str(name or "")}
