"""Rasa tracker store addressed by one SQLAlchemy URL (runs inside the Rasa engine).

Rasa's own ``type: SQL`` store wants dialect, host, port and db as separate keys
and, when the database is down at start, retries forever without saying why.
``UrlTrackerStore`` takes the same ``DATABASE_URL`` the rest of Frontline uses
(``sqlite:///var/rasa-tracker.db`` or ``postgresql://user@host/db``), checks the
database once at start and fails with a message naming the URL, and retries
writes that hit a busy database before Rasa's fail-safe wrapper gives up.
"""

from __future__ import annotations

import asyncio
import logging
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from rasa.core.tracker_store import SQLTrackerStore
from rasa.shared.core.trackers import DialogueStateTracker
from sqlalchemy.engine import make_url

logger = logging.getLogger(__name__)

SAVE_ATTEMPTS = 4
SAVE_BACKOFF_SECONDS = (0.1, 0.3, 1.0)
CONNECT_TIMEOUT_SECONDS = 5


class TrackerStoreUnavailable(RuntimeError):
    """The tracker store's database cannot be reached at start."""


def split_url(url: str) -> dict[str, Any]:
    """Keyword arguments for ``SQLTrackerStore`` from a SQLAlchemy URL."""
    parsed = make_url(url)
    backend = parsed.get_backend_name()
    if backend == "sqlite":
        database = parsed.database or "rasa.db"
        return {"dialect": "sqlite", "db": database}
    if backend == "postgresql":
        # The engine environment has psycopg2 (Rasa's dependency), whatever
        # driver the application's URL names.
        return {
            "dialect": "postgresql",
            "host": parsed.host,
            "port": parsed.port,
            "db": parsed.database,
            "username": parsed.username,
            "password": parsed.password,
            "query": dict(parsed.query) or None,
        }
    raise ValueError(f"tracker store URL must be sqlite or postgresql, got {backend!r}")


class UrlTrackerStore(SQLTrackerStore):
    """``SQLTrackerStore`` configured by ``url:`` in endpoints.yml."""

    def __init__(
        self,
        domain: Any | None = None,
        host: str | None = None,
        event_broker: Any | None = None,
        **kwargs: Any,
    ) -> None:
        if not host:
            raise TrackerStoreUnavailable(
                "tracker_store.url is empty: set FRONTLINE_TRACKER_STORE_URL"
            )
        options = split_url(host)
        if options["dialect"] == "sqlite" and options["db"] != ":memory:":
            Path(options["db"]).parent.mkdir(parents=True, exist_ok=True)
        _check_reachable(host, options)
        super().__init__(domain=domain, event_broker=event_broker, **options, **kwargs)
        self.url = make_url(host).render_as_string(hide_password=True)
        logger.info("tracker store ready at %s", self.url)

    async def save(self, tracker: DialogueStateTracker) -> None:
        for attempt in range(SAVE_ATTEMPTS):
            try:
                await super().save(tracker)
                return
            except sa.exc.OperationalError:
                if attempt == SAVE_ATTEMPTS - 1:
                    logger.exception(
                        "tracker not saved after %d attempts",
                        SAVE_ATTEMPTS,
                        extra={"conversation_id": tracker.sender_id},
                    )
                    raise
                await asyncio.sleep(SAVE_BACKOFF_SECONDS[attempt])


def _check_reachable(url: str, options: dict[str, Any]) -> None:
    connect_args = {"connect_timeout": CONNECT_TIMEOUT_SECONDS}
    if options["dialect"] == "sqlite":
        connect_args = {"timeout": CONNECT_TIMEOUT_SECONDS}
    engine = sa.create_engine(
        SQLTrackerStore.get_db_url(
            options["dialect"],
            options.get("host"),
            options.get("port"),
            options["db"],
            options.get("username"),
            options.get("password"),
            None,
            options.get("query"),
        ),
        connect_args=connect_args,
    )
    try:
        with engine.connect() as connection:
            connection.execute(sa.text("SELECT 1"))
    except sa.exc.SQLAlchemyError as error:
        shown = make_url(url).render_as_string(hide_password=True)
        raise TrackerStoreUnavailable(
            f"cannot reach the tracker store database {shown}: {error.__class__.__name__}. "
            "Check FRONTLINE_TRACKER_STORE_URL / DATABASE_URL and that the server is running."
        ) from error
    finally:
        engine.dispose()
