"""The code Rasa loads: runs inside ``rasa run`` on Python 3.10 (``.venv/engine``).

The customer channel (``channel``, ``widget_input``), the tracker and lock
stores (``stores``, ``locks``), the policies (``policies``, ``turn_routing``),
the NLU components (``nlu``) and the modules that replace Rasa internals for
speed (``graph_runner``, ``policy_states``, ``rule_matching``, ``slot_copies``).
It imports only itself, rasa and ``core`` (never ``core.database``, nor the
application packages): ``make lint`` checks it.
"""
