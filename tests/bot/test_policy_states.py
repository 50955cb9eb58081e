"""bot/policy_states.py runs inside the Rasa engine (Python 3.10): a script run
with the engine's Python loads the product model and predicts the next action
at every step of every rule of data/rules and of a conversation with a form,
first with Rasa's own ``past_states`` and then with the one that computes
them once per prediction, and compares the predictions."""

from __future__ import annotations

import textwrap

from bot.runtime import load_settings
from bot.stack import StackSettings, train
from tests.bot.engine import run_script

ENGINE_SCRIPT = textwrap.dedent(
    """
    import collections, json, sys

    from rasa.core.agent import Agent
    from rasa.shared.core.events import ActionExecuted, ActiveLoop, SlotSet, UserUttered
    from rasa.shared.core.generator import TrainingDataGenerator
    from rasa.shared.core.trackers import DialogueStateTracker
    from rasa.shared.importers.importer import TrainingDataImporter

    from bot import policy_states
    from tests.bot.engine_values import plain

    processor = Agent.load(sys.argv[1]).processor
    domain = processor.domain

    importer = TrainingDataImporter.load_from_dict(
        domain_path="bot/domain", training_data_paths=["data/rules"]
    )
    rules = TrainingDataGenerator(
        importer.get_stories(), importer.get_domain(), remove_duplicates=False,
        augmentation_factor=0,
    ).generate()

    def intent(name):
        return {"name": name, "confidence": 1.0}

    # a customer checking an order: the form asks for the email, gets it, asks
    # for the order number; then a fallback and a request for a person
    FORM = [
        ActionExecuted("action_listen"),
        UserUttered("where is my order?", intent("order_status")),
        ActionExecuted("order_status_form"), ActiveLoop("order_status_form"),
        SlotSet("requested_slot", "email"),
        ActionExecuted("action_listen"),
        UserUttered("emma.devries@example.com", intent("inform"),
                    [{"entity": "email", "value": "emma.devries@example.com"}]),
        ActionExecuted("order_status_form"), SlotSet("email", "emma.devries@example.com"),
        SlotSet("requested_slot", "order_number"),
        ActionExecuted("action_listen"),
        UserUttered("asdf", intent("nlu_fallback")),
        ActionExecuted("action_listen"),
        UserUttered("a person please", intent("human_handoff")),
    ]
    conversations = [list(t.events) for t in rules] + [FORM]

    calls = 0
    rasa_past_states = policy_states._rasa_past_states

    def counting(*args, **kwargs):
        global calls
        calls += 1
        return rasa_past_states(*args, **kwargs)

    def predictions():
        # the prediction after every prefix of every conversation that ends
        # where the bot acted
        found = []
        for events in conversations:
            for end in range(1, len(events) + 1):
                if end < len(events) and not isinstance(events[end], ActionExecuted):
                    continue
                tracker = DialogueStateTracker.from_events("t", events[:end], domain.slots)
                before = calls
                prediction = processor._predict_next_with_tracker(tracker)
                found.append([
                    calls - before,
                    prediction.policy_name, plain(prediction.probabilities),
                    prediction.is_end_to_end_prediction, prediction.is_no_user_prediction,
                ])
        return found

    def leaves(states):
        return sorted({
            type(leaf).__name__
            for state in states for sub_state in state.values() for leaf in sub_state.values()
        })

    DialogueStateTracker.past_states = counting  # Rasa's, counted
    rasa = predictions()
    policy_states._rasa_past_states = counting  # what the one-per-prediction calls
    policy_states.install()
    policy_states.install()  # idempotent
    once = predictions()

    # each caller gets its own states: editing them changes nothing for the next
    tracker = DialogueStateTracker.from_events("t", FORM, domain.slots)
    untouched = json.dumps(tracker.past_states(domain))
    for _ in range(2):  # the states computed, then remembered ones
        edited = tracker.past_states(domain)
        edited[-1]["user"].clear()
        edited.pop()
    again = tracker.past_states(domain)
    # a new event is a new conversation state
    tracker.update(ActionExecuted("action_handoff"))
    longer = tracker.past_states(domain)

    print(json.dumps({
        "predictions": len(rasa),
        "same": [p[1:] for p in rasa] == [p[1:] for p in once],
        "policies": sorted({p[1] for p in rasa}),
        # how often each prediction computed the states: Rasa's, and here
        "rasa_calls": sorted(collections.Counter(p[0] for p in rasa).items()),
        "calls_where_rasa_had": sorted({(r[0], o[0]) for r, o in zip(rasa, once)}),
        "copies_independent": json.dumps(again) == untouched,
        "new_event_seen": [len(json.loads(untouched)), len(longer)],
        "leaf_types": leaves(again),
        "installed": type(tracker).past_states.__module__,
    }))
    """
)


def test_states_computed_once_give_rasas_predictions() -> None:
    report = run_script(
        ENGINE_SCRIPT, str(train(load_settings(StackSettings, _env_file=None))), timeout=600
    )
    predictions = report.pop("predictions")
    assert predictions > 150  # every step of the 56 rules and of the form conversation
    rasa_calls = dict(report.pop("rasa_calls"))
    assert rasa_calls[2] > 50  # the case this is for is common
    assert sum(rasa_calls.values()) == predictions
    assert report == {
        "same": True,
        "policies": ["RulePolicy"],
        # where Rasa turned the conversation into states twice, once here
        "calls_where_rasa_had": [[count, min(count, 1)] for count in sorted(rasa_calls)],
        "copies_independent": True,
        "new_event_seen": [5, 6],
        # what makes a two-level copy enough: nothing mutable below a sub-state
        "leaf_types": ["str", "tuple"],
        "installed": "bot.policy_states",
    }
