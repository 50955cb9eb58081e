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
