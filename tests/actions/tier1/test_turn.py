"""Reading the conversation: the latest message, why a form runs, whether
the customer was verified in this session."""

from __future__ import annotations

from typing import Any

from actions.tier1.turn import (
    FormTurn,
    Turn,
    form_turn,
    identity,
    previous_active_loop,
    turn_of,
    verified_this_session,
)
from tests.actions.tier1.helpers import EMMA, tracker, verified_history

FORM = "order_status_form"


def test_the_latest_message_with_unique_entities_ranking_and_metadata() -> None:
    current = tracker(
        "where is BW-104233",
        "order_status",
        entities={"order_number": "BW-104233"},
        confidence=0.9,
        ranking=[("order_status", 0.9), ("cancel_order", 0.05)],
        metadata={"truncated_from": 5000},
    )
    assert turn_of(current) == Turn(
        text="where is BW-104233",
        intent="order_status",
        confidence=0.9,
        entities={"order_number": ("BW-104233",)},
        ranking=(("order_status", 0.9), ("cancel_order", 0.05)),
        metadata={"truncated_from": 5000},
    )


def user(text: str = "hi") -> dict[str, Any]:
    return {"event": "user", "text": text, "parse_data": {}}


def test_a_form_turn_is_activation_answer_or_resume() -> None:
    tail = [
        {"event": "slot", "name": "requested_slot", "value": "order_number"},
        {"event": "action", "name": FORM},
    ]
    activation = [user(), {"event": "active_loop", "name": FORM}, *tail]
    answer = [
        {"event": "active_loop", "name": FORM},
        user(),
        {"event": "user_featurization"},
        *tail,
    ]
    resume = [
        user(),
        {"event": "action_execution_rejected", "name": FORM},
        {"event": "action", "name": "utter_iamabot"},
        {"event": "bot", "text": "bot"},
        *tail,
    ]
    after_a_rule = [user(), {"event": "action", "name": "action_compatibility"}, *tail]
    assert [form_turn(events, FORM) for events in (activation, answer, resume, after_a_rule)] == [
        FormTurn.ACTIVATION,
        FormTurn.ANSWER,
        FormTurn.RESUME,
        FormTurn.RESUME,
    ]


def test_the_form_a_new_form_replaced() -> None:
    loop = "active_loop"
    assert (
        previous_active_loop([{"event": loop, "name": "a_form"}, {"event": loop, "name": "b_form"}])
        == "a_form"
    )
    assert (
        previous_active_loop(
            [
                {"event": loop, "name": "a_form"},
                {"event": loop, "name": None},
                {"event": loop, "name": "b_form"},
            ]
        )
        is None
    )
    assert previous_active_loop([{"event": loop, "name": "b_form"}]) is None


def test_only_a_verification_in_this_session_counts() -> None:
    carried_over = [
        {"event": "action", "name": "action_session_start"},
        {"event": "session_started"},
        {"event": "slot", "name": "verified_email", "value": "emma.devries@example.com"},
        {"event": "action", "name": "action_listen"},
    ]
    assert verified_this_session(carried_over) is False
    assert verified_this_session([*carried_over, *verified_history(EMMA)]) is True
    assert verified_this_session([*verified_history(EMMA), {"event": "session_started"}]) is False
    cleared = [*verified_history(EMMA), {"event": "slot", "name": "verified_email", "value": None}]
    assert verified_this_session(cleared) is False


def test_the_identity_needs_the_slots_and_a_verification_this_session() -> None:
    assert identity(tracker("hi", "greet", slots=EMMA, history=verified_history(EMMA))) == {
        "email": "emma.devries@example.com",
        "customer_id": "C-1001",
        "name": "Emma de Vries",
    }
    assert identity(tracker("hi", "greet", slots=EMMA)) is None
