"""Rasa NLU training data as the harness needs it: examples per intent read
from Rasa's YAML (``data/nlu``), stratified folds, and YAML files written back
for ``rasa train nlu`` (annotations kept in training files, stripped from the
text that is parsed)."""

from __future__ import annotations

import json
import random
import re
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

# [shown text](entity) or [shown text]{"entity": ...}
ANNOTATION = re.compile(r"\[([^\]]+)\](?:\([^)]*\)|\{[^}]*\})")


@dataclass(frozen=True)
class Example:
    intent: str
    raw: str  # as written in the training file, with entity annotations

    @property
    def text(self) -> str:
        return ANNOTATION.sub(r"\1", self.raw)


@dataclass(frozen=True)
class NluData:
    examples: tuple[Example, ...]
    # regex, lookup and synonym items: copied into every training file
    other_items: tuple[dict[str, Any], ...]

    @property
    def intents(self) -> list[str]:
        return sorted({example.intent for example in self.examples})


def example_lines(block: Any) -> list[str]:
    if isinstance(block, str):
        return [line[2:].strip() for line in block.splitlines() if line.startswith("- ")]
    if isinstance(block, list):  # examples given as a list of {"text": ...}
        return [str(item["text"]).strip() for item in block if isinstance(item, dict)]
    return []


def read_nlu(paths: Iterable[Path]) -> NluData:
    """Examples and other items of every ``*.yml`` file under ``paths``."""
    examples: list[Example] = []
    others: list[dict[str, Any]] = []
    for base in paths:
        files = sorted(base.rglob("*.yml")) if base.is_dir() else [base]
        for path in files:
            document = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
            for item in document.get("nlu") or []:
                if "intent" in item:
                    examples.extend(
                        Example(str(item["intent"]), line)
                        for line in example_lines(item.get("examples"))
                    )
                else:
                    others.append(item)
    return NluData(tuple(examples), tuple(others))


def stratified_folds(
    examples: Sequence[Example], folds: int, seed: int = 42
) -> list[list[Example]]:
    """``folds`` disjoint parts, each intent spread evenly over them."""
    by_intent: dict[str, list[Example]] = defaultdict(list)
    for example in examples:
        by_intent[example.intent].append(example)
    parts: list[list[Example]] = [[] for _ in range(folds)]
    rng = random.Random(seed)
    offset = 0
    for intent in sorted(by_intent):
        items = list(by_intent[intent])
        rng.shuffle(items)
        for index, example in enumerate(items):
            parts[(index + offset) % folds].append(example)
        offset += len(items)  # small intents do not all start in fold 0
    return parts


def write_training_file(
    path: Path, examples: Iterable[Example], others: Sequence[Mapping[str, Any]] = ()
) -> None:
    by_intent: dict[str, list[str]] = defaultdict(list)
    for example in examples:
        by_intent[example.intent].append(example.raw)
    items: list[dict[str, Any]] = [
        {"intent": intent, "examples": "".join(f"- {raw}\n" for raw in raws)}
        for intent, raws in sorted(by_intent.items())
    ]
    items.extend(dict(other) for other in others)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(
        yaml.safe_dump({"version": "3.1", "nlu": items}, sort_keys=False, allow_unicode=True),
        encoding="utf-8",
    )


def write_messages(path: Path, rows: Iterable[Mapping[str, Any]]) -> int:
    """JSON lines for ``engine_nlu.py``; returns how many."""
    path.parent.mkdir(parents=True, exist_ok=True)
    count = 0
    with path.open("w", encoding="utf-8") as out:
        for row in rows:
            out.write(json.dumps(dict(row), ensure_ascii=False) + "\n")
            count += 1
    return count


def read_predictions(path: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line]
