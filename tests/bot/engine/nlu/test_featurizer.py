"""The sentence-embedding featurizer in a real Rasa pipeline: an NLU model
trained with it recognises a paraphrase that shares no word with its training
examples, and a missing model folder or an unknown precision fails with a
clear message."""

from __future__ import annotations

from pathlib import Path

from tests.bot.engine.nlu.training import train_and_parse, training_errors


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


def test_a_paraphrase_with_no_shared_words_gets_its_intent(tmp_path: Path) -> None:
    rows = train_and_parse(tmp_path, config())
    assert [(row["id"], row["intent"]) for row in rows] == [
        (1, "password_reset"),
        (2, "order_status"),
    ]


def test_with_int8_precision_the_paraphrases_still_get_their_intents(tmp_path: Path) -> None:
    rows = train_and_parse(tmp_path, config(precision="int8"))
    assert [(row["id"], row["intent"]) for row in rows] == [
        (1, "password_reset"),
        (2, "order_status"),
    ]


def test_an_unknown_precision_is_refused_by_name(tmp_path: Path) -> None:
    errors = training_errors(tmp_path, config(precision="int4"))
    assert [
        "InvalidConfigException",
        "SentenceEmbeddingFeaturizer: precision must be one of float32, int8, not 'int4'",
    ] in errors


def test_a_missing_model_folder_says_how_to_fix_it(tmp_path: Path) -> None:
    missing = tmp_path / "no-model"
    errors = training_errors(tmp_path, config(missing))
    assert [
        "InvalidConfigException",
        f"embedding model folder {missing} lacks config.json, vocab.txt, model.safetensors: "
        "run `make setup` to export the model into the engine environment, "
        "or set model_path in config.yml",
    ] in errors
