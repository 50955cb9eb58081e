"""Stopping a flow: "stop", "never mind" in the middle of a form (or outside one)."""

from __future__ import annotations

from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.events import ActiveLoop, EventType, SlotSet
from rasa_sdk.executor import CollectingDispatcher

from actions.backends import Outcome
from actions.tier1 import outcomes
from actions.tier1.base import FLOW_SLOTS, FLOWS, REQUESTED_SLOT, VERIFY_SLOTS, context, utter
from actions.tier1.messages import message

STOPPED = (
    "OK, I've stopped there; nothing has been changed. Is there anything else I can help with?"
)
NOTHING_TO_STOP = "OK. Is there anything else I can help you with?"


class ActionCancelFlow(Action):
    def name(self) -> str:
        return "action_cancel_flow"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[EventType]:
        ctx = context(tracker)
        active = tracker.active_loop.get("name")
        stopped = [active] if active in FLOWS else []
        stopped += [entry.get("form") for entry in ctx.get("interrupted_flows") or []]
        for form in stopped:
            info = FLOWS.get(str(form))
            if info is not None:
                await outcomes.record(ctx, info.category, Outcome.ABANDONED, "stopped")
        events: list[EventType] = []
        if active:
            events += [ActiveLoop(None), SlotSet(REQUESTED_SLOT, None)]
        ctx.clear(*FLOW_SLOTS, *VERIFY_SLOTS, "flow_failed", "resuming_flow")
        if ctx.get("interrupted_flows"):
            ctx.set("interrupted_flows", [])
        ctx.say(message(STOPPED if stopped else NOTHING_TO_STOP))
        utter(dispatcher, ctx.messages)
        return events + ctx.slot_events()
