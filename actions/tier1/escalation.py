"""Offering a person, and handing over when the customer accepts.

``action_offer_human`` asks "shall I connect you with a person?" (why: the
``handoff_reason`` slot a flow set); rules send a yes to ``action_escalate``
and a no to ``action_decline_human``. ``action_escalate`` runs
``action_handoff`` (handoff flow, issue 5), which records the outcome
``escalated``.
"""

from __future__ import annotations

from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.events import EventType, FollowupAction, SlotSet
from rasa_sdk.executor import CollectingDispatcher

from actions.backends import Outcome
from actions.tier1 import outcomes
from actions.tier1.base import HANDOFF, context, utter
from actions.tier1.messages import button, message
from actions.transcript import topic

OFFERS = {
    "form_failed": "Would you like me to connect you with a person from our support team?",
    "backend_error": (
        "Would you like a person from our support team to take it from here? They can see "
        "our conversation."
    ),
}
DEFAULT_OFFER = "Would you like me to pass this to a person from our support team?"
OFFER_BUTTONS = [button("Yes, connect me", "/affirm"), button("No, thanks", "/deny")]
DECLINED = "OK. Is there anything else I can help you with?"


def offer(reason: str | None) -> dict[str, Any]:
    return message(OFFERS.get(reason or "", DEFAULT_OFFER), OFFER_BUTTONS)


def category(tracker: Tracker) -> str:
    """What the escalation is about: the flow in progress, else the topic."""
    return str(tracker.get_slot("flow_category") or topic(tracker.events, default="unknown"))


class ActionOfferHuman(Action):
    def name(self) -> str:
        return "action_offer_human"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[EventType]:
        dispatcher.utter_message(**offer(tracker.get_slot("handoff_reason")))
        return []


class ActionEscalate(Action):
    def name(self) -> str:
        return "action_escalate"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[EventType]:
        reason = tracker.get_slot("handoff_reason") or "explicit_request"
        return [SlotSet("handoff_reason", reason), FollowupAction(HANDOFF)]


class ActionDeclineHuman(Action):
    def name(self) -> str:
        return "action_decline_human"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[EventType]:
        ctx = context(tracker)
        reason = tracker.get_slot("handoff_reason")
        if reason in ("form_failed", "backend_error"):
            await outcomes.record(ctx, category(tracker), Outcome.ABANDONED, f"declined:{reason}")
        ctx.say(message(DECLINED))
        utter(dispatcher, ctx.messages)
        return [SlotSet("handoff_reason", None)]
