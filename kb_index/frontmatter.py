"""Validation of an article's metadata (Markdown front matter, HTML meta tags or
a JSONL object): required fields, types, id format, url and date."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any
from urllib.parse import urlsplit

from kb_index.errors import Issue

REQUIRED = ("id", "title", "category", "tags", "product", "updated", "url")
OPTIONAL = ("tier", "locale", "questions")
SLUG = re.compile(r"^[a-z0-9]+(?:-[a-z0-9]+)*$")
LOCALE = re.compile(r"^[a-z]{2}(?:-[A-Z]{2})?$")
MAX_ID_LENGTH = 100
MAX_TITLE_LENGTH = 200
TIERS = range(0, 5)
MAX_QUESTIONS = 30
MAX_QUESTION_LENGTH = 300


@dataclass(frozen=True)
class Fields:
    """Metadata that passed validation."""

    id: str
    title: str
    category: str
    tags: tuple[str, ...]
    product: str
    updated: date
    url: str
    tier: int
    locale: str
    questions: tuple[str, ...] = ()


def validate_fields(
    raw: Mapping[str, Any],
    lines: Mapping[str, int],
    path: str,
    default_line: int,
    articles_prefix: str,
) -> tuple[Fields | None, list[Issue]]:
    """Checks ``raw`` metadata; ``lines`` maps each key to its line in ``path``.
    Returns the typed fields (None if any error) and every issue found."""
    issues: list[Issue] = []

    def problem(key: str, message: str, severity: str = "error") -> None:
        issues.append(Issue(path, lines.get(key, default_line), message, severity))

    for key in REQUIRED:
        if key not in raw or raw[key] is None or raw[key] == "":
            problem(key, f"missing required field '{key}'")
    for key in raw:
        if key not in REQUIRED and key not in OPTIONAL:
            problem(key, f"unknown field '{key}' (ignored)", "warning")

    article_id = _slug(raw, "id", problem)
    if article_id is not None and len(article_id) > MAX_ID_LENGTH:
        problem("id", f"id is longer than {MAX_ID_LENGTH} characters")
        article_id = None
    title = _text(raw, "title", problem)
    if title is not None and len(title) > MAX_TITLE_LENGTH:
        problem("title", f"title is longer than {MAX_TITLE_LENGTH} characters")
        title = None
    category = _slug(raw, "category", problem)
    product = _slug(raw, "product", problem)
    tags = _tags(raw, problem)
    updated = _date(raw, problem)
    url = _url(raw, article_id, articles_prefix, problem)
    tier = _tier(raw, problem)
    locale = _locale(raw, problem)
    questions = _questions(raw, problem)

    if any(issue.severity == "error" for issue in issues):
        return None, issues
    assert article_id and title and category and product and url and updated and tags is not None
    return (
        Fields(article_id, title, category, tags, product, updated, url, tier, locale, questions),
        issues,
    )


def _text(raw: Mapping[str, Any], key: str, problem: Any) -> str | None:
    value = raw.get(key)
    if value is None or value == "":
        return None
    if not isinstance(value, str):
        problem(key, f"'{key}' must be text, got {type(value).__name__} {value!r}")
        return None
    if not value.strip():
        problem(key, f"'{key}' is blank")
        return None
    return value.strip()


def _slug(raw: Mapping[str, Any], key: str, problem: Any) -> str | None:
    value = _text(raw, key, problem)
    if value is not None and not SLUG.match(value):
        problem(key, f"'{key}' must be lowercase letters, digits and dashes, got {value!r}")
        return None
    return value


def _questions(raw: Mapping[str, Any], problem: Any) -> tuple[str, ...]:
    """The customer questions the article answers (optional): indexed as extra
    entries that point to the article, never shown as its answer."""
    value = raw.get("questions")
    if value is None:
        return ()
    if not isinstance(value, list):
        problem("questions", f"'questions' must be a list of questions, got {value!r}")
        return ()
    if len(value) > MAX_QUESTIONS:
        problem("questions", f"at most {MAX_QUESTIONS} questions, got {len(value)}")
        return ()
    questions = []
    for question in value:
        if not isinstance(question, str) or not question.strip():
            problem("questions", f"every question must be non-empty text, got {question!r}")
            return ()
        if len(question) > MAX_QUESTION_LENGTH:
            problem("questions", f"a question is longer than {MAX_QUESTION_LENGTH} characters")
            return ()
        questions.append(" ".join(question.split()))
    return tuple(questions)


def _tags(raw: Mapping[str, Any], problem: Any) -> tuple[str, ...] | None:
    value = raw.get("tags")
    if value is None or value == "":
        return None
    if not isinstance(value, list):
        problem("tags", f"'tags' must be a list like [password, login], got {value!r}")
        return None
    tags = []
    for tag in value:
        if isinstance(tag, bool) or not isinstance(tag, str | int | float) or not str(tag).strip():
            problem("tags", f"every tag must be non-empty text, got {tag!r}")
            return None
        tags.append(str(tag).strip())
    return tuple(tags)


def _date(raw: Mapping[str, Any], problem: Any) -> date | None:
    value = raw.get("updated")
    if value is None or value == "":
        return None
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    if isinstance(value, str):
        try:
            return date.fromisoformat(value.strip())
        except ValueError:
            pass
    problem("updated", f"'updated' must be a date like 2026-06-30, got {value!r}")
    return None


def _url(
    raw: Mapping[str, Any], article_id: str | None, articles_prefix: str, problem: Any
) -> str | None:
    value = _text(raw, "url", problem)
    if value is None:
        return None
    parts = urlsplit(value)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        problem("url", f"'url' must be an http(s) address, got {value!r}")
        return None
    if article_id and value.startswith(articles_prefix) and value != articles_prefix + article_id:
        problem("url", f"'url' must be {articles_prefix + article_id} for id {article_id!r}")
        return None
    return value


def _tier(raw: Mapping[str, Any], problem: Any) -> int:
    value = raw.get("tier", 1)
    if value is None:
        return 1
    if isinstance(value, bool) or not isinstance(value, int) or value not in TIERS:
        problem("tier", f"'tier' must be a whole number from 0 to 4, got {value!r}")
        return 1
    return value


def _locale(raw: Mapping[str, Any], problem: Any) -> str:
    value = raw.get("locale", "en")
    if value is None:
        return "en"
    if not isinstance(value, str) or not LOCALE.match(value):
        problem("locale", f"'locale' must look like en or en-GB, got {value!r}")
        return "en"
    return value
