from __future__ import annotations

import numpy as np
import pytest

from kb_index import vectors
from kb_index.keyword import KeywordIndex, tokenize
from kb_index.retrieval import (
    DocumentInfo,
    Passages,
    RankedArticle,
    RetrievalConfig,
    Retriever,
)

# Four passages in three articles; 2-d unit vectors make similarities exact.
VECTORS = np.array([[1.0, 0.0], [0.6, 0.8], [0.0, 1.0], [0.8, 0.6]], dtype=np.float32)
TEXTS = ["reset password link", "password expired", "parcel tracking", "refund card"]
OWNERS = np.array([0, 0, 1, 2], dtype=np.int32)
DOCUMENTS = [
    DocumentInfo("reset", "Reset", "u/reset", "account", "all", "en"),
    DocumentInfo("track", "Track", "u/track", "orders", "buds", "en"),
    DocumentInfo("refund", "Refund", "u/refund", "orders", "cam", "de"),
]


def retriever(kind: str = "flat", **config: object) -> Retriever:
    params = vectors.IndexParams()
    return Retriever(
        vectors.build_index(VECTORS, params, kind),  # type: ignore[arg-type]
        KeywordIndex.build(TEXTS),
        Passages(["reset#0", "reset#1", "track#0", "refund#0"], OWNERS, ["", "", "", ""], TEXTS),
        DOCUMENTS,
        RetrievalConfig(**config),  # type: ignore[arg-type]
    )


def test_dense_ranking_keeps_the_best_passage_per_article() -> None:
    query = np.array([0.6, 0.8], dtype=np.float32)
    ranked = retriever(fusion="dense").rank(query, "", 3)
    # similarities: rows 0.6, 1.0, 0.8, 0.96; "reset" keeps row 1 and drops row 0
    assert [(r.document, r.passage, round(r.score, 4), round(r.similarity, 4)) for r in ranked] == [
        (0, 1, 1.0, 1.0),
        (2, 3, 0.96, 0.96),
        (1, 2, 0.8, 0.8),
    ]


def test_weighted_fusion_mixes_cosine_and_relative_bm25() -> None:
    query = np.array([0.0, 1.0], dtype=np.float32)  # dense favours "track"
    ranked = retriever(dense_weight=0.5).rank(query, "password", 3)
    keyword = KeywordIndex.build(TEXTS).scores("password")
    top = keyword.max()
    assert [r.document for r in ranked] == [0, 1, 2]
    reset = ranked[0]
    # best dense passage of "reset" is row 1 (0.8); BM25 best is its best row / top
    assert reset == RankedArticle(
        document=0,
        passage=1,
        score=pytest.approx(0.5 * 0.8 + 0.5 * keyword[:2].max() / top),
        similarity=pytest.approx(0.8),
        keyword=pytest.approx(float(keyword[:2].max())),
    )
    assert ranked[1].score == pytest.approx(0.5 * 1.0)
    assert ranked[2].score == pytest.approx(0.5 * 0.6)


def test_rrf_adds_reciprocal_ranks_of_both_rankings() -> None:
    query = np.array([0.0, 1.0], dtype=np.float32)
    ranked = retriever(fusion="rrf", rrf_k=60).rank(query, "password", 3)
    # dense article ranking: track, reset, refund; keyword: reset only
    assert [(r.document, round(r.score, 6)) for r in ranked] == [
        (0, round(1 / 62 + 1 / 61, 6)),
        (1, round(1 / 61, 6)),
        (2, round(1 / 63, 6)),
    ]


def test_keyword_only_hits_get_their_cosine_similarity_from_the_index() -> None:
    search = retriever(fusion="keyword")
    ranked = search.rank(np.array([0.0, 1.0], dtype=np.float32), "refund", 1)
    assert [(r.document, r.passage) for r in ranked] == [(2, 3)]
    assert search.similarity(np.array([0.0, 1.0], dtype=np.float32), 3) == pytest.approx(0.6)


@pytest.mark.parametrize("kind", ["flat", "hnsw", "ivf"])
def test_filters_restrict_articles_and_product_all_always_matches(kind: str) -> None:
    search = retriever(kind)
    query = np.array([0.7071, 0.7071], dtype=np.float32)

    def ids(**filters: str) -> list[str]:
        return [
            DOCUMENTS[r.document].id
            for r in search.rank(query, "password parcel refund", 5, filters)
        ]

    assert sorted(ids()) == ["refund", "reset", "track"]
    assert ids(category="account") == ["reset"]
    assert sorted(ids(product="buds")) == ["reset", "track"]
    assert ids(locale="de") == ["refund"]
    assert ids(locale="fr") == []


def test_tokenize_lowercases_drops_stopwords_and_stems() -> None:
    assert tokenize("The Passwords were Reset, and charged twice!") == [
        "password",
        "were",
        "reset",
        "charg",
        "twic",
    ]
    assert {tokenize(word)[0] for word in ("charge", "charges", "charged", "charging")} == {"charg"}
