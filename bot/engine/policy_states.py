"""A tracker's dialogue states carried forward from its previous prediction
instead of replayed from the start (runs inside the Rasa engine).

To predict the next action, Rasa turns the whole conversation into states
(``DialogueStateTracker.past_states``): it replays the tracker's applied events
on a fresh copy of the tracker, one state before each action and one at the
end. ``RulePolicy`` asks twice per prediction (a rule by text, then by
intent), and a customer message takes two or more predictions, so each message
replayed the conversation from its start several times. Under load that was
12% of the Rasa process's time holding the GIL, the largest single item
(py-spy ``--gil``, see docs/benchmarks.md).

Here each tracker keeps its replay (``_Replay``): the applied events replayed
so far, the tracker they were applied to, and the states before each action
among them. The next call replays only the events added since, when the
tracker's applied events still begin with the same event objects; otherwise
(a reverted utterance, a form's repeated turns folded together, a restart)
it replays from the start, as Rasa does. A call on an unchanged tracker gets
the previous result. The conversation loop of ``Domain.states_for_tracker_history``
is repeated here with Rasa's own helpers, so each state is computed from the
same replayed tracker as before. Kept trackers (``bot.engine.stores``) are what make
replays outlive one message.

Callers edit the states they get (the featurizer deletes the text or intent
of the last one), so each call gets its own dictionaries; the values inside
them are strings and tuples, never changed in place.

``install()`` replaces ``DialogueStateTracker.past_states``; it is called with
the other engine speed-ups (``bot.engine.speedups``).
"""

from __future__ import annotations

import copy
import operator
import weakref
from typing import Any

from rasa.shared.core.constants import PREVIOUS_ACTION
from rasa.shared.core.domain import Domain, State
from rasa.shared.core.events import ActionExecuted, Event
from rasa.shared.core.trackers import DialogueStateTracker

_rasa_past_states = DialogueStateTracker.past_states

# Replays kept, the least recently used dropped first: the kept trackers of
# bot.engine.stores (256) and those in flight, with room for a second set of options.
# A replay holds a copy of the tracker's slots, references to its events and
# the states (tens of kilobytes for a long conversation).
MAX_REPLAYS = 1024


class _Replay:
    """The states of one tracker's applied events, for one domain and set of
    options, and what is needed to carry them forward. Used by one thread at a
    time, as the tracker itself is."""

    def __init__(
        self,
        tracker: DialogueStateTracker,
        domain: Domain,
        options: tuple[bool, bool],
        rule_only_data: dict[str, Any] | None,
    ) -> None:
        self.domain = domain
        self.options = options
        self.rule_only_data = copy.deepcopy(rule_only_data)
        self.applied: list[Event] = []  # the events replayed, in order
        self.replay = tracker.init_copy()  # the tracker they were applied to
        self.states: list[State] = []  # the state before each action among them
        self.last_ml_action_sub_state: Any = None
        self.turn_was_hidden = False
        # the previous result and the tracker events it was computed from
        self.events: Any = None
        self.length = -1
        self.last_event: Event | None = None
        self.result: list[State] = []

    def fits(
        self, domain: Domain, options: tuple[bool, bool], rule_only_data: dict[str, Any] | None
    ) -> bool:
        return (
            self.domain is domain
            and self.options == options
            and self.rule_only_data == rule_only_data
        )

    def unchanged(self, events: Any) -> bool:
        """Whether ``events`` (the tracker's deque) is what the previous
        result was computed from: the same deque, length and last event."""
        return (
            self.events is events
            and self.length == len(events)
            and self.last_event is (events[-1] if events else None)
        )

    def continues(self, applied: list[Event]) -> bool:
        """Whether ``applied`` begins with the events replayed so far."""
        return len(applied) >= len(self.applied) and all(map(operator.is_, self.applied, applied))

    def advance(self, applied: list[Event], events: Any) -> list[State]:
        """Replays the events of ``applied`` not replayed yet; returns the
        states: one before each action, then the current one."""
        for event in applied[len(self.applied) :]:
            if isinstance(event, ActionExecuted):
                state, self.last_ml_action_sub_state, self.turn_was_hidden = self._turn(
                    event.hide_rule_turn, self.last_ml_action_sub_state, self.turn_was_hidden
                )
                if state is not None:
                    self.states.append(state)
            self.replay.update(event)
        self.applied = applied
        current, _, _ = self._turn(False, self.last_ml_action_sub_state, self.turn_was_hidden)
        self.result = [*self.states] if current is None else [*self.states, current]
        self.events = events
        self.length = len(events)
        self.last_event = events[-1] if events else None
        return self.result

    def _turn(
        self, hide_rule_turn: bool, last_ml_action_sub_state: Any, turn_was_hidden: bool
    ) -> tuple[State | None, Any, bool]:
        """One pass of the loop of ``Domain.states_for_tracker_history`` on the
        replayed tracker: the state (None when the turn is hidden) and the
        loop's two variables after it."""
        tracker, domain = self.replay, self.domain
        omit_unset_slots, ignore_rule_only_turns = self.options
        if ignore_rule_only_turns:
            if not turn_was_hidden:
                last_ml_action_sub_state = domain._get_prev_action_sub_state(tracker)
            if (
                not tracker.followup_action
                and tracker.latest_action_name != tracker.active_loop_name
            ):
                turn_was_hidden = hide_rule_turn
            if turn_was_hidden:
                return None, last_ml_action_sub_state, turn_was_hidden
        state = domain.get_active_state(tracker, omit_unset_slots=omit_unset_slots)
        if ignore_rule_only_turns:
            domain._remove_rule_only_features(state, self.rule_only_data)
            if self.states:
                domain._substitute_rule_only_user_input(state, self.states[-1])
            if last_ml_action_sub_state:
                state[PREVIOUS_ACTION] = last_ml_action_sub_state
        return domain._clean_state(state), last_ml_action_sub_state, turn_was_hidden


# id(tracker) -> (weak reference to the tracker, its replays)
_replays: dict[int, tuple[weakref.ref[DialogueStateTracker], list[_Replay]]] = {}


def _replays_of(tracker: DialogueStateTracker) -> list[_Replay]:
    key = id(tracker)
    found = _replays.pop(key, None)
    if found is None or found[0]() is not tracker:

        def forget(reference: weakref.ref[DialogueStateTracker], key: int = key) -> None:
            entry = _replays.get(key)
            if entry is not None and entry[0] is reference:
                del _replays[key]

        found = (weakref.ref(tracker, forget), [])
    _replays[key] = found  # now the most recently used
    while len(_replays) > MAX_REPLAYS:
        del _replays[next(iter(_replays))]
    return found[1]


def past_states(
    self: DialogueStateTracker,
    domain: Domain,
    omit_unset_slots: bool = False,
    ignore_rule_only_turns: bool = False,
    rule_only_data: dict[str, Any] | None = None,
) -> list[State]:
    """``DialogueStateTracker.past_states``, carried forward from the
    tracker's previous call."""
    options = (omit_unset_slots, ignore_rule_only_turns)
    replays = _replays_of(self)
    replay = next((r for r in replays if r.fits(domain, options, rule_only_data)), None)
    events = self.events
    if replay is not None and replay.unchanged(events):
        return _copy(replay.result)
    applied = self.applied_events()
    if replay is None or not replay.continues(applied):
        if replay is not None:
            replays.remove(replay)
        replay = _Replay(self, domain, options, rule_only_data)
        replays.append(replay)
    return _copy(replay.advance(applied, events))


def _copy(states: list[State]) -> list[State]:
    return [{name: dict(sub_state) for name, sub_state in state.items()} for state in states]


def install() -> None:
    """Idempotent."""
    if DialogueStateTracker.past_states is not past_states:
        DialogueStateTracker.past_states = past_states  # type: ignore[method-assign]
