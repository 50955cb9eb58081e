"""Knowledge base (Tier 0): the help center indexed for hybrid search.

Public surface (other packages import only this):

* ``KBSettings``: settings (``FRONTLINE_KB_*``, plus ``DATABASE_URL``).
* ``KnowledgeBase(settings)``: the reader for the action server:
  ``search(query, history, k, filters) -> list[SearchHit]``,
  ``answer(query, history) -> Answer``, ``record_miss(...)``,
  ``record_feedback(...)``; picks up newly published versions by itself.
* ``SearchHit``, ``Answer``: results (frozen dataclasses).
* ``build(settings, engine, embedder, incremental=False) -> BuildReport``:
  builds, verifies and publishes a version (``kb build``; ``kb refresh`` with
  ``incremental=True``). ``Embedder`` embeds text.
* ``SCHEMA``: the kb tables' migrations (``core.database.Schema``);
  ``create_engine(url)`` and ``upgrade(engine)`` (``SCHEMA.upgrade``) for short.
* ``validate(settings) -> list[Issue]``: what ``kb validate`` reports.

Errors (``KBError`` is the base of all)::

    KBError
    ├── InvalidSource(issues)           articles with errors; each Issue has path, line, message
    ├── BuildFailed(reason, version_id) the new version was not published; the old one serves
    ├── NoPublishedVersion              nothing built yet: run `kb build`
    ├── IndexFilesMissing(version_id, path)
    ├── ModelUnavailable(model, reason)
    └── DatabaseUnavailable(url, reason)
"""

from kb_index.builder import BuildReport, Changes, build
from kb_index.db import SCHEMA, create_engine, upgrade
from kb_index.embedding import Embedder
from kb_index.errors import (
    BuildFailed,
    DatabaseUnavailable,
    IndexFilesMissing,
    InvalidSource,
    Issue,
    KBError,
    ModelUnavailable,
    NoPublishedVersion,
)
from kb_index.knowledge_base import Answer, KnowledgeBase, SearchHit
from kb_index.settings import KBSettings
from kb_index.validation import validate

__all__ = [
    "SCHEMA",
    "Answer",
    "BuildFailed",
    "BuildReport",
    "Changes",
    "DatabaseUnavailable",
    "Embedder",
    "IndexFilesMissing",
    "InvalidSource",
    "Issue",
    "KBError",
    "KBSettings",
    "KnowledgeBase",
    "ModelUnavailable",
    "NoPublishedVersion",
    "SearchHit",
    "build",
    "create_engine",
    "upgrade",
    "validate",
]
