"""Handing a conversation to a human queue, and what happens while one has it.

``action_handoff`` stores the escalation (the handoff service's durable queue
delivers it to Slack) and tells the customer what happens next;
``action_forward_to_agent`` relays customer messages to the agent's thread;
``action_handoff_update`` tells the customer what the agents did;
``action_record_csat`` / ``action_record_csat_comment`` store the rating.
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.events import ActiveLoop, EventType, SlotSet
from rasa_sdk.executor import CollectingDispatcher

from actions import deps
from actions.transcript import context, topic, transcript

logger = logging.getLogger(__name__)

TIER_TWO_TOPICS = frozenset({"damaged_item", "warranty_claim", "double_charge"})
TROUBLE = "Sorry, I couldn't reach our support team just now. Please try again in a few minutes."


def reason_for(tracker: Tracker) -> str:
    """Why the bot hands off, from the slot a flow set or the latest intent."""
    explicit = tracker.get_slot("handoff_reason")
    if explicit:
        return str(explicit)
    intent = (tracker.latest_message.get("intent") or {}).get("name")
    if intent == "human_handoff":
        return "explicit_request"
    if intent == "complaint":
        return "frustration"
    if intent in TIER_TWO_TOPICS:
        return "tier2_topic"
    if intent == "nlu_fallback":
        return "low_confidence"
    return "explicit_request"


def customer_identity(tracker: Tracker) -> dict[str, Any]:
    """The verified identity the bot holds, if any (set by the Tier 1 flows)."""
    email = tracker.get_slot("verified_email")
    if not email:
        return {"verified": False}
    return {"verified": True, "email": email, "name": tracker.get_slot("customer_name")}


def queued_message(ticket: Any) -> dict[str, Any]:
    """What the customer is told once the escalation is stored."""
    if ticket.open_now:
        text = (
            f"I'm connecting you with our {ticket.team}. Someone usually replies within "
            f"{ticket.usual_wait_minutes} minutes. You don't need to repeat anything: "
            "they can see our conversation."
        )
    else:
        opens = ticket.opens_at.strftime("%A %H:%M %Z") if ticket.opens_at else "soon"
        text = (
            f"Our {ticket.team} is offline right now. Your request is saved and they will "
            f"pick it up when they're back ({opens}). You can keep writing here and they "
            "will see it."
        )
    return {
        "text": text,
        "json_message": {
            "type": "handoff_queued",
            "tier": ticket.tier,
            "team": ticket.team,
            "wait_minutes": ticket.usual_wait_minutes,
            "open_now": ticket.open_now,
            "opens_at": ticket.opens_at.isoformat() if ticket.opens_at else None,
        },
    }


class ActionHandoff(Action):
    def name(self) -> str:
        return "action_handoff"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[EventType]:
        from handoff import EscalationRequest

        count = int(tracker.get_slot("handoff_count") or 0) + 1
        request = EscalationRequest(
            conversation_id=tracker.sender_id,
            reason=reason_for(tracker),
            category=topic(tracker.events),
            transcript=transcript(tracker.events),
            customer=customer_identity(tracker),
            context=context(tracker.events),
            attempt=count,
        )
        try:
            ticket = await asyncio.to_thread(deps.get().handoff.open, request)
        except Exception:  # boundary: the customer hears an apology, never the error
            logger.exception("handoff failed", extra={"conversation_id": tracker.sender_id})
            dispatcher.utter_message(text=TROUBLE)
            return []
        dispatcher.utter_message(**queued_message(ticket))
        events: list[EventType] = [
            SlotSet("handoff_active", True),
            SlotSet("escalation_id", ticket.escalation_id),
            SlotSet("handoff_count", float(count)),
        ]
        if tracker.active_loop.get("name"):
            events.append(ActiveLoop(None))
        return events


class ActionForwardToAgent(Action):
    def name(self) -> str:
        return "action_forward_to_agent"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[EventType]:
        message = tracker.latest_message
        text = message.get("text") or ""
        key = str(
            (message.get("metadata") or {}).get("message_id") or tracker.events[-1].get("timestamp")
        )
        try:
            relayed = await asyncio.to_thread(
                deps.get().handoff.customer_message, tracker.sender_id, text, key
            )
        except Exception:  # boundary
            logger.exception("relay to agent failed", extra={"conversation_id": tracker.sender_id})
            dispatcher.utter_message(text=TROUBLE)
            return []
        if relayed:
            return []
        # The escalation was closed while this slot said otherwise: back to the bot.
        dispatcher.utter_message(
            text="You're back with Brightwave's assistant. How can I help?",
            json_message={"type": "bot_resumed"},
        )
        return [SlotSet("handoff_active", False)]


def _entity(tracker: Tracker, name: str) -> Any:
    return next(tracker.get_latest_entity_values(name), None)


class ActionHandoffUpdate(Action):
    def name(self) -> str:
        return "action_handoff_update"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[EventType]:
        kind = _entity(tracker, "kind")
        agent = _entity(tracker, "agent_name") or "Our support agent"
        if kind == "agent_joined":
            dispatcher.utter_message(
                text=f"{agent} has joined the chat.",
                json_message={"type": "agent_joined", "agent": {"name": agent}},
            )
            return []
        if kind == "resolved":
            dispatcher.utter_message(
                text=f"{agent} has left the chat. Thanks for your patience!",
                json_message={"type": "agent_left", "agent": {"name": agent}},
            )
            dispatcher.utter_message(
                text="How would you rate the help you got, from 1 (poor) to 5 (excellent)?",
                buttons=[
                    {"title": str(score), "payload": f'/csat{{"score": {score}}}'}
                    for score in range(1, 6)
                ],
                json_message={"type": "csat_request"},
            )
            return [SlotSet("handoff_active", False)]
        if kind == "returned":
            dispatcher.utter_message(
                text="You're back with Brightwave's assistant. Is there anything else I can "
                "help you with?",
                json_message={"type": "bot_resumed", "agent": {"name": agent}},
            )
            return [SlotSet("handoff_active", False)]
        if kind == "transferred":
            team = _entity(tracker, "team") or "another team"
            dispatcher.utter_message(
                text=f"I've passed your conversation to our {team}, with everything so far. "
                "They'll reply here.",
                json_message={"type": "handoff_queued", "team": team},
            )
            return []
        logger.error(
            "unknown handoff update %r", kind, extra={"conversation_id": tracker.sender_id}
        )
        return []


class ActionRecordCsat(Action):
    def name(self) -> str:
        return "action_record_csat"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[EventType]:
        try:
            score = int(_entity(tracker, "score"))
        except (TypeError, ValueError):
            score = 0
        if not 1 <= score <= 5:
            dispatcher.utter_message(text="Please pick a rating from 1 to 5.")
            return []
        try:
            await asyncio.to_thread(deps.get().handoff.record_csat, tracker.sender_id, score, None)
        except Exception:  # boundary
            logger.exception("csat not stored", extra={"conversation_id": tracker.sender_id})
        dispatcher.utter_message(
            text="Thank you! Anything you'd like to add? Just type it, or say no.",
        )
        return [SlotSet("awaiting_csat_comment", True)]


class ActionRecordCsatComment(Action):
    def name(self) -> str:
        return "action_record_csat_comment"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[EventType]:
        text = (tracker.latest_message.get("text") or "").strip()
        intent = (tracker.latest_message.get("intent") or {}).get("name")
        if text and intent not in ("deny", "stop", "thanks", "goodbye"):
            try:
                await asyncio.to_thread(
                    deps.get().handoff.record_csat_comment, tracker.sender_id, text
                )
            except Exception:  # boundary
                logger.exception(
                    "csat comment not stored", extra={"conversation_id": tracker.sender_id}
                )
            dispatcher.utter_message(text="Thanks, I've passed that on to the team.")
        else:
            dispatcher.utter_message(text="No problem. Thanks for chatting with Brightwave!")
        return [SlotSet("awaiting_csat_comment", False)]
