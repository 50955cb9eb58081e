"""bot/engine/stores.py runs inside the Rasa engine (Python 3.10), so these tests run a
script with the engine's Python and check what it prints: the SQLite tracker
store on a real file, and that the engine speed-ups give Rasa's own results."""

from __future__ import annotations

import textwrap
from pathlib import Path

from tests.bot.engine.harness import run_script

ENGINE_SCRIPT = textwrap.dedent(
    """
    import asyncio, json, sys

    from jsonschema import ValidationError
    from rasa.core.actions.action import RemoteAction
    from rasa.shared.core.domain import Domain
    from rasa.core.tracker_store import SQLTrackerStore
    from rasa.utils.endpoints import EndpointConfig
    from rasa.shared.core.events import (
        ActionExecuted, Event, SessionStarted, SlotSet, UserUttered,
    )
    from rasa.shared.core.trackers import DialogueStateTracker
    from rasa.shared.utils.common import all_subclasses

    import bot.engine.stores as stores
    from bot.engine import speedups

    RESPONSES = [
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
                {"event": "user", "text": "hi", "parse_data": {
                    "intent": {"name": "greet", "confidence": 0.9},
                    "entities": [{"entity": "email", "value": "a@b.c", "start": 0, "end": 5}],
                }},
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
    NAMES = sorted({cls.type_name for cls in all_subclasses(Event)}) + ["topic", "no_such_event"]


    def outcome(call):
        try:
            return ["ok", call()]
        except (ValidationError, ValueError) as error:
            return [error.__class__.__name__, getattr(error, "message", str(error))]


    def resolutions(resolve):
        found = {}
        for name in NAMES:
            found[name] = outcome(lambda: getattr(resolve(name), "__name__", None))
            found[name + "/default"] = outcome(
                lambda: getattr(resolve(name, SlotSet), "__name__", None)
            )
        return found


    action = RemoteAction("action_x", None)
    before = {
        "validation": [outcome(lambda: action._validate_action_result(r)) for r in RESPONSES],
        "events": resolutions(Event.resolve_by_type),
    }
    store = stores.UrlTrackerStore(host=sys.argv[1])
    speedups.install()  # a second time: idempotent
    after = {
        "validation": [outcome(lambda: action._validate_action_result(r)) for r in RESPONSES],
        "events": resolutions(Event.resolve_by_type),
    }
    domain = Domain.from_dict({"slots": {"kb_query": {"type": "text", "mappings": []}}})
    store.domain = domain
    rasa_store = SQLTrackerStore(domain, dialect="sqlite", db=sys.argv[2])


    async def conversation(store):
        # Like Rasa's processor: each turn retrieves the tracker, adds events, saves.
        turns = [
            [ActionExecuted("action_listen"), UserUttered("hello"), SlotSet("kb_query", "q")],
            [ActionExecuted("action_listen")],
            [SessionStarted(), ActionExecuted("action_listen"), UserUttered("again")],
            [],
        ]
        for number, turn in enumerate(turns):
            tracker = await store.retrieve("c1") or DialogueStateTracker("c1", domain.slots)
            for event in turn:
                event.timestamp = float(number + 1)
                tracker.update(event)
            await store.save(tracker)
        other = DialogueStateTracker("c2", domain.slots)
        other.update(UserUttered("someone else", timestamp=9.0))
        await store.save(other)
        latest = await store.retrieve("c1")
        full = await store.retrieve_full_tracker("c1")
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


    ours, rasa = asyncio.run(conversation(store)), asyncio.run(conversation(rasa_store))


    async def two_replicas():
        # Two stores on one database, as two Rasa replicas: a kept tracker is
        # returned only while it is what the database holds.
        def texts(tracker):
            return [e.text for e in tracker.events if isinstance(e, UserUttered)]

        a, b = stores.UrlTrackerStore(host=sys.argv[1]), stores.UrlTrackerStore(host=sys.argv[1])
        a.domain = b.domain = domain
        first = DialogueStateTracker("r1", domain.slots)
        first.update(UserUttered("one", timestamp=1.0))
        await a.save(first)
        kept = await a.retrieve("r1")
        reused = kept is first
        gone = (await a.retrieve("r1")) is not first  # given once, then loaded
        await a.save(kept)
        other = await b.retrieve("r1")
        other.update(UserUttered("two", timestamp=2.0))
        await b.save(other)
        after_other = await a.retrieve("r1")  # a's kept tracker is stale
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


    replicas = asyncio.run(two_replicas())


    async def busy_database():
        # Saves meet a SQLite file another connection is writing: one waits it
        # out through retries; one gives up after them, and the next save
        # stores every event that one could not.
        if not sys.argv[1].startswith("sqlite"):
            return None
        import sqlite3, threading

        path = sys.argv[1][len("sqlite:///"):] + "-busy"
        stores.CONNECT_TIMEOUT_SECONDS = 0.2  # the busy timeout of its connections
        busy = stores.UrlTrackerStore(host="sqlite:///" + path)
        stores.CONNECT_TIMEOUT_SECONDS = 5
        busy.domain = domain
        tracker = DialogueStateTracker("b1", domain.slots)
        tracker.update(UserUttered("first", timestamp=1.0))
        await busy.save(tracker)
        holder = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
        holder.execute("BEGIN IMMEDIATE")
        threading.Timer(0.6, lambda: holder.execute("COMMIT")).start()
        tracker.update(UserUttered("second", timestamp=2.0))
        await busy.save(tracker)  # about 2 s of attempts; the holder stops at 0.6 s
        holder.execute("BEGIN IMMEDIATE")
        tracker.update(UserUttered("third", timestamp=3.0))
        try:
            await busy.save(tracker)
            gave_up = None
        except Exception as error:
            gave_up = type(error).__name__
        holder.execute("COMMIT")
        await busy.save(tracker)
        again = await busy.retrieve_full_tracker("b1")
        return {
            "gave_up": gave_up,
            "stored": [e.text for e in again.events if isinstance(e, UserUttered)],
        }


    busy = asyncio.run(busy_database())


    async def endpoint_calls():
        # Two calls to an endpoint: answered, over one kept-open connection.
        from aiohttp import web
        from rasa.utils.endpoints import EndpointConfig

        peers = []

        async def webhook(request):
            peers.append(request.transport.get_extra_info("peername")[1])
            return web.json_response({"echo": (await request.json())["n"]})

        app = web.Application()
        app.router.add_post("/webhook", webhook)
        runner = web.AppRunner(app)
        await runner.setup()
        site = web.TCPSite(runner, "127.0.0.1", 0)
        await site.start()
        port = site._server.sockets[0].getsockname()[1]
        endpoint = EndpointConfig(f"http://127.0.0.1:{port}/webhook", token="t")
        answers = [await endpoint.request(json={"n": n}) for n in (1, 2)]
        await runner.cleanup()
        return {"answers": answers, "connections": len(set(peers))}


    endpoint = asyncio.run(endpoint_calls())
    pragmas = None
    if store.engine.dialect.name == "sqlite":
        with store.engine.connect() as connection:
            pragmas = [
                connection.exec_driver_sql("PRAGMA journal_mode").scalar(),
                connection.exec_driver_sql("PRAGMA synchronous").scalar(),
            ]
    print(json.dumps({
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
    }))
    """
)

HELP = (
    ". Failed to validate Action server response from API, make sure your response from the "
    "Action endpoint is valid. For more information about the format visit "
    "https://rasa.com/docs/rasa/custom-actions"
)


def run_in_engine(url: str, rasa_db: Path) -> dict:
    return run_script(ENGINE_SCRIPT, url, str(rasa_db))


def test_store_and_speedups_in_the_engine(database_url: str, tmp_path: Path) -> None:
    """Same rows and trackers as Rasa's own SQL store (on SQLite), on SQLite
    and PostgreSQL; same validation results (valid responses of several event
    types, invalid ones caught by each part of the schema) and event classes
    as Rasa's."""
    if database_url.startswith("sqlite"):  # in a folder that does not exist yet
        database_url = f"sqlite:///{tmp_path / 'sub' / 'tracker.db'}"
    report = run_in_engine(database_url, tmp_path / "rasa-store.db")
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


JSON_SCRIPT = textwrap.dedent(
    """
    import asyncio, json, math

    from rasa.utils.endpoints import EndpointConfig

    from bot.engine import speedups, stores

    VALUES = [
        {"tracker": {"events": [{"event": "user", "text": "où est ma commande? https://x.example/a/b",
                                 "timestamp": 1764000000.123456, "confidence": 1e-05}],
                     "slots": {"n": 3, "big": 2 ** 70, "none": None, "ok": True}}},
        ["\\u2028 \\ud83d\\ude00 </script>", 0.1 + 0.2, -0.0, 1e300],
        {"nan": float("nan")},
    ]

    def same(a, b):
        if isinstance(a, float) and math.isnan(a):
            return isinstance(b, float) and math.isnan(b)
        if isinstance(a, dict):
            return a.keys() == b.keys() and all(same(a[k], b[k]) for k in a)
        if isinstance(a, list):
            return len(a) == len(b) and all(same(x, y) for x, y in zip(a, b))
        return type(a) is type(b) and a == b

    async def serializer():
        speedups.install()
        async with EndpointConfig("http://127.0.0.1:1").session() as session:
            return session._json_serialize is stores._json_dumps

    print(json.dumps({
        "same_value": [same(json.loads(stores._json_dumps(v)), json.loads(json.dumps(v)))
                       for v in VALUES],
        "session_uses_it": asyncio.run(serializer()),
    }))
    """
)


def test_action_server_requests_carry_the_json_rasa_would_send() -> None:
    assert run_script(JSON_SCRIPT) == {"same_value": [True, True, True], "session_uses_it": True}
