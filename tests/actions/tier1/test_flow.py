"""What every flow shares: one flow interrupting another and the first
resuming, stopping, an identity from an earlier session, offering a person."""

from __future__ import annotations

from rasa_sdk.events import ActiveLoop, FollowupAction, SlotSet

from actions.backends import Outcome
from actions.tier1.account import ActionDeleteAccount, ValidateDeleteAccountForm
from actions.tier1.compatibility import ActionCompatibility, ValidateCompatibilityForm
from actions.tier1.escalation import ActionDeclineHuman, ActionEscalate, ActionOfferHuman
from actions.tier1.orders import ValidateOrderStatusForm
from actions.tier1.stop import ActionCancelFlow
from actions.tier1.verification import ASK_EMAIL, ASK_ORDER
from tests.actions.tier1.conftest import Env
from tests.actions.tier1.helpers import EMMA, SENDER, form_tracker, run_action, tracker

CODE_BUTTON = [{"title": "Email me a code", "payload": "/request_code"}]
ORDER_STATUS_IN_PROGRESS = [
    {"event": "active_loop", "name": "order_status_form"},
    {"event": "slot", "name": "requested_slot", "value": "verify_order"},
]
SAVED = {"form": "order_status_form", "slots": {"verify_email": "emma.devries@example.com"}}


async def outcomes(env: Env) -> list[tuple[str, Outcome, str | None]]:
    return [(o.category, o.outcome, o.detail) for o in await env.deps.outcomes.list(SENDER)]


async def test_a_flow_started_in_the_middle_of_another_saves_it(env: Env) -> None:
    current = form_tracker(
        "compatibility_form", "activation", "does the hub mini work with alexa", "compatibility",
        entities={"product": "hub-mini", "platform": "alexa"},
        history=ORDER_STATUS_IN_PROGRESS,
        slots={"verify_email": "emma.devries@example.com", "flow_category": "order_status"},
    )  # fmt: skip
    events, messages = await run_action(ValidateCompatibilityForm(), current)
    assert events == [
        SlotSet("flow_failures", 0.0),
        SlotSet("flow_category", "compatibility"),
        SlotSet("interrupted_flows", [SAVED]),
        SlotSet("compat_product", "hub-mini"),
        SlotSet("compat_platform", "alexa"),
        SlotSet("requested_slot", None),
    ]
    assert messages == []


async def test_when_the_second_flow_is_done_the_first_resumes_where_it_was(env: Env) -> None:
    slots = {"compat_product": "hub-mini", "compat_platform": "alexa", "interrupted_flows": [SAVED]}
    events, messages = await run_action(ActionCompatibility(), tracker("", slots=slots))
    assert events == [
        SlotSet("compat_product", None),
        SlotSet("compat_platform", None),
        SlotSet("flow_failures", 0.0),
        SlotSet("verify_email", "emma.devries@example.com"),
        SlotSet("interrupted_flows", []),
        SlotSet("resuming_flow", "order_status_form"),
        FollowupAction("order_status_form"),
    ]
    assert messages[-1] == {"text": "Now, back to your order."}
    current = form_tracker(
        "order_status_form", "activation", "does the hub mini work with alexa", "compatibility",
        slots={"verify_email": "emma.devries@example.com", "resuming_flow": "order_status_form"},
    )  # fmt: skip
    assert await run_action(ValidateOrderStatusForm(), current) == (
        [
            SlotSet("flow_failures", 0.0),
            SlotSet("flow_category", "order_status"),
            SlotSet("resuming_flow", None),
            SlotSet("requested_slot", "verify_order"),
        ],
        [{"text": ASK_ORDER, "buttons": CODE_BUTTON}],
    )


async def test_a_fresh_start_forgets_leftovers_and_an_identity_of_an_earlier_session(
    env: Env,
) -> None:
    current = form_tracker(
        "order_status_form", "activation", "where is my order", "order_status",
        history=[{"event": "action", "name": "action_session_start"}, {"event": "session_started"}],
        slots={**EMMA, "verify_email": "old@example.com", "order_number": "BW-104233",
               "interrupted_flows": [SAVED]},
    )  # fmt: skip
    events, messages = await run_action(ValidateOrderStatusForm(), current)
    assert events == [
        SlotSet("flow_failures", 0.0),
        SlotSet("flow_category", "order_status"),
        SlotSet("order_number", None),
        SlotSet("interrupted_flows", []),
        SlotSet("verify_email", None),
        SlotSet("verified_email", None),
        SlotSet("customer_id", None),
        SlotSet("customer_name", None),
        SlotSet("requested_slot", "verify_email"),
    ]
    assert messages == [{"text": ASK_EMAIL}]


async def test_stop_ends_the_flow_and_the_one_it_interrupted(env: Env) -> None:
    current = tracker(
        "stop", "stop", active_loop="compatibility_form",
        slots={"compat_product": "hub-mini", "verify_email": "emma.devries@example.com",
               "interrupted_flows": [SAVED], "requested_slot": "compat_platform"},
    )  # fmt: skip
    events, messages = await run_action(ActionCancelFlow(), current)
    assert events == [
        ActiveLoop(None),
        SlotSet("requested_slot", None),
        SlotSet("compat_product", None),
        SlotSet("verify_email", None),
        SlotSet("interrupted_flows", []),
    ]
    assert messages == [
        {
            "text": "OK, I've stopped there; nothing has been changed. Is there anything else I "
            "can help with?"
        }
    ]
    assert sorted(await outcomes(env)) == [  # recorded at the same instant
        ("compatibility", Outcome.ABANDONED, "stopped"),
        ("order_status", Outcome.ABANDONED, "stopped"),
    ]


async def test_stop_with_nothing_in_progress_just_acknowledges(env: Env) -> None:
    assert await run_action(ActionCancelFlow(), tracker("stop", "stop")) == (
        [],
        [{"text": "OK. Is there anything else I can help you with?"}],
    )
    assert await outcomes(env) == []


async def test_the_offered_person_is_escalated_or_declined_with_its_outcome(env: Env) -> None:
    slots = {"handoff_reason": "form_failed", "flow_category": "password_reset"}
    assert await run_action(ActionOfferHuman(), tracker("", slots=slots)) == (
        [],
        [
            {
                "text": "Would you like me to connect you with a person from our support team?",
                "buttons": [
                    {"title": "Yes, connect me", "payload": "/affirm"},
                    {"title": "No, thanks", "payload": "/deny"},
                ],
            }
        ],
    )
    assert await run_action(ActionEscalate(), tracker("yes", "affirm", slots=slots)) == (
        [SlotSet("handoff_reason", "form_failed"), FollowupAction("action_handoff")],
        [],
    )
    env.clock.advance(seconds=1)
    assert await run_action(ActionDeclineHuman(), tracker("no", "deny", slots=slots)) == (
        [SlotSet("handoff_reason", None)],
        [{"text": "OK. Is there anything else I can help you with?"}],
    )
    assert await outcomes(env) == [  # action_handoff records "escalated"
        ("password_reset", Outcome.ABANDONED, "declined:form_failed"),
    ]


async def test_declining_the_offer_after_a_late_order_records_nothing_more(env: Env) -> None:
    slots = {"handoff_reason": "tier2_topic", "flow_category": "order_status"}
    events, messages = await run_action(ActionDeclineHuman(), tracker("no", "deny", slots=slots))
    assert events == [SlotSet("handoff_reason", None)]
    assert messages == [{"text": "OK. Is there anything else I can help you with?"}]
    assert await outcomes(env) == []


async def test_a_request_only_a_person_can_handle_hands_over_before_any_question(
    env: Env,
) -> None:
    text = "Under the GDPR I request a copy of all personal data you hold about me"
    current = form_tracker("delete_account_form", "activation", text, "delete_account")
    events, messages = await run_action(ValidateDeleteAccountForm(), current)
    assert events == [
        SlotSet("flow_failures", 0.0),
        SlotSet("flow_category", "delete_account"),
        SlotSet("flow_failed", True),
        SlotSet("handoff_reason", "triage"),
        SlotSet("requested_slot", None),
    ]
    assert messages == []
    slots = {"flow_failed": True, "handoff_reason": "triage", "flow_category": "delete_account"}
    done, said = await run_action(ActionDeleteAccount(), tracker(text, slots=slots))
    assert done == [
        SlotSet("flow_failed", None),
        SlotSet("flow_failures", 0.0),
        FollowupAction("action_handoff"),
    ]
    assert said == []
    assert await outcomes(env) == []  # action_handoff records "escalated"


async def test_an_explicit_request_for_a_person_hands_over_before_any_question(
    env: Env,
) -> None:
    """Failure class 4 of issue 23: "talk to someone about my order" started
    the order-status flow's identity check instead of handing over."""
    text = "Can I talk to someone about my order BW-104233? It's all wrong"
    current = form_tracker("order_status_form", "activation", text, "order_status")
    events, messages = await run_action(ValidateOrderStatusForm(), current)
    assert events == [
        SlotSet("flow_failures", 0.0),
        SlotSet("flow_category", "order_status"),
        SlotSet("flow_failed", True),
        SlotSet("handoff_reason", "explicit_request"),
        SlotSet("requested_slot", None),
    ]
    assert messages == []
