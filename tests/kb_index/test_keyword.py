from __future__ import annotations

import random
from pathlib import Path

import bm25s
import numpy as np

from kb_index.keyword import KeywordIndex, tokenize

# Repeated words, a digit, and passages with no tokens at all (empty, stopwords
# only, punctuation only), which are indexed as the single token "".
TEXTS = [
    "Reset your password from the sign-in page.",
    "",
    "Refund refund refund: the refund reaches your card in 5 days.",
    "The and of it",
    "Pulse 2 pairing fails? Restart the Pulse 2 and pair again.",
    "!!! ???",
    "Track your parcel; tracking links expire after 30 days.",
    "Password expired. Passwords expire every 90 days.",
]
QUERIES = [
    "password",
    "reset password",
    "refund refund card",
    "Pulse 2",
    "tracking parcel expired days",
    "password zebra",  # one unknown word
    "zebra quokka",  # only unknown words
    "the and of",  # only stopwords
    "",
]


def token_list_index(texts: list[str]) -> KeywordIndex:
    """The index as bm25s builds it from lists of token strings (the previous build)."""
    retriever = bm25s.BM25()
    retriever.index([tokenize(text) or [""] for text in texts], show_progress=False)
    return KeywordIndex(retriever, len(texts))


def generated_texts(count: int) -> list[str]:
    """Passages of random length over a small vocabulary, so document frequencies vary."""
    rng = random.Random(7)
    pool = [*sorted({word for text in TEXTS for word in tokenize(text)}), "the", "and", "of"]
    return [" ".join(rng.choices(pool, k=rng.randint(0, 40))) for _ in range(count)]


def test_build_scores_equal_those_of_the_token_list_index() -> None:
    index, reference = KeywordIndex.build(TEXTS), token_list_index(TEXTS)

    assert index.retriever.vocab_dict.keys() == reference.retriever.vocab_dict.keys()
    for query in QUERIES:
        np.testing.assert_array_equal(index.scores(query), reference.scores(query), err_msg=query)
    # the comparison is about real scores: these passages match, the others score 0
    assert np.flatnonzero(index.scores("password")).tolist() == [0, 7]
    assert np.flatnonzero(index.scores("refund refund card")).tolist() == [2]
    assert not index.scores("zebra quokka").any()
    assert not index.scores("").any()


def test_passages_without_tokens_score_alike_for_the_empty_token() -> None:
    index, reference = KeywordIndex.build(TEXTS), token_list_index(TEXTS)

    scores = index.retriever.get_scores([""])
    assert np.flatnonzero(scores).tolist() == [1, 3, 5]
    np.testing.assert_array_equal(scores, reference.retriever.get_scores([""]))


def test_empty_token_is_appended_to_the_vocabulary_when_no_passage_lacks_tokens() -> None:
    texts = [text for text in TEXTS if tokenize(text)]
    index, reference = KeywordIndex.build(texts), token_list_index(texts)

    vocab = index.retriever.vocab_dict
    assert vocab[""] == len(vocab) - 1 == reference.retriever.vocab_dict[""]
    assert vocab.keys() == reference.retriever.vocab_dict.keys()


def test_build_scores_equal_for_every_word_of_a_generated_corpus() -> None:
    texts = generated_texts(300)
    index, reference = KeywordIndex.build(texts), token_list_index(texts)

    vocab = reference.retriever.vocab_dict
    assert index.retriever.vocab_dict.keys() == vocab.keys()
    assert index.retriever.scores["data"].size == reference.retriever.scores["data"].size
    for word in vocab:
        np.testing.assert_array_equal(
            index.retriever.get_scores([word]), reference.retriever.get_scores([word]), word
        )
    for query in [*QUERIES, *texts[:20]]:
        np.testing.assert_array_equal(index.scores(query), reference.scores(query), query)


def test_saved_index_loads_with_the_same_vocabulary_and_scores(tmp_path: Path) -> None:
    index = KeywordIndex.build(TEXTS)
    index.save(tmp_path / "keyword")
    loaded = KeywordIndex.load(tmp_path / "keyword", len(TEXTS))

    assert loaded.size == len(TEXTS)
    assert loaded.retriever.vocab_dict == index.retriever.vocab_dict
    for query in QUERIES:
        np.testing.assert_array_equal(loaded.scores(query), index.scores(query), err_msg=query)
