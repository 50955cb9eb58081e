"""Retrieval metrics over ranked article ids: recall@k, MRR@10, nDCG@10."""

from __future__ import annotations

import json
import math
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from kb_index.errors import Issue

CUTOFFS = (1, 5, 10)


@dataclass(frozen=True)
class EvalQuery:
    """A question, the conversation before it (most recent first) and the
    article ids that answer it (empty: nothing in the KB answers it)."""

    query: str
    expected: tuple[str, ...]
    history: tuple[str, ...] = ()
    id: str = ""


@dataclass
class Metrics:
    """Averages over the queries that have an expected article."""

    queries: int = 0
    hits: dict[int, float] = field(default_factory=lambda: dict.fromkeys(CUTOFFS, 0.0))
    reciprocal_rank: float = 0.0
    ndcg: float = 0.0

    def add(self, ranked: Sequence[str], expected: Iterable[str]) -> None:
        relevant = set(expected)
        if not relevant:
            return
        self.queries += 1
        for cutoff in CUTOFFS:
            if relevant & set(ranked[:cutoff]):
                self.hits[cutoff] += 1
        for rank, doc_id in enumerate(ranked[:10], start=1):
            if doc_id in relevant:
                self.reciprocal_rank += 1.0 / rank
                break
        gains = sum(
            1.0 / math.log2(rank + 1)
            for rank, doc_id in enumerate(ranked[:10], start=1)
            if doc_id in relevant
        )
        ideal = sum(1.0 / math.log2(rank + 1) for rank in range(1, min(len(relevant), 10) + 1))
        self.ndcg += gains / ideal

    def as_dict(self, digits: int = 4) -> dict[str, float | int]:
        count = max(self.queries, 1)
        result: dict[str, float | int] = {"queries": self.queries}
        for cutoff in CUTOFFS:
            result[f"recall@{cutoff}"] = round(self.hits[cutoff] / count, digits)
        result["mrr@10"] = round(self.reciprocal_rank / count, digits)
        result["ndcg@10"] = round(self.ndcg / count, digits)
        return result


def evaluate(queries: Iterable[EvalQuery], ranker: Callable[[EvalQuery], Sequence[str]]) -> Metrics:
    metrics = Metrics()
    for query in queries:
        if query.expected:
            metrics.add(ranker(query), query.expected)
    return metrics


def read_queries(path: Path) -> tuple[list[EvalQuery], list[Issue]]:
    """JSONL: ``query``, optional ``history`` (list, most recent first) and
    ``expected`` (an article id, a list of ids, or null for unanswerable)."""
    queries: list[EvalQuery] = []
    issues: list[Issue] = []
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        if not line.strip():
            continue
        try:
            row = json.loads(line)
        except json.JSONDecodeError as error:
            issues.append(Issue(str(path), number, f"not valid JSON: {error.msg}"))
            continue
        if not isinstance(row, dict) or not isinstance(row.get("query"), str):
            issues.append(Issue(str(path), number, "each line needs a 'query' string"))
            continue
        expected = row.get("expected")
        if expected is None:
            expected_ids: tuple[str, ...] = ()
        elif isinstance(expected, str):
            expected_ids = (expected,)
        elif isinstance(expected, list) and all(isinstance(item, str) for item in expected):
            expected_ids = tuple(expected)
        else:
            issues.append(Issue(str(path), number, "'expected' must be an id, a list or null"))
            continue
        history = row.get("history") or []
        if not isinstance(history, list) or not all(isinstance(turn, str) for turn in history):
            issues.append(Issue(str(path), number, "'history' must be a list of strings"))
            continue
        queries.append(
            EvalQuery(row["query"], expected_ids, tuple(history), str(row.get("id", number)))
        )
    return queries, issues
