"""The metadata store: index versions, their documents and passages, and the
pointer to the current version (switched in one transaction)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any

import sqlalchemy as sa

from kb_index import tables
from kb_index.chunking import PATH_SEPARATOR, Chunk
from kb_index.documents import Document
from kb_index.errors import BuildFailed

CURRENT_ROW = 1
INSERT_BATCH = 2000


@dataclass(frozen=True)
class VersionInfo:
    """A row of ``kb_versions``."""

    id: int
    status: str
    parent_id: int | None
    model: str
    dimension: int | None
    index_kind: str | None
    document_count: int
    chunk_count: int
    embedded_count: int
    reused_count: int
    folder: str
    source_dir: str
    created_at: datetime
    finished_at: datetime | None
    published_at: datetime | None
    build_seconds: float | None
    error: str | None


@dataclass(frozen=True)
class StoredDocument:
    """A row of ``kb_documents``."""

    doc_id: str
    title: str
    category: str
    product: str
    locale: str
    tier: int
    tags: tuple[str, ...]
    url: str
    updated: date
    source: str
    content_hash: str


@dataclass(frozen=True)
class StoredChunk:
    """A row of ``kb_chunks`` (``row`` is its row in the vector index)."""

    row: int
    chunk_id: str
    doc_id: str
    position: int
    heading_path: str
    text: str
    line: int
    embed_hash: str


def now() -> datetime:
    return datetime.now(UTC)


def aware_utc(value: datetime | None) -> datetime | None:
    # SQLite returns naive datetimes; everything is stored in UTC.
    if value is not None and value.tzinfo is None:
        return value.replace(tzinfo=UTC)
    return value


class Catalog:
    """Versions and their contents in the application database."""

    def __init__(self, engine: sa.Engine) -> None:
        self.engine = engine

    # --- reading ---------------------------------------------------------
    def current_version_id(self) -> int | None:
        """The published version readers should serve (the poll query)."""
        with self.engine.connect() as connection:
            return connection.execute(
                sa.select(tables.current.c.version_id).where(tables.current.c.id == CURRENT_ROW)
            ).scalar_one_or_none()

    def version(self, version_id: int) -> VersionInfo:
        with self.engine.connect() as connection:
            row = connection.execute(
                sa.select(tables.versions).where(tables.versions.c.id == version_id)
            ).one()
        return _version(row._mapping)

    def versions(self, limit: int = 20) -> list[VersionInfo]:
        with self.engine.connect() as connection:
            rows = connection.execute(
                sa.select(tables.versions).order_by(tables.versions.c.id.desc()).limit(limit)
            ).all()
        return [_version(row._mapping) for row in rows]

    def documents(self, version_id: int) -> list[StoredDocument]:
        table = tables.documents
        with self.engine.connect() as connection:
            rows = connection.execute(
                sa.select(table).where(table.c.version_id == version_id).order_by(table.c.doc_id)
            ).all()
        return [
            StoredDocument(
                doc_id=row.doc_id,
                title=row.title,
                category=row.category,
                product=row.product,
                locale=row.locale,
                tier=row.tier,
                tags=tuple(row.tags),
                url=row.url,
                updated=row.updated,
                source=row.source,
                content_hash=row.content_hash,
            )
            for row in rows
        ]

    def chunks(self, version_id: int) -> list[StoredChunk]:
        table = tables.chunks
        with self.engine.connect() as connection:
            rows = connection.execute(
                sa.select(table).where(table.c.version_id == version_id).order_by(table.c.row)
            ).all()
        return [
            StoredChunk(
                row=row.row,
                chunk_id=row.chunk_id,
                doc_id=row.doc_id,
                position=row.position,
                heading_path=row.heading_path,
                text=row.text,
                line=row.line,
                embed_hash=row.embed_hash,
            )
            for row in rows
        ]

    # --- writing a version -------------------------------------------------
    def create_version(self, parent_id: int | None, model: str, source_dir: str) -> int:
        with self.engine.begin() as connection:
            version_id = connection.execute(
                sa.insert(tables.versions)
                .values(
                    status="building",
                    parent_id=parent_id,
                    model=model,
                    document_count=0,
                    chunk_count=0,
                    embedded_count=0,
                    reused_count=0,
                    folder="",
                    source_dir=source_dir,
                    created_at=now(),
                )
                .returning(tables.versions.c.id)
            ).scalar_one()
            folder = f"v{version_id:06d}"
            connection.execute(
                sa.update(tables.versions)
                .where(tables.versions.c.id == version_id)
                .values(folder=folder)
            )
        return int(version_id)

    def save_contents(
        self, version_id: int, documents: Sequence[Document], chunks: Sequence[Chunk]
    ) -> None:
        """Stores the version's documents and passages (row i = vector i)."""
        document_rows = [
            {
                "version_id": version_id,
                "doc_id": doc.id,
                "title": doc.title,
                "category": doc.category,
                "product": doc.product,
                "locale": doc.locale,
                "tier": doc.tier,
                "tags": list(doc.tags),
                "url": doc.url,
                "updated": doc.updated,
                "source": doc.source,
                "content_hash": doc.content_hash,
            }
            for doc in documents
        ]
        chunk_rows = [
            {
                "version_id": version_id,
                "row": row,
                "chunk_id": chunk.chunk_id,
                "doc_id": chunk.doc_id,
                "position": chunk.position,
                "heading_path": PATH_SEPARATOR.join(chunk.heading_path),
                "text": chunk.text,
                "line": chunk.line,
                "embed_hash": chunk.embed_hash,
            }
            for row, chunk in enumerate(chunks)
        ]
        with self.engine.begin() as connection:
            for start in range(0, len(document_rows), INSERT_BATCH):
                connection.execute(
                    sa.insert(tables.documents), document_rows[start : start + INSERT_BATCH]
                )
            for start in range(0, len(chunk_rows), INSERT_BATCH):
                connection.execute(
                    sa.insert(tables.chunks), chunk_rows[start : start + INSERT_BATCH]
                )

    def finish(self, version_id: int, **values: Any) -> None:
        """Records the build's numbers (dimension, counts, index kind, seconds)."""
        with self.engine.begin() as connection:
            connection.execute(
                sa.update(tables.versions)
                .where(tables.versions.c.id == version_id)
                .values(finished_at=now(), **values)
            )

    def mark_failed(self, version_id: int, error: str) -> None:
        with self.engine.begin() as connection:
            connection.execute(
                sa.update(tables.versions)
                .where(tables.versions.c.id == version_id)
                .values(status="failed", error=error[:4000], finished_at=now())
            )
            connection.execute(
                sa.delete(tables.chunks).where(tables.chunks.c.version_id == version_id)
            )
            connection.execute(
                sa.delete(tables.documents).where(tables.documents.c.version_id == version_id)
            )

    def publish(self, version_id: int, expected_current: int | None) -> None:
        """Makes ``version_id`` the current version in one transaction, unless
        another build published since this one started."""
        with self.engine.begin() as connection:
            query = sa.select(tables.current.c.version_id).where(tables.current.c.id == CURRENT_ROW)
            if connection.dialect.name == "postgresql":
                query = query.with_for_update()
            current = connection.execute(query).scalar_one_or_none()
            if current != expected_current:
                raise BuildFailed(
                    f"version {current} was published while this build ran; "
                    "run `kb refresh` again to build on it",
                    version_id,
                )
            stamp = now()
            connection.execute(
                sa.update(tables.versions)
                .where(tables.versions.c.id == version_id)
                .values(status="published", published_at=stamp)
            )
            if current is None:
                connection.execute(
                    sa.insert(tables.current).values(
                        id=CURRENT_ROW, version_id=version_id, changed_at=stamp
                    )
                )
            else:
                connection.execute(
                    sa.update(tables.current)
                    .where(tables.current.c.id == CURRENT_ROW)
                    .values(version_id=version_id, changed_at=stamp)
                )

    def prune(self, keep: int) -> list[str]:
        """Drops the contents of published versions older than the newest
        ``keep`` (never the current one) and of failed builds; returns their
        folders so the caller can delete the files."""
        current = self.current_version_id()
        with self.engine.begin() as connection:
            published = (
                connection.execute(
                    sa.select(tables.versions.c.id)
                    .where(tables.versions.c.status == "published")
                    .order_by(tables.versions.c.id.desc())
                )
                .scalars()
                .all()
            )
            old = [vid for vid in published[keep:] if vid != current]
            failed = (
                connection.execute(
                    sa.select(tables.versions.c.id).where(tables.versions.c.status == "failed")
                )
                .scalars()
                .all()
            )
            doomed = old + list(failed)
            if not doomed:
                return []
            folders = (
                connection.execute(
                    sa.select(tables.versions.c.folder).where(tables.versions.c.id.in_(doomed))
                )
                .scalars()
                .all()
            )
            connection.execute(
                sa.delete(tables.chunks).where(tables.chunks.c.version_id.in_(doomed))
            )
            connection.execute(
                sa.delete(tables.documents).where(tables.documents.c.version_id.in_(doomed))
            )
            if old:
                connection.execute(
                    sa.update(tables.versions)
                    .where(tables.versions.c.id.in_(old))
                    .values(status="pruned")
                )
        return [folder for folder in folders if folder]


def _version(row: Any) -> VersionInfo:
    return VersionInfo(
        id=row["id"],
        status=row["status"],
        parent_id=row["parent_id"],
        model=row["model"],
        dimension=row["dimension"],
        index_kind=row["index_kind"],
        document_count=row["document_count"],
        chunk_count=row["chunk_count"],
        embedded_count=row["embedded_count"],
        reused_count=row["reused_count"],
        folder=row["folder"],
        source_dir=row["source_dir"],
        created_at=aware_utc(row["created_at"]) or now(),
        finished_at=aware_utc(row["finished_at"]),
        published_at=aware_utc(row["published_at"]),
        build_seconds=row["build_seconds"],
        error=row["error"],
    )
