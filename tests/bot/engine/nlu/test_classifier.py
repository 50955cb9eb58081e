"""bot.engine.nlu.classifier in a real Rasa pipeline: trained on the same data
as Rasa's own LogisticRegressionClassifier, it gives the same intents and the
same confidences for every message, sparse and dense features together."""

from __future__ import annotations

from pathlib import Path

from tests.bot.engine.nlu.training import train_and_parse

MESSAGES = (
    "I can't remember my login credentials",
    "when will my parcel arrive",
    "hello!!",
    "pasword resett",
    "zzzz qqqq",
    "where is order BW-104233 and can I reset my password",
    "😀",
)


def config(classifier: str) -> str:
    return (
        "recipe: default.v1\nlanguage: en\nassistant_id: test\npipeline:\n"
        "  - name: WhitespaceTokenizer\n"
        "  - name: CountVectorsFeaturizer\n"
        "  - name: CountVectorsFeaturizer\n    analyzer: char_wb\n    min_ngram: 2\n"
        "    max_ngram: 4\n"
        "  - name: bot.engine.nlu.featurizer.SentenceEmbeddingFeaturizer\n    scale: 20\n"
        f"  - name: {classifier}\n"
    )


def rankings(folder: Path, classifier: str) -> list[list[list[object]]]:
    rows = train_and_parse(folder, config(classifier), MESSAGES)
    assert [row["id"] for row in rows] == list(range(1, len(MESSAGES) + 1))
    return [row["ranking"] for row in rows]


def test_the_same_confidences_as_rasas_classifier(tmp_path: Path) -> None:
    expected = rankings(tmp_path / "rasa", "LogisticRegressionClassifier")
    got = rankings(tmp_path / "ours", "bot.engine.nlu.classifier.FastLogisticRegressionClassifier")
    assert [[name for name, _ in ranking] for ranking in got] == [
        [name for name, _ in ranking] for ranking in expected
    ]
    for ours, theirs in zip(got, expected, strict=True):
        assert len(ours) == 3
        for (_, confidence), (_, reference) in zip(ours, theirs, strict=True):
            assert abs(float(confidence) - float(reference)) <= 2e-6  # type: ignore[arg-type]


def test_an_empty_or_blank_text_predicts_no_intent_so_the_fallback_answers(
    tmp_path: Path,
) -> None:
    """Rasa's featurizers add no features for an empty text (Rasa strips a
    message's text, so whitespace is empty too); the classifier must not crash
    on it. With a FallbackClassifier after it, such a message is nlu_fallback."""
    pipeline = config("bot.engine.nlu.classifier.FastLogisticRegressionClassifier")
    pipeline += "  - name: FallbackClassifier\n    threshold: 0.3\n"
    rows = train_and_parse(tmp_path / "blank", pipeline, ("", "   \n\t", "hello!!"))
    assert [
        (row["text"], row["intent"], row["confidence"], row["ranking"]) for row in rows[:2]
    ] == [
        ("", "nlu_fallback", 0.3, [["nlu_fallback", 0.3]]),
        ("   \n\t", "nlu_fallback", 0.3, [["nlu_fallback", 0.3]]),
    ]
    assert (rows[2]["text"], rows[2]["intent"]) == ("hello!!", "greet")
