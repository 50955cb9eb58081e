"""The Slack app inside the real handoff service, against the imitation of
Slack's Web API: an agent's reply, a button press or a thread message with a
file is never lost silently, and oversized or unsigned requests are refused
before their body is read."""

from __future__ import annotations

import asyncio
import json
import time
import urllib.parse
from collections.abc import Callable, Iterator
from typing import Any, TypeVar

import pytest
from slack_sdk.signature import SignatureVerifier
from starlette.testclient import TestClient

from handoff import HandoffSettings, create_app
from handoff.db import create_engine, upgrade
from handoff.routing import load_routing
from handoff.server import SLACK_BODY_LIMIT, bounded_slack_body
from handoff.service import Agent, EscalationRequest, HandoffService
from handoff.store import EscalationStore
from tests.handoff.mock_slack import MockSlack

SECRET = "signing-secret"
TECH = "C0TECHNICAL"
ALEX = "U0ALEX"
T = TypeVar("T")


def signed(body: str) -> dict[str, str]:
    stamp = str(int(time.time()))
    signature = SignatureVerifier(SECRET).generate_signature(timestamp=stamp, body=body)
    return {"X-Slack-Request-Timestamp": stamp, "X-Slack-Signature": signature}


def wait_for(predicate: Callable[[], T], timeout: float = 15.0) -> T:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        found = predicate()
        if found:
            return found
        time.sleep(0.05)
    raise AssertionError(f"not within {timeout} s")


class Service:
    """The running handoff service with one escalation posted and claimed by Alex."""

    def __init__(self, client: TestClient, store: EscalationStore, slack: MockSlack) -> None:
        self.client = client
        self.store = store
        self.slack = slack
        service = HandoffService(store, load_routing())
        ticket = service.open(
            EscalationRequest(
                conversation_id="conv0",
                reason="tier2_topic",
                category="damaged_item",
                transcript=[{"from": "customer", "text": "my watch arrived broken", "ts": ""}],
            )
        )
        self.escalation_id = ticket.escalation_id
        self.card_ts = wait_for(lambda: store.get(self.escalation_id).slack_ts)
        service.claim(self.escalation_id, Agent(ALEX, "Alex"))
        self.count = 0

    def event(self, event: dict[str, Any], event_id: str | None = None) -> int:
        self.count += 1
        body = json.dumps(
            {
                "token": "legacy",
                "team_id": "T0BRIGHT",
                "api_app_id": "A0FRONTLINE",
                "type": "event_callback",
                "event_id": event_id or f"Ev{self.count:04d}",
                "event_time": int(time.time()),
                "event": {"type": "message", "channel": TECH, **event},
            }
        )
        headers = {"Content-Type": "application/json", **signed(body)}
        return self.client.post("/slack/events", content=body, headers=headers).status_code

    def reply(self, text: str, **extra: Any) -> dict[str, Any]:
        return {
            "user": ALEX,
            "text": text,
            "ts": f"{time.time():.6f}",
            "thread_ts": self.card_ts,
            **extra,
        }

    def click(self, user: str, action_id: str) -> int:
        payload = {
            "type": "block_actions",
            "team": {"id": "T0BRIGHT"},
            "user": {"id": user, "name": "sam.p"},
            "api_app_id": "A0FRONTLINE",
            "channel": {"id": TECH},
            "container": {"type": "message", "channel_id": TECH},
            "trigger_id": "1.2.3",
            "actions": [
                {"type": "button", "block_id": "b", "action_ts": "1", "action_id": action_id,
                 "value": self.escalation_id}
            ],
        }  # fmt: skip
        body = urllib.parse.urlencode({"payload": json.dumps(payload)})
        headers = {"Content-Type": "application/x-www-form-urlencoded", **signed(body)}
        return self.client.post("/slack/events", content=body, headers=headers).status_code

    def relayed(self) -> list[str]:
        return [
            job.payload["entities"]["agent_text"]
            for job in self.store.jobs(self.escalation_id)
            if job.payload.get("intent") == "agent_message"
        ]

    def told(self, user: str = ALEX) -> list[str]:
        return [c.args["text"] for c in self.slack.calls_to("chat.postEphemeral")
                if c.args["user"] == user and c.status == 200]  # fmt: skip


@pytest.fixture
def running(database_url: str, slack_api: MockSlack) -> Iterator[Service]:
    slack_api.add_channel(TECH, "#support-technical", members=[ALEX])
    slack_api.add_user(ALEX, "Alex Kim", "Alex")
    engine = create_engine(database_url)
    upgrade(engine)
    settings = HandoffSettings(
        database_url=database_url,
        slack_bot_token=slack_api.token,  # type: ignore[arg-type]
        slack_api_url=slack_api.url,  # type: ignore[arg-type]
        slack_signing_secret=SECRET,  # type: ignore[arg-type]
        rasa_url="http://127.0.0.1:9",  # type: ignore[arg-type]
        worker_interval=0.05,
    )
    with TestClient(create_app(settings)) as client:
        yield Service(client, EscalationStore(engine), slack_api)
    engine.dispose()


def test_a_reply_is_relayed_when_slack_cannot_name_the_agent(running: Service) -> None:
    running.slack.fail_next(503, count=20, method="users.info")
    assert running.event(running.reply("Hello, I'm on it"), "Ev0001") == 200
    assert wait_for(running.relayed) == ["Hello, I'm on it"]
    [job] = [j for j in running.store.jobs(running.escalation_id) if j.kind == "rasa.trigger_intent"
             and j.payload["intent"] == "agent_message"]  # fmt: skip
    assert job.payload["entities"]["agent_name"] == "Alex"
    # Slack's retry of the same event changes nothing.
    assert running.event(running.reply("Hello, I'm on it"), "Ev0001") == 200
    time.sleep(0.5)
    assert running.relayed() == ["Hello, I'm on it"]


def test_a_reply_that_cannot_be_queued_is_not_marked_handled_and_the_agent_is_told(
    running: Service, database_url: str
) -> None:
    engine = create_engine(database_url)
    with engine.begin() as connection:
        connection.exec_driver_sql("ALTER TABLE outbox RENAME TO outbox_away")
    try:
        running.event(running.reply("Are you still there?"), "Ev0042")
        [told] = wait_for(running.told)
        assert told == (
            "Your reply did not reach the customer because of a problem on our side. "
            "Please send it again."
        )
        assert running.store.event_seen("Ev0042") is False
    finally:
        with engine.begin() as connection:
            connection.exec_driver_sql("ALTER TABLE outbox_away RENAME TO outbox")
        engine.dispose()
    assert running.relayed() == []


def test_a_claim_that_slack_could_not_check_tells_the_agent_to_press_again(
    running: Service,
) -> None:
    HandoffService(running.store, load_routing()).return_to_bot(
        running.escalation_id, Agent(ALEX, "Alex")
    )
    # A fresh escalation for Sam to claim.
    running.escalation_id = (
        HandoffService(running.store, load_routing())
        .open(
            EscalationRequest(
                conversation_id="conv1",
                reason="tier2_topic",
                category="damaged_item",
                transcript=[{"from": "customer", "text": "screen cracked", "ts": ""}],
            )
        )
        .escalation_id
    )
    wait_for(lambda: running.store.get(running.escalation_id).slack_ts)
    running.slack.set_members(TECH, [ALEX, "U0SAM"])
    running.slack.fail_next(503, method="conversations.members")
    assert running.click("U0SAM", "handoff_claim") == 200
    assert wait_for(lambda: running.told("U0SAM")) == [
        "Sorry, that did not work: claiming the conversation failed on our side. "
        "Nothing changed; please try again in a moment."
    ]
    assert running.store.get(running.escalation_id).status == "posted"
    # Pressed again once Slack answers: claimed under the name Slack gives,
    # or the one in the button press when users.info is away.
    running.slack.fail_next(503, count=5, method="users.info")
    running.click("U0SAM", "handoff_claim")
    claimed = wait_for(lambda: running.store.get(running.escalation_id).claimed_by_name)
    assert claimed == "sam.p"


def test_file_and_broadcast_replies_relay_their_text_and_say_what_was_not(
    running: Service,
) -> None:
    files = [{"id": "F1", "name": "label.pdf"}, {"id": "F2", "name": "photo.png"}]
    # One at a time: Bolt handles events concurrently.
    running.event(running.reply("Here is the return label", subtype="file_share", files=files))
    wait_for(lambda: len(running.told()) == 1)
    running.event(running.reply("Also posting this for the team", subtype="thread_broadcast"))
    wait_for(lambda: len(running.relayed()) == 2)
    running.event(running.reply("", subtype="file_share", files=[{"id": "F3", "name": "x.jpg"}]))
    wait_for(lambda: len(running.told()) == 2)
    assert running.relayed() == ["Here is the return label", "Also posting this for the team"]
    assert running.told() == [
        "Your text was sent; files are not sent to the customer (label.pdf, photo.png). "
        "Share a help-center link or describe it in words.",
        "Files are not sent to the customer (x.jpg). "
        "Share a help-center link or describe it in words.",
    ]


def test_an_edited_reply_tells_the_agent_the_customer_keeps_the_first_version(
    running: Service,
) -> None:
    first = running.reply("Your refund is on its way")
    running.event(first)
    wait_for(running.relayed)
    running.event(
        {
            "subtype": "message_changed",
            "message": {**first, "text": "Your refund was sent today"},
            "previous_message": first,
            "ts": f"{time.time():.6f}",
        }
    )
    assert wait_for(running.told) == [
        "Edits are not sent: the customer keeps the first version. "
        "Send a new message to correct it."
    ]
    assert running.relayed() == ["Your refund is on its way"]


def test_requests_without_slack_headers_or_too_large_are_refused(running: Service) -> None:
    small = json.dumps({"type": "event_callback"})
    assert running.client.post("/slack/events", content=small).status_code == 401
    stale = {"X-Slack-Request-Timestamp": str(int(time.time()) - 3600), "X-Slack-Signature": "v0=x"}
    assert running.client.post("/slack/events", content=small, headers=stale).status_code == 401
    large = "x" * (SLACK_BODY_LIMIT + 1)
    response = running.client.post("/slack/events", content=large, headers=signed(large))
    assert (response.status_code, response.json()) == (413, {"error": "request body too large"})


def test_an_oversized_body_is_refused_before_it_is_read() -> None:
    """A declared 300 MB body is refused without reading a byte; an undeclared
    one is read only up to the limit."""
    from starlette.requests import Request

    chunk = b"x" * 65536
    reads = 0

    async def endless() -> dict[str, Any]:
        nonlocal reads
        reads += 1
        return {"type": "http.request", "body": chunk, "more_body": True}

    def request(headers: dict[str, str]) -> Request:
        scope = {
            "type": "http",
            "method": "POST",
            "path": "/slack/events",
            "headers": [(k.lower().encode(), v.encode()) for k, v in headers.items()],
        }
        return Request(scope, endless)

    stamp = {"x-slack-request-timestamp": str(int(time.time())), "x-slack-signature": "v0=x"}
    declared = asyncio.run(bounded_slack_body(request({**stamp, "content-length": "300000000"})))
    assert (getattr(declared, "status_code", None), reads) == (413, 0)
    unsigned = asyncio.run(bounded_slack_body(request({"content-length": "300000000"})))
    assert (getattr(unsigned, "status_code", None), reads) == (401, 0)
    streamed = asyncio.run(bounded_slack_body(request(stamp)))
    assert getattr(streamed, "status_code", None) == 413
    assert reads == SLACK_BODY_LIMIT // len(chunk) + 1
