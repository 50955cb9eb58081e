"""Orders: where an order is, cancelling it and changing its address, only in
the states where that is possible."""

from __future__ import annotations

from typing import Any

import pytest
from rasa_sdk.events import FollowupAction, SlotSet
from rasa_sdk.executor import CollectingDispatcher

from actions.backends import AccountRequest, AccountRequestKind, Address, OrderStatus, Outcome
from actions.tier1.orders import (
    ActionCancelOrder,
    ActionChangeAddress,
    ActionOrderStatus,
    ValidateCancelOrderForm,
    ValidateChangeAddressForm,
    ValidateOrderStatusForm,
    city_of,
    postal_code_of,
    street_of,
)
from tests.actions.backends.conftest import NOW
from tests.actions.tier1.conftest import Env
from tests.actions.tier1.helpers import (
    EMMA,
    SENDER,
    form_tracker,
    run_action,
    said,
    user_event,
    verified_history,
    verified_tracker,
)

EMMA_ORDERS = [
    {"title": "BW-104390 (being prepared)", "payload": '/inform{"order_number": "BW-104390"}'},
    {"title": "BW-104233 (on its way)", "payload": '/inform{"order_number": "BW-104233"}'},
    {"title": "BW-104118 (delivered)", "payload": '/inform{"order_number": "BW-104118"}'},
    {"title": "BW-103877 (cancelled)", "payload": '/inform{"order_number": "BW-103877"}'},
]
WHICH_ORDER = "Which order is it about? Pick one or type its number."
CLEARED = [SlotSet("order_number", None), SlotSet("flow_failures", 0.0)]


async def validate(
    action: Any, form: str, *args: Any, **kwargs: Any
) -> tuple[list[Any], list[Any]]:
    kwargs.setdefault("history", verified_history(EMMA))
    kwargs["slots"] = {**EMMA, **kwargs.get("slots", {})}
    dispatcher = CollectingDispatcher()
    events = await action.run(dispatcher, form_tracker(form, *args, **kwargs), {})
    return events, said(dispatcher)


async def outcomes(env: Env) -> list[tuple[str, Outcome, str | None]]:
    return [(o.category, o.outcome, o.detail) for o in await env.deps.outcomes.list(SENDER)]


# --- order status ----------------------------------------------------------


async def test_a_verified_customer_picks_one_of_their_orders(env: Env) -> None:
    form = "order_status_form"
    events, messages = await validate(
        ValidateOrderStatusForm(), form, "activation", "where is my order", "order_status"
    )
    assert events == [
        SlotSet("flow_failures", 0.0),
        SlotSet("flow_category", "order_status"),
        SlotSet("requested_slot", "order_number"),
    ]
    assert messages == [{"text": WHICH_ORDER, "buttons": EMMA_ORDERS}]
    events, messages = await validate(
        ValidateOrderStatusForm(), form, "answer", '/inform{"order_number": "BW-104233"}',
        entities={"order_number": "BW-104233"}, requested="order_number",
    )  # fmt: skip
    assert events == [
        SlotSet("order_number", "BW-104233"),
        SlotSet("flow_failures", 0.0),
        SlotSet("requested_slot", None),
    ]
    assert messages == []


async def test_someone_elses_or_a_malformed_order_number_is_refused(env: Env) -> None:
    form = "order_status_form"
    events, messages = await validate(
        ValidateOrderStatusForm(), form, "answer", "BW-104201", requested="order_number"
    )
    assert events == [
        SlotSet("order_number", None),
        SlotSet("flow_failures", 1.0),
        SlotSet("requested_slot", "order_number"),
    ]
    assert messages == [
        {
            "text": (
                "I can't find BW-104201 among the orders of your account. Please check the number."
            )
        },
        {"text": WHICH_ORDER, "buttons": EMMA_ORDERS},
    ]
    events, messages = await validate(
        ValidateOrderStatusForm(), form, "answer", "the blue one", requested="order_number",
        slots={"flow_failures": 1.0},
    )  # fmt: skip
    assert events == [SlotSet("flow_failures", 2.0), SlotSet("requested_slot", "order_number")]
    assert messages[0] == {
        "text": "That doesn't look like an order number. They look like BW-104233."
    }


async def test_the_order_number_used_to_verify_is_the_order_looked_up(env: Env) -> None:
    events, messages = await validate(
        ValidateOrderStatusForm(), "order_status_form", "answer", "BW-104233",
        requested="verify_order", slots={"verify_email": "emma.devries@example.com"},
        history=[],
    )  # fmt: skip
    assert events == [
        SlotSet("verify_order", None),
        SlotSet("verified_email", "emma.devries@example.com"),
        SlotSet("customer_id", "C-1001"),
        SlotSet("customer_name", "Emma de Vries"),
        SlotSet("verify_email", None),
        SlotSet("order_number", "BW-104233"),
        SlotSet("flow_failures", 0.0),
        SlotSet("requested_slot", None),
    ]
    assert messages == [{"text": "Thanks, Emma, that's confirmed."}]


@pytest.mark.parametrize(
    ("customer", "order", "text"),
    [
        ("C-1001", "BW-104233", (
            "Order BW-104233 (Brightwave Pulse 2) is on its way.\nCarrier: PostNL, tracking "
            "number 3SBRWV0104233.\n[Track it on the PostNL website]("
            "https://jouw.postnl.nl/track-and-trace/3SBRWV0104233-NL-1016GV)\nExpected "
            "delivery: tomorrow, Wednesday 11 March."
        )),
        ("C-1001", "BW-104390", (
            "Order BW-104390 (Brightwave Hub Mini, 2 x Brightwave Cam 360) is being prepared "
            "and hasn't shipped yet.\nExpected delivery: Thursday 12 March.\nYou'll get an "
            "email with the tracking link as soon as it ships."
        )),
        ("C-1001", "BW-104118", (
            "Order BW-104118 (Brightwave Buds Pro) was delivered by PostNL on Wednesday 11 "
            "February.\nTracking number 3SBRWV0104118: [see the delivery on the PostNL website]"
            "(https://jouw.postnl.nl/track-and-trace/3SBRWV0104118-NL-1016GV)"
        )),
        ("C-1001", "BW-103877", "Order BW-103877 (Brightwave Scale One) was cancelled."),
        ("C-1003", "BW-104322", (
            "Order BW-104322 (2 x Brightwave Cam Outdoor) is delayed: the carrier reported a "
            "delay.\nCarrier: DPD, tracking number 01905104322317.\n[Track it on the DPD website]("
            "https://tracking.dpd.de/status/en_US/parcel/01905104322317)\nExpected delivery: "
            "Thursday 12 March."
        )),
        ("C-1004", "BW-104287", (
            "Order BW-104287 (Brightwave Buds 2) is out for delivery.\nCarrier: DPD, tracking "
            "number 01905104287542.\n[Track it on the DPD website]("
            "https://tracking.dpd.de/status/en_US/parcel/01905104287542)\nExpected delivery: "
            "today, Tuesday 10 March."
        )),
        ("C-1004", "BW-104012", (
            "Order BW-104012 (Brightwave Cam 360) couldn't be delivered and was returned to "
            "us. What happens next: https://help.brightwave.example/articles/returned-to-sender"
        )),
    ],
)  # fmt: skip
async def test_the_status_says_carrier_tracking_and_date(
    env: Env, customer: str, order: str, text: str
) -> None:
    current = verified_tracker(customer, slots={"order_number": order})
    assert await run_action(ActionOrderStatus(), current) == (CLEARED, [{"text": text}])
    status = (await env.demo.get_order(customer, order)).status
    assert await outcomes(env) == [("order_status", Outcome.RESOLVED_BY_BOT, status.value)]


async def test_a_late_order_gets_the_policy_and_the_offer_of_a_person(env: Env) -> None:
    current = verified_tracker("C-1002", slots={"order_number": "BW-104201"})
    events, messages = await run_action(ActionOrderStatus(), current)
    assert events == [
        SlotSet("handoff_reason", "tier2_topic"),
        *CLEARED,
        FollowupAction("action_offer_human"),
    ]
    assert messages == [
        {
            "text": "Order BW-104201 (Brightwave Soundbar S) is on its way.\nCarrier: DHL, "
            "tracking number 00340434161094201001.\n[Track it on the DHL website](https://www.dhl.com/"
            "global-en/home/tracking/tracking-parcel.html?submit=1&tracking-id=00340434161094201001)"
            "\nIt was "
            "expected on Saturday 7 March."
        },
        {
            "text": "It's 3 days late. Most late parcels turn up within 5 business days of the "
            "expected date, so it will very likely arrive soon. After that we ask the carrier to "
            "investigate. More: https://help.brightwave.example/articles/late-parcel"
        },
    ]
    assert await outcomes(env) == [("order_status", Outcome.RESOLVED_BY_BOT, "shipped:late")]


# --- cancel an order -------------------------------------------------------


async def test_a_processing_order_is_cancelled_after_a_yes(env_db: Env) -> None:
    env = env_db
    form = "cancel_order_form"
    events, messages = await validate(
        ValidateCancelOrderForm(), form, "answer", "BW-104390", requested="order_number"
    )
    assert events == [
        SlotSet("order_number", "BW-104390"),
        SlotSet("flow_failures", 0.0),
        SlotSet("requested_slot", "flow_confirmed"),
    ]
    assert messages == [
        {
            "text": "Order BW-104390 (Brightwave Hub Mini, 2 x Brightwave Cam 360, 267.00 EUR) "
            "hasn't shipped yet, so it can still be cancelled. Shall I cancel the whole order?",
            "buttons": [
                {"title": "Yes, cancel it", "payload": "/affirm"},
                {"title": "No, keep it", "payload": "/deny"},
            ],
        }
    ]
    events, _ = await validate(
        ValidateCancelOrderForm(), form, "answer", "yes", "affirm", requested="flow_confirmed",
        slots={"order_number": "BW-104390"},
    )  # fmt: skip
    assert events == [
        SlotSet("flow_confirmed", True),
        SlotSet("flow_failures", 0.0),
        SlotSet("requested_slot", None),
    ]
    current = verified_tracker(
        "C-1001", slots={"order_number": "BW-104390", "flow_confirmed": True}
    )
    events, messages = await run_action(ActionCancelOrder(), current)
    assert events == [
        SlotSet("order_number", None),
        SlotSet("flow_confirmed", None),
        SlotSet("flow_failures", 0.0),
    ]
    assert messages == [
        {
            "text": "Done: order BW-104390 is cancelled. You won't be charged; if you already "
            "paid, the money goes back the way you paid (how long that takes: "
            "https://help.brightwave.example/articles/cancel-order)."
        }
    ]
    assert (await env.demo.get_order("C-1001", "BW-104390")).status is OrderStatus.CANCELLED
    [request] = await env.deps.account_requests.list(SENDER)
    assert request == AccountRequest(
        SENDER, "C-1001", AccountRequestKind.CANCEL_ORDER, NOW, "BW-104390", None, request.id
    )
    assert await outcomes(env) == [("cancel_order", Outcome.RESOLVED_BY_BOT, None)]


async def test_a_shipped_order_is_not_cancelled_and_the_customer_hears_why(env: Env) -> None:
    events, messages = await validate(
        ValidateCancelOrderForm(), "cancel_order_form", "answer", "BW-104233",
        requested="order_number",
    )  # fmt: skip
    assert events[-1] == SlotSet("requested_slot", None)  # nothing to confirm
    assert messages == []
    current = verified_tracker("C-1001", slots={"order_number": "BW-104233"})
    assert await run_action(ActionCancelOrder(), current) == (
        CLEARED,
        [
            {
                "text": "Order BW-104233 has already shipped, so I can't cancel it any more. You "
                "can refuse the parcel when it's delivered (it comes back to us and you're "
                "refunded automatically), or return it within 30 days of delivery: "
                "https://help.brightwave.example/articles/start-a-return"
            }
        ],
    )
    assert (await env.demo.get_order("C-1001", "BW-104233")).status is OrderStatus.SHIPPED
    assert await outcomes(env) == [("cancel_order", Outcome.RESOLVED_BY_BOT, "not_allowed:shipped")]


async def test_a_no_at_the_confirmation_changes_nothing(env: Env) -> None:
    current = verified_tracker(
        "C-1001", slots={"order_number": "BW-104390", "flow_confirmed": False}
    )
    events, messages = await run_action(ActionCancelOrder(), current)
    assert events == [
        SlotSet("order_number", None),
        SlotSet("flow_confirmed", None),
        SlotSet("flow_failures", 0.0),
    ]
    assert messages == [{"text": "OK, I haven't changed anything: order BW-104390 stays."}]
    assert (await env.demo.get_order("C-1001", "BW-104390")).status is OrderStatus.PROCESSING
    assert await outcomes(env) == [("cancel_order", Outcome.ABANDONED, "declined")]


# --- change the delivery address -------------------------------------------


async def test_the_address_of_a_processing_order_is_changed_step_by_step(env: Env) -> None:
    form = "change_address_form"
    steps = [
        ("BW-104390", "order_number", "address_line1", (
            "Order BW-104390 hasn't shipped yet, so its address can still be changed (within "
            "the Netherlands). What's the new street and house number?"
        )),
        ("Keizersgracht  12", "address_line1", "address_postal_code", "And the postcode?"),
        ("1017 eb", "address_postal_code", "address_city", "And the town or city?"),
        ("Amsterdam", "address_city", "flow_confirmed", None),
    ]  # fmt: skip
    slots: dict[str, Any] = {}
    for text, requested, following, question in steps:
        events, messages = await validate(
            ValidateChangeAddressForm(), form, "answer", text, requested=requested, slots=slots
        )
        value = {"BW-104390": "BW-104390", "Keizersgracht  12": "Keizersgracht 12"}.get(
            text, {"1017 eb": "1017 EB"}.get(text, text)
        )
        assert events == [
            SlotSet(requested, value),
            SlotSet("flow_failures", 0.0),
            SlotSet("requested_slot", following),
        ]
        if question:
            assert messages == [{"text": question}]
        slots[requested] = value
    assert messages == [
        {
            "text": "Shall I change the delivery address of BW-104390 to:\nEmma de Vries\n"
            "Keizersgracht 12\n1017 EB Amsterdam\nthe Netherlands",
            "buttons": [
                {"title": "Yes, change it", "payload": "/affirm"},
                {"title": "No, leave it", "payload": "/deny"},
            ],
        }
    ]
    current = verified_tracker("C-1001", slots={**slots, "flow_confirmed": True})
    events, messages = await run_action(ActionChangeAddress(), current)
    assert messages == [
        {
            "text": "Done: order BW-104390 will be delivered to:\nEmma de Vries\nKeizersgracht 12\n"
            "1017 EB Amsterdam\nthe Netherlands"
        }
    ]
    order = await env.demo.get_order("C-1001", "BW-104390")
    assert order.shipping_address == Address(
        "Emma de Vries", "Keizersgracht 12", "1017 EB", "Amsterdam", "NL"
    )
    [request] = await env.deps.account_requests.list(SENDER)
    assert (request.kind, request.reference) == (
        AccountRequestKind.CHANGE_SHIPPING_ADDRESS,
        "BW-104390",
    )


async def test_a_foreign_street_name_is_an_answer_not_another_language(env: Env) -> None:
    form = "change_address_form"
    slots = {"order_number": "BW-104390"}
    # NLU reads the street as Spanish: with a parsable address it is still the answer.
    events, messages = await validate(
        ValidateChangeAddressForm(), form, "answer", "Calle de Alcalá 45", "other_language",
        requested="address_line1", slots=slots,
    )  # fmt: skip
    assert events == [
        SlotSet("address_line1", "Calle de Alcalá 45"),
        SlotSet("flow_failures", 0.0),
        SlotSet("requested_slot", "address_postal_code"),
    ]
    assert messages == [{"text": "And the postcode?"}]
    # A question in another language is still no address: the form lets its rule answer.
    events, messages = await validate(
        ValidateChangeAddressForm(), form, "answer", "¿Dónde está mi pedido?", "other_language",
        requested="address_city", slots={**slots, "address_line1": "Calle de Alcalá 45",
                                         "address_postal_code": "28014"},
    )  # fmt: skip
    assert (events, messages) == ([], [])


async def test_a_shipped_order_keeps_its_address_and_the_carrier_is_suggested(env: Env) -> None:
    current = verified_tracker("C-1001", slots={"order_number": "BW-104233"})
    assert await run_action(ActionChangeAddress(), current) == (
        CLEARED,
        [
            {
                "text": "Order BW-104233 has already shipped, so its address can't be changed any "
                "more. The carrier may let you pick another day, a neighbour or a pickup point on "
                "its tracking page (https://jouw.postnl.nl/track-and-trace/3SBRWV0104233-NL-"
                "1016GV)."
            }
        ],
    )


def test_address_parts_are_checked() -> None:
    assert [street_of(t) for t in ["Prinsengracht 263", "Prinsengracht", "263", "a@b.c 1"]] == [
        "Prinsengracht 263", None, None, None,
    ]  # fmt: skip
    assert [postal_code_of(t) for t in ["1016 gv", "80331", "SW1A 1AA", "GV", "10;16"]] == [
        "1016 GV", "80331", "SW1A 1AA", None, None,
    ]  # fmt: skip
    assert [city_of(t) for t in ["Amsterdam", "Den Haag", "Saint-Étienne", "Amsterdam 1"]] == [
        "Amsterdam", "Den Haag", "Saint-Étienne", None,
    ]  # fmt: skip


@pytest.mark.parametrize(
    "said",
    [
        "tracking says delivered but I never got it",
        "it says it was delivered yesterday?? nothing arrived here",
        "my parcel hasn't arrived, where is it",
    ],
)
async def test_delivered_but_not_received_goes_to_a_person(env: Env, said: str) -> None:
    """Failure class 9 of issue 23: the record said delivered, the customer
    said it never came, and the bot closed the case with the record."""
    history = [user_event(said, "order_status")]
    current = verified_tracker("C-1001", slots={"order_number": "BW-104118"}, history=history)
    events, messages = await run_action(ActionOrderStatus(), current)
    assert events == [
        SlotSet("handoff_reason", "tier2_topic"),
        *CLEARED,
        FollowupAction("action_handoff"),
    ]
    assert messages[0] == {
        "text": "Order BW-104118 (Brightwave Buds Pro) was delivered by PostNL on Wednesday 11 "
        "February.\nTracking number 3SBRWV0104118: [see the delivery on the PostNL website]"
        "(https://jouw.postnl.nl/track-and-trace/3SBRWV0104118-NL-1016GV)"
    }
    assert messages[1]["text"].startswith("The carrier marked it as delivered, but you don't")
    assert messages[1]["text"].endswith("https://help.brightwave.example/articles/lost-parcel")
    assert await outcomes(env) == []  # action_handoff records the escalation


async def test_a_delivered_order_the_customer_has_is_just_answered(env: Env) -> None:
    history = [user_event("when was my order delivered? I lost the receipt", "order_status")]
    current = verified_tracker("C-1001", slots={"order_number": "BW-104118"}, history=history)
    events, _ = await run_action(ActionOrderStatus(), current)
    assert events == CLEARED
    assert await outcomes(env) == [("order_status", Outcome.RESOLVED_BY_BOT, "delivered")]
