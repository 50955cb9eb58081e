"""Out-of-scope detection on CLINC150 and Banking77-OOS (../shared/eval).

    .venv/app/bin/python -m tests.perf.eval_oos [--config FILE ...] [--dataset clinc|banking]
        [--negatives on|off] [--validation-only] [--retrain]

For each data set, trains ``config.yml``'s NLU pipeline (or each
``--config``) on the data set's in-scope ``train`` split with ``rasa train
nlu`` into ``var/eval/work/<data set>`` (never the product's ``models/``),
then parses its validation and test splits:

* CLINC150 (clinc150/data_full.json, CC BY 3.0): 150 intents; validation
  ``val`` + ``oos_val``, test ``test`` + ``oos_test``.
* Banking77-OOS (banking77_oos/, Zhang et al. 2021): 50 banking intents;
  validation ``valid`` + ``id-oos/valid`` (banking questions of the 27
  held-back intents) + ``ood-oos/valid``; test ``test`` + ``id-oos/test`` +
  ``ood-oos/test`` (out-of-domain: CLINC150's oos_test).

Negatives (``--negatives on``, the default, as the product trains its own
``out_of_scope`` intent): the data set's out-of-scope *training* messages are
added to the training data as an ``out_of_scope`` intent: CLINC150's 100
``oos_train``, Banking77-OOS's 2,062 ``id-oos/train``. No validation or test
message is ever trained on. (Banking77-OOS's ID-OOS splits all come from the
same 27 held-back intents: with negatives its ID-OOS figures measure
rejecting *known* unsupported topics, as the product's ``out_of_scope`` intent
does, not unseen ones.)

Score of a message: the classifier's confidence in its best real intent (the
FallbackClassifier's ``nlu_fallback`` is ignored, so any threshold can be
applied afterwards); when that intent is ``out_of_scope``, minus its
confidence, so such a message is out of scope at every threshold >= 0. A
message is called out of scope when its score is below the threshold.

Threshold rule (the issue's operating point), validation only: the highest
threshold at which validation in-scope accuracy still meets the data set's
in-scope target; in-scope accuracy falls and OOS recall rises with the
threshold, so it is the threshold meeting the target with the highest
validation OOS recall. If no threshold meets it, the threshold is 0 (only
``out_of_scope`` predictions are rejected) and the target is reported as not
reachable. The threshold is then applied to the test splits, and the report
says whether the target pair is met there:

* CLINC150: in-scope accuracy >= 0.93 with OOS recall (oos_test) >= 0.75;
* Banking77-OOS: in-scope accuracy >= 0.85 with ID-OOS recall (id-oos/test)
  >= 0.70 (the threshold is chosen on valid + id-oos/valid).

Figures: in-scope accuracy = messages with score >= threshold and the right
intent, over all in-scope messages (as CLINC150's paper); OOS recall = out of
scope messages with score < threshold, over all of them, per OOS group; AUROC
= in-scope vs each OOS group ranked by score (threshold-free). Also given:
the figures at the previous rule's threshold (mean of in-scope accuracy and
OOS recall on validation, maximised), and the product's own decision (the
pipeline's FallbackClassifier, ``nlu_fallback`` or ``out_of_scope`` counting as
rejected).

``--validation-only`` parses no test message and reports validation figures
only: use it to compare candidate pipelines (tune on validation, never on
test). A trained model is reused while the config's NLU part, the training
data and the negatives setting are unchanged (``--retrain`` forces training);
the training time measured when it was trained is reported with it.
"""

from __future__ import annotations

import argparse
import bisect
import hashlib
import json
import math
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
BANKING_FOLDER = "banking77_oos"
CONFIG = ROOT / "config.yml"
INSCOPE = "inscope"
VALIDATION, TEST = "validation", "test"
OOS_INTENT = "out_of_scope"  # the product's intent, and the negatives' intent here
FALLBACK = "nlu_fallback"
# CLINC150 paper (Larson et al., EMNLP 2019), full data set, best systems.
PUBLISHED = {"inscope_accuracy": 0.969, "oos_recall": 0.66}


@dataclass(frozen=True)
class Target:
    """The issue's operating point: in-scope accuracy at least ``inscope``
    with recall of OOS ``group`` at least ``oos_recall``."""

    inscope: float
    oos_recall: float
    group: str


@dataclass(frozen=True)
class Split:
    name: str  # as the data set names it
    stage: str  # VALIDATION or TEST
    group: str  # INSCOPE or an out-of-scope group
    rows: tuple[tuple[str, str], ...]  # (text, intent); intent "oos" when out of scope


@dataclass(frozen=True)
class OosData:
    key: str  # metric prefix: clinc, banking
    title: str
    train: tuple[tuple[str, str], ...]
    negatives: tuple[str, ...]  # out-of-scope training messages (a train split)
    splits: tuple[Split, ...]
    target: Target
    digest: str  # of the source files


@dataclass(frozen=True)
class Scored:
    split: str
    stage: str
    group: str
    expected: str  # "oos" for out-of-scope messages
    predicted: str  # best real intent
    score: float
    decided: str  # the product's decision: nlu_fallback when its FallbackClassifier fires


CLINC_TARGET = Target(inscope=0.93, oos_recall=0.75, group="oos")
BANKING_TARGET = Target(inscope=0.85, oos_recall=0.70, group="id_oos")


def load_clinc(path: Path) -> OosData:
    raw = path.read_bytes()
    data = json.loads(raw)

    def rows(name: str) -> tuple[tuple[str, str], ...]:
        return tuple((str(text), str(intent)) for text, intent in data[name])

    return OosData(
        key="clinc",
        title="CLINC150",
        train=rows("train"),
        negatives=tuple(text for text, _ in rows("oos_train")),
        splits=(
            Split("val", VALIDATION, INSCOPE, rows("val")),
            Split("oos_val", VALIDATION, "oos", rows("oos_val")),
            Split("test", TEST, INSCOPE, rows("test")),
            Split("oos_test", TEST, "oos", rows("oos_test")),
        ),
        target=CLINC_TARGET,
        digest=hashlib.sha256(raw).hexdigest()[:12],
    )


def load_banking(folder: Path) -> OosData:
    digest = hashlib.sha256()

    def rows(name: str) -> tuple[tuple[str, str], ...]:
        texts = (folder / name / "seq.in").read_bytes()
        labels = (folder / name / "label").read_bytes()
        digest.update(texts + b"\0" + labels + b"\0")
        text_lines = texts.decode("utf-8").splitlines()
        label_lines = labels.decode("utf-8").splitlines()
        if len(text_lines) != len(label_lines):
            raise ValueError(f"{folder / name}: {len(text_lines)} texts, {len(label_lines)} labels")
        return tuple(zip(text_lines, label_lines, strict=True))

    return OosData(
        key="banking",
        title="Banking77-OOS",
        train=rows("train"),
        negatives=tuple(text for text, _ in rows("id-oos/train")),
        splits=(
            Split("valid", VALIDATION, INSCOPE, rows("valid")),
            Split("id-oos/valid", VALIDATION, "id_oos", rows("id-oos/valid")),
            # CLINC150's oos_train + oos_val: shown, never used to choose.
            Split("ood-oos/valid", VALIDATION, "ood_oos", rows("ood-oos/valid")),
            Split("test", TEST, INSCOPE, rows("test")),
            Split("id-oos/test", TEST, "id_oos", rows("id-oos/test")),
            Split("ood-oos/test", TEST, "ood_oos", rows("ood-oos/test")),
        ),
        target=BANKING_TARGET,
        digest=digest.hexdigest()[:12],
    )


# --- scoring and thresholds (pure) -------------------------------------------


def score_of(raw_intent: str, raw_confidence: float) -> float:
    """A message's score: its best real intent's confidence, negative when that
    intent is ``out_of_scope`` (out of scope at any threshold >= 0)."""
    return -raw_confidence if raw_intent == OOS_INTENT else raw_confidence


def scored_row(row: dict[str, Any]) -> Scored:
    raw_intent = str(row["raw_intent"])
    return Scored(
        split=row["split"],
        stage=row["stage"],
        group=row["group"],
        expected=row["expected"],
        predicted=raw_intent,
        score=score_of(raw_intent, float(row["raw_confidence"])),
        decided=str(row.get("intent")),
    )


def inscope_accuracy(scored: Sequence[Scored], threshold: float) -> float:
    inscope = [item for item in scored if item.group == INSCOPE]
    hits = sum(item.score >= threshold and item.predicted == item.expected for item in inscope)
    return hits / len(inscope) if inscope else math.nan


def oos_recall(scored: Sequence[Scored], threshold: float, group: str | None = None) -> float:
    """Share of out-of-scope messages (of ``group``, default all) scored below
    ``threshold``."""
    oos = [item for item in scored if item.group != INSCOPE and group in (None, item.group)]
    return sum(item.score < threshold for item in oos) / len(oos) if oos else math.nan


def auroc(scored: Sequence[Scored], group: str | None = None) -> float:
    """In-scope vs out-of-scope (``group``) messages ranked by score."""
    return metrics.auroc(
        [item.score for item in scored if item.group == INSCOPE],
        [item.score for item in scored if item.group != INSCOPE and group in (None, item.group)],
    )


def threshold_for_target(scored: Sequence[Scored], target: float) -> float | None:
    """The highest threshold at which in-scope accuracy on ``scored`` is still
    >= ``target`` (so the one with the highest OOS recall meeting it); None
    when even accepting every message misses it."""
    inscope = [item for item in scored if item.group == INSCOPE]
    if not inscope:
        return None
    right = sorted(
        (item.score for item in inscope if item.predicted == item.expected), reverse=True
    )
    needed = math.ceil(target * len(inscope) - 1e-9)  # correct and accepted messages needed
    if needed <= 0:
        return math.inf
    if needed > len(right):
        return None
    # Accepting every message scored >= the needed-th best right score keeps
    # exactly enough right ones; any higher threshold loses one.
    return right[needed - 1]


def balanced_threshold(scored: Sequence[Scored], group: str | None = None) -> float:
    """The threshold maximising (in-scope accuracy + OOS recall) / 2 on
    ``scored`` (lowest such threshold on ties)."""
    inscope = [item for item in scored if item.group == INSCOPE]
    right = sorted(item.score for item in inscope if item.predicted == item.expected)
    oos = sorted(
        item.score for item in scored if item.group != INSCOPE and group in (None, item.group)
    )
    if not inscope or not oos:
        return 0.0
    candidates = sorted({item.score for item in scored} | {0.0, 1.01})
    best, best_value = 0.0, -1.0
    for threshold in candidates:
        accepted_right = len(right) - bisect.bisect_left(right, threshold)
        rejected_oos = bisect.bisect_left(oos, threshold)
        value = (accepted_right / len(inscope) + rejected_oos / len(oos)) / 2
        if value > best_value + 1e-12:
            best, best_value = threshold, value
    return best


def decided_figures(scored: Sequence[Scored], groups: Sequence[str]) -> dict[str, float]:
    """The product's own decision: right intent, or rejected (``nlu_fallback``
    or ``out_of_scope``) for out-of-scope messages."""
    inscope = [item for item in scored if item.group == INSCOPE]
    figures = {
        "inscope_accuracy": (
            sum(item.decided == item.expected for item in inscope) / len(inscope)
            if inscope
            else math.nan
        )
    }
    for group in groups:
        oos = [item for item in scored if item.group == group]
        figures[f"{group}_recall"] = (
            sum(item.decided in (FALLBACK, OOS_INTENT) for item in oos) / len(oos)
            if oos
            else math.nan
        )
    return figures


def at_threshold(
    scored: Sequence[Scored], threshold: float, groups: Sequence[str]
) -> dict[str, float]:
    figures = {"inscope_accuracy": inscope_accuracy(scored, threshold)}
    for group in groups:
        figures[f"{group}_recall"] = oos_recall(scored, threshold, group)
    return figures


def target_met(figures: dict[str, float], target: Target) -> bool:
    return (
        figures["inscope_accuracy"] >= target.inscope
        and figures[f"{target.group}_recall"] >= target.oos_recall
    )


def summarise(
    data: OosData, scored: Sequence[Scored], validation_only: bool = False
) -> tuple[dict[str, float], dict[str, Any]]:
    """Flat figures (without the data set prefix) and details of one run."""
    groups = sorted({split.group for split in data.splits} - {INSCOPE})
    validation = [item for item in scored if item.stage == VALIDATION]
    test = [item for item in scored if item.stage == TEST]
    tune = [item for item in validation if item.group in (INSCOPE, data.target.group)]
    chosen = threshold_for_target(tune, data.target.inscope)
    reachable = chosen is not None
    threshold = chosen if chosen is not None else 0.0
    balanced = balanced_threshold(tune, data.target.group)
    figures: dict[str, float] = {
        "threshold": threshold,
        "target_reachable_on_val": float(reachable),
        "balanced_threshold": balanced,
    }
    stages = [("val", validation)] + ([] if validation_only else [("test", test)])
    for stage, items in stages:
        inscope = [item for item in items if item.group == INSCOPE]
        at_chosen = at_threshold(items, threshold, groups)
        prefix = "val_" if stage == "val" else ""
        figures.update({f"{prefix}{name}": value for name, value in at_chosen.items()})
        figures[f"{prefix}target_met"] = float(target_met(at_chosen, data.target))
        figures[f"{prefix}closed_accuracy"] = metrics.accuracy(
            [item.expected for item in inscope], [item.predicted for item in inscope]
        )
        for group in groups:
            figures[f"{prefix}{group}_auroc"] = auroc(items, group)
        figures.update(
            {
                f"{prefix}balanced_{name}": value
                for name, value in at_threshold(items, balanced, groups).items()
            }
        )
        figures.update(
            {
                f"{prefix}decided_{name}": value
                for name, value in decided_figures(items, groups).items()
            }
        )
    details: dict[str, Any] = {
        "target": vars(data.target),
        "rule": (
            f"highest threshold with validation in-scope accuracy >= {data.target.inscope} "
            f"(validation: in-scope + {data.target.group})"
        ),
        "counts": {split.name: len(split.rows) for split in data.splits},
    }
    if not validation_only:
        details["curve"] = curve(test, groups)
    return figures, details


def curve(scored: Sequence[Scored], groups: Sequence[str]) -> list[dict[str, float]]:
    """In-scope accuracy and OOS recall over a grid of thresholds (plot)."""
    return [
        {
            "threshold": t / 20,
            "inscope_accuracy": round(inscope_accuracy(scored, t / 20), 4),
            **{f"{group}_recall": round(oos_recall(scored, t / 20, group), 4) for group in groups},
        }
        for t in range(21)
    ]


# --- training and parsing ------------------------------------------------------


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


def training_examples(data: OosData, negatives: bool) -> list[Example]:
    """The training split (plus the negatives as ``out_of_scope``), without
    blank messages (Banking77-OOS has a few; they teach nothing)."""
    examples = [Example(intent, text) for text, intent in data.train if text.strip()]
    if negatives:
        examples += [Example(OOS_INTENT, text) for text in data.negatives if text.strip()]
    return examples


def trained_model(
    settings: PerfSettings, config: Path, data: OosData, negatives: bool, retrain: bool
) -> tuple[Path, float, bool]:
    """The model for ``config`` on ``data`` (reused if current); its training
    seconds and whether it was trained in this run."""
    pipeline = nlu_only(config)
    examples = training_examples(data, negatives)
    listed = "".join(f"{example.intent}\t{example.raw}\n" for example in examples)
    key = fingerprint(pipeline.encode(), listed.encode())
    name = f"{config.stem}{'-neg' if negatives else ''}-{key}"
    folder = settings.resolved(settings.eval_dir) / "work" / data.key / name
    meta_path = folder / "trained.json"
    model = folder / "nlu.tar.gz"
    if model.exists() and meta_path.exists() and not retrain:
        say(f"oos: reusing {model} (config and training data unchanged)")
        return model, float(json.loads(meta_path.read_text())["train_seconds"]), False
    write_training_file(folder / "train.yml", examples)
    say(f"oos: training {config.name}'s pipeline on {len(examples)} {data.title} messages")
    (folder / "config.yml").write_text(pipeline, encoding="utf-8")
    model, seconds = train_nlu(settings, folder / "config.yml", folder / "train.yml", folder)
    meta_path.write_text(
        json.dumps(
            {"train_seconds": round(seconds, 1), "config": str(config), "negatives": negatives}
        )
    )
    say(f"oos: trained in {seconds:.0f} s")
    return model, seconds, True


def evaluate(
    settings: PerfSettings,
    config: Path,
    data: OosData,
    negatives: bool,
    retrain: bool,
    validation_only: bool = False,
) -> tuple[dict[str, float], dict[str, Any]]:
    model, train_seconds, fresh = trained_model(settings, config, data, negatives, retrain)
    work = model.parent
    splits = [s for s in data.splits if not (validation_only and s.stage == TEST)]
    rows = (
        {
            "id": f"{split.name}-{n}",
            "text": text,
            "split": split.name,
            "stage": split.stage,
            "group": split.group,
            "expected": "oos" if split.group != INSCOPE else intent,
        }
        for split in splits
        for n, (text, intent) in enumerate(split.rows)
    )
    suffix = "-val" if validation_only else ""
    count = write_messages(work / f"eval{suffix}.jsonl", rows)
    which = "validation only" if validation_only else "validation and test"
    say(f"oos: parsing {count} {data.title} messages ({which})")
    predictions, parse_seconds = parse(
        settings, model, work / f"eval{suffix}.jsonl", work / f"predictions{suffix}.jsonl"
    )
    scored = [scored_row(row) for row in predictions]
    results, details = summarise(data, scored, validation_only)
    results.update(
        {
            "train_seconds": train_seconds,
            "train_messages": len(training_examples(data, negatives)),
            "parse_p50_ms": percentile([row["ms"] for row in predictions], 50),
            "parse_p95_ms": percentile([row["ms"] for row in predictions], 95),
            "parse_seconds": parse_seconds,
        }
    )
    config_threshold = fallback_threshold(config)
    if config_threshold is not None:
        results["config_threshold"] = config_threshold
    details.update(
        {
            "config": str(config.relative_to(ROOT) if config.is_relative_to(ROOT) else config),
            "model": str(model),
            "trained_this_run": fresh,
            "negatives": negatives,
            "validation_only": validation_only,
        }
    )
    if data.key == "clinc":
        details["published"] = PUBLISHED
    return results, details


def fallback_threshold(config: Path) -> float | None:
    document = yaml.safe_load(config.read_text(encoding="utf-8"))
    for component in document.get("pipeline") or []:
        if component.get("name") == "FallbackClassifier":
            return float(component.get("threshold", 0.3))
    return None


DATASETS = {"clinc": (CLINC_FILE, load_clinc), "banking": (BANKING_FOLDER, load_banking)}


def run(
    settings: PerfSettings,
    configs: Sequence[Path] = (CONFIG,),
    retrain: bool = False,
    datasets: Sequence[str] = tuple(DATASETS),
    negatives: bool = True,
    validation_only: bool = False,
) -> Section:
    section = Section("oos")
    started = time.monotonic()
    section.details["variants"] = {}
    section.details["validation_only"] = validation_only
    for key in datasets:
        name, loader = DATASETS[key]
        source = settings.dataset(name)
        if not source.exists():
            section.skip(f"oos.{key}", f"{source} not found")
            continue
        data = loader(source)
        for config in configs:
            results, details = evaluate(settings, config, data, negatives, retrain, validation_only)
            if config == CONFIG:
                section.put({f"oos.{key}_{metric}": value for metric, value in results.items()})
                section.details[key] = details
            else:
                section.put(
                    {
                        f"oos.{config.stem}.{key}_{metric}": value
                        for metric, value in results.items()
                    }
                )
                section.details["variants"].setdefault(config.stem, {})[key] = details
    section.seconds = time.monotonic() - started
    return section


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--config", type=Path, action="append", help="pipeline(s) to compare")
    parser.add_argument("--dataset", action="append", choices=sorted(DATASETS), help="default: all")
    parser.add_argument(
        "--negatives",
        choices=("on", "off"),
        default="on",
        help="train on the data set's out-of-scope training messages as out_of_scope",
    )
    parser.add_argument(
        "--validation-only", action="store_true", help="parse no test message (for tuning)"
    )
    parser.add_argument("--retrain", action="store_true", help="train even if a model is current")
    args = parser.parse_args(argv)
    settings = load_perf_settings()
    configs = [path.resolve() for path in args.config] if args.config else [CONFIG]
    section = run(
        settings,
        configs,
        args.retrain,
        args.dataset or tuple(DATASETS),
        args.negatives == "on",
        args.validation_only,
    )
    path = write_results(settings.resolved(settings.eval_dir), [section], merge=True)
    say(f"wrote {path}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
