"""Behaviour of the company's system as the actions see it. Every test runs
twice: on the demo backend, and on the HTTP adapter talking to that demo
backend through the real contract server (so adapter and contract agree)."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta
from decimal import Decimal
from pathlib import Path

import pytest

from actions.backends import (
    AccountState,
    AccountStatus,
    ActivationEmail,
    Address,
    BilledBy,
    Customer,
    CustomerProfile,
    DeletionRequest,
    DeliveryOption,
    NotAllowed,
    NotFound,
    Order,
    OrderItem,
    OrderStatus,
    Plan,
    Refusal,
    Shipment,
    Subscription,
    SubscriptionCancellation,
    SubscriptionStatus,
)
from actions.backends.protocols import BusinessSystem
from tests.actions.backends.conftest import NOW, RESET_URL_BASE, TODAY, day, read_outbox

EMMA = Customer("C-1001", "Emma de Vries", "emma.devries@example.com")
EMMA_HOME = Address("Emma de Vries", "Prinsengracht 263", "1016 GV", "Amsterdam", "NL")
PULSE_2 = OrderItem("pulse-2", "Brightwave Pulse 2", 1, Decimal("249"))
SHIPPED_ORDER = Order(
    order_number="BW-104233",
    customer_id="C-1001",
    status=OrderStatus.SHIPPED,
    placed_on=day(-2),
    items=(PULSE_2,),
    shipping_address=EMMA_HOME,
    delivery_option=DeliveryOption.STANDARD,
    shipment=Shipment(
        carrier="PostNL",
        tracking_number="3SBRWV0104233",
        tracking_url="https://jouw.postnl.nl/track-and-trace/3SBRWV0104233-NL-1016GV",
        shipped_on=day(-1),
    ),
    expected_delivery=day(1),
)
PROCESSING_ORDER = Order(
    order_number="BW-104390",
    customer_id="C-1001",
    status=OrderStatus.PROCESSING,
    placed_on=TODAY,
    items=(
        OrderItem("hub-mini", "Brightwave Hub Mini", 1, Decimal("69")),
        OrderItem("cam-360", "Brightwave Cam 360", 2, Decimal("99")),
    ),
    shipping_address=EMMA_HOME,
    expected_delivery=day(2),
)
NEW_HOME = Address("Emma de Vries", "Keizersgracht 12", "1015 CR", "Amsterdam", "nl", "2e hoog")


async def test_verification_matches_only_the_email_and_order_of_one_customer(
    system: BusinessSystem,
) -> None:
    assert await system.verify_customer(" Emma.DeVries@Example.com ", "bw104233") == EMMA
    assert await system.verify_customer("emma.devries@example.com", "order #104390") == EMMA
    no_match = [
        ("emma.devries@example.com", "BW-104201"),  # Lukas's order
        ("nobody@example.com", "BW-104233"),  # unknown email
        ("emma.devries@example.com", "BW-999999"),  # unknown order
        ("emma.devries@example.com", "my order"),  # not an order number
        ("", ""),
    ]
    assert [await system.verify_customer(e, n) for e, n in no_match] == [None] * len(no_match)


async def test_a_customer_is_found_by_email_whatever_the_case(system: BusinessSystem) -> None:
    assert await system.find_customer("EMMA.DEVRIES@example.com") == EMMA
    assert await system.find_customer("emma.devries@example.org") is None


async def test_every_account_state_of_the_demo(system: BusinessSystem) -> None:
    ids = [f"C-10{n:02d}" for n in range(1, 13)]
    states = [await system.account_status(customer_id) for customer_id in ids]
    active = AccountStatus.ACTIVE
    pending = AccountStatus.PENDING_ACTIVATION
    assert states == [
        AccountState("C-1001", active),
        AccountState("C-1002", active),
        AccountState("C-1003", active),
        AccountState("C-1004", active),
        AccountState("C-1005", pending, "email_not_confirmed"),
        AccountState("C-1006", pending, "email_not_confirmed"),
        AccountState("C-1007", AccountStatus.LOCKED, "too_many_failed_sign_ins"),
        AccountState("C-1008", AccountStatus.SUSPENDED, "chargeback"),
        AccountState("C-1009", AccountStatus.CLOSED, "deletion_requested", day(20)),
        AccountState("C-1010", active),
        AccountState("C-1011", active),
        AccountState("C-1012", active),
    ]


async def test_an_unknown_customer_is_not_found(system: BusinessSystem) -> None:
    with pytest.raises(NotFound) as raised:
        await system.account_status("C-9999")
    assert (raised.value.kind, raised.value.key) == ("customer", "C-9999")


async def test_an_order_reads_back_whole(system: BusinessSystem) -> None:
    assert await system.get_order("C-1001", "#104233") == SHIPPED_ORDER


async def test_a_late_parcel_is_late_by_the_days_past_its_expected_date(
    system: BusinessSystem,
) -> None:
    late = await system.get_order("C-1002", "BW-104201")
    assert late == Order(
        order_number="BW-104201",
        customer_id="C-1002",
        status=OrderStatus.SHIPPED,
        placed_on=day(-9),
        items=(OrderItem("soundbar-s", "Brightwave Soundbar S", 1, Decimal("299")),),
        shipping_address=Address(
            "Lukas Schneider", "Kastanienallee 12", "10435", "Berlin", "DE", "3. OG"
        ),
        shipment=Shipment(
            carrier="DHL",
            tracking_number="00340434161094201001",
            tracking_url="https://www.dhl.com/global-en/home/tracking/tracking-parcel.html"
            "?submit=1&tracking-id=00340434161094201001",
            shipped_on=day(-8),
        ),
        expected_delivery=day(-3),
    )
    delayed = await system.get_order("C-1008", "BW-104305")
    on_time = await system.get_order("C-1001", "BW-104233")
    delivered = await system.get_order("C-1001", "BW-104118")
    assert [o.days_late(TODAY) for o in (late, delayed, on_time, delivered)] == [3, 2, 0, 0]


async def test_another_customers_order_is_not_found(system: BusinessSystem) -> None:
    keys = []
    for number in ("BW-104201", "#104201", "BW-000000", "not a number"):
        with pytest.raises(NotFound) as raised:
            await system.get_order("C-1001", number)
        keys.append((raised.value.kind, raised.value.key))
    assert keys == [
        ("order", "BW-104201"),
        ("order", "BW-104201"),
        ("order", "BW-000000"),
        ("order", "not a number"),
    ]


async def test_orders_are_listed_newest_first(system: BusinessSystem) -> None:
    orders = await system.list_orders("C-1001")
    assert [(o.order_number, o.status, o.placed_on) for o in orders] == [
        ("BW-104390", OrderStatus.PROCESSING, TODAY),
        ("BW-104233", OrderStatus.SHIPPED, day(-2)),
        ("BW-104118", OrderStatus.DELIVERED, day(-30)),
        ("BW-103877", OrderStatus.CANCELLED, day(-61)),
    ]
    assert orders[0] == PROCESSING_ORDER
    assert orders[1] == SHIPPED_ORDER
    assert await system.list_orders("C-1009") == [await system.get_order("C-1009", "BW-103950")]


async def test_the_shipping_address_changes_while_the_order_is_processing(
    system: BusinessSystem,
) -> None:
    changed = await system.change_shipping_address("C-1001", "BW-104390", NEW_HOME)
    expected = replace(
        PROCESSING_ORDER,
        shipping_address=Address(
            "Emma de Vries", "Keizersgracht 12", "1015 CR", "Amsterdam", "NL", "2e hoog"
        ),
    )
    assert changed == expected
    assert await system.get_order("C-1001", "BW-104390") == expected


@pytest.mark.parametrize(
    ("customer_id", "number", "state", "reason"),
    [
        ("C-1001", "BW-104233", "shipped", Refusal.ORDER_SHIPPED),
        ("C-1004", "BW-104287", "out_for_delivery", Refusal.ORDER_SHIPPED),
        ("C-1003", "BW-104322", "delayed", Refusal.ORDER_SHIPPED),
        ("C-1001", "BW-104118", "delivered", Refusal.ORDER_DELIVERED),
        ("C-1001", "BW-103877", "cancelled", Refusal.ORDER_CANCELLED),
        ("C-1004", "BW-104012", "returned_to_sender", Refusal.ORDER_RETURNED),
    ],
)
async def test_orders_past_processing_refuse_changes_with_the_reason(
    system: BusinessSystem, customer_id: str, number: str, state: str, reason: Refusal
) -> None:
    before = await system.get_order(customer_id, number)
    address = Address("Someone", "Somewhere 1", "1000 AA", "Amsterdam", "NL")
    for operation, call in (
        ("change_shipping_address", system.change_shipping_address(customer_id, number, address)),
        ("cancel_order", system.cancel_order(customer_id, number)),
    ):
        with pytest.raises(NotAllowed) as raised:
            await call
        assert (raised.value.operation, raised.value.reason, raised.value.state) == (
            operation,
            reason,
            state,
        )
    assert await system.get_order(customer_id, number) == before


async def test_a_new_address_must_be_complete_and_in_the_same_country(
    system: BusinessSystem,
) -> None:
    refusals = []
    for address in (
        Address("Emma de Vries", "Rue Neuve 1", "1000", "Bruxelles", "BE"),
        Address("Emma de Vries", "  ", "1015 CR", "Amsterdam", "NL"),
    ):
        with pytest.raises(NotAllowed) as raised:
            await system.change_shipping_address("C-1001", "BW-104390", address)
        refusals.append((raised.value.reason, raised.value.state))
    assert refusals == [
        (Refusal.COUNTRY_CHANGE, "processing"),
        (Refusal.INVALID_ADDRESS, "processing"),
    ]
    assert await system.get_order("C-1001", "BW-104390") == PROCESSING_ORDER


async def test_a_processing_order_is_cancelled_once(system: BusinessSystem) -> None:
    cancelled = await system.cancel_order("C-1001", "bw-104390")
    expected = replace(PROCESSING_ORDER, status=OrderStatus.CANCELLED, expected_delivery=None)
    assert cancelled == expected
    with pytest.raises(NotAllowed) as raised:
        await system.cancel_order("C-1001", "BW-104390")
    assert raised.value.reason == Refusal.ORDER_CANCELLED


async def test_a_password_reset_link_lasts_an_hour(system: BusinessSystem) -> None:
    first = await system.create_password_reset("C-1001")
    locked = await system.create_password_reset("C-1007")  # a reset lifts the lock
    assert len(first.token) >= 40
    assert first != locked
    assert (first.customer_id, first.url, first.expires_at) == (
        "C-1001",
        RESET_URL_BASE + first.token,
        NOW + timedelta(minutes=60),
    )
    assert "token" not in repr(first) and first.token not in repr(first)


@pytest.mark.parametrize(
    ("customer_id", "state", "reason"),
    [
        ("C-1005", "pending_activation", Refusal.ACCOUNT_NOT_ACTIVATED),
        ("C-1008", "suspended", Refusal.ACCOUNT_SUSPENDED),
        ("C-1009", "closed", Refusal.ACCOUNT_CLOSED),
    ],
)
async def test_no_reset_link_for_pending_suspended_or_closed_accounts(
    system: BusinessSystem, customer_id: str, state: str, reason: Refusal
) -> None:
    with pytest.raises(NotAllowed) as raised:
        await system.create_password_reset(customer_id)
    assert (raised.value.operation, raised.value.reason, raised.value.state) == (
        "create_password_reset",
        reason,
        state,
    )


async def test_the_activation_email_is_sent_again_to_pending_accounts(
    system: BusinessSystem, outbox: Path
) -> None:
    sent = await system.resend_activation("C-1005")
    assert sent == ActivationEmail("C-1005", "a***e@example.org", NOW, NOW + timedelta(hours=48))
    [message] = read_outbox(outbox)
    assert (message["To"], message["Subject"]) == (
        "aoife.byrne@example.org",
        "Activate your Brightwave account",
    )
    body = message.get_content()
    assert body.startswith("Hi Aoife,\n\nPlease confirm your email address")
    assert "https://brightwave.example/activate?token=" in body
    with pytest.raises(NotAllowed) as raised:
        await system.resend_activation("C-1001")
    assert (raised.value.reason, raised.value.state) == (Refusal.ACCOUNT_ALREADY_ACTIVE, "active")


async def test_deleting_an_account_closes_it_with_a_30_day_grace_period(
    system: BusinessSystem,
) -> None:
    request = await system.request_account_deletion("C-1011")
    assert request.request_id.startswith("DEL-")
    assert request == DeletionRequest("C-1011", request.request_id, TODAY, day(30))
    assert await system.request_account_deletion("C-1011") == request
    assert await system.account_status("C-1011") == AccountState(
        "C-1011", AccountStatus.CLOSED, "deletion_requested", day(30)
    )
    # Plus billed by Brightwave stops at once.
    assert await system.subscription("C-1011") == Subscription(
        customer_id="C-1011",
        plan=Plan.MONTHLY,
        status=SubscriptionStatus.EXPIRED,
        billed_by=BilledBy.BRIGHTWAVE,
        price_eur=Decimal("4.99"),
        started_on=day(-88),
        ends_on=TODAY,
    )


async def test_an_account_closed_earlier_returns_its_deletion_request(
    system: BusinessSystem,
) -> None:
    request = await system.request_account_deletion("C-1009")
    assert request == DeletionRequest("C-1009", request.request_id, day(-10), day(20))
    assert request.request_id.startswith("DEL-")


async def test_deletion_waits_for_open_orders_and_suspensions(system: BusinessSystem) -> None:
    refusals = []
    for customer_id in ("C-1001", "C-1008"):
        with pytest.raises(NotAllowed) as raised:
            await system.request_account_deletion(customer_id)
        refusals.append((raised.value.reason, raised.value.state))
    assert refusals == [
        (Refusal.OPEN_ORDERS, "active"),
        (Refusal.ACCOUNT_SUSPENDED, "suspended"),
    ]
    assert (await system.account_status("C-1001")).status == AccountStatus.ACTIVE


async def test_the_profile_for_agents_masks_the_email(system: BusinessSystem) -> None:
    assert await system.profile("C-1001") == CustomerProfile(
        "C-1001", "Emma de Vries", "e***s@example.com"
    )


async def test_plus_subscriptions_read_back_whole(system: BusinessSystem) -> None:
    monthly = Subscription(
        customer_id="C-1001",
        plan=Plan.MONTHLY,
        status=SubscriptionStatus.ACTIVE,
        billed_by=BilledBy.BRIGHTWAVE,
        price_eur=Decimal("4.99"),
        started_on=day(-140),
        renews_on=day(12),
    )
    yearly_ended = Subscription(
        customer_id="C-1012",
        plan=Plan.YEARLY,
        status=SubscriptionStatus.EXPIRED,
        billed_by=BilledBy.BRIGHTWAVE,
        price_eur=Decimal("49.00"),
        started_on=day(-420),
        ends_on=day(-55),
    )
    assert [
        await system.subscription(customer_id) for customer_id in ("C-1001", "C-1012", "C-1006")
    ] == [monthly, yearly_ended, None]


async def test_cancelling_plus_takes_effect_at_the_end_of_the_paid_period(
    system: BusinessSystem,
) -> None:
    cancellation = await system.cancel_subscription("C-1001")
    assert cancellation == SubscriptionCancellation("C-1001", cancellation.confirmation_id, day(12))
    assert cancellation.confirmation_id.startswith("PLUS-")
    assert await system.cancel_subscription("C-1001") == cancellation
    subscription = await system.subscription("C-1001")
    assert subscription is not None
    assert (subscription.status, subscription.renews_on, subscription.ends_on) == (
        SubscriptionStatus.CANCELLED,
        None,
        day(12),
    )
    trial = await system.cancel_subscription("C-1010")
    assert trial.effective_on == day(14)
    already = await system.cancel_subscription("C-1004")  # cancelled before the demo started
    assert (already.effective_on, already.confirmation_id.startswith("PLUS-")) == (day(9), True)


async def test_plus_from_app_stores_or_already_ended_cannot_be_cancelled_here(
    system: BusinessSystem,
) -> None:
    refusals = []
    for customer_id in ("C-1007", "C-1003", "C-1012"):
        with pytest.raises(NotAllowed) as raised:
            await system.cancel_subscription(customer_id)
        refusals.append((customer_id, raised.value.reason, raised.value.state))
    assert refusals == [
        ("C-1007", Refusal.BILLED_BY_APP_STORE, "active"),
        ("C-1003", Refusal.BILLED_BY_APP_STORE, "active"),
        ("C-1012", Refusal.SUBSCRIPTION_ENDED, "expired"),
    ]
    with pytest.raises(NotFound) as missing:
        await system.cancel_subscription("C-1006")
    assert (missing.value.kind, missing.value.key) == ("subscription", "C-1006")
