"""Questions answered from the help center through the real servers."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from launcher.stack import Stack
from tests.e2e.conftest import WidgetClient

pytestmark = pytest.mark.e2e

FEEDBACK = {
    "text": "Did this answer your question?",
    "buttons": [
        {"title": "Yes, thanks", "payload": "/affirm"},
        {"title": "No", "payload": "/deny"},
    ],
}


async def test_a_policy_question_gets_the_passage_its_link_and_a_feedback_question(
    stack: Stack, widget: WidgetClient
) -> None:
    article, feedback = await widget.say("how many days do I have to send something back?")
    card = article["custom"]
    assert (card["type"], card["doc_id"], card["url"]) == (
        "article",
        "return-policy",
        "https://help.brightwave.example/articles/return-policy",
    )
    assert "30 days" in card["passage"]
    assert len(card["related"]) <= 2
    assert article["text"].startswith(f"**{card['source']}**\n\n")
    assert feedback == FEEDBACK

    assert [m["text"] for m in await widget.say("/affirm")] == [
        "Great! Is there anything else I can help with?"
    ]
    engine = sa.create_engine(stack.settings.app_database_url)
    with engine.connect() as connection:
        rows = connection.execute(sa.text("SELECT conversation_id, helpful FROM kb_feedback")).all()
    engine.dispose()
    assert [(r[0], bool(r[1])) for r in rows if r[0] == widget.session_id] == [
        (widget.session_id, True)
    ]
