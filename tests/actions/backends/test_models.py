"""Pure helpers of the backend models."""

from __future__ import annotations

from dataclasses import replace
from datetime import date
from decimal import Decimal

import pytest

from actions.backends import (
    Address,
    Order,
    OrderItem,
    OrderStatus,
    mask_email,
    normalize_order_number,
)


@pytest.mark.parametrize(
    ("text", "number"),
    [
        ("BW-104233", "BW-104233"),
        ("bw104233", "BW-104233"),
        ("#104233", "BW-104233"),
        ("order 104233", "BW-104233"),
        ("Order number: BW 104233", "BW-104233"),
        ("order no. 104233", "BW-104233"),
        (" bw-104233 ", "BW-104233"),
        ("104233", "BW-104233"),
        ("BW-10423", None),
        ("BW-1042333", None),
        ("XX-104233", None),
        ("", None),
        ("BW-104233; DROP TABLE orders", None),
    ],
)
def test_order_numbers_in_the_ways_customers_write_them(text: str, number: str | None) -> None:
    assert normalize_order_number(text) == number


@pytest.mark.parametrize(
    ("email", "masked"),
    [
        ("emma.devries@example.com", "e***s@example.com"),
        ("jo@example.org", "j***@example.org"),
        ("x@example.net", "x***@example.net"),
        ("not an email", "***"),
    ],
)
def test_emails_are_masked_for_agents(email: str, masked: str) -> None:
    assert mask_email(email) == masked


def test_an_order_totals_its_items_and_knows_when_it_is_late() -> None:
    order = Order(
        order_number="BW-104390",
        customer_id="C-1001",
        status=OrderStatus.SHIPPED,
        placed_on=date(2026, 3, 1),
        items=(
            OrderItem("hub-mini", "Brightwave Hub Mini", 1, Decimal("69")),
            OrderItem("cam-360", "Brightwave Cam 360", 2, Decimal("99.50")),
        ),
        shipping_address=Address(
            "Emma de Vries", "Prinsengracht 263", "1016 GV", "Amsterdam", "NL"
        ),
        expected_delivery=date(2026, 3, 5),
    )
    assert order.total_eur == Decimal("268.00")
    assert [order.days_late(date(2026, 3, day)) for day in (4, 5, 6, 9)] == [0, 0, 1, 4]
    delivered = replace(order, status=OrderStatus.DELIVERED)
    assert delivered.is_late(date(2026, 3, 9)) is False
