"""A password the customer types is masked by the channel before Rasa sees it:
the bot warns them, and the password is in no tracker event, no application
record and no Slack message, through the real Rasa server, action server and
handoff service (Slack imitated by a local server)."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa

from actions.tier1.typed_secrets import WARNING
from core.database import create_engine
from core.typed_secrets import MASK
from launcher.stack import Stack
from tests.e2e.conftest import WidgetClient, slack_env, stack_settings, started_stack
from tests.e2e.test_handoff_slack import SECRET, cards, prepare, texts, wait_for
from tests.handoff.mock_slack import MockSlack

pytestmark = pytest.mark.e2e

ACCOUNTS = "C0ACCOUNTS"
LABELLED = "Tr0ub4dor&3x"
BARE = "Correct!Horse9"
LATER = "Sup3rSecret!7"
PASSWORDS = (LABELLED, BARE, LATER)


@pytest.fixture(scope="module")
def slack() -> Iterator[MockSlack]:
    with MockSlack() as server:
        yield server


@pytest.fixture(scope="module")
async def stack(
    model: Path, tmp_path_factory: pytest.TempPathFactory, slack: MockSlack
) -> AsyncIterator[Stack]:
    prepare(slack)
    with started_stack(
        stack_settings(tmp_path_factory.mktemp("passwords")),
        model,
        handoff=True,
        slack=slack_env(slack.token, SECRET, slack.url),
    ) as running:
        yield running


def every_value(database_url: str) -> str:
    """Every row of every table of a database, as one string."""
    engine = create_engine(database_url)
    try:
        with engine.connect() as connection:
            rows = [
                list(row)
                for table in sa.inspect(connection).get_table_names()
                for row in connection.execute(sa.text(f'SELECT * FROM "{table}"'))
            ]
    finally:
        engine.dispose()
    return json.dumps(rows, default=str, ensure_ascii=False)


def bot_texts(messages: list[dict[str, Any]]) -> list[str]:
    return [m.get("text", "") for m in messages]


async def test_typed_passwords_are_masked_everywhere_and_the_customer_is_warned(
    stack: Stack, slack: MockSlack
) -> None:
    widget = WidgetClient(stack.rasa_url)
    session_id = await widget.connect()
    try:
        # A labelled password in the first message: warned, then verification starts.
        first = await widget.say(f"I can't log in, my password is {LABELLED} and it fails")
        assert bot_texts(first)[0] == WARNING
        assert "email address" in bot_texts(first)[-1]
        # A bare password where the bot asked for an email address: warned, not used.
        second = await widget.say(BARE)
        assert bot_texts(second)[0] == WARNING
        # A person takes over; a password typed to them is masked as well.
        queued = await widget.say("I want to talk to a human")
        assert [m.get("custom", {}).get("type") for m in queued][-1] == "handoff_queued"
        card = await wait_for(lambda: cards(slack, ACCOUNTS))
        transcript = await wait_for(lambda: slack.replies(ACCOUNTS, card[0]["ts"]))
        # Nobody has claimed it yet: the customer hears the message reached the team.
        waiting = await widget.say(f"pw: {LATER}")
        assert [(m.get("custom") or {}).get("type") for m in waiting] == ["relayed_to_team"]
        assert LATER not in json.dumps(waiting)
        relayed = await wait_for(
            lambda: [
                m
                for m in slack.replies(ACCOUNTS, card[0]["ts"])
                if f"pw: {MASK}" in texts(m.get("blocks", []))
            ]
        )
        assert len(relayed) == 1

        # What the customer sees again after a reload: the masked messages.
        history = await widget.sio.call("history_request", {"session_id": session_id})
        assert [m["text"] for m in history["messages"] if m["from"] == "user"] == [
            f"I can't log in, my password is {MASK} and it fails",
            MASK,
            "I want to talk to a human",
            f"pw: {MASK}",
        ]
    finally:
        await widget.close()

    shown_to_agents = json.dumps([c.args for c in slack.calls], ensure_ascii=False)
    tracker_rows = every_value(stack.settings.rasa_tracker_store_url)
    app_rows = every_value(stack.settings.app_database_url)
    assert MASK in texts(transcript[0]["blocks"])
    assert MASK in tracker_rows and MASK in app_rows
    for password in PASSWORDS:
        assert password not in tracker_rows
        assert password not in app_rows
        assert password not in shown_to_agents
