"""RulePolicy's rule lookup with each rule decoded once and the look back
stopped where no rule reaches (runs inside the Rasa engine).

To find the rules that apply to a conversation, ``RulePolicy._get_possible_keys``
walks the conversation's states from the newest back to the first, and at
each one keeps the rule keys that ``_is_rule_applicable`` accepts. That check
takes the rule's states from a JSON key (through a cache), reverses them into
a new list, and compares one state, turning the rule's lists into tuples on
the way. It runs for every rule at the newest state, and for every rule
still possible at each older one, to the start of the conversation, though a
rule older than its own length always applies. Under load that was 6.8% of
the Rasa process's time holding the GIL (py-spy ``--gil``, see
docs/benchmarks.md).

Here each rule key is decoded once into its states, newest first, with
those lists already tuples, and the walk stops once every rule still
possible is shorter than the distance walked: each of them would be kept at
every older state. The comparison of one state is Rasa's own
``_does_rule_match_state``, given the same values, and the start-of-
conversation checks are those of ``_is_rule_applicable``, so the keys found
are the same.

A RulePolicy subclass that overrides ``_is_rule_applicable`` or
``_does_rule_match_state`` keeps Rasa's walk. ``install()`` replaces
``RulePolicy._get_possible_keys``; it is called with the other engine
speed-ups (``bot.engine.speedups``).
"""

from __future__ import annotations

import functools
import json

from rasa.core.policies.rule_policy import RulePolicy
from rasa.shared.core.constants import PREVIOUS_ACTION
from rasa.shared.core.domain import State

_rasa_get_possible_keys = RulePolicy._get_possible_keys
_rasa_is_rule_applicable = RulePolicy._is_rule_applicable
_rasa_does_rule_match_state = RulePolicy._does_rule_match_state


@functools.lru_cache(maxsize=8192)  # the rules of a model, and of the next one
def _newest_first(rule_key: str) -> tuple[State, ...]:
    """The rule's states, newest first, with list values as tuples (as
    ``_does_rule_match_state`` turns them before comparing)."""
    return tuple(
        {
            name: {
                key: tuple(value) if isinstance(value, list) else value
                for key, value in sub_state.items()
            }
            for name, sub_state in state.items()
        }
        for state in reversed(json.loads(rule_key))
    )


def get_possible_keys(self: RulePolicy, lookup: dict[str, str], states: list[State]) -> set[str]:
    """``RulePolicy._get_possible_keys``: the keys of ``lookup`` whose rule
    applies to ``states``."""
    cls = type(self)
    if (
        cls._is_rule_applicable is not _rasa_is_rule_applicable
        or cls._does_rule_match_state is not _rasa_does_rule_match_state
    ):
        return _rasa_get_possible_keys(self, lookup, states)
    matches = _rasa_does_rule_match_state
    possible = set(lookup)
    for turn, state in enumerate(reversed(states)):
        if all(turn >= len(_newest_first(key)) for key in possible):
            break  # every rule left applies at this turn and every older one
        previous_action = state.get(PREVIOUS_ACTION)
        kept = set()
        for key in possible:
            rule = _newest_first(key)
            if turn >= len(rule):
                kept.add(key)
                continue
            rule_previous_action = rule[turn].get(PREVIOUS_ACTION)
            if rule_previous_action and previous_action:
                applies = matches(rule[turn], state)
            else:  # both conversation starts, or only one of them
                applies = not rule_previous_action and not previous_action
            if applies:
                kept.add(key)
        possible = kept
    return possible


def install() -> None:
    """Idempotent."""
    if RulePolicy._get_possible_keys is not get_possible_keys:
        RulePolicy._get_possible_keys = get_possible_keys  # type: ignore[method-assign]
