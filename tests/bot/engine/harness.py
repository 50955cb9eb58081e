"""Running a test script inside the Rasa engine (Python 3.10), where the
code under ``bot/`` that Rasa loads runs; the app environment's tests call it."""

from __future__ import annotations

import json
import subprocess
from typing import Any

from core.runtime import load_settings
from launcher.stack import ROOT, StackSettings, engine_env, rasa_executable


def run_script(script: str, *args: str, timeout: float = 300) -> dict[str, Any]:
    """Runs ``script`` with the engine's Python from the project's root and
    returns the JSON object on the last line it prints; fails the test with
    the end of its stderr if it exits with an error."""
    python = rasa_executable(load_settings(StackSettings, _env_file=None)).parent / "python"
    result = subprocess.run(
        [str(python), "-c", script, *args],
        cwd=ROOT, env=engine_env(), capture_output=True, text=True, timeout=timeout, check=False,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr[-3000:]
    return dict(json.loads(result.stdout.strip().splitlines()[-1]))
