"""The ``kb`` command: editors' tools for the help-center index.

Exit codes: 0 success, 1 a problem explained in the message (invalid articles,
failed build, unreachable database, ...), 2 wrong usage."""

from __future__ import annotations

import json
import logging
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import asdict, replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import click
import sqlalchemy as sa

from core.redact import redact
from core.runtime import SettingsError, configure_logging, load_settings
from kb_index import calibrate as calibration
from kb_index.builder import BuildReport, build
from kb_index.catalog import Catalog
from kb_index.db import SCHEMA, create_engine, upgrade
from kb_index.embedding import Embedder
from kb_index.errors import BuildFailed, InvalidSource, Issue, KBError
from kb_index.evaluation import evaluate, read_queries
from kb_index.feedback import FeedbackStore
from kb_index.gaps import find_gaps
from kb_index.knowledge_base import KnowledgeBase, SearchHit
from kb_index.settings import KBSettings
from kb_index.staleness import staleness
from kb_index.validation import validate

DEV_QUERIES = Path(__file__).parent / "calibration" / "dev_queries.jsonl"
SHOWN_ISSUES = 20
DATABASE_HINT = (
    "Check DATABASE_URL and that the database server is running; `kb build` creates the kb tables."
)


@click.group()
@click.option("-v", "--verbose", is_flag=True, help="Log what happens (JSON lines on stderr).")
@click.pass_context
def main(context: click.Context, verbose: bool) -> None:
    """Frontline knowledge base: build, check and search the help-center index."""
    configure_logging("kb", "INFO" if verbose else "WARNING")
    logging.getLogger("bm25s").setLevel(logging.WARNING)  # it logs every index build at DEBUG
    context.ensure_object(dict)


def _settings() -> KBSettings:
    try:
        return load_settings(KBSettings)
    except SettingsError as error:
        raise click.ClickException(
            f"{error}. Fix the variable in the environment or .env."
        ) from None


@contextmanager
def _engine(settings: KBSettings, migrate: bool) -> Iterator[sa.Engine]:
    engine = create_engine(settings.database_url)
    shown = engine.url.render_as_string(hide_password=True)
    try:
        if migrate:
            upgrade(engine)
        else:
            SCHEMA.check_current(engine)
    except KBError as error:
        engine.dispose()
        raise click.ClickException(f"{error}. {DATABASE_HINT}") from None
    except Exception as error:  # boundary: any driver error becomes a message
        engine.dispose()
        raise click.ClickException(
            f"could not reach {shown}: {error.__class__.__name__}: {error}. {DATABASE_HINT}"
        ) from None
    try:
        yield engine
    finally:
        engine.dispose()


def _issues_message(issues: list[Issue]) -> str:
    errors = [issue for issue in issues if issue.severity == "error"]
    lines = [str(issue) for issue in errors[:SHOWN_ISSUES]]
    if len(errors) > SHOWN_ISSUES:
        lines.append(f"... and {len(errors) - SHOWN_ISSUES} more")
    return "\n".join(lines)


def _progress(quiet: bool) -> Any:
    if quiet:
        return None

    def factory(total: int) -> Any:
        from tqdm import tqdm

        bar = tqdm(total=total, unit="passage", desc="embedding", disable=None, leave=False)
        return bar.update

    return factory


def _run_build(incremental: bool, quiet: bool) -> BuildReport:
    settings = _settings()
    with _engine(settings, migrate=True) as engine:
        embedder = Embedder(settings.model, settings.batch_size, settings.embed_threads)
        try:
            return build(
                settings, engine, embedder, incremental=incremental, progress=_progress(quiet)
            )
        except InvalidSource as error:
            raise click.ClickException(
                f"not published, the current version keeps serving: "
                f"{len([i for i in error.issues if i.severity == 'error'])} error(s) in "
                f"{settings.source_dir}\n{_issues_message(error.issues)}\n"
                "Fix them (`kb validate` lists every issue) and run the command again."
            ) from None
        except BuildFailed as error:
            raise click.ClickException(f"{error} The current version keeps serving.") from None
        except KBError as error:
            raise click.ClickException(str(error)) from None
        except sa.exc.SQLAlchemyError as error:
            raise click.ClickException(
                f"database error: {error.__class__.__name__}. {DATABASE_HINT}"
            ) from None


def _report(report: BuildReport) -> None:
    for warning in report.warnings:
        click.echo(str(warning), err=True)
    click.echo(
        f"published version {report.version_id}: {report.documents} articles, "
        f"{report.chunks} passages ({report.embedded} embedded, {report.reused} reused), "
        f"{report.index_kind} index, {report.seconds:.1f} s"
    )


@main.command("build")
@click.option("-q", "--quiet", is_flag=True, help="No progress bar.")
def build_command(quiet: bool) -> None:
    """Index every article again and publish the result as a new version."""
    _report(_run_build(incremental=False, quiet=quiet))


@main.command("refresh")
@click.option("-q", "--quiet", is_flag=True, help="No progress bar.")
def refresh_command(quiet: bool) -> None:
    """Publish a new version with only new, changed and deleted articles re-indexed."""
    report = _run_build(incremental=True, quiet=quiet)
    if not report.published:
        for warning in report.warnings:
            click.echo(str(warning), err=True)
        click.echo(f"nothing changed since version {report.version_id}")
        return
    changes = report.changes
    parts = [
        f"{len(ids)} {label}"
        + (f" ({', '.join(ids[:5])}{'...' if len(ids) > 5 else ''})" if ids else "")
        for label, ids in (
            ("added", changes.added),
            ("changed", changes.changed),
            ("removed", changes.removed),
        )
    ]
    click.echo("articles: " + ", ".join(parts))
    _report(report)


@main.command("status")
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
def status_command(as_json: bool) -> None:
    """Show the current version and whether the sources changed since it was built."""
    settings = _settings()
    with _engine(settings, migrate=False) as engine:
        catalog = Catalog(engine)
        current = catalog.current_version_id()
        if current is None:
            raise click.ClickException("no version published yet. Run `kb build`.")
        version = catalog.version(current)
        stale = staleness(settings, catalog.documents(current))
    info: dict[str, Any] = {
        "version": version.id,
        "documents": version.document_count,
        "chunks": version.chunk_count,
        "model": version.model,
        "index": version.index_kind,
        "published_at": version.published_at.isoformat(timespec="seconds")
        if version.published_at
        else None,
        "build_seconds": version.build_seconds,
        "stale": stale.any,
        "added": list(stale.added),
        "changed": list(stale.changed),
        "removed": list(stale.removed),
        "invalid_files": stale.invalid,
    }
    if as_json:
        click.echo(json.dumps(info, indent=2))
        return
    click.echo(f"version:     {info['version']}")
    click.echo(f"articles:    {info['documents']}")
    click.echo(f"passages:    {info['chunks']}")
    click.echo(f"model:       {info['model']}")
    click.echo(f"index:       {info['index']}")
    click.echo(f"last build:  {info['published_at']} ({info['build_seconds']} s)")
    if not stale.any:
        click.echo("staleness:   up to date with " + str(settings.source_dir))
        return
    changed = ", ".join(
        f"{len(ids)} {label}"
        for label, ids in (
            ("added", stale.added),
            ("changed", stale.changed),
            ("removed", stale.removed),
        )
    )
    click.echo(f"staleness:   {changed} since the build; run `kb refresh`")
    for label, ids in (
        ("added", stale.added),
        ("changed", stale.changed),
        ("removed", stale.removed),
    ):
        for doc_id in ids:
            click.echo(f"  {label:8} {doc_id}")
    if stale.invalid:
        click.echo(f"  {stale.invalid} file(s) with errors: run `kb validate`")


def _hit_dict(hit: SearchHit) -> dict[str, Any]:
    data = asdict(hit)
    data["score"] = round(hit.score, 6)
    data["similarity"] = round(hit.similarity, 4)
    return data


@main.command("search")
@click.argument("question")
@click.option("--history", multiple=True, help="An earlier turn, most recent first (repeatable).")
@click.option("-k", "--top", "k", default=5, show_default=True, help="Articles to show.")
@click.option("--category", help="Only articles of this category.")
@click.option("--product", help="Only articles for this product (and for all products).")
@click.option("--locale", help="Only articles in this locale.")
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
def search_command(
    question: str,
    history: tuple[str, ...],
    k: int,
    category: str | None,
    product: str | None,
    locale: str | None,
    as_json: bool,
) -> None:
    """Search the current version like the bot does."""
    settings = _settings()
    filters = {
        name: value
        for name, value in (("category", category), ("product", product), ("locale", locale))
        if value
    }
    with _engine(settings, migrate=False) as engine:
        kb = KnowledgeBase(settings, engine=engine, watch=False)
        try:
            hits = kb.search(question, list(history), k=k, filters=filters or None)
            answer_threshold = settings.confidence_threshold
        except KBError as error:
            raise click.ClickException(str(error)) from None
        finally:
            kb.close()
    if as_json:
        click.echo(json.dumps([_hit_dict(hit) for hit in hits], indent=2, ensure_ascii=False))
        return
    if not hits:
        click.echo("no articles found")
        return
    for rank, hit in enumerate(hits, start=1):
        mark = "*" if hit.similarity >= answer_threshold else " "
        heading = f" > {hit.heading_path}" if hit.heading_path else ""
        click.echo(f"{rank}.{mark} {hit.title}{heading}  [{hit.doc_id}]")
        click.echo(f"    similarity {hit.similarity:.3f}  {hit.url}")
        excerpt = " ".join(hit.text.split())
        click.echo(f"    {excerpt[:200]}{'...' if len(excerpt) > 200 else ''}")
    click.echo(f"(* = similarity at or above the confidence threshold {answer_threshold})")


@main.command("validate")
def validate_command() -> None:
    """Check every article: front matter, ids, size and internal links."""
    settings = _settings()
    issues = validate(settings)
    for issue in issues:
        click.echo(str(issue))
    errors = sum(1 for issue in issues if issue.severity == "error")
    warnings = len(issues) - errors
    click.echo(f"{errors} error(s), {warnings} warning(s) in {settings.source_dir}")
    if errors:
        raise click.exceptions.Exit(1)


@main.command("eval")
@click.option(
    "--queries",
    "queries_path",
    required=True,
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="JSONL: query, optional history (most recent first), expected (id or list).",
)
def eval_command(queries_path: Path) -> None:
    """Measure retrieval: recall@1/5/10, MRR@10 and nDCG@10 as JSON."""
    settings = _settings()
    queries, issues = read_queries(queries_path)
    if issues:
        raise click.ClickException(
            "\n".join(str(issue) for issue in issues[:SHOWN_ISSUES]) + "\nFix the queries file."
        )
    with _engine(settings, migrate=False) as engine:
        kb = KnowledgeBase(settings, engine=engine, watch=False)
        try:
            metrics = evaluate(
                queries, lambda q: [hit.doc_id for hit in kb.search(q.query, q.history, k=10)]
            )
        except KBError as error:
            raise click.ClickException(str(error)) from None
        finally:
            kb.close()
    click.echo(json.dumps(metrics.as_dict(), indent=2))


def _redacted(text: str) -> str:
    """A customer's words through the one policy for text leaving the bot."""
    return redact(text, verified=False)


@main.command("gaps")
@click.option("--days", default=30, show_default=True, help="Only questions of the last N days.")
@click.option("--top", default=20, show_default=True, help="Groups to show.")
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
def gaps_command(days: int, top: int, as_json: bool) -> None:
    """Questions that got no confident answer, or an answer the customer rated
    "No", grouped by meaning, most frequent first."""
    settings = _settings()
    since = datetime.now(UTC) - timedelta(days=days)
    with _engine(settings, migrate=False) as engine:
        store = FeedbackStore(engine)
        misses = store.misses(since=since)
        rejected = [answer for answer in store.feedback(since=since) if not answer.helpful]
    if not misses and not rejected:
        click.echo(f"no unanswered questions in the last {days} days")
        return
    embedder = Embedder(settings.model, settings.batch_size, settings.embed_threads)
    try:
        gaps = find_gaps(misses, embedder, settings.gap_similarity, rejected)[:top]
    except KBError as error:
        raise click.ClickException(str(error)) from None
    # Customers' own words: shown through the agents' redaction policy.
    gaps = [replace(gap, examples=tuple(_redacted(e) for e in gap.examples)) for gap in gaps]
    if as_json:
        rows = [
            {**asdict(gap), "last_asked": gap.last_asked.isoformat(timespec="seconds")}
            for gap in gaps
        ]
        click.echo(json.dumps(rows, indent=2, ensure_ascii=False))
        return
    for gap in gaps:
        near = f"; nearest: {', '.join(gap.nearest_articles)}" if gap.nearest_articles else ""
        rated = f" ({gap.rejected} answered but rated No)" if gap.rejected else ""
        click.echo(f"{gap.count} question(s) in {gap.conversations} conversation(s){rated}{near}")
        for example in gap.examples:
            click.echo(f'    "{example}"')


@main.command("calibrate")
@click.option(
    "--queries",
    "queries_path",
    default=DEV_QUERIES,
    show_default=True,
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="Dev set: answerable questions with expected ids, unanswerable with expected null.",
)
@click.option("--min-precision", type=float, help="Lowest threshold with at least this precision.")
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
def calibrate_command(queries_path: Path, min_precision: float | None, as_json: bool) -> None:
    """Compute the confidence threshold from a development set."""
    settings = _settings()
    queries, issues = read_queries(queries_path)
    if issues:
        raise click.ClickException(
            "\n".join(str(issue) for issue in issues[:SHOWN_ISSUES]) + "\nFix the queries file."
        )
    with _engine(settings, migrate=False) as engine:
        kb = KnowledgeBase(settings, engine=engine, watch=False)
        try:
            observations = calibration.observe(kb, queries)
        except KBError as error:
            raise click.ClickException(str(error)) from None
        finally:
            kb.close()
    best = calibration.choose_threshold(observations, min_precision)
    current = calibration.outcome(observations, settings.confidence_threshold)
    result = {
        "threshold": round(best.threshold, 3),
        "chosen_by": f"precision >= {min_precision}" if min_precision else "max F1",
        "answerable": sum(1 for o in observations if o.expected),
        "unanswerable": sum(1 for o in observations if not o.expected),
        "retrieval_top1": round(
            sum(1 for o in observations if o.expected and o.right_article)
            / max(1, sum(1 for o in observations if o.expected)),
            4,
        ),
        "at_threshold": asdict(best),
        "at_current_setting": asdict(current),
    }
    if as_json:
        click.echo(json.dumps(result, indent=2))
        return
    click.echo(f"threshold: {result['threshold']} ({result['chosen_by']})")
    click.echo(
        f"questions: {result['answerable']} answerable, {result['unanswerable']} unanswerable; "
        f"best article right for {result['retrieval_top1']:.1%} of the answerable"
    )
    for label, row in (
        ("at threshold", best),
        (f"at setting {settings.confidence_threshold}", current),
    ):
        click.echo(
            f"{label}: precision {row.precision:.3f}, recall {row.recall:.3f}, F1 {row.f1:.3f}; "
            f"{row.answered} answered ({row.correct} right, {row.wrong_article} wrong article, "
            f"{row.unanswerable_answered} unanswerable)"
        )
    click.echo("set FRONTLINE_KB_CONFIDENCE_THRESHOLD or the default in kb_index/settings.py")


@main.group("db")
def db_group() -> None:
    """The kb tables in the application database."""


@db_group.command("upgrade")
def db_upgrade() -> None:
    """Create or migrate the kb tables to the newest schema."""
    settings = _settings()
    with _engine(settings, migrate=True):
        pass
    click.echo("kb tables are up to date")


if __name__ == "__main__":
    main()
