"""Keyword retrieval: BM25 (bm25s) over the passages' title, headings and text."""

from __future__ import annotations

import re
from collections.abc import Sequence
from pathlib import Path

import bm25s
import numpy as np

from kb_index.stemming import stem

# Words of two or more characters, and single digits ("Pulse 2", "Buds 2").
TOKEN = re.compile(r"(?u)\b(?:\w\w+|\d)\b")
# bm25s's English list; kept here so tokenization never changes under us.
STOPWORDS = frozenset(bm25s.stopwords.STOPWORDS_EN)


def tokenize(text: str) -> list[str]:
    """Lowercased words (two or more characters, or a digit), stopwords removed, stemmed."""
    return [stem(token) for token in TOKEN.findall(text.lower()) if token not in STOPWORDS]


class KeywordIndex:
    """BM25 over a fixed list of passages (rows match the vector index)."""

    def __init__(self, retriever: bm25s.BM25, size: int) -> None:
        self.retriever = retriever
        self.size = size

    @classmethod
    def build(cls, texts: Sequence[str]) -> KeywordIndex:
        retriever = bm25s.BM25()
        retriever.index([tokenize(text) or [""] for text in texts], show_progress=False)
        return cls(retriever, len(texts))

    def save(self, folder: Path) -> None:
        self.retriever.save(str(folder), show_progress=False)

    @classmethod
    def load(cls, folder: Path, size: int) -> KeywordIndex:
        return cls(bm25s.BM25.load(str(folder), mmap=False), size)

    def scores(self, query: str) -> np.ndarray:
        """BM25 score of every passage for ``query`` (zeros when no word is known)."""
        tokens = tokenize(query)
        known = self.retriever.get_tokens_ids(tokens)
        if not known:
            return np.zeros(self.size, dtype=np.float32)
        return np.asarray(self.retriever.get_scores_from_ids(known), dtype=np.float32)
