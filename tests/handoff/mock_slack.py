"""A local HTTP server imitating the parts of Slack's Web API the handoff uses.

Point ``slack_sdk.WebClient(token=server.token, base_url=server.url)`` (or
``AsyncWebClient``) at it. Like Slack, it accepts ``POST`` (JSON or form bodies)
and ``GET`` (query string) on ``/api/<method>``, checks the Bearer token, answers
HTTP 200 with ``{"ok": false, "error": ...}`` for API errors, and keeps state:
posted messages and thread replies (with increasing ``ts``), updates, reactions,
channel members and users.

Methods: auth.test, chat.postMessage (keeps message ``metadata``),
chat.postEphemeral, chat.update, chat.getPermalink, conversations.info,
conversations.list, conversations.history (by channel id, newest first,
``include_all_metadata``, paginated), conversations.replies (a thread, oldest
first, ``include_all_metadata``, paginated), conversations.members (paginated),
users.info, reactions.add. Anything else
answers ``unknown_method``. chat.postMessage and chat.update enforce Slack's block
limits (``invalid_blocks``, ``msg_blocks_too_long``).

Every request is recorded as a ``Call`` (method, parsed arguments, HTTP status) so
tests can compare whole lists. Faults on demand: ``fail_next(429, 2,
retry_after=1)`` or ``fail_next(503, 3)``, ``error_next("not_in_channel")``,
``lose_next(3)`` (the request takes effect but its answer is lost: the connection
closes without a response, recorded with status 0), ``delay`` (seconds before
every answer; ``max_in_flight`` is the most requests seen at once), and
``down()``/``up()`` (or ``with server.outage():``), which close the listening socket
so connections are refused, then reopen on the same port. Thread-safe; use the
``slack_api`` fixture, or ``with MockSlack() as server:``.
"""

from __future__ import annotations

import base64
import json
import re
import threading
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qsl, urlsplit

import pytest

__all__ = ["Call", "MockSlack", "slack_api"]

DEFAULT_TOKEN = "xoxb-mock-token"
BOT_USER_ID = "U0FRONTLINE"
BOT_ID = "B0FRONTLINE"
TEAM_ID = "T0BRIGHTWAVE"
WORKSPACE_URL = "https://brightwave-mock.slack.com/"
_FIRST_TS = 1_700_000_000
_JSON_ARGS = ("blocks", "attachments", "metadata")
_BLOCKS_CHAR_LIMIT = 13_200


@dataclass(frozen=True)
class Call:
    """One request as the server saw it. ``token`` and ``http_method`` are not
    compared, so expected lists need only method, arguments and (if not 200) status."""

    method: str
    args: dict[str, Any]
    status: int = 200
    token: str | None = field(default=None, compare=False)
    http_method: str = field(default="POST", compare=False)


@dataclass
class _Fault:
    status: int
    remaining: int
    retry_after: int | None = None
    error: str | None = None
    method: str | None = None
    lose: bool = False


class _ApiError(Exception):
    def __init__(self, error: str) -> None:
        super().__init__(error)
        self.error = error


class MockSlack:
    """The imitation Web API server (see the module docstring)."""

    def __init__(self, *, token: str = DEFAULT_TOKEN, host: str = "127.0.0.1") -> None:
        self.token = token
        self.host = host
        self.port = 0
        self._lock = threading.RLock()
        self._changed = threading.Condition(self._lock)
        self._server: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None
        self.delay = 0.0  # seconds before every answer
        self.max_in_flight = 0
        self._in_flight = 0
        self.reset()

    # --- lifecycle ---------------------------------------------------------------

    def start(self) -> MockSlack:
        self._listen(self.port)
        return self

    def stop(self) -> None:
        server, thread = self._server, self._thread
        self._server = self._thread = None
        if server is not None:
            server.shutdown()
            server.server_close()
        if thread is not None:
            thread.join(timeout=10)

    def __enter__(self) -> MockSlack:
        return self.start()

    def __exit__(self, *exc_info: object) -> None:
        self.stop()

    @property
    def url(self) -> str:
        """Base URL for ``WebClient(base_url=...)``, ending in ``/api/``."""
        return f"http://{self.host}:{self.port}/api/"

    def down(self) -> None:
        """Closes the listening socket: new connections are refused until ``up()``."""
        if self._server is None:
            raise RuntimeError("the mock Slack server is not running")
        self.stop()

    def up(self) -> None:
        """Listens again on the same port after ``down()``."""
        if self._server is None:
            self._listen(self.port)

    @property
    def is_down(self) -> bool:
        return self._server is None

    @contextmanager
    def outage(self) -> Iterator[None]:
        """``with server.outage():`` Slack is unreachable inside the block."""
        self.down()
        try:
            yield
        finally:
            self.up()

    def _listen(self, port: int) -> None:
        server = ThreadingHTTPServer((self.host, port), _handler_for(self))
        server.daemon_threads = True
        self.port = server.server_address[1]
        self._server = server
        self._thread = threading.Thread(
            target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        )
        self._thread.start()

    # --- configuration -------------------------------------------------------------

    def reset(self) -> None:
        """Forgets calls, messages, faults, channels and users."""
        with self._lock:
            self._calls: list[Call] = []
            self._faults: list[_Fault] = []
            self._messages: dict[tuple[str, str], dict[str, Any]] = {}
            self._order: list[tuple[str, str]] = []
            self._channels: dict[str, dict[str, Any]] = {}
            self._users: dict[str, dict[str, Any]] = {}
            self._reactions: dict[tuple[str, str], list[tuple[str, str]]] = {}
            self._counter = 0

    def add_channel(
        self, channel_id: str, name: str, *, members: Sequence[str] = (), private: bool = False
    ) -> None:
        with self._lock:
            self._channels[channel_id] = {
                "id": channel_id,
                "name": name.lstrip("#"),
                "private": private,
                "members": list(members),
            }

    def set_members(self, channel: str, members: Sequence[str]) -> None:
        """Members of ``channel`` (an id; created as a public channel if unknown)."""
        with self._lock:
            if channel not in self._channels:
                self.add_channel(channel, channel.lower(), members=members)
            self._channels[channel]["members"] = list(members)

    def add_user(
        self,
        user_id: str,
        real_name: str,
        display_name: str = "",
        *,
        is_bot: bool = False,
        tz: str = "Europe/Amsterdam",
    ) -> None:
        with self._lock:
            self._users[user_id] = {
                "id": user_id,
                "team_id": TEAM_ID,
                "name": re.sub(r"\W+", ".", real_name.lower()).strip("."),
                "real_name": real_name,
                "deleted": False,
                "is_bot": is_bot,
                "tz": tz,
                "profile": {
                    "real_name": real_name,
                    "real_name_normalized": real_name,
                    "display_name": display_name,
                    "display_name_normalized": display_name,
                },
            }

    def fail_next(
        self,
        status: int,
        count: int = 1,
        *,
        retry_after: int | None = None,
        method: str | None = None,
    ) -> None:
        """The next ``count`` requests (to ``method``, if given) get HTTP ``status``;
        with ``retry_after`` a ``Retry-After`` header. Faults queue in order."""
        with self._lock:
            self._faults.append(_Fault(status, count, retry_after=retry_after, method=method))

    def lose_next(self, count: int = 1, *, method: str | None = None) -> None:
        """The next ``count`` requests take effect, but their answers are lost
        (the connection closes without a response), as when Slack accepted a post
        and the network dropped the reply."""
        with self._lock:
            self._faults.append(_Fault(0, count, method=method, lose=True))

    def error_next(self, error: str, count: int = 1, *, method: str | None = None) -> None:
        """The next ``count`` requests get HTTP 200 ``{"ok": false, "error": error}``."""
        with self._lock:
            self._faults.append(_Fault(200, count, error=error, method=method))

    # --- inspection --------------------------------------------------------------------

    @property
    def calls(self) -> list[Call]:
        with self._lock:
            return list(self._calls)

    def calls_to(self, method: str) -> list[Call]:
        with self._lock:
            return [call for call in self._calls if call.method == method]

    def wait_for_calls(
        self, count: int, *, method: str | None = None, timeout: float = 10.0
    ) -> list[Call]:
        """Blocks until ``count`` calls (to ``method``, if given) have arrived; returns them.

        For code that calls Slack from another thread or process: no sleeping in tests.
        """

        def matching() -> list[Call]:
            return [c for c in self._calls if method is None or c.method == method]

        with self._changed:
            if not self._changed.wait_for(lambda: len(matching()) >= count, timeout=timeout):
                raise TimeoutError(
                    f"{len(matching())} of {count} calls to {method or 'any method'} after "
                    f"{timeout} s: {self._calls}"
                )
            return matching()

    def messages(self, channel: str | None = None) -> list[dict[str, Any]]:
        """Stored messages (as updated), in posting order, optionally of one channel."""
        with self._lock:
            return [
                dict(self._messages[key], channel=key[0])
                for key in self._order
                if channel is None or key[0] == channel
            ]

    def replies(self, channel: str, thread_ts: str) -> list[dict[str, Any]]:
        """Replies in the thread of ``thread_ts`` (not the parent), in order."""
        return [
            m
            for m in self.messages(channel)
            if m.get("thread_ts") == thread_ts and m["ts"] != thread_ts
        ]

    def reactions(self, channel: str, ts: str) -> list[tuple[str, str]]:
        """``(name, user)`` reactions on a message."""
        with self._lock:
            return list(self._reactions.get((channel, ts), []))

    # --- request handling (called from server threads) -------------------------------

    def _handle(
        self, http_method: str, path: str, headers: dict[str, str], body: bytes
    ) -> tuple[int, dict[str, str], dict[str, Any]]:
        split = urlsplit(path)
        match = re.fullmatch(r"/api/([A-Za-z0-9._]+)", split.path)
        if match is None:
            return 404, {}, {"ok": False, "error": "not_found"}
        method = match.group(1)
        args = dict(parse_qsl(split.query, keep_blank_values=True))
        args.update(_parse_body(headers.get("content-type", ""), body))
        for key in _JSON_ARGS:
            if isinstance(args.get(key), str):
                with suppress(ValueError):
                    args[key] = json.loads(args[key])
        token = args.pop("token", None)
        authorization = headers.get("authorization", "")
        if authorization.lower().startswith("bearer "):
            token = authorization[len("bearer ") :].strip()

        with self._changed:
            fault = self._take_fault(method)
            if fault is not None and fault.lose:
                taken = self._dispatch(method, args)
                self._calls.append(Call(method, args, 0, token, http_method))
                self._changed.notify_all()
                return 0, {}, taken
            if fault is not None and fault.error is None:
                status = fault.status
                extra = {} if fault.retry_after is None else {"Retry-After": str(fault.retry_after)}
                error = "ratelimited" if status == 429 else "internal_error"
                response: dict[str, Any] = {"ok": False, "error": error}
            else:
                status, extra = 200, {}
                if fault is not None:
                    response = {"ok": False, "error": fault.error}
                elif not token:
                    response = {"ok": False, "error": "not_authed"}
                elif token != self.token:
                    response = {"ok": False, "error": "invalid_auth"}
                else:
                    response = self._dispatch(method, args)
            self._calls.append(Call(method, args, status, token, http_method))
            self._changed.notify_all()
        return status, extra, response

    def _take_fault(self, method: str) -> _Fault | None:
        for fault in self._faults:
            if fault.method is None or fault.method == method:
                fault.remaining -= 1
                if fault.remaining <= 0:
                    self._faults.remove(fault)
                return fault
        return None

    def _dispatch(self, method: str, args: dict[str, Any]) -> dict[str, Any]:
        handler = _METHODS.get(method)
        if handler is None:
            return {"ok": False, "error": "unknown_method"}
        try:
            return {"ok": True, **handler(self, args)}
        except _ApiError as error:
            return {"ok": False, "error": error.error}

    def _next_ts(self) -> str:
        self._counter += 1
        return f"{_FIRST_TS + self._counter}.{self._counter:06d}"

    def _channel_id(self, args: dict[str, Any], key: str = "channel") -> str:
        value = str(args.get(key) or "")
        if not value:
            raise _ApiError("channel_not_found")
        if value.startswith("#"):
            for channel in self._channels.values():
                if channel["name"] == value[1:]:
                    return str(channel["id"])
        return value

    def _known_channel(self, args: dict[str, Any]) -> dict[str, Any]:
        channel = self._channels.get(self._channel_id(args))
        if channel is None:
            raise _ApiError("channel_not_found")
        return channel

    def _message(self, channel: str, ts: Any) -> dict[str, Any]:
        message = self._messages.get((channel, str(ts or "")))
        if message is None:
            raise _ApiError("message_not_found")
        return message

    # --- the Web API methods -----------------------------------------------------------

    def _auth_test(self, args: dict[str, Any]) -> dict[str, Any]:
        return {
            "url": WORKSPACE_URL,
            "team": "Brightwave",
            "user": "frontline",
            "team_id": TEAM_ID,
            "user_id": BOT_USER_ID,
            "bot_id": BOT_ID,
            "is_enterprise_install": False,
        }

    def _post_message(self, args: dict[str, Any]) -> dict[str, Any]:
        channel = self._channel_id(args)
        _check_content(args)
        ts = self._next_ts()
        message: dict[str, Any] = {
            "type": "message",
            "user": BOT_USER_ID,
            "bot_id": BOT_ID,
            "text": str(args.get("text") or "")[:40_000],
            "ts": ts,
        }
        if args.get("blocks"):
            message["blocks"] = args["blocks"]
        if args.get("thread_ts"):
            message["thread_ts"] = str(args["thread_ts"])
        if isinstance(args.get("metadata"), dict):
            message["metadata"] = args["metadata"]
        self._messages[(channel, ts)] = message
        self._order.append((channel, ts))
        return {"channel": channel, "ts": ts, "message": dict(message)}

    def _post_ephemeral(self, args: dict[str, Any]) -> dict[str, Any]:
        self._channel_id(args)
        if not args.get("user"):
            raise _ApiError("user_not_found")
        _check_content(args)
        return {"message_ts": self._next_ts()}

    def _update(self, args: dict[str, Any]) -> dict[str, Any]:
        channel = self._channel_id(args)
        message = self._message(channel, args.get("ts"))
        _check_content(args)
        if "text" in args:
            message["text"] = str(args["text"])[:40_000]
        if "blocks" in args:
            message["blocks"] = args["blocks"]
        message["edited"] = {"user": BOT_USER_ID, "ts": self._next_ts()}
        return {
            "channel": channel,
            "ts": message["ts"],
            "text": message["text"],
            "message": {k: v for k, v in message.items() if k != "edited"},
        }

    def _permalink(self, args: dict[str, Any]) -> dict[str, Any]:
        channel = self._channel_id(args)
        message = self._message(channel, args.get("message_ts"))
        link = f"{WORKSPACE_URL}archives/{channel}/p{message['ts'].replace('.', '')}"
        thread_ts = message.get("thread_ts")
        if thread_ts and thread_ts != message["ts"]:
            link += f"?thread_ts={thread_ts}&cid={channel}"
        return {"channel": channel, "permalink": link}

    def _conversation(self, channel: dict[str, Any]) -> dict[str, Any]:
        return {
            "id": channel["id"],
            "name": channel["name"],
            "is_channel": not channel["private"],
            "is_group": channel["private"],
            "is_private": channel["private"],
            "is_member": True,
            "is_archived": False,
            "num_members": len(channel["members"]),
        }

    def _conversations_info(self, args: dict[str, Any]) -> dict[str, Any]:
        return {"channel": self._conversation(self._known_channel(args))}

    def _conversations_list(self, args: dict[str, Any]) -> dict[str, Any]:
        types = str(args.get("types") or "public_channel").split(",")
        wanted = [
            self._conversation(channel)
            for channel in self._channels.values()
            if ("private_channel" if channel["private"] else "public_channel") in types
        ]
        return {"channels": wanted, "response_metadata": {"next_cursor": ""}}

    def _conversations_history(self, args: dict[str, Any]) -> dict[str, Any]:
        """Top-level messages of a channel, newest first, between ``oldest`` and
        ``latest``; message metadata only with ``include_all_metadata``. Like
        Slack, the channel must be an id (a ``#name`` is not found)."""
        channel_id = str(args.get("channel") or "")
        if channel_id not in self._channels:
            raise _ApiError("channel_not_found")
        oldest = float(args.get("oldest") or 0)
        latest = float(args.get("latest") or "inf")
        found = [
            self._messages[key]
            for key in reversed(self._order)
            if key[0] == channel_id
            and self._messages[key].get("thread_ts", key[1]) == key[1]
            and oldest <= float(key[1]) <= latest
        ]
        return _message_page(found, args)

    def _conversations_replies(self, args: dict[str, Any]) -> dict[str, Any]:
        """A thread: its parent, then the replies, oldest first; metadata only
        with ``include_all_metadata``. The channel must be an id."""
        channel_id = str(args.get("channel") or "")
        if channel_id not in self._channels:
            raise _ApiError("channel_not_found")
        thread_ts = str(args.get("ts") or "")
        if (channel_id, thread_ts) not in self._messages:
            raise _ApiError("thread_not_found")
        found = [
            self._messages[key]
            for key in self._order
            if key[0] == channel_id
            and (key[1] == thread_ts or self._messages[key].get("thread_ts") == thread_ts)
        ]
        return _message_page(found, args)

    def _conversations_members(self, args: dict[str, Any]) -> dict[str, Any]:
        members = self._known_channel(args)["members"]
        start, end, next_cursor = _page_bounds(args, len(members))
        page = members[start:end]
        return {"members": page, "response_metadata": {"next_cursor": next_cursor}}

    def _users_info(self, args: dict[str, Any]) -> dict[str, Any]:
        user = self._users.get(str(args.get("user") or ""))
        if user is None:
            raise _ApiError("user_not_found")
        return {"user": json.loads(json.dumps(user))}

    def _reactions_add(self, args: dict[str, Any]) -> dict[str, Any]:
        channel = self._channel_id(args)
        self._message(channel, args.get("timestamp"))
        name = str(args.get("name") or "")
        if not name:
            raise _ApiError("invalid_name")
        reactions = self._reactions.setdefault((channel, str(args["timestamp"])), [])
        if (name, BOT_USER_ID) in reactions:
            raise _ApiError("already_reacted")
        reactions.append((name, BOT_USER_ID))
        return {}


def _page_bounds(args: dict[str, Any], total: int) -> tuple[int, int, str]:
    """Slack's cursor paging: ``(start, end, next_cursor)`` of the page asked for."""
    limit = int(args.get("limit") or 100)
    cursor = str(args.get("cursor") or "")
    try:
        start = int(base64.b64decode(cursor).decode().removeprefix("offset:")) if cursor else 0
    except ValueError:
        raise _ApiError("invalid_cursor") from None
    end = start + limit
    next_cursor = base64.b64encode(f"offset:{end}".encode()).decode() if end < total else ""
    return start, end, next_cursor


def _message_page(found: list[dict[str, Any]], args: dict[str, Any]) -> dict[str, Any]:
    """A page of ``found`` messages; their metadata only with ``include_all_metadata``."""
    with_metadata = str(args.get("include_all_metadata") or "").lower() in ("1", "true")
    start, end, next_cursor = _page_bounds(args, len(found))
    page = [
        {k: v for k, v in m.items() if k != "metadata" or with_metadata} for m in found[start:end]
    ]
    return {
        "messages": json.loads(json.dumps(page)),
        "has_more": bool(next_cursor),
        "response_metadata": {"next_cursor": next_cursor},
    }


_METHODS = {
    "auth.test": MockSlack._auth_test,
    "chat.postMessage": MockSlack._post_message,
    "chat.postEphemeral": MockSlack._post_ephemeral,
    "chat.update": MockSlack._update,
    "chat.getPermalink": MockSlack._permalink,
    "conversations.info": MockSlack._conversations_info,
    "conversations.history": MockSlack._conversations_history,
    "conversations.list": MockSlack._conversations_list,
    "conversations.members": MockSlack._conversations_members,
    "conversations.replies": MockSlack._conversations_replies,
    "users.info": MockSlack._users_info,
    "reactions.add": MockSlack._reactions_add,
}


def _check_content(args: dict[str, Any]) -> None:
    """Slack's checks on message content: something to show, blocks within limits."""
    blocks = args.get("blocks")
    if not args.get("text") and not blocks and not args.get("attachments"):
        raise _ApiError("no_text")
    if blocks is None:
        return
    if not isinstance(blocks, list) or len(blocks) > 50:
        raise _ApiError("invalid_blocks")
    for block in blocks:
        if not isinstance(block, dict) or "type" not in block:
            raise _ApiError("invalid_blocks")
        text: dict[str, Any] = block["text"] if isinstance(block.get("text"), dict) else {}
        limit = 150 if block["type"] == "header" else 3000
        if len(str(text.get("text", ""))) > limit:
            raise _ApiError("invalid_blocks")
        if len(block.get("fields", [])) > 10:
            raise _ApiError("invalid_blocks")
    if len(json.dumps(blocks, ensure_ascii=False, separators=(",", ":"))) > _BLOCKS_CHAR_LIMIT:
        raise _ApiError("msg_blocks_too_long")


def _parse_body(content_type: str, body: bytes) -> dict[str, Any]:
    if not body:
        return {}
    kind = content_type.split(";")[0].strip().lower()
    if kind == "application/json":
        data = json.loads(body.decode("utf-8"))
        return data if isinstance(data, dict) else {}
    if kind == "application/x-www-form-urlencoded":
        return dict(parse_qsl(body.decode("utf-8"), keep_blank_values=True))
    return {}


def _handler_for(server: MockSlack) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        # HTTP/1.0: one request per connection, so down() leaves no open connection.
        protocol_version = "HTTP/1.0"

        def _serve(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            body = self.rfile.read(length) if length else b""
            headers = {key.lower(): value for key, value in self.headers.items()}
            with server._lock:
                server._in_flight += 1
                server.max_in_flight = max(server.max_in_flight, server._in_flight)
            try:
                if server.delay:
                    time.sleep(server.delay)
                status, extra, response = server._handle(self.command, self.path, headers, body)
            finally:
                with server._lock:
                    server._in_flight -= 1
            if status == 0:  # the answer is lost
                self.close_connection = True
                return
            payload = json.dumps(response).encode("utf-8")
            self.send_response(status)
            self.send_header("Content-Type", "application/json; charset=utf-8")
            self.send_header("Content-Length", str(len(payload)))
            for key, value in extra.items():
                self.send_header(key, value)
            self.end_headers()
            self.wfile.write(payload)

        do_GET = _serve
        do_POST = _serve

        def log_message(self, format: str, *args: Any) -> None:
            """Quiet: the recorded calls are the log."""

    return Handler


@pytest.fixture
def slack_api() -> Iterator[MockSlack]:
    """A running imitation of Slack's Web API; stopped after the test."""
    with MockSlack() as server:
        yield server
