"""Load generator: simulated customers chatting with a bot, in its own process.

    .venv/app/bin/python -m tests.perf.loadgen --url http://127.0.0.1:5005 \\
        --channel socket --mix frontline --customers 10 --seconds 20 --out FILE.json

Each customer is a closed loop: it sends a message, waits for the whole reply,
sends the next one (no think time, so the bot is measured at saturation). A
customer goes through its mix's conversation and then starts a new one (a new
socket and session, or a new REST sender). It stops sending at ``--seconds``;
messages already sent may finish (bounded by the reply timeout) and their
latencies count, but throughput only counts replies completed inside the
measured window (after ``--warmup``).

Channels: ``socket`` is Frontline's socket.io channel (``bot/engine/channel.py``, the
widget's; latency = until the acknowledgement that follows every reply);
``rest`` is Rasa's REST channel (``/webhooks/rest/webhook``; latency = until
the HTTP response, which carries every reply). Only 127.0.0.1/localhost URLs
are accepted.

The output file holds every sample (kind, start offset, ms, ok, what the bot
answered), the counts and the generator's own CPU seconds;
``tests.perf.bench_latency`` turns them into percentiles.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import sys
import time
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import httpx

from tests.perf.widget import Widget, WidgetError

LOCAL_HOSTS = ("127.0.0.1", "localhost", "::1")
REPLY_TIMEOUT_SECONDS = 60.0
KB_QUESTIONS = (
    "how long do I have to return something?",
    "does the pulse 2 work with iphone?",
    "how do i turn on sleep tracking on my watch",
    "my cam 360 keeps going offline every night",
    "what payment methods do you accept?",
)
# (kind, text); "{kb}" is replaced by the next KB question.
MIXES: dict[str, tuple[tuple[str, str], ...]] = {
    "frontline": (
        ("greeting", "hi"),  # answered by a custom action (action server)
        ("kb", "{kb}"),
        ("form_start", "I want to check on my order"),
        ("form_step", "emma.devries@example.com"),
        ("form_step", "BW-104233"),
        ("smalltalk", "thanks"),  # a response template: Rasa alone
        ("escalation", "I'd like to talk to a person please"),
    ),
    # Rasa's sample bot (rasa init): greet, mood, affirm, goodbye.
    "baseline": (
        ("baseline", "hello"),
        ("baseline", "I am feeling sad"),
        ("baseline", "yes"),
        ("baseline", "bye"),
    ),
}


@dataclass
class Sample:
    kind: str
    start: float  # seconds since the load started
    ms: float
    ok: bool
    answer: str


def describe(messages: list[dict[str, Any]]) -> str:
    """A short label of what the bot answered (for reports: 'what it did')."""
    if not messages:
        return "(no message)"
    labels = []
    for message in messages:
        custom = message.get("custom")
        if isinstance(custom, dict) and custom.get("type"):
            labels.append(f"[{custom['type']}]")
        elif message.get("text"):
            labels.append(str(message["text"])[:48])
        elif message.get("image"):
            labels.append("[image]")
        else:
            labels.append("[other]")
    return " | ".join(labels)


class Conversation:
    """One conversation on one channel: ``send`` returns the bot's messages."""

    async def open(self) -> None: ...

    async def send(self, text: str) -> list[dict[str, Any]]:
        raise NotImplementedError

    async def close(self) -> None: ...


class SocketConversation(Conversation):
    def __init__(self, url: str) -> None:
        self.widget = Widget(url)

    async def open(self) -> None:
        await self.widget.connect()

    async def send(self, text: str) -> list[dict[str, Any]]:
        return (await self.widget.say(text, timeout=REPLY_TIMEOUT_SECONDS)).messages

    async def close(self) -> None:
        await self.widget.close()


class RestConversation(Conversation):
    def __init__(self, url: str, client: httpx.AsyncClient) -> None:
        self.url = f"{url}/webhooks/rest/webhook"
        self.client = client
        self.sender = uuid.uuid4().hex

    async def send(self, text: str) -> list[dict[str, Any]]:
        response = await self.client.post(self.url, json={"sender": self.sender, "message": text})
        response.raise_for_status()
        return list(response.json())


async def customer(
    open_conversation: Callable[[], Awaitable[Conversation]],
    mix: tuple[tuple[str, str], ...],
    started: float,
    stop_at: float,
    samples: list[Sample],
    errors: list[str],
    offset: int,
) -> None:
    questions = offset
    while time.perf_counter() < stop_at:
        try:
            conversation = await open_conversation()
        except Exception as error:  # boundary: a failed connect is counted, then retried
            errors.append(f"connect: {error.__class__.__name__}: {error}")
            await asyncio.sleep(0.1)
            continue
        try:
            for kind, template in mix:
                if time.perf_counter() >= stop_at:
                    break
                text = template
                if template == "{kb}":
                    text = KB_QUESTIONS[questions % len(KB_QUESTIONS)]
                    questions += 1
                begin = time.perf_counter()
                try:
                    messages = await conversation.send(text)
                    ok, answer = True, describe(messages)
                except (TimeoutError, WidgetError, httpx.HTTPError) as error:
                    ok, answer = False, f"error: {error.__class__.__name__}: {error}"[:120]
                    errors.append(f"{kind}: {answer}")
                samples.append(
                    Sample(kind, begin - started, (time.perf_counter() - begin) * 1000, ok, answer)
                )
                if not ok:
                    break  # start over with a fresh conversation
        finally:
            with contextlib.suppress(Exception):  # closing a broken socket may fail
                await conversation.close()


async def generate(
    url: str, channel: str, mix_name: str, customers: int, seconds: float, warmup: float
) -> dict[str, Any]:
    mix = MIXES[mix_name]
    samples: list[Sample] = []
    errors: list[str] = []
    limits = httpx.Limits(max_connections=customers, max_keepalive_connections=customers)
    async with httpx.AsyncClient(timeout=REPLY_TIMEOUT_SECONDS, limits=limits) as client:

        async def open_conversation() -> Conversation:
            conversation: Conversation = (
                SocketConversation(url) if channel == "socket" else RestConversation(url, client)
            )
            await conversation.open()
            return conversation

        started = time.perf_counter()
        stop_at = started + seconds
        tasks = [
            asyncio.create_task(
                customer(open_conversation, mix, started, stop_at, samples, errors, index)
            )
            for index in range(customers)
        ]
        done, pending = await asyncio.wait(tasks, timeout=seconds + REPLY_TIMEOUT_SECONDS + 10)
        for task in pending:
            task.cancel()
        await asyncio.gather(*pending, return_exceptions=True)
        for task in done:
            if task.exception() is not None:
                errors.append(f"customer crashed: {task.exception()!r}")
    window = seconds - warmup
    handled = sum(s.ok for s in samples)
    measured = [s for s in samples if s.start >= warmup]
    completed = [s for s in measured if s.ok and s.start + s.ms / 1000 <= seconds]
    return {
        "url": url,
        "channel": channel,
        "mix": mix_name,
        "customers": customers,
        "seconds": seconds,
        "warmup": warmup,
        "messages_per_second": len(completed) / window if window > 0 else 0.0,
        "completed": len(completed),
        # every reply of the run, warm-up included: the denominator for CPU per message
        "handled": handled,
        "errors": len(errors),
        "error_examples": errors[:10],
        "samples": [asdict(sample) for sample in measured],
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--url", required=True, help="the bot's Rasa server, on 127.0.0.1")
    parser.add_argument("--channel", choices=("socket", "rest"), default="socket")
    parser.add_argument("--mix", choices=sorted(MIXES), default="frontline")
    parser.add_argument("--customers", type=int, default=1)
    parser.add_argument("--seconds", type=float, default=20.0)
    parser.add_argument("--warmup", type=float, default=2.0)
    parser.add_argument("--out", type=Path, required=True)
    args = parser.parse_args(argv)
    host = urlsplit(args.url).hostname or ""
    if host not in LOCAL_HOSTS:
        print(f"loadgen: only 127.0.0.1/localhost may be loaded, not {host!r}", file=sys.stderr)
        return 2
    if args.customers < 1 or args.seconds <= args.warmup:
        print("loadgen: need --customers >= 1 and --seconds > --warmup", file=sys.stderr)
        return 2
    cpu_started = time.process_time()
    result = asyncio.run(
        generate(
            args.url.rstrip("/"), args.channel, args.mix, args.customers, args.seconds, args.warmup
        )
    )
    result["cpu_seconds"] = time.process_time() - cpu_started
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(result))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
