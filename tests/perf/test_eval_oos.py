"""Out-of-scope evaluation: scores, thresholds and figures (no engine, no data set)."""

from __future__ import annotations

import math
from pathlib import Path

import pytest

from tests.perf.eval_oos import (
    INSCOPE,
    OOS_INTENT,
    TEST,
    VALIDATION,
    OosData,
    Scored,
    Split,
    Target,
    at_threshold,
    auroc,
    balanced_threshold,
    decided_figures,
    inscope_accuracy,
    load_banking,
    oos_recall,
    score_of,
    scored_row,
    summarise,
    target_met,
    threshold_for_target,
    training_examples,
)


def item(
    expected: str,
    predicted: str,
    score: float,
    group: str | None = None,
    stage: str = VALIDATION,
    decided: str | None = None,
) -> Scored:
    group = group or (INSCOPE if expected != "oos" else "oos")
    return Scored("s", stage, group, expected, predicted, score, decided or predicted)


# Four in-scope messages (three right) and four out-of-scope ones.
SAMPLE = [
    item("a", "a", 0.9),
    item("b", "b", 0.8),
    item("c", "x", 0.7),  # wrong intent: never counts as right
    item("d", "d", 0.4),
    item("oos", "a", 0.85),
    item("oos", "b", 0.6),
    item("oos", "c", 0.3),
    item("oos", "d", 0.1),
]


def test_in_scope_accuracy_counts_right_and_accepted_over_all_in_scope() -> None:
    assert inscope_accuracy(SAMPLE, 0.0) == 3 / 4
    assert inscope_accuracy(SAMPLE, 0.5) == 2 / 4
    assert inscope_accuracy(SAMPLE, 0.8) == 2 / 4  # a score equal to the threshold is accepted
    assert inscope_accuracy(SAMPLE, 0.95) == 0.0


def test_oos_recall_counts_scores_below_the_threshold() -> None:
    assert oos_recall(SAMPLE, 0.0) == 0.0
    assert oos_recall(SAMPLE, 0.6) == 2 / 4  # 0.6 itself is accepted
    assert oos_recall(SAMPLE, 0.9) == 1.0


def test_oos_recall_per_group() -> None:
    scored = [item("a", "a", 0.9), item("oos", "a", 0.5, "id"), item("oos", "a", 0.2, "ood")]
    assert oos_recall(scored, 0.3, "id") == 0.0
    assert oos_recall(scored, 0.3, "ood") == 1.0
    assert oos_recall(scored, 0.3) == 0.5
    assert math.isnan(oos_recall(scored, 0.3, "absent"))


def test_target_threshold_is_the_highest_that_keeps_the_in_scope_target() -> None:
    # 2 of 4 right and accepted needed for 0.5: the 2nd best right score.
    assert threshold_for_target(SAMPLE, 0.5) == 0.8
    assert inscope_accuracy(SAMPLE, 0.8) >= 0.5
    assert inscope_accuracy(SAMPLE, 0.8 + 1e-9) < 0.5
    # 3 of 4 for 0.75: every right message must be accepted.
    assert threshold_for_target(SAMPLE, 0.75) == 0.4


def test_target_threshold_has_the_highest_oos_recall_among_those_meeting_it() -> None:
    chosen = threshold_for_target(SAMPLE, 0.5)
    assert chosen is not None
    candidates = sorted({entry.score for entry in SAMPLE} | {0.0, 1.01})
    meeting = [t for t in candidates if inscope_accuracy(SAMPLE, t) >= 0.5]
    assert oos_recall(SAMPLE, chosen) == max(oos_recall(SAMPLE, t) for t in meeting)


def test_unreachable_target_gives_none_and_zero_target_rejects_nothing_needed() -> None:
    assert threshold_for_target(SAMPLE, 0.8) is None  # closed-set accuracy is 0.75
    assert threshold_for_target(SAMPLE, 0.0) == math.inf
    assert threshold_for_target([item("oos", "a", 0.5)], 0.5) is None


def test_target_threshold_is_not_fooled_by_float_rounding() -> None:
    # 0.93 * 100 is 93.00000000000001: 93 right messages must be enough.
    scored = [item("a", "a", 1 - n / 1000) for n in range(93)]
    scored += [item("a", "b", 0.99) for _ in range(7)]
    assert threshold_for_target(scored, 0.93) == pytest.approx(1 - 92 / 1000)


def test_balanced_threshold_maximises_the_mean() -> None:
    chosen = balanced_threshold(SAMPLE)
    value = (inscope_accuracy(SAMPLE, chosen) + oos_recall(SAMPLE, chosen)) / 2
    grid = [t / 100 for t in range(0, 102)]
    assert value >= max((inscope_accuracy(SAMPLE, t) + oos_recall(SAMPLE, t)) / 2 for t in grid)


def test_balanced_threshold_uses_only_the_named_group() -> None:
    scored = [
        item("a", "a", 0.9),
        item("oos", "a", 0.5, "id"),
        item("oos", "a", 0.95, "ood"),  # would pull the threshold up if counted
    ]
    assert balanced_threshold(scored, "id") == pytest.approx(0.9)
    assert oos_recall(scored, balanced_threshold(scored, "id"), "id") == 1.0


def test_out_of_scope_predictions_score_below_zero() -> None:
    assert score_of("card_arrival", 0.7) == 0.7
    assert score_of(OOS_INTENT, 0.7) == -0.7
    row = {
        "split": "test",
        "stage": TEST,
        "group": "oos",
        "expected": "oos",
        "raw_intent": OOS_INTENT,
        "raw_confidence": 0.6,
        "intent": OOS_INTENT,
    }
    scored = scored_row(row)
    assert scored.score == -0.6
    assert oos_recall([scored], 0.0) == 1.0


def test_auroc_ranks_in_scope_above_out_of_scope() -> None:
    perfect = [item("a", "a", 0.9), item("oos", "a", 0.1)]
    assert auroc(perfect) == 1.0
    assert auroc(SAMPLE) == pytest.approx(12 / 16)  # pairs in-scope above OOS, of 16
    assert math.isnan(auroc([item("a", "a", 0.9)]))


def test_decided_figures_count_fallback_and_out_of_scope_as_rejected() -> None:
    scored = [
        item("a", "a", 0.9, decided="a"),
        item("b", "b", 0.4, decided="nlu_fallback"),
        item("oos", "a", 0.9, decided="a"),
        item("oos", "a", 0.3, decided="nlu_fallback"),
        item("oos", OOS_INTENT, -0.8, decided=OOS_INTENT),
    ]
    figures = decided_figures(scored, ["oos"])
    assert figures == {"inscope_accuracy": 0.5, "oos_recall": pytest.approx(2 / 3)}


def test_target_met_needs_both_figures() -> None:
    target = Target(inscope=0.9, oos_recall=0.7, group="id")
    assert target_met({"inscope_accuracy": 0.9, "id_recall": 0.7}, target)
    assert not target_met({"inscope_accuracy": 0.89, "id_recall": 0.99}, target)
    assert not target_met({"inscope_accuracy": 0.99, "id_recall": 0.69}, target)


def data_with(scored_splits: tuple[Split, ...], target: Target) -> OosData:
    return OosData("demo", "Demo", (("hi", "a"),), ("nope",), scored_splits, target, "0")


def test_summary_chooses_on_validation_and_only_reports_test() -> None:
    target = Target(inscope=0.5, oos_recall=0.5, group="oos")
    validation = list(SAMPLE)
    # Test messages that would call for another threshold if they were looked at.
    test = [
        item("a", "a", 0.3, stage=TEST),
        item("b", "b", 0.2, stage=TEST),
        item("oos", "a", 0.1, stage=TEST),
        item("oos", "a", 0.95, stage=TEST),
    ]
    data = data_with(
        (Split("val", VALIDATION, INSCOPE, ()), Split("oos", VALIDATION, "oos", ())), target
    )
    figures, details = summarise(data, validation + test)
    assert figures["threshold"] == 0.8  # from validation alone
    assert figures["val_inscope_accuracy"] == 0.5
    assert figures["val_target_met"] == 1.0
    assert figures["inscope_accuracy"] == 0.0  # test, at the validation threshold
    assert figures["oos_recall"] == 0.5
    assert figures["target_met"] == 0.0
    assert "curve" in details
    validation_only, details = summarise(data, validation, validation_only=True)
    assert "inscope_accuracy" not in validation_only and "curve" not in details
    assert validation_only["threshold"] == figures["threshold"]


def test_summary_falls_back_to_zero_when_the_target_is_out_of_reach() -> None:
    target = Target(inscope=0.99, oos_recall=0.5, group="oos")
    data = data_with((Split("val", VALIDATION, INSCOPE, ()),), target)
    figures, _ = summarise(data, SAMPLE, validation_only=True)
    assert figures["threshold"] == 0.0
    assert figures["target_reachable_on_val"] == 0.0
    assert figures["val_target_met"] == 0.0


def test_at_threshold_reports_each_group() -> None:
    scored = [item("a", "a", 0.9), item("oos", "a", 0.5, "id"), item("oos", "a", 0.2, "ood")]
    assert at_threshold(scored, 0.3, ["id", "ood"]) == {
        "inscope_accuracy": 1.0,
        "id_recall": 0.0,
        "ood_recall": 1.0,
    }


def test_negatives_become_the_out_of_scope_intent_only_when_asked() -> None:
    data = OosData(
        "demo", "Demo", (("hi", "a"), (" ", "b")), ("nope", ""), (), Target(0.5, 0.5, "oos"), "0"
    )
    assert [(e.intent, e.text) for e in training_examples(data, negatives=False)] == [("a", "hi")]
    assert [(e.intent, e.text) for e in training_examples(data, negatives=True)] == [
        ("a", "hi"),
        (OOS_INTENT, "nope"),
    ]  # blank messages (Banking77-OOS has some) are never trained on


def test_banking_loader_reads_the_folder_layout(tmp_path: Path) -> None:
    def write(name: str, texts: list[str], labels: list[str]) -> None:
        (tmp_path / name).mkdir(parents=True)
        (tmp_path / name / "seq.in").write_text("".join(f"{t}\n" for t in texts))
        (tmp_path / name / "label").write_text("".join(f"{label}\n" for label in labels))

    write("train", ["card?", "fee?"], ["card_arrival", "card_fee"])
    write("valid", ["my card"], ["card_arrival"])
    write("test", ["the fee"], ["card_fee"])
    for stage in ("train", "valid", "test"):
        write(f"id-oos/{stage}", [f"rate {stage}"], ["oos"])
    for stage in ("valid", "test"):
        write(f"ood-oos/{stage}", [f"weather {stage}"], ["oos"])
    data = load_banking(tmp_path)
    assert data.train == (("card?", "card_arrival"), ("fee?", "card_fee"))
    assert data.negatives == ("rate train",)
    assert [(s.name, s.stage, s.group) for s in data.splits] == [
        ("valid", VALIDATION, INSCOPE),
        ("id-oos/valid", VALIDATION, "id_oos"),
        ("ood-oos/valid", VALIDATION, "ood_oos"),
        ("test", TEST, INSCOPE),
        ("id-oos/test", TEST, "id_oos"),
        ("ood-oos/test", TEST, "ood_oos"),
    ]
    (tmp_path / "test" / "label").write_text("card_fee\nextra\n")
    with pytest.raises(ValueError, match="1 texts, 2 labels"):
        load_banking(tmp_path)
