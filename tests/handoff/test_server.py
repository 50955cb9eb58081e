from __future__ import annotations

from starlette.testclient import TestClient

from handoff import HandoffSettings, create_app
from handoff.db import create_engine, upgrade


def test_ready_only_once_the_schema_is_current(database_url: str) -> None:
    client = TestClient(create_app(HandoffSettings(database_url=database_url)))
    assert client.get("/health").json() == {"status": "ok", "service": "handoff"}
    response = client.get("/ready")
    assert response.status_code == 503
    assert response.json() == {
        "status": "unavailable",
        "database": "schema at nothing, expected 0003: run `handoff db upgrade`",
    }
    upgrade(create_engine(database_url))
    response = client.get("/ready")
    assert (response.status_code, response.json()) == (200, {"status": "ok", "database": "ok"})


def test_presence_reports_need_the_token_and_a_boolean(database_url: str) -> None:
    upgrade(create_engine(database_url))
    app = create_app(HandoffSettings(database_url=database_url, rasa_token="s3cret"))
    client = TestClient(app)
    url = "/conversations/c0ffee00c0ffee00c0ffee00c0ffee00/presence"
    assert client.post(url, json={"present": False}).status_code == 401
    wrong = client.post(url, json={"present": False}, headers={"Authorization": "Bearer nope"})
    assert wrong.status_code == 401
    auth = {"Authorization": "Bearer s3cret"}
    bad = client.post(url, json={"present": "yes"}, headers=auth)
    assert (bad.status_code, bad.json()) == (
        400,
        {"error": 'expected {"present": bool}: present must be true or false'},
    )
    # No escalation is open for this conversation: nothing to tell an agent.
    ok = client.post(url, json={"present": False}, headers=auth)
    assert (ok.status_code, ok.json()) == (200, {"relayed": False})
