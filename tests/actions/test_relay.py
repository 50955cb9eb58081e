from __future__ import annotations

import logging

import pytest
from rasa_sdk.executor import CollectingDispatcher

from actions.relay import ActionRelayAgentMessage
from tests.actions.helpers import tracker


def agent_tracker(entities: list[dict[str, str]]):  # type: ignore[no-untyped-def]
    return tracker(intent="agent_message", entities=entities)


async def test_an_agent_reply_is_uttered_with_the_agent_name() -> None:
    dispatcher = CollectingDispatcher()
    events = await ActionRelayAgentMessage().run(
        dispatcher,
        agent_tracker(
            [
                {"entity": "agent_text", "value": "Hi, I'm looking at your order now."},
                {"entity": "agent_name", "value": "Alex"},
            ]
        ),
        {},
    )
    assert events == []
    assert dispatcher.messages == [
        {
            "text": "Hi, I'm looking at your order now.",
            "buttons": [],
            "elements": [],
            "custom": {
                "type": "agent_message",
                "agent": {"name": "Alex"},
                "text": "Hi, I'm looking at your order now.",
            },
            "template": None,
            "response": None,
            "image": None,
            "attachment": None,
        }
    ]


async def test_an_agent_without_a_name_is_shown_as_support_agent() -> None:
    dispatcher = CollectingDispatcher()
    await ActionRelayAgentMessage().run(
        dispatcher, agent_tracker([{"entity": "agent_text", "value": "Done!"}]), {}
    )
    assert [m["custom"]["agent"] for m in dispatcher.messages] == [{"name": "Support agent"}]


@pytest.mark.parametrize("entities", [[], [{"entity": "agent_text", "value": "   "}]])
async def test_an_empty_agent_message_is_logged_and_not_sent(
    entities: list[dict[str, str]], caplog: pytest.LogCaptureFixture
) -> None:
    dispatcher = CollectingDispatcher()
    with caplog.at_level(logging.ERROR):
        events = await ActionRelayAgentMessage().run(dispatcher, agent_tracker(entities), {})
    assert (events, dispatcher.messages) == ([], [])
    assert [(r.getMessage(), r.conversation_id) for r in caplog.records] == [  # type: ignore[attr-defined]
        ("agent_message without agent_text ignored", "c0ffee00c0ffee00c0ffee00c0ffee00")
    ]
