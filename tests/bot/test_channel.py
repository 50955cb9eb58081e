"""The widget channel (``bot/engine/channel.py``) on a real server over real socket.io,
with what Rasa does to a message played by ``tests/bot/engine/channel_server.py``:
every message gets an answer or a reason, a failed one is processed when sent
again, inputs are capped and cleaned before any work, malformed payloads are
answered, and a session is resumed only by the browser that holds its token.

The server runs with the engine's Python and this test with the application's:
python-socketio's client needs a newer aiohttp than Rasa 3.6 allows."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator, Iterator
from typing import Any

import httpx
import pytest
import pytest_asyncio
import socketio

from bot.engine.widget_input import MESSAGE_ID_REASON
from core.runtime import load_settings
from launcher.stack import ROOT, Service, StackSettings, engine_env, free_port, rasa_executable

pytestmark = pytest.mark.asyncio(loop_scope="module")

SESSION_KEY = "a key for the channel tests"
CREDENTIALS = {"session_key": SESSION_KEY, "max_frame_bytes": 65536}
ANSWER_TIMEOUT_SECONDS = 10
TROUBLE = {
    "text": "Sorry, something went wrong on our side and I couldn't answer that. "
    "Please try again in a minute; what you wrote is kept.",
    "custom": {"type": "service_trouble"},
}
METADATA_REASON = "metadata must be a JSON object of at most 4096 bytes"


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """The channel on a free port; its URL."""
    port = free_port()
    python = rasa_executable(load_settings(StackSettings, _env_file=None)).parent / "python"
    url = f"http://127.0.0.1:{port}"
    service = Service(
        "channel",
        [str(python), str(ROOT / "tests" / "bot" / "engine" / "channel_server.py"), str(port),
         json.dumps(CREDENTIALS)],
        engine_env(),
        f"{url}/webhooks/frontline/",
        tmp_path_factory.mktemp("channel") / "channel.log",
    )  # fmt: skip
    service.start()
    try:
        service.wait_ready(120)
        yield url
    finally:
        service.stop()


class Client:
    """A socket.io client that keeps every ``session_confirm`` (all its
    arguments) and ``bot_uttered`` it receives."""

    def __init__(self, url: str) -> None:
        self.url = url
        self.sio = socketio.AsyncClient(reconnection=False)
        self.confirms: asyncio.Queue[list[Any]] = asyncio.Queue()
        self.received: list[dict[str, Any]] = []

        async def on_confirm(*args: Any) -> None:
            self.confirms.put_nowait(list(args))

        async def on_bot(message: dict[str, Any]) -> None:
            self.received.append(message)

        self.sio.on("session_confirm", on_confirm)
        self.sio.on("bot_uttered", on_bot)

    async def connect(self) -> None:
        await self.sio.connect(self.url, transports=["websocket"], wait_timeout=10)

    async def request_session(self, payload: Any) -> list[Any]:
        """Emits ``session_request`` with ``payload``; the confirmation's arguments."""
        await self.sio.emit("session_request", payload)
        return await asyncio.wait_for(self.confirms.get(), ANSWER_TIMEOUT_SECONDS)

    async def start(self, session_id: str | None = None, token: str | None = None) -> str:
        await self.connect()
        payload: dict[str, Any] = {"session_id": session_id}
        if token is not None:
            payload["resume_token"] = token
        confirmed = await self.request_session(payload)
        return str(confirmed[0])

    async def call(self, event: str, *args: Any) -> Any:
        data: Any = args[0] if len(args) == 1 else (args or None)
        return await self.sio.call(event, data, timeout=ANSWER_TIMEOUT_SECONDS)

    async def close(self) -> None:
        await self.sio.disconnect()


@pytest_asyncio.fixture(loop_scope="module")
async def client(server: str) -> AsyncIterator[Client]:
    connected = Client(server)
    yield connected
    await connected.close()


def attempts(server: str, session_id: str) -> list[dict[str, Any]]:
    rows = httpx.get(f"{server}/test/attempts", timeout=10).json()
    return [row for row in rows if row["sender_id"] == session_id]


def message(session_id: str, text: Any, message_id: Any = None, **more: Any) -> dict[str, Any]:
    payload = {"session_id": session_id, "message": text, **more}
    if message_id is not None:
        payload["message_id"] = message_id
    return payload


# ------------------------------------------------ every message is answered


async def test_a_message_whose_processing_failed_is_processed_when_sent_again(
    server: str, client: Client
) -> None:
    session = await client.start()
    first = await client.call("user_uttered", message(session, "boom", "m-1"))
    assert first == {
        "status": "error",
        "reason": "the message could not be processed; send it again",
        "message_id": "m-1",
    }
    assert client.received == [TROUBLE]
    again = await client.call("user_uttered", message(session, "boom", "m-1"))
    assert again == {"status": "accepted", "message_id": "m-1"}
    assert client.received == [TROUBLE, {"text": "echo: boom"}]
    # and only now is it a duplicate
    assert await client.call("user_uttered", message(session, "boom", "m-1")) == {
        "status": "duplicate",
        "message_id": "m-1",
    }
    assert [(row["text"], row["outcome"]) for row in attempts(server, session)] == [
        ("boom", "raised"),
        ("boom", "answered"),
    ]


async def test_a_resend_during_processing_waits_for_the_outcome_of_the_first(
    server: str, client: Client
) -> None:
    session = await client.start()
    first = asyncio.ensure_future(client.call("user_uttered", message(session, "hold-boom", "h")))
    while httpx.get(f"{server}/test/holding", timeout=10).json()["holding"] == 0:
        await asyncio.sleep(0.05)
    resent = asyncio.ensure_future(client.call("user_uttered", message(session, "hold-boom", "h")))
    await asyncio.sleep(0.2)  # lets the resend reach the server while the first is held
    httpx.post(f"{server}/test/release", timeout=10)
    # The first attempt failed, so the resend is processed, not called a duplicate.
    assert await first == {
        "status": "error",
        "reason": "the message could not be processed; send it again",
        "message_id": "h",
    }
    assert await resent == {"status": "accepted", "message_id": "h"}
    assert [(row["text"], row["outcome"]) for row in attempts(server, session)] == [
        ("hold-boom", "raised"),
        ("hold-boom", "answered"),
    ]
    assert client.received == [TROUBLE, {"text": "echo: hold-boom"}]


async def test_text_is_cleaned_before_it_is_processed(server: str, client: Client) -> None:
    session = await client.start()
    text = "half an emoji \ud83d, a NUL\x00, a bell\x07\r\nand e\u0301 \U0001f600\u200d\ufe0f\t!"
    assert await client.call("user_uttered", message(session, text, "c-1")) == {
        "status": "accepted",
        "message_id": "c-1",
    }
    cleaned = "half an emoji \ufffd, a NUL, a bell\nand \u00e9 \U0001f600\u200d\ufe0f\t!"
    assert attempts(server, session) == [
        {
            "sender_id": session,
            "text": cleaned,
            "metadata": {"message_id": "c-1"},
            "outcome": "answered",
        }
    ]
    assert client.received == [{"text": f"echo: {cleaned}"}]


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ("", "message is empty"),
        ("  \n\t ", "message is empty"),
        ("\x00\x01\x1b", "message is empty"),
        (42, "message must be text"),
        (None, "message must be text"),
        (["hi"], "message must be text"),
        ({"text": "hi"}, "message must be text"),
    ],
)
async def test_empty_and_non_text_messages_are_refused_with_a_reason(
    server: str, client: Client, text: Any, reason: str
) -> None:
    session = await client.start()
    assert await client.call("user_uttered", message(session, text, "e-1")) == {
        "status": "rejected",
        "reason": reason,
        "message_id": "e-1",
    }
    assert attempts(server, session) == []
    assert client.received == []


# ------------------------------------------------------------------ sizes


@pytest.mark.parametrize(
    ("message_id", "reason"),
    [
        ("x" * 101, MESSAGE_ID_REASON),
        ("x" * 30_000, MESSAGE_ID_REASON),
        ("has a space", MESSAGE_ID_REASON),
        ("", MESSAGE_ID_REASON),
        ("\ud83d", MESSAGE_ID_REASON),
        (12345, MESSAGE_ID_REASON),
        (["m-1"], MESSAGE_ID_REASON),
    ],
)
async def test_a_malformed_or_long_message_id_is_refused(
    server: str, client: Client, message_id: Any, reason: str
) -> None:
    session = await client.start()
    payload = {"session_id": session, "message": "hello", "message_id": message_id}
    assert await client.call("user_uttered", payload) == {"status": "rejected", "reason": reason}
    assert attempts(server, session) == []


@pytest.mark.parametrize(
    "metadata",
    [
        {"blob": "x" * 5000},
        {"language": "en", "nested": [{"deep": ["y" * 1000] * 5}]},
        {"bad": "\udc00"},
        {"number": float("nan")},
        ["language", "en"],
        "en",
        42,
    ],
)
async def test_metadata_that_is_too_big_or_not_json_is_refused(
    server: str, client: Client, metadata: Any
) -> None:
    session = await client.start()
    payload = message(session, "hello", "md-1", metadata=metadata)
    assert await client.call("user_uttered", payload) == {
        "status": "rejected",
        "reason": METADATA_REASON,
        "message_id": "md-1",
    }
    assert attempts(server, session) == []


async def test_the_channel_owns_its_metadata_keys(server: str, client: Client) -> None:
    session = await client.start()
    metadata = {
        "language": "de",
        "message_id": "spoofed",
        "truncated_from": 1,
        "password_masked": True,
        "extra": {"a": [1, 2.5, None, True]},
    }
    payload = message(session, "hello", "md-2", metadata=metadata)
    assert await client.call("user_uttered", payload) == {
        "status": "accepted",
        "message_id": "md-2",
    }
    assert [row["metadata"] for row in attempts(server, session)] == [
        {"language": "de", "extra": {"a": [1, 2.5, None, True]}, "message_id": "md-2"}
    ]


async def test_a_frame_over_the_cap_closes_the_socket_and_the_channel_goes_on(
    server: str, client: Client
) -> None:
    session = await client.start()
    with pytest.raises(socketio.exceptions.SocketIOError):
        await client.call("user_uttered", message(session, "x" * 70_000, "big"))
    assert attempts(server, session) == []
    # a text under the frame cap but over max_message_chars is cut, not refused
    other = Client(server)
    try:
        fresh = await other.start()
        ack = await other.call("user_uttered", message(fresh, "y" * 50_000, "long"))
        assert ack == {"status": "accepted", "message_id": "long"}
        [row] = attempts(server, fresh)
        assert (len(row["text"]), row["metadata"]) == (
            4000,
            {"message_id": "long", "truncated_from": 50_000},
        )
    finally:
        await other.close()


async def test_a_long_polling_body_over_the_cap_is_refused_before_it_is_read(
    server: str,
) -> None:
    async with httpx.AsyncClient() as http:
        answer = await http.post(
            f"{server}/socket.io/?EIO=4&transport=polling&sid=unknown",
            content=b"4" * 200_000,
            timeout=30,
        )
    assert answer.status_code == 413


# ------------------------------------------------------ malformed payloads


@pytest.mark.parametrize(
    "payload", [42, "a string", ["a", "list"], None, {"session_id": 5}, {"session_id": "x" * 64}]
)
async def test_a_malformed_session_request_gets_a_fresh_session(
    client: Client, payload: Any
) -> None:
    await client.connect()
    session, extra = await client.request_session(payload)
    assert isinstance(session, str) and len(session) == 32 and int(session, 16) >= 0
    assert set(extra) == {"resume_token", "resumed"} and extra["resumed"] is False


async def test_a_session_request_with_no_payload_or_two_gets_a_fresh_session(
    client: Client,
) -> None:
    await client.connect()
    await client.sio.emit("session_request")
    [session, extra] = await asyncio.wait_for(client.confirms.get(), ANSWER_TIMEOUT_SECONDS)
    assert len(session) == 32 and extra["resumed"] is False
    await client.sio.emit("session_request", ({"session_id": None}, "more"))
    [other, extra] = await asyncio.wait_for(client.confirms.get(), ANSWER_TIMEOUT_SECONDS)
    assert len(other) == 32 and other != session and extra["resumed"] is False


@pytest.mark.parametrize(
    ("event", "args", "answer"),
    [
        ("user_uttered", (), {"status": "rejected", "reason": "payload must be an object"}),
        ("user_uttered", (42,), {"status": "rejected", "reason": "payload must be an object"}),
        ("user_uttered", ([1, 2],), {"status": "rejected", "reason": "payload must be an object"}),
        (
            "user_uttered",
            ({"message": "hi"}, "extra"),
            {"status": "rejected", "reason": "payload must be an object"},
        ),
        (
            "user_uttered",
            ({"session_id": ["x"], "message": "hi"},),
            {"status": "rejected", "reason": "send session_request first"},
        ),
        ("history_request", (), {"status": "rejected", "reason": "send session_request first"}),
        (
            "history_request",
            ("abc",),
            {"status": "rejected", "reason": "send session_request first"},
        ),
        (
            "history_request",
            ({"session_id": {"$ne": None}},),
            {"status": "rejected", "reason": "send session_request first"},
        ),
        ("no_such_event", ({"a": 1},), {"status": "rejected", "reason": "unknown event"}),
    ],
)
async def test_malformed_payloads_get_a_rejected_answer(
    client: Client, event: str, args: tuple[Any, ...], answer: dict[str, Any]
) -> None:
    await client.start()
    assert await client.call(event, *args) == answer


@pytest.mark.parametrize(
    "data",
    [
        '["user_uttered", {"session_id": ',
        '["user_uttered", ' + "[" * 5000 + "]" * 5000 + "]",
        '{"not": "a list"}',
        "[]",
        "[42]",
        '"user_uttered"',
    ],
)
async def test_a_packet_that_cannot_be_read_gets_a_rejected_answer(
    client: Client, data: str
) -> None:
    """What a socket.io client library never sends, written straight onto the
    engine.io connection as an event packet with an acknowledgement id."""
    await client.start()
    answers: asyncio.Queue[list[Any]] = asyncio.Queue()
    ack_id = client.sio._generate_ack_id("/", lambda *args: answers.put_nowait(list(args)))
    await client.sio.eio.send(f"2{ack_id}{data}")
    assert await asyncio.wait_for(answers.get(), ANSWER_TIMEOUT_SECONDS) == [
        {"status": "rejected", "reason": "malformed packet"}
    ]
    # the connection goes on
    assert (await client.call("history_request", {"session_id": "x"}))["status"] == "rejected"


# ------------------------------------------------------------- resuming


async def test_a_session_is_resumed_and_its_history_read_only_with_its_token(
    server: str,
) -> None:
    owner = Client(server)
    await owner.connect()
    session, issued = await owner.request_session({"session_id": None})
    token = issued["resume_token"]
    assert isinstance(token, str) and len(token) == 43 and issued["resumed"] is False
    assert await owner.call("user_uttered", message(session, "hello", "r-1")) == {
        "status": "accepted",
        "message_id": "r-1",
    }
    await owner.close()

    for proof in ({}, {"resume_token": "A" * 43}, {"resume_token": None}, {"resume_token": 7}):
        stranger = Client(server)
        await stranger.connect()
        try:
            fresh, extra = await stranger.request_session({"session_id": session, **proof})
            assert fresh != session and extra["resumed"] is False
            assert extra["resume_token"] != token
            # the socket belongs to the fresh session only
            assert await stranger.call("history_request", {"session_id": session}) == {
                "status": "rejected",
                "reason": "send session_request first",
            }
            assert await stranger.call("user_uttered", message(session, "hi", "x")) == {
                "status": "rejected",
                "reason": "send session_request first",
            }
        finally:
            await stranger.close()

    back = Client(server)
    await back.connect()
    try:
        assert await back.request_session({"session_id": session, "resume_token": token}) == [
            session,
            {"resume_token": token, "resumed": True},
        ]
        assert await back.call("history_request", {"session_id": session}) == {
            "status": "ok",
            "messages": [],  # no Rasa tracker store here: the e2e tests check the content
        }
    finally:
        await back.close()
    assert [row["text"] for row in attempts(server, session)] == ["hello"]


async def test_a_socket_cannot_speak_in_or_listen_to_another_session(server: str) -> None:
    owner, other = Client(server), Client(server)
    try:
        session = await owner.start()
        await other.start()
        assert await other.call("user_uttered", message(session, "let me in", "z-1")) == {
            "status": "rejected",
            "reason": "send session_request first",
        }
        assert await owner.call("user_uttered", message(session, "hello", "z-2")) == {
            "status": "accepted",
            "message_id": "z-2",
        }
        assert owner.received == [{"text": "echo: hello"}]
        assert other.received == []
        assert [row["text"] for row in attempts(server, session)] == ["hello"]
    finally:
        await owner.close()
        await other.close()


async def test_a_new_session_request_leaves_the_previous_session(server: str) -> None:
    client, owner = Client(server), Client(server)
    try:
        await owner.connect()
        first, issued = await owner.request_session({"session_id": None})
        await client.connect()
        await client.request_session({"session_id": first, "resume_token": issued["resume_token"]})
        second, _ = await client.request_session({"session_id": None})
        assert await client.call("user_uttered", message(first, "old", "o-1")) == {
            "status": "rejected",
            "reason": "send session_request first",
        }
        assert await owner.call("user_uttered", message(first, "still mine", "o-2")) == {
            "status": "accepted",
            "message_id": "o-2",
        }
        assert await client.call("user_uttered", message(second, "new", "o-3")) == {
            "status": "accepted",
            "message_id": "o-3",
        }
        assert client.received == [{"text": "echo: new"}]
    finally:
        await client.close()
        await owner.close()
