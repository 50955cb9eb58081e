"""core.sqlite_wal: a file switched to WAL while another connection writes."""

from __future__ import annotations

import sqlite3
import threading
from pathlib import Path

import pytest

from core.sqlite_wal import enable_wal


def writing(path: Path) -> sqlite3.Connection:
    """A connection to a new rollback-journal file, inside a write transaction."""
    connection = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
    connection.execute("BEGIN IMMEDIATE")
    connection.execute("CREATE TABLE t (x)")
    return connection


def test_sqlite_refuses_the_switch_at_once_while_another_connection_writes(
    tmp_path: Path,
) -> None:
    writer = writing(tmp_path / "a.db")
    other = sqlite3.connect(tmp_path / "a.db", timeout=30, isolation_level=None)
    with pytest.raises(sqlite3.OperationalError, match="database is locked"):
        other.execute("PRAGMA journal_mode=WAL")  # no wait, despite the timeout
    writer.rollback()


def test_the_switch_waits_for_the_writer_and_keeps_its_work(tmp_path: Path) -> None:
    writer = writing(tmp_path / "a.db")
    other = sqlite3.connect(tmp_path / "a.db", isolation_level=None, check_same_thread=False)
    modes: list[str] = []
    waiting = threading.Thread(target=lambda: modes.append(enable_wal(other, timeout=30)))
    waiting.start()
    waiting.join(0.3)
    assert modes == []  # still waiting while the writer holds the file
    writer.execute("INSERT INTO t VALUES (1)")
    writer.execute("COMMIT")
    waiting.join(30)
    assert modes == ["wal"]
    assert other.execute("SELECT x FROM t").fetchall() == [(1,)]
    fresh = sqlite3.connect(tmp_path / "a.db")
    assert fresh.execute("PRAGMA journal_mode").fetchone() == ("wal",)


def test_the_switch_gives_up_after_the_timeout(tmp_path: Path) -> None:
    writer = writing(tmp_path / "a.db")
    other = sqlite3.connect(tmp_path / "a.db", isolation_level=None)
    with pytest.raises(sqlite3.OperationalError, match="database is locked"):
        enable_wal(other, timeout=0.1)
    writer.rollback()
    assert enable_wal(other, timeout=0.1) == "wal"


def test_other_errors_are_not_retried(tmp_path: Path) -> None:
    connection = sqlite3.connect(tmp_path / "a.db")
    connection.close()
    with pytest.raises(sqlite3.ProgrammingError):
        enable_wal(connection, timeout=30)


def test_an_in_memory_database_reports_its_own_mode() -> None:
    assert enable_wal(sqlite3.connect(":memory:"), timeout=1) == "memory"
