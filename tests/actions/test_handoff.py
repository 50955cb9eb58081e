"""``action_handoff``: the escalation is stored once, the outcome ``escalated``
is recorded for the request's category, and the reason is consumed."""

from __future__ import annotations

import dataclasses
import logging
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import pytest
import sqlalchemy as sa
from rasa_sdk.events import SlotSet

from actions import deps
from actions.backends import Outcome
from actions.handoff import (
    TROUBLE,
    ActionForwardToAgent,
    ActionHandoff,
    customer_identity,
    is_comment,
    request_category,
)
from core.runtime import JsonFormatter
from handoff import Agent, HandoffService, load_routing

# The Tier 1 fixtures: real demo backend, application database on SQLite and PostgreSQL.
from tests.actions.tier1.conftest import ROUTING, Env, clock, env_db, tier1_seed  # noqa: F401
from tests.actions.tier1.helpers import (
    EMMA,
    SENDER,
    run_action,
    tracker,
    user_event,
    verified_history,
)

SUNDAY = datetime(2026, 11, 29, 10, 0, tzinfo=UTC)  # customer care is closed
TUESDAY = datetime(2026, 11, 24, 10, 0, tzinfo=UTC)  # open


async def outcomes(env: Env) -> list[tuple[str, Outcome, str | None]]:
    return [(o.category, o.outcome, o.detail) for o in await env.deps.outcomes.list(SENDER)]


def handoff_tracker(slots: dict[str, Any], history: list[dict[str, Any]]) -> Any:
    return tracker("yes", "affirm", slots=slots, history=history)


async def test_a_handoff_records_escalated_for_the_flow_and_clears_the_reason(
    env_db: Env,  # noqa: F811 (the imported fixture)
) -> None:
    slots = {"handoff_reason": "form_failed", "flow_category": "password_reset"}
    history = [user_event("I forgot my password", "password_reset")]
    events, messages = await run_action(ActionHandoff(), handoff_tracker(slots, history))
    [escalation] = env_db.deps.handoff.store.for_conversation(SENDER)
    assert events == [
        SlotSet("handoff_active", True),
        SlotSet("escalation_id", escalation.id),
        SlotSet("handoff_count", 1.0),
        SlotSet("handoff_reason", None),
    ]
    assert [m["custom"]["type"] for m in messages] == ["handoff_queued"]
    assert await outcomes(env_db) == [("password_reset", Outcome.ESCALATED, "form_failed")]


async def test_a_handoff_rasa_retries_records_its_outcome_once(
    env_db: Env,  # noqa: F811 (the imported fixture)
) -> None:
    history = [user_event("where is my parcel", "order_status")]
    current = tracker("I want a person", "human_handoff", history=history)
    first, _ = await run_action(ActionHandoff(), current)
    again, _ = await run_action(ActionHandoff(), current)
    assert first == again
    assert len(env_db.deps.handoff.store.for_conversation(SENDER)) == 1
    assert await outcomes(env_db) == [("order_status", Outcome.ESCALATED, "explicit_request")]


def test_the_category_is_the_flows_only_when_the_flow_handed_over() -> None:
    history = [user_event("my parcel is late", "order_status")]
    late = tracker(
        "yes", "affirm", history=history,
        slots={"handoff_reason": "tier2_topic", "flow_category": "order_status"},
    )  # fmt: skip
    stale = tracker(
        "this is useless", "complaint", history=[user_event("refund?", "refund_status")],
        slots={"handoff_reason": "kb_rejected", "flow_category": "password_reset"},
    )  # fmt: skip
    assert (request_category(late), request_category(stale)) == ("order_status", "refund_status")


def test_after_a_tier_two_article_the_category_is_the_articles() -> None:
    """'you charged my plus twice' (NLU unsure) after the double-charge article:
    the billing team, not the default queue."""
    accepted = tracker(
        "yes", "affirm", history=[user_event("charged twice?", "nlu_fallback")],
        slots={"handoff_reason": "kb_tier2", "kb_category": "payments-billing"},
    )  # fmt: skip
    assert request_category(accepted) == "payments-billing"
    other = tracker(
        "yes", "affirm", history=[user_event("charged twice?", "double_charge")],
        slots={"handoff_reason": "explicit_request", "kb_category": "payments-billing"},
    )  # fmt: skip
    assert request_category(other) == "double_charge"


@pytest.fixture
def sunday(env_db: Env) -> Iterator[Env]:  # noqa: F811 (the imported fixture)
    """``env_db`` on a Sunday morning: customer care is closed."""
    service = HandoffService(env_db.deps.handoff.store, load_routing(ROUTING), clock=lambda: SUNDAY)
    deps.configure(dataclasses.replace(env_db.deps, handoff=service))
    yield env_db
    deps.configure(env_db.deps)


async def test_outside_hours_the_customer_can_leave_an_email_for_the_answer(sunday: Env) -> None:
    history = [user_event("where is my parcel", "order_status")]
    _, queued = await run_action(
        ActionHandoff(), tracker("I want a person", "human_handoff", history=history)
    )
    assert queued[0]["text"] == (
        "Our Customer care is offline right now. Your request is saved and they will pick it "
        "up when they're back (Monday 08:00 CET). You can keep writing here and they will see "
        "it. If you'd like their answer by email as well, just type your email address here."
    )
    events, said = await run_action(
        ActionForwardToAgent(),
        tracker("sure, it's Emma.deVries@example.com", "inform", metadata={"message_id": "m1"}),
    )
    assert (events, said) == (
        [],
        [
            {
                "text": "Thanks! Our Customer care will also send their answer to "
                "emma.devries@example.com.",
                "custom": {"type": "contact_email_saved", "email": "emma.devries@example.com"},
            }
        ],
    )
    [escalation] = sunday.deps.handoff.store.for_conversation(SENDER)
    assert escalation.customer == {"verified": False, "contact_email": "emma.devries@example.com"}
    assert [j.kind for j in sunday.deps.handoff.store.jobs(escalation.id)] == [
        "slack.post_escalation",
        "slack.post_transcript",
        "slack.thread_message",  # the message itself still goes to the agents
        "slack.update_card",
    ]


WAITING = {
    "text": "Thanks, I've added that to your request. The team will see it as soon as "
    "someone picks up your conversation.",
    "custom": {"type": "relayed_to_team", "team": "Customer care"},
}


async def test_during_opening_hours_an_email_is_relayed_not_saved_for_later(
    env_db: Env,  # noqa: F811 (the imported fixture)
) -> None:
    service = HandoffService(
        env_db.deps.handoff.store, load_routing(ROUTING), clock=lambda: TUESDAY
    )
    deps.configure(dataclasses.replace(env_db.deps, handoff=service))
    await run_action(ActionHandoff(), tracker("I want a person", "human_handoff"))
    assert await run_action(
        ActionForwardToAgent(), tracker("emma@example.com", "inform", metadata={"message_id": "m1"})
    ) == ([], [WAITING])
    [escalation] = env_db.deps.handoff.store.for_conversation(SENDER)
    assert escalation.customer == {"verified": False}


async def test_messages_while_waiting_are_confirmed_once_until_someone_claims(
    env_db: Env,  # noqa: F811 (the imported fixture)
) -> None:
    """The first message typed while nobody has the chat hears that it reached
    the team; the next ones in a row do not repeat it; once an agent claimed
    the conversation they read it live, so nothing is added."""
    service = HandoffService(
        env_db.deps.handoff.store, load_routing(ROUTING), clock=lambda: TUESDAY
    )
    deps.configure(dataclasses.replace(env_db.deps, handoff=service))
    await run_action(ActionHandoff(), tracker("I want a person", "human_handoff"))
    confirmed = {"event": "bot", "text": WAITING["text"], "data": {"custom": WAITING["custom"]}}
    queued = {"event": "bot", "text": "I'm connecting you", "data": {"custom": {"type": "x"}}}
    first = await run_action(
        ActionForwardToAgent(),
        tracker("hello? anyone?", "greet", history=[queued], metadata={"message_id": "m1"}),
    )
    second = await run_action(
        ActionForwardToAgent(),
        tracker("please hurry", "inform", history=[queued, confirmed],
                metadata={"message_id": "m2"}),
    )  # fmt: skip
    [escalation] = env_db.deps.handoff.store.for_conversation(SENDER)
    service.claim(escalation.id, Agent("U1", "Alex"))
    claimed = await run_action(
        ActionForwardToAgent(),
        tracker("are you there", "inform", history=[queued], metadata={"message_id": "m3"}),
    )
    assert (first, second, claimed) == (([], [WAITING]), ([], []), ([], []))
    texts = [
        job.payload["text"]
        for job in env_db.deps.handoff.store.jobs(escalation.id)
        if job.kind == "slack.thread_message"
    ]
    assert texts == ["hello? anyone?", "please hurry", "are you there"]


def test_only_an_identity_verified_in_this_session_is_shown_to_agents() -> None:
    now = tracker("I want a person", "human_handoff", slots=EMMA, history=verified_history(EMMA))
    earlier = tracker("I want a person", "human_handoff", slots=EMMA)
    assert (customer_identity(now), customer_identity(earlier)) == (
        {"verified": True, "email": "emma.devries@example.com", "name": "Emma de Vries"},
        {"verified": False},
    )


async def test_after_a_flow_offered_a_person_the_case_is_about_that_flow(
    env_db: Env,  # noqa: F811 (the imported fixture)
) -> None:
    slots = {"handoff_reason": "tier2_topic", "flow_category": "account_status"}
    history = [user_event("why is my account suspended??", "account_status")]
    current = tracker(
        "I did a chargeback because the order never came", "double_charge",
        slots=slots, history=history,
    )  # fmt: skip
    await run_action(ActionHandoff(), current)
    [escalation] = env_db.deps.handoff.store.for_conversation(SENDER)
    assert (escalation.category, escalation.queue) == ("account_status", "tier2-accounts")
    assert await outcomes(env_db) == [("account_status", Outcome.ESCALATED, "tier2_topic")]


@pytest.mark.parametrize(
    ("text", "intent", "comment"),
    [
        ("Alex was quick and kind", "thanks", True),
        ("no, it took far too long to get an answer", "deny", True),
        ("the replacement arrived today", "inform", True),
        ("no thanks", "deny", False),
        ("thank you!", "thanks", False),
        ("bye", "goodbye", False),
        ("", "inform", False),
        ("/deny", "deny", False),
    ],
)
def test_a_csat_comment_is_any_reply_but_a_short_no_or_thanks(
    text: str, intent: str, comment: bool
) -> None:
    assert is_comment(text, intent) is comment


async def test_a_failed_relay_logs_no_customer_text(
    env_db: Env,  # noqa: F811 (the imported fixture)
    caplog: pytest.LogCaptureFixture,
) -> None:
    """Logs are an outlet too: the error of a failed database write is logged
    with its traceback, but without the values it tried to write."""
    await run_action(ActionHandoff(), tracker("I want a person", "human_handoff"))
    with env_db.engine.begin() as connection:
        connection.execute(sa.text("DROP TABLE outbox"))  # every relay now fails
    said = "card 4111 1111 1111 1111, IBAN NL91ABNA0417164300, my code is 482913"
    with caplog.at_level(logging.ERROR, logger="actions.handoff"):
        _, messages = await run_action(
            ActionForwardToAgent(), tracker(said, "inform", metadata={"message_id": "m1"})
        )
    assert [m["text"] for m in messages] == [TROUBLE]
    [record] = [r for r in caplog.records if r.getMessage() == "relay to agent failed"]
    logged = JsonFormatter("actions").format(record)
    assert "INSERT INTO outbox" in logged  # the error itself is there
    for value in ("4111", "NL91", "482913"):
        assert value not in logged
