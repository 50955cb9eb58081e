"""The whole handoff story through Slack, with real processes everywhere we can:
the customer's widget socket, the Rasa server, the action server and the handoff
service (HTTP mode), against a local imitation of Slack's Web API. Button clicks
and thread replies are sent to the running Bolt app as correctly signed requests.
"""

from __future__ import annotations

import asyncio
import json
import time
import urllib.parse
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from slack_sdk.signature import SignatureVerifier

from core.database import create_engine
from handoff.store import EscalationStore
from launcher.stack import Stack
from tests.e2e.conftest import WidgetClient, slack_env, stack_settings, started_stack
from tests.handoff.mock_slack import MockSlack

pytestmark = pytest.mark.e2e

SECRET = "test-signing-secret"
TECH, PRODUCT = "C0TECHNICAL", "C0PRODUCTEXP"
ALEX, SAM, VISITOR = "U0ALEX", "U0SAM", "U0VISITOR"


@pytest.fixture(scope="module")
def slack() -> Iterator[MockSlack]:
    with MockSlack() as server:
        yield server


def prepare(slack: MockSlack) -> None:
    slack.reset()
    slack.add_channel(TECH, "#support-technical", members=[ALEX, SAM])
    slack.add_channel(PRODUCT, "#support-product-experts", members=[SAM])
    for channel_id, name in (
        ("C0GENERAL", "#support-tier2"), ("C0BILLING", "#support-billing"),
        ("C0ACCOUNTS", "#support-accounts"), ("C0SPECIAL", "#support-specialists"),
        ("C0LEADS", "#support-leads"),
    ):  # fmt: skip
        slack.add_channel(channel_id, name, members=[SAM])
    slack.add_user(ALEX, "Alex Jansen", "Alex")
    slack.add_user(SAM, "Sam de Boer", "Sam")
    slack.add_user(VISITOR, "Vic Visitor", "Vic")


@pytest.fixture(scope="module")
async def stack(
    model: Path, tmp_path_factory: pytest.TempPathFactory, slack: MockSlack
) -> AsyncIterator[Stack]:
    prepare(slack)
    with started_stack(
        stack_settings(tmp_path_factory.mktemp("slack")),
        model,
        handoff=True,
        slack=slack_env(slack.token, SECRET, slack.url),
    ) as running:
        yield running


def signed(body: str, secret: str = SECRET, timestamp: int | None = None) -> dict[str, str]:
    stamp = str(timestamp if timestamp is not None else int(time.time()))
    signature = SignatureVerifier(secret).generate_signature(timestamp=stamp, body=body)
    return {"X-Slack-Request-Timestamp": stamp, "X-Slack-Signature": signature}


def click(stack: Stack, user: str, channel: str, action: dict[str, Any]) -> httpx.Response:
    payload = {
        "type": "block_actions",
        "team": {"id": "T0BRIGHT"},
        "user": {"id": user},
        "api_app_id": "A0FRONTLINE",
        "channel": {"id": channel},
        "container": {"type": "message", "channel_id": channel},
        "trigger_id": "1.2.3",
        "actions": [{"type": "button", "block_id": "b", "action_ts": "1", **action}],
    }
    body = urllib.parse.urlencode({"payload": json.dumps(payload)})
    return httpx.post(
        f"{stack.handoff_url}/slack/events",
        content=body,
        headers={"Content-Type": "application/x-www-form-urlencoded", **signed(body)},
        timeout=10,
    )


def thread_event(
    stack: Stack, event_id: str, user: str, channel: str, thread_ts: str, text: str,
    retry: int | None = None,
) -> httpx.Response:  # fmt: skip
    body = json.dumps(
        {
            "token": "legacy",
            "team_id": "T0BRIGHT",
            "api_app_id": "A0FRONTLINE",
            "type": "event_callback",
            "event_id": event_id,
            "event_time": int(time.time()),
            "event": {
                "type": "message",
                "channel": channel,
                "user": user,
                "text": text,
                "ts": f"{time.time():.6f}",
                "thread_ts": thread_ts,
            },
        }
    )
    headers = {"Content-Type": "application/json", **signed(body)}
    if retry is not None:
        headers.update({"X-Slack-Retry-Num": str(retry), "X-Slack-Retry-Reason": "http_timeout"})
    return httpx.post(
        f"{stack.handoff_url}/slack/events", content=body, headers=headers, timeout=10
    )


async def wait_for(predicate: Any, timeout: float = 20.0) -> Any:
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        assert time.monotonic() < deadline, "condition not met in time"
        await asyncio.sleep(0.05)


def cards(slack: MockSlack, channel: str) -> list[dict[str, Any]]:
    """Top-level messages of a channel (thread replies excluded)."""
    return [m for m in slack.messages(channel) if "thread_ts" not in m]


def texts(blocks: list[dict[str, Any]]) -> str:
    """All text of a Block Kit message, for reading it like an agent."""
    return json.dumps(blocks, ensure_ascii=False)


async def test_customer_to_slack_and_back_through_every_process(
    stack: Stack, slack: MockSlack
) -> None:
    store = EscalationStore(create_engine(stack.settings.app_database_url))
    widget = WidgetClient(stack.rasa_url)
    session_id = await widget.connect()
    try:
        queued = await widget.say(
            "My new Pulse 2 arrived with a cracked screen. My card 4111 1111 1111 1111 "
            "was charged. <!channel> please help"
        )
        assert [m["custom"]["type"] for m in queued] == ["handoff_queued"]
        [escalation] = store.list()
        assert (escalation.queue, escalation.tier) == ("tier2-technical", 2)

        # One card in the queue's channel, then the redacted transcript in its thread.
        card = await wait_for(lambda: cards(slack, TECH))
        assert len(card) == 1
        card_ts = card[0]["ts"]
        thread = await wait_for(lambda: slack.replies(TECH, card_ts))
        posted = texts(thread[0]["blocks"])
        assert "[card number removed]" in posted
        assert "4111" not in posted
        assert "<!channel>" not in posted and "&lt;!channel&gt;" in posted
        assert store.get(escalation.id).status == "posted"

        # A visitor outside the queue's channel cannot claim it; Alex can, once.
        assert (
            click(
                stack, VISITOR, TECH, {"action_id": "handoff_claim", "value": escalation.id}
            ).status_code
            == 200
        )
        refusal = await wait_for(lambda: slack.calls_to("chat.postEphemeral"))
        assert refusal[0].args["user"] == VISITOR
        assert (
            click(
                stack, ALEX, TECH, {"action_id": "handoff_claim", "value": escalation.id}
            ).status_code
            == 200
        )
        assert await widget.next_message() == {
            "text": "Alex has joined the chat.",
            "custom": {"type": "agent_joined", "agent": {"name": "Alex"}},
        }
        click(stack, SAM, TECH, {"action_id": "handoff_claim", "value": escalation.id})
        second = await wait_for(lambda: slack.calls_to("chat.postEphemeral")[1:])
        assert (second[0].args["user"], second[0].args["text"]) == (
            SAM,
            "Thanks! Alex is already on this one.",
        )
        updated = await wait_for(lambda: slack.calls_to("chat.update"))
        assert "Claimed by Alex" in texts(updated[-1].args["blocks"])

        # Alex's thread reply reaches the widget once, even when Slack retries it.
        article = "https://help.brightwave.example/articles/damaged-on-arrival"
        reply = f"Hi! So sorry. See <{article}|this article>"
        assert thread_event(stack, "Ev001", ALEX, TECH, card_ts, reply).status_code == 200
        assert thread_event(stack, "Ev001", ALEX, TECH, card_ts, reply, retry=1).status_code == 200
        agent_says = await widget.next_message()
        assert agent_says["custom"] == {
            "type": "agent_message",
            "agent": {"name": "Alex"},
            "text": "Hi! So sorry. See this article "
            "(https://help.brightwave.example/articles/damaged-on-arrival)",
        }
        # A colleague's consultation and a note stay internal.
        thread_event(stack, "Ev002", SAM, TECH, card_ts, "try the replacement flow")
        thread_event(stack, "Ev003", ALEX, TECH, card_ts, "note: customer is upset")

        # The customer's answer goes into the thread; the bot stays quiet.
        assert await widget.say("thanks, it's order BW-104233") == []
        relayed = await wait_for(
            lambda: [
                m for m in slack.replies(TECH, card_ts) if "BW-104233" in texts(m.get("blocks", []))
            ]
        )
        assert len(relayed) == 1

        # The customer closes the chat and comes back: the agent sees both.
        def note(words: str) -> Any:
            return lambda: [
                m for m in slack.replies(TECH, card_ts) if words in texts(m.get("blocks", []))
            ]

        await widget.close()
        await wait_for(note("The customer left the chat."))
        widget = WidgetClient(stack.rasa_url)
        assert await widget.connect(session_id) == session_id
        await wait_for(note("The customer is back in the chat."))

        # Alex passes it to Tier 3; the new team gets the history.
        click(
            stack, ALEX, TECH,
            {"type": "static_select", "action_id": "handoff_escalate",
             "selected_option": {"value": f"{escalation.id}:3"}},
        )  # fmt: skip
        moved = await widget.next_message()
        assert moved["custom"]["type"] == "handoff_queued"
        tier3_card = await wait_for(lambda: cards(slack, PRODUCT))
        # The card is in Slack a moment before the database records it.
        transferred = await wait_for(
            lambda: (found := store.for_conversation(session_id))[-1].status != "queued" and found
        )
        assert [(e.tier, e.status) for e in transferred] == [(2, "transferred"), (3, "posted")]
        assert transferred[1].parent_id == escalation.id

        # Sam resolves it; the customer rates it and the rating lands in the thread.
        new_id = transferred[1].id
        click(stack, SAM, PRODUCT, {"action_id": "handoff_resolve", "value": new_id})
        left = await widget.next_message()
        csat = await widget.next_message()
        assert left["custom"]["type"] == "agent_left"
        assert csat["custom"] == {"type": "csat_request"}
        await widget.say('/csat{"score": 4}')
        rating = await wait_for(
            lambda: [
                m for m in slack.replies(PRODUCT, tier3_card[0]["ts"])
                if "4/5" in texts(m.get("blocks", []))
            ]
        )  # fmt: skip
        assert len(rating) == 1
        assert store.get(new_id).csat_score == 4
        # Exactly one card per escalation was ever posted.
        top_level = [c for c in slack.calls_to("chat.postMessage") if "thread_ts" not in c.args]
        assert [c.args["channel"] for c in top_level] == [
            "#support-technical",
            "#support-product-experts",
        ]
    finally:
        await widget.close()


def test_forged_and_stale_requests_are_rejected(stack: Stack) -> None:
    body = urllib.parse.urlencode({"payload": json.dumps({"type": "block_actions"})})
    forged = httpx.post(
        f"{stack.handoff_url}/slack/events",
        content=body,
        headers={"Content-Type": "application/x-www-form-urlencoded", **signed(body, "wrong")},
    )
    stale = httpx.post(
        f"{stack.handoff_url}/slack/events",
        content=body,
        headers={
            "Content-Type": "application/x-www-form-urlencoded",
            **signed(body, timestamp=int(time.time()) - 600),
        },
    )
    assert (forged.status_code, stale.status_code) == (401, 401)
