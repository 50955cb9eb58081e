"""Handoff without Slack (the `make run` default): an agent works the queue from
the terminal, through the real Rasa server, action server and handoff service."""

from __future__ import annotations

import asyncio
import subprocess
import sys
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from core.database import create_engine
from handoff.store import EscalationStore
from launcher.stack import ROOT, Stack
from tests.e2e.conftest import WidgetClient, stack_settings, started_stack

pytestmark = pytest.mark.e2e


@pytest.fixture(scope="module")
async def handoff_stack(
    model: Path, tmp_path_factory: pytest.TempPathFactory
) -> AsyncIterator[Stack]:
    with started_stack(
        stack_settings(tmp_path_factory.mktemp("handoff")), model, handoff=True
    ) as running:
        yield running


def agent(stack: Stack, *args: str) -> str:
    """Runs `handoff ARGS...` as an agent would, against the stack's database."""
    result = subprocess.run(
        [sys.executable, "-m", "handoff.cli", *args],
        cwd=ROOT, env=stack.app_env(), capture_output=True, text=True, check=False,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    return result.stdout.strip()


async def until(predicate: Any, timeout: float = 20.0) -> None:
    deadline = asyncio.get_running_loop().time() + timeout
    while not predicate():
        assert asyncio.get_running_loop().time() < deadline, "condition not met in time"
        await asyncio.sleep(0.1)


async def test_an_agent_in_the_terminal_takes_over_and_hands_back(handoff_stack: Stack) -> None:
    store = EscalationStore(create_engine(handoff_stack.settings.app_database_url))
    widget = WidgetClient(handoff_stack.rasa_url)
    session_id = await widget.connect()
    try:
        queued = await widget.say("I want to talk to a real person please")
        assert [m["custom"]["type"] for m in queued] == ["handoff_queued"]
        assert queued[0]["custom"]["tier"] == 2
        [escalation] = store.list()
        assert (escalation.conversation_id, escalation.status) == (session_id, "queued")
        assert escalation.transcript[0] == {
            "from": "customer",
            "text": "I want to talk to a real person please",
            "ts": escalation.transcript[0]["ts"],
        }

        assert agent(handoff_stack, "claim", escalation.id, "--as", "Alex") == (
            f"claimed {escalation.id}"
        )
        joined = await widget.next_message()
        assert joined == {
            "text": "Alex has joined the chat.",
            "custom": {"type": "agent_joined", "agent": {"name": "Alex"}},
        }

        # While Alex has the conversation the bot stays quiet, even for a greeting.
        assert await widget.say("hello? my watch arrived with a cracked screen") == []

        agent(handoff_stack, "reply", escalation.id, "note: check stock first", "--as", "Alex")
        agent(handoff_stack, "reply", escalation.id, "So sorry! A replacement is on its way.",
              "--as", "Alex")  # fmt: skip
        assert await widget.next_message() == {
            "text": "So sorry! A replacement is on its way.",
            "custom": {
                "type": "agent_message",
                "agent": {"name": "Alex"},
                "text": "So sorry! A replacement is on its way.",
            },
        }

        agent(handoff_stack, "resolve", escalation.id, "--as", "Alex")
        left = await widget.next_message()
        csat = await widget.next_message()
        assert left["custom"] == {"type": "agent_left", "agent": {"name": "Alex"}}
        assert csat["custom"] == {"type": "csat_request"}
        assert [b["payload"] for b in csat["buttons"]] == [
            f'/csat{{"score": {n}}}' for n in range(1, 6)
        ]

        assert [m["text"] for m in await widget.say('/csat{"score": 5}')] == [
            "Thank you! Anything you'd like to add? Just type it, or say no."
        ]
        assert [m["text"] for m in await widget.say("Alex was quick and kind")] == [
            "Thanks, I've passed that on to the team."
        ]
        # Back with the bot: a greeting is answered again.
        greeting = await widget.say("hi")
        assert greeting[0]["text"].startswith("Hi! I'm Brightwave's virtual assistant.")

        final = store.get(escalation.id)
        assert (final.status, final.claimed_by_name, final.csat_score, final.csat_comment) == (
            "resolved",
            "Alex",
            5,
            "Alex was quick and kind",
        )
        # Without Slack, Slack deliveries are skipped; every customer push went out.
        await until(lambda: all(j.status != "pending" for j in store.jobs(escalation.id)))
        assert [(j.kind, j.status) for j in store.jobs(escalation.id)] == [
            ("slack.post_escalation", "skipped"),
            ("slack.post_transcript", "skipped"),
            ("slack.update_card", "skipped"),
            ("rasa.trigger_intent", "done"),
            ("slack.thread_message", "skipped"),
            ("rasa.trigger_intent", "done"),
            ("slack.update_card", "skipped"),
            ("rasa.trigger_intent", "done"),
            ("slack.thread_message", "skipped"),
            ("slack.thread_message", "skipped"),
        ]
    finally:
        await widget.close()
