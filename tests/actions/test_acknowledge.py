"""A complaint hears an acknowledgement before its first reply, once, and a
calm question does not (``actions.acknowledge``), through the action server's
executor as Rasa calls it."""

from __future__ import annotations

from typing import Any

import pytest
from rasa_sdk import Action, Tracker
from rasa_sdk.executor import CollectingDispatcher

from actions.acknowledge import ACKNOWLEDGEMENT, AcknowledgingExecutor, acknowledged, is_complaint


@pytest.mark.parametrize(
    "text",
    [
        "this is really frustrating, where are my cameras??",
        "your app is useless, it logs me out every day",
        "very disappointed, still no refund",
        "this is the third time I'm contacting you about this",
        "I'm fed up with waiting for this parcel",
        "nobody gets back to me, terrible service",
        "that's not good enough, I want to talk to someone",
        "is this a joke? my order is late again",
    ],
)
def test_frustration_reads_as_a_complaint(text: str) -> None:
    assert is_complaint(text)


@pytest.mark.parametrize(
    "text",
    [
        "how long does delivery to Belgium usually take?",
        "my buds won't pair with my new phone",
        "the app still shows the old address",
        "can you tell me a joke",
        "I'd like to cancel my subscription",
        "",
    ],
)
def test_a_calm_question_or_problem_report_is_not_one(text: str) -> None:
    assert not is_complaint(text)


def user(text: str) -> dict[str, Any]:
    return {"event": "user", "text": text}


REPLY = {"text": "Could you tell me the email address of your account?"}
ACK = {"text": ACKNOWLEDGEMENT}


def test_the_first_reply_to_a_complaint_is_acknowledged() -> None:
    events = [user("hi"), {"event": "bot", "text": "Hello!"}, user("this is ridiculous")]
    assert acknowledged("validate_order_status_form", events, [REPLY]) == [ACK, REPLY]


def test_only_the_first_reply_of_the_turn_and_only_once() -> None:
    """A second action in the same turn runs after the bot has spoken."""
    events = [user("this is ridiculous"), {"event": "bot", "text": "I'm sorry..."}]
    assert acknowledged("action_kb_answer", events, [REPLY]) == [REPLY]


def test_a_reply_that_already_apologises_is_left_alone() -> None:
    apology = {"text": "Sorry, I couldn't reach our support team just now."}
    assert acknowledged("action_handoff", [user("useless bot")], [apology]) == [apology]


def test_silence_and_relayed_messages_get_nothing_added() -> None:
    complaint = [user("terrible service")]
    assert acknowledged("action_kb_answer", complaint, []) == []
    relayed = {"text": "Thanks, I've added that to your request."}
    assert acknowledged("action_forward_to_agent", complaint, [relayed]) == [relayed]
    agent = {"text": "Hi, Alex here"}
    assert acknowledged("action_relay_agent_message", complaint, [agent]) == [agent]


def test_a_calm_message_gets_its_reply_unchanged() -> None:
    assert acknowledged("action_kb_answer", [user("how do I pair my buds")], [REPLY]) == [REPLY]


class AskEmail(Action):
    def name(self) -> str:
        return "test_ask_email"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[Any]:
        dispatcher.utter_message(text=REPLY["text"])
        return []


def action_call(text: str) -> dict[str, Any]:
    latest = {"text": text, "intent": {"name": "order_status", "confidence": 0.9}}
    return {
        "next_action": "test_ask_email",
        "sender_id": "s1",
        "tracker": {
            "sender_id": "s1",
            "slots": {},
            "latest_message": latest,
            "events": [{"event": "action", "name": "action_listen"}, user(text)],
            "active_loop": {},
            "latest_action_name": "action_listen",
        },
        "domain": {},
    }


async def test_the_executor_puts_the_acknowledgement_in_front_of_the_action_reply() -> None:
    executor = AcknowledgingExecutor()
    executor.register_action(AskEmail())
    complaint = await executor.run(action_call("my order is late AGAIN, so annoying"))
    calm = await executor.run(action_call("where is my order"))
    assert complaint is not None and calm is not None
    assert [r["text"] for r in complaint.responses] == [ACKNOWLEDGEMENT, REPLY["text"]]
    assert [r["text"] for r in calm.responses] == [REPLY["text"]]
    assert complaint.events == calm.events == []
