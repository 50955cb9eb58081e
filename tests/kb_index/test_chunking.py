from __future__ import annotations

import dataclasses
from datetime import date

from kb_index.chunking import Chunk, chunk_document, embed_text, is_question, plain_text
from kb_index.documents import Document


def article(body: str, body_line: int = 10) -> Document:
    return Document(
        id="doc",
        title="Reset your password",
        category="account",
        tags=(),
        product="all",
        updated=date(2026, 1, 1),
        url="https://help.example.com/articles/doc",
        body=body,
        source="doc.md",
        body_line=body_line,
    )


def words(count: int, word: str = "word") -> str:
    return " ".join([word] * count)


def test_each_section_becomes_a_passage_with_its_heading_path() -> None:
    body = (
        "# Reset your password\n\n"
        f"{words(12, 'intro')}\n\n"
        "## Request the link\n\n"
        f"{words(15, 'request')}\n\n"
        "### If the link expired\n\n"
        f"{words(14, 'expired')}\n"
    )
    chunks = chunk_document(article(body), min_words=10, max_words=40)
    assert chunks == [
        Chunk("doc#0", "doc", 0, (), words(12, "intro"), 12,
              f"Reset your password\n{words(12, 'intro')}"),
        Chunk("doc#1", "doc", 1, ("Request the link",), words(15, "request"), 16,
              f"Reset your password\nRequest the link\n{words(15, 'request')}"),
        Chunk("doc#2", "doc", 2, ("Request the link", "If the link expired"),
              words(14, "expired"), 20,
              f"Reset your password\nRequest the link > If the link expired\n"
              f"{words(14, 'expired')}"),
    ]  # fmt: skip


def test_small_sub_sections_join_their_parent_and_keep_their_heading_in_the_text() -> None:
    body = (
        "## Request the link\n\n"
        f"{words(15, 'request')}\n\n"
        "### If the link expired\n\n"
        f"{words(4, 'expired')}\n\n"
        "## Another topic\n\n"
        f"{words(3, 'tiny')}\n\n"
        "## Last topic\n\n"
        f"{words(20, 'last')}\n"
    )
    chunks = chunk_document(article(body, body_line=1), min_words=10, max_words=40)
    assert [(c.heading_path, c.text, c.line) for c in chunks] == [
        (
            ("Request the link",),
            f"{words(15, 'request')}\n\n### If the link expired\n\n{words(4, 'expired')}",
            3,
        ),
        # a tiny section that is nobody's child merges into the next one
        ((), f"## Another topic\n\n{words(3, 'tiny')}\n\n## Last topic\n\n{words(20, 'last')}", 11),
    ]


def test_long_sections_split_on_paragraphs_then_sentences() -> None:
    sentence = "This sentence has exactly seven words here."
    long_paragraph = " ".join([sentence] * 8)  # 56 words
    body = f"## Long\n\n{words(25, 'first')}\n\n{words(25, 'second')}\n\n{long_paragraph}\n"
    chunks = chunk_document(article(body, body_line=1), min_words=10, max_words=30)
    assert [(c.heading_path, len(c.text.split()), c.line) for c in chunks] == [
        (("Long",), 25, 3),
        (("Long",), 25, 5),
        (("Long",), 28, 7),
        (("Long",), 28, 7),
    ]
    assert chunks[2].text == " ".join([sentence] * 4)


def test_long_tables_split_by_rows_repeating_the_header() -> None:
    rows = "\n".join(f"| Phone {i} | {words(8, 'note')} |" for i in range(6))
    body = f"## Matrix\n\n| Phone | Notes |\n|---|---|\n{rows}\n"
    # each row counts 13 words (pipes included), the header 6
    chunks = chunk_document(article(body, body_line=1), min_words=5, max_words=50)
    header = "| Phone | Notes |\n|---|---|\n"
    assert [c.text for c in chunks] == [
        header + "\n".join(f"| Phone {i} | {words(8, 'note')} |" for i in range(3)),
        header + "\n".join(f"| Phone {i} | {words(8, 'note')} |" for i in range(3, 6)),
    ]
    assert chunks[0].embed_text.splitlines()[2].startswith("Phone; Notes Phone 0; note note")


def test_headings_inside_code_blocks_are_text() -> None:
    body = f"## Shell\n\n```\n# not a heading\nrun it\n```\n\n{words(12)}\n"
    chunks = chunk_document(article(body, body_line=1), min_words=3, max_words=40)
    assert [(c.heading_path, c.text) for c in chunks] == [
        (("Shell",), f"```\n# not a heading\nrun it\n```\n\n{words(12)}")
    ]


def test_jsonl_and_html_passages_point_at_the_article_line() -> None:
    document = Document(
        id="doc", title="T", category="c", tags=(), product="all", updated=date(2026, 1, 1),
        url="u", body=f"## A\n\n{words(12)}\n\n## B\n\n{words(12)}", source="a.jsonl:7",
        body_line=7, lines_follow_body=False,
    )  # fmt: skip
    assert [c.line for c in chunk_document(document, 5, 40)] == [7, 7]


def test_plain_text_drops_markdown_syntax() -> None:
    markdown = (
        "## Heading\n\nSee [the guide](https://x.example/a) and **bold** `code`.\n\n"
        "| A | B |\n|---|---|\n| 1 | 2 |"
    )
    assert plain_text(markdown) == "Heading See the guide and bold code. A; B 1; 2"
    assert embed_text("Title", ("One", "Two"), "Text") == "Title\nOne > Two\nText"


def test_questions_are_entries_after_the_passages_never_merged() -> None:
    document = dataclasses.replace(
        article("# Reset\n\n" + words(30)), questions=("forgot my pw", "locked out of the app?")
    )
    chunks = chunk_document(document, min_words=10, max_words=60)
    assert [(c.chunk_id, c.text, is_question(c.heading_path)) for c in chunks] == [
        ("doc#0", words(30), False),
        ("doc#1", "forgot my pw", True),
        ("doc#2", "locked out of the app?", True),
    ]
    assert chunks[1].embed_text == "Reset your password\nforgot my pw"
    assert is_question(chunks[1].heading) and not is_question(chunks[0].heading)
