"""The names the bot, the action server and the handoff service agree on.

The handoff service reaches a customer's conversation by triggering an intent
through Rasa's HTTP API (``handoff.worker.RasaClient``): an agent's reply is
``AGENT_MESSAGE`` with the entities ``AGENT_TEXT`` and ``AGENT_NAME``; a change
of the case (joined, resolved, returned, transferred) is ``HANDOFF_UPDATE``
with ``UPDATE_KIND`` (and ``AGENT_NAME`` or ``TEAM``). Neither is the
customer's words (``SERVICE_INTENTS``). While slot ``HANDOFF_ACTIVE`` is set,
a person handles the conversation and the bot stays quiet. The Rasa domain
(``bot/domain/``) declares the same names; ``tests/core/test_contract.py``
checks that it does.
"""

from __future__ import annotations

AGENT_MESSAGE = "agent_message"
HANDOFF_UPDATE = "handoff_update"
SERVICE_INTENTS = frozenset({AGENT_MESSAGE, HANDOFF_UPDATE})

AGENT_TEXT = "agent_text"
AGENT_NAME = "agent_name"
UPDATE_KIND = "kind"
TEAM = "team"

# The kinds of HANDOFF_UPDATE.
AGENT_JOINED = "agent_joined"
RESOLVED = "resolved"
RETURNED = "returned"
TRANSFERRED = "transferred"

HANDOFF_ACTIVE = "handoff_active"
