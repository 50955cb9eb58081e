"""Dense retrieval with FAISS: exact inner product (``IndexFlatIP``) by default,
HNSW or IVF above a size threshold. Vectors are unit length, so inner product
is cosine similarity."""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

import faiss
import numpy as np

IndexKind = Literal["flat", "hnsw", "ivf"]
# faiss's generated stubs miss most index attributes and search parameters.
_faiss: Any = faiss
IVF_TRAINING_POINTS_PER_LIST = 40
IVF_MAX_TRAINING_POINTS = 200_000


@dataclass(frozen=True)
class IndexParams:
    """How to build and search the approximate indexes."""

    approximate_threshold: int = 50_000
    approximate_kind: Literal["hnsw", "ivf"] = "hnsw"
    hnsw_m: int = 32
    hnsw_ef_construction: int = 80
    hnsw_ef_search: int = 512
    ivf_nprobe: int = 48

    def kind_for(self, count: int) -> IndexKind:
        return self.approximate_kind if count > self.approximate_threshold else "flat"


def build_index(
    vectors: np.ndarray, params: IndexParams, kind: IndexKind | None = None
) -> faiss.Index:
    """An index over ``vectors`` (row i has id i)."""
    vectors = np.ascontiguousarray(vectors, dtype=np.float32)
    count, dimension = vectors.shape
    kind = kind or params.kind_for(count)
    index: Any
    if kind == "hnsw":
        index = faiss.IndexHNSWFlat(dimension, params.hnsw_m, faiss.METRIC_INNER_PRODUCT)
        index.hnsw.efConstruction = params.hnsw_ef_construction
        index.hnsw.efSearch = params.hnsw_ef_search
    elif kind == "ivf":
        lists = max(1, min(int(4 * math.sqrt(count)), count // IVF_TRAINING_POINTS_PER_LIST))
        quantizer = faiss.IndexFlatIP(dimension)
        index = faiss.IndexIVFFlat(quantizer, dimension, lists, faiss.METRIC_INNER_PRODUCT)
        sample = min(count, max(lists * IVF_TRAINING_POINTS_PER_LIST, 10_000))
        sample = min(sample, IVF_MAX_TRAINING_POINTS)
        rows = np.random.default_rng(0).choice(count, size=sample, replace=False)
        index.train(vectors[np.sort(rows)])
        index.nprobe = min(params.ivf_nprobe, lists)
    else:
        index = faiss.IndexFlatIP(dimension)
    if count:
        index.add(vectors)
    if kind == "ivf":
        index.make_direct_map()  # reconstruct(row) for similarities of keyword-only hits
    return index


def index_kind(index: faiss.Index) -> IndexKind:
    if isinstance(index, faiss.IndexHNSWFlat):
        return "hnsw"
    if isinstance(index, faiss.IndexIVFFlat):
        return "ivf"
    return "flat"


def save_index(index: faiss.Index, path: Path) -> None:
    faiss.write_index(index, str(path))


def load_index(path: Path, params: IndexParams) -> faiss.Index:
    index: Any = faiss.read_index(str(path))
    if isinstance(index, faiss.IndexHNSWFlat):
        index.hnsw.efSearch = params.hnsw_ef_search
    elif isinstance(index, faiss.IndexIVFFlat):
        index.nprobe = min(params.ivf_nprobe, index.nlist)
        index.make_direct_map()
    return index


def search(
    index: faiss.Index, query: np.ndarray, k: int, allowed: np.ndarray | None = None
) -> tuple[np.ndarray, np.ndarray]:
    """(similarities, rows) of the ``k`` nearest passages to one query vector,
    best first; ``allowed`` is a boolean mask over rows (filters). Rows are -1
    where fewer than ``k`` passages qualify."""
    k = max(1, min(k, index.ntotal))
    query = np.ascontiguousarray(query.reshape(1, -1), dtype=np.float32)
    if allowed is None:
        scores, rows = index.search(query, k)
        return scores[0], rows[0]
    bitmap = np.packbits(allowed.astype(np.uint8), bitorder="little")
    selector = faiss.IDSelectorBitmap(len(allowed), faiss.swig_ptr(bitmap))
    params: Any
    if isinstance(index, faiss.IndexHNSWFlat):
        params = _faiss.SearchParametersHNSW(sel=selector, efSearch=index.hnsw.efSearch)
    elif isinstance(index, faiss.IndexIVF):
        params = _faiss.SearchParametersIVF(sel=selector, nprobe=getattr(index, "nprobe", 1))
    else:
        params = _faiss.SearchParameters(sel=selector)
    scores, rows = index.search(query, k, params=params)
    return scores[0], rows[0]
