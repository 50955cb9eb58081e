"""all-MiniLM-L6-v2 sentence embeddings without torch.

The Rasa engine environment cannot hold torch or sentence-transformers (they
break Rasa 3.6's pins), so this module does what sentence-transformers does
for this model: BERT's uncased WordPiece tokenizer, six transformer layers,
mean pooling over the tokens and L2 normalisation. The transformer runs in
onnxruntime from ``model.onnx`` when the folder has one (``make setup``
exports it with ``launcher.model_export``), else in numpy from
``model.safetensors``. It imports nothing of Rasa, so both environments use
and test it: the engine for intent features, the action server for
help-center queries.

    encoder = MiniLMEncoder.load(model_dir)
    vectors = encoder.encode(["where is my parcel", "reset my password"])
"""

from __future__ import annotations

import json
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from scipy.special import erf

SQRT_HALF = 0.7071067811865476
MAX_WORD_CHARS = 100  # longer words become [UNK], as in BERT's WordPiece
WEIGHTS_FILE = "model.safetensors"
ONNX_FILE = "model.onnx"
# The same model with its matrix products' weights in 8-bit integers, a
# scale per block of 32 (``launcher.model_export`` writes and checks it): about a
# third less CPU per message than ONNX_FILE, vectors within a cosine of 0.996.
ONNX_INT8_FILE = "model-int8.onnx"
PRECISIONS = ("float32", "int8")
MODEL_FILES = ("config.json", "vocab.txt", WEIGHTS_FILE)


class EncoderError(Exception):
    """The model folder is missing or incomplete; the message says which file."""


def is_whitespace(char: str) -> bool:
    return char in " \t\n\r" or unicodedata.category(char) == "Zs"


def is_control(char: str) -> bool:
    return char not in "\t\n\r" and unicodedata.category(char).startswith("C")


def is_punctuation(char: str) -> bool:
    code = ord(char)
    if 33 <= code <= 47 or 58 <= code <= 64 or 91 <= code <= 96 or 123 <= code <= 126:
        return True
    return unicodedata.category(char).startswith("P")


def is_cjk(code: int) -> bool:
    return (
        0x4E00 <= code <= 0x9FFF
        or 0x3400 <= code <= 0x4DBF
        or 0x20000 <= code <= 0x2A6DF
        or 0x2A700 <= code <= 0x2B73F
        or 0x2B740 <= code <= 0x2B81F
        or 0x2B820 <= code <= 0x2CEAF
        or 0xF900 <= code <= 0xFAFF
        or 0x2F800 <= code <= 0x2FA1F
    )


def basic_words(text: str) -> list[str]:
    """BERT's basic tokenizer for an uncased model: cleans control characters,
    isolates CJK characters, lowercases, strips accents and splits off every
    punctuation character."""
    cleaned = []
    for char in unicodedata.normalize("NFC", text):
        code = ord(char)
        if code == 0 or code == 0xFFFD or is_control(char):
            continue
        if is_whitespace(char):
            cleaned.append(" ")
        elif is_cjk(code):
            cleaned.append(f" {char} ")
        else:
            cleaned.append(char)
    words: list[str] = []
    for token in "".join(cleaned).split():
        token = unicodedata.normalize("NFD", token.lower())
        token = "".join(c for c in token if unicodedata.category(c) != "Mn")
        current = ""
        for char in token:
            if is_punctuation(char):
                if current:
                    words.append(current)
                words.append(char)
                current = ""
            else:
                current += char
        if current:
            words.append(current)
    return words


@dataclass(frozen=True)
class WordPiece:
    """Greedy longest-match-first WordPiece over BERT's vocabulary."""

    vocab: dict[str, int]

    @classmethod
    def load(cls, path: Path) -> WordPiece:
        lines = path.read_text(encoding="utf-8").splitlines()
        return cls({line: index for index, line in enumerate(lines)})

    def pieces(self, word: str) -> list[int]:
        unknown = [self.vocab["[UNK]"]]
        if len(word) > MAX_WORD_CHARS:
            return unknown
        ids: list[int] = []
        start = 0
        while start < len(word):
            end = len(word)
            found = None
            while start < end:
                piece = word[start:end] if start == 0 else "##" + word[start:end]
                if piece in self.vocab:
                    found = self.vocab[piece]
                    break
                end -= 1
            if found is None:
                return unknown
            ids.append(found)
            start = end
        return ids

    def encode(self, text: str, max_length: int) -> list[int]:
        """[CLS] word pieces [SEP], cut to ``max_length`` ids in all."""
        ids = [piece for word in basic_words(text) for piece in self.pieces(word)]
        return [self.vocab["[CLS]"], *ids[: max_length - 2], self.vocab["[SEP]"]]


def layer_norm(x: np.ndarray, weight: np.ndarray, bias: np.ndarray, eps: float) -> np.ndarray:
    mean = x.mean(-1, keepdims=True)
    var = ((x - mean) ** 2).mean(-1, keepdims=True)
    return (x - mean) / np.sqrt(var + eps) * weight + bias


def gelu(x: np.ndarray) -> np.ndarray:
    return 0.5 * x * (1.0 + erf(x * np.float32(SQRT_HALF)))


def linear(x: np.ndarray, weight: np.ndarray, bias: np.ndarray) -> np.ndarray:
    """``x @ weight.T + bias`` with ``weight`` in PyTorch's (out, in) layout,
    computed as ``weight @ x.T``: for the few rows of one message this is
    several times faster with OpenBLAS than multiplying by a transposed copy."""
    return (weight @ x.T).T + bias


@dataclass(frozen=True)
class Layer:
    """One transformer layer; weights in PyTorch's (out, in) layout."""

    qkv: np.ndarray  # (3 * hidden, hidden): query, key and value projections stacked
    qkv_bias: np.ndarray
    out: np.ndarray
    out_bias: np.ndarray
    norm1: tuple[np.ndarray, np.ndarray]
    up: np.ndarray
    up_bias: np.ndarray
    down: np.ndarray
    down_bias: np.ndarray
    norm2: tuple[np.ndarray, np.ndarray]


class NumpyBert:
    """The transformer's forward pass in numpy, from the model's safetensors
    weights; used when the folder holds no ``model.onnx``."""

    def __init__(self, weights: dict[str, np.ndarray], config: dict[str, object]) -> None:
        self.heads = int(str(config["num_attention_heads"]))
        self.eps = float(str(config.get("layer_norm_eps", 1e-12)))
        self.words = weights["embeddings.word_embeddings.weight"]
        self.positions = weights["embeddings.position_embeddings.weight"]
        self.token_type = weights["embeddings.token_type_embeddings.weight"][0]
        self.embedding_norm = (
            weights["embeddings.LayerNorm.weight"],
            weights["embeddings.LayerNorm.bias"],
        )
        self.layers = [
            self._layer(weights, f"encoder.layer.{n}.")
            for n in range(int(str(config["num_hidden_layers"])))
        ]
        self.dimension = int(self.words.shape[1])

    @classmethod
    def load(cls, folder: Path, config: dict[str, object]) -> NumpyBert:
        from safetensors.numpy import load_file

        weights = {
            name: np.asarray(array, dtype=np.float32)
            for name, array in load_file(str(folder / WEIGHTS_FILE)).items()
            if not name.endswith("position_ids")
        }
        return cls(weights, config)

    @staticmethod
    def _layer(w: dict[str, np.ndarray], p: str) -> Layer:
        attention = p + "attention.self."
        return Layer(
            qkv=np.concatenate([w[f"{attention}{n}.weight"] for n in ("query", "key", "value")]),
            qkv_bias=np.concatenate([w[f"{attention}{n}.bias"] for n in ("query", "key", "value")]),
            out=np.ascontiguousarray(w[p + "attention.output.dense.weight"]),
            out_bias=w[p + "attention.output.dense.bias"],
            norm1=(
                w[p + "attention.output.LayerNorm.weight"],
                w[p + "attention.output.LayerNorm.bias"],
            ),
            up=np.ascontiguousarray(w[p + "intermediate.dense.weight"]),
            up_bias=w[p + "intermediate.dense.bias"],
            down=np.ascontiguousarray(w[p + "output.dense.weight"]),
            down_bias=w[p + "output.dense.bias"],
            norm2=(w[p + "output.LayerNorm.weight"], w[p + "output.LayerNorm.bias"]),
        )  # fmt: skip

    def __call__(self, tokens: np.ndarray, mask: np.ndarray) -> np.ndarray:
        """Unit-length mean-pooled vectors for a padded batch of token ids."""
        size, length = tokens.shape
        mask = mask.astype(np.float32)
        x = self.words[tokens] + self.positions[:length] + self.token_type
        x = layer_norm(x, *self.embedding_norm, self.eps)
        hidden = self.dimension
        head = hidden // self.heads
        blocked = ((1.0 - mask) * -1e9)[:, None, None, :]
        x = x.reshape(size * length, hidden)  # dense layers as one matrix product each
        for layer in self.layers:
            qkv = linear(x, layer.qkv, layer.qkv_bias).reshape(size, length, 3 * hidden)
            q, k, v = (
                qkv[..., n * hidden : (n + 1) * hidden]
                .reshape(size, length, self.heads, head)
                .transpose(0, 2, 1, 3)
                for n in range(3)
            )
            scores = q @ k.transpose(0, 1, 3, 2) / np.float32(np.sqrt(head)) + blocked
            scores = np.exp(scores - scores.max(-1, keepdims=True))
            scores /= scores.sum(-1, keepdims=True)
            context = (scores @ v).transpose(0, 2, 1, 3).reshape(size * length, hidden)
            x = layer_norm(x + linear(context, layer.out, layer.out_bias), *layer.norm1, self.eps)
            inner = gelu(linear(x, layer.up, layer.up_bias))
            x = layer_norm(x + linear(inner, layer.down, layer.down_bias), *layer.norm2, self.eps)
        x = x.reshape(size, length, hidden)
        pooled = (x * mask[..., None]).sum(1) / mask.sum(1, keepdims=True)
        norms = np.linalg.norm(pooled, axis=1, keepdims=True)
        return (pooled / np.maximum(norms, 1e-12)).astype(np.float32)


class OnnxBert:
    """The same model exported to ONNX (``model.onnx``, written by
    ``launcher.model_export``: BERT, mean pooling and L2 normalisation in one graph)
    and run by onnxruntime: equal to the numpy pass within 1e-5 and, for one
    short message, about 2.5x faster (docs/benchmarks.md)."""

    def __init__(self, path: Path, threads: int) -> None:
        try:
            import onnxruntime
        except ImportError as error:
            raise EncoderError(f"{path} needs the onnxruntime package ({error})") from error
        options = onnxruntime.SessionOptions()
        options.intra_op_num_threads = max(1, threads)
        options.inter_op_num_threads = 1
        options.execution_mode = onnxruntime.ExecutionMode.ORT_SEQUENTIAL
        options.log_severity_level = 3  # no warnings about unused initializers
        self.session = onnxruntime.InferenceSession(
            str(path), options, providers=["CPUExecutionProvider"]
        )
        self.dimension = int(self.session.get_outputs()[0].shape[-1])

    def __call__(self, tokens: np.ndarray, mask: np.ndarray) -> np.ndarray:
        feed = {"input_ids": tokens, "attention_mask": mask.astype(np.int64)}
        return np.asarray(self.session.run(None, feed)[0], dtype=np.float32)


class MiniLMEncoder:
    """WordPiece tokenizer plus a forward pass (onnxruntime when the folder has
    ``model.onnx``, numpy otherwise); thread-safe."""

    def __init__(
        self,
        tokenizer: WordPiece,
        forward: NumpyBert | OnnxBert,
        max_length: int = 256,
        threads: int = 1,
    ) -> None:
        from threadpoolctl import ThreadpoolController

        self.tokenizer = tokenizer
        self.forward = forward
        # One BLAS thread by default: a short message is a few small matrix
        # products, and OpenBLAS threads spinning on a busy 2-core machine
        # make them several times slower, not faster.
        self.threads = threads
        self.blas = ThreadpoolController()
        self.max_length = max_length
        self.dimension = forward.dimension

    @property
    def runtime(self) -> str:
        return "onnxruntime" if isinstance(self.forward, OnnxBert) else "numpy"

    @classmethod
    def load(
        cls, folder: Path, threads: int = 1, runtime: str = "auto", precision: str = "float32"
    ) -> MiniLMEncoder:
        """Reads a sentence-transformers folder of a BERT model (config.json,
        vocab.txt, model.safetensors, sentence_bert_config.json if present, and
        model.onnx if exported). ``runtime``: "auto" (onnxruntime when
        model.onnx is there), "onnxruntime" or "numpy". ``precision="int8"``
        runs model-int8.onnx and requires it: its vectors differ from the
        float ones, so there is no falling back to them."""
        if precision not in PRECISIONS:
            choices = ", ".join(PRECISIONS)
            raise EncoderError(f"precision must be one of {choices}, not {precision!r}")
        if precision == "int8" and runtime == "numpy":
            raise EncoderError("int8 precision needs the onnxruntime runtime")
        missing = [name for name in MODEL_FILES if not (folder / name).is_file()]
        if runtime == "onnxruntime" and not (folder / ONNX_FILE).is_file():
            missing.append(ONNX_FILE)
        if precision == "int8" and not (folder / ONNX_INT8_FILE).is_file():
            missing.append(ONNX_INT8_FILE)
        if missing:
            raise EncoderError(f"embedding model folder {folder} lacks {', '.join(missing)}")
        config = json.loads((folder / "config.json").read_text(encoding="utf-8"))
        st_config = folder / "sentence_bert_config.json"
        max_length = 256
        if st_config.is_file():
            max_length = int(json.loads(st_config.read_text())["max_seq_length"])
        max_length = min(max_length, int(str(config["max_position_embeddings"])))
        forward: NumpyBert | OnnxBert
        if precision == "int8":
            forward = OnnxBert(folder / ONNX_INT8_FILE, threads)
        elif runtime != "numpy" and (folder / ONNX_FILE).is_file():
            forward = OnnxBert(folder / ONNX_FILE, threads)
        else:
            forward = NumpyBert.load(folder, config)
        return cls(WordPiece.load(folder / "vocab.txt"), forward, max_length, threads)

    def encode(self, texts: Sequence[str], batch_size: int = 32) -> np.ndarray:
        """Unit-length sentence vectors, one row per text (float32)."""
        ids = [self.tokenizer.encode(text, self.max_length) for text in texts]
        result = np.zeros((len(ids), self.dimension), dtype=np.float32)
        order = sorted(range(len(ids)), key=lambda n: len(ids[n]))  # little padding per batch
        with self.blas.limit(limits=self.threads, user_api="blas"):
            for start in range(0, len(order), batch_size):
                batch = order[start : start + batch_size]
                tokens, mask = padded([ids[n] for n in batch])
                result[batch] = self.forward(tokens, mask)
        return result


def padded(batch: list[list[int]]) -> tuple[np.ndarray, np.ndarray]:
    """(token ids, attention mask), int64, padded with zeros to the longest."""
    length = max(len(ids) for ids in batch)
    tokens = np.zeros((len(batch), length), dtype=np.int64)
    mask = np.zeros((len(batch), length), dtype=np.int64)
    for row, ids in enumerate(batch):
        tokens[row, : len(ids)] = ids
        mask[row, : len(ids)] = 1
    return tokens, mask
