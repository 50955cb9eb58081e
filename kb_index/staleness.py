"""How far the source folder has moved on since the current version was built."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from kb_index.catalog import StoredDocument
from kb_index.settings import KBSettings
from kb_index.sources import read_sources


@dataclass(frozen=True)
class Staleness:
    """Article ids added, changed or removed in the sources since the build,
    and the number of files that currently have errors."""

    added: tuple[str, ...]
    changed: tuple[str, ...]
    removed: tuple[str, ...]
    invalid: int

    @property
    def any(self) -> bool:
        return bool(self.added or self.changed or self.removed or self.invalid)


def staleness(settings: KBSettings, built: Sequence[StoredDocument]) -> Staleness:
    sources = read_sources(settings.source_dir, settings.articles_prefix)
    before = {doc.doc_id: doc.content_hash for doc in built}
    now = {doc.id: doc.content_hash for doc in sources.documents}
    return Staleness(
        added=tuple(sorted(now.keys() - before.keys())),
        changed=tuple(sorted(d for d in now.keys() & before.keys() if now[d] != before[d])),
        removed=tuple(sorted(before.keys() - now.keys())),
        invalid=len({issue.path for issue in sources.errors}),
    )
