"""Which action a customer's turn must go to while a person has the
conversation or a rating's comment is awaited (pure: no Rasa imports, so the
application environment's tests run it; ``bot.engine.policies`` applies it inside
the engine).

After a CSAT score the bot asks "Anything you'd like to add?": the next
message is the rating's comment, whatever NLU makes of it ("Alex was quick"),
unless it is a new question for the bot (failure class 6 of issue 23: "how
do I return my earbuds?" was filed as a comment and never answered). A
question is a message with a question mark or a question's first word and a
topic intent; the bot answers it and no comment is recorded.
"""

from __future__ import annotations

import re

from core.contract import HANDOFF_ACTIVE, SERVICE_INTENTS

ACTION_LISTEN = "action_listen"
HANDOFF_SLOT = HANDOFF_ACTIVE
FORWARD_ACTION = "action_forward_to_agent"
CSAT_ACTION = "action_record_csat"
CSAT_COMMENT_SLOT = "awaiting_csat_comment"
CSAT_COMMENT_ACTION = "action_record_csat_comment"
# Sent by the handoff service, never typed by customers: they run their rules.
PASS_THROUGH_INTENTS = SERVICE_INTENTS | {"restart", "session_start"}
# Intents that are no new topic: small talk, answers and feelings about the chat.
NOT_A_TOPIC = frozenset(
    {
        "affirm",
        "deny",
        "thanks",
        "goodbye",
        "greet",
        "stop",
        "inform",
        "bot_challenge",
        "complaint",
        "other_language",
        "csat",
    }
)
# NLU unsure or out of scope: a question only with a question mark and a
# question's first word (not "why": "why did it take so long?" is feedback).
UNSURE = frozenset({"nlu_fallback", "out_of_scope"})
_QUESTION_WORDS = (
    r"(?:and\s+|also\s+|oh\s+|ok(?:ay)?[,\s]+|btw[,\s]+)?"
    r"(?:how|where|what|when|why|which|who|can|could|do|does|did|is|are|will|would|should"
    r"|may|i\s+(?:want|need|would like)\s+to|i'd\s+like\s+to)\b"
)
_QUESTION_START = re.compile(r"^\s*" + _QUESTION_WORDS, re.IGNORECASE)
# "last q, is the case waterproof?": a question after a lead-in.
_QUESTION_CLAUSE = re.compile(r"(?:^|[,.;:!-])\s*" + _QUESTION_WORDS, re.IGNORECASE)
# "one more thing: can I ...": a lead-in a colon or dash ends.
_QUESTION_LEAD_IN = re.compile(r"^[^,.;:!?-]{0,30}[:;-]\s*" + _QUESTION_WORDS, re.IGNORECASE)


def is_new_question(text: str, intent: str | None) -> bool:
    """Whether the reply to "anything you'd like to add?" asks the bot
    something new rather than commenting on the rating."""
    if not text or text.startswith("/") or intent is None or intent in NOT_A_TOPIC:
        return False
    if intent in UNSURE:
        return (
            "?" in text
            and len(text.split()) >= 3
            and _QUESTION_CLAUSE.search(text) is not None
            and not text.lower().lstrip().startswith("why")
        )
    return "?" in text or bool(_QUESTION_START.search(text) or _QUESTION_LEAD_IN.search(text))


def next_action(
    handoff_active: bool,
    awaiting_csat_comment: bool,
    latest_action: str | None,
    intent: str | None,
    text: str = "",
) -> str | None:
    """The action the handoff policy insists on, or None to leave it to the others.

    While a person has the conversation every customer message goes to them.
    After a CSAT score the next message is its comment, unless it is a new
    question (then the other policies answer it as any question).
    """
    if latest_action in (FORWARD_ACTION, CSAT_COMMENT_ACTION):
        return ACTION_LISTEN if (handoff_active or latest_action == CSAT_COMMENT_ACTION) else None
    if latest_action != ACTION_LISTEN or intent in PASS_THROUGH_INTENTS:
        return None
    if handoff_active:
        return FORWARD_ACTION
    if awaiting_csat_comment and intent != "csat" and not is_new_question(text, intent):
        return CSAT_COMMENT_ACTION
    return None
