"""Conversations for the tests that compare engine speed-ups with Rasa's own
code: every rule of data/rules, a form, one that rewrites its applied events,
and a long one."""

from __future__ import annotations

from typing import Any

from rasa.shared.core.events import (
    ActionExecuted,
    ActionReverted,
    ActiveLoop,
    BotUttered,
    Event,
    Restarted,
    SessionStarted,
    SlotSet,
    UserUtteranceReverted,
    UserUttered,
)
from rasa.shared.core.generator import TrainingDataGenerator
from rasa.shared.importers.importer import TrainingDataImporter

from tests.bot.engine.harness import ROOT


def intent(name: str) -> dict[str, Any]:
    return {"name": name, "confidence": 1.0}


def said(text: str, name: str, entities: Any = ()) -> UserUttered:
    return UserUttered(text, intent(name), list(entities))


def rules() -> list[list[Event]]:
    """The events of every rule of data/rules."""
    importer = TrainingDataImporter.load_from_dict(
        domain_path=str(ROOT / "bot" / "domain"), training_data_paths=[str(ROOT / "data" / "rules")]
    )
    trackers = TrainingDataGenerator(
        importer.get_stories(),
        importer.get_domain(),
        remove_duplicates=False,
        augmentation_factor=0,
    ).generate()
    return [list(tracker.events) for tracker in trackers]


def order_form() -> list[Event]:
    """A customer checking an order: the form asks for the email, gets it,
    asks for the order number (new event objects on each call)."""
    return [
        ActionExecuted("action_listen"),
        said("where is my order?", "order_status"),
        ActionExecuted("order_status_form"),
        ActiveLoop("order_status_form"),
        SlotSet("requested_slot", "email"),
        ActionExecuted("action_listen"),
        said(
            "emma.devries@example.com",
            "inform",
            [{"entity": "email", "value": "emma.devries@example.com"}],
        ),
        ActionExecuted("order_status_form"),
        SlotSet("email", "emma.devries@example.com"),
        SlotSet("requested_slot", "order_number"),
        ActionExecuted("action_listen"),
    ]


def form() -> list[Event]:
    """The order form, then a fallback and a request for a person."""
    return [
        *order_form(),
        said("asdf", "nlu_fallback"),
        ActionExecuted("action_listen"),
        said("a person please", "human_handoff"),
    ]


def rewrites() -> list[Event]:
    """What rewrites the applied events: reverted utterances and actions, a
    form's happy-path turns folded together, a stop, a restart, a session
    start, and rule-only turns hidden from ML policies."""
    return [
        ActionExecuted("action_session_start"),
        SessionStarted(),
        ActionExecuted("action_listen"),
        said("hi", "greet"),
        ActionExecuted("action_greet"),
        BotUttered("Hello!"),
        ActionExecuted("action_listen"),
        said("where is my order?", "order_status"),
        UserUtteranceReverted(),
        *order_form(),
        said("BW-104390", "inform", [{"entity": "order_number", "value": "BW-104390"}]),
        ActionExecuted("order_status_form"),
        SlotSet("order_number", "BW-104390"),
        SlotSet("requested_slot", None),
        ActiveLoop(None),
        ActionExecuted("action_order_status"),
        BotUttered("It is on its way."),
        ActionReverted(),
        ActionExecuted("action_listen"),
        said("thanks", "thanks"),
        ActionExecuted("action_default_fallback", hide_rule_turn=True),
        ActionExecuted("action_listen", hide_rule_turn=True),
        said("stop", "stop"),
        ActionExecuted("action_handoff"),
        Restarted(),
        ActionExecuted("action_session_start"),
        SessionStarted(),
        ActionExecuted("action_listen"),
        said("cancel my subscription", "cancel_subscription"),
        ActionExecuted("cancel_subscription_form"),
        ActiveLoop("cancel_subscription_form"),
        ActionExecuted("action_listen"),
        said("stop", "stop"),
        ActionExecuted("action_deactivate_loop"),
        ActiveLoop(None),
        ActionExecuted("action_listen"),
    ]


def long(turns: int = 15) -> list[Event]:
    """Help-center questions, as a curious customer asks them."""
    events: list[Event] = [ActionExecuted("action_session_start"), SessionStarted()]
    for turn in range(turns):
        events += [
            ActionExecuted("action_listen"),
            said(f"question {turn} about the app", "app_feature_question"),
            ActionExecuted("action_answer_from_kb"),
            BotUttered(f"answer {turn}"),
        ]
    events.append(ActionExecuted("action_listen"))
    return events


def all_conversations() -> list[list[Event]]:
    """Every rule, then the form, the rewrites and the long conversation."""
    return [*rules(), form(), rewrites(), long()]
