"""HTML articles: metadata from ``<meta name="kb:FIELD" content="...">`` tags,
the body converted to Markdown so it is chunked like any other article.

Conventions (documented in ``kb_index.sources``): ``kb:id``, ``kb:category``,
``kb:tags`` (comma-separated), ``kb:product``, ``kb:updated``, ``kb:url``,
``kb:tier``, ``kb:locale``; ``kb:title`` falls back to ``<title>``, ``kb:url``
to ``<link rel="canonical">`` and ``kb:locale`` to ``<html lang>``. The body is
``<main>`` or ``<article>`` if present, else ``<body>``; scripts, styles,
navigation, headers and footers are left out."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from html.parser import HTMLParser
from typing import Any

SKIPPED = {"script", "style", "nav", "header", "footer", "noscript", "template", "head"}
BLOCKS = {"p", "div", "section", "blockquote", "table", "pre", "dl"}
HEADINGS = {f"h{level}": level for level in range(1, 7)}


@dataclass
class HtmlArticle:
    """Raw metadata (strings, before validation), key lines and the Markdown body."""

    raw: dict[str, Any] = field(default_factory=dict)
    lines: dict[str, int] = field(default_factory=dict)
    body: str = ""
    body_line: int = 1


class _Converter(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.meta: dict[str, tuple[str, int]] = {}
        self.title = ""
        self.title_line = 1
        self.lang: tuple[str, int] | None = None
        self.canonical: tuple[str, int] | None = None
        self.skip_depth = 0
        self.in_title = False
        self.container: str | None = None  # "main" / "article" once seen
        self.out: list[str] = []
        self.container_out: list[str] = []
        self.container_depth = 0
        self.body_line = 0
        self.in_pre = False
        self.row: list[str] | None = None
        self.row_has_header = False
        self.rows_written = 0
        self.lists: list[list[int]] = []  # per open list: [next number] or [] if bulleted
        self.cell: list[str] | None = None
        self.link: str | None = None

    # -- output helpers ---------------------------------------------------
    def _target(self) -> list[str]:
        if self.cell is not None:
            return self.cell
        return self.container_out if self.container_depth else self.out

    def _write(self, text: str) -> None:
        self._target().append(text)

    def _newblock(self) -> None:
        self._target().append("\n\n")

    # -- parser callbacks -------------------------------------------------
    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = {key: value or "" for key, value in attrs}
        line = self.getpos()[0]
        if tag == "html" and values.get("lang"):
            self.lang = (values["lang"], line)
        if tag == "meta" and values.get("name", "").startswith("kb:"):
            self.meta[values["name"][3:]] = (values.get("content", ""), line)
            return
        if tag == "link" and "canonical" in values.get("rel", "").split():
            self.canonical = (values.get("href", ""), line)
            return
        if tag == "title":
            self.in_title = True
            self.title_line = line
            return
        if tag in SKIPPED:
            self.skip_depth += 1
            return
        if self.skip_depth:
            return
        if tag in ("main", "article") and self.container in (None, tag):
            self.container = tag
            self.container_depth += 1
            if not self.body_line:
                self.body_line = line
            return
        if tag == "body" and not self.body_line:
            self.body_line = line
        if tag in HEADINGS:
            self._newblock()
            self._write("#" * HEADINGS[tag] + " ")
        elif tag in ("ul", "ol"):
            self.lists.append([1] if tag == "ol" else [])
            self._newblock()
        elif tag == "li":
            numbering = self.lists[-1] if self.lists else []
            if numbering:
                self._target().append(f"\n{numbering[0]}. ")
                numbering[0] += 1
            else:
                self._target().append("\n- ")
        elif tag == "table":
            self.rows_written = 0
            self._newblock()
        elif tag == "tr":
            self.row = []
            self.row_has_header = False
        elif tag in ("td", "th"):
            self.cell = []
            self.row_has_header |= tag == "th"
        elif tag == "br":
            self._write("\n")
        elif tag == "pre":
            self._newblock()
            self._write("```\n")
            self.in_pre = True
        elif tag == "a":
            self.link = values.get("href") or None
            self._write("[")
        elif tag in ("strong", "b"):
            self._write("**")
        elif tag in BLOCKS:
            self._newblock()

    def handle_endtag(self, tag: str) -> None:
        if tag == "title":
            self.in_title = False
            return
        if tag in SKIPPED:
            self.skip_depth = max(0, self.skip_depth - 1)
            return
        if self.skip_depth:
            return
        if tag == self.container and self.container_depth:
            self.container_depth -= 1
            return
        if tag in HEADINGS or tag in BLOCKS - {"pre"}:
            self._newblock()
        elif tag in ("td", "th") and self.cell is not None and self.row is not None:
            self.row.append(" ".join("".join(self.cell).split()))
            self.cell = None
        elif tag == "tr" and self.row is not None:
            self._target().append("\n| " + " | ".join(self.row) + " |")
            if self.rows_written == 0 and self.row_has_header:
                self._target().append("\n|" + "---|" * len(self.row))
            self.rows_written += 1
            self.row = None
        elif tag in ("ul", "ol"):
            if self.lists:
                self.lists.pop()
            self._newblock()
        elif tag == "pre":
            self._write("\n```")
            self._newblock()
            self.in_pre = False
        elif tag == "a":
            self._write(f"]({self.link})" if self.link else "]")
            self.link = None
        elif tag in ("strong", "b"):
            self._write("**")

    def handle_data(self, data: str) -> None:
        if self.in_title:
            self.title += data
            return
        if self.skip_depth:
            return
        self._write(data if self.in_pre else re.sub(r"\s+", " ", data))

    def markdown(self) -> str:
        text = "".join(self.container_out if self.container else self.out)
        blocks = [block.strip() for block in re.split(r"\n\s*\n", text)]
        cleaned = []
        for block in blocks:
            lines = [line.rstrip() for line in block.splitlines()]
            if block.startswith("```"):
                cleaned.append("\n".join(lines))
            else:
                cleaned.append("\n".join(line.strip() for line in lines if line.strip()))
        return "\n\n".join(block for block in cleaned if block)


def parse_html(text: str) -> HtmlArticle:
    """Metadata (as strings, tags as a list, tier as int when numeric) and the
    Markdown body of an HTML article."""
    converter = _Converter()
    converter.feed(text)
    converter.close()
    article = HtmlArticle(body=converter.markdown(), body_line=converter.body_line or 1)
    for key, (value, line) in converter.meta.items():
        article.raw[key] = value
        article.lines[key] = line
    if "title" not in article.raw and converter.title.strip():
        article.raw["title"] = " ".join(converter.title.split())
        article.lines["title"] = converter.title_line
    if "url" not in article.raw and converter.canonical:
        article.raw["url"], article.lines["url"] = converter.canonical
    if "locale" not in article.raw and converter.lang:
        article.raw["locale"], article.lines["locale"] = converter.lang
    if isinstance(article.raw.get("tags"), str):
        article.raw["tags"] = [tag.strip() for tag in article.raw["tags"].split(",") if tag.strip()]
    tier = article.raw.get("tier")
    if isinstance(tier, str) and tier.strip().isdigit():
        article.raw["tier"] = int(tier)
    return article
