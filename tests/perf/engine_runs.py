"""Training and parsing with the Rasa engine from the app side: ``rasa train
nlu`` in a work folder (never the product's ``models/``), and
``tests/perf/engine_nlu.py`` to parse messages with a trained model."""

from __future__ import annotations

import json
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

from tests.perf.common import ROOT, HarnessError, PerfSettings, engine_env, run_logged
from tests.perf.nlu_data import read_predictions

PARSER = ROOT / "tests" / "perf" / "engine_nlu.py"


def train_nlu(
    settings: PerfSettings, config: Path, nlu: Path, out_dir: Path, name: str = "nlu"
) -> tuple[Path, float]:
    """Trains an NLU-only model from ``nlu`` with ``config``; returns its path
    and the wall-clock seconds of ``rasa train nlu`` (process start included)."""
    target = out_dir / f"{name}.tar.gz"
    target.unlink(missing_ok=True)
    argv = [
        str(settings.engine_rasa), "train", "nlu",
        "--config", str(config),
        "--nlu", str(nlu),
        "--out", str(out_dir),
        "--fixed-model-name", name,
    ]  # fmt: skip
    # Each training gets its own cache so parallel runs never share one.
    env = engine_env({"RASA_CACHE_DIRECTORY": str(out_dir / "cache"), "RASA_MAX_CACHE_SIZE": "0"})
    seconds = run_logged(argv, out_dir / "train.log", env)
    if not target.exists():
        raise HarnessError(f"rasa train nlu wrote no model; see {out_dir / 'train.log'}")
    return target, seconds


def parse(
    settings: PerfSettings, model: Path, messages: Path, out: Path
) -> tuple[list[dict[str, Any]], float]:
    """Predictions for every line of ``messages`` (see engine_nlu.py) and the
    wall-clock seconds it took (model loads included). The lines are split over
    ``parallel_trainings`` engine processes run at once; the order is kept."""
    lines = [line for line in messages.read_text(encoding="utf-8").splitlines() if line]
    workers = max(1, min(settings.parallel_trainings, len(lines) // 500 or 1))
    size = -(-len(lines) // workers)
    parts = []
    for index in range(workers):
        part = out.with_name(f"{out.stem}.part{index}.jsonl")
        part.write_text("".join(f"{line}\n" for line in lines[index * size : (index + 1) * size]))
        parts.append(part)
    started = time.monotonic()
    with ThreadPoolExecutor(workers) as pool:
        results = list(pool.map(lambda part: parse_part(settings, model, part), parts))
    seconds = time.monotonic() - started
    predictions = [row for rows in results for row in rows]
    out.write_text("".join(json.dumps(row, ensure_ascii=False) + "\n" for row in predictions))
    for part in parts:
        part.unlink()
        part.with_name(part.stem + ".out.jsonl").unlink(missing_ok=True)
    return predictions, seconds


def parse_part(settings: PerfSettings, model: Path, part: Path) -> list[dict[str, Any]]:
    target = part.with_name(part.stem + ".out.jsonl")
    argv = [str(settings.engine_python), str(PARSER), "parse", str(model), str(part), str(target)]
    run_logged(argv, part.with_suffix(".log"), engine_env())
    return read_predictions(target)


def train_and_parse(
    settings: PerfSettings, config: Path, nlu: Path, folder: Path, messages: Path, out: Path
) -> tuple[list[dict[str, Any]], float]:
    """Trains an NLU model from ``nlu`` into ``folder`` and parses ``messages``
    with it in one engine process; returns the predictions and the training
    seconds (training only, measured inside the process)."""
    argv = [
        str(settings.engine_python), str(PARSER), "train-parse",
        str(config), str(nlu), str(folder), str(messages), str(out),
    ]  # fmt: skip
    env = engine_env({"RASA_CACHE_DIRECTORY": str(folder / "cache"), "RASA_MAX_CACHE_SIZE": "0"})
    run_logged(argv, folder / "train-parse.log", env)
    seconds = float(json.loads((folder / "trained.json").read_text())["train_seconds"])
    return read_predictions(out), seconds
