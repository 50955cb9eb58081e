"""Delivery under faults: the real handoff service against an imitation of
Slack's Web API and of Rasa's HTTP API with faults injected.

``python -m tests.perf.faults`` (``make faults``) runs each scenario on a fresh
SQLite database: the handoff service runs as its own process
(``python -m handoff.server``, the real outbox worker and Slack client), and this
script plays the action server (it opens escalations, relays the customer's
messages and the agent's claim and replies through ``HandoffService`` on the
same database, as the bot's actions and the Slack app do). Scenarios:

* ``outage``: Slack refuses connections and Rasa answers 503 for 20 s while the
  work arrives;
* ``429 storm``: 60 consecutive Slack calls answered 429 (``Retry-After: 1``);
* ``lost answers``: 40 posts that Slack takes but whose answers are lost;
* ``kill -9``: Slack answers in 0.2 s and the handoff process is killed with
  SIGKILL three times while it delivers, then restarted.

Each scenario counts, per kind (cards, transcript parts, customer messages in
threads, pushes to the customer), what was expected, delivered, duplicated
(a copy beyond the first) and lost (never delivered, or given up), by content:
every card names its conversation, every message carries a unique token. It
writes ``var/faults/latest.json``, updates the "Delivery under faults" section
of docs/benchmarks.md and exits 1 if anything was duplicated, lost or out of
order. "Drained in" is the time from the end of the workload (and its faults)
until no job is pending.
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import httpx

from handoff.blocks import transcript_messages
from handoff.db import create_engine, upgrade
from handoff.routing import load_routing
from handoff.service import Agent, EscalationRequest, HandoffService
from handoff.store import EscalationStore
from launcher.stack import ROOT
from tests.handoff.mock_slack import MockSlack
from tests.perf.common import commit, machine, say, update_doc_section

OUT = ROOT / "var" / "faults"
DOC = ROOT / "docs" / "benchmarks.md"
SECTION = "## Delivery under faults"
# The suite at 0135c88, before issue 16's fixes, measured on the same machine.
BASELINE = ROOT / "docs" / "faults-baseline.json"
CHANNELS = {
    f"C0{name.upper().replace('-', '')[:9]}": f"#support-{name}"
    for name in (
        "tier2", "billing", "accounts", "technical", "product-experts", "specialists", "leads"
    )
}  # fmt: skip
KINDS = ("cards", "transcript parts", "customer messages", "pushes to the customer")
DRAIN_TIMEOUT_SECONDS = 240.0


class FakeRasa:
    """Rasa's ``trigger_intent`` endpoint: records every push; ``failing``
    answers 503 (Rasa restarting)."""

    def __init__(self) -> None:
        self.pushes: list[tuple[str, dict[str, Any]]] = []
        self.failing = False
        self._lock = threading.Lock()
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                body = json.loads(self.rfile.read(length) or b"{}")
                conversation = self.path.split("/")[2] if self.path.count("/") >= 3 else ""
                status = 503 if fake.failing else 200
                if status == 200:
                    with fake._lock:
                        fake.pushes.append((conversation, body))
                payload = b"{}"
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(payload)))
                self.end_headers()
                self.wfile.write(payload)

            def log_message(self, format: str, *args: Any) -> None:
                """Quiet."""

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class HandoffProcess:
    """``python -m handoff.server`` on its own port, startable again after a kill."""

    def __init__(self, database_url: str, slack: MockSlack, rasa: FakeRasa, log: Path) -> None:
        self.port = free_port()
        self.log = log
        self.env = {
            **os.environ,
            "FRONTLINE_DATABASE_URL": database_url,
            "FRONTLINE_RASA_URL": rasa.url,
            "FRONTLINE_HANDOFF_PORT": str(self.port),
            "FRONTLINE_HANDOFF_WORKER_INTERVAL": "0.1",
            "FRONTLINE_HANDOFF_SLACK_API_URL": slack.url,
            "SLACK_BOT_TOKEN": slack.token,
            "SLACK_SIGNING_SECRET": "faults-signing-secret",
            "PYTHONPATH": str(ROOT),
        }
        self.process: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        with self.log.open("ab") as out:
            self.process = subprocess.Popen(
                [sys.executable, "-m", "handoff.server"],
                cwd=ROOT,
                env=self.env,
                stdout=out,
                stderr=subprocess.STDOUT,
            )
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            try:
                if httpx.get(f"http://127.0.0.1:{self.port}/health", timeout=1).status_code == 200:
                    return
            except httpx.HTTPError:
                pass
            if self.process.poll() is not None:
                raise RuntimeError(f"handoff exited with {self.process.returncode}; see {self.log}")
            time.sleep(0.1)
        raise RuntimeError(f"handoff did not start in 60 s; see {self.log}")

    def kill9(self) -> None:
        assert self.process is not None
        self.process.send_signal(signal.SIGKILL)
        self.process.wait()

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()


@dataclass
class Expected:
    """What the workload asked for, by content."""

    cards: Counter[str] = field(default_factory=Counter)  # conversation id -> 1
    transcript: Counter[tuple[str, str]] = field(default_factory=Counter)  # (conv, part text)
    messages: Counter[str] = field(default_factory=Counter)  # token -> 1
    pushes: Counter[str] = field(default_factory=Counter)  # token -> 1


class Workload:
    """Plays the action server and the agent: escalations, messages, claims, replies."""

    def __init__(self, database_url: str, escalations: int) -> None:
        self.store = EscalationStore(create_engine(database_url))
        self.service = HandoffService(self.store, load_routing())
        self.count = escalations
        self.expected = Expected()
        self.ids: dict[str, str] = {}

    def open_all(self) -> None:
        for n in range(self.count):
            conversation = f"faults{n:04d}"
            transcript = [
                {"from": "customer", "text": f"My Pulse 2 arrived broken (case {n})", "ts": ""},
                {"from": "bot", "text": "Sorry to hear that. Let me get a person.", "ts": ""},
                {"from": "customer", "text": f"Order BW-{104000 + n}, screen cracked", "ts": ""},
            ]
            if n % 2:  # every other one long enough for a transcript in several parts
                transcript += [
                    {
                        "from": "customer" if turn % 2 else "bot",
                        "text": f"turn {turn} of case {n}: " + "the screen flickers " * 12,
                        "ts": "",
                    }
                    for turn in range(40)
                ]
            ticket = self.service.open(
                EscalationRequest(
                    conversation_id=conversation,
                    reason="tier2_topic",
                    category="damaged_item",
                    transcript=transcript,
                )
            )
            self.ids[conversation] = ticket.escalation_id
            self.expected.cards[conversation] += 1
            stored = self.store.get(ticket.escalation_id)
            for part in transcript_messages(stored.transcript, verified=False):
                self.expected.transcript[(conversation, part["text"])] += 1

    def customer_says(self, round_: int) -> None:
        for conversation in self.ids:
            token = f"Q{conversation[-4:]}r{round_}"
            if self.service.customer_message(conversation, f"still waiting {token}", token):
                self.expected.messages[token] += 1

    def claim_and_reply(self, round_: int) -> None:
        alex = Agent("U0ALEX", "Alex")
        for conversation, escalation_id in self.ids.items():
            if round_ == 0:
                self.service.claim(escalation_id, alex)
                self.expected.pushes[f"joined:{conversation}"] += 1
            token = f"A{conversation[-4:]}r{round_}"
            self.service.reply(escalation_id, alex, f"on it {token}", token)
            self.expected.pushes[token] += 1

    def pending(self) -> int:
        return sum(1 for job in self.store.jobs() if job.status == "pending")

    def given_up(self) -> int:
        return sum(1 for job in self.store.jobs() if job.status == "failed")


def thread_tokens(slack: MockSlack, tokens: Iterable[str]) -> list[tuple[str, str]]:
    """``(thread ts, token)`` of every thread reply naming a token, in posting order."""
    wanted = list(tokens)
    found = []
    for message in slack.messages():
        thread = message.get("thread_ts")
        if thread and thread != message["ts"]:
            body = json.dumps(message.get("blocks") or [])
            found += [(thread, token) for token in wanted if token in body]
    return found


def pushed_tokens(rasa: FakeRasa) -> list[tuple[str, str]]:
    """``(conversation, token)`` of every push, in order: an agent's reply by its
    token, the claim as ``joined:<conversation>``."""
    found = []
    for conversation, body in rasa.pushes:
        entities = body.get("entities") or {}
        if body.get("name") == "agent_message":
            found.append((conversation, str(entities.get("agent_text", "")).removeprefix("on it ")))
        elif entities.get("kind") == "agent_joined":
            found.append((conversation, f"joined:{conversation}"))
    return found


def out_of_order(slack: MockSlack, rasa: FakeRasa, work: Workload) -> dict[str, int]:
    """Conversations whose customer messages (in the thread) or pushes (to the
    customer) arrived in another order than they were written (the tokens sort
    in writing order; the claim comes first)."""

    def unordered(pairs: list[tuple[str, str]]) -> int:
        sequences: dict[str, list[str]] = {}
        for key, token in pairs:
            sequences.setdefault(key, []).append("0" if token.startswith("joined:") else token)
        return sum(
            1
            for seq in sequences.values()
            if list(dict.fromkeys(seq)) != sorted(dict.fromkeys(seq))
        )

    return {
        "customer messages": unordered(thread_tokens(slack, work.expected.messages)),
        "pushes to the customer": unordered(pushed_tokens(rasa)),
    }


def observed(slack: MockSlack, rasa: FakeRasa, work: Workload) -> dict[str, Counter[Any]]:
    """What reached Slack and the customer, by the same content keys."""
    cards: Counter[str] = Counter()
    transcript: Counter[tuple[str, str]] = Counter()
    card_of: dict[str, str] = {}
    for message in slack.messages():
        if message.get("thread_ts") and message["thread_ts"] != message["ts"]:
            continue
        text = json.dumps(message.get("blocks") or [])
        for conversation in work.ids:
            if conversation in text:
                cards[conversation] += 1
                card_of[message["ts"]] = conversation
    expected_parts = {text for _, text in work.expected.transcript}
    for message in slack.messages():
        thread = message.get("thread_ts")
        if thread in card_of and thread != message["ts"] and message.get("text") in expected_parts:
            transcript[(card_of[thread], message["text"])] += 1
    messages = Counter(
        token for thread, token in thread_tokens(slack, work.expected.messages) if thread in card_of
    )
    pushes = Counter(token for _, token in pushed_tokens(rasa))
    return {
        "cards": cards,
        "transcript parts": transcript,
        "customer messages": messages,
        "pushes to the customer": pushes,
    }


def tally(expected: Counter[Any], seen: Counter[Any]) -> dict[str, int]:
    return {
        "expected": sum(expected.values()),
        "delivered": sum(1 for key in expected if seen[key] > 0),
        "duplicated": sum(max(0, seen[key] - 1) for key in seen if key in expected),
        "lost": sum(1 for key in expected if seen[key] == 0),
        "unexpected": sum(seen[key] for key in seen if key not in expected),
    }


@contextmanager
def scenario_run(
    name: str, escalations: int, run_dir: Path
) -> Iterator[tuple[MockSlack, FakeRasa, HandoffProcess, Workload]]:
    folder = run_dir / name.replace(" ", "-")
    folder.mkdir(parents=True, exist_ok=True)
    database = folder / "handoff.db"
    database.unlink(missing_ok=True)
    database_url = f"sqlite:///{database}"
    upgrade(create_engine(database_url))
    rasa = FakeRasa()
    with MockSlack() as slack:
        for channel_id, channel_name in CHANNELS.items():
            slack.add_channel(channel_id, channel_name, members=["U0ALEX"])
        slack.add_user("U0ALEX", "Alex Kim", "Alex")
        handoff = HandoffProcess(database_url, slack, rasa, folder / "handoff.log")
        work = Workload(database_url, escalations)
        try:
            yield slack, rasa, handoff, work
        finally:
            handoff.stop()
            rasa.stop()


def drain(work: Workload, timeout: float = DRAIN_TIMEOUT_SECONDS) -> float:
    start = time.monotonic()
    while time.monotonic() - start < timeout:
        if work.pending() == 0:
            return time.monotonic() - start
        time.sleep(0.5)
    return time.monotonic() - start


def play(work: Workload, between: Callable[[int], None] = lambda _: None) -> None:
    """The conversations: opened, two rounds of customer messages, the claim and
    two rounds of replies, with ``between(step)`` after each step."""
    work.open_all()
    between(0)
    work.customer_says(0)
    between(1)
    work.claim_and_reply(0)
    between(2)
    work.customer_says(1)
    work.claim_and_reply(1)
    between(3)


def run_scenario(name: str, escalations: int, run_dir: Path) -> dict[str, Any]:
    say(f"scenario {name}: {escalations} escalations")
    started = time.monotonic()
    with scenario_run(name, escalations, run_dir) as (slack, rasa, handoff, work):
        handoff.start()
        kills = 0
        if name == "outage":
            slack.down()
            rasa.failing = True
            play(work)
            time.sleep(20)
            slack.up()
            rasa.failing = False
        elif name == "429 storm":
            slack.fail_next(429, count=60, retry_after=1)
            play(work)
        elif name == "lost answers":
            slack.lose_next(40, method="chat.postMessage")
            play(work)
        elif name == "kill -9":
            slack.delay = 0.2

            def kill(step: int) -> None:
                nonlocal kills
                if step in (0, 1, 3):
                    time.sleep(1.5 + 0.3 * step)
                    handoff.kill9()
                    kills += 1
                    handoff.start()

            play(work, kill)
        else:
            raise ValueError(f"unknown scenario {name!r}")
        drained = drain(work)
        time.sleep(1.0)  # anything still in flight lands
        seen = observed(slack, rasa, work)
        expected = {
            "cards": work.expected.cards,
            "transcript parts": work.expected.transcript,
            "customer messages": work.expected.messages,
            "pushes to the customer": work.expected.pushes,
        }
        unordered = out_of_order(slack, rasa, work)
        kinds = {kind: tally(expected[kind], seen[kind]) for kind in KINDS}
        for kind in KINDS:
            kinds[kind]["out_of_order"] = unordered.get(kind, 0)
        result = {
            "kinds": kinds,
            "slack_calls": len(slack.calls),
            "slack_calls_by_status": dict(Counter(str(c.status) for c in slack.calls)),
            "rate_limited_by_method": dict(
                Counter(c.method for c in slack.calls if c.status == 429)
            ),
            "pending_after": work.pending(),
            "given_up": work.given_up(),
            "kills": kills,
            "seconds_to_drain": round(drained, 1),
            "seconds": round(time.monotonic() - started, 1),
        }
    failed = sum(k["duplicated"] + k["lost"] + k["out_of_order"] for k in result["kinds"].values())
    say(f"  {'ok' if not failed else 'FAILED'}: {json.dumps(result['kinds'])}")
    return result


SCENARIOS = ("outage", "429 storm", "lost answers", "kill -9")


def markdown(results: dict[str, Any], before: dict[str, Any] | None = None) -> list[str]:
    lines = [
        SECTION,
        "",
        "<!-- Written by `make faults` (python -m tests.perf.faults); kept as is by the "
        "report of make eval/bench. -->",
        "",
        f"Run at commit `{results['commit']}`, {results['date']}, on {results['machine']}; "
        f"{results['escalations']} escalations per scenario, each with a card, its transcript, "
        "two customer messages, a claim and two agent replies. The handoff service runs as its "
        "own process against the imitation of Slack (tests/handoff/mock_slack.py) and a "
        "recording imitation of Rasa; see tests/perf/faults.py for the faults. Counted by "
        "content: a duplicate is any copy beyond the first, lost is never delivered or given up, "
        "out of order counts conversations whose thread or widget got messages in another order "
        "than they were written (customer messages and agent replies).",
        "",
    ]
    if before is not None:
        lines += [
            f"The *before* column is the same suite at commit `{before['commit']}` (before the "
            f"fixes of issue 16), run {before['date']} on the same machine: duplicated / lost / "
            "out of order.",
            "",
        ]
    header = "| Scenario | Kind | Expected | Delivered | Duplicated | Lost | Out of order |"
    lines += [header + (" Before |" if before else ""), "|---" * (8 if before else 7) + "|"]
    for name, result in results["scenarios"].items():
        for kind in KINDS:
            k = result["kinds"][kind]
            row = (
                f"| {name} | {kind} | {k['expected']} | {k['delivered']} | "
                f"{k['duplicated']} | {k['lost']} | {k['out_of_order']} |"
            )
            if before is not None:
                b = before["scenarios"].get(name, {}).get("kinds", {}).get(kind)
                row += (
                    f" {b['duplicated']} / {b['lost']} / {b.get('out_of_order', 0)} |"
                    if b
                    else " - |"
                )
            lines.append(row)
    lines += [
        "",
        "| Scenario | Slack calls | 429 answers by method | Drained in | Kills |"
        + (" Before: calls; 429 answers |" if before else ""),
        "|---" * (6 if before else 5) + "|",
    ]
    for name, result in results["scenarios"].items():
        row = (
            f"| {name} | {result['slack_calls']} | {limited_by(result)} | "
            f"{result['seconds_to_drain']:.0f} s | {result['kills']} |"
        )
        if before is not None and name in before["scenarios"]:
            earlier = before["scenarios"][name]
            row += f" {earlier['slack_calls']}; {limited_by(earlier)} |"
        lines.append(row)
    return [*lines, ""]


def limited_by(result: dict[str, Any]) -> str:
    return ", ".join(f"{m} {n}" for m, n in result["rate_limited_by_method"].items()) or "-"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--escalations", type=int, default=10)
    parser.add_argument("--only", choices=SCENARIOS, action="append")
    parser.add_argument("--no-doc", action="store_true", help="do not update docs/benchmarks.md")
    parser.add_argument(
        "--before",
        type=Path,
        default=BASELINE,
        help="latest.json of an earlier run to show beside this one (default: %(default)s)",
    )
    args = parser.parse_args(argv)
    OUT.mkdir(parents=True, exist_ok=True)
    results: dict[str, Any] = {
        "commit": commit(),
        "date": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()),
        "machine": machine(),
        "escalations": args.escalations,
        "scenarios": {},
    }
    for name in args.only or SCENARIOS:
        results["scenarios"][name] = run_scenario(name, args.escalations, OUT / "runs")
    (OUT / "latest.json").write_text(json.dumps(results, indent=2) + "\n", encoding="utf-8")
    if not args.no_doc:
        known = args.before is not None and args.before.exists()
        before = json.loads(args.before.read_text(encoding="utf-8")) if known else None
        update_doc_section(SECTION, markdown(results, before))
        say(f"updated {DOC}")
    bad = sum(
        k["duplicated"] + k["lost"] + k["out_of_order"]
        for result in results["scenarios"].values()
        for k in result["kinds"].values()
    )
    say(f"wrote {OUT / 'latest.json'}: {'0 duplicated, 0 lost' if not bad else f'{bad} failures'}")
    return 1 if bad else 0


if __name__ == "__main__":
    raise SystemExit(main())
