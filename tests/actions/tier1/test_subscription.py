"""Cancelling Brightwave Plus: the end date first, an explicit yes, and the
App Store / Google Play case explained with the article."""

from __future__ import annotations

from datetime import date

from rasa_sdk.events import SlotSet

from actions.backends import AccountRequest, AccountRequestKind, Outcome, SubscriptionStatus
from actions.tier1.subscription import ActionCancelSubscription, ValidateCancelSubscriptionForm
from tests.actions.backends.conftest import NOW
from tests.actions.tier1.conftest import Env
from tests.actions.tier1.helpers import (
    EMMA,
    SENDER,
    form_tracker,
    run_action,
    verified_history,
    verified_tracker,
)

CONFIRM_BUTTONS = [
    {"title": "Yes, cancel Plus", "payload": "/affirm"},
    {"title": "No, keep it", "payload": "/deny"},
]


async def outcomes(env: Env) -> list[tuple[str, Outcome, str | None]]:
    return [(o.category, o.outcome, o.detail) for o in await env.deps.outcomes.list(SENDER)]


async def test_plus_is_cancelled_at_the_end_of_the_paid_period_after_a_yes(env_db: Env) -> None:
    env = env_db
    current = form_tracker(
        "cancel_subscription_form", "activation", "cancel my subscription", "cancel_subscription",
        slots=EMMA, history=verified_history(EMMA),
    )  # fmt: skip
    events, messages = await run_action(ValidateCancelSubscriptionForm(), current)
    assert events[-1] == SlotSet("requested_slot", "flow_confirmed")
    assert messages == [
        {
            "text": "Your Brightwave Plus monthly plan (4.99 EUR a month) renews on Sunday 22 "
            "March. If you cancel, you keep all Plus features until then and won't be charged "
            "again. Camera clips older than 24 hours are deleted when Plus ends. Shall I cancel "
            "it?",
            "buttons": CONFIRM_BUTTONS,
        }
    ]
    events, messages = await run_action(
        ActionCancelSubscription(), verified_tracker("C-1001", slots={"flow_confirmed": True})
    )
    assert events == [SlotSet("flow_confirmed", None), SlotSet("flow_failures", 0.0)]
    [request] = await env.deps.account_requests.list(SENDER)
    assert request == AccountRequest(
        SENDER, "C-1001", AccountRequestKind.CANCEL_SUBSCRIPTION, NOW, request.reference,
        date(2026, 3, 22), request.id,
    )  # fmt: skip
    assert messages == [
        {
            "text": f"Done: Brightwave Plus is cancelled (confirmation {request.reference}). You "
            "keep all Plus features until Sunday 22 March and won't be charged again. Changed "
            "your mind? Choose Resume subscription under Account > Subscription before then."
        }
    ]
    plus = await env.demo.subscription("C-1001")
    assert plus is not None and plus.status is SubscriptionStatus.CANCELLED
    assert await outcomes(env) == [("cancel_subscription", Outcome.RESOLVED_BY_BOT, None)]


async def test_a_trial_says_when_it_ends(env: Env) -> None:
    elena = {"verified_email": "elena.garcia@example.com", "customer_id": "C-1010",
             "customer_name": "Elena García"}  # fmt: skip
    current = form_tracker(
        "cancel_subscription_form", "activation", "cancel plus", "cancel_subscription",
        slots=elena, history=verified_history(elena),
    )  # fmt: skip
    _, messages = await run_action(ValidateCancelSubscriptionForm(), current)
    assert messages == [
        {
            "text": "Your free Brightwave Plus trial ends on Tuesday 24 March. If you cancel, you "
            "keep Plus until then and won't be charged. Camera clips older than 24 hours are "
            "deleted when Plus ends. Shall I cancel it?",
            "buttons": CONFIRM_BUTTONS,
        }
    ]


async def test_subscriptions_that_cannot_be_cancelled_here_are_explained(env: Env) -> None:
    expected = {
        "C-1003": (
            "Your Brightwave Plus is paid through Google Play, so only they can cancel it: open "
            "your subscriptions there and choose Brightwave. Step by step: "
            "https://help.brightwave.example/articles/cancel-brightwave-plus",
            (Outcome.SELF_SERVICE_ARTICLE, "billed_by:google"),
        ),
        "C-1004": (
            "Your Brightwave Plus is already cancelled: it ends on Thursday 19 March and won't "
            "renew.",
            (Outcome.RESOLVED_BY_BOT, "not_cancellable:cancelled"),
        ),
        "C-1012": (
            "Your Brightwave Plus has already ended (Wednesday 14 January), so there's nothing "
            "to cancel.",
            (Outcome.RESOLVED_BY_BOT, "not_cancellable:expired"),
        ),
        "C-1005": (
            "You don't have Brightwave Plus on this account, so there's nothing to cancel.",
            (Outcome.RESOLVED_BY_BOT, "not_cancellable:none"),
        ),
    }
    for customer, (text, (outcome, detail)) in expected.items():
        events, messages = await run_action(ActionCancelSubscription(), verified_tracker(customer))
        assert (events, messages) == ([SlotSet("flow_failures", 0.0)], [{"text": text}])
        [*_, last] = await env.deps.outcomes.list(SENDER)
        assert (last.outcome, last.detail) == (outcome, detail)
        env.clock.advance(seconds=1)


async def test_a_no_keeps_plus(env: Env) -> None:
    _, messages = await run_action(
        ActionCancelSubscription(), verified_tracker("C-1001", slots={"flow_confirmed": False})
    )
    assert messages == [{"text": "OK, your Brightwave Plus stays as it is."}]
    plus = await env.demo.subscription("C-1001")
    assert plus is not None and plus.status is SubscriptionStatus.ACTIVE
    assert await outcomes(env) == [("cancel_subscription", Outcome.ABANDONED, "declined")]
