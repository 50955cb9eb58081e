"""Trackers as the Rasa server sends them to a form's validation action or to
any other action, and what a dispatcher said."""

from __future__ import annotations

import email
import email.policy
from email.message import EmailMessage
from pathlib import Path
from typing import Any

from rasa_sdk import Tracker
from rasa_sdk.executor import CollectingDispatcher

SENDER = "c0ffee00c0ffee00c0ffee00c0ffee00"
EMMA = {
    "verified_email": "emma.devries@example.com",
    "customer_id": "C-1001",
    "customer_name": "Emma de Vries",
}


def person(email_address: str, customer_id: str, name: str) -> dict[str, str]:
    return {"verified_email": email_address, "customer_id": customer_id, "customer_name": name}


def verified_history(identity: dict[str, str]) -> list[dict[str, Any]]:
    """Events of a verification earlier in this session."""
    return [
        {"event": "action", "name": "order_status_form"},
        *({"event": "slot", "name": k, "value": v} for k, v in identity.items()),
    ]


def user_event(
    text: str,
    intent: str,
    entities: dict[str, str] | None = None,
    confidence: float = 1.0,
    ranking: list[tuple[str, float]] | None = None,
    metadata: dict[str, Any] | None = None,
) -> dict[str, Any]:
    parse: dict[str, Any] = {
        "text": text,
        "intent": {"name": intent, "confidence": confidence},
        "entities": [{"entity": k, "value": v} for k, v in (entities or {}).items()],
        "intent_ranking": [
            {"name": name, "confidence": score}
            for name, score in (ranking or [(intent, confidence)])
        ],
    }
    return {"event": "user", "text": text, "parse_data": parse, "metadata": metadata or {}}


def tracker(
    text: str = "",
    intent: str = "inform",
    *,
    entities: dict[str, str] | None = None,
    slots: dict[str, Any] | None = None,
    history: list[dict[str, Any]] | None = None,
    after: list[dict[str, Any]] | None = None,
    active_loop: str | None = None,
    confidence: float = 1.0,
    ranking: list[tuple[str, float]] | None = None,
    metadata: dict[str, Any] | None = None,
    sender_id: str = SENDER,
) -> Tracker:
    """A tracker whose latest message is ``text``; ``after`` are events after it."""
    user = user_event(text, intent, entities, confidence, ranking, metadata)
    events = [*(history or []), user, *(after or [])]
    latest = dict(user["parse_data"])
    if metadata:
        latest["metadata"] = metadata
    return Tracker.from_dict(
        {
            "sender_id": sender_id,
            "slots": dict(slots or {}),
            "latest_message": latest,
            "events": events,
            "paused": False,
            "followup_action": None,
            "active_loop": {"name": active_loop} if active_loop else {},
            "latest_action_name": "action_listen",
        }
    )


def form_tracker(
    form: str,
    kind: str,
    text: str = "",
    intent: str = "inform",
    *,
    requested: str | None = None,
    slots: dict[str, Any] | None = None,
    history: list[dict[str, Any]] | None = None,
    **kwargs: Any,
) -> Tracker:
    """The tracker Rasa sends to ``validate_<form>``: at the form's ``activation``,
    with the customer's ``answer`` to ``requested``, or on ``resume`` after an
    interruption was answered."""
    after: list[dict[str, Any]] = []
    if kind == "activation":
        after.append({"event": "active_loop", "name": form})
    elif kind == "resume":
        after += [
            {"event": "action_execution_rejected", "name": form},
            {"event": "action", "name": "utter_iamabot"},
            {"event": "bot", "text": "I'm a bot."},
        ]
    after += [
        {"event": "slot", "name": "requested_slot", "value": requested},
        {"event": "action", "name": form},
    ]
    all_slots = {"requested_slot": requested, **(slots or {})}
    return tracker(
        text, intent, slots=all_slots, history=history, after=after, active_loop=form, **kwargs
    )


def said(dispatcher: CollectingDispatcher) -> list[dict[str, Any]]:
    """The messages, with only the parts that were set."""
    keys = ("text", "buttons", "custom", "response")
    return [
        {key: m[key] for key in keys if m.get(key) not in (None, [], {})}
        for m in dispatcher.messages
    ]


def read_outbox(outbox: Path) -> list[EmailMessage]:
    messages = []
    for path in sorted(outbox.glob("*.eml")) if outbox.exists() else []:
        message = email.message_from_bytes(path.read_bytes(), policy=email.policy.default)
        assert isinstance(message, EmailMessage)
        messages.append(message)
    return messages


def body(message: EmailMessage) -> str:
    part = message.get_body(("plain",))
    assert part is not None
    return str(part.get_content())


CUSTOMERS = {
    "C-1001": ("emma.devries@example.com", "Emma de Vries"),
    "C-1002": ("lukas.schneider@example.org", "Lukas Schneider"),
    "C-1003": ("sophie.martin@example.net", "Sophie Martin"),
    "C-1004": ("oliver.bennett@example.com", "Oliver Bennett"),
    "C-1005": ("aoife.byrne@example.org", "Aoife Byrne"),
    "C-1006": ("daan.jansen@example.net", "Daan Jansen"),
    "C-1007": ("marco.rossi@example.com", "Marco Rossi"),
    "C-1008": ("anna.kowalska@example.org", "Anna Kowalska"),
    "C-1009": ("lucas.peeters@example.net", "Lucas Peeters"),
    "C-1010": ("elena.garcia@example.com", "Elena García"),
    "C-1011": ("jonas.lindqvist@example.org", "Jonas Lindqvist"),
    "C-1012": ("hannah.gruber@example.net", "Hannah Gruber"),
}


def verified_tracker(
    customer_id: str, slots: dict[str, Any] | None = None, **kwargs: Any
) -> Tracker:
    """A tracker of a conversation in which ``customer_id`` was verified."""
    email_address, name = CUSTOMERS[customer_id]
    identity = person(email_address, customer_id, name)
    kwargs.setdefault("text", "")
    kwargs.setdefault("intent", "inform")
    text, intent = kwargs.pop("text"), kwargs.pop("intent")
    return tracker(
        text,
        intent,
        slots={**identity, **(slots or {})},
        history=[*verified_history(identity), *kwargs.pop("history", [])],
        **kwargs,
    )


async def run_action(
    action: Any, current: Tracker
) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    dispatcher = CollectingDispatcher()
    events = await action.run(dispatcher, current, {})
    return events, said(dispatcher)
