"""Real local servers the backend tests talk to, on free ports.

* ``ContractServer``: the reference HTTP contract server (uvicorn, in a thread)
  in front of a test's demo backend, with a fault switch: answer 5xx, hang
  until released, or answer malformed JSON; it records every request.
* ``SmtpServer``: aiosmtpd in a thread; records every message that arrived.
"""

from __future__ import annotations

import email
import email.policy
import socket
import ssl
import threading
from dataclasses import dataclass, field
from email.message import EmailMessage
from typing import Any

import uvicorn
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword

from actions.backends.contract_server import create_contract_app
from actions.backends.protocols import BusinessSystem

AUTH_VALUE = "Bearer test-secret"


@dataclass
class Seen:
    method: str
    path: str
    headers: dict[str, str]


@dataclass
class Faults:
    """What the server does to the next requests."""

    status: int | None = None  # answer this status instead of serving
    status_times: int = 0  # ... this many times (then serve normally)
    hang: bool = False  # hold every request until ``release`` is set
    malformed: bool = False  # answer 200 with a body that is not the contract's JSON
    release: threading.Event = field(default_factory=threading.Event)


class ContractServer:
    """uvicorn on 127.0.0.1:<free port> serving whichever system ``serve`` set."""

    def __init__(self) -> None:
        self.sock = socket.create_server(("127.0.0.1", 0))  # listening: connects queue at once
        self.port = self.sock.getsockname()[1]
        self.url = f"http://127.0.0.1:{self.port}"
        self.requests: list[Seen] = []
        self.faults = Faults()
        self._app: Any = None
        config = uvicorn.Config(self, log_level="warning", lifespan="off", access_log=False)
        self.server = uvicorn.Server(config)
        self.thread = threading.Thread(target=self.server.run, args=([self.sock],), daemon=True)

    def start(self) -> ContractServer:
        self.thread.start()
        return self

    def stop(self) -> None:
        self.faults.release.set()
        self.server.should_exit = True
        self.thread.join()

    def serve(self, system: BusinessSystem) -> None:
        self._app = create_contract_app(system, auth_value=AUTH_VALUE)

    def reset(self) -> None:
        self.faults.release.set()  # let hung requests finish
        self.faults = Faults()
        self.requests = []
        self._app = None

    def paths(self) -> list[str]:
        return [f"{seen.method} {seen.path}" for seen in self.requests]

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        import asyncio

        assert scope["type"] == "http"
        headers = {key.decode(): value.decode() for key, value in scope["headers"]}
        self.requests.append(Seen(scope["method"], scope["path"], headers))
        faults = self.faults
        if faults.hang:  # the client has given up by the time it is released
            await asyncio.get_running_loop().run_in_executor(None, faults.release.wait)
            await _respond(send, 503, b"{}")
            return
        if faults.status is not None and faults.status_times > 0:
            faults.status_times -= 1
            await _respond(send, faults.status, b'{"error": "boom"}')
            return
        if faults.malformed:
            await _respond(send, 200, b'{"order_number": 42}')
            return
        await self._app(scope, receive, send)


async def _respond(send: Any, status: int, body: bytes) -> None:
    await send(
        {
            "type": "http.response.start",
            "status": status,
            "headers": [(b"content-type", b"application/json")],
        }
    )
    await send({"type": "http.response.body", "body": body})


def closed_port() -> int:
    """A port nobody listens on (connections are refused)."""
    with socket.create_server(("127.0.0.1", 0)) as sock:
        return int(sock.getsockname()[1])


@dataclass
class Received:
    mail_from: str
    rcpt_tos: list[str]
    login: str | None
    message: EmailMessage


class Inbox:
    """aiosmtpd handler that keeps what arrived."""

    def __init__(self, refuse: set[str] | None = None) -> None:
        self.received: list[Received] = []
        self.refuse = refuse or set()

    async def handle_RCPT(  # aiosmtpd's hook names
        self, server: Any, session: Any, envelope: Any, address: str, options: list[str]
    ) -> str:
        if address in self.refuse:
            return "550 5.1.1 No such user here"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        # CRLF is SMTP's line ending on the wire; the message itself has plain lines.
        content = envelope.content.replace(b"\r\n", b"\n")
        message = email.message_from_bytes(content, policy=email.policy.default)
        assert isinstance(message, EmailMessage)
        login = session.auth_data.login.decode() if session.auth_data else None
        self.received.append(Received(envelope.mail_from, list(envelope.rcpt_tos), login, message))
        return "250 Message accepted for delivery"


def authenticator(login: str, password: str) -> Any:
    def check(server: Any, session: Any, envelope: Any, mechanism: str, data: Any) -> AuthResult:
        ok = isinstance(data, LoginPassword) and (data.login, data.password) == (
            login.encode(),
            password.encode(),
        )
        return AuthResult(success=ok, handled=False, auth_data=data)

    return check


class SmtpServer(Controller):
    """aiosmtpd's threaded controller on a socket bound to a free port."""

    def __init__(self, handler: Inbox, **kwargs: Any) -> None:
        self.sock = socket.create_server(("127.0.0.1", 0))
        super().__init__(handler, hostname="127.0.0.1", port=self.sock.getsockname()[1], **kwargs)

    def _create_server(self) -> Any:
        return self.loop.create_server(self._factory_invoker, sock=self.sock, ssl=self.ssl_context)


def server_tls_context(cert: str, key: str) -> ssl.SSLContext:
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(cert, key)
    return context
