"""Handing a conversation to a human queue, and what happens while one has it.

``action_handoff`` stores the escalation (the handoff service's durable queue
delivers it to Slack), records the outcome ``escalated`` for the request's
category (the one place that does: flows and rules only ask for the handoff)
and tells the customer what happens next;
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
from actions.backends import Outcome
from actions.tier1.parsing import find_email
from actions.tier1.turn import identity
from actions.transcript import context, topic, transcript
from core.contract import AGENT_NAME, HANDOFF_ACTIVE, UPDATE_KIND

logger = logging.getLogger(__name__)

TIER_TWO_TOPICS = frozenset({"damaged_item", "warranty_claim", "double_charge"})
# Reasons a Tier 1 flow gives when it hands over: the flow's category is the
# request's category then.
FLOW_REASONS = frozenset({"form_failed", "backend_error", "tier2_topic"})
TROUBLE = "Sorry, I couldn't reach our support team just now. Please try again in a few minutes."
ASK_EMAIL = "If you'd like their answer by email as well, just type your email address here."


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


def request_category(tracker: Tracker) -> str:
    """What the escalation is about: the flow that handed over (or offered the
    person the customer accepted), the category of the tier-2 article after
    which the customer accepted our team, else the customer's latest topic."""
    flow = tracker.get_slot("flow_category")
    reason = tracker.get_slot("handoff_reason")
    if flow and reason in FLOW_REASONS:
        return str(flow)
    article_category = tracker.get_slot("kb_category")
    if reason == "kb_tier2" and article_category:
        # After a tier-2 article: its help-center category's team (routing.yml).
        return str(article_category)
    return topic(tracker.events)


async def record_escalated(tracker: Tracker, category: str, reason: str) -> None:
    """Stores the outcome ``escalated`` for ``category`` (as routed: triage may
    have refined the bot's); a database problem is logged, never shown to the
    customer."""
    try:
        await deps.get().outcomes.record(tracker.sender_id, category, Outcome.ESCALATED, reason)
    except Exception:  # boundary: metrics must not break the handoff
        logger.exception(
            "escalated outcome not recorded", extra={"conversation_id": tracker.sender_id}
        )


def customer_identity(tracker: Tracker) -> dict[str, Any]:
    """The identity the Tier 1 flows verified in this session, if any (Rasa
    carries slots into a new session; an identity from an earlier one does
    not count, see ``actions.tier1.turn.identity``)."""
    verified = identity(tracker)
    if verified is None:
        return {"verified": False}
    return {"verified": True, "email": verified["email"], "name": verified["name"] or None}


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
            f"will see it. {ASK_EMAIL}"
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
        reason = reason_for(tracker)
        request = EscalationRequest(
            conversation_id=tracker.sender_id,
            reason=reason,
            category=request_category(tracker),
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
        if ticket.created:  # not again when Rasa retries the action
            await record_escalated(tracker, ticket.category or request.category, reason)
        dispatcher.utter_message(**queued_message(ticket))
        events: list[EventType] = [
            SlotSet(HANDOFF_ACTIVE, True),
            SlotSet("escalation_id", ticket.escalation_id),
            SlotSet("handoff_count", float(count)),
        ]
        if tracker.get_slot("handoff_reason") is not None:
            # Consumed: a reason left behind would mislabel a later handoff.
            events.append(SlotSet("handoff_reason", None))
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
        handoff = deps.get().handoff
        try:
            relayed = await asyncio.to_thread(
                handoff.customer_message, tracker.sender_id, text, key
            )
            email = find_email(text) if relayed else None
            left = None
            if email is not None:
                left = await asyncio.to_thread(
                    handoff.leave_contact_email, tracker.sender_id, email
                )
        except Exception:  # boundary
            logger.exception("relay to agent failed", extra={"conversation_id": tracker.sender_id})
            dispatcher.utter_message(text=TROUBLE)
            return []
        if left:
            # The queue is closed: confirm the address the answer will go to.
            dispatcher.utter_message(
                text=f"Thanks! Our {left.team} will also send their answer to {email}.",
                json_message={"type": "contact_email_saved", "email": email},
            )
        elif relayed is not None and relayed.status in UNCLAIMED and not _just_confirmed(tracker):
            # Nobody has the chat yet: say the message is not lost in a void.
            dispatcher.utter_message(
                text="Thanks, I've added that to your request. The team will see it as soon "
                "as someone picks up your conversation.",
                json_message={"type": RELAYED_TO_TEAM, "team": relayed.team},
            )
        if relayed is not None:
            return []
        # The escalation was closed while this slot said otherwise: back to the bot.
        dispatcher.utter_message(
            text="You're back with Brightwave's assistant. How can I help?",
            json_message={"type": "bot_resumed"},
        )
        return [SlotSet(HANDOFF_ACTIVE, False)]


UNCLAIMED = ("queued", "posted")
RELAYED_TO_TEAM = "relayed_to_team"


def _just_confirmed(tracker: Tracker) -> bool:
    """Whether the bot's last message already confirmed a relayed message:
    several messages in a row while waiting get one confirmation."""
    for event in reversed(tracker.events):
        if event.get("event") == "bot":
            custom = (event.get("data") or {}).get("custom") or {}
            return isinstance(custom, dict) and custom.get("type") == RELAYED_TO_TEAM
    return False


def _entity(tracker: Tracker, name: str) -> Any:
    return next(tracker.get_latest_entity_values(name), None)


class ActionHandoffUpdate(Action):
    def name(self) -> str:
        return "action_handoff_update"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[EventType]:
        kind = _entity(tracker, UPDATE_KIND)
        agent = _entity(tracker, AGENT_NAME) or "Our support agent"
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
            return [SlotSet(HANDOFF_ACTIVE, False)]
        if kind == "returned":
            dispatcher.utter_message(
                text="You're back with Brightwave's assistant. Is there anything else I can "
                "help you with?",
                json_message={"type": "bot_resumed", "agent": {"name": agent}},
            )
            return [SlotSet(HANDOFF_ACTIVE, False)]
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


# Short replies with these intents decline the comment ("no", "no thanks", "bye").
NO_COMMENT_INTENTS = frozenset({"deny", "stop", "thanks", "goodbye"})
NO_COMMENT_MAX_WORDS = 3


def is_comment(text: str, intent: str | None) -> bool:
    """Whether the reply to "anything you'd like to add?" is a comment: any
    text but a short no, thanks or goodbye ("Alex was quick and kind" is one,
    whatever NLU makes of it)."""
    if not text or text.startswith("/"):
        return False
    return intent not in NO_COMMENT_INTENTS or len(text.split()) > NO_COMMENT_MAX_WORDS


class ActionRecordCsatComment(Action):
    def name(self) -> str:
        return "action_record_csat_comment"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[EventType]:
        text = (tracker.latest_message.get("text") or "").strip()
        intent = (tracker.latest_message.get("intent") or {}).get("name")
        if is_comment(text, intent):
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
