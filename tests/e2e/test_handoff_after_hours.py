"""Outside business hours: the customer hears when the team is back, can leave
an email address for the answer, and the agents see it on the case's card.
Real Rasa server, action server and handoff service; Slack imitated locally;
the routing's schedules closed today."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
import yaml

from core.database import create_engine
from handoff.settings import DEFAULT_ROUTING
from handoff.store import EscalationStore
from launcher.stack import Stack
from tests.e2e.conftest import WidgetClient, stack_settings
from tests.e2e.test_handoff_slack import SECRET, cards, prepare, texts, wait_for
from tests.handoff.mock_slack import MockSlack

pytestmark = pytest.mark.e2e

GENERAL = "C0GENERAL"


def closed_today(folder: Path) -> Path:
    """The shipped routing with every team off today (a public holiday)."""
    routing = yaml.safe_load(DEFAULT_ROUTING.read_text())
    for schedule in routing["schedules"].values():
        today = datetime.now(ZoneInfo(schedule["timezone"])).date()
        schedule["closed_on"] = [today]
    path = folder / "routing.yml"
    path.write_text(yaml.safe_dump(routing))
    return path


@pytest.fixture(scope="module")
def slack() -> Iterator[MockSlack]:
    with MockSlack() as server:
        yield server


@pytest.fixture(scope="module")
async def stack(
    model: Path, tmp_path_factory: pytest.TempPathFactory, slack: MockSlack
) -> AsyncIterator[Stack]:
    prepare(slack)
    var = tmp_path_factory.mktemp("after-hours")
    with pytest.MonkeyPatch.context() as monkeypatch:
        monkeypatch.setenv("FRONTLINE_HANDOFF_ROUTING", str(closed_today(var)))
        running = Stack(stack_settings(var))
        running.migrate()
        handoff = running.handoff_service()
        handoff.env.update(
            {
                "SLACK_BOT_TOKEN": slack.token,
                "SLACK_SIGNING_SECRET": SECRET,
                "FRONTLINE_HANDOFF_SLACK_API_URL": slack.url,
            }
        )
        try:
            running.start([running.actions_service(), running.rasa_service(model), handoff])
            yield running
        finally:
            running.stop()


async def test_a_customer_leaves_an_email_for_the_answer_and_the_card_shows_it(
    stack: Stack, slack: MockSlack
) -> None:
    store = EscalationStore(create_engine(stack.settings.app_database_url))
    widget = WidgetClient(stack.rasa_url)
    await widget.connect()
    try:
        [queued] = await widget.say("I want to talk to a person")
        assert queued["custom"]["type"] == "handoff_queued"
        assert queued["custom"]["open_now"] is False
        assert queued["text"].startswith("Our Customer care is offline right now.")
        assert queued["text"].endswith(
            "If you'd like their answer by email as well, just type your email address here."
        )
        card = await wait_for(lambda: cards(slack, GENERAL))

        saved = await widget.say("sure, it's Emma.deVries@example.com")
        assert saved == [
            {
                "text": "Thanks! Our Customer care will also send their answer to "
                "emma.devries@example.com.",
                "custom": {"type": "contact_email_saved", "email": "emma.devries@example.com"},
            }
        ]
        [escalation] = store.list()
        assert escalation.customer == {
            "verified": False,
            "contact_email": "emma.devries@example.com",
        }
        updates = await wait_for(lambda: slack.calls_to("chat.update"))
        assert updates[-1].args["ts"] == card[0]["ts"]
        shown = texts(updates[-1].args["blocks"])
        assert "*Reply by email*" in shown and "emma.devries@example.com" in shown
    finally:
        await widget.close()
