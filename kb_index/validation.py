"""What ``kb validate`` checks: front matter, duplicate ids, empty or huge
articles and broken internal links, each with file and line."""

from __future__ import annotations

from kb_index.documents import Document
from kb_index.errors import Issue
from kb_index.linkcheck import link_issues
from kb_index.settings import KBSettings
from kb_index.sources import read_sources


def validate(settings: KBSettings) -> list[Issue]:
    """Every issue in ``settings.source_dir``, sorted by file and line."""
    return check_sources(settings)[1]


def check_sources(settings: KBSettings) -> tuple[list[Document], list[Issue]]:
    """The valid articles (sorted by id) and every issue, sorted by file and
    line. Builds refuse to publish while any issue is an error."""
    sources = read_sources(settings.source_dir, settings.articles_prefix)
    issues = list(sources.issues)
    issues.extend(link_issues(sources.documents, settings.articles_prefix))
    for document in sources.documents:
        words = len(document.body.split())
        path = document.source.partition(":")[0]
        if words < settings.article_min_words:
            issues.append(
                Issue(
                    path,
                    document.body_line,
                    f"article is almost empty ({words} words, at least "
                    f"{settings.article_min_words} expected)",
                )
            )
        elif words > settings.article_max_words:
            issues.append(
                Issue(
                    path,
                    document.body_line,
                    f"article is huge ({words} words, at most {settings.article_max_words}); "
                    "split it into several articles",
                    "warning",
                )
            )
    if not sources.documents and not issues:
        issues.append(Issue(str(settings.source_dir), 0, "no articles found"))
    issues.sort(key=lambda issue: (issue.path, issue.line, issue.message))
    return sorted(sources.documents, key=lambda doc: doc.id), issues
