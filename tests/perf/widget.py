"""A customer's widget, for measuring: Frontline's socket.io channel
(``bot/engine/channel.py``) spoken the way the widget speaks it, with timings.

``say()`` emits ``user_uttered`` and waits for the server's acknowledgement,
which the channel sends after every bot message of that turn has been emitted;
the messages received until then are the turn's reply. Socket.io keeps the
order of events on one connection, so nothing of a later turn is mixed in.
"""

from __future__ import annotations

import asyncio
import time
import uuid
from dataclasses import dataclass, field
from typing import Any

import socketio

REPLY_TIMEOUT_SECONDS = 60.0
CONNECT_TIMEOUT_SECONDS = 15.0


class WidgetError(Exception):
    """The channel refused or did not answer; ``status`` is the ack status or
    ``timeout``/``disconnected``."""

    def __init__(self, status: str, detail: str = "") -> None:
        super().__init__(f"{status}: {detail}" if detail else status)
        self.status = status
        self.detail = detail


@dataclass
class Reply:
    messages: list[dict[str, Any]]
    ms: float
    status: str = "accepted"
    kinds: list[str] = field(default_factory=list)

    @property
    def texts(self) -> list[str]:
        return [str(m["text"]) for m in self.messages if m.get("text")]

    @property
    def custom_types(self) -> list[str]:
        return [
            str(m["custom"].get("type"))
            for m in self.messages
            if isinstance(m.get("custom"), dict) and m["custom"].get("type")
        ]


class Widget:
    """One customer on one socket.io connection."""

    def __init__(self, rasa_url: str, socketio_path: str = "socket.io") -> None:
        self.rasa_url = rasa_url
        self.socketio_path = socketio_path
        self.sio = socketio.AsyncClient(reconnection=False)
        self.received: asyncio.Queue[dict[str, Any]] = asyncio.Queue()
        self.session_id: str | None = None

    async def connect(self, session_id: str | None = None) -> str:
        confirmed: asyncio.Future[str] = asyncio.get_running_loop().create_future()

        async def on_bot(message: dict[str, Any]) -> None:
            self.received.put_nowait(message)

        async def on_confirm(value: str, *_resume: Any) -> None:
            # The second argument, the resume token, is not needed here.
            if not confirmed.done():
                confirmed.set_result(value)

        self.sio.on("bot_uttered", on_bot)
        self.sio.on("session_confirm", on_confirm)
        await self.sio.connect(
            self.rasa_url,
            transports=["websocket"],
            socketio_path=self.socketio_path,
            wait_timeout=CONNECT_TIMEOUT_SECONDS,
        )
        await self.sio.emit("session_request", {"session_id": session_id})
        self.session_id = await asyncio.wait_for(confirmed, CONNECT_TIMEOUT_SECONDS)
        return self.session_id

    async def say(self, text: str, timeout: float = REPLY_TIMEOUT_SECONDS) -> Reply:
        """Sends ``text``; returns the bot's messages for it and the time until
        the acknowledgement (all replies emitted)."""
        payload = {"session_id": self.session_id, "message": text, "message_id": uuid.uuid4().hex}
        started = time.perf_counter()
        try:
            ack = await self.sio.call("user_uttered", payload, timeout=timeout)
        except socketio.exceptions.TimeoutError as error:
            raise WidgetError("timeout", f"no acknowledgement in {timeout:.0f}s") from error
        except socketio.exceptions.SocketIOError as error:
            raise WidgetError("disconnected", str(error)) from error
        elapsed = (time.perf_counter() - started) * 1000
        status = str((ack or {}).get("status", "missing"))
        if status != "accepted":
            raise WidgetError(status, str(ack))
        return Reply(self.drain(), elapsed, status)

    def drain(self) -> list[dict[str, Any]]:
        messages = []
        while not self.received.empty():
            messages.append(self.received.get_nowait())
        return messages

    async def next_message(self, timeout: float = REPLY_TIMEOUT_SECONDS) -> dict[str, Any]:
        return await asyncio.wait_for(self.received.get(), timeout)

    async def close(self) -> None:
        await self.sio.disconnect()
