"""Answering from the help center (Tier 0), and "Did this answer your question?".

``action_answer_from_kb`` shows the best passage with the article's title and
link and up to two related articles, only above the knowledge base's calibrated
confidence threshold; below it the bot says so, records the question for
``kb gaps`` and offers a person. A question about another company's product
is declined first (``actions.scope``). ``action_kb_feedback`` stores the customer's
yes or no: no shows the next best article once, a second no hands off.
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.events import EventType, FollowupAction, SlotSet
from rasa_sdk.executor import CollectingDispatcher

from actions import deps
from actions.scope import not_ours_reply, other_company_product
from actions.tier1.parsing import asks_for_person

logger = logging.getLogger(__name__)

HISTORY_TURNS = 2
ASK_FEEDBACK = {
    "text": "Did this answer your question?",
    "buttons": [
        {"title": "Yes, thanks", "payload": "/affirm"},
        {"title": "No", "payload": "/deny"},
    ],
}
# A tier-2 article's steps need our team (a refund of a double charge, a
# corrected invoice): instead of "did this answer?", a person is offered.
OFFER_TEAM = {
    "text": "This is something our support team handles for you. Shall I pass you on to them?",
    "buttons": [
        {"title": "Yes, pass me on", "payload": "/affirm"},
        {"title": "No, thanks", "payload": "/deny"},
    ],
}
TEAM_TIER = 2
NOT_FOUND = {
    "text": "I couldn't find an answer to that in our help center. Would you like to talk to "
    "someone from our support team, or try asking another way?",
    "buttons": [{"title": "Talk to a person", "payload": "/human_handoff"}],
}
UNAVAILABLE = (
    "Sorry, I can't look that up in our help center right now. You can ask me again in a "
    "minute, or ask for a person from our support team."
)


def previous_customer_turns(tracker: Tracker, limit: int = HISTORY_TURNS) -> list[str]:
    """The customer's earlier messages, most recent first (the current one excluded)."""
    return earlier_customer_texts(tracker.events, limit)


def earlier_customer_texts(events: list[dict[str, Any]], limit: int = HISTORY_TURNS) -> list[str]:
    """``previous_customer_turns`` from a tracker's events."""
    texts = [
        str(event.get("text"))
        for event in events
        if event.get("event") == "user"
        and event.get("text")
        and not str(event["text"]).startswith("/")
    ]
    return list(reversed(texts[:-1]))[:limit]


def article_message(hit: Any, related: list[Any]) -> dict[str, Any]:
    """The widget message for a passage: an article card, with a text fallback."""
    links = [{"title": r.title, "url": r.url, "doc_id": r.doc_id} for r in related]
    heading = f"{hit.title} > {hit.heading_path}" if hit.heading_path else hit.title
    text = f"**{heading}**\n\n{hit.text}\n\nRead more: {hit.url}"
    return {
        "text": text,
        "json_message": {
            "type": "article",
            "doc_id": hit.doc_id,
            "title": hit.title,
            "url": hit.url,
            "passage": hit.text,
            "source": heading,
            "related": links,
        },
    }


class ActionAnswerFromKB(Action):
    def name(self) -> str:
        return "action_answer_from_kb"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[EventType]:
        query = tracker.latest_message.get("text") or ""
        if deps.get().handoff.triage(query):
            # Only a person can handle this (a legal threat, a swollen battery,
            # GDPR...): no article, straight to the right queue.
            return [SlotSet("handoff_reason", "triage"), FollowupAction("action_handoff")]
        if asks_for_person(query):
            # "I want to speak with an agent about my invoice": the customer
            # asked for a person; the topic picks the queue, not an article.
            return [SlotSet("handoff_reason", "explicit_request"), FollowupAction("action_handoff")]
        brand = await other_company_product(deps.get().backends.catalogue, query)
        if brand is not None:
            # "Where is the sleep score on my Fitbit?": our sleep article would
            # sound right and be wrong.
            dispatcher.utter_message(text=not_ours_reply(brand))
            return [SlotSet("kb_awaiting_feedback", False)]
        kb = deps.get().kb
        try:
            if kb is None:
                raise RuntimeError("no knowledge base configured")
            answer = await asyncio.to_thread(kb.answer, query, previous_customer_turns(tracker))
        except Exception:  # boundary: never show the error to the customer
            logger.exception("kb answer failed", extra={"conversation_id": tracker.sender_id})
            dispatcher.utter_message(text=UNAVAILABLE)
            return []
        if not answer.confident or answer.best is None:
            best = answer.related[0].doc_id if answer.related else None
            await asyncio.to_thread(kb.record_miss, tracker.sender_id, query, answer.score, best)
            dispatcher.utter_message(**NOT_FOUND)
            return [
                SlotSet("kb_awaiting_feedback", False),
                SlotSet("handoff_reason", "kb_no_answer"),
            ]
        related = list(answer.related[:2])
        dispatcher.utter_message(**article_message(answer.best, related))
        if tracker.active_loop.get("name"):
            # A question in the middle of a form: the form asks its own question
            # next, so a yes or no must go to the form, not to feedback.
            return [SlotSet("kb_awaiting_feedback", False)]
        needs_team = answer.best.tier >= TEAM_TIER
        dispatcher.utter_message(**(OFFER_TEAM if needs_team else ASK_FEEDBACK))
        return [
            SlotSet("kb_awaiting_feedback", True),
            SlotSet("kb_person_offered", needs_team),
            SlotSet("kb_category", answer.best.category if needs_team else None),
            SlotSet("kb_query", query),
            SlotSet("kb_shown", [answer.best.doc_id]),
            SlotSet("kb_next", [hit.doc_id for hit in related]),
        ]


class ActionKBFeedback(Action):
    def name(self) -> str:
        return "action_kb_feedback"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[EventType]:
        helpful = (tracker.latest_message.get("intent") or {}).get("name") == "affirm"
        if not tracker.get_slot("kb_awaiting_feedback"):
            # A yes or no after the feedback was already given.
            dispatcher.utter_message(
                text="Okay! Tell me what else you need, or ask for a person at any time."
            )
            return []
        if tracker.get_slot("kb_person_offered"):
            return self.offer_answered(dispatcher, helpful)
        query = tracker.get_slot("kb_query") or ""
        shown = list(tracker.get_slot("kb_shown") or [])
        kb = deps.get().kb
        if kb is None:
            dispatcher.utter_message(text=UNAVAILABLE)
            return [SlotSet("kb_awaiting_feedback", False)]
        try:
            await asyncio.to_thread(kb.record_feedback, tracker.sender_id, query, shown, helpful)
        except Exception:  # boundary
            logger.exception("kb feedback not stored", extra={"conversation_id": tracker.sender_id})
        if helpful:
            dispatcher.utter_message(text="Great! Is there anything else I can help with?")
            return [SlotSet("kb_awaiting_feedback", False)]
        remaining = [doc for doc in tracker.get_slot("kb_next") or [] if doc not in shown]
        if len(shown) == 1 and remaining:
            try:
                hits = await asyncio.to_thread(kb.search, query, (), 5)
            except Exception:
                logger.exception("kb search failed", extra={"conversation_id": tracker.sender_id})
                hits = []
            nxt = next((hit for hit in hits if hit.doc_id == remaining[0]), None)
            if nxt is not None:
                dispatcher.utter_message(text="Sorry about that. Maybe this article helps:")
                dispatcher.utter_message(**article_message(nxt, []))
                dispatcher.utter_message(**ASK_FEEDBACK)
                return [SlotSet("kb_shown", [*shown, nxt.doc_id])]
        dispatcher.utter_message(
            text="Sorry I couldn't help with that. Let me bring in someone from our team."
        )
        return [
            SlotSet("kb_awaiting_feedback", False),
            SlotSet("handoff_reason", "kb_rejected"),
            FollowupAction("action_handoff"),
        ]

    @staticmethod
    def offer_answered(dispatcher: CollectingDispatcher, accepted: bool) -> list[EventType]:
        """The customer's answer to the offer of a person after a tier-2 article."""
        done = [SlotSet("kb_awaiting_feedback", False), SlotSet("kb_person_offered", False)]
        if not accepted:
            dispatcher.utter_message(
                text="OK. If you need them later, just ask for a person. Anything else?"
            )
            return done
        return [*done, SlotSet("handoff_reason", "kb_tier2"), FollowupAction("action_handoff")]
