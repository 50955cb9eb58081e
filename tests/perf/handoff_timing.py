"""Handoff latency through the real services, against the local imitation of
Slack's Web API (``tests/handoff/mock_slack.py``), as the Slack end-to-end test
drives them (``tests/e2e/test_handoff_slack.py``):

* post: from the customer's message asking for a person (sent on the widget's
  socket) until the escalation's card arrives at Slack (``chat.postMessage``
  without ``thread_ts``). It includes the bot's turn, the durable outbox and
  the handoff worker.
* relay: from an agent's thread reply (a signed Events API request to the
  handoff service) until the widget receives it as an ``agent_message``. The
  agent first claims the case with a signed button click.

Samples are taken one after another, before any load (nothing else running).
"""

from __future__ import annotations

import asyncio
import json
import time
import urllib.parse
from typing import Any

import httpx
import sqlalchemy as sa
from slack_sdk.signature import SignatureVerifier

from tests.handoff.mock_slack import MockSlack
from tests.perf.common import percentile, say
from tests.perf.stack_run import SLACK_SIGNING_SECRET, Run
from tests.perf.widget import Widget

AGENT, AGENT_NAME = "U0AGENT", "Alex Jansen"
WAIT_SECONDS = 30.0
CHANNELS = (
    ("C0GENERAL", "#support-tier2"),
    ("C0BILLING", "#support-billing"),
    ("C0ACCOUNTS", "#support-accounts"),
    ("C0TECHNICAL", "#support-technical"),
    ("C0PRODUCT", "#support-product-experts"),
    ("C0SPECIAL", "#support-specialists"),
    ("C0LEADS", "#support-leads"),
)
ASK_FOR_PERSON = "I'd like to talk to a person please"
RELAYS_PER_CASE = 2


def prepare(slack: MockSlack) -> None:
    """Channels of routing.yml's queues, with the agent in each."""
    slack.reset()
    for channel_id, name in CHANNELS:
        slack.add_channel(channel_id, name, members=[AGENT])
    slack.add_user(AGENT, AGENT_NAME, "Alex")


def signed(body: str) -> dict[str, str]:
    stamp = str(int(time.time()))
    signature = SignatureVerifier(SLACK_SIGNING_SECRET).generate_signature(
        timestamp=stamp, body=body
    )
    return {"X-Slack-Request-Timestamp": stamp, "X-Slack-Signature": str(signature)}


async def claim(http: httpx.AsyncClient, run: Run, channel: str, escalation_id: str) -> None:
    payload = {
        "type": "block_actions",
        "team": {"id": "T0BRIGHT"},
        "user": {"id": AGENT},
        "api_app_id": "A0FRONTLINE",
        "channel": {"id": channel},
        "container": {"type": "message", "channel_id": channel},
        "trigger_id": "1.2.3",
        "actions": [
            {"type": "button", "block_id": "b", "action_ts": "1",
             "action_id": "handoff_claim", "value": escalation_id}
        ],
    }  # fmt: skip
    body = urllib.parse.urlencode({"payload": json.dumps(payload)})
    response = await http.post(
        f"{run.stack.handoff_url}/slack/events",
        content=body,
        headers={"Content-Type": "application/x-www-form-urlencoded", **signed(body)},
    )
    response.raise_for_status()


async def agent_reply(
    http: httpx.AsyncClient, run: Run, channel: str, thread_ts: str, text: str
) -> None:
    body = json.dumps(
        {
            "token": "legacy",
            "team_id": "T0BRIGHT",
            "api_app_id": "A0FRONTLINE",
            "type": "event_callback",
            "event_id": f"Ev{time.time_ns()}",
            "event_time": int(time.time()),
            "event": {
                "type": "message",
                "channel": channel,
                "user": AGENT,
                "text": text,
                "ts": f"{time.time():.6f}",
                "thread_ts": thread_ts,
            },
        }
    )
    response = await http.post(
        f"{run.stack.handoff_url}/slack/events",
        content=body,
        headers={"Content-Type": "application/json", **signed(body)},
    )
    response.raise_for_status()


def top_level_posts(slack: MockSlack) -> int:
    return sum("thread_ts" not in call.args for call in slack.calls_to("chat.postMessage"))


def wait_for_card(slack: MockSlack, before: int) -> float:
    """Blocks until a new top-level post arrives; returns when (perf_counter)."""
    seen = len(slack.calls_to("chat.postMessage"))
    while top_level_posts(slack) <= before:
        slack.wait_for_calls(seen + 1, method="chat.postMessage", timeout=WAIT_SECONDS)
        seen = len(slack.calls_to("chat.postMessage"))
    return time.perf_counter()


async def next_of_type(widget: Widget, kind: str) -> dict[str, Any]:
    deadline = time.monotonic() + WAIT_SECONDS
    while True:
        message = await widget.next_message(max(0.1, deadline - time.monotonic()))
        custom = message.get("custom")
        if isinstance(custom, dict) and custom.get("type") == kind:
            return message


async def posted_card(
    engine: sa.Engine, slack: MockSlack, conversation_id: str
) -> tuple[str, str, str]:
    """(escalation id, Slack channel id, card ts) once the handoff service has
    recorded where it posted the conversation's escalation."""
    deadline = time.monotonic() + WAIT_SECONDS
    while time.monotonic() < deadline:
        with engine.connect() as connection:
            row = connection.execute(
                sa.text(
                    "SELECT id, slack_ts FROM escalations WHERE conversation_id = :c "
                    "ORDER BY created_at"
                ),
                {"c": conversation_id},
            ).first()
        if row is not None and row[1]:
            for message in slack.messages():
                if message["ts"] == row[1]:
                    return str(row[0]), str(message["channel"]), str(row[1])
        await asyncio.sleep(0.02)
    raise RuntimeError(f"escalation of {conversation_id} not recorded as posted")


async def one_case(
    run: Run, slack: MockSlack, http: httpx.AsyncClient, engine: sa.Engine
) -> tuple[float, list[float]]:
    widget = Widget(run.stack.rasa_url)
    conversation_id = await widget.connect()
    try:
        before = top_level_posts(slack)
        started = time.perf_counter()
        card_task = asyncio.get_running_loop().run_in_executor(None, wait_for_card, slack, before)
        reply = await widget.say(ASK_FOR_PERSON)
        if "handoff_queued" not in reply.custom_types:
            raise RuntimeError(f"the bot did not hand off: {reply.messages}")
        posted_at = await card_task
        post_ms = (posted_at - started) * 1000
        case_id, channel, card_ts = await posted_card(engine, slack, conversation_id)
        await claim(http, run, channel, case_id)
        await next_of_type(widget, "agent_joined")
        relays = []
        for number in range(RELAYS_PER_CASE):
            sent = time.perf_counter()
            await agent_reply(http, run, channel, card_ts, f"Hello, reply {number}")
            await next_of_type(widget, "agent_message")
            relays.append((time.perf_counter() - sent) * 1000)
        return post_ms, relays
    finally:
        await widget.close()


async def measure(run: Run, slack: MockSlack, samples: int) -> dict[str, Any]:
    from core.database import create_engine

    engine = create_engine(run.stack.settings.app_database_url)
    posts: list[float] = []
    relays: list[float] = []
    errors: list[str] = []
    try:
        async with httpx.AsyncClient(timeout=WAIT_SECONDS) as http:
            for _ in range(samples):
                try:
                    post_ms, relay_ms = await one_case(run, slack, http, engine)
                except Exception as error:  # boundary: a failed sample is reported, not fatal
                    errors.append(f"{error.__class__.__name__}: {error}"[:200])
                    continue
                posts.append(post_ms)
                relays.extend(relay_ms)
    finally:
        engine.dispose()
    say(f"handoff: {len(posts)} posts, {len(relays)} relays timed, {len(errors)} failed")
    return {"post_ms": posts, "relay_ms": relays, "errors": errors}


def summary(timings: dict[str, Any]) -> dict[str, float]:
    posts, relays = timings["post_ms"], timings["relay_ms"]
    return {
        "handoff.post_p50_ms": percentile(posts, 50),
        "handoff.post_p95_ms": percentile(posts, 95),
        "handoff.relay_p50_ms": percentile(relays, 50),
        "handoff.relay_p95_ms": percentile(relays, 95),
        "handoff.samples": len(posts),
        "handoff.errors": len(timings["errors"]),
    }
