from __future__ import annotations

from pathlib import Path

import numpy as np

from kb_index import vectors


def clustered(count: int, dimension: int = 16, seed: int = 0) -> np.ndarray:
    """Unit vectors around 40 random centres."""
    rng = np.random.default_rng(seed)
    centres = rng.standard_normal((40, dimension))
    points = centres[rng.integers(0, 40, count)] + 0.5 * rng.standard_normal((count, dimension))
    points /= np.linalg.norm(points, axis=1, keepdims=True)
    return points.astype(np.float32)


def test_ivf_flat_is_the_default_approximate_index() -> None:
    params = vectors.IndexParams()
    assert (params.kind_for(50_000), params.kind_for(50_001), params.ivf_nprobe) == (
        "flat",
        "ivf",
        64,
    )


def test_ivf_lists_grow_with_the_square_root_and_keep_enough_training_points() -> None:
    counts = (10, 100, 2_000, 100_000, 1_000_000)
    assert [vectors.ivf_lists(count) for count in counts] == [1, 2, 50, 1264, 4000]


def test_a_filter_probes_more_lists_in_proportion_to_what_it_removes() -> None:
    def probes(allowed_rows: int) -> int:
        allowed = np.zeros(1000, dtype=bool)
        allowed[:allowed_rows] = True
        return vectors.filtered_nprobe(64, 4000, allowed)

    assert [probes(rows) for rows in (1000, 500, 100, 10, 0)] == [64, 128, 640, 4000, 4000]


def test_filtered_ivf_search_finds_the_exact_top_k_among_allowed_rows() -> None:
    matrix = clustered(20_000)
    index = vectors.build_index(matrix, vectors.IndexParams(ivf_nprobe=4), "ivf")
    allowed = np.zeros(len(matrix), dtype=bool)
    allowed[np.random.default_rng(1).choice(len(matrix), 200, replace=False)] = True
    query = matrix[7]
    scores, rows = vectors.search(index, query, 10, allowed)
    candidates = np.flatnonzero(allowed)
    similarities = matrix[candidates] @ query
    expected = candidates[np.argsort(-similarities, kind="stable")[:10]]
    assert rows.tolist() == expected.tolist()
    np.testing.assert_allclose(scores, np.sort(similarities)[::-1][:10], rtol=1e-5)


def test_a_loaded_ivf_index_searches_with_the_configured_probes(tmp_path: Path) -> None:
    matrix = clustered(4_000)
    built = vectors.build_index(matrix, vectors.IndexParams(), "ivf")
    assert (vectors.index_kind(built), built.nlist, built.nprobe) == ("ivf", 100, 64)
    vectors.save_index(built, tmp_path / "index.faiss")
    loaded = vectors.load_index(tmp_path / "index.faiss", vectors.IndexParams(ivf_nprobe=8))
    assert (vectors.index_kind(loaded), loaded.ntotal, loaded.nprobe) == ("ivf", 4_000, 8)
    np.testing.assert_allclose(loaded.reconstruct(5), matrix[5])
