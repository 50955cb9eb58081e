"""Hostile and malformed input on the widget channel, through the real Rasa
server, action server and tracker store: nothing crashes NLU, every message is
answered or refused with a reason, a resend is a duplicate only once the
message was processed, and a conversation is read and continued only by the
browser that holds its resume token."""

from __future__ import annotations

import uuid
from typing import Any

import httpx
import pytest
import socketio

from launcher.stack import Stack
from tests.e2e.conftest import WidgetClient
from tests.e2e.test_conversation import GREETING, tracker, user_texts

pytestmark = pytest.mark.e2e

ANSWER_TIMEOUT_SECONDS = 30


@pytest.mark.parametrize(
    "text", ["hello \ud83d", "hi \ud83d there", "\ud83d", "\ude00 where is my order"]
)
async def test_half_an_emoji_is_answered_and_its_resend_is_a_duplicate(
    stack: Stack, widget: WidgetClient, text: str
) -> None:
    """A lone UTF-16 surrogate is answered as U+FFFD would be (it crashed NLU,
    and the resend was then called a duplicate: the message was lost)."""
    replaced = text.replace("\ud83d", "\ufffd").replace("\ude00", "\ufffd")
    reference = WidgetClient(stack.rasa_url)
    await reference.connect()
    try:
        expected = await reference.say(replaced)
    finally:
        await reference.close()
    assert expected  # the reply to the replaced text is a real answer

    message_id = uuid.uuid4().hex
    payload = {"session_id": widget.session_id, "message": text, "message_id": message_id}
    assert await widget.send(payload) == {"status": "accepted", "message_id": message_id}
    assert widget.drain() == expected
    assert await widget.send(payload) == {"status": "duplicate", "message_id": message_id}
    assert widget.drain() == []
    assert user_texts(tracker(stack, widget.session_id or "")) == [replaced]


async def test_control_characters_and_decomposed_letters_are_cleaned_before_rasa(
    stack: Stack, widget: WidgetClient
) -> None:
    assert await widget.say("he\x00llo\x07 the\u0301re\r\n") == [GREETING]
    assert user_texts(tracker(stack, widget.session_id or "")) == ["hello th\u00e9re"]


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ("", "message is empty"),
        ("   \n\t  ", "message is empty"),
        ("\x00\x00", "message is empty"),
        (42, "message must be text"),
        (None, "message must be text"),
        ({"text": "hi"}, "message must be text"),
    ],
)
async def test_empty_and_non_text_messages_are_refused_and_reach_no_tracker(
    stack: Stack, widget: WidgetClient, text: Any, reason: str
) -> None:
    payload = {"session_id": widget.session_id, "message": text, "message_id": "m-1"}
    assert await widget.send(payload) == {
        "status": "rejected",
        "reason": reason,
        "message_id": "m-1",
    }
    assert widget.drain() == []
    # the same id is free for a real message: nothing was remembered
    assert await widget.say("hello", message_id="m-1") == [GREETING]
    assert user_texts(tracker(stack, widget.session_id or "")) == ["hello"]


async def test_huge_ids_and_metadata_are_refused_before_rasa_sees_them(
    stack: Stack, widget: WidgetClient
) -> None:
    huge_id = {"session_id": widget.session_id, "message": "hello", "message_id": "x" * 50_000}
    assert (await widget.send(huge_id))["status"] == "rejected"
    metadata = {"blob": "y" * 10_000}
    huge_metadata = {"session_id": widget.session_id, "message": "hello", "metadata": metadata}
    assert (await widget.send(huge_metadata))["status"] == "rejected"
    assert widget.drain() == []
    assert user_texts(tracker(stack, widget.session_id or "")) == []


async def test_a_frame_over_the_cap_closes_only_its_own_connection(stack: Stack) -> None:
    sender = WidgetClient(stack.rasa_url)
    session_id = await sender.connect()
    with pytest.raises(socketio.exceptions.SocketIOError):
        await sender.sio.call(
            "user_uttered",
            {"session_id": session_id, "message": "z" * 100_000, "message_id": "big"},
            timeout=ANSWER_TIMEOUT_SECONDS,
        )
    async with httpx.AsyncClient() as http:
        answer = await http.post(
            f"{stack.rasa_url}/socket.io/?EIO=4&transport=polling&sid=x",
            content=b"4" * 300_000,
            timeout=30,
        )
    assert answer.status_code == 413
    again = WidgetClient(stack.rasa_url)
    assert await again.connect(session_id) == session_id  # the browser comes back
    try:
        assert await again.say("hello") == [GREETING]
    finally:
        await again.close()
    assert user_texts(tracker(stack, session_id)) == ["hello"]


async def test_a_session_id_alone_neither_reads_nor_continues_the_conversation(
    stack: Stack,
) -> None:
    owner = WidgetClient(stack.rasa_url)
    session_id = await owner.connect()
    assert await owner.say("hello", message_id="m-1") == [GREETING]
    await owner.close()

    stranger = WidgetClient(stack.rasa_url)
    fresh = await stranger.connect(session_id, resume_token=None)
    try:
        assert fresh != session_id and stranger.resumed is False
        refused = {"status": "rejected", "reason": "send session_request first"}
        assert await stranger.sio.call("history_request", {"session_id": session_id}) == refused
        assert await stranger.send({"session_id": session_id, "message": "hi"}) == refused
        assert await stranger.sio.call("history_request", {"session_id": fresh}) == {
            "status": "ok",
            "messages": [],
        }
    finally:
        await stranger.close()

    back = WidgetClient(stack.rasa_url)
    assert await back.connect(session_id) == session_id  # with the token the server gave
    try:
        assert back.resumed is True
        reply = await back.sio.call("history_request", {"session_id": session_id})
        shown = [{k: v for k, v in m.items() if k != "ts"} for m in reply["messages"]]
        assert shown == [
            {"from": "user", "text": "hello", "message_id": "m-1"},
            {"from": "bot", "message": GREETING},
        ]
    finally:
        await back.close()
    assert user_texts(tracker(stack, session_id)) == ["hello"]
    assert user_texts(tracker(stack, fresh)) == []
