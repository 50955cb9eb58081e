"""bot/engine/rule_matching.py: with the product model, the next action is
predicted before every action of every rule of data/rules and of longer
conversations (``tests/bot/engine/conversations.py``), and at each lookup of
applicable rules the keys found are compared with those of Rasa's own lookup.
In a fresh engine process: installing replaces RulePolicy's lookup for the
rest of the process."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from rasa.core.agent import Agent
from rasa.core.policies.rule_policy import RulePolicy
from rasa.shared.core.events import ActionExecuted
from rasa.shared.core.trackers import DialogueStateTracker

from bot.engine import rule_matching
from tests.bot.engine import conversations as engine_conversations
from tests.bot.engine.harness import in_fresh_engine
from tests.bot.engine.values import plain


class Lookups:
    """Every lookup of applicable rules: ours, compared with Rasa's."""

    def __init__(self) -> None:
        self.count = 0
        self.differences = 0
        self.sizes: set[int] = set()
        self.longest = 0
        self.examples: list[list[Any]] = []

    def compare(self, policy: RulePolicy, lookup: dict[str, Any], states: list[Any]) -> set[str]:
        ours: set[str] = rule_matching.get_possible_keys(policy, lookup, states)
        rasa: set[str] = rule_matching._rasa_get_possible_keys(policy, lookup, states)
        self.count += 1
        self.sizes.add(len(rasa))
        self.longest = max(self.longest, len(states))
        if ours != rasa:
            self.differences += 1
            if len(self.examples) < 2:
                self.examples.append([len(states), sorted(ours ^ rasa)[:2]])
        return ours


class Picky(RulePolicy):
    """A subclass that decides applicability itself keeps Rasa's walk."""

    def _is_rule_applicable(self, rule_key: str, turn_index: int, conversation_state: Any) -> bool:
        return False


def compare_lookups(model: str) -> dict[str, Any]:
    processor = Agent.load(model).processor
    domain = processor.domain
    rule_matching.install()
    rule_matching.install()  # idempotent
    installed = RulePolicy._get_possible_keys.__module__

    lookups = Lookups()

    def comparing(self: RulePolicy, lookup: dict[str, Any], states: list[Any]) -> set[str]:
        return lookups.compare(self, lookup, states)

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

    policy = object.__new__(Picky)
    state = {"prev_action": {"action_name": "action_listen"}}
    picky = rule_matching.get_possible_keys(policy, {"[]": "x", "[{}]": "y"}, [state])

    return {
        "installed": installed,
        "lookups": lookups.count > 250,
        "differences": lookups.differences,
        "examples": lookups.examples,
        "found_none_one_and_several": min(lookups.sizes) == 0
        and 1 in lookups.sizes
        and max(lookups.sizes) > 1,
        "long_conversation_looked_up": lookups.longest > 25,
        "predictions": len(predictions) > 150,
        "picky_subclass": sorted(picky),
    }


def test_rules_found_are_rasas(product_model: Path) -> None:
    report = in_fresh_engine(compare_lookups, str(product_model), timeout=900)
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
