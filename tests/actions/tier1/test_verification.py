"""Verification inside a form (here the password reset's): email + order
number, or a one-time code from the outbox; replies never reveal whether an
email address or order exists."""

from __future__ import annotations

import re
from typing import Any

from rasa_sdk.events import SlotSet
from rasa_sdk.executor import CollectingDispatcher

from actions.tier1.password import ValidatePasswordResetForm
from actions.tier1.verification import ASK_CODE, ASK_EMAIL, ASK_ORDER, NO_MATCH
from tests.actions.tier1.conftest import Env
from tests.actions.tier1.helpers import EMMA, body, form_tracker, read_outbox, said

FORM = "password_reset_form"
CODE_BUTTON = [{"title": "Email me a code", "payload": "/request_code"}]
NEW_CODE_BUTTON = [{"title": "Email me a new code", "payload": "/request_code"}]
EMMA_EMAIL = "emma.devries@example.com"
VERIFIED = [
    SlotSet("verified_email", EMMA["verified_email"]),
    SlotSet("customer_id", EMMA["customer_id"]),
    SlotSet("customer_name", EMMA["customer_name"]),
]
CONFIRMED = {"text": "Thanks, Emma, that's confirmed."}


async def validate(*args: Any, **kwargs: Any) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    dispatcher = CollectingDispatcher()
    events = await ValidatePasswordResetForm().run(
        dispatcher, form_tracker(FORM, *args, **kwargs), {}
    )
    return events, said(dispatcher)


async def test_the_form_starts_by_asking_for_the_email_address(env: Env) -> None:
    assert await validate("activation", "I forgot my password", "password_reset") == (
        [
            SlotSet("flow_failures", 0.0),
            SlotSet("flow_category", "password_reset"),
            SlotSet("requested_slot", "verify_email"),
        ],
        [{"text": ASK_EMAIL}],
    )


async def test_email_then_matching_order_number_verifies(env: Env) -> None:
    events, messages = await validate(
        "answer", "emma.devries@example.com", requested="verify_email"
    )
    assert (events, messages) == (
        [
            SlotSet("verify_email", EMMA_EMAIL),
            SlotSet("flow_failures", 0.0),
            SlotSet("requested_slot", "verify_order"),
        ],
        [{"text": ASK_ORDER, "buttons": CODE_BUTTON}],
    )
    events, messages = await validate(
        "answer", "it's bw104233", requested="verify_order", slots={"verify_email": EMMA_EMAIL}
    )
    assert (events, messages) == (
        [
            SlotSet("verify_order", None),
            *VERIFIED,
            SlotSet("verify_email", None),
            SlotSet("flow_failures", 0.0),
            SlotSet("requested_slot", None),
        ],
        [CONFIRMED],
    )


async def test_email_and_order_in_the_first_message_verify_at_once(env: Env) -> None:
    events, messages = await validate(
        "activation",
        "reset my password, emma.devries@example.com order BW-104118",
        "password_reset",
        entities={"email": EMMA_EMAIL, "order_number": "BW-104118"},
    )
    assert events == [
        SlotSet("flow_failures", 0.0),
        SlotSet("flow_category", "password_reset"),
        SlotSet("verify_email", None),
        SlotSet("verify_order", None),
        *VERIFIED,
        SlotSet("requested_slot", None),
    ]
    assert messages == [CONFIRMED]


async def test_mismatches_get_one_answer_whatever_their_cause(env: Env) -> None:
    """Unknown email, unknown order, malformed-then-valid order of someone else:
    the customer can't tell them apart."""
    cases = [
        ("nobody@example.com", "BW-104233"),  # no such account
        (EMMA_EMAIL, "BW-999999"),  # no such order
        (EMMA_EMAIL, "BW-104201"),  # Lukas's order
    ]
    for email, order in cases:
        events, messages = await validate(
            "answer", order, requested="verify_order", slots={"verify_email": email}
        )
        assert events == [
            SlotSet("verify_order", None),
            SlotSet("flow_failures", 1.0),
            SlotSet("requested_slot", "verify_order"),
        ]
        assert messages == [
            {"text": NO_MATCH, "buttons": CODE_BUTTON},
            {"text": ASK_ORDER, "buttons": CODE_BUTTON},
        ]


async def test_a_corrected_email_replaces_the_first_one(env: Env) -> None:
    events, messages = await validate(
        "answer",
        "sorry, it's emma.devries@example.com",
        requested="verify_order",
        slots={"verify_email": "emma.devris@example.com"},
    )
    assert events == [
        SlotSet("verify_email", EMMA_EMAIL),
        SlotSet("flow_failures", 0.0),
        SlotSet("requested_slot", "verify_order"),
    ]
    assert messages == [{"text": ASK_ORDER, "buttons": CODE_BUTTON}]


async def test_a_code_mailed_to_the_address_on_file_verifies(env: Env) -> None:
    events, messages = await validate(
        "answer", "/request_code", "request_code", requested="verify_order",
        slots={"verify_email": EMMA_EMAIL},
    )  # fmt: skip
    assert events == [
        SlotSet("verify_order", "code"),
        SlotSet("flow_failures", 0.0),
        SlotSet("requested_slot", "verify_code"),
    ]
    assert messages == [
        {
            "text": "If emma.devries@example.com belongs to a Brightwave account, I've just "
            "emailed it a 6-digit code. It's valid for 10 minutes."
        },
        {"text": ASK_CODE, "buttons": NEW_CODE_BUTTON},
    ]
    [mail] = read_outbox(env.outbox)
    assert (mail["To"], mail["Subject"]) == (EMMA_EMAIL, "Your Brightwave verification code")
    match = re.search(r"code is (\d{6})\.", body(mail))
    assert match is not None
    code = match.group(1)

    slots = {"verify_email": EMMA_EMAIL, "verify_order": "code"}
    events, messages = await validate(
        "answer", f"{code[:3]} {code[3:]}", requested="verify_code", slots=slots
    )
    assert events == [
        *VERIFIED,
        SlotSet("verify_email", None),
        SlotSet("verify_order", None),
        SlotSet("flow_failures", 0.0),
        SlotSet("requested_slot", None),
    ]
    assert messages == [CONFIRMED]


async def test_a_code_for_an_unknown_address_is_not_mailed_and_the_reply_is_the_same(
    env: Env,
) -> None:
    slots = {"verify_email": "nobody@example.com"}
    events, messages = await validate(
        "answer", "I don't have my order number", "request_code", requested="verify_order",
        slots=slots,
    )  # fmt: skip
    assert events[-1] == SlotSet("requested_slot", "verify_code")
    assert messages[0] == {
        "text": "If nobody@example.com belongs to a Brightwave account, I've just emailed it a "
        "6-digit code. It's valid for 10 minutes."
    }
    assert read_outbox(env.outbox) == []
    # Guessing counts down like for a real account.
    events, messages = await validate(
        "answer", "123456", requested="verify_code",
        slots={"verify_email": "nobody@example.com", "verify_order": "code"},
    )  # fmt: skip
    assert messages[0] == {
        "text": "That code isn't right. You have 4 more tries.",
        "buttons": NEW_CODE_BUTTON,
    }


async def test_a_wrong_code_is_no_strike_but_an_expired_code_needs_a_new_one(env: Env) -> None:
    slots: dict[str, Any] = {"verify_email": EMMA_EMAIL}
    await validate("answer", "code please", "request_code", requested="verify_order", slots=slots)
    [mail] = read_outbox(env.outbox)
    code = re.findall(r"\d{6}", body(mail))[0]
    wrong = f"{(int(code) + 1) % 1_000_000:06d}"
    slots = {"verify_email": EMMA_EMAIL, "verify_order": "code", "flow_failures": 1.0}
    events, messages = await validate("answer", wrong, requested="verify_code", slots=slots)
    assert events == [SlotSet("flow_failures", 1.0), SlotSet("requested_slot", "verify_code")]
    assert messages == [
        {"text": "That code isn't right. You have 4 more tries.", "buttons": NEW_CODE_BUTTON},
        {"text": ASK_CODE, "buttons": NEW_CODE_BUTTON},
    ]
    env.clock.advance(minutes=10)
    events, messages = await validate("answer", code, requested="verify_code", slots=slots)
    assert messages[0] == {
        "text": "That code has expired. I can email you a new one.",
        "buttons": NEW_CODE_BUTTON,
    }


async def test_three_invalid_answers_end_the_form(env: Env) -> None:
    replies = ["my email? hmm", "emma at example", "😀😀😀"]
    slots: dict[str, Any] = {}
    for count, text in enumerate(replies, start=1):
        events, messages = await validate(
            "answer", text, "nlu_fallback", requested="verify_email", slots=slots
        )
        slots = {"flow_failures": float(count)}
        if count < 3:
            assert events == [
                SlotSet("flow_failures", float(count)),
                SlotSet("requested_slot", "verify_email"),
            ]
    assert events == [
        SlotSet("flow_failed", True),
        SlotSet("handoff_reason", "form_failed"),
        SlotSet("flow_failures", 3.0),
        SlotSet("requested_slot", None),
    ]
    assert messages == [
        {"text": "I need the email address of your account (like name@example.com) to go on."},
        {"text": "I'm sorry, I'm not getting this right."},
    ]


async def test_a_typed_password_is_warned_about_and_never_kept(env: Env) -> None:
    events, messages = await validate("answer", "Hunter2!", requested="verify_email")
    assert events == [SlotSet("flow_failures", 1.0), SlotSet("requested_slot", "verify_email")]
    assert messages == [
        {
            "text": "That looks like it could be a password, so I haven't used it. Please never "
            "type your password here: I will never ask for it, and nobody at Brightwave will. If "
            "it was your real password, please change it soon."
        },
        {"text": ASK_EMAIL},
    ]
    assert "Hunter2" not in repr(events)


async def test_questions_and_stop_are_not_answers(env: Env) -> None:
    for text, intent in [
        ("are you a bot?", "bot_challenge"),
        ("stop", "stop"),
        ("I want a human, my email is emma.devries@example.com", "human_handoff"),
        ("does the pulse 2 work with android", "compatibility"),
    ]:
        assert await validate("answer", text, intent, requested="verify_email") == ([], [])


async def test_asking_for_the_same_thing_again_repeats_the_question_without_a_strike(
    env: Env,
) -> None:
    assert await validate(
        "answer", "I forgot my password", "password_reset", requested="verify_email",
        slots={"flow_failures": 1.0},
    ) == (
        [SlotSet("flow_failures", 1.0), SlotSet("requested_slot", "verify_email")],
        [{"text": ASK_EMAIL}],
    )  # fmt: skip


async def test_after_an_interruption_the_question_is_asked_again(env: Env) -> None:
    assert await validate(
        "resume", "are you a bot?", "bot_challenge", requested="verify_order",
        slots={"verify_email": EMMA_EMAIL},
    ) == (
        [SlotSet("requested_slot", "verify_order")],
        [{"text": ASK_ORDER, "buttons": CODE_BUTTON}],
    )  # fmt: skip


async def test_the_code_limit_is_explained(env: Env) -> None:
    slots = {"verify_email": EMMA_EMAIL}
    for _ in range(5):
        await validate("answer", "code", "request_code", requested="verify_order", slots=slots)
    events, messages = await validate(
        "answer", "code", "request_code", requested="verify_order", slots=slots
    )
    assert events == [
        SlotSet("verify_order", None),
        SlotSet("flow_failures", 1.0),
        SlotSet("requested_slot", "verify_order"),
    ]
    assert messages[0] == {
        "text": "I've already sent the most codes I can for now. You can ask for a new one "
        "after 10:30 UTC, or use an order number instead."
    }


async def test_a_system_that_does_not_answer_ends_the_form(system_down: Env) -> None:
    events, messages = await validate(
        "answer", "BW-104233", requested="verify_order", slots={"verify_email": EMMA_EMAIL}
    )
    assert events == [
        SlotSet("verify_order", "BW-104233"),
        SlotSet("flow_failed", True),
        SlotSet("handoff_reason", "backend_error"),
        SlotSet("requested_slot", None),
    ]
    assert messages == [
        {
            "text": "Sorry, I can't reach the system I need for this right now, so I can't "
            "finish it here."
        }
    ]
