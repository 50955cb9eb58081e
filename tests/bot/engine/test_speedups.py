"""bot/engine/speedups.py, run inside the Rasa engine (Python 3.10): the
speedups are installed once and named in the log, refused on an untested Rasa,
and left out (Rasa's own code runs) with FRONTLINE_ENGINE_SPEEDUPS=off."""

from __future__ import annotations

import textwrap

from tests.bot.engine.harness import run_script

ENGINE_SCRIPT = textwrap.dedent(
    """
    import json, logging, os, sys

    import rasa
    from rasa.core.actions.action import RemoteAction
    from rasa.engine.runner.dask import DaskGraphRunner

    from bot.engine import speedups

    records = []
    handler = logging.Handler()
    handler.emit = lambda record: records.append(record.getMessage())
    logging.getLogger("bot.engine.speedups").addHandler(handler)
    logging.getLogger("bot.engine.speedups").setLevel(logging.INFO)

    def fresh():
        speedups._installed = None

    rasas_run = DaskGraphRunner.run
    result = {}

    os.environ[speedups.SETTING] = "off"
    fresh()
    result["off"] = speedups.install()
    result["off_keeps_rasa"] = DaskGraphRunner.run is rasas_run

    os.environ[speedups.SETTING] = "sometimes"
    fresh()
    try:
        speedups.install()
    except speedups.SpeedupsRefused as error:
        result["bad_setting"] = str(error)

    os.environ[speedups.SETTING] = "on"
    real, rasa.__version__ = rasa.__version__, "3.6.22"
    fresh()
    try:
        speedups.install()
    except speedups.SpeedupsRefused as error:
        result["other_rasa"] = str(error)
    result["refused_keeps_rasa"] = DaskGraphRunner.run is rasas_run
    rasa.__version__ = real

    fresh()
    result["installed"] = speedups.install()
    result["again"] = speedups.install()
    result["replaced"] = DaskGraphRunner.run is not rasas_run
    result["log"] = records
    print(json.dumps(result))
    """
)

NAMES = [
    "action responses validated by prebuilt validators",
    "event classes found by name once",
    "endpoint connections reused",
    "model graph run in an order planned once",
    "dialogue states carried forward",
    "rules decoded once",
    "slots copied directly",
]


def test_speedups_are_named_refused_on_another_rasa_and_can_be_turned_off() -> None:
    result = run_script(ENGINE_SCRIPT)
    assert result == {
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
