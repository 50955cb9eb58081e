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
from rasa.shared.core.events import ActionExecuted
from rasa.shared.core.generator import TrackerWithCachedStates
from rasa.shared.core.trackers import DialogueStateTracker

from bot.engine.turn_routing import CSAT_ACTION, CSAT_COMMENT_SLOT, HANDOFF_SLOT, next_action


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
        latest = tracker.latest_message
        # The comment is the message right after "anything you'd like to add?":
        # a slot left set by a question answered instead is not one.
        awaiting = bool(tracker.get_slot(CSAT_COMMENT_SLOT)) and (
            action_before_listen(tracker) == CSAT_ACTION
        )
        action = next_action(
            bool(tracker.get_slot(HANDOFF_SLOT)),
            awaiting,
            tracker.latest_action_name,
            (latest.intent or {}).get("name") if latest else None,
            (latest.text or "") if latest else "",
        )
        if action is not None and action in domain.action_names_or_texts:
            probabilities[domain.index_for_action(action)] = 1.0
        return self._prediction(probabilities)


def action_before_listen(tracker: DialogueStateTracker) -> str | None:
    """The bot's last action before it listened for the latest message."""
    listened = False
    for event in reversed(tracker.events):
        if isinstance(event, ActionExecuted):
            if not listened and event.action_name == ACTION_LISTEN_NAME:
                listened = True
            elif listened:
                return event.action_name
    return None
