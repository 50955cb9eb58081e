from __future__ import annotations

from pathlib import Path

from kb_index import Issue, KBSettings, validate
from kb_index.sources import read_sources

from .conftest import make_settings

PROJECT = Path(__file__).resolve().parents[2]


def shipped_settings(tmp_path: Path) -> KBSettings:
    return KBSettings(
        _env_file=None,  # type: ignore[call-arg]
        source_dir=PROJECT / "data" / "kb",
        storage_dir=tmp_path,
        database_url=f"sqlite:///{tmp_path / 'x.db'}",
    )


def test_the_shipped_help_center_is_valid(tmp_path: Path) -> None:
    assert validate(shipped_settings(tmp_path)) == []


def test_the_shipped_help_center_has_every_category_of_the_brief(tmp_path: Path) -> None:
    settings = shipped_settings(tmp_path)
    documents = read_sources(settings.source_dir, settings.articles_prefix).documents
    assert len(documents) == 78
    assert sorted({doc.category for doc in documents}) == [
        "account",
        "app",
        "devices-compatibility",
        "orders-delivery",
        "payments-billing",
        "returns-refunds",
        "subscription",
        "troubleshooting",
        "warranty-repairs",
    ]


def test_broken_links_empty_and_huge_articles_are_reported(
    source_dir: Path, tmp_path: Path
) -> None:
    settings = make_settings(
        source_dir, tmp_path / "store", "sqlite://", article_min_words=5, article_max_words=150
    )
    track = source_dir / "orders" / "track-order.md"
    track.write_text(
        track.read_text().replace(
            "contact support with your order number",
            "see [late parcels](https://help.example.com/articles/late-parcel#steps) "
            "with your order number",
        )
    )
    (source_dir / "orders" / "stub.md").write_text(
        "---\nid: stub\ntitle: Stub\ncategory: orders\ntags: [x]\nproduct: all\n"
        "updated: 2026-01-01\nurl: https://help.example.com/articles/stub\n---\n\nComing soon.\n"
    )
    with (source_dir / "orders" / "returns.jsonl").open("a") as file:
        file.write(
            '{"id": "linked", "title": "L", "category": "orders", "tags": ["l"], '
            '"product": "all", "updated": "2026-01-01", '
            '"url": "https://help.example.com/articles/linked", '
            '"body": "Words here to pass the minimum.\\n\\nSee '
            'https://help.example.com/articles/nope for more."}\n'
        )
    assert validate(settings) == [
        Issue(
            "account/reset-password.md",
            12,
            "article is huge (159 words, at most 150); split it into several articles",
            "warning",
        ),
        Issue("orders/returns.jsonl", 3, "broken link to article 'nope' (no such id)"),
        Issue("orders/stub.md", 10, "article is almost empty (2 words, at least 5 expected)"),
        Issue("orders/track-order.md", 21, "broken link to article 'late-parcel' (no such id)"),
    ]
