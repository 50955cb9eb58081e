"""rasa-sdk 3.11 (Python 3.11) against the Rasa 3.6 server (Python 3.10).

rasa-sdk 3.6 does not install on Python 3.11, so Frontline's action server runs
a newer SDK than the engine. The protocol is JSON over HTTP; this proves the
parts Frontline relies on: responses with variables, buttons and custom JSON,
slot events, a form with a validation action and a custom ``action_ask_*``, and
a followup action.
"""

from __future__ import annotations

import sys
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from launcher.stack import ROOT, Service, Stack, StackError, engine_env, fingerprint, free_port
from tests.e2e.conftest import stack_settings

pytestmark = pytest.mark.e2e

BOT = Path(__file__).parent / "sdk_bot"


def train_sdk_bot(stack: Stack, out: Path) -> Path:
    import subprocess

    name = f"sdk-bot-{fingerprint(BOT, ('config.yml', 'domain.yml', 'data'))}"
    target = out / f"{name}.tar.gz"
    if target.exists():
        return target
    rasa = stack.settings.resolved(stack.settings.engine_venv) / "bin" / "rasa"
    result = subprocess.run(
        [str(rasa), "train", "--config", "config.yml", "--domain", "domain.yml",
         "--data", "data", "--out", str(out), "--fixed-model-name", name],
        cwd=BOT, env=engine_env(), check=False,
    )  # fmt: skip
    if result.returncode != 0:
        raise StackError(f"training the sdk bot failed (exit {result.returncode})")
    return target


@pytest.fixture(scope="module")
def sdk_bot(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    var = tmp_path_factory.mktemp("sdk")
    stack = Stack(stack_settings(var))
    model = train_sdk_bot(stack, ROOT / "models")
    actions_port, rasa_port = free_port(), free_port()
    endpoints = var / "endpoints.yml"
    endpoints.write_text(f"action_endpoint:\n  url: http://127.0.0.1:{actions_port}/webhook\n")
    actions = Service(
        "sdk-actions",
        [sys.executable, "-m", "rasa_sdk", "--actions", "tests.e2e.sdk_bot.sdk_actions",
         "--port", str(actions_port)],
        {**engine_env(), "SANIC_HOST": "127.0.0.1"},
        f"http://127.0.0.1:{actions_port}/health",
        var / "sdk-actions.log",
    )  # fmt: skip
    rasa = Service(
        "sdk-rasa",
        [str(stack.settings.resolved(stack.settings.engine_venv) / "bin" / "rasa"), "run",
         "--model", str(model), "--endpoints", str(endpoints),
         "--credentials", str(BOT / "credentials.yml"), "--interface", "127.0.0.1",
         "--port", str(rasa_port), "--enable-api"],
        engine_env(),
        f"http://127.0.0.1:{rasa_port}/status",
        var / "sdk-rasa.log",
    )  # fmt: skip
    stack.services = []
    try:
        stack.start([actions, rasa])
        yield f"http://127.0.0.1:{rasa_port}"
    finally:
        stack.stop()


def say(url: str, sender: str, message: str) -> list[dict[str, Any]]:
    response = httpx.post(
        f"{url}/webhooks/rest/webhook", json={"sender": sender, "message": message}, timeout=30
    )
    response.raise_for_status()
    return [{k: v for k, v in m.items() if k != "recipient_id"} for m in response.json()]


def test_forms_validation_slots_and_followups_work_across_versions(sdk_bot: str) -> None:
    sender = uuid.uuid4().hex
    assert say(sdk_bot, sender, "/order_repair") == [{"text": "Which device needs a repair?"}]
    assert say(sdk_bot, sender, '/inform{"device": "toaster"}') == [
        {"text": "We don't repair 'toaster'."},
        {"text": "Which device needs a repair?"},
    ]
    assert say(sdk_bot, sender, '/inform{"device": "Pulse 2"}') == [
        {
            "text": "What is the serial number of your pulse-2?",
            "buttons": [{"title": "I can't find it", "payload": '/inform{"serial": "unknown"}'}],
        }
    ]
    assert say(sdk_bot, sender, '/inform{"serial": "ab123"}') == [
        {"text": "Ticket R-AB123 is open for your pulse-2."},
        {"custom": {"ticket": "R-AB123"}},
    ]

    tracker = httpx.get(f"{sdk_bot}/conversations/{sender}/tracker", timeout=10).json()
    assert tracker["slots"] == {
        "device": "pulse-2",
        "serial": "AB123",
        "ticket": "R-AB123",
        "requested_slot": None,
        "session_started_metadata": None,
    }
    assert [
        (e["event"], e["name"], e["value"])
        if e["event"] == "slot"
        else (e["event"], e.get("name") or e.get("text"))
        for e in tracker["events"]
        if e["event"] not in {"user_featurization", "session_started"}
    ] == [
        ("action", "action_session_start"),
        ("action", "action_listen"),
        ("user", "/order_repair"),
        ("action", "repair_form"),
        ("active_loop", "repair_form"),
        ("slot", "requested_slot", "device"),
        ("bot", "Which device needs a repair?"),
        ("action", "action_listen"),
        ("user", '/inform{"device": "toaster"}'),
        ("slot", "device", "toaster"),
        ("action", "repair_form"),
        ("bot", "We don't repair 'toaster'."),
        ("slot", "device", None),  # the validation action rejected it
        ("slot", "requested_slot", "device"),
        ("bot", "Which device needs a repair?"),
        ("action", "action_listen"),
        ("user", '/inform{"device": "Pulse 2"}'),
        ("slot", "device", "Pulse 2"),
        ("action", "repair_form"),
        ("slot", "device", "pulse-2"),  # normalised by the validation action
        ("slot", "requested_slot", "serial"),
        ("bot", "What is the serial number of your pulse-2?"),
        ("action", "action_listen"),
        ("user", '/inform{"serial": "ab123"}'),
        ("slot", "serial", "ab123"),
        ("action", "repair_form"),
        ("slot", "serial", "AB123"),
        ("slot", "requested_slot", None),
        ("active_loop", None),
        ("action", "action_open_ticket"),
        ("slot", "ticket", "R-AB123"),
        ("followup", "action_confirm_ticket"),
        ("action", "action_confirm_ticket"),
        ("bot", "Ticket R-AB123 is open for your pulse-2."),
        ("bot", None),  # the custom JSON message
        ("action", "action_listen"),
    ]
