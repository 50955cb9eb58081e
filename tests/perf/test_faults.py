"""The fault suite's counting sees what it reports: duplicates, losses and
messages out of order."""

from __future__ import annotations

from collections import Counter

from slack_sdk import WebClient

from tests.handoff.mock_slack import MockSlack
from tests.perf.faults import Expected, FakeRasa, Workload, out_of_order, tally


def test_tally_counts_copies_beyond_the_first_and_what_never_arrived() -> None:
    expected = Counter({"a": 1, "b": 1, "c": 1})
    seen = Counter({"a": 3, "b": 1, "x": 2})
    assert tally(expected, seen) == {
        "expected": 3,
        "delivered": 2,
        "duplicated": 2,
        "lost": 1,
        "unexpected": 2,
    }


def test_messages_in_another_order_are_seen() -> None:
    work = Workload.__new__(Workload)
    work.expected = Expected(messages=Counter({"Q0001r0": 1, "Q0001r1": 1, "Q0002r0": 1}))
    rasa = FakeRasa()
    try:
        rasa.pushes += [
            ("c1", {"name": "agent_message", "entities": {"agent_text": "on it A0001r1"}}),
            ("c1", {"name": "agent_message", "entities": {"agent_text": "on it A0001r0"}}),
            ("c2", {"name": "handoff_update", "entities": {"kind": "agent_joined"}}),
            ("c2", {"name": "agent_message", "entities": {"agent_text": "on it A0002r0"}}),
        ]
        with MockSlack() as slack:
            slack.add_channel("C0TECH", "#support-technical")
            web = WebClient(token=slack.token, base_url=slack.url)
            card = web.chat_postMessage(channel="C0TECH", text="card")["ts"]
            for token in ("Q0001r1", "Q0001r0", "Q0002r0"):
                web.chat_postMessage(
                    channel="C0TECH", thread_ts=card, text="new",
                    blocks=[{"type": "section", "text": {"type": "mrkdwn", "text": token}}],
                )  # fmt: skip
            assert out_of_order(slack, rasa, work) == {
                "customer messages": 1,
                "pushes to the customer": 1,
            }
    finally:
        rasa.stop()
