"""Hybrid retrieval over one loaded index version: dense (FAISS) and keyword
(BM25) passage rankings fused per article, filters, best passage per article.

Everything here is in memory and read-only after construction, so one
``Retriever`` serves any number of threads."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Literal

import faiss
import numpy as np

from kb_index import vectors
from kb_index.chunking import is_question
from kb_index.keyword import KeywordIndex

Fusion = Literal["rrf", "weighted", "dense", "keyword"]
FILTER_FIELDS = ("category", "product", "locale")
# An article for every product: a product filter keeps these too.
ALL_PRODUCTS = "all"


@dataclass(frozen=True)
class RetrievalConfig:
    """How rankings are fused. ``weighted`` (default): ``dense_weight`` times the
    cosine similarity plus the rest times BM25 divided by the query's best BM25
    score, per article (best passage of each); an article missing from the dense
    candidates gets the lowest candidate similarity. ``rrf``: reciprocal-rank
    fusion of the two article rankings, ``1 / (rrf_k + rank)`` summed. ``dense``
    and ``keyword`` use one retriever only (for measuring). On doc2dial,
    weighted fusion beat RRF by about 0.01 recall@5 and 0.03 MRR@10 (0.6 and 0.7
    about equal); on the Brightwave dev questions 0.7 was best (recall@1 0.86)."""

    fusion: Fusion = "weighted"
    rrf_k: int = 60
    dense_weight: float = 0.7
    candidates: int = 100


@dataclass(frozen=True)
class DocumentInfo:
    """What retrieval needs to know about an article."""

    id: str
    title: str
    url: str
    category: str
    product: str
    locale: str
    tier: int = 1


@dataclass(frozen=True)
class Passages:
    """Column store of the passages; row i is vector i and BM25 document i."""

    chunk_ids: Sequence[str]
    documents: np.ndarray  # int32: row of DocumentInfo per passage
    heading_paths: Sequence[str]
    texts: Sequence[str]

    def __len__(self) -> int:
        return len(self.chunk_ids)


@dataclass(frozen=True)
class RankedArticle:
    """One article in a fused ranking with its best passage."""

    document: int
    passage: int
    score: float
    similarity: float
    keyword: float


class Retriever:
    """Searches one version; built by the loader, then never modified."""

    def __init__(
        self,
        vector_index: faiss.Index,
        keyword_index: KeywordIndex,
        passages: Passages,
        documents: Sequence[DocumentInfo],
        config: RetrievalConfig | None = None,
    ) -> None:
        self.vector_index = vector_index
        self.keyword_index = keyword_index
        self.passages = passages
        self.documents = documents
        self.config = config or RetrievalConfig()
        self._columns = {
            name: np.array([getattr(doc, name) for doc in documents], dtype=object)
            for name in FILTER_FIELDS
        }

    def allowed(self, filters: Mapping[str, str] | None) -> np.ndarray | None:
        """Boolean mask over passages for ``filters`` (None when no filter)."""
        if not filters:
            return None
        keep = np.ones(len(self.documents), dtype=bool)
        for name, value in filters.items():
            if name not in self._columns:
                raise ValueError(f"unknown filter {name!r}; use one of {', '.join(FILTER_FIELDS)}")
            column = self._columns[name]
            match = column == value
            if name == "product":
                match |= column == ALL_PRODUCTS
            keep &= match
        return keep[self.passages.documents]

    def content_passage(self, document: int, query_vector: np.ndarray) -> int | None:
        """The article text passage of ``document`` closest to the query (for
        an article found through one of its ``questions`` entries), or None if
        it has no text passage."""
        rows = [
            row
            for row in map(int, np.flatnonzero(self.passages.documents == document))
            if not is_question(self.passages.heading_paths[row])
        ]
        if not rows:
            return None
        return max(rows, key=lambda row: self.similarity(query_vector, row))

    def similarity(self, query_vector: np.ndarray, row: int) -> float:
        """Cosine similarity of a query vector and one passage."""
        stored = self.vector_index.reconstruct(int(row))
        return float(np.dot(stored, query_vector.reshape(-1)))

    def rank(
        self,
        query_vector: np.ndarray,
        keyword_query: str,
        k: int,
        filters: Mapping[str, str] | None = None,
        config: RetrievalConfig | None = None,
    ) -> list[RankedArticle]:
        """The ``k`` best articles, each with its best passage, best first."""
        config = config or self.config
        allowed = self.allowed(filters)
        if allowed is not None and not allowed.any():
            return []
        candidates = min(config.candidates, len(self.passages))
        dense_scores, dense_rows = vectors.search(
            self.vector_index, query_vector, candidates, allowed
        )
        keep = dense_rows >= 0
        dense_rows, dense_scores = dense_rows[keep], dense_scores[keep]
        keyword_rows, keyword_scores = self._keyword(keyword_query, candidates, allowed, config)
        return self._fuse(dense_rows, dense_scores, keyword_rows, keyword_scores, k, config)

    def _keyword(
        self, query: str, candidates: int, allowed: np.ndarray | None, config: RetrievalConfig
    ) -> tuple[np.ndarray, np.ndarray]:
        if config.fusion == "dense":
            return np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.float32)
        scores = self.keyword_index.scores(query)
        if allowed is not None:
            scores = np.where(allowed, scores, 0.0)
        candidates = min(candidates, len(scores))
        rows = np.argpartition(-scores, candidates - 1)[:candidates]
        rows = rows[scores[rows] > 0]
        rows = rows[np.argsort(-scores[rows], kind="stable")]
        return rows, scores[rows]

    def _fuse(
        self,
        dense_rows: np.ndarray,
        dense_scores: np.ndarray,
        keyword_rows: np.ndarray,
        keyword_scores: np.ndarray,
        k: int,
        config: RetrievalConfig,
    ) -> list[RankedArticle]:
        # Best passage of each article in each ranking (rankings are best first).
        dense_docs, dense_best_rows, dense_best = _best_per_article(
            self.passages.documents, dense_rows, dense_scores
        )
        keyword_docs, keyword_best_rows, keyword_best = _best_per_article(
            self.passages.documents, keyword_rows, keyword_scores
        )
        docs = np.union1d(dense_docs, keyword_docs)
        in_dense = np.searchsorted(docs, dense_docs)
        in_keyword = np.searchsorted(docs, keyword_docs)
        similarity = np.full(len(docs), np.nan, dtype=np.float64)
        similarity[in_dense] = dense_best
        keyword = np.zeros(len(docs), dtype=np.float64)
        keyword[in_keyword] = keyword_best
        row = np.full(len(docs), -1, dtype=np.int64)
        row[in_keyword] = keyword_best_rows
        row[in_dense] = dense_best_rows  # the dense passage wins when both have one
        if config.fusion == "keyword":
            fused = np.where(np.isin(docs, keyword_docs), keyword, -np.inf)
        elif config.fusion == "dense":
            fused = np.where(np.isnan(similarity), -np.inf, similarity)
        elif config.fusion == "rrf":
            fused = np.zeros(len(docs), dtype=np.float64)
            fused[in_dense] += 1.0 / (config.rrf_k + _article_ranks(dense_best))
            fused[in_keyword] += 1.0 / (config.rrf_k + _article_ranks(keyword_best))
        else:
            floor = float(dense_scores[-1]) if len(dense_scores) else 0.0
            top = float(keyword_scores[0]) if len(keyword_scores) else 0.0
            dense_part = np.where(np.isnan(similarity), floor, similarity)
            keyword_part = keyword / top if top > 0 else keyword
            fused = config.dense_weight * dense_part + (1 - config.dense_weight) * keyword_part
        order = np.lexsort((docs, -fused))
        order = order[np.isfinite(fused[order])][:k]
        return [
            RankedArticle(
                int(docs[i]), int(row[i]), float(fused[i]), float(similarity[i]), float(keyword[i])
            )
            for i in order
        ]


def _best_per_article(
    owners: np.ndarray, rows: np.ndarray, scores: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(articles, their best row, its score) from a ranking sorted best first;
    articles in ascending order."""
    if not len(rows):
        empty = np.zeros(0, dtype=np.int64)
        return empty, empty, np.zeros(0, dtype=np.float64)
    docs, first = np.unique(owners[rows], return_index=True)
    return docs.astype(np.int64), rows[first].astype(np.int64), scores[first].astype(np.float64)


def _article_ranks(best: np.ndarray) -> np.ndarray:
    """1-based rank of each article by its best score (ties: lower article first)."""
    order = np.argsort(-best, kind="stable")
    ranks = np.empty(len(best), dtype=np.float64)
    ranks[order] = np.arange(1, len(best) + 1)
    return ranks
