"""Frontline's customer channel: Rasa's socket.io channel, made safe to push to.

Runs inside the Rasa engine (Python 3.10, ``rasa`` importable); of Frontline it
imports only ``core.typed_secrets`` and ``bot.engine.widget_input`` (standard library
only). Rasa loads it from ``bot/credentials.yml`` as
``bot.engine.channel.FrontlineChannel`` and mounts it under ``/webhooks/frontline/``.

Why not the stock ``socketio`` channel:

* With python-socketio 5.x, ``AsyncServer.enter_room`` is a coroutine that the
  stock channel never awaits, so a browser never joins its session's room and
  anything pushed later (``trigger_intent?output_channel=latest``, the path
  agent replies take) reaches nobody.
* Its session ids are whatever the client sends, and whoever sends one reads
  and writes that conversation. Here the server chooses every session id and
  a socket speaks only for the session it was confirmed (see "Sessions").
* What a client sends is checked and capped before any work (see "Limits"),
  and the text is cleaned (``bot.engine.widget_input.clean_text``) before NLU sees it.
* A client ``message_id`` makes resends idempotent, and only a processed
  message counts: if processing raised, the id is forgotten so the resend is
  processed, and the client is told (``error``) instead of hearing nothing.
* A password the customer types is masked before Rasa sees the message (so it
  is in no tracker event, transcript or log), and the message's metadata says
  so (``password_masked``) for the bot to warn them: see ``core.typed_secrets``.
* The bot's message is emitted as one JSON object (``text``, ``buttons``,
  ``custom``...) so the widget renders exactly what the action produced.

Sessions. A session id is 32 hex characters, always chosen by the server. When
it confirms a new session it also gives that socket the session's resume
token: HMAC-SHA256 of the id under the deployment's ``session_key``
(``FRONTLINE_WIDGET_SESSION_KEY``; the launcher otherwise keeps a generated one
in ``var/widget-session.key``), so nothing is stored, it survives restarts, and
every replica with the same key accepts it. The browser keeps the token next to
the id; only a ``session_request`` with both resumes the session, anything else
(no token, a wrong one, an unknown or malformed id, a malformed payload) gets a
fresh session. A socket is bound to the session it was last confirmed: it is in
that session's room only, and ``user_uttered`` and ``history_request`` for any
other session are rejected. So a session id alone (in a log, a transcript, a
screenshot) neither reads the conversation nor speaks in it. Changing the key
ends every resumable session; one session cannot be revoked alone. Without a
key in the credentials a random one per process is used (logged as a warning):
sessions then resume only until Rasa restarts.

Wire protocol (same event names as Rasa's socketio channel and rasa-webchat):

* client -> ``session_request`` ``{"session_id": str | null, "resume_token"?: str}``;
  server -> ``session_confirm`` with two arguments: ``"<session id>"`` (what
  the stock channel sends, so clients that read one argument keep working) and
  ``{"resume_token": str, "resumed": bool}``. A payload that is not an object,
  or no payload, gets a fresh session: ``session_request`` always gets a
  ``session_confirm``.
* client -> ``user_uttered`` ``{"session_id", "message", "message_id"?, "metadata"?}``;
  the acknowledgement, sent after every bot message the message caused, is
  ``{"status": "accepted" | "duplicate", "message_id"}`` (``duplicate``: a resend
  of a message already processed; a resend while the first is in progress waits
  for its outcome), ``{"status": "rejected", "reason", "message_id"?}`` (refused
  as it is; sending it again will not help) or ``{"status": "error", "reason",
  "message_id"}`` (processing failed; the customer also got the trouble notice;
  sending the same ``message_id`` again processes it).
  Rejected: a payload that is not one object; a session this socket was not
  confirmed (``send session_request first``); a ``message`` that is not a
  string (``message must be text``) or is empty once cleaned (``message is
  empty``); a malformed ``message_id`` or ``metadata`` (see "Limits").
* server -> ``bot_uttered`` ``{"text"?, "buttons"?, "quick_replies"?, "image"?,
  "attachment"?, "elements"?, "custom"?}``.
* client -> ``history_request`` ``{"session_id"}`` (after ``session_request``); the
  acknowledgement returns ``{"status": "ok", "messages": [...]}``: the session's last
  200 messages from Rasa's tracker, ``{"from": "user", "ts", "text", "message_id"?}``
  or ``{"from": "bot", "ts", "message": <as bot_uttered>}``, so a page shows what
  arrived while no tab was open; ``{"status": "rejected", "reason": "send
  session_request first"}`` for a session this socket was not confirmed.
* Any other event, and a packet whose JSON cannot be read, is acknowledged
  ``{"status": "rejected", "reason": "unknown event" | "malformed packet"}``.

Limits (credentials): a socket.io frame (a websocket message or a long-polling
body) is at most ``max_frame_bytes`` (64 KiB: the widget's 4,000 characters
escaped, with metadata, fit three times); a bigger frame closes the connection
and a bigger body is answered 413, both before it is buffered. ``message`` is
cut to ``max_message_chars`` (flagged ``truncated_from``); ``message_id`` is 1
to 100 printable ASCII characters; ``metadata`` is a JSON object of at most
``max_metadata_bytes`` (4 KiB) of plain JSON values, else the message is
rejected. ``message_id``, ``truncated_from`` and ``password_masked`` in the
metadata are set by the channel only.
"""

from __future__ import annotations

import asyncio
import functools
import logging
import re
import secrets
import uuid
from collections import OrderedDict
from collections.abc import Awaitable, Callable
from typing import Any

import aiohttp
from rasa.core.channels.channel import InputChannel, OutputChannel, UserMessage
from rasa.core.channels.socketio import SocketBlueprint
from sanic import Blueprint, Sanic, response
from sanic.request import Request
from sanic.response import HTTPResponse
from socketio import AsyncServer
from socketio.packet import EVENT, Packet

from bot.engine import speedups
from bot.engine.widget_input import (
    DEFAULT_MAX_METADATA_BYTES,
    InputRefused,
    check_message_id,
    check_metadata,
    clean_text,
    resume_allowed,
    resume_token,
)
from core.contract import HANDOFF_ACTIVE, SERVICE_INTENTS
from core.typed_secrets import IDENTIFIER_SLOTS, MASKED_METADATA, Masked, mask_passwords

logger = logging.getLogger(__name__)

SESSION_ID = re.compile(r"^[0-9a-f]{32}$")
DEFAULT_MAX_MESSAGE_CHARS = 4000
# The largest socket.io frame (websocket message or long-polling body) read.
DEFAULT_MAX_FRAME_BYTES = 64 * 1024
# How many recent client message ids are remembered per process for dedupe.
DEFAULT_DEDUPE_WINDOW = 10000
MESSAGE_KEYS = ("text", "buttons", "quick_replies", "image", "attachment", "elements", "custom")
# Sent when a customer's message got no answer at all (the action server is
# down, an action crashed, processing raised) and, unless processing raised,
# no human agent is handling the conversation.
TROUBLE_MESSAGE = {
    "text": "Sorry, something went wrong on our side and I couldn't answer that. "
    "Please try again in a minute; what you wrote is kept.",
    "custom": {"type": "service_trouble"},
}
# Slot set while a human agent handles the conversation: the bot stays quiet.
HANDOFF_SLOT = HANDOFF_ACTIVE
HISTORY_LIMIT = 200
PRESENCE_TIMEOUT_SECONDS = 5
# Intents the handoff service sends through Rasa's API: not the customer's words.
EXTERNAL_INTENTS = SERVICE_INTENTS
# Metadata keys only this channel sets; a client's are dropped.
CHANNEL_METADATA = ("message_id", "truncated_from", MASKED_METADATA)
# What an event packet that cannot be read becomes (``TolerantPacket``).
MALFORMED_EVENT = "frontline:malformed"
# Reasons the client is told.
SESSION_FIRST = "send session_request first"
NOT_AN_OBJECT = "payload must be an object"
NOT_TEXT = "message must be text"
EMPTY = "message is empty"
RETRY = "the message could not be processed; send it again"


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


def rejected(reason: str, message_id: str | None = None) -> dict[str, Any]:
    answer = {"status": "rejected", "reason": reason}
    if message_id is not None:
        answer["message_id"] = message_id
    return answer


class RecentIds:
    """Ids of recently processed messages (bounded, oldest forgotten first),
    and of those being processed now.

    An id counts as processed only once its processing returned: a message
    whose processing raised is forgotten, so its resend is processed."""

    def __init__(self, capacity: int) -> None:
        self._capacity = capacity
        self._done: OrderedDict[str, None] = OrderedDict()
        self._running: dict[str, asyncio.Future[None]] = {}

    async def claim(self, key: str) -> bool:
        """True if the caller is to process the message ``key`` (and then call
        ``finish``); False if it was processed already. While another claim of
        ``key`` is being processed, waits for its outcome."""
        while True:
            if key in self._done:
                self._done.move_to_end(key)
                return False
            running = self._running.get(key)
            if running is None:
                self._running[key] = asyncio.get_running_loop().create_future()
                return True
            await asyncio.shield(running)

    def finish(self, key: str, processed: bool) -> None:
        """Ends a claim: ``key`` is remembered if it was ``processed``."""
        running = self._running.pop(key)
        if processed:
            self._done[key] = None
            if len(self._done) > self._capacity:
                self._done.popitem(last=False)
        running.set_result(None)


class TolerantPacket(Packet):
    """socket.io's packet, except that an event whose data cannot be read (not
    JSON, nested too deep, not ``[name, ...args]``) becomes ``MALFORMED_EVENT``,
    which the channel acknowledges, instead of an exception in the server that
    leaves the client waiting for an answer."""

    def decode(self, encoded_packet: Any) -> int:
        try:
            attachments = int(super().decode(encoded_packet) or 0)
        except (ValueError, RecursionError):
            if self.packet_type != EVENT:
                raise
            self.data = [MALFORMED_EVENT]
            return 0
        if self.packet_type == EVENT and not (
            isinstance(self.data, list) and self.data and isinstance(self.data[0], str)
        ):
            self.data = [MALFORMED_EVENT]
        return attachments


class FrameCappedBlueprint(SocketBlueprint):
    """Rasa's socket.io blueprint, with frames capped before they are buffered.

    engine.io checks a frame's size (``max_http_buffer_size``) only once Sanic
    has read all of it: a websocket message up to Sanic's
    ``WEBSOCKET_MAX_SIZE`` (1 MB), a long-polling body up to
    ``REQUEST_MAX_SIZE`` (100 MB). So the Rasa server's ``WEBSOCKET_MAX_SIZE``
    is lowered to the cap (this channel is its only websocket), and a request
    to the socket.io path gets the cap as its body limit as soon as it is
    routed: Sanic answers 413 once more arrives, before the handler runs."""

    def __init__(
        self, sio: AsyncServer, socketio_path: str, max_frame_bytes: int, *args: Any, **kwargs: Any
    ) -> None:
        super().__init__(sio, socketio_path, *args, **kwargs)
        self.ctx.max_frame_bytes = max_frame_bytes

    def register(self, app: Sanic, options: dict[str, Any]) -> None:
        super().register(app, options)
        cap = int(self.ctx.max_frame_bytes)
        if cap < app.config.WEBSOCKET_MAX_SIZE:
            logger.info("websocket messages capped at %d bytes (Sanic's WEBSOCKET_MAX_SIZE)", cap)
            app.config.WEBSOCKET_MAX_SIZE = cap
        path = str(self.ctx.socketio_path).rstrip("/")

        async def cap_body(request: Request, **_: Any) -> None:
            stream = request.stream
            if stream is not None and request.path.rstrip("/") == path:
                stream.request_max_size = min(stream.request_max_size, cap)

        app.signal("http.routing.after")(cap_body)


def answered(
    handler: Callable[..., Awaitable[Any]],
) -> Callable[..., Awaitable[Any]]:
    """A socket.io handler that answers even if it raises: the exception is
    logged and the client told ``error`` instead of waiting for nothing."""

    @functools.wraps(handler)
    async def guarded(*args: Any) -> Any:
        try:
            return await handler(*args)
        except Exception:  # boundary: one client's event never goes unanswered
            logger.exception("socket.io event %s failed", handler.__name__)
            return {"status": "error", "reason": "internal error"}

    return guarded


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
        speedups.install()  # the engine is starting: whatever tracker store it uses
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
            max_frame_bytes=int(credentials.get("max_frame_bytes", DEFAULT_MAX_FRAME_BYTES)),
            max_metadata_bytes=int(
                credentials.get("max_metadata_bytes", DEFAULT_MAX_METADATA_BYTES)
            ),
            session_key=credentials.get("session_key") or None,
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
        max_frame_bytes: int = DEFAULT_MAX_FRAME_BYTES,
        max_metadata_bytes: int = DEFAULT_MAX_METADATA_BYTES,
        session_key: str | None = None,
        handoff_url: str | None = None,
        handoff_token: str | None = None,
    ) -> None:
        self.user_message_evt = user_message_evt
        self.bot_message_evt = bot_message_evt
        self.socketio_path = socketio_path
        self.cors_allowed_origins = cors_allowed_origins
        self.max_message_chars = max_message_chars
        self.max_frame_bytes = max_frame_bytes
        self.max_metadata_bytes = max_metadata_bytes
        if session_key:
            self.session_key = str(session_key).encode("utf-8")
        else:
            logger.warning(
                "no session_key for the widget channel (FRONTLINE_WIDGET_SESSION_KEY): "
                "using a random one, so sessions resume only until this process restarts "
                "and only on this replica"
            )
            self.session_key = secrets.token_bytes(32)
        self.handoff_url = handoff_url.rstrip("/") if handoff_url else None
        self.handoff_token = handoff_token
        self._tasks: set[asyncio.Task[None]] = set()
        self.sio: AsyncServer | None = None
        self.agent: Any | None = None  # rasa's Agent, set once the server runs
        self._processed = RecentIds(DEFAULT_DEDUPE_WINDOW)

    def get_output_channel(self) -> OutputChannel | None:
        if self.sio is None:
            return None
        return FrontlineOutput(self.sio, self.bot_message_evt)

    def blueprint(self, on_new_message: Callable[[UserMessage], Awaitable[Any]]) -> Blueprint:
        sio = AsyncServer(
            async_mode="sanic",
            cors_allowed_origins=self.cors_allowed_origins,
            max_http_buffer_size=self.max_frame_bytes,
            serializer=TolerantPacket,
        )
        self.sio = sio
        webhook = FrameCappedBlueprint(
            sio, self.socketio_path, self.max_frame_bytes, "frontline_webhook", __name__
        )

        @webhook.listener("after_server_start")
        async def remember_agent(app: Any, _loop: Any) -> None:
            self.agent = getattr(app.ctx, "agent", None)

        @webhook.route("/", methods=["GET"])
        async def health(_: Request) -> HTTPResponse:
            return response.json({"status": "ok", "channel": self.name()})

        @sio.on("connect")
        async def connect(sid: str, environ: dict, auth: Any = None) -> bool:
            logger.debug("socket %s connected", sid)
            return True

        @sio.on("disconnect")
        async def disconnect(sid: str, reason: Any = None) -> None:
            logger.debug("socket %s disconnected", sid)
            for room in sio.rooms(sid):
                if room != sid and SESSION_ID.match(room):
                    self._leaving(sio, room, sid)

        @sio.on("session_request")
        @answered
        async def session_request(sid: str, *args: Any) -> None:
            await self._confirm_session(sio, sid, args[0] if len(args) == 1 else None)

        @sio.on("history_request")
        @answered
        async def history_request(sid: str, *args: Any) -> dict[str, Any]:
            data = args[0] if len(args) == 1 else None
            session_id = data.get("session_id") if isinstance(data, dict) else None
            if not isinstance(session_id, str) or session_id != await self._session_of(sio, sid):
                return rejected(SESSION_FIRST)
            if self.agent is None or self.agent.tracker_store is None:
                return {"status": "ok", "messages": []}
            tracker = await self.agent.tracker_store.retrieve(session_id)
            events = [event.as_dict() for event in tracker.events] if tracker else []
            return {"status": "ok", "messages": history(events)}

        @sio.on(self.user_message_evt)
        @answered
        async def handle_message(sid: str, *args: Any) -> dict[str, Any]:
            if len(args) != 1 or not isinstance(args[0], dict):
                return rejected(NOT_AN_OBJECT)
            return await self._handle_message(sio, sid, args[0], on_new_message)

        @sio.on("*")
        async def other_event(event: Any, sid: str, *args: Any) -> dict[str, Any]:
            malformed = event == MALFORMED_EVENT
            logger.info("socket %s sent %s", sid, "a malformed packet" if malformed else event)
            return rejected("malformed packet" if malformed else "unknown event")

        return webhook

    async def _session_of(self, sio: AsyncServer, sid: str) -> str | None:
        """The session this socket was last confirmed, if any."""
        session = await sio.get_session(sid)
        bound = session.get("session_id") if isinstance(session, dict) else None
        return bound if isinstance(bound, str) else None

    async def _confirm_session(self, sio: AsyncServer, sid: str, data: Any) -> None:
        """Binds the socket to the session it proved it holds (id and resume
        token), or to a fresh one, and confirms it with its resume token."""
        data = data if isinstance(data, dict) else {}
        requested = data.get("session_id")
        resumed = (
            isinstance(requested, str)
            and SESSION_ID.match(requested) is not None
            and resume_allowed(self.session_key, requested, data.get("resume_token"))
        )
        session_id = requested if resumed else uuid.uuid4().hex
        previous = await self._session_of(sio, sid)
        if previous is not None and previous != session_id:
            await sio.leave_room(sid, previous)
            self._leaving(sio, previous, sid)
        returning = resumed and not list(sio.manager.get_participants("/", session_id))
        await sio.enter_room(sid, session_id)
        await sio.save_session(sid, {"session_id": session_id})
        if returning:
            self._report_presence(session_id, present=True)
        token = resume_token(self.session_key, session_id)
        await sio.emit(
            "session_confirm", (session_id, {"resume_token": token, "resumed": resumed}), to=sid
        )
        logger.info(
            "session confirmed",
            extra={
                "conversation_id": session_id,
                "resumed": resumed,
                "resume_refused": requested is not None and not resumed,
            },
        )

    def _leaving(self, sio: AsyncServer, session_id: str, sid: str) -> None:
        """Reports the customer absent if ``sid`` was the session's last socket."""
        others = [s for s, _ in sio.manager.get_participants("/", session_id) if s != sid]
        if not others:
            self._report_presence(session_id, present=False)

    async def _handle_message(
        self,
        sio: AsyncServer,
        sid: str,
        data: dict[str, Any],
        on_new_message: Callable[[UserMessage], Awaitable[Any]],
    ) -> dict[str, Any]:
        session_id = data.get("session_id")
        if not isinstance(session_id, str) or session_id != await self._session_of(sio, sid):
            return rejected(SESSION_FIRST)
        try:
            message_id = check_message_id(data.get("message_id"))
        except InputRefused as refused:
            return rejected(refused.reason)
        try:
            metadata = check_metadata(data.get("metadata"), self.max_metadata_bytes)
        except InputRefused as refused:
            return rejected(refused.reason, message_id)
        for name in CHANNEL_METADATA:
            metadata.pop(name, None)
        typed = data.get("message")
        if not isinstance(typed, str):
            return rejected(NOT_TEXT, message_id)
        text = clean_text(typed)
        if not text.strip():
            return rejected(EMPTY, message_id)

        key = f"{session_id}:{message_id}" if message_id is not None else None
        if key is not None:
            if not await self._processed.claim(key):
                logger.info(
                    "duplicate message ignored",
                    extra={"conversation_id": session_id, "message_id": message_id},
                )
                return {"status": "duplicate", "message_id": message_id}
            metadata["message_id"] = message_id
        output = FrontlineOutput(sio, self.bot_message_evt)
        processed = False
        try:
            await self._process(session_id, text, metadata, output, on_new_message)
            processed = True
        except Exception:  # boundary: the customer hears of it and can send it again
            logger.exception(
                "customer message not processed; sent the trouble notice",
                extra={"conversation_id": session_id, "message_id": message_id},
            )
            await output.send_response(session_id, dict(TROUBLE_MESSAGE))
            answer: dict[str, Any] = {"status": "error", "reason": RETRY}
            if message_id is not None:
                answer["message_id"] = message_id
            return answer
        finally:
            if key is not None:
                self._processed.finish(key, processed)
        if output.sent == 0 and not await self._agent_is_handling(session_id):
            logger.error(
                "no answer to a customer message; sent the trouble notice",
                extra={"conversation_id": session_id},
            )
            await output.send_response(session_id, dict(TROUBLE_MESSAGE))
        return {"status": "accepted", "message_id": message_id}

    async def _process(
        self,
        session_id: str,
        text: str,
        metadata: dict[str, Any],
        output: FrontlineOutput,
        on_new_message: Callable[[UserMessage], Awaitable[Any]],
    ) -> None:
        """Cuts, masks and hands the (cleaned, non-empty) message to Rasa."""
        if len(text) > self.max_message_chars:
            metadata["truncated_from"] = len(text)
            text = text[: self.max_message_chars]
        masked = await self._mask_passwords(session_id, text)
        if masked.masked:
            text = masked.text
            metadata[MASKED_METADATA] = True
            logger.info("typed password masked", extra={"conversation_id": session_id})
        message = UserMessage(
            text, output, session_id, input_channel=self.name(), metadata=metadata
        )
        await on_new_message(message)

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
