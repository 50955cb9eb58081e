"""Actions of the rasa-sdk compatibility bot (served by ``python -m rasa_sdk``)."""

from __future__ import annotations

from typing import Any

from rasa_sdk import Action, FormValidationAction, Tracker
from rasa_sdk.events import EventType, FollowupAction, SlotSet
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict

KNOWN_DEVICES = {"pulse 2": "pulse-2", "buds pro": "buds-pro"}


class ValidateRepairForm(FormValidationAction):
    def name(self) -> str:
        return "validate_repair_form"

    def validate_device(
        self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> dict[str, Any]:
        device = KNOWN_DEVICES.get(str(value).lower())
        if device is None:
            dispatcher.utter_message(text=f"We don't repair '{value}'.")
            return {"device": None}
        return {"device": device}

    def validate_serial(
        self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> dict[str, Any]:
        return {"serial": str(value).upper()}


class ActionAskSerial(Action):
    def name(self) -> str:
        return "action_ask_serial"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[EventType]:
        dispatcher.utter_message(
            text=f"What is the serial number of your {tracker.get_slot('device')}?",
            buttons=[{"title": "I can't find it", "payload": '/inform{"serial": "unknown"}'}],
        )
        return []


class ActionOpenTicket(Action):
    def name(self) -> str:
        return "action_open_ticket"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[EventType]:
        ticket = f"R-{tracker.get_slot('serial')}"
        return [SlotSet("ticket", ticket), FollowupAction("action_confirm_ticket")]


class ActionConfirmTicket(Action):
    def name(self) -> str:
        return "action_confirm_ticket"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[EventType]:
        dispatcher.utter_message(response="utter_ticket_confirmed")
        dispatcher.utter_message(json_message={"ticket": tracker.get_slot("ticket")})
        return []
