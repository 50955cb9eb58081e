"""bot/engine/rule_matching.py runs inside the Rasa engine (Python 3.10): a script run
with the engine's Python loads the product model, predicts the next action
before every action of every rule of data/rules and of longer conversations
(``tests/bot/engine/conversations.py``), and at each lookup of applicable
rules compares the keys found with those of Rasa's own lookup."""

from __future__ import annotations

import textwrap

from core.runtime import load_settings
from launcher.stack import StackSettings, train
from tests.bot.engine.harness import run_script

ENGINE_SCRIPT = textwrap.dedent(
    """
    import json, sys

    from rasa.core.agent import Agent
    from rasa.core.policies.rule_policy import RulePolicy
    from rasa.shared.core.events import ActionExecuted
    from rasa.shared.core.trackers import DialogueStateTracker

    from bot.engine import rule_matching
    from tests.bot.engine import conversations as engine_conversations
    from tests.bot.engine.values import plain

    processor = Agent.load(sys.argv[1]).processor
    domain = processor.domain
    rule_matching.install()
    rule_matching.install()  # idempotent
    installed = RulePolicy._get_possible_keys.__module__

    lookups = differences = 0
    sizes = set()
    longest = 0
    examples = []

    def comparing(self, lookup, states):
        global lookups, differences, longest
        ours = rule_matching.get_possible_keys(self, lookup, states)
        rasa = rule_matching._rasa_get_possible_keys(self, lookup, states)
        lookups += 1
        sizes.add(len(rasa))
        longest = max(longest, len(states))
        if ours != rasa:
            differences += 1
            if len(examples) < 2:
                examples.append([len(states), sorted(ours ^ rasa)[:2]])
        return ours

    RulePolicy._get_possible_keys = comparing
    predictions = []
    for number, events in enumerate(engine_conversations.all_conversations()):
        tracker = DialogueStateTracker(f"c{number}", domain.slots)
        for event in events:
            if isinstance(event, ActionExecuted) and tracker.events:
                tracker.followup_action = None  # predict, do not follow
                prediction = processor._predict_next_with_tracker(tracker)
                predictions.append([prediction.policy_name, plain(prediction.probabilities)])
                for extra in prediction.events:
                    tracker.update(extra)
            tracker.update(event)

    # a subclass that decides applicability itself keeps Rasa's walk
    class Picky(RulePolicy):
        def _is_rule_applicable(self, rule_key, turn_index, conversation_state):
            return False

    policy = object.__new__(Picky)
    state = {"prev_action": {"action_name": "action_listen"}}
    picky = rule_matching.get_possible_keys(policy, {"[]": "x", "[{}]": "y"}, [state])

    print(json.dumps({
        "installed": installed,
        "lookups": lookups > 250,
        "differences": differences,
        "examples": examples,
        "found_none_one_and_several": min(sizes) == 0 and 1 in sizes and max(sizes) > 1,
        "long_conversation_looked_up": longest > 25,
        "predictions": len(predictions) > 150,
        "picky_subclass": sorted(picky),
    }))
    """
)


def test_rules_found_are_rasas() -> None:
    report = run_script(
        ENGINE_SCRIPT, str(train(load_settings(StackSettings, _env_file=None))), timeout=900
    )
    assert report == {
        "installed": "bot.engine.rule_matching",
        "lookups": True,
        "differences": 0,
        "examples": [],
        "found_none_one_and_several": True,
        "long_conversation_looked_up": True,
        "predictions": True,
        "picky_subclass": [],
    }
