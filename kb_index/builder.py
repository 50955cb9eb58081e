"""Building and publishing versions: full builds and incremental refreshes.

A build reads and validates the sources, chunks them, embeds the passages
(a refresh reuses the vectors of passages whose text did not change), writes
the index files into a new version folder, verifies the version as a reader
would load it (counts, dimensions, probe queries), and only then makes it the
current version in one database transaction. Anything that fails on the way
marks the new version failed and leaves the current one serving."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np
import sqlalchemy as sa

from kb_index import vectors
from kb_index.catalog import Catalog, StoredChunk
from kb_index.chunking import Chunk, chunk_document
from kb_index.documents import Document
from kb_index.embedding import Embedder
from kb_index.errors import BuildFailed, InvalidSource, Issue, KBError
from kb_index.keyword import KeywordIndex
from kb_index.query import compose_query
from kb_index.retrieval import RetrievalConfig
from kb_index.settings import KBSettings
from kb_index.snapshot import Snapshot, load_snapshot
from kb_index.validation import check_sources
from kb_index.version_files import (
    Manifest,
    read_vectors,
    remove_version,
    write_version,
)

logger = logging.getLogger(__name__)

PROBE_COUNT = 3


@dataclass(frozen=True)
class Changes:
    """Article ids added, changed and removed relative to the previous version."""

    added: tuple[str, ...] = ()
    changed: tuple[str, ...] = ()
    removed: tuple[str, ...] = ()

    @property
    def any(self) -> bool:
        return bool(self.added or self.changed or self.removed)


@dataclass(frozen=True)
class BuildReport:
    """What a build or refresh did. ``published`` is False when a refresh found
    nothing to do (``version_id`` is then the version still current)."""

    version_id: int
    published: bool
    documents: int
    chunks: int
    embedded: int
    reused: int
    index_kind: str
    seconds: float
    changes: Changes = field(default_factory=Changes)
    warnings: tuple[Issue, ...] = ()


Progress = Callable[[int], None]
ProgressFactory = Callable[[int], Progress]


def build(
    settings: KBSettings,
    engine: sa.Engine,
    embedder: Embedder,
    *,
    incremental: bool = False,
    progress: ProgressFactory | None = None,
) -> BuildReport:
    """Builds a new version from ``settings.source_dir`` and publishes it.

    ``incremental`` (``kb refresh``): reuse the current version's vectors for
    unchanged passages and do nothing when no article changed. ``progress`` is
    called with the number of passages to embed and returns a callback taking
    the number just embedded (the CLI passes a tqdm bar)."""
    started = time.perf_counter()
    documents, issues = check_sources(settings)
    if any(issue.severity == "error" for issue in issues):
        raise InvalidSource(issues)
    warnings = tuple(issue for issue in issues if issue.severity != "error")

    catalog = Catalog(engine)
    parent_id = catalog.current_version_id()
    previous = _previous(catalog, settings, parent_id) if incremental else None
    changes = _changes(catalog, parent_id, documents)
    if incremental and parent_id is not None and not changes.any:
        version = catalog.version(parent_id)
        return BuildReport(
            version_id=parent_id,
            published=False,
            documents=version.document_count,
            chunks=version.chunk_count,
            embedded=0,
            reused=0,
            index_kind=version.index_kind or "",
            seconds=time.perf_counter() - started,
            changes=changes,
            warnings=warnings,
        )

    chunks = [
        chunk
        for document in documents
        for chunk in chunk_document(document, settings.chunk_min_words, settings.chunk_max_words)
    ]
    version_id = catalog.create_version(parent_id, settings.model, str(settings.source_dir))
    folder = catalog.version(version_id).folder
    try:
        matrix, embedded, reused = _embed(chunks, embedder, previous, progress)
        params = index_params(settings)
        index = vectors.build_index(matrix, params)
        keyword = KeywordIndex.build([chunk.embed_text for chunk in chunks])
        kind = vectors.index_kind(index)
        write_version(
            settings.storage_dir,
            folder,
            Manifest(version_id, settings.model, int(matrix.shape[1]), len(chunks), kind),
            matrix,
            index,
            keyword,
        )
        catalog.save_contents(version_id, documents, chunks)
        catalog.finish(
            version_id,
            dimension=int(matrix.shape[1]),
            index_kind=kind,
            document_count=len(documents),
            chunk_count=len(chunks),
            embedded_count=embedded,
            reused_count=reused,
            build_seconds=round(time.perf_counter() - started, 3),
        )
        snapshot = load_snapshot(
            catalog, version_id, settings.storage_dir, params, retrieval_config(settings)
        )
        verify(snapshot, settings, embedder, documents, len(chunks), embedder.dimension)
        catalog.publish(version_id, parent_id)
    except Exception as error:
        reason = error.reason if isinstance(error, BuildFailed) else _describe(error)
        logger.error("kb build failed", extra={"version_id": version_id, "reason": reason})
        catalog.mark_failed(version_id, reason)
        remove_version(settings.storage_dir, folder)
        if isinstance(error, KBError) and not isinstance(error, BuildFailed):
            raise
        raise BuildFailed(
            f"version {version_id} was not published: {reason}", version_id
        ) from error
    for old in catalog.prune(settings.keep_versions):
        remove_version(settings.storage_dir, old)
    seconds = time.perf_counter() - started
    logger.info(
        "kb version published",
        extra={"version_id": version_id, "chunks": len(chunks), "embedded": embedded},
    )
    return BuildReport(
        version_id=version_id,
        published=True,
        documents=len(documents),
        chunks=len(chunks),
        embedded=embedded,
        reused=reused,
        index_kind=kind,
        seconds=seconds,
        changes=changes,
        warnings=warnings,
    )


def index_params(settings: KBSettings) -> vectors.IndexParams:
    return vectors.IndexParams(
        approximate_threshold=settings.approximate_threshold,
        approximate_kind=settings.approximate_kind,
        hnsw_m=settings.hnsw_m,
        hnsw_ef_construction=settings.hnsw_ef_construction,
        hnsw_ef_search=settings.hnsw_ef_search,
        ivf_nprobe=settings.ivf_nprobe,
    )


def retrieval_config(settings: KBSettings) -> RetrievalConfig:
    return RetrievalConfig(
        fusion=settings.fusion, dense_weight=settings.dense_weight, candidates=settings.candidates
    )


def verify(
    snapshot: Snapshot,
    settings: KBSettings,
    embedder: Embedder,
    documents: list[Document],
    chunk_count: int,
    dimension: int,
) -> None:
    """Raises ``BuildFailed`` unless the loaded version has every document and
    passage, vectors of the model's dimension, and the probe queries find their
    articles (``settings.probe_query``/``probe_doc_id``, else the titles of a
    few articles)."""
    version = snapshot.version
    retriever = snapshot.retriever
    if len(snapshot.documents) != len(documents) or len(retriever.passages) != chunk_count:
        raise BuildFailed(
            f"stored {len(snapshot.documents)} documents and {len(retriever.passages)} passages, "
            f"expected {len(documents)} and {chunk_count}",
            version.id,
        )
    if retriever.vector_index.d != dimension:
        raise BuildFailed(
            f"index has {retriever.vector_index.d} dimensions, the model gives {dimension}",
            version.id,
        )
    known = {doc.id for doc in documents}
    for query, doc_id in probes(settings, documents):
        if doc_id not in known:
            raise BuildFailed(
                f"probe article {doc_id!r} (FRONTLINE_KB_PROBE_DOC_ID) is not among the articles",
                version.id,
            )
        text = compose_query(query, ())
        ranked = retriever.rank(embedder.encode_query(text), text, settings.probe_rank)
        found = [retriever.documents[item.document].id for item in ranked]
        if doc_id not in found:
            raise BuildFailed(
                f"probe query {query!r} did not return article {doc_id!r} in the top "
                f"{settings.probe_rank} (got {', '.join(found) or 'nothing'})",
                version.id,
            )


def probes(settings: KBSettings, documents: list[Document]) -> list[tuple[str, str]]:
    if settings.probe_query and settings.probe_doc_id:
        return [(settings.probe_query, settings.probe_doc_id)]
    if not documents:
        return []
    step = max(1, len(documents) // PROBE_COUNT)
    return [(doc.title, doc.id) for doc in documents[::step][:PROBE_COUNT]]


@dataclass(frozen=True)
class _Previous:
    chunks: list[StoredChunk]
    matrix: np.ndarray


def _previous(catalog: Catalog, settings: KBSettings, parent_id: int | None) -> _Previous | None:
    """The current version's passages and vectors, when they can be reused."""
    if parent_id is None:
        return None
    version = catalog.version(parent_id)
    if version.model != settings.model:
        logger.info("model changed: every passage is embedded again")
        return None
    try:
        matrix = read_vectors(settings.storage_dir / version.folder)
    except OSError:
        logger.warning("vectors of version %s are missing: embedding everything", parent_id)
        return None
    chunks = catalog.chunks(parent_id)
    if matrix.shape[0] != len(chunks):
        return None
    return _Previous(chunks, matrix)


def _changes(catalog: Catalog, parent_id: int | None, documents: list[Document]) -> Changes:
    if parent_id is None:
        return Changes(added=tuple(doc.id for doc in documents))
    before = {doc.doc_id: doc.content_hash for doc in catalog.documents(parent_id)}
    now = {doc.id: doc.content_hash for doc in documents}
    return Changes(
        added=tuple(sorted(now.keys() - before.keys())),
        changed=tuple(sorted(d for d in now.keys() & before.keys() if now[d] != before[d])),
        removed=tuple(sorted(before.keys() - now.keys())),
    )


def _embed(
    chunks: list[Chunk],
    embedder: Embedder,
    previous: _Previous | None,
    progress: ProgressFactory | None,
) -> tuple[np.ndarray, int, int]:
    """The vector of every passage: copied from the previous version when its
    embedded text is identical, else computed."""
    reusable: dict[str, int] = {}
    if previous is not None:
        reusable = {chunk.embed_hash: chunk.row for chunk in previous.chunks}
    dimension = embedder.dimension
    matrix = np.empty((len(chunks), dimension), dtype=np.float32)
    todo: list[int] = []
    for row, chunk in enumerate(chunks):
        source = reusable.get(chunk.embed_hash)
        if previous is not None and source is not None and previous.matrix.shape[1] == dimension:
            matrix[row] = previous.matrix[source]
        else:
            todo.append(row)
    if todo:
        callback = progress(len(todo)) if progress else None
        matrix[todo] = embedder.encode([chunks[row].embed_text for row in todo], callback)
    return matrix, len(todo), len(chunks) - len(todo)


def _describe(error: Exception) -> str:
    if isinstance(error, sa.exc.SQLAlchemyError):
        return (
            f"database error ({error.__class__.__name__}: {getattr(error, 'orig', None) or error})"
        )
    return f"{error.__class__.__name__}: {error}"
