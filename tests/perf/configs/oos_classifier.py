"""Experiment (not the product): the product's logistic-regression intent
classifier with its regularisation strength ``C`` configurable (Rasa fixes
sklearn's default, 1.0). A smaller ``C`` (stronger regularisation) gave less
over-confident intents and a higher in-scope accuracy on Banking77-OOS's
validation split (tests/perf/eval_oos.py); see tests/perf/configs/oos_c01.yml.

Engine side only (imports Rasa); used from a config as
``tests.perf.configs.oos_classifier.RegularisedLogisticRegressionClassifier``.
Prediction, the saved model and the probabilities are the parent's: only the
training changes.
"""

from __future__ import annotations

from typing import Any

from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.engine.storage.resource import Resource
from rasa.engine.storage.storage import ModelStorage

from bot.engine.nlu.classifier import FastLogisticRegressionClassifier


@DefaultV1Recipe.register(DefaultV1Recipe.ComponentType.INTENT_CLASSIFIER, is_trainable=True)
class RegularisedLogisticRegressionClassifier(FastLogisticRegressionClassifier):
    """FastLogisticRegressionClassifier with ``C`` (inverse regularisation)."""

    @staticmethod
    def get_default_config() -> dict[str, Any]:
        return {**FastLogisticRegressionClassifier.get_default_config(), "C": 1.0}

    def __init__(
        self,
        config: dict[str, Any],
        name: str,
        model_storage: ModelStorage,
        resource: Resource,
    ) -> None:
        super().__init__(config, name, model_storage, resource)
        self.clf.set_params(C=float(self.config["C"]))
