"""Parses messages with a Rasa model, inside the Rasa engine environment.

Runs on the engine's Python 3.10 (``rasa`` importable); imports nothing else of
Frontline. The app side (``tests.perf.engine_runs``) writes the input and
reads the output:

    .venv/engine/bin/python tests/perf/engine_nlu.py parse MODEL IN.jsonl OUT.jsonl
    .venv/engine/bin/python tests/perf/engine_nlu.py train-parse CONFIG NLU DIR IN OUT

``train-parse`` first trains an NLU model like ``rasa train nlu`` (into
``DIR/nlu.tar.gz``, its seconds in ``DIR/trained.json``), in the same process,
which saves loading Rasa twice. Each input line is ``{"id": ..., "text":
...}``; each output line adds ``intent`` and ``confidence`` as the bot sees
them (``nlu_fallback`` when the FallbackClassifier fires), ``raw_intent`` and
``raw_confidence`` (the best real intent, ignoring the fallback), the top
``ranking`` and the parse time ``ms`` (in-process, no HTTP).
"""

from __future__ import annotations

import asyncio
import json
import logging
import sys
import time
from pathlib import Path
from typing import Any

FALLBACK = "nlu_fallback"


def best_real(parsed: dict[str, Any]) -> tuple[str, float]:
    for entry in parsed.get("intent_ranking") or []:
        if entry.get("name") != FALLBACK:
            return str(entry["name"]), float(entry.get("confidence") or 0.0)
    intent = parsed.get("intent") or {}
    return str(intent.get("name")), float(intent.get("confidence") or 0.0)


async def parse_all(model: Path, source: Path, target: Path) -> None:
    from rasa.core.agent import Agent

    agent = Agent.load(str(model))
    rows = [json.loads(line) for line in source.read_text(encoding="utf-8").splitlines() if line]
    with target.open("w", encoding="utf-8") as out:
        for row in rows:
            started = time.perf_counter()
            parsed = await agent.parse_message(row["text"])
            elapsed = (time.perf_counter() - started) * 1000
            intent = parsed.get("intent") or {}
            raw_intent, raw_confidence = best_real(parsed)
            ranking = [
                [entry["name"], round(float(entry.get("confidence") or 0.0), 6)]
                for entry in (parsed.get("intent_ranking") or [])[:10]
            ]
            result = {
                **row,
                "intent": intent.get("name"),
                "confidence": round(float(intent.get("confidence") or 0.0), 6),
                "raw_intent": raw_intent,
                "raw_confidence": round(raw_confidence, 6),
                "ranking": ranking,
                "ms": round(elapsed, 3),
            }
            out.write(json.dumps(result, ensure_ascii=False) + "\n")


def train(config: Path, nlu: Path, folder: Path) -> Path:
    from rasa.model_training import train_nlu

    started = time.perf_counter()
    model = train_nlu(str(config), str(nlu), str(folder), fixed_model_name="nlu")
    seconds = time.perf_counter() - started
    if not model:
        raise SystemExit(f"training from {nlu} produced no model")
    (folder / "trained.json").write_text(json.dumps({"train_seconds": round(seconds, 2)}))
    return Path(model)


def main(argv: list[str]) -> int:
    if len(argv) == 3:  # MODEL IN OUT
        argv = ["parse", *argv]
    command, args = (argv[0], argv[1:]) if argv else ("", [])
    if command not in ("parse", "train-parse") or len(args) != (3 if command == "parse" else 5):
        print(__doc__, file=sys.stderr)
        return 2
    logging.basicConfig(level=logging.WARNING)
    from rasa.utils.log_utils import configure_structlog

    configure_structlog(logging.WARNING)  # no per-message debug lines
    paths = [Path(arg) for arg in args]
    if command == "train-parse":
        config, nlu, folder, source, target = paths
        model = train(config, nlu, folder)
    else:
        model, source, target = paths
    asyncio.run(parse_all(model, source, target))
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
