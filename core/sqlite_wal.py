"""Turning a SQLite file to WAL from connections opened at the same moment
(standard library only: used by both the app and the engine environment).

Several Frontline processes, or several threads of one, open the same SQLite
file at start and each switches it to WAL. Switching a file that is still in
rollback-journal mode needs the file to itself, and while another connection
holds a write lock SQLite answers ``database is locked`` at once: its busy
timeout does not apply to this statement. ``enable_wal`` retries until the
file is free, up to the caller's busy timeout, as every other statement waits.
"""

from __future__ import annotations

import sqlite3
import time
from typing import Any

RETRY_SECONDS = 0.02


def enable_wal(connection: Any, timeout: float) -> str:
    """Runs ``PRAGMA journal_mode=WAL`` on a new DB-API connection, retried
    while the file is locked for up to ``timeout`` seconds; returns the journal
    mode SQLite reports (``memory`` for an in-memory database)."""
    deadline = time.monotonic() + timeout
    while True:
        cursor = connection.cursor()
        try:
            return str(cursor.execute("PRAGMA journal_mode=WAL").fetchone()[0])
        except sqlite3.OperationalError as error:
            if "locked" not in str(error) or time.monotonic() >= deadline:
                raise
        finally:
            cursor.close()
        time.sleep(RETRY_SECONDS)
