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
