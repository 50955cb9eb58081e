from __future__ import annotations

from datetime import date
from decimal import Decimal

from actions.tier1.messages import day, eur, first_name, message

TODAY = date(2026, 3, 10)


def test_days_read_naturally() -> None:
    assert [day(date(2026, 3, d), TODAY) for d in (9, 10, 11, 14)] == [
        "yesterday, Monday 9 March",
        "today, Tuesday 10 March",
        "tomorrow, Wednesday 11 March",
        "Saturday 14 March",
    ]
    assert day(date(2027, 1, 2), TODAY) == "Saturday 2 January 2027"


def test_money_names_and_messages() -> None:
    assert eur(Decimal("4.99")) == "4.99 EUR"
    assert eur(Decimal("249")) == "249.00 EUR"
    assert [first_name("Emma de Vries"), first_name(""), first_name(None)] == ["Emma", "", ""]
    assert message("hi") == {"text": "hi"}
    assert message("hi", [{"title": "A", "payload": "/a"}], {"type": "x"}) == {
        "text": "hi",
        "buttons": [{"title": "A", "payload": "/a"}],
        "json_message": {"type": "x"},
    }
