"""A published version loaded into memory: its retriever plus what a search
result shows. Immutable once built; readers swap whole snapshots."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from kb_index import vectors
from kb_index.catalog import Catalog, StoredDocument, VersionInfo
from kb_index.errors import BuildFailed, IndexFilesMissing
from kb_index.keyword import KeywordIndex
from kb_index.retrieval import DocumentInfo, Passages, RetrievalConfig, Retriever
from kb_index.version_files import INDEX, KEYWORD, read_manifest


@dataclass(frozen=True)
class Snapshot:
    """One version, ready to search."""

    version: VersionInfo
    retriever: Retriever
    documents: tuple[StoredDocument, ...]
    lines: tuple[int, ...]


def load_snapshot(
    catalog: Catalog,
    version_id: int,
    storage_dir: Path,
    params: vectors.IndexParams,
    config: RetrievalConfig,
) -> Snapshot:
    """Reads a version's rows and files; raises if they do not agree."""
    version = catalog.version(version_id)
    folder = storage_dir / version.folder
    if not (folder / INDEX).exists():
        raise IndexFilesMissing(version_id, str(folder))
    manifest = read_manifest(folder)
    documents = tuple(catalog.documents(version_id))
    chunks = catalog.chunks(version_id)
    index = vectors.load_index(folder / INDEX, params)
    keyword = KeywordIndex.load(folder / KEYWORD, len(chunks))
    problems = []
    if manifest.version_id != version_id:
        problems.append(f"folder {folder} holds version {manifest.version_id}")
    if not (index.ntotal == len(chunks) == manifest.chunks == keyword.retriever.scores["num_docs"]):
        problems.append(
            f"passage counts differ: {index.ntotal} vectors, {len(chunks)} rows, "
            f"{keyword.retriever.scores['num_docs']} keyword entries"
        )
    if version.dimension is not None and index.d != version.dimension:
        problems.append(f"vectors have {index.d} dimensions, version says {version.dimension}")
    if problems:
        raise BuildFailed(
            f"version {version_id} is inconsistent: " + "; ".join(problems), version_id
        )
    row_of = {doc.doc_id: row for row, doc in enumerate(documents)}
    passages = Passages(
        chunk_ids=[chunk.chunk_id for chunk in chunks],
        documents=np.array([row_of[chunk.doc_id] for chunk in chunks], dtype=np.int32),
        heading_paths=[chunk.heading_path for chunk in chunks],
        texts=[chunk.text for chunk in chunks],
    )
    infos = [
        DocumentInfo(
            doc.doc_id, doc.title, doc.url, doc.category, doc.product, doc.locale, doc.tier
        )
        for doc in documents
    ]
    return Snapshot(
        version=version,
        retriever=Retriever(index, keyword, passages, infos, config),
        documents=documents,
        lines=tuple(chunk.line for chunk in chunks),
    )
