"""Exceptions of the kb_index package (the tree is listed in ``kb_index.__doc__``)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from core import database


@dataclass(frozen=True)
class Issue:
    """One problem found in a source file: where it is and what is wrong.

    ``severity`` is ``"error"`` (the article cannot be published) or ``"warning"``
    (published anyway, reported by ``kb validate``)."""

    path: str
    line: int
    message: str
    severity: str = "error"

    def __str__(self) -> str:
        return f"{self.path}:{self.line}: {self.severity}: {self.message}"


class KBError(Exception):
    """Base of every error the kb_index package raises on purpose."""


class InvalidSource(KBError):
    """Source articles have errors; ``issues`` lists each with file and line."""

    def __init__(self, issues: Sequence[Issue]) -> None:
        errors = [issue for issue in issues if issue.severity == "error"]
        first = "; ".join(str(issue) for issue in errors[:3])
        more = f" (and {len(errors) - 3} more)" if len(errors) > 3 else ""
        super().__init__(f"{len(errors)} invalid article(s): {first}{more}")
        self.issues = list(issues)


class BuildFailed(KBError):
    """A build could not be completed or did not pass verification; the current
    version keeps serving. ``version_id`` is the failed version (None when it
    failed before a version row existed)."""

    def __init__(self, reason: str, version_id: int | None = None) -> None:
        super().__init__(reason)
        self.reason = reason
        self.version_id = version_id


class NoPublishedVersion(KBError):
    """No version of the knowledge base has been published yet."""

    def __init__(self) -> None:
        super().__init__("no knowledge-base version is published yet: run `kb build`")


class IndexFilesMissing(KBError):
    """The published version's vector or keyword files are not in the storage dir."""

    def __init__(self, version_id: int, path: str) -> None:
        super().__init__(
            f"files of knowledge-base version {version_id} are missing at {path}: "
            "run `kb build` on this machine or point FRONTLINE_KB_STORAGE_DIR at them"
        )
        self.version_id = version_id
        self.path = path


class ModelUnavailable(KBError):
    """The embedding model cannot be loaded (path or name wrong, not installed)."""

    def __init__(self, model: str, reason: str) -> None:
        super().__init__(f"embedding model {model!r} cannot be loaded: {reason}")
        self.model = model
        self.reason = reason


class DatabaseUnavailable(KBError, database.DatabaseUnavailable):
    """The database cannot be reached or its kb schema is not current
    (``url``, ``reason``: ``core.database.DatabaseUnavailable`` in this tree)."""
