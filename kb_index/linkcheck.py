"""Internal links: every link to ``<articles_base_url><id>`` must name an
article that exists."""

from __future__ import annotations

import re
from collections.abc import Sequence

from kb_index.documents import Document
from kb_index.errors import Issue


def link_issues(documents: Sequence[Document], articles_prefix: str) -> list[Issue]:
    """One error per broken internal link, at its file and line."""
    known = {doc.id for doc in documents}
    pattern = re.compile(re.escape(articles_prefix) + r"([^\s)\]\"'<>#?]*)")
    issues = []
    for doc in documents:
        path = doc.source.partition(":")[0]  # JSONL sources are "file.jsonl:line"
        for offset, line in enumerate(doc.body.splitlines()):
            for match in pattern.finditer(line):
                target = match.group(1).rstrip("/.,;")
                if target not in known:
                    number = doc.body_line + (offset if doc.lines_follow_body else 0)
                    issues.append(
                        Issue(path, number, f"broken link to article {target!r} (no such id)")
                    )
    return issues
