"""Rasa tracker store addressed by one SQLAlchemy URL (runs inside the Rasa engine).

Rasa's own ``type: SQL`` store wants dialect, host, port and db as separate keys
and, when the database is down at start, retries forever without saying why.
``UrlTrackerStore`` takes the same ``DATABASE_URL`` the rest of Frontline uses
(``sqlite:///var/rasa-tracker.db`` or ``postgresql://user@host/db``), checks the
database once at start and fails with a message naming the URL, and retries
writes that hit a busy database before Rasa's fail-safe wrapper gives up.

Speed (see docs/benchmarks.md, "Speed"): on SQLite, Rasa's store opens a new
connection for every read and write (SQLAlchemy 1.4's ``NullPool``) and syncs
the file to disk on every commit; here connections are pooled and the file is
in WAL mode with ``synchronous=NORMAL`` (a commit survives a crash of Rasa; the
last commits before a power cut may be lost). Creating the store also calls
``bot.engine.speedups.install()`` (also done by the channel at start): seven of
Rasa's per-message costs, done once instead, with the same results (see there).
"""

from __future__ import annotations

import asyncio
import contextlib
import copy
import functools
import itertools
import json
import logging
import weakref
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import aiohttp
import sqlalchemy as sa
import ujson
from rasa.core.actions.action import RemoteAction
from rasa.core.tracker_store import SQLTrackerStore
from rasa.shared.constants import DOCS_BASE_URL
from rasa.shared.core.events import Event, SessionStarted
from rasa.shared.core.trackers import DialogueStateTracker
from rasa.utils.endpoints import DEFAULT_REQUEST_TIMEOUT, EndpointConfig
from sqlalchemy.engine import make_url

from bot.engine import speedups
from core.sqlite_wal import enable_wal

logger = logging.getLogger(__name__)

SAVE_ATTEMPTS = 4
SAVE_BACKOFF_SECONDS = (0.1, 0.3, 1.0)
CONNECT_TIMEOUT_SECONDS = 5
SQLITE_POOL_SIZE = 4
# Saved trackers kept for the next retrieve of their conversation, the least
# recently saved dropped first: enough for the conversations active at once on
# one replica. A 75-event session pickles to 22 KB (about 100 KB as objects).
KEPT_TRACKERS = 256
SQLITE_PRAGMAS = ("PRAGMA synchronous=NORMAL",)
# Idle connections to endpoints (the action server) are closed after this,
# well before the action server's own keep-alive limit (Sanic: 5 s), so a
# request never goes out on a connection the server is closing.
ENDPOINT_KEEPALIVE_SECONDS = 2.0


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

    engine: sa.engine.Engine

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
        speedups.install()
        super().__init__(domain=domain, event_broker=event_broker, **options, **kwargs)
        if options["dialect"] == "sqlite":
            self._pool_sqlite_connections()
        self.url = make_url(host).render_as_string(hide_password=True)
        logger.info("tracker store ready at %s", self.url)

    async def save(self, tracker: DialogueStateTracker) -> None:
        dbapi = self.engine.dialect.dbapi
        busy = (sa.exc.OperationalError, *((dbapi.OperationalError,) if dbapi else ()))
        for attempt in range(SAVE_ATTEMPTS):
            try:
                await self._save(tracker)
                return
            except busy:
                if attempt == SAVE_ATTEMPTS - 1:
                    logger.exception(
                        "tracker not saved after %d attempts",
                        SAVE_ATTEMPTS,
                        extra={"conversation_id": tracker.sender_id},
                    )
                    raise
                await asyncio.sleep(SAVE_BACKOFF_SECONDS[attempt])

    async def _save(self, tracker: DialogueStateTracker) -> None:
        """Rasa's ``SQLTrackerStore.save`` (the events not stored yet are the
        tracker's events after as many as the store holds since the latest
        session start), with statements compiled once instead of an ORM query
        and unit of work per call. The saved tracker is kept (see
        ``_kept``) when it is exactly what retrieving it would load."""
        await self.stream_events(tracker)
        sql = self._statements
        sender = {"sender_id": tracker.sender_id}
        self._kept.pop(tracker.sender_id, None)
        with self._transaction() as cursor:
            stored = sql["count"].one(cursor, sender)[0]
            new = itertools.islice(tracker.events, stored, None)
            rows = [_event_row(tracker.sender_id, event) for event in new]
            if rows:
                sql["insert"].many(cursor, rows)
            in_session, last_id = sql["mark"].one(cursor, sender)
        if in_session == len(tracker.events):
            self._keep(tracker, last_id)
        logger.debug("Tracker with sender_id '%s' stored to database", tracker.sender_id)

    def _keep(self, tracker: DialogueStateTracker, last_id: int) -> None:
        self._kept[tracker.sender_id] = (tracker, last_id, len(tracker.events))
        while len(self._kept) > KEPT_TRACKERS:
            self._kept.pop(next(iter(self._kept)))

    async def _retrieve(
        self, sender_id: str, fetch_events_from_all_sessions: bool
    ) -> DialogueStateTracker | None:
        """Rasa's ``SQLTrackerStore._retrieve`` with a prepared SQL statement,
        or the tracker this store saved last for the conversation if no event
        was stored for it since (by any replica)."""
        kept = None if fetch_events_from_all_sessions else self._kept.pop(sender_id, None)
        sql = self._statements
        sender = {"sender_id": sender_id}
        with self._transaction() as cursor:
            if kept is not None:
                tracker, last_id, length = kept
                latest = sql["last_id"].one(cursor, sender)[0]
                if latest == last_id and len(tracker.events) == length and self.domain:
                    return tracker
            query = sql["all" if fetch_events_from_all_sessions else "session"]
            rows = [row[0] for row in query.all(cursor, sender)]
        if self.domain and rows:
            events = [json.loads(row) for row in rows]
            return DialogueStateTracker.from_dict(sender_id, events, self.domain.slots)
        return None

    @functools.cached_property
    def _kept(self) -> dict[str, tuple[DialogueStateTracker, int, int]]:
        """The last saved tracker of recent conversations, with the id of the
        conversation's last stored event and the tracker's length then.

        A customer message costs Rasa a retrieve (every event of the session
        read, decoded and replayed into a new tracker) and a save of the same
        tracker. When the saved tracker's events are exactly the session's
        stored events, the next retrieve returns that tracker instead, after
        one query that checks that no event was stored since, here or by
        another replica. The entry is removed as it is returned, so one caller
        owns the tracker, as with a freshly loaded one; a tracker changed
        after its save (its length differs) is loaded again."""
        return {}

    @contextlib.contextmanager
    def _transaction(self) -> Iterator[Any]:
        """A DB-API cursor on a pooled connection, committed when the block
        ends, rolled back if it raises."""
        connection = self.engine.raw_connection()
        try:
            cursor = connection.cursor()
            try:
                yield cursor
            finally:
                cursor.close()
            connection.commit()
        except BaseException:
            connection.rollback()
            raise
        finally:
            connection.close()  # back to the pool

    @functools.cached_property
    def _statements(self) -> dict[str, _Statement]:
        """The event queries of Rasa's ``_event_query`` and its insert, in
        SQLAlchemy Core, compiled once for the store's database."""
        dialect = self.engine.dialect
        return {
            name: _Statement.compile(statement, dialect)
            for name, statement in self._core_statements().items()
        }

    def _core_statements(self) -> dict[str, Any]:
        table = self.SQLEvent.__table__
        sender = table.c.sender_id == sa.bindparam("sender_id")
        session_start = (
            sa.select(sa.func.max(table.c.timestamp))
            .where(sender, table.c.type_name == SessionStarted.type_name)
            .scalar_subquery()
        )
        in_session = sa.or_(table.c.timestamp >= session_start, session_start.is_(None))
        return {
            "all": sa.select(table.c.data).where(sender).order_by(table.c.id),
            "session": sa.select(table.c.data).where(sender, in_session).order_by(table.c.id),
            "count": sa.select(sa.func.count()).select_from(table).where(sender, in_session),
            "last_id": sa.select(sa.func.max(table.c.id)).where(sender),
            "mark": sa.select(
                sa.select(sa.func.count())
                .select_from(table)
                .where(sender, in_session)
                .scalar_subquery(),
                sa.select(sa.func.max(table.c.id)).where(sender).scalar_subquery(),
            ),
            "insert": table.insert().values({name: sa.bindparam(name) for name in EVENT_COLUMNS}),
        }

    def _pool_sqlite_connections(self) -> None:
        """Replaces Rasa's SQLite engine (a new connection per query) with a
        pooled one in WAL mode, and rebinds the store's sessions to it."""
        rasa_engine: sa.engine.Engine = self.engine
        url = rasa_engine.url
        rasa_engine.dispose()
        self.engine = sa.create_engine(
            url,
            poolclass=sa.pool.QueuePool,
            pool_size=SQLITE_POOL_SIZE,
            connect_args={"timeout": CONNECT_TIMEOUT_SECONDS, "check_same_thread": False},
        )
        sa.event.listen(self.engine, "connect", _sqlite_pragmas)
        self.sessionmaker = sa.orm.session.sessionmaker(bind=self.engine)


EVENT_COLUMNS = ("sender_id", "type_name", "timestamp", "intent_name", "action_name", "data")


@dataclass(frozen=True)
class _Statement:
    """A SQLAlchemy Core statement compiled once for one database, run on a
    DB-API cursor: per call, SQLAlchemy's execution (cache key, execution
    context, result wrapping) cost more than the query itself."""

    sql: str
    positions: tuple[str, ...] | None  # parameter order, or None for named parameters
    fixed: dict[str, Any]  # values the statement binds itself (its literals)

    @classmethod
    def compile(cls, statement: Any, dialect: Any) -> _Statement:
        compiled = statement.compile(dialect=dialect)
        names = set(compiled.binds) - {
            name for name, bind in compiled.binds.items() if bind.value is not None
        }
        fixed = compiled.construct_params({name: None for name in names})
        positions = tuple(compiled.positiontup) if compiled.positional else None
        return cls(str(compiled), positions, {k: v for k, v in fixed.items() if k not in names})

    def parameters(self, values: dict[str, Any]) -> Any:
        merged = {**self.fixed, **values}
        if self.positions is None:
            return merged
        return tuple(merged[name] for name in self.positions)

    def one(self, cursor: Any, values: dict[str, Any]) -> Any:
        cursor.execute(self.sql, self.parameters(values))
        return cursor.fetchone()

    def all(self, cursor: Any, values: dict[str, Any]) -> list[Any]:
        cursor.execute(self.sql, self.parameters(values))
        return list(cursor.fetchall())

    def many(self, cursor: Any, rows: list[dict[str, Any]]) -> None:
        cursor.executemany(self.sql, [self.parameters(row) for row in rows])


def _event_row(sender_id: str, event: Event) -> dict[str, Any]:
    """One row of Rasa's ``events`` table, as ``SQLTrackerStore.save`` writes it."""
    data = event.as_dict()
    return {
        "sender_id": sender_id,
        "type_name": event.type_name,
        "timestamp": data.get("timestamp"),
        "intent_name": data.get("parse_data", {}).get("intent", {}).get("name"),
        "action_name": data.get("name"),
        "data": json.dumps(data),
    }


def _sqlite_pragmas(connection: Any, _record: Any) -> None:
    enable_wal(connection, CONNECT_TIMEOUT_SECONDS)
    cursor = connection.cursor()
    try:
        for pragma in SQLITE_PRAGMAS:
            cursor.execute(pragma)
    finally:
        cursor.close()


ACTION_RESPONSE_HELP = (
    ". Failed to validate Action server response from API, make sure your response from "
    f"the Action endpoint is valid. For more information about the format visit "
    f"{DOCS_BASE_URL}/custom-actions"
)


@functools.cache
def _action_response_validator() -> Any:
    from jsonschema import validators

    spec = RemoteAction.action_response_format_spec()
    cls = validators.validator_for(spec)
    cls.check_schema(spec)
    return cls(spec)


@functools.cache
def _response_validator_without_events() -> Any:
    """The response schema with its events' item schema taken out."""
    from jsonschema import validators

    spec = copy.deepcopy(RemoteAction.action_response_format_spec())
    del spec["properties"]["events"]["items"]
    return validators.validator_for(spec)(spec)


@functools.cache
def _event_validator(type_name: str) -> Any:
    """The schema of an event item when its ``event`` is ``type_name``: the
    item schema with its ``oneOf`` cut to the one branch whose ``event``
    const is that name, or None when no single branch has it. Every branch of
    Rasa's ``oneOf`` fixes ``event`` to a different const and ``event`` is
    required, so for such an item the other branches always fail: this
    schema accepts exactly what the whole one does, without trying 23
    branches with the full item each time."""
    from jsonschema import validators

    item = RemoteAction.action_response_format_spec()["properties"]["events"]["items"]
    branches = [
        branch
        for branch in item.get("oneOf", [])
        if branch.get("properties", {}).get("event", {}).get("const") == type_name
    ]
    if len(branches) != 1:
        return None
    spec = {key: value for key, value in item.items() if key != "oneOf"}
    spec["allOf"] = [*spec.get("allOf", []), branches[0]]
    return validators.validator_for(spec)(spec)


def _surely_valid(result: Any) -> bool:
    if not _response_validator_without_events().is_valid(result):
        return False
    events = result.get("events", []) if isinstance(result, dict) else []
    if not isinstance(events, list):
        return False
    for event in events:
        name = event.get("event") if isinstance(event, dict) else None
        validator = _event_validator(name) if isinstance(name, str) else None
        if validator is None or not validator.is_valid(event):
            return False
    return True


def _validate_action_result(self: RemoteAction, result: dict[str, Any]) -> bool:
    """Rasa's check of an action server response, against the same schema,
    with the same error. A valid response is recognised with the schema split
    by event type (``_event_validator``); anything else goes through the whole
    schema, built once, for Rasa's own error."""
    from jsonschema.exceptions import best_match

    if _surely_valid(result):
        return True
    error = best_match(_action_response_validator().iter_errors(result))
    if error is not None:
        error.message += ACTION_RESPONSE_HELP
        raise error
    return True


_resolve_event_type = Event.resolve_by_type
_event_types: dict[str, type[Event]] = {}


def _resolve_event_type_cached(type_name: str, default: type[Event] | None = None) -> Any:
    """``Event.resolve_by_type`` with the classes found remembered by name."""
    found = _event_types.get(type_name)
    if found is None:
        found = _resolve_event_type(type_name, default)
        if found is not None and found.type_name == type_name:  # not the default
            _event_types[type_name] = found
    return found


_connectors: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, aiohttp.TCPConnector] = (
    weakref.WeakKeyDictionary()
)


def _endpoint_session(self: EndpointConfig) -> aiohttp.ClientSession:
    """Rasa's ``EndpointConfig.session()`` (same headers, auth and timeout) on
    connections kept open between requests (one pool per event loop)."""
    loop = asyncio.get_running_loop()
    connector = _connectors.get(loop)
    if connector is None or connector.closed:
        connector = aiohttp.TCPConnector(keepalive_timeout=ENDPOINT_KEEPALIVE_SECONDS)
        _connectors[loop] = connector
    auth = None
    if self.basic_auth:
        auth = aiohttp.BasicAuth(self.basic_auth["username"], self.basic_auth["password"])
    return aiohttp.ClientSession(
        headers=self.headers,
        auth=auth,
        timeout=aiohttp.ClientTimeout(total=DEFAULT_REQUEST_TIMEOUT),
        connector=connector,
        connector_owner=False,
        json_serialize=_json_dumps,
    )


def _json_dumps(value: Any) -> str:
    """``json.dumps`` for request bodies, 2.5x faster through ujson (Rasa's own
    dependency): the same JSON value (NaN, infinities and big integers
    included), spelled without spaces and with ``\\/`` for ``/``. Anything
    ujson refuses goes to ``json.dumps``, which decides as before."""
    try:
        return ujson.dumps(value)
    except (OverflowError, TypeError, ValueError):
        return json.dumps(value)


def install_action_validation() -> None:
    """Custom actions' responses checked by validators built once, each event
    against its own type's schema (see ``bot.engine.speedups``). Idempotent."""
    RemoteAction._validate_action_result = _validate_action_result  # type: ignore[method-assign]


def install_event_class_cache() -> None:
    """The event class found for a name is remembered. Idempotent."""
    Event.resolve_by_type = staticmethod(_resolve_event_type_cached)  # type: ignore[method-assign]


def install_endpoint_sessions() -> None:
    """Connections to endpoints kept open and reused, bodies by ujson. Idempotent."""
    EndpointConfig.session = _endpoint_session  # type: ignore[method-assign]


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
