"""Where a customer's turn goes while a person has the conversation or a
rating's comment is awaited (``bot.engine.turn_routing``, applied by the engine's
HandoffPolicy)."""

from __future__ import annotations

import pytest

from bot.engine.turn_routing import (
    ACTION_LISTEN,
    CSAT_COMMENT_ACTION,
    FORWARD_ACTION,
    is_new_question,
    next_action,
)


def test_every_message_goes_to_the_agent_during_a_handoff() -> None:
    assert next_action(True, False, ACTION_LISTEN, "greet", "hi") == FORWARD_ACTION
    assert next_action(True, False, FORWARD_ACTION, "greet", "hi") == ACTION_LISTEN
    assert next_action(True, False, ACTION_LISTEN, "agent_message", "x") is None


@pytest.mark.parametrize(
    "text, intent",
    [
        ("Alex was quick and kind", "thanks"),
        ("took way too long", "complaint"),
        ("no thanks", "deny"),
        ("the agent didn't know what a return label is", "start_return"),
        ("great service, will order again", "order_status"),
    ],
)
def test_the_message_after_a_rating_is_its_comment(text: str, intent: str) -> None:
    assert next_action(False, True, ACTION_LISTEN, intent, text) == CSAT_COMMENT_ACTION


@pytest.mark.parametrize(
    "text, intent",
    [
        ("how do I return my earbuds?", "start_return"),
        ("and where do i find my invoice", "invoice_request"),
        (
            "one more thing: can I change the delivery address for BW-104390",
            "change_shipping_address",
        ),
        ("thanks! is the hub mini compatible with alexa?", "compatibility"),
        ("I want to cancel my plus subscription", "cancel_subscription"),
        ("btw do gift cards expire?", "nlu_fallback"),
        ("last q, is the buds pro charging case waterproof?", "out_of_scope"),
    ],
)
def test_a_new_question_after_a_rating_is_answered_not_filed(text: str, intent: str) -> None:
    """Failure class 6 of issue 23."""
    assert is_new_question(text, intent)
    assert next_action(False, True, ACTION_LISTEN, intent, text) is None


def test_a_question_without_a_topic_is_still_a_comment() -> None:
    assert not is_new_question("why did it take so long?", "complaint")
    assert not is_new_question("why did it take so long?", "nlu_fallback")
    assert not is_new_question("the wait was long but fine", "nlu_fallback")
    assert not is_new_question("/csat", "csat")
    assert next_action(False, True, ACTION_LISTEN, "out_of_scope", "what?") == CSAT_COMMENT_ACTION
