"""Frontline's customer channel: Rasa's socket.io channel, made safe to push to.

Runs inside the Rasa engine (Python 3.10, ``rasa`` importable); of Frontline it
imports only ``bot.typed_secrets`` (standard library only). Rasa loads it from
``bot/credentials.yml`` as ``bot.channel.FrontlineChannel`` and mounts it under
``/webhooks/frontline/``.

Why not the stock ``socketio`` channel:

* With python-socketio 5.x, ``AsyncServer.enter_room`` is a coroutine that the
  stock channel never awaits, so a browser never joins its session's room and
  anything pushed later (``trigger_intent?output_channel=latest``, the path
  agent replies take) reaches nobody.
* Its session ids are whatever the client sends. Here a session id must be 32
  hex characters; anything else gets a fresh one, so a client cannot pick an id
  that collides with another channel's conversation.
* Messages are capped (``max_message_chars``) and flagged ``truncated`` instead
  of being fed whole to NLU; a client ``message_id`` makes resends idempotent.
* A password the customer types is masked before Rasa sees the message (so it
  is in no tracker event, transcript or log), and the message's metadata says
  so (``password_masked``) for the bot to warn them: see ``bot.typed_secrets``.
* The bot's message is emitted as one JSON object (``text``, ``buttons``,
  ``custom``...) so the widget renders exactly what the action produced.

Wire protocol (same event names as Rasa's socketio channel and rasa-webchat):

* client -> ``session_request`` ``{"session_id": str | null}``;
  server -> ``session_confirm`` ``"<session id>"``.
* client -> ``user_uttered`` ``{"session_id", "message", "message_id"?, "metadata"?}``;
  the acknowledgement returns ``{"status": "accepted" | "duplicate" | "rejected", ...}``.
* server -> ``bot_uttered`` ``{"text"?, "buttons"?, "quick_replies"?, "image"?,
  "attachment"?, "elements"?, "custom"?}``.
* client -> ``history_request`` ``{"session_id"}`` (after ``session_request``); the
  acknowledgement returns ``{"status": "ok", "messages": [...]}``: the session's last
  200 messages from Rasa's tracker, ``{"from": "user", "ts", "text", "message_id"?}``
  or ``{"from": "bot", "ts", "message": <as bot_uttered>}``, so a page shows what
  arrived while no tab was open.
"""

from __future__ import annotations

import asyncio
import logging
import re
import uuid
from collections import OrderedDict
from collections.abc import Awaitable, Callable
from typing import Any

import aiohttp
from rasa.core.channels.channel import InputChannel, OutputChannel, UserMessage
from rasa.core.channels.socketio import SocketBlueprint
from sanic import Blueprint, response
from sanic.request import Request
from sanic.response import HTTPResponse
from socketio import AsyncServer

from bot.typed_secrets import IDENTIFIER_SLOTS, MASKED_METADATA, Masked, mask_passwords

logger = logging.getLogger(__name__)

SESSION_ID = re.compile(r"^[0-9a-f]{32}$")
DEFAULT_MAX_MESSAGE_CHARS = 4000
# How many recent client message ids are remembered per process for dedupe.
DEFAULT_DEDUPE_WINDOW = 10000
MESSAGE_KEYS = ("text", "buttons", "quick_replies", "image", "attachment", "elements", "custom")
# Sent when a customer's message got no answer at all (the action server is
# down, an action crashed) and no human agent is handling the conversation.
TROUBLE_MESSAGE = {
    "text": "Sorry, something went wrong on our side and I couldn't answer that. "
    "Please try again in a minute; what you wrote is kept.",
    "custom": {"type": "service_trouble"},
}
# Slot set while a human agent handles the conversation: the bot stays quiet.
HANDOFF_SLOT = "handoff_active"
HISTORY_LIMIT = 200
PRESENCE_TIMEOUT_SECONDS = 5
# Intents the handoff service sends through Rasa's API: not the customer's words.
EXTERNAL_INTENTS = frozenset({"agent_message", "handoff_update"})


def normalise_session_id(candidate: Any) -> str:
    """Returns ``candidate`` if it is a well-formed session id, else a new one."""
    if isinstance(candidate, str) and SESSION_ID.match(candidate):
        return candidate
    return uuid.uuid4().hex


def bot_payload(message: dict[str, Any]) -> dict[str, Any]:
    """The part of a Rasa bot message that is sent to the widget."""
    return {key: message[key] for key in MESSAGE_KEYS if message.get(key) not in (None, [], "")}


def history(events: list[dict[str, Any]], limit: int = HISTORY_LIMIT) -> list[dict[str, Any]]:
    """What the widget shows of a conversation, from tracker events (as dicts)."""
    shown: list[dict[str, Any]] = []
    for event in events:
        kind = event.get("event")
        if kind == "user":
            intent = ((event.get("parse_data") or {}).get("intent") or {}).get("name")
            text = event.get("text") or ""
            if intent in EXTERNAL_INTENTS or text.startswith("EXTERNAL:"):
                continue
            entry: dict[str, Any] = {"from": "user", "ts": event.get("timestamp"), "text": text}
            message_id = (event.get("metadata") or {}).get("message_id")
            if message_id:
                entry["message_id"] = message_id
            shown.append(entry)
        elif kind == "bot":
            message = bot_payload({"text": event.get("text"), **(event.get("data") or {})})
            if message:
                shown.append({"from": "bot", "ts": event.get("timestamp"), "message": message})
    return shown[-limit:]


class RecentIds:
    """A bounded set of recently seen ids (oldest forgotten first)."""

    def __init__(self, capacity: int) -> None:
        self._capacity = capacity
        self._ids: OrderedDict[str, None] = OrderedDict()

    def add(self, key: str) -> bool:
        """Remembers ``key``; returns False if it was already known."""
        if key in self._ids:
            self._ids.move_to_end(key)
            return False
        self._ids[key] = None
        if len(self._ids) > self._capacity:
            self._ids.popitem(last=False)
        return True


class FrontlineOutput(OutputChannel):
    """Emits each bot message as one ``bot_uttered`` event to the session's room."""

    @classmethod
    def name(cls) -> str:
        return FrontlineChannel.name()

    def __init__(self, sio: AsyncServer, bot_message_evt: str) -> None:
        self.sio = sio
        self.bot_message_evt = bot_message_evt
        self.sent = 0

    async def send_response(self, recipient_id: str, message: dict[str, Any]) -> None:
        payload = bot_payload(message)
        if payload:
            self.sent += 1
            await self.sio.emit(self.bot_message_evt, payload, room=recipient_id)

    async def send_text_message(self, recipient_id: str, text: str, **kwargs: Any) -> None:
        await self.send_response(recipient_id, {"text": text})


class FrontlineChannel(InputChannel):
    """Socket.io input channel for the Frontline widget."""

    @classmethod
    def name(cls) -> str:
        return "frontline"

    @classmethod
    def from_credentials(cls, credentials: dict[str, Any] | None) -> InputChannel:
        credentials = credentials or {}
        origins = credentials.get("cors_allowed_origins") or "*"
        if isinstance(origins, str) and origins != "*":
            origins = [origin.strip() for origin in origins.split(",") if origin.strip()]
        return cls(
            user_message_evt=credentials.get("user_message_evt", "user_uttered"),
            bot_message_evt=credentials.get("bot_message_evt", "bot_uttered"),
            socketio_path=credentials.get("socketio_path", "/socket.io"),
            cors_allowed_origins=origins,
            max_message_chars=int(credentials.get("max_message_chars", DEFAULT_MAX_MESSAGE_CHARS)),
            handoff_url=credentials.get("handoff_url") or None,
            handoff_token=credentials.get("handoff_token") or None,
        )

    def __init__(
        self,
        user_message_evt: str = "user_uttered",
        bot_message_evt: str = "bot_uttered",
        socketio_path: str = "/socket.io",
        cors_allowed_origins: Any = "*",
        max_message_chars: int = DEFAULT_MAX_MESSAGE_CHARS,
        handoff_url: str | None = None,
        handoff_token: str | None = None,
    ) -> None:
        self.user_message_evt = user_message_evt
        self.bot_message_evt = bot_message_evt
        self.socketio_path = socketio_path
        self.cors_allowed_origins = cors_allowed_origins
        self.max_message_chars = max_message_chars
        self.handoff_url = handoff_url.rstrip("/") if handoff_url else None
        self.handoff_token = handoff_token
        self._tasks: set[asyncio.Task[None]] = set()
        self.sio: AsyncServer | None = None
        self.agent: Any | None = None  # rasa's Agent, set once the server runs
        self._seen = RecentIds(DEFAULT_DEDUPE_WINDOW)

    def get_output_channel(self) -> OutputChannel | None:
        if self.sio is None:
            return None
        return FrontlineOutput(self.sio, self.bot_message_evt)

    def blueprint(self, on_new_message: Callable[[UserMessage], Awaitable[Any]]) -> Blueprint:
        sio = AsyncServer(async_mode="sanic", cors_allowed_origins=self.cors_allowed_origins)
        self.sio = sio
        webhook = SocketBlueprint(sio, self.socketio_path, "frontline_webhook", __name__)

        @webhook.listener("after_server_start")
        async def remember_agent(app: Any, _loop: Any) -> None:
            self.agent = getattr(app.ctx, "agent", None)

        @webhook.route("/", methods=["GET"])
        async def health(_: Request) -> HTTPResponse:
            return response.json({"status": "ok", "channel": self.name()})

        @sio.on("connect")
        async def connect(sid: str, environ: dict, auth: dict | None = None) -> bool:
            logger.debug("socket %s connected", sid)
            return True

        @sio.on("disconnect")
        async def disconnect(sid: str) -> None:
            logger.debug("socket %s disconnected", sid)
            for room in sio.rooms(sid):
                if room == sid or not SESSION_ID.match(room):
                    continue
                others = [s for s, _ in sio.manager.get_participants("/", room) if s != sid]
                if not others:
                    self._report_presence(room, present=False)

        @sio.on("session_request")
        async def session_request(sid: str, data: dict | None = None) -> None:
            requested = (data or {}).get("session_id")
            session_id = normalise_session_id(requested)
            returning = requested == session_id and not list(
                sio.manager.get_participants("/", session_id)
            )
            await sio.enter_room(sid, session_id)
            if returning:
                self._report_presence(session_id, present=True)
            await sio.emit("session_confirm", session_id, room=sid)
            logger.info(
                "session confirmed",
                extra={"conversation_id": session_id, "resumed": requested == session_id},
            )

        @sio.on("history_request")
        async def history_request(sid: str, data: Any = None) -> dict[str, Any]:
            session_id = data.get("session_id") if isinstance(data, dict) else None
            if not isinstance(session_id, str) or session_id not in sio.rooms(sid):
                return {"status": "rejected", "reason": "send session_request first"}
            if self.agent is None or self.agent.tracker_store is None:
                return {"status": "ok", "messages": []}
            tracker = await self.agent.tracker_store.retrieve(session_id)
            events = [event.as_dict() for event in tracker.events] if tracker else []
            return {"status": "ok", "messages": history(events)}

        @sio.on(self.user_message_evt)
        async def handle_message(sid: str, data: Any) -> dict[str, Any]:
            return await self._handle_message(sio, sid, data, on_new_message)

        return webhook

    async def _handle_message(
        self,
        sio: AsyncServer,
        sid: str,
        data: Any,
        on_new_message: Callable[[UserMessage], Awaitable[Any]],
    ) -> dict[str, Any]:
        if not isinstance(data, dict):
            return {"status": "rejected", "reason": "payload must be an object"}
        session_id = data.get("session_id")
        if not (isinstance(session_id, str) and SESSION_ID.match(session_id)):
            return {"status": "rejected", "reason": "send session_request first"}
        if session_id not in sio.rooms(sid):
            # A client that reconnected without a new session_request still
            # belongs to its session; join so pushed messages reach it.
            await sio.enter_room(sid, session_id)

        text = data.get("message")
        if not isinstance(text, str):
            text = ""
        metadata = data.get("metadata")
        metadata = dict(metadata) if isinstance(metadata, dict) else {}

        message_id = data.get("message_id")
        if isinstance(message_id, str) and message_id:
            if not self._seen.add(f"{session_id}:{message_id}"):
                logger.info(
                    "duplicate message ignored",
                    extra={"conversation_id": session_id, "message_id": message_id},
                )
                return {"status": "duplicate", "message_id": message_id}
            metadata["message_id"] = message_id

        if len(text) > self.max_message_chars:
            metadata["truncated_from"] = len(text)
            text = text[: self.max_message_chars]

        metadata.pop(MASKED_METADATA, None)  # only this channel sets it
        masked = await self._mask_passwords(session_id, text)
        if masked.masked:
            text = masked.text
            metadata[MASKED_METADATA] = True
            logger.info("typed password masked", extra={"conversation_id": session_id})

        output = FrontlineOutput(sio, self.bot_message_evt)
        message = UserMessage(
            text, output, session_id, input_channel=self.name(), metadata=metadata
        )
        await on_new_message(message)
        if output.sent == 0 and not await self._agent_is_handling(session_id):
            logger.error(
                "no answer to a customer message; sent the trouble notice",
                extra={"conversation_id": session_id},
            )
            await output.send_response(session_id, dict(TROUBLE_MESSAGE))
        return {"status": "accepted", "message_id": message_id}

    async def _mask_passwords(self, session_id: str, text: str) -> Masked:
        """``text`` with any password masked. A single password-like word counts
        only where the bot asked for an identifier (a verification step)."""
        masked = mask_passwords(text)
        if masked.masked:
            return masked
        alone = mask_passwords(text, bare=True)
        if alone.masked and await self._asks_for_identifier(session_id):
            return alone
        return masked

    async def _asks_for_identifier(self, session_id: str) -> bool:
        if self.agent is None or self.agent.tracker_store is None:
            return False
        tracker = await self.agent.tracker_store.retrieve(session_id)
        return bool(
            tracker is not None
            and tracker.active_loop_name
            and tracker.get_slot("requested_slot") in IDENTIFIER_SLOTS
        )

    def _report_presence(self, session_id: str, present: bool) -> None:
        """Tells the handoff service, in the background, that the customer left
        or came back, if an agent is handling the conversation."""
        if self.handoff_url is None:
            return
        task = asyncio.ensure_future(self._post_presence(session_id, present))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _post_presence(self, session_id: str, present: bool) -> None:
        try:
            if not await self._agent_is_handling(session_id):
                return
            async with (
                aiohttp.ClientSession() as http,
                http.post(
                    f"{self.handoff_url}/conversations/{session_id}/presence",
                    json={"present": present},
                    headers={"Authorization": f"Bearer {self.handoff_token or ''}"},
                    timeout=aiohttp.ClientTimeout(total=PRESENCE_TIMEOUT_SECONDS),
                ) as answer,
            ):
                if answer.status != 200:
                    logger.error(
                        "handoff service refused presence: %s",
                        answer.status,
                        extra={"conversation_id": session_id},
                    )
        except Exception:  # boundary: presence is best effort, never breaks the chat
            logger.exception("presence not reported", extra={"conversation_id": session_id})

    async def _agent_is_handling(self, session_id: str) -> bool:
        if self.agent is None or self.agent.tracker_store is None:
            return False
        tracker = await self.agent.tracker_store.retrieve(session_id)
        return bool(tracker is not None and tracker.get_slot(HANDOFF_SLOT))
