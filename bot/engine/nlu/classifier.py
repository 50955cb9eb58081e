"""Rasa component: Rasa's LogisticRegressionClassifier with a faster predict.

Training, the saved model and the probabilities are Rasa's own. Only the
prediction of a message changes: Rasa stacks the message's sparse and dense
sentence features into a scipy matrix (copying each featurizer's output) and
multiplies it by the whole weight matrix, which py-spy showed as 12% of the
engine's CPU per message. A message has a few dozen non-zero counts, so this
class adds up the weight rows of those columns and the dense features' block
instead: the same decision values, in microseconds.

A message with no text to classify (empty once Rasa strips it) gets no
intent at confidence 0 and an empty ranking, so FallbackClassifier turns it
into ``nlu_fallback``: Rasa's featurizers add no features for an empty text,
and Rasa's own classifier fails on the narrower feature matrix.

Used in config.yml as ``bot.engine.nlu.classifier.FastLogisticRegressionClassifier`` (Rasa
looks components up by class name, so it must differ from Rasa's).
"""

from __future__ import annotations

from typing import Any

import numpy as np
from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.nlu.classifiers.logistic_regression_classifier import (
    LogisticRegressionClassifier as RasaLogisticRegressionClassifier,
)
from rasa.shared.nlu.constants import FEATURE_TYPE_SENTENCE, TEXT
from rasa.shared.nlu.training_data.message import Message
from rasa.utils.tensorflow.constants import RANKING_LENGTH
from scipy.special import softmax

# What a message with nothing to classify is given.
NO_INTENT: dict[str, Any] = {"name": None, "confidence": 0.0}


def has_text(message: Message) -> bool:
    """Whether ``message`` has text to classify (featurizers skip empty texts)."""
    text = message.get(TEXT)
    return isinstance(text, str) and bool(text.strip())


@DefaultV1Recipe.register(DefaultV1Recipe.ComponentType.INTENT_CLASSIFIER, is_trainable=True)
class FastLogisticRegressionClassifier(RasaLogisticRegressionClassifier):
    """Rasa's logistic-regression intent classifier; see the module docstring."""

    _weights: tuple[np.ndarray, np.ndarray] | None = None

    def _multinomial(self) -> bool:
        """Whether sklearn's predict_proba is a softmax of the decision values
        (lbfgs with more than two intents); otherwise Rasa's path runs."""
        clf = self.clf
        return (
            hasattr(clf, "coef_")
            and len(clf.classes_) > 2
            and clf.multi_class in ("auto", "multinomial")
            and clf.solver != "liblinear"
        )

    def _prepared(self) -> tuple[np.ndarray, np.ndarray]:
        if self._weights is None:
            # One row per feature column: a message's columns are a gather.
            self._weights = (
                np.ascontiguousarray(self.clf.coef_.T, dtype=np.float64),
                np.asarray(self.clf.intercept_, dtype=np.float64),
            )
        return self._weights

    def decision(self, message: Message) -> np.ndarray:
        """The decision value of every intent for one message."""
        weights, intercept = self._prepared()
        sentence = [
            f for f in message.features if f.attribute == TEXT and f.type == FEATURE_TYPE_SENTENCE
        ]
        # Rasa's column order: the sparse features, then the dense ones, each
        # in the order the featurizers added them.
        ordered = [f for f in sentence if f.is_sparse()] + [f for f in sentence if f.is_dense()]
        width = sum(int(f.features.shape[-1]) for f in ordered)
        if width != len(weights):
            # What sklearn says on Rasa's path, with the same cause: the
            # pipeline's featurizers changed since training.
            raise ValueError(
                f"X has {width} features, but LogisticRegression is expecting "
                f"{len(weights)} features as input."
            )
        # Sums of products, not matrix products: OpenBLAS runs even this small
        # a product on two threads, and its idle thread then spins for
        # milliseconds (measured: 2.1 ms of CPU for 0.1 ms of work).
        total = intercept.copy()
        offset = 0
        for features in ordered:
            matrix = features.features
            size = int(matrix.shape[-1])
            if features.is_sparse():
                coo = matrix.tocoo()
                if coo.nnz:
                    values = np.asarray(coo.data, dtype=np.float64)[:, None]
                    total += (weights[offset + coo.col] * values).sum(axis=0)
            else:
                row = np.asarray(matrix, dtype=np.float64).reshape(-1)
                total += (weights[offset : offset + size] * row[:, None]).sum(axis=0)
            offset += size
        return total

    def process(self, messages: list[Message]) -> list[Message]:
        for message in messages:
            if not has_text(message):
                message.set("intent", dict(NO_INTENT), add_to_output=True)
                message.set("intent_ranking", [], add_to_output=True)
        readable = [message for message in messages if has_text(message)]
        if not readable:
            return messages
        if not self._multinomial():
            super().process(readable)
            return messages
        decisions = np.vstack([self.decision(message) for message in readable])
        probabilities = softmax(decisions, axis=1)
        intents = self.clf.classes_
        for message, row in zip(readable, probabilities, strict=True):
            ranking: list[dict[str, Any]] = [
                {"name": name, "confidence": value}
                for name, value in zip(intents, row, strict=True)
            ]
            ranking.sort(key=lambda entry: -entry["confidence"])
            message.set("intent", ranking[0], add_to_output=True)
            if self.config[RANKING_LENGTH] > 0:
                ranking = ranking[: self.config[RANKING_LENGTH]]
            message.set("intent_ranking", ranking, add_to_output=True)
        return messages
