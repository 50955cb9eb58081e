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
        owner = self.passages.documents
        # Best passage of each article in each ranking (rankings are best first).
        dense_best: dict[int, tuple[int, float]] = {}
        for row, score in zip(dense_rows.tolist(), dense_scores.tolist(), strict=True):
            dense_best.setdefault(int(owner[row]), (row, score))
        keyword_best: dict[int, tuple[int, float]] = {}
        for row, score in zip(keyword_rows.tolist(), keyword_scores.tolist(), strict=True):
            keyword_best.setdefault(int(owner[row]), (row, score))
        top_keyword = keyword_scores[0] if len(keyword_scores) else 0.0
        fused: dict[int, float] = {}
        if config.fusion == "keyword":
            fused = {doc: score for doc, (_row, score) in keyword_best.items()}
        elif config.fusion == "dense":
            fused = {doc: score for doc, (_row, score) in dense_best.items()}
        elif config.fusion == "rrf":
            for rank, doc in enumerate(dense_best, start=1):
                fused[doc] = fused.get(doc, 0.0) + 1.0 / (config.rrf_k + rank)
            for rank, doc in enumerate(keyword_best, start=1):
                fused[doc] = fused.get(doc, 0.0) + 1.0 / (config.rrf_k + rank)
        else:
            floor = float(dense_scores[-1]) if len(dense_scores) else 0.0
            for doc in dense_best.keys() | keyword_best.keys():
                similarity = dense_best[doc][1] if doc in dense_best else floor
                keyword = keyword_best[doc][1] / top_keyword if doc in keyword_best else 0.0
                fused[doc] = config.dense_weight * similarity + (1 - config.dense_weight) * keyword
        order = sorted(fused, key=lambda doc: (-fused[doc], doc))[:k]
        ranked = []
        for doc in order:
            row, similarity = dense_best.get(doc, (-1, float("nan")))
            keyword_row, keyword = keyword_best.get(doc, (-1, 0.0))
            if row < 0:
                row = keyword_row
            ranked.append(RankedArticle(doc, row, float(fused[doc]), similarity, keyword))
        return ranked
