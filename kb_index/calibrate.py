"""Choosing the confidence threshold from data (``kb calibrate``).

For every question of a development set (answerable ones with their article,
unanswerable ones with ``expected: null``) the best hit's similarity is
recorded. An answer counts as correct when it is given (similarity at or above
the threshold) and its article is one of the expected ones. For each candidate
threshold: precision = correct / answers given, recall = correct / answerable
questions; the threshold maximising F1 wins (or, with ``min_precision``, the
lowest threshold reaching that precision)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from itertools import pairwise

from kb_index.evaluation import EvalQuery
from kb_index.knowledge_base import KnowledgeBase, too_close


@dataclass(frozen=True)
class Observation:
    """One dev question: its best article and similarity."""

    query: str
    expected: tuple[str, ...]
    doc_id: str | None
    similarity: float

    @property
    def right_article(self) -> bool:
        return self.doc_id is not None and self.doc_id in self.expected


@dataclass(frozen=True)
class Outcome:
    """The numbers at one threshold."""

    threshold: float
    precision: float
    recall: float
    f1: float
    answered: int
    correct: int
    wrong_article: int
    unanswerable_answered: int


def observe(kb: KnowledgeBase, queries: Sequence[EvalQuery]) -> list[Observation]:
    observations = []
    for query in queries:
        # What answers are decided on; a question too close to call is never answered.
        hits = kb.lookup(query.query, query.history, k=2)
        best = hits[0] if hits else None
        withheld = too_close(hits, kb.settings.ambiguity_margin)
        observations.append(
            Observation(
                query.query,
                query.expected,
                best.doc_id if best else None,
                best.similarity if best and not withheld else -1.0,
            )
        )
    return observations


def outcome(observations: Sequence[Observation], threshold: float) -> Outcome:
    answerable = sum(1 for o in observations if o.expected)
    given = [o for o in observations if o.similarity >= threshold]
    correct = sum(1 for o in given if o.right_article)
    wrong = sum(1 for o in given if o.expected and not o.right_article)
    unanswerable = sum(1 for o in given if not o.expected)
    precision = correct / len(given) if given else 1.0
    recall = correct / answerable if answerable else 0.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    return Outcome(
        round(threshold, 4),
        round(precision, 4),
        round(recall, 4),
        round(f1, 4),
        len(given),
        correct,
        wrong,
        unanswerable,
    )


def choose_threshold(
    observations: Sequence[Observation], min_precision: float | None = None
) -> Outcome:
    """The best threshold: midpoints between observed similarities are the
    candidates, so the choice does not sit exactly on one question."""
    scores = sorted({round(o.similarity, 6) for o in observations})
    candidates = [(low + high) / 2 for low, high in pairwise(scores)]
    candidates = [scores[0] - 0.001, *candidates, scores[-1] + 0.001] if scores else [0.0]
    outcomes = [outcome(observations, threshold) for threshold in candidates]
    if min_precision is not None:
        reaching = [o for o in outcomes if o.precision >= min_precision and o.answered]
        if reaching:
            return min(reaching, key=lambda o: o.threshold)
    return max(outcomes, key=lambda o: (o.f1, o.threshold))
