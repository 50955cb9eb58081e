"""bot.nlu.classifier inside a real Rasa engine: trained on the same data as
Rasa's own LogisticRegressionClassifier, it gives the same intents and the
same confidences for every message, sparse and dense features together."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

from bot.stack import ROOT, StackSettings, engine_env
from tests.bot.nlu.test_featurizer import DATA

PARSER = ROOT / "tests" / "perf" / "engine_nlu.py"
MESSAGES = [
    "I can't remember my login credentials",
    "when will my parcel arrive",
    "hello!!",
    "pasword resett",
    "zzzz qqqq",
    "where is order BW-104233 and can I reset my password",
    "😀",
]


def config(classifier: str) -> str:
    return (
        "recipe: default.v1\nlanguage: en\nassistant_id: test\npipeline:\n"
        "  - name: WhitespaceTokenizer\n"
        "  - name: CountVectorsFeaturizer\n"
        "  - name: CountVectorsFeaturizer\n    analyzer: char_wb\n    min_ngram: 2\n"
        "    max_ngram: 4\n"
        "  - name: bot.nlu.featurizer.SentenceEmbeddingFeaturizer\n    scale: 20\n"
        f"  - name: {classifier}\n"
    )


def rankings(folder: Path, classifier: str) -> list[list[list[object]]]:
    folder.mkdir()
    (folder / "config.yml").write_text(config(classifier))
    (folder / "nlu.yml").write_text(DATA)
    lines = [json.dumps({"id": n, "text": text}) for n, text in enumerate(MESSAGES)]
    (folder / "in.jsonl").write_text("\n".join(lines) + "\n")
    settings = StackSettings(_env_file=None)
    python = settings.resolved(settings.engine_venv) / "bin" / "python"
    argv = [
        str(python), str(PARSER), "train-parse", str(folder / "config.yml"),
        str(folder / "nlu.yml"), str(folder), str(folder / "in.jsonl"), str(folder / "out.jsonl"),
    ]  # fmt: skip
    env = engine_env({"RASA_CACHE_DIRECTORY": str(folder / "cache"), "RASA_MAX_CACHE_SIZE": "0"})
    result = subprocess.run(argv, cwd=ROOT, env=env, capture_output=True, text=True, check=False)
    assert result.returncode == 0, result.stderr[-3000:]
    rows = [json.loads(line) for line in (folder / "out.jsonl").read_text().splitlines()]
    assert [row["id"] for row in rows] == list(range(len(MESSAGES)))
    return [row["ranking"] for row in rows]


def test_the_same_confidences_as_rasas_classifier(tmp_path: Path) -> None:
    expected = rankings(tmp_path / "rasa", "LogisticRegressionClassifier")
    got = rankings(tmp_path / "ours", "bot.nlu.classifier.FastLogisticRegressionClassifier")
    assert [[name for name, _ in ranking] for ranking in got] == [
        [name for name, _ in ranking] for ranking in expected
    ]
    for ours, theirs in zip(got, expected, strict=True):
        assert len(ours) == 3
        for (_, confidence), (_, reference) in zip(ours, theirs, strict=True):
            assert abs(float(confidence) - float(reference)) <= 2e-6  # type: ignore[arg-type]
