"""A customer's conversation through every process: widget socket -> Rasa ->
action server -> back to the widget, and an agent's message pushed later."""

from __future__ import annotations

import sqlite3
import uuid
from pathlib import Path
from typing import Any

import httpx
import pytest
import sqlalchemy as sa

from launcher.stack import Stack
from tests.e2e.conftest import WidgetClient, stack_settings

pytestmark = pytest.mark.e2e

GREETING = {
    "text": "Hi! I'm Brightwave's virtual assistant. What can I help you with today?",
    "buttons": [
        {"title": "Where is my order?", "payload": "/order_status"},
        {"title": "Reset my password", "payload": "/password_reset"},
        {"title": "Returns and refunds", "payload": "/returns_policy"},
        {"title": "Does it work with my phone?", "payload": "/compatibility"},
        {"title": "Talk to a person", "payload": "/human_handoff"},
    ],
}


def tracker(stack: Stack, session_id: str) -> dict[str, Any]:
    response = httpx.get(
        f"{stack.rasa_url}/conversations/{session_id}/tracker",
        params={"token": stack.token},
        timeout=10,
    )
    response.raise_for_status()
    return response.json()


def user_texts(tracker_json: dict[str, Any]) -> list[str]:
    return [e["text"] for e in tracker_json["events"] if e["event"] == "user"]


def push_agent_message(stack: Stack, session_id: str, text: str, agent: str) -> httpx.Response:
    return httpx.post(
        f"{stack.rasa_url}/conversations/{session_id}/trigger_intent",
        params={"output_channel": "latest", "token": stack.token},
        json={"name": "agent_message", "entities": {"agent_text": text, "agent_name": agent}},
        timeout=30,
    )


async def test_a_greeting_is_answered_by_the_custom_action(widget: WidgetClient) -> None:
    assert await widget.say("hello there") == [GREETING]


async def test_an_agent_message_is_pushed_into_the_open_session_later(
    stack: Stack, widget: WidgetClient
) -> None:
    await widget.say("hi")
    response = push_agent_message(stack, widget.session_id or "", "Hello, I'm on it.", "Alex")
    assert response.status_code == 200
    assert await widget.next_message() == {
        "text": "Hello, I'm on it.",
        "custom": {"type": "agent_message", "agent": {"name": "Alex"}, "text": "Hello, I'm on it."},
    }
    bot_events = [
        e for e in tracker(stack, widget.session_id or "")["events"] if e["event"] == "bot"
    ]
    assert bot_events[-1]["text"] == "Hello, I'm on it."


async def test_every_tab_of_a_session_receives_pushed_messages(stack: Stack) -> None:
    first = WidgetClient(stack.rasa_url)
    session_id = await first.connect()
    second = WidgetClient(stack.rasa_url)
    assert await second.connect(session_id) == session_id
    try:
        await first.say("hi")
        # The second tab also sees the bot's reply to the first; wait for it so
        # it cannot be mistaken for the pushed message below.
        assert await second.next_message() == GREETING
        push_agent_message(stack, session_id, "Both tabs see this.", "Sam")
        for client in (first, second):
            message = await client.next_message()
            assert message["custom"]["agent"] == {"name": "Sam"}
    finally:
        await first.close()
        await second.close()


async def test_the_conversation_is_stored_in_the_sql_tracker_store(
    stack: Stack, widget: WidgetClient
) -> None:
    await widget.say("hello")
    database = stack.settings.rasa_tracker_store_url.removeprefix("sqlite:///")
    with sqlite3.connect(database) as connection:
        rows = connection.execute(
            "SELECT type_name, intent_name, action_name FROM events WHERE sender_id = ? "
            "ORDER BY id",
            (widget.session_id,),
        ).fetchall()
    assert rows == [
        ("action", None, "action_session_start"),
        ("session_started", None, None),
        ("action", None, "action_listen"),
        ("user", "greet", None),
        ("user_featurization", None, None),
        ("action", None, "action_greet"),
        ("bot", None, None),
        ("action", None, "action_listen"),
    ]


async def test_malformed_session_ids_get_a_fresh_one(stack: Stack) -> None:
    client = WidgetClient(stack.rasa_url)
    session_id = await client.connect("../../admin")
    try:
        assert session_id != "../../admin"
        assert len(session_id) == 32 and int(session_id, 16) >= 0
    finally:
        await client.close()


async def test_messages_without_a_session_are_rejected(widget: WidgetClient) -> None:
    assert await widget.send({"message": "hi"}) == {
        "status": "rejected",
        "reason": "send session_request first",
    }
    assert await widget.send("just a string") == {
        "status": "rejected",
        "reason": "payload must be an object",
    }
    assert widget.drain() == []


async def test_a_resent_message_is_processed_once(stack: Stack, widget: WidgetClient) -> None:
    message_id = uuid.uuid4().hex
    assert await widget.say("hello", message_id=message_id) == [GREETING]
    ack = await widget.send(
        {"session_id": widget.session_id, "message": "hello", "message_id": message_id}
    )
    assert ack == {"status": "duplicate", "message_id": message_id}
    assert widget.drain() == []
    assert user_texts(tracker(stack, widget.session_id or "")) == ["hello"]


async def test_a_huge_message_is_cut_and_flagged(stack: Stack, widget: WidgetClient) -> None:
    await widget.say("hello " + "a" * 10_000)
    latest = tracker(stack, widget.session_id or "")["latest_message"]
    assert len(latest["text"]) == 4000
    user_event = [
        e for e in tracker(stack, widget.session_id or "")["events"] if e["event"] == "user"
    ]
    metadata = dict(user_event[-1]["metadata"])
    assert len(metadata.pop("model_id")) == 32  # Rasa adds the model's id
    assert metadata == {"truncated_from": 10_006, "assistant_id": "frontline"}


def test_tracker_rows_use_the_configured_database_only(stack: Stack) -> None:
    """The custom tracker store really is the SQL one (Rasa silently falls back
    to memory when a custom store cannot be loaded)."""
    engine = sa.create_engine(stack.settings.rasa_tracker_store_url)
    with engine.connect() as connection:
        assert "events" in sa.inspect(connection).get_table_names()
    engine.dispose()


async def test_a_dead_action_server_gets_the_customer_an_apology_not_silence(
    model: Path, tmp_path: Path
) -> None:
    running = Stack(stack_settings(tmp_path / "var"))
    running.migrate()
    try:
        running.start([running.actions_service(), running.rasa_service(model)])
        running.services[0].stop()  # the action server dies
        client = WidgetClient(running.rasa_url)
        await client.connect()
        assert await client.say("hello") == [
            {
                "text": "Sorry, something went wrong on our side and I couldn't answer that. "
                "Please try again in a minute; what you wrote is kept.",
                "custom": {"type": "service_trouble"},
            }
        ]
        assert user_texts(tracker(running, client.session_id or "")) == ["hello"]
        await client.close()
    finally:
        running.stop()


async def test_history_shows_what_arrived_while_no_tab_was_open(stack: Stack) -> None:
    first = WidgetClient(stack.rasa_url)
    session_id = await first.connect()
    await first.say("hello", message_id="m-1")
    await first.close()
    assert push_agent_message(stack, session_id, "Are you still there?", "Alex").status_code == 200

    later = WidgetClient(stack.rasa_url)
    await later.connect(session_id)
    try:
        reply = await later.sio.call("history_request", {"session_id": session_id}, timeout=10)
        assert reply["status"] == "ok"
        shown = [{k: v for k, v in m.items() if k != "ts"} for m in reply["messages"]]
        assert shown == [
            {"from": "user", "text": "hello", "message_id": "m-1"},
            {"from": "bot", "message": GREETING},
            {
                "from": "bot",
                "message": {
                    "text": "Are you still there?",
                    "custom": {
                        "type": "agent_message",
                        "agent": {"name": "Alex"},
                        "text": "Are you still there?",
                    },
                },
            },
        ]
        assert all(isinstance(m["ts"], float) for m in reply["messages"])
    finally:
        await later.close()


async def test_history_is_only_for_the_session_the_socket_joined(
    stack: Stack, widget: WidgetClient
) -> None:
    other = WidgetClient(stack.rasa_url)
    other_id = await other.connect()
    await other.close()
    assert await widget.sio.call("history_request", {"session_id": other_id}, timeout=10) == {
        "status": "rejected",
        "reason": "send session_request first",
    }
