from __future__ import annotations

from typing import Any

from actions.transcript import context, topic, transcript


def user(text: str, intent: str, ts: float) -> dict[str, Any]:
    return {
        "event": "user",
        "text": text,
        "timestamp": ts,
        "parse_data": {"intent": {"name": intent}},
    }


EVENTS: list[dict[str, Any]] = [
    {"event": "action", "name": "action_session_start", "timestamp": 1795000000.0},
    user("where is my order BW-104233", "order_status", 1795000001.0),
    {"event": "action", "name": "action_order_status", "timestamp": 1795000002.0},
    {"event": "bot", "text": "It shipped yesterday.", "timestamp": 1795000002.5, "data": {}},
    {
        "event": "bot",
        "text": "Track your order",
        "timestamp": 1795000003.0,
        "data": {"custom": {"type": "article", "doc_id": "track-order"}},
    },
    user("no", "deny", 1795000004.0),
    user("I want a person", "human_handoff", 1795000005.0),
    {"event": "action", "name": "action_handoff", "timestamp": 1795000005.5},
    user("", "agent_message", 1795000006.0),
    {
        "event": "bot",
        "text": "Hi, Alex here",
        "timestamp": 1795000006.5,
        "data": {
            "custom": {"type": "agent_message", "agent": {"name": "Alex"}, "text": "Hi, Alex here"}
        },
    },
]


def test_the_transcript_has_customer_bot_and_agent_turns_in_order() -> None:
    assert transcript(EVENTS) == [
        {
            "from": "customer",
            "text": "where is my order BW-104233",
            "ts": "2026-11-18T11:06:41+00:00",
        },
        {"from": "bot", "text": "It shipped yesterday.", "ts": "2026-11-18T11:06:42+00:00"},
        {"from": "bot", "text": "Track your order", "ts": "2026-11-18T11:06:43+00:00"},
        {"from": "customer", "text": "no", "ts": "2026-11-18T11:06:44+00:00"},
        {"from": "customer", "text": "I want a person", "ts": "2026-11-18T11:06:45+00:00"},
        {
            "from": "agent",
            "name": "Alex",
            "text": "Hi, Alex here",
            "ts": "2026-11-18T11:06:46+00:00",
        },
    ]


def test_context_lists_what_the_bot_tried() -> None:
    assert context(EVENTS) == {
        "intents": ["order_status", "human_handoff"],
        "actions": ["action_order_status"],
        "kb_articles": ["track-order"],
    }


def test_the_topic_is_the_latest_specific_request() -> None:
    assert topic(EVENTS) == "order_status"
    assert topic([user("human please", "human_handoff", 1.0)]) == "human_handoff"
    assert topic([user("hi", "greet", 1.0)]) == "human_handoff"


def ranked(text: str, ranking: list[tuple[str, float]]) -> dict[str, Any]:
    event = user(text, ranking[0][0], 1795000010.0)
    event["parse_data"]["intent_ranking"] = [{"name": n, "confidence": c} for n, c in ranking]
    return event


def test_a_request_for_a_person_that_names_its_topic_is_about_that_topic() -> None:
    """Failure class 4 of issue 23: "an agent about my invoice" went to the
    general queue; NLU's next guess names the topic."""
    asked = ranked(
        "I want to speak with an agent about my invoice",
        [("human_handoff", 0.7), ("invoice_request", 0.2), ("out_of_scope", 0.05)],
    )
    assert topic([asked]) == "invoice_request"
    # a bare request, or a topic NLU barely considered, names nothing
    bare = ranked("I want a human please", [("human_handoff", 0.8), ("invoice_request", 0.15)])
    assert topic([bare]) == "human_handoff"
    faint = ranked(
        "I want to speak with an agent right now",
        [("human_handoff", 0.9), ("greet", 0.05), ("invoice_request", 0.04)],
    )
    assert topic([faint]) == "human_handoff"
    # an earlier specific topic still counts when the request names none
    assert topic([user("where is my order", "order_status", 1.0), bare]) == "order_status"
