"""An article as the indexer sees it, whatever file it came from."""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from datetime import date


@dataclass(frozen=True)
class Document:
    """A validated help-center article. ``body`` is Markdown (HTML sources are
    converted); ``source`` is the path relative to the source folder, with
    ``:line`` for JSONL; ``body_line`` is the file line where the body starts."""

    id: str
    title: str
    category: str
    tags: tuple[str, ...]
    product: str
    updated: date
    url: str
    body: str
    source: str
    body_line: int = 1
    tier: int = 1
    locale: str = "en"
    # False when body lines do not map to file lines (JSONL, converted HTML):
    # every passage then points at ``body_line``.
    lines_follow_body: bool = True
    # Customer questions the article answers: extra search entries, never shown.
    questions: tuple[str, ...] = ()
    content_hash: str = field(default="", compare=False)

    def __post_init__(self) -> None:
        if not self.content_hash:
            object.__setattr__(self, "content_hash", document_hash(self))


def document_hash(document: Document) -> str:
    """SHA-256 of everything that is indexed or shown (not the file's location),
    so moving a file does not count as a change."""
    payload = {
        "id": document.id,
        "title": document.title,
        "category": document.category,
        "tags": list(document.tags),
        "product": document.product,
        "updated": document.updated.isoformat(),
        "url": document.url,
        "tier": document.tier,
        "locale": document.locale,
        "body": document.body,
    }
    if document.questions:  # absent from older hashes: unchanged articles stay unchanged
        payload["questions"] = list(document.questions)
    encoded = json.dumps(payload, sort_keys=True, ensure_ascii=False).encode()
    return hashlib.sha256(encoded).hexdigest()
