from __future__ import annotations

from kb_index.calibrate import Observation, Outcome, choose_threshold, outcome


def observation(similarity: float, expected: str | None, found: str) -> Observation:
    return Observation("q", (expected,) if expected else (), found, similarity)


OBSERVATIONS = [
    observation(0.80, "a", "a"),
    observation(0.70, "b", "b"),
    observation(0.62, "c", "x"),  # answerable, wrong article
    observation(0.55, None, "a"),  # unanswerable but similar
    observation(0.50, "d", "d"),
    observation(0.30, None, "b"),
]


def test_outcome_counts_right_wrong_and_unanswerable_answers() -> None:
    assert outcome(OBSERVATIONS, 0.6) == Outcome(
        threshold=0.6,
        precision=round(2 / 3, 4),
        recall=0.5,
        f1=round(2 * (2 / 3) * 0.5 / (2 / 3 + 0.5), 4),
        answered=3,
        correct=2,
        wrong_article=1,
        unanswerable_answered=0,
    )


def test_threshold_maximises_f1_at_a_midpoint() -> None:
    best = choose_threshold(OBSERVATIONS)
    # answering everything down to 0.50 gets 3 of 4 right for 5 answers: F1 0.667;
    # stopping at 0.66 gets 2 right for 2 answers: F1 0.667 too; the higher wins ties
    assert (best.threshold, best.f1, best.answered) == (0.66, 0.6667, 2)


def test_threshold_for_a_minimum_precision_is_the_lowest_reaching_it() -> None:
    best = choose_threshold(OBSERVATIONS, min_precision=0.6)
    assert (best.threshold, best.precision, best.answered) == (0.4, 0.6, 5)
