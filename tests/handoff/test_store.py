from __future__ import annotations

from datetime import UTC, datetime

import pytest
import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext

from handoff import Escalation, EscalationNotFound, EscalationStore
from handoff.db import SCHEMA, create_engine, upgrade
from handoff.errors import DatabaseUnavailable
from handoff.store import metadata


def make_escalation(key: str = "conv-1:1", **overrides: object) -> Escalation:
    values: dict[str, object] = {
        "conversation_id": "conv-1",
        "idempotency_key": key,
        "tier": 2,
        "queue": "tier2-technical",
        "category": "damaged_item",
        "priority": "P2",
        "summary": "Customer received a broken Pulse 2.",
        "transcript": [{"from": "customer", "text": "my watch arrived broken"}],
        "created_at": datetime(2026, 11, 20, 9, 30, tzinfo=UTC),
        "updated_at": datetime(2026, 11, 20, 9, 30, tzinfo=UTC),
    }
    values.update(overrides)
    return Escalation(**values)  # type: ignore[arg-type]


@pytest.fixture
def store(database_url: str) -> EscalationStore:
    engine = create_engine(database_url)
    upgrade(engine)
    yield EscalationStore(engine)
    engine.dispose()


def test_migrations_create_exactly_the_tables_the_code_uses(database_url: str) -> None:
    engine = create_engine(database_url)
    upgrade(engine)
    with engine.connect() as connection:
        context = MigrationContext.configure(
            connection, opts={"version_table": SCHEMA.version_table}
        )
        assert context.get_current_revision() == "0003"
        assert compare_metadata(context, metadata) == []
    SCHEMA.check_current(engine)
    engine.dispose()


def test_downgrade_to_base_removes_the_tables(database_url: str) -> None:
    engine = create_engine(database_url)
    upgrade(engine)
    SCHEMA.downgrade(engine, "base")
    assert sa.inspect(engine).get_table_names() == ["alembic_version_handoff"]
    with pytest.raises(DatabaseUnavailable, match="schema at nothing, expected 0003"):
        SCHEMA.check_current(engine)
    engine.dispose()


def test_an_escalation_is_stored_once_per_idempotency_key(store: EscalationStore) -> None:
    first, created = store.add(make_escalation())
    again, created_again = store.add(make_escalation(summary="a retry with other text"))
    assert created is True
    assert created_again is False
    assert again == first
    assert store.list() == [first]


def test_escalations_read_back_whole_and_filter_by_status(store: EscalationStore) -> None:
    older = make_escalation("conv-1:1")
    newer = make_escalation(
        "conv-2:1",
        conversation_id="conv-2",
        created_at=datetime(2026, 11, 20, 10, 0, tzinfo=UTC),
    )
    store.add(newer)
    store.add(older)
    assert store.get(older.id) == older
    assert store.list() == [older, newer]
    claimed = store.set_status(newer.id, "claimed")
    assert claimed.status == "claimed"
    assert claimed.updated_at > newer.updated_at
    assert [e.id for e in store.list(statuses=("queued",))] == [older.id]
    assert [e.id for e in store.list(statuses=("claimed",))] == [newer.id]


def test_unknown_ids_raise_escalation_not_found(store: EscalationStore) -> None:
    with pytest.raises(EscalationNotFound) as raised:
        store.get("no-such-id")
    assert raised.value.escalation_id == "no-such-id"
    with pytest.raises(EscalationNotFound):
        store.set_status("no-such-id", "claimed")


def test_an_unknown_status_is_refused(store: EscalationStore) -> None:
    escalation, _ = store.add(make_escalation())
    with pytest.raises(ValueError, match="unknown status 'lost'"):
        store.set_status(escalation.id, "lost")


def test_an_unreachable_database_is_reported_with_its_url() -> None:
    engine = create_engine("postgresql://nobody:secret@127.0.0.1:1/nothing")
    with pytest.raises(DatabaseUnavailable) as raised:
        SCHEMA.check_current(engine)
    assert raised.value.url == "postgresql+psycopg://nobody:***@127.0.0.1:1/nothing"
    assert raised.value.reason == "unreachable (OperationalError)"
