"""``HandoffService`` operations on the real database (SQLite and PostgreSQL)."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime

import pytest

from handoff.db import create_engine, upgrade
from handoff.routing import load_routing
from handoff.service import Agent, EscalationRequest, HandoffService
from handoff.store import EscalationStore

SUNDAY = datetime(2026, 11, 29, 10, 0, tzinfo=UTC)  # customer care is closed
TUESDAY = datetime(2026, 11, 24, 10, 0, tzinfo=UTC)  # open


@pytest.fixture
def store(database_url: str) -> Iterator[EscalationStore]:
    engine = create_engine(database_url)
    upgrade(engine)
    yield EscalationStore(engine)
    engine.dispose()


def opened(
    store: EscalationStore, now: datetime, conversation_id: str = "conv0"
) -> tuple[HandoffService, str]:
    service = HandoffService(store, load_routing(), clock=lambda: now)
    ticket = service.open(
        EscalationRequest(
            conversation_id=conversation_id,
            reason="tier2_topic",
            category="damaged_item",
            transcript=[{"from": "customer", "text": "my watch arrived broken", "ts": ""}],
        )
    )
    return service, ticket.escalation_id


def test_an_email_left_while_the_queue_is_closed_goes_on_the_card(
    store: EscalationStore,
) -> None:
    service, escalation_id = opened(store, SUNDAY)
    updated = service.leave_contact_email("conv0", "emma@example.com")
    assert updated is not None
    assert updated.customer == {"verified": False, "contact_email": "emma@example.com"}
    assert store.get(escalation_id).customer == updated.customer
    assert [(j.kind, j.dedupe_key) for j in store.jobs(escalation_id)][2:] == [
        ("slack.update_card", f"{escalation_id}:card:contact:emma@example.com")
    ]
    # The same address again changes nothing.
    assert service.leave_contact_email("conv0", "emma@example.com") is None
    assert len(store.jobs(escalation_id)) == 3


def test_no_email_is_recorded_while_the_queue_is_open_or_the_case_claimed(
    store: EscalationStore,
) -> None:
    service, escalation_id = opened(store, TUESDAY)
    assert service.leave_contact_email("conv0", "emma@example.com") is None
    closed, other_id = opened(store, SUNDAY, "conv1")
    closed.claim(other_id, Agent("U0ALEX", "Alex"))
    assert closed.leave_contact_email("conv1", "emma@example.com") is None
    assert closed.leave_contact_email("nobody", "emma@example.com") is None
    assert [store.get(i).customer for i in (escalation_id, other_id)] == [{"verified": False}] * 2
