"""Frontline's replacements for Rasa 3.6 internals, installed once, explicitly,
when the engine starts: by the customer channel (``FrontlineChannel``) and the
tracker store (``UrlTrackerStore``), whichever Rasa builds first, so choosing
another tracker store keeps them. Each is named in the log.

They replace members of Rasa's classes, some private, so they are installed
only on the Rasa version they were tested against (``TESTED_RASA``): another
version refuses to start with a message. ``FRONTLINE_ENGINE_SPEEDUPS=off``
runs Rasa's own code instead (for diagnosis: the same answers, more CPU per
message).

Replaces seven of Rasa 3.6's per-message computations with equivalents
that do the constant part once (measured with py-spy under load, see
docs/benchmarks.md; together about half of Rasa's CPU per message):

* Every custom action's response is checked with ``jsonschema.validate``,
  which first validates the constant schema itself against JSON Schema's
  meta-schema (about 40 ms of CPU on this project's machines), then tries
  each event against all 23 event types. Here the validators are built
  once and each event is checked against its own type's schema: same
  schema, same result, same error.
* Every event read from the tracker store or returned by an action is
  resolved to its class by walking all subclasses of ``Event``. Here the
  class found for a name is remembered (unknown names still go to Rasa).
* Every call to an endpoint (each custom action) opened a new HTTP
  connection. Here connections are kept open for a moment and reused,
  and request bodies (the whole tracker) are encoded by ujson.
* Every run of the model's graph (parsing a message, predicting each
  action) was planned and executed by dask. Here it runs in an order
  planned once (``bot.engine.graph_runner``).
* Every prediction turned the whole conversation into dialogue states,
  twice (RulePolicy looks for a rule by text, then by intent), replaying
  it from the start. Here a tracker's states are carried forward from its
  previous prediction (``bot.engine.policy_states``).
* Every new tracker copied each slot through the copy module's generic
  protocol. Here ``Slot.__copy__`` makes the same shallow copy directly
  (``bot.engine.slot_copies``).
* Every prediction looked for applicable rules by decoding and reversing
  each rule's states again, back to the start of the conversation. Here
  each rule is decoded once and the look back stops where no rule
  reaches (``bot.engine.rule_matching``).


"""

from __future__ import annotations

import logging
import os
from collections.abc import Callable

logger = logging.getLogger(__name__)

TESTED_RASA = "3.6.21"
SETTING = "FRONTLINE_ENGINE_SPEEDUPS"
_OFF = ("off", "0", "false", "no")
_ON = ("on", "1", "true", "yes", "")

_installed: list[str] | None = None


class SpeedupsRefused(RuntimeError):
    """The engine must not start: the speedups do not fit this Rasa."""


def _speedups() -> list[tuple[str, Callable[[], None]]]:
    from bot.engine import graph_runner, policy_states, rule_matching, slot_copies, stores

    return [
        ("action responses validated by prebuilt validators", stores.install_action_validation),
        ("event classes found by name once", stores.install_event_class_cache),
        ("endpoint connections reused", stores.install_endpoint_sessions),
        ("model graph run in an order planned once", graph_runner.install),
        ("dialogue states carried forward", policy_states.install),
        ("rules decoded once", rule_matching.install),
        ("slots copied directly", slot_copies.install),
    ]


def install() -> list[str]:
    """Installs every speedup once (later calls return the same names);
    raises ``SpeedupsRefused`` on an untested Rasa or an unknown setting."""
    global _installed
    if _installed is not None:
        return _installed
    setting = os.environ.get(SETTING, "on").strip().lower()
    if setting in _OFF:
        logger.warning("engine speedups off (%s=%s): Rasa's own code runs", SETTING, setting)
        _installed = []
        return _installed
    if setting not in _ON:
        raise SpeedupsRefused(f"{SETTING} must be on or off, not {setting!r}")
    import rasa

    version = getattr(rasa, "__version__", "unknown")
    if version != TESTED_RASA:
        raise SpeedupsRefused(
            f"Frontline's engine speedups replace internals of rasa {TESTED_RASA}; this is "
            f"rasa {version}, so the engine refuses to start. Set {SETTING}=off to run "
            "Rasa's own code."
        )
    names = []
    for name, install_one in _speedups():
        install_one()
        names.append(name)
        logger.info("engine speedup installed: %s", name)
    _installed = names
    return _installed
