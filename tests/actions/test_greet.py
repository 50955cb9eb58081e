from __future__ import annotations

from rasa_sdk.executor import CollectingDispatcher

from actions.greet import ActionGreet
from tests.actions.helpers import tracker


async def test_greeting_offers_the_main_topics_as_buttons() -> None:
    dispatcher = CollectingDispatcher()
    events = await ActionGreet().run(dispatcher, tracker("hi"), {})
    assert events == []
    assert dispatcher.messages == [
        {
            "text": "Hi! I'm Brightwave's virtual assistant. What can I help you with today?",
            "buttons": [
                {"title": "Where is my order?", "payload": "/order_status"},
                {"title": "Reset my password", "payload": "/password_reset"},
                {"title": "Returns and refunds", "payload": "/returns_policy"},
                {"title": "Does it work with my phone?", "payload": "/compatibility"},
                {"title": "Talk to a person", "payload": "/human_handoff"},
            ],
            "elements": [],
            "custom": {},
            "template": None,
            "response": None,
            "image": None,
            "attachment": None,
        }
    ]
