"""The support lead's report, on SQLite and PostgreSQL."""

from __future__ import annotations

import json
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

import sqlalchemy as sa

from actions import db as actions_db
from core.database import create_engine
from handoff import db as handoff_db
from handoff.report import Csat, Durations, build_report, format_report
from handoff.store import escalations

START = datetime(2026, 11, 2, 9, 0, tzinfo=UTC)
END = START + timedelta(days=7)

# The columns of Rasa's SQLTrackerStore ``events`` table that the report reads
# (rasa/core/tracker_store.py, SQLTrackerStore.SQLEvent); the end-to-end test
# reads the real one.
rasa_metadata = sa.MetaData()
rasa_events = sa.Table(
    "events",
    rasa_metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("sender_id", sa.String(255), nullable=False, index=True),
    sa.Column("type_name", sa.String(255), nullable=False),
    sa.Column("timestamp", sa.Float),
    sa.Column("intent_name", sa.String(255)),
    sa.Column("action_name", sa.String(255)),
    sa.Column("data", sa.Text),
)


def at(minutes: float) -> datetime:
    return START + timedelta(days=1, minutes=minutes)


def escalation(conversation: str, minutes: float, **values: object) -> dict[str, object]:
    row: dict[str, object] = {
        "id": str(uuid.uuid4()),
        "idempotency_key": str(uuid.uuid4()),
        "conversation_id": conversation,
        "tier": 2,
        "queue": "tier2-general",
        "category": "human_handoff",
        "priority": "P3",
        "status": "queued",
        "summary": "",
        "transcript": [],
        "created_at": at(minutes),
        "updated_at": at(minutes),
        "parent_id": None,
        "claimed_at": None,
        "closed_at": None,
        "csat_score": None,
    }
    row.update(values)
    return row


def customer_turn(conversation: str, when: datetime) -> dict[str, object]:
    return {
        "sender_id": conversation,
        "type_name": "user",
        "timestamp": when.timestamp(),
        "data": json.dumps({"event": "user", "text": "hi"}),
    }


def test_containment_tiers_times_and_csat_of_a_week(database_url: str) -> None:
    app = create_engine(database_url)
    handoff_db.upgrade(app)
    actions_db.upgrade(app)
    tracker = create_engine(database_url)
    rasa_metadata.create_all(tracker)

    transferred = escalation(
        "b",
        0,
        status="transferred",
        claimed_at=at(4),
        closed_at=at(10),
    )
    with app.begin() as connection:
        connection.execute(
            sa.insert(escalations),
            [
                transferred,
                escalation(
                    "b",
                    10,
                    tier=3,
                    queue="tier3-product",
                    parent_id=transferred["id"],
                    status="resolved",
                    claimed_at=at(12),
                    closed_at=at(30),
                    csat_score=4,
                ),
                escalation("c", 60, category="damaged_item", queue="tier2-technical"),
                escalation("old", -3 * 24 * 60),  # before the period
            ],
        )
        connection.execute(
            sa.text(
                "INSERT INTO conversation_outcomes (id, conversation_id, category, outcome, "
                "created_at) VALUES (:id, :conversation, :category, :outcome, :created_at)"
            ),
            [
                {
                    "id": str(uuid.uuid4()),
                    "conversation": "a",
                    "category": "order_status",
                    "outcome": "resolved_by_bot",
                    "created_at": at(1).replace(tzinfo=None),
                },
                {
                    "id": str(uuid.uuid4()),
                    "conversation": "b",
                    "category": "password_reset",
                    "outcome": "escalated",
                    "created_at": at(2).replace(tzinfo=None),
                },
            ],
        )
    with tracker.begin() as connection:
        connection.execute(
            sa.insert(rasa_events),
            [
                customer_turn("a", at(0)),
                customer_turn("a", at(1)),
                customer_turn("b", at(0)),
                customer_turn("c", at(59)),
                customer_turn("old", START - timedelta(hours=1)),
                {**customer_turn("bot-only", at(5)), "type_name": "bot"},
            ],
        )

    report = build_report(app, tracker, START, END)

    assert report.as_json() == {
        "start": "2026-11-02T09:00:00+00:00",
        "end": "2026-11-09T09:00:00+00:00",
        "conversations": 3,
        "escalated_conversations": 2,
        "containment": 0.3333,
        "escalations": 3,
        "escalations_by_tier": {2: 2, 3: 1},
        "escalations_by_queue": {"tier2-general": 1, "tier2-technical": 1, "tier3-product": 1},
        "escalations_by_category": {"damaged_item": 1, "human_handoff": 2},
        "open_escalations": 1,
        "time_to_claim": {"count": 2, "median_minutes": 3.0, "p90_minutes": 4.0},
        "time_to_resolve": {"count": 1, "median_minutes": 30.0, "p90_minutes": 30.0},
        "csat": {
            "responses": 1,
            "average": 4.0,
            "scores": {1: 0, 2: 0, 3: 0, 4: 1, 5: 0},
            "response_rate": 1.0,
        },
        "outcomes": {
            "order_status": {"resolved_by_bot": 1},
            "password_reset": {"escalated": 1},
        },
        "missing": [],
    }
    text = format_report(report)
    assert text.splitlines()[:6] == [
        "Support report 2026-11-02 09:00 to 2026-11-09 09:00 UTC",
        "",
        "Conversations          3",
        "Handed to people       2",
        "Containment            33.3%",
        "",
    ]
    assert "Time to claim          median 3.0 min, 90% within 4.0 min (2 claimed)" in text
    assert "CSAT                   4.00 / 5 from 1 answers" in text
    app.dispose()
    tracker.dispose()


def test_a_new_installation_reports_zeros_and_names_what_is_missing(tmp_path) -> None:  # type: ignore[no-untyped-def]
    empty = create_engine(f"sqlite:///{tmp_path / 'empty.db'}")

    report = build_report(empty, empty, START, END)

    assert (report.conversations, report.containment, report.escalations) == (0, None, 0)
    assert report.time_to_claim == Durations(0, None, None)
    assert report.csat == Csat(0, None, {1: 0, 2: 0, 3: 0, 4: 0, 5: 0}, None)
    assert report.missing == [
        "Rasa's events table",
        "escalations table",
        "conversation_outcomes table",
    ]
    assert format_report(report).splitlines()[-1] == (
        "Not found (counted as empty): Rasa's events table, escalations table, "
        "conversation_outcomes table"
    )


def test_the_report_shows_no_customer_text(tmp_path: Path) -> None:
    """The report is an outlet too: it counts, it never quotes. Customer text in
    the transcript, summary, CSAT comment and Tier 1 detail stays out of the
    text and the JSON (nothing to redact there; this keeps it so)."""
    app = create_engine(f"sqlite:///{tmp_path / 'frontline.db'}")
    handoff_db.upgrade(app)
    actions_db.upgrade(app)
    tracker = create_engine(f"sqlite:///{tmp_path / 'tracker.db'}")
    rasa_metadata.create_all(tracker)
    said = "card 4111 1111 1111 1111, IBAN NL91ABNA0417164300, code 482913, +31 6 12345678"
    with app.begin() as connection:
        connection.execute(
            sa.insert(escalations),
            [
                escalation(
                    "a",
                    0,
                    status="resolved",
                    claimed_at=at(1),
                    closed_at=at(2),
                    summary=f'Customer wants help: "{said}"',
                    transcript=[{"from": "customer", "text": said, "ts": ""}],
                    csat_score=5,
                    csat_comment=said,
                    customer={"verified": False, "contact_email": "emma@example.com"},
                )
            ],
        )
        connection.execute(
            sa.text(
                "INSERT INTO conversation_outcomes (id, conversation_id, category, outcome, "
                "detail, created_at) VALUES (:id, 'a', 'order_status', 'escalated', :detail, "
                ":created_at)"
            ),
            {"id": str(uuid.uuid4()), "detail": said, "created_at": at(1).replace(tzinfo=None)},
        )
    with tracker.begin() as connection:
        connection.execute(
            sa.insert(rasa_events),
            [{**customer_turn("a", at(0)), "data": json.dumps({"event": "user", "text": said})}],
        )
    report = build_report(app, tracker, START, END)
    shown = format_report(report) + json.dumps(report.as_json())
    assert (report.escalations, report.csat.responses) == (1, 1)  # the rows were read
    for value in ("4111", "NL91", "482913", "12345678", "emma@example.com", "Customer wants"):
        assert value not in shown
    app.dispose()
    tracker.dispose()
