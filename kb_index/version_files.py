"""A version's files under the storage dir: ``vectors.npy`` (unit vectors,
row i = passage i), ``index.faiss``, ``keyword/`` (bm25s) and
``manifest.json``. Written into a hidden folder and renamed into place, so a
version folder is either complete or absent."""

from __future__ import annotations

import json
import os
import shutil
from dataclasses import asdict, dataclass
from pathlib import Path

import faiss
import numpy as np

from kb_index import vectors
from kb_index.keyword import KeywordIndex

VECTORS = "vectors.npy"
INDEX = "index.faiss"
KEYWORD = "keyword"
MANIFEST = "manifest.json"


@dataclass(frozen=True)
class Manifest:
    version_id: int
    model: str
    dimension: int
    chunks: int
    index_kind: str


def write_version(
    storage_dir: Path,
    folder: str,
    manifest: Manifest,
    matrix: np.ndarray,
    index: faiss.Index,
    keyword: KeywordIndex,
) -> Path:
    """Writes the files and moves them to ``storage_dir/folder`` in one rename."""
    storage_dir.mkdir(parents=True, exist_ok=True)
    final = storage_dir / folder
    staging = storage_dir / f".{folder}.partial"
    shutil.rmtree(staging, ignore_errors=True)
    staging.mkdir()
    np.save(staging / VECTORS, matrix)
    vectors.save_index(index, staging / INDEX)
    keyword.save(staging / KEYWORD)
    (staging / MANIFEST).write_text(json.dumps(asdict(manifest), indent=2) + "\n")
    shutil.rmtree(final, ignore_errors=True)
    os.replace(staging, final)
    return final


def read_manifest(folder: Path) -> Manifest:
    return Manifest(**json.loads((folder / MANIFEST).read_text()))


def read_vectors(folder: Path) -> np.ndarray:
    """The version's vectors, memory-mapped (refresh copies the unchanged ones)."""
    return np.load(folder / VECTORS, mmap_mode="r")


def remove_version(storage_dir: Path, folder: str) -> None:
    shutil.rmtree(storage_dir / folder, ignore_errors=True)
    shutil.rmtree(storage_dir / f".{folder}.partial", ignore_errors=True)
