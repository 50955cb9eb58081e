"""Relay a human agent's reply (sent by the handoff service) to the customer.

The handoff service calls Rasa's ``trigger_intent`` API with intent
``agent_message`` and entities ``agent_text`` and ``agent_name``; this action
utters the text through the conversation's channel, so the customer's widget
shows it live and the Rasa tracker keeps it in the transcript.
"""

from __future__ import annotations

import logging
from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.events import EventType
from rasa_sdk.executor import CollectingDispatcher

from core.contract import AGENT_MESSAGE, AGENT_NAME, AGENT_TEXT

logger = logging.getLogger(__name__)


def agent_reply(entities: list[dict[str, Any]]) -> dict[str, Any] | None:
    """The widget message for an agent's reply, or None if there is no text."""
    values = {entity.get("entity"): entity.get("value") for entity in entities}
    text = values.get(AGENT_TEXT)
    if not isinstance(text, str) or not text.strip():
        return None
    name = values.get(AGENT_NAME)
    agent = {"name": name if isinstance(name, str) and name.strip() else "Support agent"}
    return {
        "text": text,
        "json_message": {"type": AGENT_MESSAGE, "agent": agent, "text": text},
    }


class ActionRelayAgentMessage(Action):
    def name(self) -> str:
        return "action_relay_agent_message"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[EventType]:
        reply = agent_reply(tracker.latest_message.get("entities", []))
        if reply is None:
            logger.error(
                "agent_message without agent_text ignored",
                extra={"conversation_id": tracker.sender_id},
            )
            return []
        dispatcher.utter_message(**reply)
        return []
