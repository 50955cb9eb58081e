"""Greeting: say hello and offer the topics the bot handles as quick replies."""

from __future__ import annotations

from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.events import EventType
from rasa_sdk.executor import CollectingDispatcher

TOPICS: tuple[tuple[str, str], ...] = (
    ("Where is my order?", "/order_status"),
    ("Reset my password", "/password_reset"),
    ("Returns and refunds", "/returns_policy"),
    ("Does it work with my phone?", "/compatibility"),
    ("Talk to a person", "/human_handoff"),
)


GREETING = "Hi! I'm Brightwave's virtual assistant. What can I help you with today?"


def greeting() -> dict[str, Any]:
    """The greeting message, with the main topics as quick replies."""
    return {
        "text": GREETING,
        "buttons": [{"title": title, "payload": payload} for title, payload in TOPICS],
    }


class ActionGreet(Action):
    def name(self) -> str:
        return "action_greet"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[EventType]:
        dispatcher.utter_message(**greeting())
        return []
