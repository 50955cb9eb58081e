"""bot/engine/speedups.py: the speedups are installed once and named in the log,
refused on an untested Rasa, and left out (Rasa's own code runs) with
FRONTLINE_ENGINE_SPEEDUPS=off. In a fresh engine process: installing replaces
Rasa's code for the rest of the process."""

from __future__ import annotations

import logging
import os
from typing import Any

import rasa
from rasa.engine.runner.dask import DaskGraphRunner

from bot.engine import speedups
from tests.bot.engine.harness import in_fresh_engine

NAMES = [
    "action responses validated by prebuilt validators",
    "event classes found by name once",
    "endpoint connections reused",
    "model graph run in an order planned once",
    "dialogue states carried forward",
    "rules decoded once",
    "slots copied directly",
]


class Recorder(logging.Handler):
    def __init__(self) -> None:
        super().__init__()
        self.messages: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.messages.append(record.getMessage())


def install_afresh() -> list[str]:
    speedups._installed = None
    return speedups.install()


def refusal() -> str | None:
    try:
        install_afresh()
    except speedups.SpeedupsRefused as error:
        return str(error)
    return None


def install_with_each_setting() -> dict[str, Any]:
    """Installs with the setting off, unknown and on, on another Rasa, then
    on this one, twice."""
    log = logging.getLogger("bot.engine.speedups")
    recorder = Recorder()
    log.addHandler(recorder)
    log.setLevel(logging.INFO)
    rasas_run = DaskGraphRunner.run
    result: dict[str, Any] = {}

    os.environ[speedups.SETTING] = "off"
    result["off"] = install_afresh()
    result["off_keeps_rasa"] = DaskGraphRunner.run is rasas_run

    os.environ[speedups.SETTING] = "sometimes"
    result["bad_setting"] = refusal()

    os.environ[speedups.SETTING] = "on"
    real, rasa.__version__ = rasa.__version__, "3.6.22"
    result["other_rasa"] = refusal()
    result["refused_keeps_rasa"] = DaskGraphRunner.run is rasas_run
    rasa.__version__ = real

    result["installed"] = install_afresh()
    result["again"] = speedups.install()
    result["replaced"] = DaskGraphRunner.run is not rasas_run
    result["log"] = recorder.messages
    return result


def test_speedups_are_named_refused_on_another_rasa_and_can_be_turned_off() -> None:
    assert in_fresh_engine(install_with_each_setting) == {
        "off": [],
        "off_keeps_rasa": True,
        "bad_setting": "FRONTLINE_ENGINE_SPEEDUPS must be on or off, not 'sometimes'",
        "other_rasa": "Frontline's engine speedups replace internals of rasa 3.6.21; this is "
        "rasa 3.6.22, so the engine refuses to start. Set FRONTLINE_ENGINE_SPEEDUPS=off to "
        "run Rasa's own code.",
        "refused_keeps_rasa": True,
        "installed": NAMES,
        "again": NAMES,
        "replaced": True,
        "log": [
            "engine speedups off (FRONTLINE_ENGINE_SPEEDUPS=off): Rasa's own code runs",
            *(f"engine speedup installed: {name}" for name in NAMES),
        ],
    }
