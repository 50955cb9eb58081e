"""The sentence-embedding featurizer inside a real Rasa engine: an NLU model
trained with it recognises a paraphrase that shares no word with its
training examples, and a missing model folder fails with a clear message."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

from launcher.stack import ROOT, StackSettings, engine_env

PARSER = ROOT / "tests" / "perf" / "engine_nlu.py"
DATA = """version: "3.1"
nlu:
- intent: password_reset
  examples: |
    - I forgot my password
    - reset my password
    - password reset please
    - how do I change my password
- intent: order_status
  examples: |
    - where is my order
    - track my order
    - order status
    - has my order shipped
- intent: greet
  examples: |
    - hello
    - hi there
    - good morning
    - hey
"""


def config(model_path: Path | None = None, precision: str | None = None) -> str:
    featurizer = "  - name: bot.engine.nlu.featurizer.SentenceEmbeddingFeaturizer\n    scale: 20\n"
    if model_path is not None:
        featurizer += f"    model_path: {model_path}\n"
    if precision is not None:
        featurizer += f"    precision: {precision}\n"
    return (
        "recipe: default.v1\nlanguage: en\nassistant_id: test\npipeline:\n"
        "  - name: WhitespaceTokenizer\n"
        f"{featurizer}"
        "  - name: LogisticRegressionClassifier\n"
    )


PARAPHRASES = ("I can't remember my login credentials", "when will my parcel arrive")


def train_and_parse(
    folder: Path, config_text: str, texts: tuple[str, ...] = PARAPHRASES
) -> subprocess.CompletedProcess[str]:
    """Trains ``config_text`` on DATA in the engine and parses ``texts`` into
    ``folder/out.jsonl`` (ids from 1)."""
    (folder / "config.yml").write_text(config_text)
    (folder / "nlu.yml").write_text(DATA)
    lines = [json.dumps({"id": n, "text": text}) for n, text in enumerate(texts, start=1)]
    (folder / "in.jsonl").write_text("\n".join(lines) + "\n")
    settings = StackSettings(_env_file=None)
    python = settings.resolved(settings.engine_venv) / "bin" / "python"
    argv = [
        str(python), str(PARSER), "train-parse", str(folder / "config.yml"),
        str(folder / "nlu.yml"), str(folder), str(folder / "in.jsonl"), str(folder / "out.jsonl"),
    ]  # fmt: skip
    env = engine_env({"RASA_CACHE_DIRECTORY": str(folder / "cache"), "RASA_MAX_CACHE_SIZE": "0"})
    return subprocess.run(argv, cwd=ROOT, env=env, capture_output=True, text=True, check=False)


def test_a_paraphrase_with_no_shared_words_gets_its_intent(tmp_path: Path) -> None:
    result = train_and_parse(tmp_path, config())
    assert result.returncode == 0, result.stderr[-3000:]
    rows = [json.loads(line) for line in (tmp_path / "out.jsonl").read_text().splitlines()]
    assert [(row["id"], row["intent"]) for row in rows] == [
        (1, "password_reset"),
        (2, "order_status"),
    ]


def test_with_int8_precision_the_paraphrases_still_get_their_intents(tmp_path: Path) -> None:
    result = train_and_parse(tmp_path, config(precision="int8"))
    assert result.returncode == 0, result.stderr[-3000:]
    rows = [json.loads(line) for line in (tmp_path / "out.jsonl").read_text().splitlines()]
    assert [(row["id"], row["intent"]) for row in rows] == [
        (1, "password_reset"),
        (2, "order_status"),
    ]


def test_an_unknown_precision_is_refused_by_name(tmp_path: Path) -> None:
    result = train_and_parse(tmp_path, config(precision="int4"))
    assert result.returncode != 0
    assert (
        "SentenceEmbeddingFeaturizer: precision must be one of float32, int8, not 'int4'"
        in result.stderr
    )


def test_a_missing_model_folder_says_how_to_fix_it(tmp_path: Path) -> None:
    missing = tmp_path / "no-model"
    result = train_and_parse(tmp_path, config(missing))
    assert result.returncode != 0
    assert (
        f"embedding model folder {missing} lacks config.json, vocab.txt, model.safetensors: "
        "run `make setup` to export the model into the engine environment, "
        "or set model_path in config.yml"
    ) in result.stderr
