from __future__ import annotations

import json
import logging

import pytest

from actions.settings import ActionSettings
from core.runtime import JsonFormatter, SettingsError, load_settings
from handoff.settings import HandoffSettings
from launcher.stack import StackSettings


def test_log_lines_are_json_with_the_conversation_id() -> None:
    record = logging.LogRecord(
        "actions.relay", logging.ERROR, __file__, 1, "lost %s", ("it",), None
    )
    record.created = 1795000000.25
    record.msecs = 250
    record.conversation_id = "abc"
    assert json.loads(JsonFormatter("actions").format(record)) == {
        "ts": "2026-11-18T11:06:40.250Z",
        "level": "error",
        "service": "actions",
        "logger": "actions.relay",
        "msg": "lost it",
        "conversation_id": "abc",
    }


@pytest.mark.parametrize(
    ("settings_class", "variable", "value", "problem"),
    [
        (
            ActionSettings,
            "FRONTLINE_ACTIONS_PORT",
            "eighty",
            "unable to parse string as an integer",
        ),
        (HandoffSettings, "FRONTLINE_HANDOFF_PORT", "70000", "less than or equal to 65535"),
        (StackSettings, "FRONTLINE_STARTUP_TIMEOUT", "-1", "greater than 0"),
    ],
)
def test_invalid_settings_name_the_variable(
    monkeypatch: pytest.MonkeyPatch,
    settings_class: type,
    variable: str,
    value: str,
    problem: str,
) -> None:
    monkeypatch.setenv(variable, value)
    with pytest.raises(SettingsError) as raised:
        load_settings(settings_class)
    message = str(raised.value)
    assert message.startswith(f"invalid settings: {variable}: ")
    assert problem in message.lower()


def test_database_url_is_shared_through_the_conventional_variable(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("DATABASE_URL", "postgresql://frontline@db/frontline")
    assert load_settings(ActionSettings).database_url == "postgresql://frontline@db/frontline"
    assert load_settings(HandoffSettings).database_url == "postgresql://frontline@db/frontline"
