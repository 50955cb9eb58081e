"""Fuzzing the widget channel: hostile and malformed input over real socket.io.

    .venv/app/bin/python -m tests.perf.fuzz_widget [--messages 10000] [--clients 8]
        [--seed 16] [--timeout 60]

Starts the action server, Rasa and the handoff service (no Slack) the way the
benchmarks do (``tests.perf.stack_run.frontline``, files in ``var/fuzz/``), then several
concurrent clients speak the widget's protocol (``bot/engine/channel.py``) and send
``--messages`` events drawn from a seeded random mix: customer questions;
random Unicode (lone surrogates, NUL and other control characters, RTL marks,
zero-width joiners, emoji, combining marks, other scripts); texts over the
4,000-character cut and frames over the 64 KiB cap; empty and whitespace-only
texts; non-string ``message`` values; long, empty and non-string message ids;
big, non-object and non-JSON metadata, and metadata that spoofs the channel's
keys; malformed ``user_uttered``, ``session_request`` and ``history_request``
payloads, unknown events and unreadable packets; resends of an answered
message id and two copies of one message at once; reconnects that resume with
the session's token, and strangers that ask for a session without it.

Every event has an expected outcome, and gets one of these:

* ``answered``: acknowledged ``accepted`` and at least one ``bot_uttered``
  (the other cases: ``ok`` history, a confirmed session as expected);
* ``duplicate``: acknowledged ``duplicate``, for a resend of an id already
  answered (or the second of two copies sent at once);
* ``rejected``: acknowledged ``rejected`` with a reason, for input that must be;
* ``frame refused``: a frame over the cap closed the connection, as it must;
* ``error, then processed``: acknowledged ``error``, and its resend processed;
* ``unexpected``: a clear answer, but not the expected one (say, rejected
  where an answer was due);
* ``silent loss``: no acknowledgement in ``--timeout`` seconds, the connection
  lost, ``accepted`` with no bot message, or ``duplicate`` for an id never
  answered.

After the run, a server that died, or an exception or critical entry in the
log of Rasa, the action server or the handoff service, is a ``crash``; other
error entries are listed. Prints a table (kind x outcome), writes
``var/fuzz/latest.json`` (counts, time, rate, every failure) and exits 1 if
anything was lost or crashed (``unexpected`` outcomes are listed, and fail the
run too: they mean the channel answers something it should not).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import random
import re
import sys
import time
import uuid
from collections import Counter, defaultdict
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import socketio

from launcher.stack import ROOT, Service
from tests.perf import memory
from tests.perf.common import Section, commit, machine, say, update_doc_section
from tests.perf.stack_run import frontline

OUT = ROOT / "var" / "fuzz"
FRAME_CAP_BYTES = 65536  # max_frame_bytes in bot/credentials.yml
MAX_MESSAGE_CHARS = 4000
CONNECT_TIMEOUT_SECONDS = 15.0
OUTCOMES = (
    "answered",
    "duplicate",
    "rejected",
    "frame refused",
    "error, then processed",
    "unexpected",
    "silent loss",
)
FAILURES = ("unexpected", "silent loss")
# Bot replies after which the bot is quiet (a person has the conversation):
# the client then starts a new session, as a new customer would.
HANDOFF_TYPES = ("handoff_queued", "handoff_closed", "handoff_offline")
TROUBLE_TYPE = "service_trouble"

QUESTIONS = (
    "hi",
    "hello there",
    "where is my order?",
    "how long do I have to return something?",
    "does the Pulse 2 work with Android 12?",
    "I forgot my password",
    "can I change my delivery address?",
    "how do I reset my headphones?",
    "what is your warranty?",
    "thanks, that helped",
    "no",
    "yes",
    "my parcel never arrived",
    "do you ship to Belgium?",
    "how do I pair the earbuds with my laptop",
    "the battery drains fast",
    "can I pay with PayPal?",
    "what's the weather like",
    "emma.devries@example.com",
    "BW-104233",
)
# Pieces random text is made of.
LONE_SURROGATES = ("\ud83d", "\udc00", "\ud800", "\udfff", "\ude00")
CONTROLS = tuple(chr(c) for c in [*range(0, 9), 11, 12, *range(14, 32), 127, *range(128, 160)])
MARKS = ("\u200e", "\u200f", "\u202a", "\u202b", "\u202e", "\u2066", "\u2069", "\u061c")
JOINERS = ("\u200d", "\u200c", "\u200b", "\ufeff", "\u2060")
EMOJI = ("😀", "👍🏽", "👩\u200d💻", "🇳🇱", "❤️", "🏳️\u200d🌈", "🙈")
COMBINING = ("\u0301", "\u0308", "\u0327", "\u20dd", "\u0489", "\u036f")
SCRIPTS = ("مرحبا", "שלום", "こんにちは", "你好", "Привет", "नमस्ते", "Ωμέγα", "ﷺ", "𝔘𝔫𝔦𝔠𝔬𝔡𝔢")  # noqa: RUF001
WHITESPACE = (" ", "\t", "\n", "\r", "\u00a0", "\u2003", "\u3000", "\u2028", "\x0b", "\x0c")
# Control characters the channel drops (Cc but tab and newline; CR becomes \n).
DROPPED = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]")


def is_blank(text: str) -> bool:
    """Whether the channel must refuse ``text`` as empty (its documented rule:
    nothing but whitespace once control characters are dropped)."""
    return not DROPPED.sub("", text).strip()


@dataclass
class Case:
    """One event to send and what must come of it."""

    kind: str
    expect: str  # answered | duplicate | rejected | frame refused | fresh session
    detail: str = ""


@dataclass
class Record:
    client: int
    kind: str
    expect: str
    outcome: str
    detail: str = ""
    ms: float = 0.0
    replies: int = 0
    trouble: bool = False


class Lost(Exception):
    """No acknowledgement: the connection closed or the timeout passed."""


@dataclass
class FuzzClient:
    """One customer's browser: a socket, its session and resume token, and the
    message ids the server has answered in that session."""

    number: int
    url: str
    rng: random.Random
    timeout: float
    sio: socketio.AsyncClient | None = None
    session_id: str | None = None
    token: str | None = None
    answered: list[dict[str, Any]] = field(default_factory=list)
    received: list[dict[str, Any]] = field(default_factory=list)
    confirms: asyncio.Queue[list[Any]] = field(default_factory=asyncio.Queue)
    closed: asyncio.Event = field(default_factory=asyncio.Event)
    records: list[Record] = field(default_factory=list)

    # --------------------------------------------------------- connection

    async def connect(self, resume: bool = True) -> None:
        """A new socket; resumes the session with its token if ``resume``."""
        await self.close()
        sio = socketio.AsyncClient(reconnection=False)
        self.confirms = asyncio.Queue()
        self.closed = asyncio.Event()

        async def on_bot(message: dict[str, Any]) -> None:
            self.received.append(message)

        async def on_confirm(*args: Any) -> None:
            self.confirms.put_nowait(list(args))

        async def on_disconnect(*_: Any) -> None:
            self.closed.set()

        sio.on("bot_uttered", on_bot)
        sio.on("session_confirm", on_confirm)
        sio.on("disconnect", on_disconnect)
        await sio.connect(self.url, transports=["websocket"], wait_timeout=CONNECT_TIMEOUT_SECONDS)
        self.sio = sio
        request: dict[str, Any] = {"session_id": self.session_id if resume else None}
        if resume and self.token:
            request["resume_token"] = self.token
        await sio.emit("session_request", request)
        session, extra = await self.confirmed()
        if session != self.session_id:
            self.answered = []
        self.session_id, self.token = session, extra.get("resume_token")

    async def confirmed(self) -> tuple[str, dict[str, Any]]:
        args = await asyncio.wait_for(self.confirms.get(), CONNECT_TIMEOUT_SECONDS)
        extra = args[1] if len(args) > 1 and isinstance(args[1], dict) else {}
        return str(args[0]), extra

    async def close(self) -> None:
        if self.sio is not None:
            with contextlib.suppress(Exception):  # a socket the server closed
                await self.sio.disconnect()
            self.sio = None

    async def ensure_connected(self) -> None:
        if self.sio is None or not self.sio.connected or self.closed.is_set():
            await self.connect()

    async def request(self, event: str, *args: Any) -> Any:
        """Emits ``event`` and returns its acknowledgement; ``Lost`` if the
        connection closes or no answer comes in time."""
        assert self.sio is not None
        answer: asyncio.Future[Any] = asyncio.get_running_loop().create_future()

        def on_ack(*data: Any) -> None:
            if not answer.done():
                answer.set_result(data[0] if len(data) == 1 else list(data))

        data: Any = args[0] if len(args) == 1 else (tuple(args) if args else None)
        await self.sio.emit(event, data, callback=on_ack)
        return await self.wait(answer)

    async def raw(self, packet_data: str) -> Any:
        """An event packet written straight onto the connection (what no
        socket.io library sends), with an acknowledgement id."""
        assert self.sio is not None
        answer: asyncio.Future[Any] = asyncio.get_running_loop().create_future()

        def on_ack(*data: Any) -> None:
            if not answer.done():
                answer.set_result(data[0] if len(data) == 1 else list(data))

        ack_id = self.sio._generate_ack_id("/", on_ack)
        await self.sio.eio.send(f"2{ack_id}{packet_data}")
        return await self.wait(answer)

    async def wait(self, answer: asyncio.Future[Any]) -> Any:
        closed = asyncio.ensure_future(self.closed.wait())
        try:
            done, _ = await asyncio.wait(
                {answer, closed}, timeout=self.timeout, return_when=asyncio.FIRST_COMPLETED
            )
        finally:
            closed.cancel()
        if answer in done:
            return answer.result()
        raise Lost("connection closed" if self.closed.is_set() else "no acknowledgement")

    # ------------------------------------------------------------- cases

    def record(self, case: Case, outcome: str, started: float, **more: Any) -> None:
        ms = (time.perf_counter() - started) * 1000
        self.records.append(
            Record(self.number, case.kind, case.expect, outcome, ms=round(ms, 1), **more)
        )

    async def utter(self, case: Case, payload: Any, *extra_args: Any) -> None:
        """Sends one ``user_uttered`` and records what came of it."""
        await self.ensure_connected()
        if isinstance(payload, dict) and payload.get("session_id") == "<own>":
            payload["session_id"] = self.session_id
        self.received.clear()
        started = time.perf_counter()
        try:
            ack = await self.request("user_uttered", payload, *extra_args)
        except Lost as lost:
            if case.expect == "frame refused" and self.closed.is_set():
                self.record(case, "frame refused", started)
            else:
                self.record(case, "silent loss", started, detail=f"{case.detail}: {lost}")
            await self.connect()
            return
        await self.judge(case, payload, ack, started)

    async def judge(self, case: Case, payload: Any, ack: Any, started: float) -> None:
        status = ack.get("status") if isinstance(ack, dict) else None
        replies = list(self.received)
        trouble = any(custom_type(m) == TROUBLE_TYPE for m in replies)
        if status == "accepted":
            if not replies:
                self.record(case, "silent loss", started, detail=f"{case.detail}: no reply")
                return
            outcome = "answered" if case.expect == "answered" else "unexpected"
            self.record(
                case, outcome, started, replies=len(replies), trouble=trouble,
                detail="" if outcome == "answered" else f"{case.detail}: {ack}",
            )  # fmt: skip
            if isinstance(payload, dict) and isinstance(payload.get("message_id"), str):
                self.answered.append(dict(payload))
            if any(custom_type(m) in HANDOFF_TYPES for m in replies):
                await self.connect(resume=False)  # a new customer
        elif status == "duplicate":
            known = any(
                isinstance(payload, dict) and m.get("message_id") == payload.get("message_id")
                for m in self.answered
            )
            if known:  # a resend, or an id this session used before
                self.record(case, "duplicate", started)
            else:
                self.record(
                    case, "silent loss", started, detail=f"{case.detail}: duplicate of nothing"
                )
        elif status == "rejected" and isinstance(ack.get("reason"), str) and ack["reason"]:
            outcome = "rejected" if case.expect == "rejected" else "unexpected"
            self.record(case, outcome, started, detail=f"{case.detail}: {ack['reason']}")
        elif status == "error":
            # the customer was told; the resend must be processed
            try:
                again = await self.request("user_uttered", payload)
            except Lost as lost:
                self.record(case, "silent loss", started, detail=f"{case.detail}: resend {lost}")
                await self.connect()
                return
            processed = isinstance(again, dict) and again.get("status") == "accepted"
            self.record(
                case, "error, then processed" if processed else "silent loss", started,
                detail=f"{case.detail}: {ack} then {again}",
            )  # fmt: skip
        else:
            self.record(case, "unexpected", started, detail=f"{case.detail}: {ack!r}"[:300])

    async def concurrent_copies(self, case: Case, text: str) -> None:
        """The same message twice at once: one answer, one duplicate."""
        await self.ensure_connected()
        payload = {"session_id": self.session_id, "message": text, "message_id": new_id()}
        self.received.clear()
        started = time.perf_counter()
        try:
            acks = await asyncio.gather(
                self.request("user_uttered", payload), self.request("user_uttered", payload)
            )
        except Lost as lost:
            self.record(case, "silent loss", started, detail=f"{case.detail}: {lost}")
            await self.connect()
            return
        statuses = sorted(str(a.get("status")) if isinstance(a, dict) else "?" for a in acks)
        if statuses == ["accepted", "duplicate"] and self.received:
            self.answered.append(payload)
            self.record(case, "answered", started, replies=len(self.received))
            self.record(case, "duplicate", started)
            if any(custom_type(m) in HANDOFF_TYPES for m in self.received):
                await self.connect(resume=False)
        else:
            for _ in acks:
                self.record(case, "silent loss", started, detail=f"{case.detail}: {statuses}")

    async def resend(self, case: Case) -> None:
        if not self.answered:
            await self.utter(Case("question", "answered"), self.question())
            return
        await self.utter(case, dict(self.rng.choice(self.answered)))

    async def history(self, case: Case, data: Any) -> None:
        await self.ensure_connected()
        started = time.perf_counter()
        try:
            ack = await self.request("history_request", data)
        except Lost as lost:
            self.record(case, "silent loss", started, detail=f"{case.detail}: {lost}")
            await self.connect()
            return
        status = ack.get("status") if isinstance(ack, dict) else None
        want = "ok" if case.expect == "answered" else "rejected"
        if status == want and (status != "rejected" or ack.get("reason")):
            self.record(case, case.expect, started)
        else:
            self.record(case, "unexpected", started, detail=f"{case.detail}: {ack!r}"[:300])

    async def other_event(self, case: Case, event: str, data: Any) -> None:
        await self.ensure_connected()
        started = time.perf_counter()
        try:
            ack = await (self.raw(data) if event == "<raw>" else self.request(event, data))
        except Lost as lost:
            self.record(case, "silent loss", started, detail=f"{case.detail}: {lost}")
            await self.connect()
            return
        if isinstance(ack, dict) and ack.get("status") == "rejected" and ack.get("reason"):
            self.record(case, "rejected", started, detail=str(ack["reason"]))
        else:
            self.record(case, "unexpected", started, detail=f"{case.detail}: {ack!r}"[:300])

    async def session(self, case: Case, payload: Any, resume: bool) -> None:
        """A ``session_request`` on this socket (garbage, or a resume with the
        token) or, for a stranger, on a socket of its own."""
        started = time.perf_counter()
        if case.kind == "stranger":
            await self.stranger(case, started)
            return
        await self.ensure_connected()
        assert self.sio is not None
        before = self.session_id
        try:
            await self.sio.emit("session_request", payload)
            session, extra = await self.confirmed()
        except (TimeoutError, socketio.exceptions.SocketIOError) as error:
            self.record(case, "silent loss", started, detail=f"{case.detail}: {error!r}")
            await self.connect()
            return
        fresh = session != before
        if (resume and not fresh and extra.get("resumed") is True) or (
            not resume and fresh and extra.get("resumed") is False and extra.get("resume_token")
        ):
            self.record(case, "answered", started)
        else:
            self.record(case, "unexpected", started, detail=f"{case.detail}: {session} {extra}")
        if fresh:
            self.session_id, self.token, self.answered = session, extra.get("resume_token"), []

    async def stranger(self, case: Case, started: float) -> None:
        """Someone with this client's session id but not its token."""
        await self.ensure_connected()
        other = FuzzClient(self.number, self.url, self.rng, self.timeout)
        other.session_id = self.session_id
        try:
            await other.connect(resume=False)
            assert other.sio is not None
            await other.sio.emit("session_request", {"session_id": self.session_id})
            session, extra = await other.confirmed()
            history = await other.request("history_request", {"session_id": self.session_id})
        except (TimeoutError, Lost, socketio.exceptions.SocketIOError) as error:
            self.record(case, "silent loss", started, detail=f"{case.detail}: {error!r}")
            return
        finally:
            await other.close()
        refused = isinstance(history, dict) and history.get("status") == "rejected"
        if session != self.session_id and extra.get("resumed") is False and refused:
            self.record(case, "rejected", started, detail="a fresh session; history refused")
        else:
            self.record(case, "unexpected", started, detail=f"{session} {extra} {history!r}"[:300])

    def question(self) -> dict[str, Any]:
        return {
            "session_id": "<own>",
            "message": self.rng.choice(QUESTIONS),
            "message_id": new_id(),
        }


def custom_type(message: dict[str, Any]) -> str | None:
    custom = message.get("custom")
    return str(custom.get("type")) if isinstance(custom, dict) else None


def new_id() -> str:
    return uuid.uuid4().hex


def frame_size(event: str, payload: Any) -> int:
    """Bytes of the websocket frame the Python client sends for ``payload``."""
    return len(json.dumps([event, payload], separators=(",", ":"))) + 4


# ------------------------------------------------------------ generators


def random_text(rng: random.Random) -> str:
    pools: list[tuple[str, ...]] = [
        LONE_SURROGATES, CONTROLS, MARKS, JOINERS, EMOJI, COMBINING, SCRIPTS, WHITESPACE,
        tuple(QUESTIONS),
    ]  # fmt: skip
    pieces = []
    for _ in range(rng.randint(1, 12)):
        roll = rng.random()
        if roll < 0.15:
            pieces.append(chr(rng.randint(0x20, 0x10FFFF)))  # any code point
        elif roll < 0.25:
            pieces.append("".join(chr(rng.randint(0x21, 0x7E)) for _ in range(rng.randint(1, 8))))
        else:
            pieces.append(rng.choice(rng.choice(pools)))
    return "".join(pieces)


def text_case(rng: random.Random, text: str, kind: str) -> tuple[Case, dict[str, Any]]:
    payload = {"session_id": "<own>", "message": text, "message_id": new_id()}
    if frame_size("user_uttered", payload) > FRAME_CAP_BYTES:
        return Case(kind, "frame refused", f"{len(text)} chars"), payload
    expect = "rejected" if is_blank(text) else "answered"
    return Case(kind, expect, repr(text[:60])), payload


def draw(client: FuzzClient) -> Callable[[], Awaitable[None]]:
    """One random event for ``client``: a coroutine function that sends it."""
    rng = client.rng
    roll = rng.random()

    def utter(case: Case, payload: Any, *extra: Any) -> Callable[[], Awaitable[None]]:
        return lambda: client.utter(case, payload, *extra)

    if roll < 0.22:  # a customer's question
        return utter(Case("question", "answered"), client.question())
    if roll < 0.40:  # random Unicode
        case, payload = text_case(rng, random_text(rng), "unicode")
        return utter(case, payload)
    if roll < 0.44:  # long texts: cut, or a frame over the cap
        size = rng.choice((4001, 6000, 12000, 30000, 90000, 200000))
        case, payload = text_case(rng, rng.choice("ab é😀\ud83d") * size, "huge text")
        return utter(case, payload)
    if roll < 0.50:  # empty and whitespace
        text = "".join(rng.choice((*WHITESPACE, "", "\x00")) for _ in range(rng.randint(0, 6)))
        case, payload = text_case(rng, text, "blank")
        return utter(case, payload)
    if roll < 0.55:  # not a string
        value = rng.choice([42, 3.5, None, True, [], ["hi"], {"text": "hi"}, -1e308])
        payload = {"session_id": "<own>", "message": value, "message_id": new_id()}
        return utter(Case("non-string", "rejected", repr(value)), payload)
    if roll < 0.61:  # message ids
        good = rng.random() < 0.3
        if good:
            message_id = "".join(chr(rng.randint(0x21, 0x7E)) for _ in range(rng.randint(1, 100)))
            payload = {"session_id": "<own>", "message": "hello", "message_id": message_id}
            return utter(Case("odd id", "answered", message_id[:20]), payload)
        odd_id: Any = rng.choice(
            ["", "x" * rng.randint(101, 30000), "has space", "\ud83d", "é", 42, ["a"], {"a": 1},
             "x" * 900_000]
        )  # fmt: skip
        payload = {"session_id": "<own>", "message": "hello", "message_id": odd_id}
        expect = (
            "frame refused" if frame_size("user_uttered", payload) > FRAME_CAP_BYTES else "rejected"
        )
        return utter(Case("odd id", expect, repr(odd_id)[:40]), payload)
    if roll < 0.67:  # metadata
        choice = rng.randrange(7)
        metadata: Any = [
            {"language": "en"},
            {"language": "de", "message_id": "spoof", "password_masked": True, "truncated_from": 1},
            {"blob": "y" * rng.randint(4100, 20000)},
            ["language", "en"],
            "en",
            {"bad": "\ud83d"},
            {"deep": [[[[{"a": [1, 2.5, None, True, "ü"]}]]]]},
        ][choice]
        expect = "answered" if choice in (0, 1, 6) else "rejected"
        payload = {
            "session_id": "<own>",
            "message": "hi",
            "message_id": new_id(),
            "metadata": metadata,
        }
        return utter(Case("metadata", expect, repr(metadata)[:40]), payload)
    if roll < 0.75:  # malformed events
        which = rng.randrange(9)
        if which == 0:
            return utter(Case("malformed", "rejected", "no payload"), None)
        if which == 1:
            garbage: Any = rng.choice([42, "hello", ["a", "list"], 1.5, True])
            return utter(Case("malformed", "rejected", repr(garbage)), garbage)
        if which == 2:
            payload = {"message": "hi", "message_id": new_id()}
            return utter(Case("malformed", "rejected", "no session"), payload)
        if which == 3:
            payload = {"session_id": uuid.uuid4().hex, "message": "hi", "message_id": new_id()}
            return utter(Case("malformed", "rejected", "another session"), payload)
        if which == 4:
            payload = client.question()
            return utter(Case("malformed", "rejected", "two arguments"), payload, "extra")
        if which == 5:
            data = rng.choice(
                [None, 42, "abc", {"session_id": {"$ne": None}}, {"session_id": "0" * 32}]
            )
            return lambda: client.history(Case("history", "rejected", repr(data)), data)
        if which == 6:
            event = rng.choice(
                ["message", "user_uttered ", "session_confirm", "bot_uttered", "x" * 300]
            )
            return lambda: client.other_event(
                Case("unknown event", "rejected", event[:20]), event, {}
            )
        if which == 7:
            packet = rng.choice(
                ['["user_uttered", {"session_id": ', "[" * 3000 + "]" * 3000,
                 "{}", "[]", "[7]", '"x"']
            )  # fmt: skip
            return lambda: client.other_event(
                Case("unreadable packet", "rejected", packet[:20]), "<raw>", packet
            )
        garbage = rng.choice(
            [42, "a string", ["a", "list"], None, {"session_id": 5}, {"session_id": "z" * 32}]
        )
        return lambda: client.session(
            Case("bad session_request", "answered", repr(garbage)), garbage, False
        )
    if roll < 0.87:  # resend of an answered message
        return lambda: client.resend(Case("resend", "duplicate"))
    if roll < 0.91:  # two copies at once
        text = rng.choice(QUESTIONS)
        return lambda: client.concurrent_copies(Case("two copies at once", "answered"), text)
    if roll < 0.95:  # reconnect and resume

        async def resume() -> None:
            started = time.perf_counter()
            before = client.session_id
            try:
                await client.connect(resume=True)
            except (TimeoutError, socketio.exceptions.SocketIOError) as error:
                client.record(
                    Case("resume", "answered"), "silent loss", started, detail=repr(error)
                )
                return
            outcome = "answered" if client.session_id == before else "unexpected"
            client.record(Case("resume", "answered"), outcome, started)

        return resume
    if roll < 0.97:
        return lambda: client.history(
            Case("history", "answered"), {"session_id": client.session_id}
        )
    return lambda: client.session(Case("stranger", "rejected"), None, False)


# ------------------------------------------------------------ the run


async def run_clients(
    url: str, messages: int, clients: int, seed: int, timeout: float
) -> list[Record]:
    fuzzers = [
        FuzzClient(number, url, random.Random(f"{seed}:{number}"), timeout)
        for number in range(clients)
    ]
    share = [messages // clients + (1 if n < messages % clients else 0) for n in range(clients)]
    progress = {"done": 0}

    async def drive(client: FuzzClient, count: int) -> None:
        await client.connect()
        while len(client.records) < count:
            before = len(client.records)
            await draw(client)()
            progress["done"] += len(client.records) - before
        await client.close()

    async def report() -> None:
        started = time.monotonic()
        while True:
            await asyncio.sleep(30)
            done = progress["done"]
            say(f"{done}/{messages} events, {done / (time.monotonic() - started):.1f}/s")

    reporter = asyncio.ensure_future(report())
    try:
        await asyncio.gather(*(drive(c, n) for c, n in zip(fuzzers, share, strict=True)))
    finally:
        reporter.cancel()
    return [record for client in fuzzers for record in client.records]


# The start of a log entry in Rasa's own format (continuation lines follow it).
LOG_HEADER = re.compile(r"^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d (\w+)\s+(\S+)\s+- (.*)$")


def log_entries(path: Path) -> list[tuple[str, str, str]]:
    """(level, message, traceback) of each entry of a service's log: JSON lines
    (``core.runtime.JsonFormatter``) or Rasa's own format with continuation lines."""
    entries: list[list[str]] = []
    try:
        lines = path.read_text(encoding="utf-8", errors="replace").splitlines()
    except OSError:
        return []
    for line in lines:
        try:
            entry = json.loads(line)
        except ValueError:
            entry = None
        if isinstance(entry, dict) and "level" in entry:
            entries.append(
                [str(entry["level"]).upper(), str(entry.get("msg")), str(entry.get("exc") or "")]
            )
            continue
        header = LOG_HEADER.match(line)
        if header:
            entries.append([header.group(1), f"{header.group(2)}: {header.group(3)}", ""])
        elif entries:
            entries[-1][2] += line + "\n"
        elif "Traceback" in line:
            entries.append(["ERROR", line, line])
    return [(level, message, trace) for level, message, trace in entries]


def server_problems(services: list[Service]) -> tuple[list[str], Counter[str]]:
    """Crashes (a server that died, an exception or critical entry in its log)
    and the other error entries, by message."""
    crashed: list[str] = []
    errors: Counter[str] = Counter()
    for service in services:
        if service.process is not None and service.process.poll() is not None:
            crashed.append(f"{service.name} exited with code {service.process.returncode}")
        for level, message, trace in log_entries(service.log_path):
            if level == "CRITICAL" or "Traceback" in trace:
                last = trace.strip().splitlines()[-1:] or [""]
                crashed.append(f"{service.name}: {message} / {last[0]}"[:300])
            elif level == "ERROR":
                errors[f"{service.name}: {message}"[:200]] += 1
    return crashed, errors


def stored(tracker_db: Path) -> dict[str, Any]:
    """What reached Rasa's tracker store: customer turns, any text that cannot
    be encoded (a lone surrogate), the longest message id and event."""
    import sqlite3

    turns = unencodable = longest_id = largest = 0
    with contextlib.closing(sqlite3.connect(tracker_db)) as connection:
        for (data,) in connection.execute("SELECT data FROM events WHERE type_name = 'user'"):
            turns += 1
            largest = max(largest, len(data))
            event = json.loads(data)
            try:
                str(event.get("text") or "").encode("utf-8")
            except UnicodeEncodeError:
                unencodable += 1
            message_id = (event.get("metadata") or {}).get("message_id")
            longest_id = max(longest_id, len(str(message_id or "")))
    return {
        "customer_turns": turns,
        "texts_with_lone_surrogates": unencodable,
        "longest_message_id": longest_id,
        "largest_user_event_chars": largest,
        "tracker_db_mb": round(
            sum(f.stat().st_size for f in tracker_db.parent.glob(f"{tracker_db.name}*")) / 2**20, 1
        ),
    }


def summary(records: list[Record]) -> dict[str, dict[str, int]]:
    table: dict[str, Counter[str]] = defaultdict(Counter)
    for record in records:
        table[record.kind][record.outcome] += 1
        table["all"][record.outcome] += 1
    return {kind: dict(counts) for kind, counts in table.items()}


def print_table(table: dict[str, dict[str, int]]) -> None:
    kinds = [*sorted(k for k in table if k != "all"), "all"]
    width = max(len(k) for k in kinds) + 2
    header = "kind".ljust(width) + "".join(f"{o:>24}" for o in OUTCOMES) + f"{'total':>8}"
    print(header)
    for kind in kinds:
        counts = table[kind]
        cells = "".join(f"{counts.get(o, 0):>24}" for o in OUTCOMES)
        print(f"{kind.ljust(width)}{cells}{sum(counts.values()):>8}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--messages", type=int, default=10000)
    parser.add_argument("--clients", type=int, default=8)
    parser.add_argument("--seed", type=int, default=16)
    parser.add_argument("--timeout", type=float, default=60.0, help="seconds to wait for an answer")
    parser.add_argument("--no-doc", action="store_true", help="do not update docs/benchmarks.md")
    args = parser.parse_args(argv)
    section = Section("fuzz")
    run_dir = OUT / "run" / time.strftime("%Y%m%d-%H%M%S")
    # The handoff service too (without Slack): messages make the bot hand over,
    # and the channel then reports the customer's presence to it.
    with frontline(run_dir, OUT / "state", section, handoff=True) as running:
        say(f"fuzzing {running.stack.rasa_url} with {args.messages} events, {args.clients} clients")
        rasa = running.service("rasa").process
        rss_before = round(memory.rss_mb(rasa.pid)) if rasa is not None else None
        started = time.monotonic()
        records = asyncio.run(
            run_clients(
                running.stack.rasa_url, args.messages, args.clients, args.seed, args.timeout
            )
        )
        seconds = time.monotonic() - started
        rss_after = round(memory.rss_mb(rasa.pid)) if rasa is not None else None
        crashed, errors = server_problems(running.stack.services)
        tracker = stored(run_dir / "rasa-tracker.db")
    table = summary(records)
    failures = [vars(r) for r in records if r.outcome in FAILURES]
    result = {
        "commit": commit(),
        "machine": machine(),
        "seed": args.seed,
        "clients": args.clients,
        "events": len(records),
        "user_uttered": sum(1 for r in records if r.kind not in NOT_UTTERED),
        "seconds": round(seconds, 1),
        "events_per_second": round(len(records) / seconds, 2) if seconds else None,
        "silent_losses": table.get("all", {}).get("silent loss", 0),
        "unexpected": table.get("all", {}).get("unexpected", 0),
        "crashes": len(crashed),
        "trouble_notices": sum(1 for r in records if r.trouble),
        "answer_ms_p50": percentile([r.ms for r in records if r.outcome == "answered"], 50),
        "answer_ms_p95": percentile([r.ms for r in records if r.outcome == "answered"], 95),
        "rasa_rss_mb_before": rss_before,
        "rasa_rss_mb_after": rss_after,
        "tracker_store": tracker,
        "outcomes": table,
        "failures": failures,
        "crash_lines": crashed[:200],
        "error_log_entries": dict(errors.most_common()),
        "run_dir": str(run_dir),
    }
    OUT.mkdir(parents=True, exist_ok=True)
    (OUT / "latest.json").write_text(json.dumps(result, indent=2, ensure_ascii=False) + "\n")
    if not args.no_doc:
        update_doc_section(SECTION, markdown(result, args.messages))
    print_table(table)
    print(
        f"\n{len(records)} events in {seconds:.0f} s ({result['events_per_second']}/s), "
        f"{args.clients} clients, seed {args.seed}: {result['silent_losses']} silent losses, "
        f"{result['unexpected']} unexpected, {len(crashed)} crashes, "
        f"{result['trouble_notices']} trouble notices; Rasa {rss_before} -> {rss_after} MiB RSS. "
        f"Details: {OUT / 'latest.json'}"
    )
    print(f"In Rasa's tracker store: {tracker}")
    for failure in failures[:20]:
        print(f"  {failure['outcome']}: {failure['kind']} {failure['detail']}"[:200])
    for line in crashed[:20]:
        print(f"  crash: {line}")
    for message, count in errors.most_common(10):
        print(f"  error logged {count}x: {message}")
    return 1 if failures or crashed else 0


SECTION = "## Hostile widget input"


def markdown(result: dict[str, Any], asked: int) -> list[str]:
    """The fuzz run's section of docs/benchmarks.md."""
    outcomes = result["outcomes"]
    columns = ["answered", "duplicate", "rejected", "frame refused", "error, then processed",
               "unexpected", "silent loss"]  # fmt: skip
    lines = [
        SECTION,
        "",
        "<!-- Written by `make fuzz` (python -m tests.perf.fuzz_widget); kept as is by the "
        "report of make eval/bench. -->",
        "",
        f"Run at commit `{result['commit']}` on {result['machine']}: {result['events']} events "
        f"({result['user_uttered']} of them `user_uttered`) from {result['clients']} concurrent "
        f"socket.io clients, seed {result['seed']}, against the real stack (Rasa, action server, "
        f"handoff service), in {result['seconds']:.0f} s ({result['events_per_second']}/s). "
        "Each event has an expected outcome (see tests/perf/fuzz_widget.py); a silent loss is no "
        "acknowledgement, `accepted` without a reply, or `duplicate` for an id never answered; "
        "a crash is a server that died or an exception in any service's log.",
        "",
        f"**{result['silent_losses']} silent losses, {result['unexpected']} unexpected answers, "
        f"{result['crashes']} crashes** (asked for {asked} events). Rasa's memory "
        f"{result['rasa_rss_mb_before']} -> {result['rasa_rss_mb_after']} MiB; the tracker store "
        f"holds {result['tracker_store'].get('texts_with_lone_surrogates')} texts with lone "
        f"surrogates and its longest message id has "
        f"{result['tracker_store'].get('longest_message_id')} characters.",
        "",
        "Before issue 16's fixes (commit 0135c88, 1,000 events, 10 s timeout, same machine, "
        "same session): 152 silent losses, 125 unexpected answers and 161 crashes, among them "
        "`UnicodeEncodeError` in the action server.",
        "",
        "| Kind | " + " | ".join(columns) + " |",
        "|---" * (len(columns) + 1) + "|",
    ]
    for kind in sorted(outcomes, key=lambda k: (k == "all", k)):
        counts = outcomes[kind]
        lines.append(f"| {kind} | " + " | ".join(str(counts.get(c, 0)) for c in columns) + " |")
    return [*lines, ""]


# Kinds that are not a user_uttered event.
NOT_UTTERED = frozenset(
    {"history", "unknown event", "unreadable packet", "bad session_request", "resume", "stranger"}
)


def percentile(values: list[float], q: float) -> float | None:
    if not values:
        return None
    ordered = sorted(values)
    return round(ordered[min(len(ordered) - 1, int(len(ordered) * q / 100))], 1)


if __name__ == "__main__":
    sys.exit(main())
