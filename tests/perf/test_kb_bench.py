from __future__ import annotations

import faiss
import numpy as np

from kb_index import vectors
from tests.perf import kb_bench as bench


def test_recall_is_swept_over_ivf_probes_and_reported_at_the_configured_depth() -> None:
    rng = np.random.default_rng(0)
    matrix = rng.standard_normal((4_000, 16)).astype(np.float32)
    matrix /= np.linalg.norm(matrix, axis=1, keepdims=True)
    queries = matrix[:20]
    _, truth = faiss.knn(queries, matrix, 10, faiss.METRIC_INNER_PRODUCT)
    params = vectors.IndexParams(ivf_nprobe=100)
    index = vectors.build_index(matrix, params, "ivf")  # 100 lists: 100 probes are exact
    results = bench.bench_recall(index, "ivf", params, 4_000, {"questions": (queries, truth)})
    recalls = {name: value for name, value in results.items() if "recall" in name}
    timings = sorted(name for name in results if "search_ms" in name)
    assert set(recalls) == {
        "ann_4000_recall@10_questions",
        *(f"ann_4000_recall@10_questions_nprobe{depth}" for depth in (16, 32, 48, 64, 100)),
    }
    assert (
        recalls["ann_4000_recall@10_questions"],
        recalls["ann_4000_recall@10_questions_nprobe100"],
    ) == (1.0, 1.0)
    assert timings == sorted(
        f"ann_4000_search_ms_questions_nprobe{depth}" for depth in (16, 32, 48, 64, 100)
    )
    assert index.nprobe == 100


def test_recall_at_10_is_the_mean_share_of_the_true_top_10_found() -> None:
    truth = np.arange(20).reshape(2, 10)
    found = np.array([list(range(10)), [10, 11, 12, 13, 14, 99, 98, 97, 96, 95]])
    assert bench.recall_at_10(truth, found) == 0.75
