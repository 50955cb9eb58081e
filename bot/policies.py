"""Dialogue policy for human handoff (runs inside the Rasa engine).

While a human agent handles a conversation (slot ``handoff_active``), every
customer message, whatever its intent, goes to the agent: this policy predicts
``action_forward_to_agent`` with certainty and then ``action_listen``. The
intents the handoff service sends through Rasa's API (``agent_message``,
``handoff_update``) pass through to their rules. RulePolicy cannot express
"any intent while a slot is set" without one rule per intent, hence a policy.
"""

from __future__ import annotations

from typing import Any

from rasa.core.policies.policy import Policy, PolicyPrediction
from rasa.engine.graph import ExecutionContext
from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.engine.storage.resource import Resource
from rasa.engine.storage.storage import ModelStorage
from rasa.shared.core.constants import ACTION_LISTEN_NAME
from rasa.shared.core.domain import Domain
from rasa.shared.core.generator import TrackerWithCachedStates
from rasa.shared.core.trackers import DialogueStateTracker

HANDOFF_SLOT = "handoff_active"
FORWARD_ACTION = "action_forward_to_agent"
CSAT_COMMENT_SLOT = "awaiting_csat_comment"
CSAT_COMMENT_ACTION = "action_record_csat_comment"
# Sent by the handoff service, never typed by customers: they run their rules.
PASS_THROUGH_INTENTS = frozenset({"agent_message", "handoff_update", "restart", "session_start"})


@DefaultV1Recipe.register(
    DefaultV1Recipe.ComponentType.POLICY_WITHOUT_END_TO_END_SUPPORT, is_trainable=False
)
class HandoffPolicy(Policy):
    """Routes customer turns to the human agent while a handoff is active."""

    @staticmethod
    def get_default_config() -> dict[str, Any]:
        # Above RulePolicy (6): a greeting during a handoff goes to the agent.
        return {"priority": 7}

    def __init__(
        self,
        config: dict[str, Any],
        model_storage: ModelStorage,
        resource: Resource,
        execution_context: ExecutionContext,
        featurizer: Any | None = None,
    ) -> None:
        super().__init__(config, model_storage, resource, execution_context, featurizer)

    def train(
        self, training_trackers: list[TrackerWithCachedStates], domain: Domain, **kwargs: Any
    ) -> Resource:
        return self._resource

    def predict_action_probabilities(
        self,
        tracker: DialogueStateTracker,
        domain: Domain,
        rule_only_data: dict[str, Any] | None = None,
        **kwargs: Any,
    ) -> PolicyPrediction:
        probabilities = self._default_predictions(domain)
        action = next_action(
            bool(tracker.get_slot(HANDOFF_SLOT)),
            bool(tracker.get_slot(CSAT_COMMENT_SLOT)),
            tracker.latest_action_name,
            (tracker.latest_message.intent or {}).get("name") if tracker.latest_message else None,
        )
        if action is not None and action in domain.action_names_or_texts:
            probabilities[domain.index_for_action(action)] = 1.0
        return self._prediction(probabilities)


def next_action(
    handoff_active: bool,
    awaiting_csat_comment: bool,
    latest_action: str | None,
    intent: str | None,
) -> str | None:
    """The action this policy insists on, or None to leave it to the others.

    Besides handoffs, it captures the free-text comment after a CSAT score:
    whatever the customer types next is the comment, whatever NLU makes of it.
    """
    if latest_action in (FORWARD_ACTION, CSAT_COMMENT_ACTION):
        return (
            ACTION_LISTEN_NAME if (handoff_active or latest_action == CSAT_COMMENT_ACTION) else None
        )
    if latest_action != ACTION_LISTEN_NAME or intent in PASS_THROUGH_INTENTS:
        return None
    if handoff_active:
        return FORWARD_ACTION
    if awaiting_csat_comment and intent != "csat":
        return CSAT_COMMENT_ACTION
    return None
