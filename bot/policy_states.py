"""A tracker's dialogue states computed once per prediction, not twice
(runs inside the Rasa engine).

To predict the next action, Rasa's ``RulePolicy`` looks for a rule twice:
first with the customer's last message as text, then as intent. Each look
turns the whole conversation into states (``DialogueStateTracker.past_states``:
the events replayed from the start, one state per action), and the two
results differ only in how the featurizer trims the last user input
afterwards. Under load that replay was 12% of the Rasa process's time holding
the GIL, the largest single item (py-spy ``--gil``, see docs/benchmarks.md).

``past_states`` here remembers the last result for one tracker and hands out
copies: the same tracker with the same events (same event list, same length,
same last event), the same domain and the same options give the same states,
because states depend on nothing else (the replay starts from a fresh copy of
the tracker's slots). Callers edit the states they get (the featurizer deletes
the text or intent of the last one), so each call gets its own dictionaries;
the values inside them are strings and tuples, never changed in place.

``install()`` replaces ``DialogueStateTracker.past_states``; it is called with
the other engine speed-ups (``bot.stores.install_engine_speedups``).
"""

from __future__ import annotations

import copy
import threading
import weakref
from dataclasses import dataclass
from typing import Any

from rasa.shared.core.domain import Domain, State
from rasa.shared.core.trackers import DialogueStateTracker

_rasa_past_states = DialogueStateTracker.past_states


@dataclass
class _Computed:
    """One call's states and what they were computed from. The event list
    and its last event are held, so "same object" cannot be a reused id."""

    tracker: weakref.ref[DialogueStateTracker]
    events: Any  # the tracker's deque of events
    length: int
    last_event: Any
    domain: Domain
    options: tuple[bool, bool]
    rule_only_data: dict[str, Any] | None
    states: list[State]

    def answers(
        self,
        tracker: DialogueStateTracker,
        domain: Domain,
        options: tuple[bool, bool],
        rule_only_data: dict[str, Any] | None,
    ) -> bool:
        events = tracker.events
        return (
            self.tracker() is tracker
            and self.events is events
            and self.length == len(events)
            and self.last_event is (events[-1] if events else None)
            and self.domain is domain
            and self.options == options
            and self.rule_only_data == rule_only_data
        )


_last = threading.local()  # .computed: this thread's last _Computed


def past_states(
    self: DialogueStateTracker,
    domain: Domain,
    omit_unset_slots: bool = False,
    ignore_rule_only_turns: bool = False,
    rule_only_data: dict[str, Any] | None = None,
) -> list[State]:
    """``DialogueStateTracker.past_states``, computed once for consecutive
    calls on an unchanged tracker."""
    options = (omit_unset_slots, ignore_rule_only_turns)
    computed: _Computed | None = getattr(_last, "computed", None)
    if computed is not None and computed.answers(self, domain, options, rule_only_data):
        return _copy(computed.states)
    states = _rasa_past_states(self, domain, *options, rule_only_data)
    events = self.events
    _last.computed = _Computed(
        weakref.ref(self),
        events,
        len(events),
        events[-1] if events else None,
        domain,
        options,
        copy.deepcopy(rule_only_data),
        states,
    )
    return _copy(states)


def _copy(states: list[State]) -> list[State]:
    return [{name: dict(sub_state) for name, sub_state in state.items()} for state in states]


def install() -> None:
    """Idempotent."""
    if DialogueStateTracker.past_states is not past_states:
        DialogueStateTracker.past_states = past_states  # type: ignore[method-assign]
