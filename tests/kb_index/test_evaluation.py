from __future__ import annotations

import math
from pathlib import Path

from kb_index.errors import Issue
from kb_index.evaluation import EvalQuery, Metrics, evaluate, read_queries


def test_metrics_average_recall_mrr_and_ndcg_over_answerable_queries() -> None:
    metrics = Metrics()
    metrics.add(["a", "b", "c"], ["a"])  # rank 1
    metrics.add(["x", "y", "b"], ["b"])  # rank 3
    metrics.add(["x"] * 10 + ["c"], ["c"])  # rank 11: missed within 10
    metrics.add(["a", "b"], [])  # unanswerable: ignored
    ndcg_rank3 = 1 / math.log2(4)
    assert metrics.as_dict(6) == {
        "queries": 3,
        "recall@1": round(1 / 3, 6),
        "recall@5": round(2 / 3, 6),
        "recall@10": round(2 / 3, 6),
        "mrr@10": round((1 + 1 / 3) / 3, 6),
        "ndcg@10": round((1 + ndcg_rank3) / 3, 6),
    }


def test_ndcg_with_several_relevant_articles() -> None:
    metrics = Metrics()
    metrics.add(["a", "x", "b"], ["a", "b"])
    ideal = 1 + 1 / math.log2(3)
    assert metrics.as_dict(6)["ndcg@10"] == round((1 + 1 / math.log2(4)) / ideal, 6)


def test_evaluate_runs_the_ranker_on_answerable_queries_only() -> None:
    seen: list[str] = []

    def ranker(query: EvalQuery) -> list[str]:
        seen.append(query.query)
        return ["a"]

    queries = [EvalQuery("one", ("a",)), EvalQuery("two", ())]
    assert evaluate(queries, ranker).as_dict()["recall@1"] == 1.0
    assert seen == ["one"]


def test_read_queries_accepts_ids_lists_null_and_history(tmp_path: Path) -> None:
    path = tmp_path / "q.jsonl"
    path.write_text(
        '{"query": "a", "expected": "x"}\n'
        "\n"
        '{"query": "b", "expected": ["x", "y"], "history": ["before"], "id": "q2"}\n'
        '{"query": "c", "expected": null}\n'
        '{"query": 5}\n'
        '{"query": "d", "history": "no"}\n'
        "nope\n"
    )
    queries, issues = read_queries(path)
    assert queries == [
        EvalQuery("a", ("x",), (), "1"),
        EvalQuery("b", ("x", "y"), ("before",), "q2"),
        EvalQuery("c", (), (), "4"),
    ]
    assert issues == [
        Issue(str(path), 5, "each line needs a 'query' string"),
        Issue(str(path), 6, "'history' must be a list of strings"),
        Issue(str(path), 7, "not valid JSON: Expecting value"),
    ]
