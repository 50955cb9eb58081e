from __future__ import annotations

import json
from datetime import date
from pathlib import Path

from kb_index.documents import Document
from kb_index.errors import Issue
from kb_index.sources import read_sources

from .conftest import FIXTURE_KB, FIXTURE_PREFIX


def read(folder: Path) -> tuple[list[str], list[Issue]]:
    result = read_sources(folder, FIXTURE_PREFIX)
    return [doc.id for doc in result.documents], result.issues


def test_reads_markdown_html_and_jsonl_articles() -> None:
    result = read_sources(FIXTURE_KB, FIXTURE_PREFIX)
    assert result.issues == []
    summary = [
        (
            doc.id,
            doc.source,
            doc.body_line,
            doc.category,
            doc.product,
            doc.tags,
            doc.tier,
            doc.locale,
        )
        for doc in result.documents
    ]
    assert summary == [
        ("delete-account", "account/delete-account.md", 10, "account", "all",
         ("delete", "close account", "privacy"), 1, "en"),
        ("reset-password", "account/reset-password.md", 12, "account", "all",
         ("password", "sign in", "login"), 1, "en"),
        ("pair-earbuds", "devices/pair-earbuds.html", 13, "devices", "earbuds",
         ("earbuds", "bluetooth", "pairing"), 1, "en"),
        ("start-a-return", "orders/returns.jsonl:1", 1, "orders", "all",
         ("return", "refund", "send back"), 1, "en"),
        ("refund-timing", "orders/returns.jsonl:2", 2, "orders", "all",
         ("refund", "money back"), 1, "en"),
        ("track-order", "orders/track-order.md", 10, "orders", "all",
         ("tracking", "delivery", "parcel", "shipping"), 1, "en"),
    ]  # fmt: skip


def test_html_article_takes_title_url_and_locale_from_standard_tags() -> None:
    result = read_sources(FIXTURE_KB, FIXTURE_PREFIX)
    article = next(doc for doc in result.documents if doc.id == "pair-earbuds")
    assert article == Document(
        id="pair-earbuds",
        title="Pair your earbuds",
        category="devices",
        tags=("earbuds", "bluetooth", "pairing"),
        product="earbuds",
        updated=date(2026, 6, 1),
        url="https://help.example.com/articles/pair-earbuds",
        body=(
            "# Pair your earbuds\n\n"
            "Your earbuds pair with a phone over Bluetooth. You only need to pair them once; "
            "afterwards they connect by themselves when you take them out of the case.\n\n"
            "## Pair with a phone\n\n"
            "1. Put both earbuds in the case and keep the lid open.\n"
            "2. Press and hold the button on the case for **3 seconds** until the light "
            "flashes white.\n"
            "3. On your phone, open Bluetooth settings and select the earbuds from the list.\n\n"
            "## Battery life\n\n"
            "| Mode | Hours |\n|---|---|\n| Noise cancelling on | 6 |\n| Noise cancelling off | 8 |"
        ),
        source="devices/pair-earbuds.html",
        body_line=13,
        lines_follow_body=False,
    )


def test_content_hash_ignores_where_the_file_lives(tmp_path: Path) -> None:
    first = read_sources(FIXTURE_KB, FIXTURE_PREFIX).documents
    moved = tmp_path / "kb" / "elsewhere"
    moved.mkdir(parents=True)
    (moved / "track-order.md").write_text((FIXTURE_KB / "orders" / "track-order.md").read_text())
    second = read_sources(tmp_path / "kb", FIXTURE_PREFIX).documents
    assert second[0].source == "elsewhere/track-order.md"
    assert second[0].content_hash == next(d for d in first if d.id == "track-order").content_hash


FRONT = """---
id: {id}
title: {title}
category: account
tags: [a, b]
product: all
updated: {updated}
url: {url}
{extra}---

# Title

Some text that is long enough to be an article body.
"""


def write(folder: Path, name: str, **fields: str) -> None:
    values = {
        "id": Path(name).stem,
        "title": "A title",
        "updated": "2026-01-02",
        "url": FIXTURE_PREFIX + Path(name).stem,
        "extra": "",
    }
    values.update(fields)
    (folder / name).write_text(FRONT.format(**values))


def test_front_matter_errors_name_the_file_and_line(tmp_path: Path) -> None:
    write(tmp_path, "bad-id.md", id="Bad_Id", url=FIXTURE_PREFIX + "Bad_Id")
    write(tmp_path, "bad-date.md", updated="yesterday")
    write(tmp_path, "bad-url.md", url="help.example.com/bad-url")
    write(tmp_path, "wrong-url.md", url=FIXTURE_PREFIX + "other")
    write(tmp_path, "bad-tier.md", extra="tier: high\nlocale: english\n")
    write(tmp_path, "unknown-key.md", extra="author: Ann\n")
    (tmp_path / "no-front.md").write_text("# Just text\n")
    (tmp_path / "unclosed.md").write_text("---\nid: unclosed\n")
    (tmp_path / "bad-yaml.md").write_text("---\nid: x\ntags: [a, b\n---\ntext\n")
    (tmp_path / "missing.md").write_text("---\nid: missing\ntitle: Only a title\n---\n\nText.\n")
    ids, issues = read(tmp_path)
    assert ids == ["unknown-key"]
    assert [str(issue) for issue in issues] == [
        "bad-date.md:7: error: 'updated' must be a date like 2026-06-30, got 'yesterday'",
        "bad-id.md:2: error: 'id' must be lowercase letters, digits and dashes, got 'Bad_Id'",
        "bad-tier.md:9: error: 'tier' must be a whole number from 0 to 4, got 'high'",
        "bad-tier.md:10: error: 'locale' must look like en or en-GB, got 'english'",
        "bad-url.md:8: error: 'url' must be an http(s) address, got 'help.example.com/bad-url'",
        "bad-yaml.md:3: error: front matter is not valid YAML: "
        "expected ',' or ']', but got '<stream end>'",
        "missing.md:1: error: missing required field 'category'",
        "missing.md:1: error: missing required field 'tags'",
        "missing.md:1: error: missing required field 'product'",
        "missing.md:1: error: missing required field 'updated'",
        "missing.md:1: error: missing required field 'url'",
        "no-front.md:1: error: missing front matter: the file must start with '---'",
        "unclosed.md:1: error: front matter is not closed by a '---' line",
        "unknown-key.md:9: warning: unknown field 'author' (ignored)",
        "wrong-url.md:8: error: "
        "'url' must be https://help.example.com/articles/wrong-url for id 'wrong-url'",
    ]


def test_duplicate_ids_are_errors_at_the_second_article(tmp_path: Path) -> None:
    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    write(tmp_path / "a", "same.md")
    write(tmp_path / "b", "same.md")
    ids, issues = read(tmp_path)
    assert ids == ["same"]
    assert [str(issue) for issue in issues] == [
        "b/same.md:2: error: duplicate id 'same', already used by a/same.md"
    ]


def jsonl_line(article_id: str, **changes: object) -> str:
    row: dict[str, object] = {
        "id": article_id,
        "title": "Ok",
        "category": "c",
        "tags": ["t"],
        "product": "all",
        "updated": "2026-01-01",
        "url": FIXTURE_PREFIX + article_id,
        "body": "Text.",
    }
    row.update(changes)
    return json.dumps({key: value for key, value in row.items() if value is not None})


def test_jsonl_errors_point_at_the_line(tmp_path: Path) -> None:
    lines = [
        jsonl_line("ok"),
        "{not json",
        '["a list"]',
        jsonl_line("no-body", body=None),
        jsonl_line("tags-text", tags="t"),
        "",
        jsonl_line("ok"),
    ]
    (tmp_path / "articles.jsonl").write_text("\n".join(lines) + "\n")
    ids, issues = read(tmp_path)
    assert ids == ["ok"]
    assert [str(issue) for issue in issues] == [
        "articles.jsonl:2: error: "
        "not valid JSON: Expecting property name enclosed in double quotes",
        "articles.jsonl:3: error: each line must be a JSON object",
        "articles.jsonl:4: error: missing 'body' (Markdown text)",
        "articles.jsonl:5: error: 'tags' must be a list like [password, login], got 't'",
        "articles.jsonl:7: error: duplicate id 'ok', already used by articles.jsonl:1",
    ]


def test_hidden_files_readmes_and_other_extensions_are_ignored(tmp_path: Path) -> None:
    write(tmp_path, "real.md")
    (tmp_path / "README.md").write_text("# How to write articles\n")
    (tmp_path / "_draft.md").write_text("not front matter\n")
    (tmp_path / ".hidden").mkdir()
    (tmp_path / ".hidden" / "x.md").write_text("nope\n")
    (tmp_path / "notes.txt").write_text("nope\n")
    assert read(tmp_path) == (["real"], [])


def test_a_missing_source_folder_is_an_issue(tmp_path: Path) -> None:
    assert read(tmp_path / "nowhere") == (
        [],
        [Issue(str(tmp_path / "nowhere"), 0, "source folder does not exist")],
    )


def test_questions_an_article_answers_are_read_and_checked(tmp_path: Path) -> None:
    write(tmp_path, "good.md", extra='questions:\n  - "forgot my  pw?"\n  - where is it\n')
    write(tmp_path, "not-a-list.md", extra="questions: how do I reset\n")
    write(tmp_path, "empty-one.md", extra='questions: ["ok", ""]\n')
    ids, issues = read(tmp_path)
    assert ids == ["good"]
    assert [str(issue) for issue in issues] == [
        "empty-one.md:9: error: every question must be non-empty text, got ''",
        "not-a-list.md:9: error: 'questions' must be a list of questions, got 'how do I reset'",
    ]
    documents = read_sources(tmp_path, FIXTURE_PREFIX).documents
    assert [d.questions for d in documents] == [("forgot my pw?", "where is it")]
