"""The ``handoff`` terminal commands on a real SQLite database: what an agent
without Slack sees is redacted like the Slack card, includes what the customer
wrote after the handoff, and ``show --follow`` is a live thread to answer from."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner, Result

from handoff.cli import main
from handoff.db import create_engine, upgrade
from handoff.routing import load_routing
from handoff.service import TO_CUSTOMER, Agent, EscalationRequest, HandoffService
from handoff.store import EscalationStore
from handoff.terminal import status_line

ROOT = Path(__file__).resolve().parents[2]
NOW = datetime(2026, 11, 24, 10, 0, tzinfo=UTC)  # a Tuesday: customer care is open
T = "2026-11-24T10:00:00+00:00"  # NOW as the terminal prints it
ALEX = Agent("cli:Alex", "Alex")
CONVERSATION = "c0ffee00c0ffee00c0ffee00c0ffee00"

# What customers typed, and what must never reach a terminal.
TRANSCRIPT = [
    {"from": "customer", "text": "I was charged twice on 4111 1111 1111 1111", "ts": "09:58"},
    {"from": "bot", "text": "Please type the 6-digit code from the email.", "ts": "09:58"},
    {"from": "customer", "text": "482 913", "ts": "09:59"},
    {
        "from": "customer",
        "text": "refund to NL91 ABNA 0417 1643 00 or call +31 6 12345678 / "
        "emma.devries@example.com",
        "ts": "09:59",
    },
    {"from": "customer", "text": "a person please, order BW-104233", "ts": "10:00"},
]
SECRETS = ("4111", "482 913", "NL91", "0417 1643")
CONTACTS = ("+31 6 12345678", "emma.devries@example.com")


@dataclass
class Db:
    url: str
    store: EscalationStore
    service: HandoffService

    def cli(self, *args: str, input: str | None = None) -> Result:
        return CliRunner().invoke(
            main, list(args), input=input, env={"FRONTLINE_DATABASE_URL": self.url}
        )

    def open(self, customer: dict[str, Any] | None = None, transcript: Any = None) -> str:
        ticket = self.service.open(
            EscalationRequest(
                conversation_id=CONVERSATION,
                reason="explicit_request",
                category="damaged_item",
                transcript=TRANSCRIPT if transcript is None else transcript,
                customer=customer or {"verified": False},
            )
        )
        return ticket.escalation_id


@pytest.fixture
def db(tmp_path: Path) -> Iterator[Db]:
    url = f"sqlite:///{tmp_path / 'frontline.db'}"
    engine = create_engine(url)
    upgrade(engine)
    store = EscalationStore(engine)
    yield Db(url, store, HandoffService(store, load_routing(), clock=lambda: NOW))
    engine.dispose()


def test_show_redacts_the_transcript_like_the_slack_card(db: Db) -> None:
    escalation_id = db.open()
    result = db.cli("show", escalation_id)
    assert result.exit_code == 0, result.output
    escalation = db.store.get(escalation_id)
    assert result.output.splitlines() == [
        status_line(escalation),
        f"queue: {escalation.queue} ({escalation.team})",
        "customer: not verified",
        'summary: Customer wants help with damaged item: "a person please, order BW-104233". '
        "Handed over because the customer asked for a person. Identity not verified.",
        "transcript:",
        "  [09:58] customer: I was charged twice on [card number removed]",
        "  [09:58] bot: Please type the 6-digit code from the email.",
        "  [09:59] customer: [one-time code removed]",
        "  [09:59] customer: refund to [IBAN removed] or call +31 6 ******78 / e***@example.com",
        "  [10:00] customer: a person please, order BW-104233",
    ]


def test_show_keeps_a_verified_customers_own_contact_details(db: Db) -> None:
    escalation_id = db.open({"verified": True, "email": "emma@example.com", "name": "Emma"})
    lines = db.cli("show", escalation_id).output.splitlines()
    assert lines[2] == "customer: verified · Emma · emma@example.com"
    assert lines[5:] == [
        "  [09:58] customer: I was charged twice on [card number removed]",
        "  [09:58] bot: Please type the 6-digit code from the email.",
        "  [09:59] customer: [one-time code removed]",
        "  [09:59] customer: refund to [IBAN removed] or call +31 6 12345678 / "
        "emma.devries@example.com",
        "  [10:00] customer: a person please, order BW-104233",
    ]


def test_show_lists_what_was_said_after_the_handoff(db: Db) -> None:
    escalation_id = db.open()
    db.service.claim(escalation_id, ALEX)
    db.service.customer_message(CONVERSATION, "it is card 5555-5555-5555-4444 by the way", "m1")
    db.service.customer_presence(CONVERSATION, present=False)
    db.service.reply(escalation_id, ALEX, "Thanks, refunding now.", "r1")
    db.service.reply(escalation_id, ALEX, "note: check the second charge", "r2")
    db.service.resolve(escalation_id, ALEX)
    db.service.record_csat(CONVERSATION, 4, None)
    db.service.record_csat_comment(CONVERSATION, "quick! call me on 0612345678 if needed")
    lines = db.cli("show", escalation_id).output.splitlines()
    assert lines[lines.index("after the handoff:") :] == [
        "after the handoff:",
        f"  [{T}] -- Alex joined the chat",
        f"  [{T}] customer: it is card [card number removed] by the way",
        f"  [{T}] system: The customer left the chat.",
        f"  [{T}] Alex (agent): Thanks, refunding now.",
        f"  [{T}] -- Alex resolved the case",
        f"  [{T}] customer rated 4/5",
        f"  [{T}] customer rated 4/5: quick! call me on 061*****78 if needed",
    ]


def test_show_json_redacts_every_customer_text(db: Db) -> None:
    escalation_id = db.open()
    db.service.claim(escalation_id, ALEX)
    db.service.customer_message(CONVERSATION, "IBAN: DE89 3704 0044 0532 0130 00", "m1")
    db.service.resolve(escalation_id, ALEX)
    db.service.record_csat(CONVERSATION, 2, None)
    db.service.record_csat_comment(CONVERSATION, "the code 771204 never worked")
    result = db.cli("show", escalation_id, "--json")
    assert result.exit_code == 0, result.output
    data = json.loads(result.output)
    assert [turn["text"] for turn in data["transcript"]] == [
        "I was charged twice on [card number removed]",
        "Please type the 6-digit code from the email.",
        "[one-time code removed]",
        "refund to [IBAN removed] or call +31 6 ******78 / e***@example.com",
        "a person please, order BW-104233",
    ]
    assert data["csat_comment"] == "the code [one-time code removed] never worked"
    assert data["thread"] == [
        {"at": NOW.isoformat(), "from": "event", "name": None, "text": "Alex joined the chat"},
        {"at": NOW.isoformat(), "from": "customer", "name": None, "text": "IBAN: [IBAN removed]"},
        {"at": NOW.isoformat(), "from": "event", "name": None, "text": "Alex resolved the case"},
        {"at": NOW.isoformat(), "from": "rating", "name": None, "text": "2/5"},
        {
            "at": NOW.isoformat(),
            "from": "rating",
            "name": None,
            "text": "2/5: the code [one-time code removed] never worked",
        },
    ]
    for value in (*SECRETS, *CONTACTS, "DE89", "771204"):
        assert value not in result.output
    assert (data["id"], data["status"], data["customer"]) == (
        escalation_id,
        "resolved",
        {"verified": False},
    )


def test_queue_lines_show_the_latest_customer_message_redacted(db: Db) -> None:
    first = db.open()
    later = HandoffService(db.store, load_routing(), clock=lambda: NOW + timedelta(minutes=1))
    second = later.open(
        EscalationRequest(
            conversation_id="another",
            reason="explicit_request",
            category="billing",
            transcript=[
                {"from": "customer", "text": "hi", "ts": ""},
                {
                    "from": "customer",
                    "text": "my code 482913 and card 4111 1111 1111 1111 both fail, "
                    "please call me back on +44 20 7946 0958",
                    "ts": "",
                },
            ],
        )
    ).escalation_id
    result = db.cli("queue")
    assert result.exit_code == 0, result.output
    assert result.output.splitlines() == [
        f'{status_line(db.store.get(first))}  "a person please, order BW-104233"',
        f"{status_line(db.store.get(second))}  "
        '"my code [one-time code removed] and card [card number remov…"',
    ]


def test_follow_on_a_closed_case_prints_it_and_ends(db: Db) -> None:
    escalation_id = db.open()
    db.service.claim(escalation_id, ALEX)
    db.service.transfer(escalation_id, 3, ALEX)
    [new] = [e for e in db.store.for_conversation(CONVERSATION) if e.parent_id == escalation_id]
    result = db.cli("show", escalation_id, "--follow", input="hello\n")
    assert result.exit_code == 0, result.output
    assert result.output.splitlines()[-1] == (
        f"escalation {escalation_id} is transferred to tier 3 as {new.id}: "
        f"handoff show {new.id} --follow"
    )
    assert [j.kind for j in db.store.jobs(escalation_id)].count(TO_CUSTOMER) == 1  # joined


def test_follow_and_json_do_not_go_together(db: Db) -> None:
    result = db.cli("show", db.open(), "--follow", "--json")
    assert result.exit_code == 2
    assert "--json and --follow cannot be combined" in result.output


def until(condition: Callable[[], bool], what: str, timeout: float = 20.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.05)


def test_follow_shows_the_live_thread_and_sends_typed_replies(tmp_path: Path) -> None:
    """An agent follows a claimed case in another process: customer messages
    written after it started appear in order and redacted, a typed line is
    queued for the customer, and resolving the case ends the command with 0."""
    url = f"sqlite:///{tmp_path / 'frontline.db'}"
    engine = create_engine(url)
    upgrade(engine)
    store = EscalationStore(engine)
    service = HandoffService(store, load_routing())  # the real clock: the CLI's too
    escalation_id = service.open(
        EscalationRequest(
            conversation_id=CONVERSATION,
            reason="explicit_request",
            category="damaged_item",
            transcript=[{"from": "customer", "text": "my watch broke, call 0612345678", "ts": ""}],
        )
    ).escalation_id
    service.claim(escalation_id, ALEX)
    service.customer_message(CONVERSATION, "I paid with 4111 1111 1111 1111", "m1")

    agent = subprocess.Popen(
        [sys.executable, "-m", "handoff.cli", "show", escalation_id, "--follow",
         "--as", "Alex", "--interval", "0.2"],
        cwd=ROOT, env={**os.environ, "FRONTLINE_DATABASE_URL": url},
        stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )  # fmt: skip
    output: list[str] = []
    reader = threading.Thread(target=lambda: output.extend(iter(agent.stdout.readline, "")))  # type: ignore[union-attr]
    reader.start()
    try:
        until(lambda: any(line.startswith("following ") for line in output), "the follow hint")
        service.customer_message(CONVERSATION, "the code it sent me is 482 913", "m2")
        until(lambda: any("482" in line or "code removed" in line for line in output), "message 2")

        assert agent.stdin is not None
        agent.stdin.write("So sorry! A new watch is on its way.\n")
        agent.stdin.flush()

        def replies() -> list[dict[str, Any]]:
            return [j.payload for j in store.jobs(escalation_id) if j.kind == TO_CUSTOMER][1:]

        until(lambda: len(replies()) == 1, "the reply job")
        assert replies() == [
            {
                "intent": "agent_message",
                "entities": {
                    "agent_text": "So sorry! A new watch is on its way.",
                    "agent_name": "Alex",
                },
            }
        ]
        until(lambda: any("(agent)" in line for line in output), "the reply in the thread")
        service.resolve(escalation_id, ALEX)
        assert agent.wait(timeout=20) == 0, agent.stderr.read()  # type: ignore[union-attr]
    finally:
        if agent.poll() is None:
            agent.kill()
        reader.join(timeout=5)
        engine.dispose()

    text = "".join(output)
    for value in ("4111", "482 913", "0612345678"):
        assert value not in text
    thread = [
        re.sub(r"^  \[[^\]]*\] ", "", line.rstrip("\n"))
        for line in output
        if line.startswith("  [") and not line.startswith("  []")
    ]
    assert thread == [
        "-- Alex joined the chat",
        "customer: I paid with [card number removed]",
        "customer: the code it sent me is [one-time code removed]",
        "Alex (agent): So sorry! A new watch is on its way.",
        "-- Alex resolved the case",
    ]
    assert output[-1] == f"escalation {escalation_id} is resolved\n"
