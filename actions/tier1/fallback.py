"""Low-confidence turns: ask which of the two likeliest topics the customer
meant (buttons); a second low-confidence turn in a row goes to a person
(``handoff_reason`` ``low_confidence``).

The same action answers messages in another language (intent
``other_language``) and an email address or order number out of any flow
(``inform``). Some messages get a reply of their own instead of a guess: emoji
or symbols only, text that tries to instruct the bot, and a password.
"""

from __future__ import annotations

import asyncio
import logging
import re
from enum import StrEnum
from typing import TYPE_CHECKING, Any

from rasa_sdk import Action, Tracker
from rasa_sdk.events import EventType, FollowupAction, SlotSet
from rasa_sdk.executor import CollectingDispatcher

from actions.greet import TOPICS
from actions.kb_answer import previous_customer_turns
from actions.tier1 import typed_secrets
from actions.tier1.base import FLOWS, HANDOFF, TRIAGE, context, utter
from actions.tier1.compatibility import answered_compatibility_last, names_compatibility_subject
from actions.tier1.intents import INTENT_TITLES
from actions.tier1.kb_gate import is_question
from actions.tier1.messages import Message, button, message
from actions.tier1.parsing import asks_for_person, has_words
from actions.tier1.turn import Turn
from actions.transcript import transcript
from core.contract import SERVICE_INTENTS

if TYPE_CHECKING:
    from kb_index import KnowledgeBase

logger = logging.getLogger(__name__)

FALLBACK_INTENT = "nlu_fallback"
CLARIFY_ACTION = "action_clarify"
KB_ANSWER_ACTION = "action_answer_from_kb"
# Shorter messages ("ok", "klarna?") are clarified: one word rarely says enough
# for a passage to be the answer.
KB_MIN_WORDS = 3

_INSTRUCTIONS = re.compile(
    r"\b(?:ignore|disregard|forget)\b.{0,40}\b(?:instructions?|prompts?|rules)\b"
    r"|\bsystem\s+prompt\b|\byou\s+are\s+now\b|\bdeveloper\s+mode\b|\bjailbreak\b"
    r"|\bact\s+as\s+(?:a|an|my)\b|\bpretend\s+(?:to\s+be|you\s+are)\b",
    re.IGNORECASE | re.DOTALL,
)

CLARIFY = "Sorry, I'm not sure I understood. Did you mean one of these?"
REPHRASE = (
    "Sorry, I didn't understand that. Could you say it in other words? You can also ask for a "
    "person from our support team."
)
NO_WORDS = "I can only read words, not emoji or symbols on their own. What can I help you with?"
INSTRUCTIONS = (
    "I'm Brightwave's support assistant: I can't change how I work, but I'm happy to help "
    "with your orders, account, devices or the Brightwave app. What do you need?"
)
TRUNCATED = "Your message was very long, so I only read the beginning of it."
ENGLISH_ONLY = (
    "Sorry, I can only chat in English for now. If you prefer another language, a person from "
    "our support team can help."
)
OTHER_LANGUAGE = "other_language"
HANDING_OVER = "Sorry, I'm still not sure what you mean, so let me bring in a person."
OUT_OF_SCOPE_ACTION = "action_out_of_scope"
OUT_OF_SCOPE = (
    "Sorry, that's outside what I can help with. I can answer questions about Brightwave "
    "orders, accounts, devices and the app."
)
# Bot actions after which a short message is likely a follow-up of an answer
# ("and naps?", "is there a fee?", after an order's status "can PostNL drop it at
# a pickup point instead?"): it is looked up with the previous turns. The help
# center's answers and every Tier 1 flow's result (its submit action).
ANSWERING_ACTIONS = frozenset(
    {
        KB_ANSWER_ACTION, "action_kb_feedback", "action_compatibility",
        "action_send_password_reset", "action_order_status", "action_cancel_order",
        "action_change_address", "action_resend_activation", "action_account_status",
        "action_cancel_subscription", "action_delete_account",
    }
)  # fmt: skip
NEEDS_PERSON = (
    "That's something a person from our support team should look at, so I'm passing you on."
)


class BadInput(StrEnum):
    PASSWORD = "password"
    NO_WORDS = "no_words"
    INSTRUCTIONS = "instructions"


def bad_input(text: str) -> BadInput | None:
    """Messages that get a reply of their own rather than a guess at their topic."""
    if typed_secrets.looks_like_password(text):
        return BadInput.PASSWORD
    if not has_words(text):
        return BadInput.NO_WORDS
    if _INSTRUCTIONS.search(text):
        return BadInput.INSTRUCTIONS
    return None


def interpretations(turn: Turn, count: int = 2) -> list[str]:
    """The likeliest intents of the message that have a title for a button."""
    return [name for name, _ in turn.ranking if name in INTENT_TITLES][:count]


def clarification(turn: Turn) -> Message:
    kind = BadInput.PASSWORD if typed_secrets.typed_password(turn) else bad_input(turn.text)
    if kind is BadInput.PASSWORD:
        return message(typed_secrets.WARNING)
    if kind is BadInput.NO_WORDS:
        return message(NO_WORDS, [button(title, payload) for title, payload in TOPICS])
    if kind is BadInput.INSTRUCTIONS:
        return message(INSTRUCTIONS)
    truncated = bool(turn.metadata.get("truncated_from"))
    if turn.intent == OTHER_LANGUAGE and not truncated:
        return message(ENGLISH_ONLY, [button("Talk to a person", "/human_handoff")])
    options = interpretations(turn)
    prefix = f"{TRUNCATED} " if truncated else ""
    if len(options) < 2:
        return message(prefix + REPHRASE)
    return message(prefix + CLARIFY, [button(INTENT_TITLES[i], f"/{i}") for i in options])


def customer_turns(events: list[dict[str, Any]]) -> list[tuple[str | None, str | None]]:
    """Each customer message's intent with the last action that answered it
    (a clarification that became a help-center answer counts as the answer)."""
    turns: list[tuple[str | None, str | None]] = []
    for event in events:
        kind = event.get("event")
        if kind == "user":
            intent = ((event.get("parse_data") or {}).get("intent") or {}).get("name")
            if intent not in SERVICE_INTENTS:
                turns.append((intent, None))
        elif kind == "action" and turns:
            name = event.get("name")
            if name and name != "action_listen":
                turns[-1] = (turns[-1][0], name)
    return turns


def said_so_far(events: list[dict[str, Any]]) -> str:
    """Everything the customer wrote in the conversation, joined."""
    return " ".join(turn["text"] for turn in transcript(events) if turn["from"] == "customer")


async def help_center_knows(turn: Turn, kb: KnowledgeBase | None, history: list[str]) -> bool:
    """Whether the help center has a confident passage for this message (a
    question of a few words or more; never for special inputs). ``history`` as
    ``action_answer_from_kb`` passes it, so both decide alike and its query
    embedding comes from the reader's cache."""
    if kb is None or bad_input(turn.text) is not None or len(turn.text.split()) < KB_MIN_WORDS:
        return False
    try:
        answer = await asyncio.to_thread(kb.answer, turn.text, history)
    except Exception:  # boundary: the clarification still works without the help center
        logger.exception("kb lookup for a low-confidence turn failed")
        return False
    return bool(answer.confident and answer.best is not None)


COMPATIBILITY_FORM = "compatibility_form"


async def compatibility_follow_up(ctx: Any) -> bool:
    """ "and the pulse lite?" right after a compatibility answer: the same
    question about another product (or system), answered by the flow."""
    if not answered_compatibility_last(ctx.events) or bad_input(ctx.turn.text) is not None:
        return False
    try:
        return await names_compatibility_subject(ctx.deps.backends.catalogue, ctx.turn.text)
    except Exception:  # boundary: the help-center follow-up still works
        logger.exception("catalogue lookup for a follow-up failed")
        return False


async def person_or_follow_up(ctx: Any, in_flow: bool = False) -> list[EventType] | None:
    """Where an unclear or out-of-scope message goes before it is clarified or
    declined: a request for a person hands over; right after an answer, a
    follow-up is answered with the previous turns ("and the pulse lite?" by the
    compatibility flow, "and naps?" by the help center, which records a miss
    for kb gaps); in the middle of a flow (``in_flow``), a question is looked
    up in the help center with the flow's turns ("wait, is there a fee if I
    cancel now?"), and the flow then asks its question again. None: neither."""
    if asks_for_person(ctx.turn.text):
        return [SlotSet("handoff_reason", "explicit_request"), FollowupAction(HANDOFF)]
    if await compatibility_follow_up(ctx):
        return [FollowupAction(COMPATIBILITY_FORM)]
    if bad_input(ctx.turn.text) is not None:
        return None
    if follows_an_answer(ctx.events) or (in_flow and is_question(ctx.turn.text)):
        return [FollowupAction(KB_ANSWER_ACTION)]
    return None


def follows_an_answer(events: list[dict[str, Any]]) -> bool:
    """Whether the customer's message comes right after a help-center answer
    (the bot's last action before it was one that answers from the help
    center): then an elliptical message is a follow-up, not out of scope."""
    turns = customer_turns(events)
    return len(turns) >= 2 and turns[-2][1] in ANSWERING_ACTIONS


def second_in_a_row(events: list[dict[str, Any]]) -> bool:
    """Whether the customer's previous message was low-confidence too (and
    was answered with a clarification)."""
    turns = customer_turns(events)
    return len(turns) >= 2 and turns[-2] == (FALLBACK_INTENT, CLARIFY_ACTION)


class ActionClarify(Action):
    def name(self) -> str:
        return CLARIFY_ACTION

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[EventType]:
        ctx = context(tracker)
        if second_in_a_row(ctx.events):
            ctx.say(message(HANDING_OVER))  # action_handoff records the outcome
            utter(dispatcher, ctx.messages)
            return [SlotSet("handoff_reason", "low_confidence"), FollowupAction(HANDOFF)]
        if ctx.deps.handoff.triage(said_so_far(ctx.events)):
            # Unsure what this message means, but the conversation shows a
            # request only a person can handle (a swollen battery, GDPR...).
            ctx.say(message(NEEDS_PERSON))
            utter(dispatcher, ctx.messages)
            return [SlotSet("handoff_reason", TRIAGE), FollowupAction(HANDOFF)]
        routed = await person_or_follow_up(ctx)
        if routed is not None:
            return routed
        if await help_center_knows(ctx.turn, ctx.deps.kb, previous_customer_turns(tracker)):
            # Unsure which topic, but the help center has a confident passage:
            # answer from it (Tier 0) instead of asking which topic was meant.
            return [FollowupAction(KB_ANSWER_ACTION)]
        ctx.say(clarification(ctx.turn))
        utter(dispatcher, ctx.messages)
        # A reason left from an earlier flow would mislabel a later handoff.
        return [SlotSet("handoff_reason", None)] if tracker.get_slot("handoff_reason") else []


class ActionOutOfScope(Action):
    """A message NLU calls out of scope: a request for a person is handed
    over; a follow-up of a help-center answer ("is there a fee?"), or a
    question in the middle of a flow, is looked up with the previous turns
    (failure classes 3 and 5 of issue 23); anything else is declined."""

    def name(self) -> str:
        return OUT_OF_SCOPE_ACTION

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[EventType]:
        in_flow = tracker.active_loop.get("name") in FLOWS
        routed = await person_or_follow_up(context(tracker), in_flow)
        if routed is not None:
            return routed
        dispatcher.utter_message(text=OUT_OF_SCOPE)
        return []
