"""Out-of-scope detection on CLINC150 (../shared/eval/clinc150, CC BY 3.0).

    .venv/app/bin/python -m tests.perf.eval_oos [--config FILE ...] [--retrain]

Trains ``config.yml``'s NLU pipeline (or each ``--config``) on CLINC150's
``train`` split (150 intents, 15,000 messages; its 100 ``oos_train`` messages
are not used) with ``rasa train nlu`` into ``var/eval/work/clinc`` (never the
product's ``models/``), then parses ``val``, ``oos_val``, ``test`` and
``oos_test``.

The score of a message is the classifier's confidence in its best real intent
(the FallbackClassifier's ``nlu_fallback`` is ignored, so any threshold can be
applied afterwards). A message is called out of scope when its score is below
a threshold. The threshold is chosen on ``val``/``oos_val`` only, maximising
the mean of in-scope accuracy and OOS recall there, then applied to
``test``/``oos_test``:

* in-scope accuracy: test messages with score >= threshold and the right intent,
  over all 4,500 test messages (what CLINC150's paper reports);
* OOS recall: oos_test messages with score < threshold, over 1,000;
* AUROC: in-scope test vs oos_test messages ranked by score (threshold-free).

A trained model is reused while the config's NLU part (pipeline, language)
and the data file are unchanged (``--retrain`` forces training); the training
time measured when it was trained is reported with it. Training takes minutes
(see docs/benchmarks.md), so the first ``make eval`` after a pipeline change
takes that much longer.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from tests.perf import metrics
from tests.perf.common import (
    ROOT,
    PerfSettings,
    Section,
    load_perf_settings,
    percentile,
    say,
    write_results,
)
from tests.perf.engine_runs import parse, train_nlu
from tests.perf.nlu_data import Example, write_messages, write_training_file

CLINC_FILE = "clinc150/data_full.json"
CONFIG = ROOT / "config.yml"
EVAL_SPLITS = ("val", "oos_val", "test", "oos_test")
# CLINC150 paper (Larson et al., EMNLP 2019), full data set, best systems.
PUBLISHED = {"inscope_accuracy": 0.969, "oos_recall": 0.66}


@dataclass(frozen=True)
class Scored:
    split: str
    expected: str  # "oos" for out-of-scope messages
    predicted: str
    score: float


def nlu_only(config: Path) -> str:
    """``config`` without its dialogue policies and comments: what NLU training
    uses (a change elsewhere in the file does not call for retraining)."""
    document = yaml.safe_load(config.read_text(encoding="utf-8"))
    document.pop("policies", None)
    return yaml.safe_dump(document, sort_keys=False)


def fingerprint(*parts: bytes) -> str:
    digest = hashlib.sha256()
    for part in parts:
        digest.update(hashlib.sha256(part).digest())
    return digest.hexdigest()[:12]


def trained_model(
    settings: PerfSettings, config: Path, data: dict[str, Any], source: Path, retrain: bool
) -> tuple[Path, float, bool]:
    """The CLINC model for ``config`` (reused if current); its training seconds
    and whether it was trained in this run."""
    pipeline = nlu_only(config)
    key = fingerprint(pipeline.encode(), source.read_bytes())
    folder = settings.resolved(settings.eval_dir) / "work" / "clinc" / f"{config.stem}-{key}"
    meta_path = folder / "trained.json"
    model = folder / "nlu.tar.gz"
    if model.exists() and meta_path.exists() and not retrain:
        say(f"oos: reusing {model} (config and data unchanged)")
        return model, float(json.loads(meta_path.read_text())["train_seconds"]), False
    write_training_file(
        folder / "train.yml", (Example(intent, text) for text, intent in data["train"])
    )
    say(f"oos: training {config.name}'s pipeline on {len(data['train'])} CLINC150 messages")
    (folder / "config.yml").write_text(pipeline, encoding="utf-8")
    model, seconds = train_nlu(settings, folder / "config.yml", folder / "train.yml", folder)
    meta_path.write_text(json.dumps({"train_seconds": round(seconds, 1), "config": str(config)}))
    say(f"oos: trained in {seconds:.0f} s")
    return model, seconds, True


def choose_threshold(scored: Sequence[Scored]) -> float:
    """The threshold maximising (in-scope accuracy + OOS recall) / 2 on ``scored``."""
    candidates = sorted({round(item.score, 6) for item in scored} | {0.0, 1.01})
    best, best_value = 0.0, -1.0
    for threshold in candidates:
        value = (inscope_accuracy(scored, threshold) + oos_recall(scored, threshold)) / 2
        if value > best_value:
            best, best_value = threshold, value
    return best


def inscope_accuracy(scored: Sequence[Scored], threshold: float) -> float:
    inscope = [item for item in scored if item.expected != "oos"]
    hits = sum(item.score >= threshold and item.predicted == item.expected for item in inscope)
    return hits / len(inscope) if inscope else float("nan")


def oos_recall(scored: Sequence[Scored], threshold: float) -> float:
    oos = [item for item in scored if item.expected == "oos"]
    return sum(item.score < threshold for item in oos) / len(oos) if oos else float("nan")


def evaluate(
    settings: PerfSettings, config: Path, data: dict[str, Any], source: Path, retrain: bool
) -> tuple[dict[str, float], dict[str, Any]]:
    model, train_seconds, fresh = trained_model(settings, config, data, source, retrain)
    work = model.parent
    rows = (
        {"id": f"{split}-{n}", "text": text, "split": split, "expected": intent}
        for split in EVAL_SPLITS
        for n, (text, intent) in enumerate(data[split])
    )
    count = write_messages(work / "eval.jsonl", rows)
    say(f"oos: parsing {count} CLINC150 messages")
    predictions, parse_seconds = parse(
        settings, model, work / "eval.jsonl", work / "predictions.jsonl"
    )
    scored = [
        Scored(row["split"], row["expected"], row["raw_intent"], float(row["raw_confidence"]))
        for row in predictions
    ]
    validation = [item for item in scored if item.split in ("val", "oos_val")]
    test = [item for item in scored if item.split in ("test", "oos_test")]
    threshold = choose_threshold(validation)
    config_threshold = fallback_threshold(config)
    inscope_test = [item for item in test if item.expected != "oos"]
    results: dict[str, float] = {
        "clinc_inscope_accuracy": inscope_accuracy(test, threshold),
        "clinc_oos_recall": oos_recall(test, threshold),
        "clinc_auroc": metrics.auroc(
            [item.score for item in inscope_test],
            [item.score for item in test if item.expected == "oos"],
        ),
        "clinc_threshold": threshold,
        "clinc_closed_accuracy": metrics.accuracy(
            [item.expected for item in inscope_test], [item.predicted for item in inscope_test]
        ),
        "clinc_train_seconds": train_seconds,
        "clinc_parse_p50_ms": percentile([row["ms"] for row in predictions], 50),
        "clinc_parse_p95_ms": percentile([row["ms"] for row in predictions], 95),
        "clinc_parse_seconds": parse_seconds,
    }
    if config_threshold is not None:
        results["clinc_inscope_accuracy_at_config_threshold"] = inscope_accuracy(
            test, config_threshold
        )
        results["clinc_oos_recall_at_config_threshold"] = oos_recall(test, config_threshold)
        results["clinc_config_threshold"] = config_threshold
    details = {
        "config": str(config.relative_to(ROOT) if config.is_relative_to(ROOT) else config),
        "model": str(model),
        "trained_this_run": fresh,
        "published": PUBLISHED,
        "counts": {split: len(data[split]) for split in ("train", *EVAL_SPLITS)},
        "curve": curve(test),
    }
    return results, details


def curve(test: Sequence[Scored]) -> list[dict[str, float]]:
    """In-scope accuracy and OOS recall on test over a grid of thresholds (plot)."""
    return [
        {
            "threshold": t / 20,
            "inscope_accuracy": round(inscope_accuracy(test, t / 20), 4),
            "oos_recall": round(oos_recall(test, t / 20), 4),
        }
        for t in range(21)
    ]


def fallback_threshold(config: Path) -> float | None:
    document = yaml.safe_load(config.read_text(encoding="utf-8"))
    for component in document.get("pipeline") or []:
        if component.get("name") == "FallbackClassifier":
            return float(component.get("threshold", 0.3))
    return None


def run(
    settings: PerfSettings, configs: Sequence[Path] = (CONFIG,), retrain: bool = False
) -> Section:
    section = Section("oos")
    started = time.monotonic()
    source = settings.dataset(CLINC_FILE)
    if not source.exists():
        section.skip("oos.clinc", f"{source} not found")
        return section
    data = json.loads(source.read_text(encoding="utf-8"))
    section.details["variants"] = {}
    for config in configs:
        results, details = evaluate(settings, config, data, source, retrain)
        if config == CONFIG:
            section.put({f"oos.{name}": value for name, value in results.items()})
            section.details["clinc"] = details
        else:
            section.put({f"oos.{config.stem}.{name}": value for name, value in results.items()})
            section.details["variants"][config.stem] = details
    section.seconds = time.monotonic() - started
    return section


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--config", type=Path, action="append", help="pipeline(s) to compare")
    parser.add_argument("--retrain", action="store_true", help="train even if a model is current")
    args = parser.parse_args(argv)
    settings = load_perf_settings()
    configs = [path.resolve() for path in args.config] if args.config else [CONFIG]
    section = run(settings, configs, args.retrain)
    path = write_results(settings.resolved(settings.eval_dir), [section], merge=True)
    say(f"wrote {path}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
