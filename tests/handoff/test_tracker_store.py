"""The application side's copy of Rasa's tracker-store columns is Rasa's own."""

from __future__ import annotations

import json
import subprocess
from typing import Any

from handoff import tracker_store
from launcher.stack import ROOT, StackSettings, engine_env, rasa_executable

RASA_EVENTS_TABLE = """
import json
from rasa.core.tracker_store import SQLTrackerStore
from rasa.shared.core.events import UserUttered

table = SQLTrackerStore.SQLEvent.__table__
print(json.dumps({"table": table.name,
                  "columns": {column.name: type(column.type).__name__ for column in table.columns},
                  "customer_message": UserUttered.type_name}))
"""


def in_engine(script: str) -> dict[str, Any]:
    """The JSON object ``script`` prints last, run by the Rasa environment's Python."""
    python = rasa_executable(StackSettings(_env_file=None)).parent / "python"
    result = subprocess.run(
        [str(python), "-c", script],
        cwd=ROOT, env=engine_env(), capture_output=True, text=True, timeout=120, check=False,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr[-3000:]
    return dict(json.loads(result.stdout.strip().splitlines()[-1]))


def test_the_events_columns_read_are_rasas_names_and_types() -> None:
    rasa = in_engine(RASA_EVENTS_TABLE)
    ours = {column.name: type(column.type).__name__ for column in tracker_store.events.c}
    assert ours == {"sender_id": "String", "type_name": "String", "timestamp": "Float"}
    assert (
        tracker_store.events.name,
        {name: rasa["columns"].get(name) for name in ours},
        tracker_store.CUSTOMER_MESSAGE,
    ) == (rasa["table"], ours, rasa["customer_message"])
