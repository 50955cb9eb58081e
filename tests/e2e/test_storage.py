"""Conversations live in the SQL tracker store: they survive a restart of the
Rasa server, on SQLite by default and on PostgreSQL when configured."""

from __future__ import annotations

from pathlib import Path

import pytest
import sqlalchemy as sa

from launcher.stack import Stack
from tests.e2e.conftest import WidgetClient, stack_settings
from tests.e2e.test_conversation import GREETING, tracker, user_texts

pytestmark = pytest.mark.e2e


async def test_a_conversation_survives_a_rasa_restart(model: Path, tmp_path: Path) -> None:
    running = Stack(stack_settings(tmp_path / "var"))
    running.migrate()
    try:
        running.start([running.actions_service(), running.rasa_service(model)])
        client = WidgetClient(running.rasa_url)
        session_id = await client.connect()
        assert await client.say("hello") == [GREETING]
        await client.close()

        rasa = running.services.pop()
        rasa.stop()
        running.start([running.rasa_service(model)])

        resumed = WidgetClient(running.rasa_url)
        assert await resumed.connect(session_id) == session_id
        assert await resumed.say("hi again") == [GREETING]
        await resumed.close()
        assert user_texts(tracker(running, session_id)) == ["hello", "hi again"]
    finally:
        running.stop()


async def test_postgresql_holds_conversations_and_escalation_tables(
    model: Path, tmp_path: Path, postgres_url: str
) -> None:
    running = Stack(stack_settings(tmp_path / "var", database_url=postgres_url))
    running.migrate()
    try:
        running.start([running.actions_service(), running.rasa_service(model)])
        client = WidgetClient(running.rasa_url)
        session_id = await client.connect()
        assert await client.say("hello") == [GREETING]
        await client.close()
    finally:
        running.stop()
    engine = sa.create_engine(postgres_url)
    with engine.connect() as connection:
        tables = set(sa.inspect(connection).get_table_names())
        rows = connection.execute(
            sa.text(
                "SELECT type_name, action_name FROM events WHERE sender_id = :id "
                "AND type_name IN ('user', 'bot', 'action') ORDER BY id"
            ),
            {"id": session_id},
        ).all()
    engine.dispose()
    assert {"events", "escalations", "alembic_version_handoff"} <= tables
    assert [tuple(row) for row in rows] == [
        ("action", "action_session_start"),
        ("action", "action_listen"),
        ("user", None),
        ("action", "action_greet"),
        ("bot", None),
        ("action", "action_listen"),
    ]
