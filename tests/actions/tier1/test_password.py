"""Password reset after verification: a link by email, Tier 2 for locked or
suspended accounts."""

from __future__ import annotations

import re

import sqlalchemy as sa
from rasa_sdk.events import FollowupAction, SlotSet

from actions.backends import AccountRequest, AccountRequestKind, ConversationOutcome, Outcome
from actions.backends.demo_data import password_resets, token_hash
from actions.tier1.password import ActionSendPasswordReset
from tests.actions.backends.conftest import NOW, RESET_URL_BASE
from tests.actions.tier1.conftest import Env
from tests.actions.tier1.helpers import SENDER, body, read_outbox, run_action, verified_tracker


async def outcomes(env: Env) -> list[tuple[str, Outcome, str | None]]:
    rows = await env.deps.outcomes.list(SENDER)
    return [(row.category, row.outcome, row.detail) for row in rows]


async def test_a_verified_customer_gets_a_reset_link_by_email(env_db: Env) -> None:
    env = env_db
    events, messages = await run_action(ActionSendPasswordReset(), verified_tracker("C-1001"))
    assert events == [SlotSet("flow_failures", 0.0)]
    assert messages == [
        {
            "text": "Done! I've sent a password reset link to e***s@example.com. It works for 60 "
            "minutes. Open it, choose a new password, and you can sign in again (also in the "
            "app). Nothing there? Check your spam folder, or ask me for a new link."
        }
    ]
    [mail] = read_outbox(env.outbox)
    assert (mail["To"], mail["Subject"]) == (
        "emma.devries@example.com",
        "Reset your Brightwave password",
    )
    text = body(mail)
    link = re.search(r"https://\S+", text)
    assert link is not None and link.group(0).startswith(RESET_URL_BASE)
    token = link.group(0).removeprefix(RESET_URL_BASE)
    assert text == (
        "Hi Emma,\n\nYou asked our chat assistant for a new password. Choose one here:\n\n"
        f"{RESET_URL_BASE}{token}\n\n"
        "The link works until 10:30 UTC (60 minutes) and stops working when you ask for a "
        "new one.\n\nIf you didn't ask for this, ignore this email: your password stays the "
        "same.\n\nBrightwave\n"
    )
    with env.demo.engine().connect() as connection:
        stored = connection.execute(sa.select(password_resets.c.token_hash)).scalars().all()
    assert stored == [token_hash(token)]
    [request] = await env.deps.account_requests.list(SENDER)
    assert request == AccountRequest(
        SENDER, "C-1001", AccountRequestKind.PASSWORD_RESET, NOW, None, None, request.id
    )
    [outcome] = await env.deps.outcomes.list(SENDER)
    assert outcome == ConversationOutcome(
        SENDER, "password_reset", Outcome.RESOLVED_BY_BOT, NOW, None, outcome.id
    )


async def test_locked_and_suspended_accounts_go_to_the_accounts_team(env: Env) -> None:
    replies = {
        "C-1007": "Your account is locked at the moment, so I'm passing you to our accounts "
        "team: they can check what happened and help you back in.",
        "C-1008": "Your account is suspended at the moment, so I'm passing you to our accounts "
        "team: only they can help with a suspended account.",
    }
    for customer, reply in replies.items():
        events, messages = await run_action(ActionSendPasswordReset(), verified_tracker(customer))
        assert events == [
            SlotSet("handoff_reason", "tier2_topic"),
            SlotSet("flow_failures", 0.0),
            FollowupAction("action_handoff"),
        ]
        assert messages == [{"text": reply}]
        env.clock.advance(seconds=1)
    assert read_outbox(env.outbox) == []
    assert await outcomes(env) == []  # action_handoff records "escalated"


async def test_an_account_not_activated_yet_has_no_password_to_reset(env: Env) -> None:
    events, messages = await run_action(ActionSendPasswordReset(), verified_tracker("C-1005"))
    assert events == [SlotSet("flow_failures", 0.0)]
    assert messages == [
        {
            "text": "Your account isn't activated yet, so there's no password to reset. Activate "
            "it with the link in the activation email; I can send you a new one.",
            "buttons": [{"title": "Send a new activation email", "payload": "/account_activation"}],
        }
    ]
    assert await outcomes(env) == [
        ("password_reset", Outcome.RESOLVED_BY_BOT, "account_not_activated")
    ]


async def test_a_closed_account_is_explained_and_a_person_offered(env: Env) -> None:
    events, messages = await run_action(ActionSendPasswordReset(), verified_tracker("C-1009"))
    assert events == [
        SlotSet("handoff_reason", "tier2_topic"),
        SlotSet("flow_failures", 0.0),
        FollowupAction("action_offer_human"),
    ]
    assert messages == [
        {
            "text": "Your account is closed because you asked us to delete it, so its password "
            "can't be reset here. Its data will be deleted for good on Monday 30 March. If "
            "you'd like to keep your account, our accounts team can help."
        }
    ]


async def test_a_form_that_gave_up_offers_a_person_and_records_nothing(env: Env) -> None:
    current = verified_tracker(
        "C-1001", slots={"flow_failed": True, "handoff_reason": "form_failed", "flow_failures": 3.0}
    )
    events, messages = await run_action(ActionSendPasswordReset(), current)
    assert events == [
        SlotSet("flow_failed", None),
        SlotSet("flow_failures", 0.0),
        FollowupAction("action_offer_human"),
    ]
    assert messages == []
    assert await outcomes(env) == []
    assert read_outbox(env.outbox) == []


async def test_a_system_that_does_not_answer_gets_an_apology_and_the_offer(
    system_down: Env,
) -> None:
    events, messages = await run_action(ActionSendPasswordReset(), verified_tracker("C-1001"))
    assert events == [
        SlotSet("handoff_reason", "backend_error"),
        SlotSet("flow_failures", 0.0),
        FollowupAction("action_offer_human"),
    ]
    assert messages == [
        {
            "text": "Sorry, I can't reach the system I need for this right now, so I can't "
            "finish it here."
        }
    ]
