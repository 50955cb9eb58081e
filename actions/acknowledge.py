"""A word of acknowledgement before the first reply to a complaint.

A customer who writes "this is ridiculous, my order is late AGAIN" should hear
that before a flow asks for their email or an article is linked. Every reply
the bot gives to a customer's message comes from an action of this server
(forms ask their own questions, see actions/tier1/README.md), so the
acknowledgement is added in one place: ``AcknowledgingExecutor`` puts it in
front of the first reply to a message that reads as a complaint
(``is_complaint``), once per message, unless that reply already apologises.

What reads as a complaint: words of frustration or anger, contacting us again
about the same thing, insults to the service. A calm problem report ("my
buds won't pair") is not one: apologising for every question reads as
scripted.
"""

from __future__ import annotations

import re
from typing import Any

from rasa_sdk.executor import ActionExecutor, ActionExecutorRunResult

ACKNOWLEDGEMENT = "I'm sorry about this, I understand it's frustrating."

_COMPLAINT = re.compile(
    r"\b(?:"
    r"frustrat\w*|annoy\w*|ridiculous|unacceptable|disappoint\w*|useless|terrible|awful"
    r"|horrible|worst|pathetic|disgrace\w*|shameful|outrage\w*|furious|angry|upset"
    r"|fed up|sick of|tired of|had enough|waste of (?:my )?(?:time|money)|(?:is this|what) a joke"
    r"|(?:second|third|fourth|fifth|\d+(?:st|nd|rd|th)) time"
    r"|(?:again|still) (?:and again|nothing|no (?:reply|answer|refund|response))"
    r"|(?:nobody|no one) (?:gets back|answers|replies|helps|responds)"
    r"|not good enough|not acceptable|poor service|bad service"
    r")\b",
    re.IGNORECASE,
)
_APOLOGY = re.compile(r"\b(?:sorry|apologi[sz]e)", re.IGNORECASE)
# Actions whose reply is not the bot's answer to the customer: a relayed agent
# message, a handoff status, forwarding to the agent while one has the chat.
_NOT_ANSWERS = frozenset(
    {"action_relay_agent_message", "action_handoff_update", "action_forward_to_agent"}
)


def is_complaint(text: str) -> bool:
    """Whether a customer's message reads as a complaint (see the module docstring)."""
    return bool(_COMPLAINT.search(text or ""))


def first_reply_to(events: list[dict[str, Any]]) -> str | None:
    """The customer's latest message if nothing has answered it yet, else None."""
    for event in reversed(events):
        kind = event.get("event")
        if kind == "bot":
            return None
        if kind == "user":
            text = event.get("text")
            return text if isinstance(text, str) else None
    return None


def acknowledged(action: str, events: list[dict[str, Any]], responses: list[Any]) -> list[Any]:
    """``responses`` with the acknowledgement in front when ``action``'s reply
    is the first answer to a complaint and does not already apologise."""
    if action in _NOT_ANSWERS or not responses:
        return responses
    text = first_reply_to(events)
    if text is None or not is_complaint(text):
        return responses
    first = responses[0].get("text") if isinstance(responses[0], dict) else None
    if isinstance(first, str) and _APOLOGY.search(first):
        return responses
    return [{"text": ACKNOWLEDGEMENT}, *responses]


class AcknowledgingExecutor(ActionExecutor):
    """rasa-sdk's executor, adding ``acknowledged`` to each action's replies."""

    async def run(self, action_call: dict[str, Any]) -> ActionExecutorRunResult | None:
        result = await super().run(action_call)
        if result is not None:
            events = (action_call.get("tracker") or {}).get("events") or []
            result.responses = acknowledged(
                str(action_call.get("next_action") or ""), events, result.responses
            )
        return result
