"""Account: resend the activation email (non-revealing without verification),
the account's status, deletion with an explicit yes and a 30-day grace period."""

from __future__ import annotations

from datetime import date
from typing import Any

from rasa_sdk.events import FollowupAction, SlotSet

from actions.backends import AccountRequest, AccountRequestKind, AccountStatus, Outcome
from actions.tier1.account import (
    DELETION_EXPLAINED,
    ActionAccountStatus,
    ActionDeleteAccount,
    ActionResendActivation,
    ValidateAccountActivationForm,
    ValidateDeleteAccountForm,
)
from tests.actions.backends.conftest import NOW
from tests.actions.tier1.conftest import Env
from tests.actions.tier1.helpers import (
    SENDER,
    form_tracker,
    person,
    read_outbox,
    run_action,
    tracker,
    verified_history,
    verified_tracker,
)


async def outcomes(env: Env) -> list[tuple[str, Outcome, str | None]]:
    return [(o.category, o.outcome, o.detail) for o in await env.deps.outcomes.list(SENDER)]


# --- activation ------------------------------------------------------------


async def test_activation_asks_only_for_the_email_address(env: Env) -> None:
    current = form_tracker(
        "account_activation_form", "activation", "activate my account", "account_activation"
    )
    assert await run_action(ValidateAccountActivationForm(), current) == (
        [
            SlotSet("flow_failures", 0.0),
            SlotSet("flow_category", "account_activation"),
            SlotSet("requested_slot", "verify_email"),
        ],
        [{"text": "What's the email address you signed up with?"}],
    )
    current = form_tracker(
        "account_activation_form", "answer", "aoife.byrne@example.org BW-104344",
        requested="verify_email",
    )  # fmt: skip
    assert await run_action(ValidateAccountActivationForm(), current) == (
        [
            SlotSet("verify_email", "aoife.byrne@example.org"),
            SlotSet("flow_failures", 0.0),
            SlotSet("requested_slot", None),
        ],
        [],
    )


async def test_the_activation_reply_is_the_same_for_any_address(env: Env) -> None:
    replies = []
    for email in ["aoife.byrne@example.org", "emma.devries@example.com", "nobody@example.com"]:
        events, messages = await run_action(
            ActionResendActivation(), tracker("", slots={"verify_email": email})
        )
        assert events == [SlotSet("verify_email", None), SlotSet("flow_failures", 0.0)]
        replies.append(messages[0]["text"].replace(email, "EMAIL"))
    reply = (
        "If EMAIL belongs to a Brightwave account that still needs activating, I've just sent a "
        "new activation link to it. The link works for 48 hours. Nothing after a few minutes? "
        "Check your spam folder. If your account is already active, you can simply sign in (or "
        "reset your password if you've forgotten it)."
    )
    assert replies == [reply] * 3
    # Only the account waiting for activation got a mail.
    assert [(m["To"], m["Subject"]) for m in read_outbox(env.outbox)] == [
        ("aoife.byrne@example.org", "Activate your Brightwave account")
    ]
    [request] = await env.deps.account_requests.list(SENDER)
    assert (request.customer_id, request.kind) == ("C-1005", AccountRequestKind.RESEND_ACTIVATION)


async def test_a_verified_customer_hears_exactly_what_happened(env: Env) -> None:
    events, messages = await run_action(ActionResendActivation(), verified_tracker("C-1006"))
    assert messages == [
        {
            "text": "I've sent a new activation link to d***n@example.net. It works for 48 hours. "
            "Nothing after a few minutes? Check your spam folder."
        }
    ]
    events, messages = await run_action(ActionResendActivation(), verified_tracker("C-1001"))
    assert events == [SlotSet("flow_failures", 0.0)]
    assert messages == [{"text": "Your account is already active, so you can simply sign in."}]


# --- status ------------------------------------------------------------------


async def test_each_status_is_explained(env: Env) -> None:
    expected = {
        "C-1001": (
            "Your account (e***s@example.com) is active: everything works as it should. Trouble "
            "signing in? I can send you a password reset link.",
            [{"title": "Reset my password", "payload": "/password_reset"}],
        ),
        "C-1005": (
            "Your account isn't activated yet: open the link in the activation email we sent "
            "you. I can send you a new one.",
            [{"title": "Send a new activation email", "payload": "/account_activation"}],
        ),
        "C-1007": (
            "Your account is temporarily locked after too many failed sign-in attempts. The lock "
            "lifts by itself after 30 minutes, and a password reset unlocks it straight away. "
            "More: https://help.brightwave.example/articles/account-locked",
            [{"title": "Reset my password", "payload": "/password_reset"}],
        ),
        "C-1009": (
            "Your account is closed because you asked us to delete it. Its data will be deleted "
            "for good on Monday 30 March; until then you can sign in and choose Keep my account. "
            "More: https://help.brightwave.example/articles/delete-account",
            None,
        ),
    }
    for customer, (text, buttons) in expected.items():
        events, messages = await run_action(ActionAccountStatus(), verified_tracker(customer))
        assert events == [SlotSet("flow_failures", 0.0)]
        assert messages == [{"text": text, **({"buttons": buttons} if buttons else {})}]


async def test_a_suspended_account_is_offered_a_person(env: Env) -> None:
    events, messages = await run_action(ActionAccountStatus(), verified_tracker("C-1008"))
    assert events == [
        SlotSet("handoff_reason", "tier2_topic"),
        SlotSet("flow_failures", 0.0),
        FollowupAction("action_offer_human"),
    ]
    assert messages == [
        {
            "text": "Your account is suspended, almost always because of a payment issue; we've "
            "sent you an email explaining why. Only our support team can lift a suspension. "
            "More: https://help.brightwave.example/articles/account-suspended"
        }
    ]
    assert await outcomes(env) == [("account_status", Outcome.RESOLVED_BY_BOT, "suspended")]


# --- deletion ------------------------------------------------------------------

JONAS = person("jonas.lindqvist@example.org", "C-1011", "Jonas Lindqvist")


async def delete_form(*args: Any, **kwargs: Any) -> tuple[list[Any], list[Any]]:
    current = form_tracker(
        "delete_account_form", *args, slots={**JONAS, **kwargs.pop("slots", {})},
        history=verified_history(JONAS), **kwargs,
    )  # fmt: skip
    return await run_action(ValidateDeleteAccountForm(), current)


async def test_deletion_is_explained_and_needs_an_explicit_yes(env_db: Env) -> None:
    env = env_db
    events, messages = await delete_form("activation", "delete my account", "delete_account")
    assert events[-1] == SlotSet("requested_slot", "flow_confirmed")
    assert messages == [
        {
            "text": DELETION_EXPLAINED,
            "buttons": [
                {"title": "Yes, delete my account", "payload": "/affirm"},
                {"title": "No, keep it", "payload": "/deny"},
            ],
        }
    ]
    events, messages = await delete_form(
        "answer", "hmm what?", "nlu_fallback", requested="flow_confirmed"
    )
    assert events == [SlotSet("flow_failures", 1.0), SlotSet("requested_slot", "flow_confirmed")]
    assert messages[0] == {"text": "Please answer yes (delete my account) or no (keep it)."}
    events, messages = await delete_form("answer", "yes", "affirm", requested="flow_confirmed")
    assert events == [
        SlotSet("flow_confirmed", True),
        SlotSet("flow_failures", 0.0),
        SlotSet("requested_slot", None),
    ]
    current = verified_tracker("C-1011", slots={"flow_confirmed": True})
    events, messages = await run_action(ActionDeleteAccount(), current)
    assert events == [SlotSet("flow_confirmed", None), SlotSet("flow_failures", 0.0)]
    [request] = await env.deps.account_requests.list(SENDER)
    assert request == AccountRequest(
        SENDER, "C-1011", AccountRequestKind.DELETE_ACCOUNT, NOW, request.reference,
        date(2026, 4, 9), request.id,
    )  # fmt: skip
    assert request.reference is not None and request.reference.startswith("DEL-")
    assert messages == [
        {
            "text": "Done: your account is closed and will be deleted for good on Thursday 9 "
            f"April (request {request.reference}). Changed your mind? Until then, sign in and "
            "choose Keep my account. You've been signed out everywhere."
        }
    ]
    state = await env.demo.account_status("C-1011")
    assert (state.status, state.deletion_effective_on) == (AccountStatus.CLOSED, date(2026, 4, 9))
    assert await outcomes(env) == [("delete_account", Outcome.RESOLVED_BY_BOT, None)]


async def test_open_orders_prevent_deletion_without_asking(env: Env) -> None:
    emma = person("emma.devries@example.com", "C-1001", "Emma de Vries")
    current = form_tracker(
        "delete_account_form", "activation", "delete my account", "delete_account",
        slots=emma, history=verified_history(emma),
    )  # fmt: skip
    events, messages = await run_action(ValidateDeleteAccountForm(), current)
    assert (events[-1], messages) == (SlotSet("requested_slot", None), [])
    events, messages = await run_action(ActionDeleteAccount(), verified_tracker("C-1001"))
    assert messages == [
        {
            "text": "You can't delete your account while an order is still on its way or being "
            "prepared (BW-104390, BW-104233). Once it has been delivered, ask me again."
        }
    ]
    assert (await env.demo.account_status("C-1001")).status is AccountStatus.ACTIVE
    assert await outcomes(env) == [
        ("delete_account", Outcome.RESOLVED_BY_BOT, "not_allowed:open_orders")
    ]


async def test_a_no_keeps_the_account_and_app_store_plus_is_mentioned_after_a_yes(env: Env) -> None:
    events, messages = await run_action(
        ActionDeleteAccount(), verified_tracker("C-1011", slots={"flow_confirmed": False})
    )
    assert messages == [{"text": "OK, your account stays as it is."}]
    assert (await env.demo.account_status("C-1011")).status is AccountStatus.ACTIVE
    env.clock.advance(seconds=1)
    events, messages = await run_action(
        ActionDeleteAccount(), verified_tracker("C-1007", slots={"flow_confirmed": True})
    )
    assert events == [SlotSet("flow_confirmed", None), SlotSet("flow_failures", 0.0)]
    assert messages[1] == {
        "text": "Your Brightwave Plus is paid through the App Store: cancel it there, because "
        "deleting your account doesn't stop those payments. How: "
        "https://help.brightwave.example/articles/cancel-brightwave-plus"
    }
    assert await outcomes(env) == [
        ("delete_account", Outcome.ABANDONED, "declined"),
        ("delete_account", Outcome.RESOLVED_BY_BOT, None),
    ]
