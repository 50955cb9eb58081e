"""Classification metrics, written out so the definitions are in one place:
accuracy, per-label precision/recall/F1, macro-F1, confusion counts, AUROC."""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Sequence
from dataclasses import dataclass


@dataclass(frozen=True)
class LabelScores:
    precision: float
    recall: float
    f1: float
    support: int


def accuracy(expected: Sequence[str], predicted: Sequence[str]) -> float:
    if not expected:
        return float("nan")
    return sum(e == p for e, p in zip(expected, predicted, strict=True)) / len(expected)


def label_scores(
    expected: Sequence[str], predicted: Sequence[str], labels: Sequence[str] | None = None
) -> dict[str, LabelScores]:
    """Scores per true label (default: every label in ``expected``). A prediction
    outside the labels (e.g. ``nlu_fallback``) counts as a miss, never a hit."""
    labels = sorted(set(expected)) if labels is None else list(labels)
    true_positive: Counter[str] = Counter()
    predicted_count: Counter[str] = Counter(predicted)
    support: Counter[str] = Counter(expected)
    for e, p in zip(expected, predicted, strict=True):
        if e == p:
            true_positive[e] += 1
    scores = {}
    for label in labels:
        tp = true_positive[label]
        precision = tp / predicted_count[label] if predicted_count[label] else 0.0
        recall = tp / support[label] if support[label] else 0.0
        f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
        scores[label] = LabelScores(precision, recall, f1, support[label])
    return scores


def macro_f1(scores: dict[str, LabelScores]) -> float:
    return sum(score.f1 for score in scores.values()) / len(scores) if scores else float("nan")


def confusion(expected: Sequence[str], predicted: Sequence[str]) -> dict[str, dict[str, int]]:
    """``{true label: {predicted label: count}}``."""
    table: dict[str, Counter[str]] = defaultdict(Counter)
    for e, p in zip(expected, predicted, strict=True):
        table[e][p] += 1
    return {label: dict(counts.most_common()) for label, counts in sorted(table.items())}


def top_confusions(table: dict[str, dict[str, int]], limit: int = 15) -> list[tuple[str, str, int]]:
    pairs = [
        (true, predicted, count)
        for true, row in table.items()
        for predicted, count in row.items()
        if predicted != true
    ]
    return sorted(pairs, key=lambda pair: (-pair[2], pair[0], pair[1]))[:limit]


def auroc(positive_scores: Sequence[float], negative_scores: Sequence[float]) -> float:
    """Probability that a random positive scores above a random negative (ties
    count half): the area under the ROC curve, by ranks (Mann-Whitney U)."""
    if not positive_scores or not negative_scores:
        return float("nan")
    labelled = [(score, 1) for score in positive_scores] + [(score, 0) for score in negative_scores]
    labelled.sort(key=lambda item: item[0])
    rank_sum = 0.0
    index = 0
    while index < len(labelled):
        end = index
        while end + 1 < len(labelled) and labelled[end + 1][0] == labelled[index][0]:
            end += 1
        average_rank = (index + end) / 2 + 1
        rank_sum += average_rank * sum(label for _, label in labelled[index : end + 1])
        index = end + 1
    positives, negatives = len(positive_scores), len(negative_scores)
    return (rank_sum - positives * (positives + 1) / 2) / (positives * negatives)
