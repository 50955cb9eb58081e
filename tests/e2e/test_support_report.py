"""`handoff report`: the support lead's numbers from what the real services
stored (Rasa's tracker store, escalations, Tier 1 outcomes)."""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from core.database import create_engine
from handoff.store import EscalationStore
from launcher.stack import ROOT, Stack
from tests.e2e.conftest import WidgetClient, stack_settings, started_stack

pytestmark = pytest.mark.e2e


@pytest.fixture(scope="module")
def report_stack(model: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    with started_stack(
        stack_settings(tmp_path_factory.mktemp("report")), model, handoff=True
    ) as running:
        yield running


def handoff_cli(stack: Stack, *args: str) -> str:
    env = stack.app_env()
    # As an operator would: the report reads the stack's conversation store.
    env["FRONTLINE_TRACKER_STORE_URL"] = stack.settings.rasa_tracker_store_url
    result = subprocess.run(
        [sys.executable, "-m", "handoff.cli", *args],
        cwd=ROOT, env=env, capture_output=True, text=True, check=False,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    return result.stdout


async def test_a_contained_and_an_escalated_conversation_make_the_report(
    report_stack: Stack,
) -> None:
    contained = WidgetClient(report_stack.rasa_url)
    await contained.connect()
    escalated = WidgetClient(report_stack.rasa_url)
    await escalated.connect()
    try:
        greeting = await contained.say("hi")
        assert greeting[0]["text"].startswith("Hi! I'm Brightwave's virtual assistant.")

        queued = await escalated.say("I want to talk to a real person please")
        assert [m["custom"]["type"] for m in queued] == ["handoff_queued"]
        store = EscalationStore(create_engine(report_stack.settings.app_database_url))
        [escalation] = store.list()
        handoff_cli(report_stack, "claim", escalation.id, "--as", "Alex")
        assert (await escalated.next_message())["custom"]["type"] == "agent_joined"
        handoff_cli(report_stack, "resolve", escalation.id, "--as", "Alex")
        messages = [await escalated.next_message(), await escalated.next_message()]
        assert [m["custom"]["type"] for m in messages] == ["agent_left", "csat_request"]
        await escalated.say('/csat{"score": 5}')
        await escalated.say("no")
    finally:
        await contained.close()
        await escalated.close()

    report: dict[str, Any] = json.loads(handoff_cli(report_stack, "report", "--json"))

    claim, resolve = report.pop("time_to_claim"), report.pop("time_to_resolve")
    assert (claim["count"], resolve["count"]) == (1, 1)
    assert 0 <= claim["median_minutes"] <= resolve["median_minutes"]
    report.pop("start"), report.pop("end")
    assert report == {
        "conversations": 2,
        "escalated_conversations": 1,
        "containment": 0.5,
        "escalations": 1,
        "escalations_by_tier": {"2": 1},
        "escalations_by_queue": {escalation.queue: 1},
        "escalations_by_category": {escalation.category: 1},
        "open_escalations": 0,
        "csat": {
            "responses": 1,
            "average": 5.0,
            "scores": {"1": 0, "2": 0, "3": 0, "4": 0, "5": 1},
            "response_rate": 1.0,
        },
        "outcomes": report["outcomes"],
        "missing": [],
    }
    # action_handoff records the escalation as the conversation's outcome when
    # the Tier 1 outcome store has it; either way nothing else is recorded.
    assert set(report["outcomes"]) <= {escalation.category}

    text = handoff_cli(report_stack, "report")
    assert "Containment            50.0%" in text
    assert "CSAT                   5.00 / 5 from 1 answers" in text
