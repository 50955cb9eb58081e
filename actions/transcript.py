"""What the bot knows about a conversation, read from Rasa tracker events."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from core.contract import AGENT_MESSAGE, SERVICE_INTENTS

# Intents that say nothing about what the customer wants.
NON_TOPIC_INTENTS = frozenset(
    {
        "affirm", "deny", "inform", "stop", "thanks", "greet", "goodbye", "nlu_fallback",
        *SERVICE_INTENTS, "csat", "bot_challenge", "help",
    }
)  # fmt: skip
# Intents that ask for a person without saying what about.
GENERIC_HANDOFF_INTENTS = ("human_handoff", "complaint")
# Actions every conversation runs; not worth telling an agent about.
ROUTINE_ACTIONS = frozenset(
    {
        "action_listen", "action_session_start", "action_greet", "action_handoff",
        "action_forward_to_agent", "action_relay_agent_message", "action_handoff_update",
    }
)  # fmt: skip


def _ts(event: dict[str, Any]) -> str:
    stamp = event.get("timestamp")
    if not isinstance(stamp, int | float):
        return ""
    return datetime.fromtimestamp(stamp, UTC).isoformat(timespec="seconds")


def transcript(events: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Every message of the conversation in order: customer, bot and agent."""
    turns: list[dict[str, Any]] = []
    for event in events:
        kind = event.get("event")
        if kind == "user":
            intent = (event.get("parse_data") or {}).get("intent") or {}
            if intent.get("name") in SERVICE_INTENTS:
                continue  # sent by the handoff service, not typed by the customer
            turns.append({"from": "customer", "text": event.get("text") or "", "ts": _ts(event)})
        elif kind == "bot":
            custom = (event.get("data") or {}).get("custom") or {}
            if custom.get("type") == AGENT_MESSAGE:
                name = (custom.get("agent") or {}).get("name", "Agent")
                turns.append(
                    {
                        "from": "agent",
                        "name": name,
                        "text": custom.get("text", ""),
                        "ts": _ts(event),
                    }
                )
            elif event.get("text"):
                turns.append({"from": "bot", "text": event["text"], "ts": _ts(event)})
    return turns


def context(events: list[dict[str, Any]]) -> dict[str, list[str]]:
    """What the bot tried: topic intents, actions run, help articles shown."""
    intents: list[str] = []
    actions: list[str] = []
    articles: list[str] = []
    for event in events:
        kind = event.get("event")
        if kind == "user":
            name = ((event.get("parse_data") or {}).get("intent") or {}).get("name")
            if name and name not in NON_TOPIC_INTENTS and name not in intents:
                intents.append(name)
        elif kind == "action":
            name = event.get("name")
            if (
                name
                and name.startswith("action_")
                and name not in ROUTINE_ACTIONS
                and name not in actions
            ):
                actions.append(name)
        elif kind == "bot":
            custom = (event.get("data") or {}).get("custom") or {}
            doc = custom.get("doc_id")
            if custom.get("type") == "article" and doc and doc not in articles:
                articles.append(doc)
    return {"intents": intents, "actions": actions, "kb_articles": articles}


# A request for a person or a complaint that also names its topic ("an agent
# about my invoice") has that topic among NLU's next guesses: taken when at
# least this confident and the message has more words than a bare request.
NAMED_TOPIC_MIN_CONFIDENCE = 0.1
NAMED_TOPIC_MIN_WORDS = 6
NOT_A_TOPIC = frozenset(
    {*NON_TOPIC_INTENTS, *GENERIC_HANDOFF_INTENTS, "out_of_scope", "other_language"}
)


def named_topic(parse_data: dict[str, Any], text: str) -> str | None:
    """The topic a request for a person or a complaint names, from NLU's
    ranking ("I want to speak with an agent about my invoice": invoice_request)."""
    if len(text.split()) < NAMED_TOPIC_MIN_WORDS:
        return None
    for entry in parse_data.get("intent_ranking") or []:
        name = entry.get("name")
        if name in NOT_A_TOPIC or not name:
            continue
        return (
            str(name) if float(entry.get("confidence") or 0) >= NAMED_TOPIC_MIN_CONFIDENCE else None
        )
    return None


def topic(events: list[dict[str, Any]], default: str = "human_handoff") -> str:
    """What the customer wants help with: the latest specific topic intent
    (or the topic a request for a person named), else the latest request for
    a person or complaint."""
    specific: list[str] = []
    generic: list[str] = []
    for event in events:
        if event.get("event") != "user":
            continue
        parse_data = event.get("parse_data") or {}
        name = (parse_data.get("intent") or {}).get("name")
        if not name or name in NON_TOPIC_INTENTS:
            continue
        if name in GENERIC_HANDOFF_INTENTS:
            generic.append(name)
            named = named_topic(parse_data, str(event.get("text") or ""))
            if named:
                specific.append(named)
        else:
            specific.append(name)
    if specific:
        return specific[-1]
    return generic[-1] if generic else default
