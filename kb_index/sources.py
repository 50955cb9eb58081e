"""Reading help-center articles from the source folder.

Formats, chosen by file extension:

* ``.md`` / ``.markdown``: YAML front matter between ``---`` lines, then the
  Markdown body.
* ``.html`` / ``.htm``: metadata in ``<meta name="kb:FIELD" content="...">``
  tags (see ``kb_index.html_source``), the body converted to Markdown.
* ``.jsonl``: one article per line, an object with the front-matter fields and
  ``body`` (Markdown).

Files whose name starts with ``.`` or ``_`` and ``README.md`` are ignored.
Every problem is an ``Issue`` with the file (relative to the source folder) and
line; an article with an error is left out, and duplicate ids are errors.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from kb_index.documents import Document
from kb_index.errors import Issue
from kb_index.frontmatter import validate_fields
from kb_index.html_source import parse_html

MARKDOWN = {".md", ".markdown"}
HTML = {".html", ".htm"}
JSONL = {".jsonl"}
IGNORED_NAMES = {"readme.md"}


@dataclass
class SourceSet:
    """Articles that passed validation and every issue found reading them."""

    documents: list[Document] = field(default_factory=list)
    issues: list[Issue] = field(default_factory=list)

    @property
    def errors(self) -> list[Issue]:
        return [issue for issue in self.issues if issue.severity == "error"]


def source_files(source_dir: Path) -> list[Path]:
    """Every article file under ``source_dir``, sorted."""
    files = []
    for path in sorted(source_dir.rglob("*")):
        relative = path.relative_to(source_dir)
        if any(part.startswith((".", "_")) for part in relative.parts):
            continue
        if not path.is_file() or path.name.lower() in IGNORED_NAMES:
            continue
        if path.suffix.lower() in MARKDOWN | HTML | JSONL:
            files.append(path)
    return files


def read_sources(source_dir: Path, articles_prefix: str) -> SourceSet:
    """Reads and validates every article under ``source_dir``."""
    result = SourceSet()
    if not source_dir.is_dir():
        result.issues.append(Issue(str(source_dir), 0, "source folder does not exist"))
        return result
    seen: dict[str, str] = {}
    for path in source_files(source_dir):
        relative = path.relative_to(source_dir).as_posix()
        try:
            text = path.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as error:
            result.issues.append(Issue(relative, 0, f"cannot read file: {error}"))
            continue
        for document, issues in _parse(path, relative, text, articles_prefix):
            result.issues.extend(issues)
            if document is None:
                continue
            if document.id in seen:
                line = int(document.source.rsplit(":", 1)[1]) if ":" in document.source else 1
                result.issues.append(
                    Issue(
                        relative,
                        line if path.suffix.lower() in JSONL else _key_line(text, "id"),
                        f"duplicate id {document.id!r}, already used by {seen[document.id]}",
                    )
                )
                continue
            seen[document.id] = document.source
            result.documents.append(document)
    return result


def _parse(
    path: Path, relative: str, text: str, articles_prefix: str
) -> Iterator[tuple[Document | None, list[Issue]]]:
    suffix = path.suffix.lower()
    if suffix in MARKDOWN:
        yield _markdown(path, relative, text, articles_prefix)
    elif suffix in HTML:
        yield _html(path, relative, text, articles_prefix)
    else:
        yield from _jsonl(relative, text, articles_prefix)


def _markdown(
    path: Path, relative: str, text: str, articles_prefix: str
) -> tuple[Document | None, list[Issue]]:
    lines = text.splitlines()
    if not lines or lines[0].strip() != "---":
        return None, [Issue(relative, 1, "missing front matter: the file must start with '---'")]
    end = next((i for i in range(1, len(lines)) if lines[i].strip() == "---"), None)
    if end is None:
        return None, [Issue(relative, 1, "front matter is not closed by a '---' line")]
    raw, key_lines, issue = _yaml_mapping("\n".join(lines[1:end]), relative, first_line=2)
    if issue is not None:
        return None, [issue]
    fields, issues = validate_fields(raw, key_lines, relative, 1, articles_prefix)
    if fields is not None and fields.id != path.stem:
        issues.append(
            Issue(
                relative,
                key_lines.get("id", 1),
                f"id {fields.id!r} differs from the file name",
                "warning",
            )
        )
    if fields is None:
        return None, issues
    body = "\n".join(lines[end + 1 :])
    return _document(fields, body, relative, end + 2, issues)


def _html(
    path: Path, relative: str, text: str, articles_prefix: str
) -> tuple[Document | None, list[Issue]]:
    article = parse_html(text)
    fields, issues = validate_fields(article.raw, article.lines, relative, 1, articles_prefix)
    if fields is None:
        return None, issues
    return _document(fields, article.body, relative, article.body_line, issues, exact_lines=False)


def _jsonl(
    relative: str, text: str, articles_prefix: str
) -> Iterator[tuple[Document | None, list[Issue]]]:
    for number, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        try:
            raw = json.loads(line)
        except json.JSONDecodeError as error:
            yield None, [Issue(relative, number, f"not valid JSON: {error.msg}")]
            continue
        if not isinstance(raw, dict):
            yield None, [Issue(relative, number, "each line must be a JSON object")]
            continue
        body = raw.pop("body", None)
        fields, issues = validate_fields(raw, {}, relative, number, articles_prefix)
        if not isinstance(body, str):
            issues.append(Issue(relative, number, "missing 'body' (Markdown text)"))
            fields = None
        if fields is None or not isinstance(body, str):
            yield None, issues
            continue
        yield _document(
            fields, body, f"{relative}:{number}", number, issues, path=relative, exact_lines=False
        )


def _document(
    fields: Any,
    body: str,
    source: str,
    body_line: int,
    issues: list[Issue],
    path: str | None = None,
    exact_lines: bool = True,
) -> tuple[Document | None, list[Issue]]:
    if not body.strip():
        issues.append(Issue(path or source, body_line, "the article has no text"))
        return None, issues
    document = Document(
        id=fields.id,
        title=fields.title,
        category=fields.category,
        tags=fields.tags,
        product=fields.product,
        updated=fields.updated,
        url=fields.url,
        tier=fields.tier,
        locale=fields.locale,
        questions=fields.questions,
        body=body,
        source=source,
        body_line=body_line,
        lines_follow_body=exact_lines,
    )
    return document, issues


def _yaml_mapping(
    text: str, relative: str, first_line: int
) -> tuple[dict[str, Any], dict[str, int], Issue | None]:
    """Parses YAML front matter keeping the line of each key."""
    try:
        loader = yaml.SafeLoader(text)
        try:
            node = loader.get_single_node()
            if node is None:
                return {}, {}, Issue(relative, first_line, "front matter is empty")
            if not isinstance(node, yaml.MappingNode):
                return (
                    {},
                    {},
                    Issue(relative, first_line, "front matter must be 'key: value' lines"),
                )
            key_lines = {
                str(key.value): key.start_mark.line + first_line for key, _value in node.value
            }
            data = loader.construct_document(node)
        finally:
            loader.dispose()
    except yaml.YAMLError as error:
        mark = getattr(error, "problem_mark", None) or getattr(error, "context_mark", None)
        line = mark.line + first_line if mark is not None else first_line
        problem = getattr(error, "problem", None) or str(error)
        return {}, {}, Issue(relative, line, f"front matter is not valid YAML: {problem}")
    return {str(key): value for key, value in data.items()}, key_lines, None


def _key_line(text: str, key: str) -> int:
    for number, line in enumerate(text.splitlines(), start=1):
        if line.startswith(f"{key}:"):
            return number
    return 1
