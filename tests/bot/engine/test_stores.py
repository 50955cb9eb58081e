"""bot/engine/stores.py: the tracker store on a real SQLite file and on
PostgreSQL gives the rows and trackers Rasa's own SQL store gives, and the
engine speed-ups it installs give Rasa's own results. In a fresh engine
process: creating the store installs the speed-ups for the rest of the
process, and the test compares Rasa's code before with ours after."""

from __future__ import annotations

import asyncio
import functools
import json
import math
import sqlite3
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any
from unittest import mock

from aiohttp import web
from jsonschema import ValidationError
from rasa.core.actions.action import RemoteAction
from rasa.core.tracker_store import SQLTrackerStore, TrackerStore
from rasa.shared.core.domain import Domain
from rasa.shared.core.events import ActionExecuted, Event, SessionStarted, SlotSet, UserUttered
from rasa.shared.core.trackers import DialogueStateTracker
from rasa.shared.utils.common import all_subclasses
from rasa.utils.endpoints import EndpointConfig

from bot.engine import speedups, stores
from tests.bot.engine.harness import in_fresh_engine

RESPONSES: list[Any] = [
    {"events": [], "responses": []},
    {
        "events": [{"event": "slot", "name": "kb_query", "value": "x", "timestamp": None}],
        "responses": [{"text": "hi", "buttons": [{"title": "Yes", "payload": "/affirm"}]}],
    },
    {"events": [{"name": "no_event_key"}]},
    {"events": [{"event": "slot", "timestamp": "not a number"}]},
    {"responses": "not a list"},
    {
        "events": [
            {
                "event": "user",
                "text": "hi",
                "parse_data": {
                    "intent": {"name": "greet", "confidence": 0.9},
                    "entities": [{"entity": "email", "value": "a@b.c", "start": 0, "end": 5}],
                },
            },
            {"event": "bot", "text": "hello", "data": {"buttons": []}, "metadata": {}},
            {"event": "action", "name": "action_listen", "policy": None, "confidence": 1},
            {"event": "active_loop", "name": None},
            {"event": "session_started"},
        ],
    },
    {"events": [{"event": "user", "parse_data": {"entities": [{"entity": "email"}]}}]},
    {"events": [{"event": "action", "name": "action_listen", "confidence": "high"}]},
    {"events": [{"event": "topic", "topic": "x"}]},
    {"events": [{"event": 5}]},
    {"events": ["slot"]},
    {"events": "not a list"},
    {"events": [{"event": "slot", "name": "x", "value": 1, "metadata": "no"}]},
]

HELP = (
    ". Failed to validate Action server response from API, make sure your response from the "
    "Action endpoint is valid. For more information about the format visit "
    "https://rasa.com/docs/rasa/custom-actions"
)


@functools.cache
def domain() -> Domain:
    return Domain.from_dict({"slots": {"kb_query": {"type": "text", "mappings": []}}})


def outcome(call: Callable[[], Any]) -> list[Any]:
    try:
        return ["ok", call()]
    except (ValidationError, ValueError) as error:
        return [error.__class__.__name__, getattr(error, "message", str(error))]


def validations() -> list[list[Any]]:
    """What validating each of RESPONSES as a custom action's answer gives."""
    action = RemoteAction("action_x", None)
    return [
        outcome(functools.partial(action._validate_action_result, response))
        for response in RESPONSES
    ]


def event_names() -> list[str]:
    """Every event type's name, and two that are none."""
    return [*sorted({cls.type_name for cls in all_subclasses(Event)}), "topic", "no_such_event"]


def event_classes(names: list[str]) -> dict[str, list[Any]]:
    """The event class resolved for each of ``names``, without and with a default."""

    def resolved(name: str, *default: type[Event]) -> str | None:
        return getattr(Event.resolve_by_type(name, *default), "__name__", None)

    found = {}
    for name in names:
        found[name] = outcome(functools.partial(resolved, name))
        found[name + "/default"] = outcome(functools.partial(resolved, name, SlotSet))
    return found


async def conversation(store: TrackerStore) -> dict[str, Any]:
    """Like Rasa's processor: each turn retrieves the tracker, adds events, saves."""
    turns: list[list[Event]] = [
        [ActionExecuted("action_listen"), UserUttered("hello"), SlotSet("kb_query", "q")],
        [ActionExecuted("action_listen")],
        [SessionStarted(), ActionExecuted("action_listen"), UserUttered("again")],
        [],
    ]
    for number, turn in enumerate(turns):
        tracker = await store.retrieve("c1") or DialogueStateTracker("c1", domain().slots)
        for event in turn:
            event.timestamp = float(number + 1)
            tracker.update(event)
        await store.save(tracker)
    other = DialogueStateTracker("c2", domain().slots)
    other.update(UserUttered("someone else", timestamp=9.0))
    await store.save(other)
    latest = await store.retrieve("c1")
    full = await store.retrieve_full_tracker("c1")
    assert latest is not None and full is not None
    assert isinstance(store, SQLTrackerStore)
    with store.engine.connect() as connection:
        rows = connection.exec_driver_sql(
            "SELECT sender_id, type_name, timestamp, intent_name, action_name, data "
            "FROM events ORDER BY id"
        ).all()
    return {
        "latest": [e.as_dict() for e in latest.events],
        "full": [e.as_dict() for e in full.events],
        "missing": await store.retrieve("nobody"),
        "rows": [list(row) for row in rows],
    }


def texts(tracker: DialogueStateTracker | None) -> list[str | None]:
    assert tracker is not None
    return [e.text for e in tracker.events if isinstance(e, UserUttered)]


async def two_replicas(url: str) -> dict[str, Any]:
    """Two stores on one database, as two Rasa replicas: a kept tracker is
    returned only while it is what the database holds."""
    a, b = stores.UrlTrackerStore(host=url), stores.UrlTrackerStore(host=url)
    a.domain = b.domain = domain()
    first = DialogueStateTracker("r1", domain().slots)
    first.update(UserUttered("one", timestamp=1.0))
    await a.save(first)
    kept = await a.retrieve("r1")
    reused = kept is first
    gone = (await a.retrieve("r1")) is not first  # given once, then loaded
    assert kept is not None
    await a.save(kept)
    other = await b.retrieve("r1")
    assert other is not None
    other.update(UserUttered("two", timestamp=2.0))
    await b.save(other)
    after_other = await a.retrieve("r1")  # a's kept tracker is stale
    assert after_other is not None
    await a.save(after_other)
    after_other.update(UserUttered("unsaved", timestamp=3.0))
    after_change = await a.retrieve("r1")  # changed after its save
    return {
        "reused": reused,
        "gone": gone,
        "after_other": texts(after_other)[:2],
        "stale_not_reused": after_other is not kept,
        "after_change": texts(after_change),
    }


async def busy_database(url: str) -> dict[str, Any] | None:
    """Saves meet a SQLite file another connection is writing: one waits it
    out through retries; one gives up after them, and the next save stores
    every event that one could not."""
    if not url.startswith("sqlite"):
        return None
    path = url[len("sqlite:///") :] + "-busy"
    # the busy timeout of its connections
    with mock.patch.object(stores, "CONNECT_TIMEOUT_SECONDS", 0.2):
        busy = stores.UrlTrackerStore(host="sqlite:///" + path)
    busy.domain = domain()
    tracker = DialogueStateTracker("b1", domain().slots)
    tracker.update(UserUttered("first", timestamp=1.0))
    await busy.save(tracker)
    holder = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
    holder.execute("BEGIN IMMEDIATE")
    threading.Timer(0.6, lambda: holder.execute("COMMIT")).start()
    tracker.update(UserUttered("second", timestamp=2.0))
    await busy.save(tracker)  # about 2 s of attempts; the holder stops at 0.6 s
    holder.execute("BEGIN IMMEDIATE")
    tracker.update(UserUttered("third", timestamp=3.0))
    gave_up = None
    try:
        await busy.save(tracker)
    except Exception as error:
        gave_up = type(error).__name__
    holder.execute("COMMIT")
    await busy.save(tracker)
    return {"gave_up": gave_up, "stored": texts(await busy.retrieve_full_tracker("b1"))}


async def endpoint_calls() -> dict[str, Any]:
    """Two calls to an endpoint: answered, over one kept-open connection."""
    peers = []

    async def webhook(request: web.Request) -> web.Response:
        assert request.transport is not None
        peers.append(request.transport.get_extra_info("peername")[1])
        return web.json_response({"echo": (await request.json())["n"]})

    app = web.Application()
    app.router.add_post("/webhook", webhook)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
    endpoint = EndpointConfig(f"http://127.0.0.1:{port}/webhook", token="t")
    answers = [await endpoint.request(json={"n": n}) for n in (1, 2)]
    await runner.cleanup()
    return {"answers": answers, "connections": len(set(peers))}


def store_and_speedups(url: str, rasa_db: str) -> dict[str, Any]:
    names = event_names()  # before installing imports more of Rasa
    before = {"validation": validations(), "events": event_classes(names)}
    store = stores.UrlTrackerStore(host=url)
    speedups.install()  # a second time: idempotent
    after = {"validation": validations(), "events": event_classes(names)}
    store.domain = domain()
    rasa_store = SQLTrackerStore(domain(), dialect="sqlite", db=rasa_db)
    ours, rasa = asyncio.run(conversation(store)), asyncio.run(conversation(rasa_store))
    replicas = asyncio.run(two_replicas(url))
    busy = asyncio.run(busy_database(url))
    endpoint = asyncio.run(endpoint_calls())
    pragmas = None
    if store.engine.dialect.name == "sqlite":
        with store.engine.connect() as connection:
            pragmas = [
                connection.exec_driver_sql("PRAGMA journal_mode").scalar(),
                connection.exec_driver_sql("PRAGMA synchronous").scalar(),
            ]
    return {
        "same_validation": before["validation"] == after["validation"],
        "validation": after["validation"],
        "same_events": before["events"] == after["events"],
        "patched": [
            RemoteAction._validate_action_result.__module__,
            Event.resolve_by_type.__module__,
            EndpointConfig.session.__module__,
        ],
        "endpoint": endpoint,
        "pool": store.engine.pool.__class__.__name__,
        "pragmas": pragmas,
        "same_as_rasa": ours == rasa,
        "replicas": replicas,
        "busy": busy,
        "events": [len(ours["latest"]), len(ours["full"]), ours["missing"], len(ours["rows"])],
    }


def test_store_and_speedups_in_the_engine(database_url: str, tmp_path: Path) -> None:
    """Same rows and trackers as Rasa's own SQL store (on SQLite), on SQLite
    and PostgreSQL; same validation results (valid responses of several event
    types, invalid ones caught by each part of the schema) and event classes
    as Rasa's."""
    if database_url.startswith("sqlite"):  # in a folder that does not exist yet
        database_url = f"sqlite:///{tmp_path / 'sub' / 'tracker.db'}"
    report = in_fresh_engine(store_and_speedups, database_url, str(tmp_path / "rasa-store.db"))
    sqlite = database_url.startswith("sqlite")
    assert report == {
        "same_validation": True,
        "validation": [
            ["ok", True],
            ["ok", True],
            ["ValidationError", "'event' is a required property" + HELP],
            [
                "ValidationError",
                "{'event': 'slot', 'timestamp': 'not a number'} is not valid under any of the "
                "given schemas" + HELP,
            ],
            ["ValidationError", "'not a list' is not of type 'array'" + HELP],
            ["ok", True],
            ["ValidationError", "'value' is a required property" + HELP],
            [
                "ValidationError",
                "{'event': 'action', 'name': 'action_listen', 'confidence': 'high'} is not "
                "valid under any of the given schemas" + HELP,
            ],
            [
                "ValidationError",
                "{'event': 'topic', 'topic': 'x'} is not valid under any of the given schemas"
                + HELP,
            ],
            ["ValidationError", "{'event': 5} is not valid under any of the given schemas" + HELP],
            ["ValidationError", "'slot' is not of type 'object'" + HELP],
            ["ValidationError", "'not a list' is not of type 'array'" + HELP],
            ["ValidationError", "'no' is not of type 'object', 'null'" + HELP],
        ],
        "same_events": True,
        "patched": ["bot.engine.stores", "bot.engine.stores", "bot.engine.stores"],
        "endpoint": {"answers": [{"echo": 1}, {"echo": 2}], "connections": 1},
        "pool": "QueuePool",
        "pragmas": ["wal", 1] if sqlite else None,
        "same_as_rasa": True,
        "replicas": {
            "reused": True,
            "gone": True,
            "after_other": ["one", "two"],
            "stale_not_reused": True,
            "after_change": ["one", "two"],
        },
        "busy": {"gave_up": "OperationalError", "stored": ["first", "second", "third"]}
        if sqlite
        else None,
        # latest session: SessionStarted + 2; all sessions: 3 + 1 + 3; rows: 7 + c2's 1
        "events": [3, 7, None, 8],
    }
    if sqlite:
        assert (tmp_path / "sub" / "tracker.db").exists()


JSON_VALUES: list[Any] = [
    {
        "tracker": {
            "events": [
                {
                    "event": "user",
                    "text": "où est ma commande? https://x.example/a/b",
                    "timestamp": 1764000000.123456,
                    "confidence": 1e-05,
                }
            ],
            "slots": {"n": 3, "big": 2**70, "none": None, "ok": True},
        }
    },
    ["\u2028 \ud83d\ude00 </script>", 0.1 + 0.2, -0.0, 1e300],
    {"nan": float("nan")},
]


def same(a: Any, b: Any) -> bool:
    """Equal values of equal types, NaN equal to NaN."""
    if isinstance(a, float) and math.isnan(a):
        return isinstance(b, float) and math.isnan(b)
    if isinstance(a, dict):
        return a.keys() == b.keys() and all(same(a[k], b[k]) for k in a)
    if isinstance(a, list):
        return len(a) == len(b) and all(same(x, y) for x, y in zip(a, b, strict=False))
    return type(a) is type(b) and a == b


async def session_serializer_is_ours() -> bool:
    async with EndpointConfig("http://127.0.0.1:1").session() as session:
        return session._json_serialize is stores._json_dumps


def json_as_rasa_sends_it() -> dict[str, Any]:
    speedups.install()
    return {
        "same_value": [
            same(json.loads(stores._json_dumps(v)), json.loads(json.dumps(v))) for v in JSON_VALUES
        ],
        "session_uses_it": asyncio.run(session_serializer_is_ours()),
    }


def test_action_server_requests_carry_the_json_rasa_would_send() -> None:
    assert in_fresh_engine(json_as_rasa_sends_it) == {
        "same_value": [True, True, True],
        "session_uses_it": True,
    }
