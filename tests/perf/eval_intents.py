"""Intent quality: cross-validation on our own training data, and accuracy on
Bitext's customer-support messages mapped to our intents.

    .venv/app/bin/python -m tests.perf.eval_intents [--skip-cv] [--skip-bitext] [--config FILE]

Cross-validation: stratified folds of ``data/nlu`` (``FRONTLINE_PERF_CV_FOLDS``,
default 4: two rounds of two trainings at a time on 2 cores); each fold trains
``config.yml``'s pipeline (or ``--config``'s, to compare another pipeline on
the same data), as ``rasa train nlu`` does, on the other folds and
parses its own examples, in one engine process
(``tests/perf/engine_nlu.py train-parse``). Accuracy and macro-F1 count the
bot's decision, so a message the FallbackClassifier turns into ``nlu_fallback``
is an error; ``raw`` figures use the best real intent instead.

Bitext: every row of ``bitext_customer_support.csv`` is parsed by the product
model (``models/frontline-<fingerprint>``, trained if needed) and scored with
``data/eval/bitext_intent_map.yml`` (its header defines the scoring).
"""

from __future__ import annotations

import argparse
import csv
import time
from collections import Counter, defaultdict
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from tests.perf import metrics
from tests.perf.common import (
    ROOT,
    HarnessError,
    PerfSettings,
    Section,
    load_perf_settings,
    mean,
    percentile,
    say,
    write_results,
)
from tests.perf.engine_runs import parse, train_and_parse
from tests.perf.nlu_data import (
    Example,
    read_nlu,
    stratified_folds,
    write_messages,
    write_training_file,
)

NLU_DATA = ROOT / "data" / "nlu"
CONFIG = ROOT / "config.yml"
BITEXT_MAP = ROOT / "data" / "eval" / "bitext_intent_map.yml"
BITEXT_FILE = "bitext/bitext_customer_support.csv"
FALLBACK = "nlu_fallback"


@dataclass(frozen=True)
class FoldResult:
    index: int
    predictions: list[dict[str, Any]]
    train_seconds: float


def run_fold(
    settings: PerfSettings,
    config: Path,
    folder: Path,
    index: int,
    train: list[Example],
    test: list[Example],
    others: tuple[dict[str, Any], ...],
) -> FoldResult:
    write_training_file(folder / "train.yml", train, others)
    write_messages(
        folder / "test.jsonl",
        (
            {"id": n, "text": example.text, "expected": example.intent}
            for n, example in enumerate(test)
        ),
    )
    say(f"intents: fold {index}: training on {len(train)} examples")
    predictions, seconds = train_and_parse(
        settings, config, folder / "train.yml", folder, folder / "test.jsonl",
        folder / "predictions.jsonl",
    )  # fmt: skip
    say(f"intents: fold {index}: trained in {seconds:.0f} s, parsed {len(predictions)}")
    return FoldResult(index, predictions, seconds)


def cross_validate(settings: PerfSettings, section: Section, config: Path = CONFIG) -> None:
    started = time.monotonic()
    data = read_nlu([NLU_DATA])
    parts = stratified_folds(data.examples, settings.cv_folds)
    work = settings.resolved(settings.eval_dir) / "work" / "cv"
    with ThreadPoolExecutor(settings.parallel_trainings) as pool:
        futures = [
            pool.submit(
                run_fold,
                settings,
                config,
                work / f"fold{index}",
                index,
                [example for other, part in enumerate(parts) if other != index for example in part],
                parts[index],
                data.other_items,
            )
            for index in range(len(parts))
        ]
        results = [future.result() for future in futures]
    predictions = [row for result in results for row in result.predictions]
    expected = [row["expected"] for row in predictions]
    decided = [row["intent"] for row in predictions]
    raw = [row["raw_intent"] for row in predictions]
    scores = metrics.label_scores(expected, decided)
    table = metrics.confusion(expected, decided)
    section.put(
        {
            "intents.cv_accuracy": metrics.accuracy(expected, decided),
            "intents.cv_macro_f1": metrics.macro_f1(scores),
            "intents.cv_raw_accuracy": metrics.accuracy(expected, raw),
            "intents.cv_raw_macro_f1": metrics.macro_f1(metrics.label_scores(expected, raw)),
            "intents.cv_fallback_rate": decided.count(FALLBACK) / len(decided),
            "intents.cv_examples": len(predictions),
            "intents.cv_intents": len(data.intents),
            "intents.cv_folds": len(parts),
            "intents.cv_train_seconds_per_fold": mean(r.train_seconds for r in results),
            "intents.cv_seconds": time.monotonic() - started,
            "intents.parse_p50_ms": percentile([row["ms"] for row in predictions], 50),
        }
    )
    section.details["cv"] = {
        "per_intent": {
            label: vars(score) for label, score in sorted(scores.items())
        },
        "confusion": table,
        "top_confusions": metrics.top_confusions(table, 20),
        "errors": [
            {"text": row["text"], "expected": row["expected"], "predicted": row["intent"],
             "confidence": row["confidence"]}
            for row in predictions if row["intent"] != row["expected"]
        ][:200],
    }  # fmt: skip


@dataclass(frozen=True)
class BitextMap:
    served: dict[str, list[str]]
    not_served: dict[str, str]
    handoff_intents: list[str]

    def accepted(self, bitext_intent: str) -> list[str]:
        if bitext_intent in self.served:
            return self.served[bitext_intent]
        if bitext_intent in self.not_served:
            return self.handoff_intents
        raise HarnessError(f"{BITEXT_MAP.name}: Bitext intent {bitext_intent!r} is not mapped")


def load_bitext_map(path: Path = BITEXT_MAP) -> BitextMap:
    document = yaml.safe_load(path.read_text(encoding="utf-8"))
    served = {str(k): [str(i) for i in v] for k, v in (document.get("served") or {}).items()}
    not_served = {str(k): str(v) for k, v in (document.get("not_served") or {}).items()}
    overlap = set(served) & set(not_served)
    if overlap:
        raise HarnessError(f"{path.name}: both served and not_served: {sorted(overlap)}")
    return BitextMap(served, not_served, [str(i) for i in document["handoff_intents"]])


def our_intents() -> set[str]:
    names: set[str] = set()
    for path in (ROOT / "bot" / "domain").glob("*.yml"):
        document = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
        names.update(str(item) for item in document.get("intents") or [])
    return names | {FALLBACK}


def bitext(settings: PerfSettings, section: Section, model: Path) -> None:
    source = settings.dataset(BITEXT_FILE)
    if not source.exists():
        section.skip("intents.bitext", f"{source} not found")
        return
    mapping = load_bitext_map()
    unknown = {i for targets in mapping.served.values() for i in targets} - our_intents()
    if unknown:
        raise HarnessError(f"{BITEXT_MAP.name} names intents the bot does not have: {unknown}")
    with source.open(encoding="utf-8", newline="") as handle:
        rows = [(row["instruction"], row["intent"]) for row in csv.DictReader(handle)]
    work = settings.resolved(settings.eval_dir) / "work" / "bitext"
    write_messages(
        work / "messages.jsonl",
        ({"id": n, "text": text, "bitext_intent": intent} for n, (text, intent) in enumerate(rows)),
    )
    say(f"intents: parsing {len(rows)} Bitext messages with {model.name}")
    predictions, seconds = parse(
        settings, model, work / "messages.jsonl", work / "predictions.jsonl"
    )
    correct: Counter[str] = Counter()
    raw_correct: Counter[str] = Counter()
    total: Counter[str] = Counter()
    predicted_by_intent: dict[str, Counter[str]] = defaultdict(Counter)
    for row in predictions:
        bitext_intent = row["bitext_intent"]
        total[bitext_intent] += 1
        predicted_by_intent[bitext_intent][row["intent"]] += 1
        if row["intent"] in mapping.accepted(bitext_intent):
            correct[bitext_intent] += 1
        if row["raw_intent"] in mapping.accepted(bitext_intent):
            raw_correct[bitext_intent] += 1

    def share(intents: list[str]) -> float:
        count = sum(total[i] for i in intents)
        return sum(correct[i] for i in intents) / count if count else float("nan")

    decided = [row["intent"] for row in predictions]
    section.put(
        {
            "intents.bitext_accuracy": sum(correct.values()) / len(predictions),
            # Without the FallbackClassifier: the best real intent counts.
            "intents.bitext_raw_accuracy": sum(raw_correct.values()) / len(predictions),
            "intents.bitext_served_accuracy": share(list(mapping.served)),
            "intents.bitext_not_served_handoff_rate": share(list(mapping.not_served)),
            "intents.bitext_fallback_rate": decided.count(FALLBACK) / len(decided),
            "intents.bitext_messages": len(predictions),
            "intents.bitext_parse_seconds": seconds,
        }
    )
    section.details["bitext"] = {
        "model": model.name,
        "per_intent": {
            intent: {
                "served": intent in mapping.served,
                "accepted": mapping.accepted(intent),
                "messages": total[intent],
                "accuracy": round(correct[intent] / total[intent], 4),
                "raw_accuracy": round(raw_correct[intent] / total[intent], 4),
                "predicted": dict(predicted_by_intent[intent].most_common(5)),
            }
            for intent in sorted(total)
        },
    }


def run(
    settings: PerfSettings, cv: bool = True, with_bitext: bool = True, config: Path = CONFIG
) -> Section:
    section = Section("intents")
    started = time.monotonic()
    if cv:
        cross_validate(settings, section, config)
    if with_bitext:
        from tests.perf.stack_run import product_model

        bitext(settings, section, product_model())
    section.seconds = time.monotonic() - started
    return section


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--skip-cv", action="store_true")
    parser.add_argument("--skip-bitext", action="store_true")
    parser.add_argument(
        "--config", type=Path, default=CONFIG,
        help="pipeline for the cross-validation (Bitext always uses the product model)",
    )  # fmt: skip
    args = parser.parse_args(argv)
    settings = load_perf_settings()
    section = run(
        settings,
        cv=not args.skip_cv,
        with_bitext=not args.skip_bitext,
        config=args.config.resolve(),
    )
    path = write_results(settings.resolved(settings.eval_dir), [section], merge=True)
    say(f"wrote {path}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
