"""Real servers for end-to-end tests: the Rasa engine, the action server and
the handoff service, started by the launcher's own code on free ports, with
their databases in a temporary folder."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
import socketio

from launcher.stack import Stack, StackSettings, train

pytestmark = pytest.mark.e2e

REPLY_TIMEOUT_SECONDS = 30


def stack_settings(var_dir: Path, **overrides: Any) -> StackSettings:
    values: dict[str, Any] = {
        "rasa_port": 0,
        "actions_port": 0,
        "handoff_port": 0,
        "site_port": 0,
        "var_dir": var_dir,
        "database_url": None,
        "tracker_store_url": None,
        "redis_url": None,
        "rasa_token": None,
    }
    values.update(overrides)
    return StackSettings(_env_file=None, **values)


@contextmanager
def started_stack(
    settings: StackSettings,
    model: Path,
    *,
    handoff: bool = False,
    slack: dict[str, str] | None = None,
    migrate: bool = True,
) -> Iterator[Stack]:
    """Action server + Rasa (+ the handoff service, with ``slack`` as its
    environment: token, signing secret, API URL), stopped on exit."""
    running = Stack(settings)
    if migrate:
        running.migrate()
    services = [running.actions_service(), running.rasa_service(model)]
    if handoff:
        service = running.handoff_service()
        service.env.update(slack or {})
        services.append(service)
    try:
        running.start(services)
        yield running
    finally:
        running.stop()


def slack_env(token: str, signing_secret: str, api_url: str) -> dict[str, str]:
    """The handoff service's settings for a (local imitation of) Slack."""
    return {
        "SLACK_BOT_TOKEN": token,
        "SLACK_SIGNING_SECRET": signing_secret,
        "FRONTLINE_HANDOFF_SLACK_API_URL": api_url,
    }


@pytest.fixture(scope="session")
def model() -> Path:
    """The product model (trained by `make test` before pytest; a no-op then)."""
    return train(StackSettings(_env_file=None))


@pytest.fixture(scope="session")
def stack(model: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    """Action server + Rasa server of the real product, on SQLite files."""
    running = Stack(stack_settings(tmp_path_factory.mktemp("var")))
    running.migrate()
    running.refresh_kb()
    try:
        running.start([running.actions_service(), running.rasa_service(model)])
        yield running
    finally:
        running.stop()


# ``WidgetClient.connect``'s default: the token the server gave for the session.
REMEMBERED = object()


class WidgetClient:
    """Talks to Frontline's channel the way the widget does (socket.io)."""

    # The resume token the server gave with each session it confirmed, as the
    # widget keeps it in the browser's storage (shared by every client here, as
    # by the tabs of one browser).
    tokens: dict[str, str] = {}

    def __init__(self, rasa_url: str) -> None:
        self.rasa_url = rasa_url
        self.sio = socketio.AsyncClient(reconnection=False)
        self.received: asyncio.Queue[dict[str, Any]] = asyncio.Queue()
        self.session_id: str | None = None
        self.resumed: bool | None = None
        self._confirmed: asyncio.Future[tuple[str, dict[str, Any]]] | None = None

    async def connect(self, session_id: str | None = None, resume_token: Any = REMEMBERED) -> str:
        """Connects and asks for ``session_id`` with ``resume_token`` (by
        default the one the server gave for it); returns the confirmed session."""
        loop = asyncio.get_running_loop()
        self._confirmed = loop.create_future()

        async def on_bot(message: dict[str, Any]) -> None:
            self.received.put_nowait(message)

        async def on_confirm(confirmed: str, extra: dict[str, Any] | None = None) -> None:
            if self._confirmed is not None and not self._confirmed.done():
                self._confirmed.set_result((confirmed, extra or {}))

        self.sio.on("bot_uttered", on_bot)
        self.sio.on("session_confirm", on_confirm)
        await self.sio.connect(self.rasa_url, transports=["websocket"], wait_timeout=10)
        if resume_token is REMEMBERED:
            resume_token = self.tokens.get(session_id or "")
        request: dict[str, Any] = {"session_id": session_id}
        if resume_token is not None:
            request["resume_token"] = resume_token
        await self.sio.emit("session_request", request)
        confirmed, extra = await asyncio.wait_for(self._confirmed, 10)
        self.session_id, self.resumed = confirmed, extra.get("resumed")
        if isinstance(extra.get("resume_token"), str):
            self.tokens[confirmed] = extra["resume_token"]
        return confirmed

    async def send(self, payload: Any) -> Any:
        """Emits ``user_uttered`` and returns the server's acknowledgement, which
        comes after every bot message for it has been emitted."""
        return await self.sio.call("user_uttered", payload, timeout=REPLY_TIMEOUT_SECONDS)

    async def say(self, text: str, message_id: str | None = None) -> list[dict[str, Any]]:
        """Sends ``text`` and returns the bot messages it produced."""
        payload: dict[str, Any] = {"session_id": self.session_id, "message": text}
        if message_id is not None:
            payload["message_id"] = message_id
        ack = await self.send(payload)
        assert ack["status"] == "accepted", ack
        return self.drain()

    def drain(self) -> list[dict[str, Any]]:
        messages = []
        while not self.received.empty():
            messages.append(self.received.get_nowait())
        return messages

    async def next_message(self, timeout: float = REPLY_TIMEOUT_SECONDS) -> dict[str, Any]:
        return await asyncio.wait_for(self.received.get(), timeout)

    async def close(self) -> None:
        await self.sio.disconnect()


@pytest.fixture
async def widget(stack: Stack):  # type: ignore[no-untyped-def]
    client = WidgetClient(stack.rasa_url)
    await client.connect()
    yield client
    await client.close()
