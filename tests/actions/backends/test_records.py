"""Conversation outcomes and account requests on SQLite and PostgreSQL."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date, timedelta
from pathlib import Path

import pytest
import sqlalchemy as sa

from actions.backends import (
    AccountRequest,
    AccountRequestKind,
    AccountRequestStore,
    ConversationOutcome,
    Outcome,
    OutcomeStore,
    outcome_counts,
)
from actions.db import create_engine, upgrade
from tests.actions.backends.conftest import NOW, FakeClock


@pytest.fixture
def engine(database_url: str) -> Iterator[sa.Engine]:
    engine = create_engine(database_url)
    upgrade(engine)
    yield engine
    engine.dispose()


async def test_outcomes_read_back_whole_oldest_first(engine: sa.Engine, clock: FakeClock) -> None:
    store = OutcomeStore(engine, clock=clock)
    first = await store.record("conv-1", "order_status", Outcome.RESOLVED_BY_BOT)
    clock.advance(minutes=2)
    second = await store.record("conv-1", "late_parcel", "escalated", detail="5 days late")
    clock.advance(minutes=1)
    third = await store.record("conv-2", "compatibility", Outcome.SELF_SERVICE_ARTICLE)
    assert first == ConversationOutcome(
        "conv-1", "order_status", Outcome.RESOLVED_BY_BOT, NOW, None, first.id
    )
    assert await store.list() == [first, second, third]
    assert await store.list(conversation_id="conv-1") == [first, second]
    assert await store.list(since=NOW + timedelta(minutes=2)) == [second, third]


async def test_outcomes_are_counted_per_category(engine: sa.Engine, clock: FakeClock) -> None:
    store = OutcomeStore(engine, clock=clock)
    for conversation, category, outcome in [
        ("a", "password_reset", Outcome.RESOLVED_BY_BOT),
        ("b", "password_reset", Outcome.RESOLVED_BY_BOT),
        ("c", "password_reset", Outcome.ESCALATED),
        ("d", "delete_account", Outcome.ABANDONED),
    ]:
        await store.record(conversation, category, outcome)
    assert await store.counts() == {
        ("password_reset", Outcome.RESOLVED_BY_BOT): 2,
        ("password_reset", Outcome.ESCALATED): 1,
        ("delete_account", Outcome.ABANDONED): 1,
    }
    assert await store.counts(since=NOW + timedelta(seconds=1)) == {}


async def test_a_report_counts_the_outcomes_of_its_period_by_category(
    engine: sa.Engine, clock: FakeClock
) -> None:
    store = OutcomeStore(engine, clock=clock)
    clock.advance(minutes=-1)
    await store.record("early", "password_reset", Outcome.ESCALATED)  # before the period
    clock.advance(minutes=1)
    for conversation, category, outcome in [
        ("a", "password_reset", Outcome.RESOLVED_BY_BOT),
        ("b", "password_reset", Outcome.RESOLVED_BY_BOT),
        ("c", "password_reset", Outcome.ABANDONED),
        ("d", "delete_account", Outcome.ESCALATED),
    ]:
        await store.record(conversation, category, outcome)
    clock.advance(hours=1)
    await store.record("late", "delete_account", Outcome.ABANDONED)  # at the end: excluded

    assert outcome_counts(engine, NOW, NOW + timedelta(hours=1)) == {
        "delete_account": {"escalated": 1},
        "password_reset": {"abandoned": 1, "resolved_by_bot": 2},
    }
    # sorted by category, then outcome, as the report prints them
    assert [
        (category, list(counts))
        for category, counts in outcome_counts(engine, NOW, NOW + timedelta(hours=1)).items()
    ] == [("delete_account", ["escalated"]), ("password_reset", ["abandoned", "resolved_by_bot"])]


def test_without_the_actions_tables_there_are_no_outcome_counts(tmp_path: Path) -> None:
    empty = create_engine(f"sqlite:///{tmp_path / 'empty.db'}")
    assert outcome_counts(empty, NOW, NOW + timedelta(days=1)) is None
    empty.dispose()


async def test_unknown_outcomes_and_empty_categories_are_refused(engine: sa.Engine) -> None:
    store = OutcomeStore(engine)
    with pytest.raises(ValueError, match="'solved' is not a valid Outcome"):
        await store.record("conv-1", "order_status", "solved")
    with pytest.raises(ValueError, match="category must not be empty"):
        await store.record("conv-1", " ", Outcome.ABANDONED)
    assert await store.list() == []


async def test_account_requests_keep_their_conversation(
    engine: sa.Engine, clock: FakeClock
) -> None:
    store = AccountRequestStore(engine, clock=clock)
    deletion = await store.record(
        "conv-1", "C-1011", AccountRequestKind.DELETE_ACCOUNT, "DEL-1A2B3C4D", date(2026, 4, 9)
    )
    clock.advance(minutes=1)
    cancel = await store.record("conv-2", "C-1001", "cancel_order", "BW-104390")
    assert deletion == AccountRequest(
        "conv-1",
        "C-1011",
        AccountRequestKind.DELETE_ACCOUNT,
        NOW,
        "DEL-1A2B3C4D",
        date(2026, 4, 9),
        deletion.id,
    )
    assert await store.list() == [deletion, cancel]
    assert await store.list(conversation_id="conv-2") == [cancel]
    assert await store.list(customer_id="C-1011") == [deletion]
    with pytest.raises(ValueError):
        await store.record("conv-3", "C-1001", "launch_rocket")
