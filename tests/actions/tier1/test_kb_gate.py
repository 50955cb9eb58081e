"""A question about how something works is answered from the help center, not
by a Tier 1 flow's identity check (issue 23, class 8), at the flow's start
and in its middle; out of scope inside a flow is looked up too (class 5).
Against the real help center (data/kb) with the product's settings."""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from rasa_sdk.events import FollowupAction, SlotSet

from actions import deps
from actions.tier1.account import ActionResendActivation, ValidateAccountActivationForm
from actions.tier1.base import FLOWS
from actions.tier1.fallback import OUT_OF_SCOPE, ActionOutOfScope
from actions.tier1.kb_gate import decide, is_question
from actions.tier1.subscription import ValidateCancelSubscriptionForm
from actions.tier1.verification import ASK_EMAIL
from core.database import create_engine
from kb_index import Embedder, KnowledgeBase, build
from kb_index.db import upgrade
from kb_index.knowledge_base import SearchHit
from kb_index.settings import PACKAGED_MODEL, KBSettings
from tests.actions.tier1.conftest import Env
from tests.actions.tier1.helpers import SENDER, form_tracker, run_action, tracker, user_event

HELP_CENTER = Path(__file__).resolve().parents[3] / "data" / "kb"


@pytest.fixture(scope="module")
def help_center(tmp_path_factory: pytest.TempPathFactory) -> Iterator[KnowledgeBase]:
    folder = tmp_path_factory.mktemp("help-center")
    settings = KBSettings(
        _env_file=None,
        source_dir=HELP_CENTER,
        storage_dir=folder / "kb",
        database_url=f"sqlite:///{folder / 'kb.db'}",
    )
    engine = create_engine(settings.database_url)
    upgrade(engine)
    embedder = Embedder(PACKAGED_MODEL)
    build(settings, engine, embedder)
    kb = KnowledgeBase(settings, engine=engine, embedder=embedder, watch=False)
    yield kb
    kb.close()
    engine.dispose()


@pytest.fixture
def with_kb(env: Env, help_center: KnowledgeBase) -> Iterator[Env]:
    deps.configure(dataclasses.replace(env.deps, kb=help_center))
    yield env
    deps.configure(env.deps)


@pytest.mark.parametrize(
    ("text", "question"),
    [
        ("how do i turn on 2 step verification for my account", True),
        ("what do I get with brightwave plus? is it worth it", True),
        ("ok and does it cost anything", True),
        ("the cam keeps going offline?", True),
        ("I want to cancel my plus", False),
        ("please cancel my plus, how long does it take?", False),
        ("can you check where my order is", False),
        ("delete my account", False),
    ],
)
def test_a_question_is_told_from_a_request(text: str, question: bool) -> None:
    assert is_question(text) is question


def hit(doc_id: str, similarity: float, category: str = "account") -> SearchHit:
    return SearchHit(
        doc_id=doc_id, chunk_id=f"{doc_id}#0", title=doc_id, url="", heading_path="",
        text="", score=similarity, category=category, product="all", similarity=similarity,
        locale="en", tier=1, line=1,
    )  # fmt: skip


def test_the_help_center_wins_only_with_a_confident_other_article_clearly_ahead() -> None:
    own = ("reset-password",)
    assert decide([hit("two-step-verification", 0.8), hit("reset-password", 0.6)], 0.54, own)
    # its own article first, a close call, or nothing confident: the flow runs
    assert not decide([hit("reset-password", 0.8), hit("two-step-verification", 0.7)], 0.54, own)
    assert not decide([hit("two-step-verification", 0.62), hit("reset-password", 0.6)], 0.54, own)
    assert not decide([hit("two-step-verification", 0.5)], 0.54, own)
    assert not decide([], 0.54, own)
    # a whole help-center category can be a flow's own
    assert not decide([hit("compatibility-buds-2", 0.9, "devices")], 0.5, ("devices",))


async def test_a_how_to_question_is_answered_from_the_help_center_not_the_flow(
    with_kb: Env,
) -> None:
    text = "how do i turn on 2 step verification for my account"
    current = form_tracker(
        "account_activation_form", "activation", text, "account_activation",
        slots={"flow_category": "order_status"},
    )  # fmt: skip
    events, messages = await run_action(ValidateAccountActivationForm(), current)
    assert events == [
        SlotSet("flow_failures", 0.0),
        SlotSet("flow_category", None),
        SlotSet("flow_failed", True),
        SlotSet("handoff_reason", "help_center_question"),
        SlotSet("requested_slot", None),
    ]
    assert messages == []
    slots = {"flow_failed": True, "handoff_reason": "help_center_question"}
    done, said = await run_action(ActionResendActivation(), tracker(text, slots=slots))
    assert done == [
        SlotSet("handoff_reason", None),
        SlotSet("flow_failed", None),
        SlotSet("flow_failures", 0.0),
        FollowupAction("action_answer_from_kb"),
    ]
    assert said == []
    assert await with_kb.deps.outcomes.list(SENDER) == []  # nothing was attempted


@pytest.mark.parametrize(
    ("form", "validator", "text", "intent"),
    [
        ("account_activation_form", ValidateAccountActivationForm(),
         "I need to activate my account", "account_activation"),
        ("cancel_subscription_form", ValidateCancelSubscriptionForm(),
         "how do I cancel my plus subscription", "cancel_subscription"),
        ("cancel_subscription_form", ValidateCancelSubscriptionForm(),
         "please stop my subscription, I don't need the cloud video anymore",
         "cancel_subscription"),
    ],
)  # fmt: skip
async def test_a_request_or_a_question_about_the_flows_own_task_starts_the_flow(
    with_kb: Env, form: str, validator: Any, text: str, intent: str
) -> None:
    events, messages = await run_action(validator, form_tracker(form, "activation", text, intent))
    assert SlotSet("flow_failed", True) not in events
    assert events[-1] == SlotSet("requested_slot", "verify_email")
    assert messages[-1]["text"].endswith(ASK_EMAIL) or "email" in messages[-1]["text"]


async def test_a_question_next_to_the_flow_in_its_middle_is_answered_then_asked_again(
    with_kb: Env,
) -> None:
    """ "wait, what happens to my clips when Plus ends?" reads as the flow's
    own intent again; it used to get the email question repeated."""
    text = "wait, before that - what happens to my camera clips when plus ends?"
    started = [user_event("I want to cancel my plus", "cancel_subscription")]
    current = form_tracker(
        "cancel_subscription_form", "answer", text, "cancel_subscription",
        requested="verify_email", history=started,
    )  # fmt: skip
    events, messages = await run_action(ValidateCancelSubscriptionForm(), current)
    assert events[-1] == SlotSet("requested_slot", "verify_email")
    assert [m.get("custom", {}).get("doc_id") for m in messages[:-1]] == ["cloud-video-history"]
    assert "**24 hours**" in messages[0]["text"]  # how long clips stay without Plus
    assert "email" in messages[-1]["text"]
    # the same flow asked for again, no question: just asked again
    again = form_tracker(
        "cancel_subscription_form", "answer", "I want to cancel plus", "cancel_subscription",
        requested="verify_email",
    )  # fmt: skip
    _, said = await run_action(ValidateCancelSubscriptionForm(), again)
    assert len(said) == 1 and "email" in said[0]["text"]


async def test_out_of_scope_in_a_flow_is_looked_up_when_it_is_a_question(with_kb: Env) -> None:
    in_flow = [{"event": "active_loop", "name": "cancel_subscription_form"}]
    question = tracker(
        "wait, do I have to pay a fee if I cancel before the year ends?", "out_of_scope",
        history=in_flow, active_loop="cancel_subscription_form",
    )  # fmt: skip
    assert await run_action(ActionOutOfScope(), question) == (
        [FollowupAction("action_answer_from_kb")],
        [],
    )
    remark = tracker(
        "my cat walked on the keyboard", "out_of_scope",
        history=in_flow, active_loop="cancel_subscription_form",
    )  # fmt: skip
    assert await run_action(ActionOutOfScope(), remark) == ([], [{"text": OUT_OF_SCOPE}])


def test_every_flows_own_article_exists_in_the_help_center() -> None:
    ids = {path.stem for path in HELP_CENTER.rglob("*.md")} | {
        path.name for path in HELP_CENTER.iterdir()
    }
    own = {article for info in FLOWS.values() for article in info.articles}
    assert own and own <= ids
