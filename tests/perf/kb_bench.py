"""Benchmarks of the knowledge base; writes flat JSON (metric name -> number).

    python -m tests.perf.kb_bench --out var/kb-bench.json [--sizes 1000,100000,1000000]

Measures, on this machine:

* ``build_*``: a full ``kb build`` of the shipped help center (data/kb) into a
  temporary database and storage folder: seconds and passages per second.
* ``refresh_one_article_s``: ``kb refresh`` after one article changed.
* ``edit_to_live_s``: from the end of that refresh to a running
  ``KnowledgeBase`` (default poll interval) serving the new version;
  ``edit_to_live_total_s`` adds the refresh itself.
* ``query_<n>_p50_ms`` / ``_p95_ms``: one question end to end (query
  embedding, dense and keyword retrieval, fusion) over ``n`` passages;
  ``_search_`` variants without the embedding. Passages beyond the shipped
  help center are synthetic: vectors scattered around the real passage
  vectors, texts drawn from the help center's vocabulary.
* ``index_<n>_build_s``: the vector index (``index_<n>_kind_ivf`` /
  ``_kind_hnsw`` say which; ``index_<n>_lists`` for IVF);
  ``keyword_<n>_build_s``: the BM25 index.
* ``ann_<n>_recall@10_questions`` / ``_synthetic``: the approximate index at
  its configured depth against exact search, for the real dev questions and
  for synthetic queries; ``_nprobe<p>`` (IVF) or ``_ef<e>`` (HNSW) variants
  sweep the search depth, with ``ann_<n>_search_ms_*`` per query.
* ``rss_<n>_mb``: resident memory of what a reader holds for ``n`` passages
  (vector and keyword index, passage texts); ``rss_peak_mb``: the benchmark
  process's peak.

The million-passage size (about 4 minutes in all and a 6.3 GB peak here, most
of it while the BM25 index of a million passages is built):

    python -m tests.perf.kb_bench --out var/kb-bench.json --sizes 1000,100000,1000000
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import tempfile
import time
from collections import Counter
from collections.abc import Callable
from pathlib import Path
from typing import Any

import faiss
import numpy as np

from kb_index import vectors
from kb_index.builder import build, index_params, retrieval_config
from kb_index.db import create_engine, upgrade
from kb_index.embedding import Embedder
from kb_index.evaluation import read_queries
from kb_index.keyword import KeywordIndex
from kb_index.knowledge_base import KnowledgeBase
from kb_index.retrieval import DocumentInfo, Passages, Retriever
from kb_index.settings import KBSettings
from kb_index.sources import read_sources

DEV_QUERIES = Path(__file__).parent / "calibration" / "dev_queries.jsonl"
PASSAGES_PER_ARTICLE = 5
TOPIC_SPREAD = 0.9  # noise norm relative to a unit vector: cosine to the base about 0.75
SYNTHETIC_SPREAD = 0.5  # cosine to the base about 0.9
RECALL_QUERIES = 200
EF_SEARCH_SWEEP = (64, 128, 256, 512)
NPROBE_SWEEP = (16, 32, 48, 64, 128)


def rss_mb(field: str = "VmRSS") -> float:
    """Resident memory of this process (``VmHWM``: its peak), MiB."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(f"{field}:"):
            return int(line.split()[1]) / 1024
    return 0.0


def percentiles(samples: list[float]) -> tuple[float, float]:
    values = np.array(samples) * 1000
    return float(np.percentile(values, 50)), float(np.percentile(values, 95))


def bench_build(
    source: Path, workdir: Path, settings_overrides: dict[str, object]
) -> dict[str, float]:
    """Full build, one-article refresh and edit-to-live on a copy of ``source``."""
    results: dict[str, float] = {}
    kb_dir = workdir / "kb"
    shutil.copytree(source, kb_dir)
    settings = KBSettings(
        _env_file=None,  # type: ignore[call-arg]
        source_dir=kb_dir,
        storage_dir=workdir / "store",
        database_url=f"sqlite:///{workdir / 'bench.db'}",
        **settings_overrides,  # type: ignore[arg-type]
    )
    engine = create_engine(settings.database_url)
    upgrade(engine)
    embedder = Embedder(settings.model, settings.batch_size, settings.embed_threads)
    started = time.perf_counter()
    embedder.encode(["load the model"])
    results["model_load_s"] = round(time.perf_counter() - started, 3)

    started = time.perf_counter()
    report = build(settings, engine, embedder)
    seconds = time.perf_counter() - started
    results["build_articles"] = report.documents
    results["build_chunks"] = report.chunks
    results["build_s"] = round(seconds, 3)
    results["build_chunks_per_s"] = round(report.chunks / seconds, 1)

    kb = KnowledgeBase(settings, engine=engine, embedder=embedder)
    kb.load()
    article = sorted(kb_dir.rglob("*.md"))[0]
    text = article.read_text()
    article.write_text(text.rstrip("\n") + "\n\nThis paragraph was added by the benchmark.\n")
    started = time.perf_counter()
    refreshed = build(settings, engine, embedder, incremental=True)
    finished = time.perf_counter()
    kb.wait_for_version(refreshed.version_id, timeout=60)
    live = time.perf_counter()
    results["refresh_one_article_s"] = round(finished - started, 3)
    results["refresh_embedded_chunks"] = refreshed.embedded
    results["edit_to_live_s"] = round(live - finished, 3)
    results["edit_to_live_total_s"] = round(live - started, 3)
    results["poll_interval_s"] = settings.poll_interval
    kb.close()
    engine.dispose()
    return results


def synthetic_corpus(
    centres: np.ndarray, texts: list[str], size: int, seed: int = 0
) -> tuple[np.ndarray, list[str]]:
    """``size`` unit vectors and passage-like texts. Vectors come in two levels
    around the real passage vectors: sub-topics (about one per 50 passages,
    cosine about 0.75 to their real passage), then passages (cosine about 0.9
    to their sub-topic), so neighbourhoods look like a large help center rather
    than thousands of copies of one passage. Texts are drawn from the help
    center's vocabulary with its word frequencies."""
    rng = np.random.default_rng(seed)
    dimension = centres.shape[1]

    def scatter(base: np.ndarray, spread: float) -> np.ndarray:
        noise = rng.standard_normal(base.shape).astype(np.float32) * (spread / np.sqrt(dimension))
        block = base + noise
        return block / np.linalg.norm(block, axis=1, keepdims=True)

    topics = scatter(centres[rng.integers(0, len(centres), max(1, size // 50))], TOPIC_SPREAD)
    matrix = np.empty((size, dimension), dtype=np.float32)
    step = 100_000
    for start in range(0, size, step):
        stop = min(size, start + step)
        matrix[start:stop] = scatter(
            topics[rng.integers(0, len(topics), stop - start)], SYNTHETIC_SPREAD
        )
    counts = Counter(re.findall(r"[a-z]{3,}", " ".join(texts).lower()))
    vocabulary = np.array(sorted(counts))
    frequencies = np.array([counts[word] for word in vocabulary], dtype=float)
    frequencies /= frequencies.sum()
    lengths = rng.integers(40, 120, size)
    drawn = rng.choice(len(vocabulary), size=int(lengths.sum()), p=frequencies)
    corpus = []
    offset = 0
    for length in lengths:
        corpus.append(" ".join(vocabulary[drawn[offset : offset + length]]))
        offset += length
    return matrix, corpus


def passages_for(texts: list[str]) -> tuple[Passages, list[DocumentInfo]]:
    count = len(texts)
    documents = [
        DocumentInfo(f"doc-{i}", f"Doc {i}", f"https://x.example/{i}", "c", "all", "en")
        for i in range((count + PASSAGES_PER_ARTICLE - 1) // PASSAGES_PER_ARTICLE)
    ]
    passages = Passages(
        chunk_ids=[
            f"doc-{i // PASSAGES_PER_ARTICLE}#{i % PASSAGES_PER_ARTICLE}" for i in range(count)
        ],
        documents=(np.arange(count) // PASSAGES_PER_ARTICLE).astype(np.int32),
        heading_paths=[""] * count,
        texts=texts,
    )
    return passages, documents


def synthetic_queries(matrix: np.ndarray, count: int = RECALL_QUERIES) -> np.ndarray:
    """Unit vectors near random passages, as far from them as passages from their sub-topic."""
    rng = np.random.default_rng(1)
    queries = matrix[rng.integers(0, len(matrix), count)] + (
        rng.standard_normal((count, matrix.shape[1])).astype(np.float32)
        * SYNTHETIC_SPREAD
        / np.sqrt(matrix.shape[1])
    )
    return queries / np.linalg.norm(queries, axis=1, keepdims=True)


def recall_at_10(truth: np.ndarray, found: np.ndarray) -> float:
    """Mean share of the exact top 10 that the approximate search found."""
    return float(np.mean([len(set(t) & set(f)) / 10 for t, f in zip(truth, found, strict=True)]))


def bench_recall(
    index: Any,
    kind: str,
    params: vectors.IndexParams,
    size: int,
    query_sets: dict[str, tuple[np.ndarray, np.ndarray]],
) -> dict[str, float]:
    """Recall@10 against exact search (``query_sets``: label -> queries, true
    top 10) over a sweep of search depths, then at the configured depth."""
    results: dict[str, float] = {}
    sweep: tuple[int, ...]
    if kind == "hnsw":
        sweep, configured, tag = EF_SEARCH_SWEEP, params.hnsw_ef_search, "ef"
    else:
        sweep, configured, tag = NPROBE_SWEEP, min(params.ivf_nprobe, index.nlist), "nprobe"

    def set_depth(depth: int) -> None:
        if kind == "hnsw":
            index.hnsw.efSearch = depth
        else:
            index.nprobe = depth

    depths = sorted({*sweep, configured})
    if kind == "ivf":
        depths = [depth for depth in depths if depth <= index.nlist]
    for label, (queries, truth) in query_sets.items():
        for depth in depths:
            set_depth(depth)
            started = time.perf_counter()
            _, found = index.search(queries, 10)
            per_query = (time.perf_counter() - started) / len(queries) * 1000
            results[f"ann_{size}_recall@10_{label}_{tag}{depth}"] = round(
                recall_at_10(truth, found), 4
            )
            results[f"ann_{size}_search_ms_{label}_{tag}{depth}"] = round(per_query, 3)
        results[f"ann_{size}_recall@10_{label}"] = results[
            f"ann_{size}_recall@10_{label}_{tag}{configured}"
        ]
    set_depth(configured)
    return results


def bench_scale(
    sizes: list[int],
    settings: KBSettings,
    embedder: Embedder,
    centres: np.ndarray,
    center_texts: list[str],
    questions: list[str],
    samples: int,
    log: Callable[[str], None],
) -> dict[str, float]:
    results: dict[str, float] = {}
    question_vectors = embedder.encode(questions)
    params = index_params(settings)
    for size in sizes:
        log(f"{size} passages: generating")
        base_rss = rss_mb()
        matrix, texts = synthetic_corpus(centres, center_texts, size)
        kind = params.kind_for(size)
        faiss.omp_set_num_threads(os.cpu_count() or 1)
        query_sets: dict[str, tuple[np.ndarray, np.ndarray]] = {}
        if kind != "flat":
            # exact top 10 straight from the matrix (no second copy of the vectors)
            for label, queries in (
                ("questions", question_vectors),
                ("synthetic", synthetic_queries(matrix)),
            ):
                _, truth = faiss.knn(queries, matrix, 10, faiss.METRIC_INNER_PRODUCT)
                query_sets[label] = (queries, truth)
        started = time.perf_counter()
        index: Any = vectors.build_index(matrix, params, kind)  # type: ignore[arg-type]
        results[f"index_{size}_build_s"] = round(time.perf_counter() - started, 2)
        results[f"index_{size}_kind_hnsw"] = int(kind == "hnsw")
        results[f"index_{size}_kind_ivf"] = int(kind == "ivf")
        if kind == "ivf":
            results[f"index_{size}_lists"] = index.nlist
            results[f"index_{size}_nprobe"] = index.nprobe
        del matrix  # a reader holds the index, not the matrix
        log(f"{size} passages: {kind} index built in {results[f'index_{size}_build_s']} s")
        started = time.perf_counter()
        keyword = KeywordIndex.build(texts)
        results[f"keyword_{size}_build_s"] = round(time.perf_counter() - started, 2)
        passages, documents = passages_for(texts)
        retriever = Retriever(index, keyword, passages, documents, retrieval_config(settings))
        del texts, passages, keyword
        faiss.omp_set_num_threads(settings.search_threads)
        # what a reader holds: index, keyword index, passages
        results[f"rss_{size}_mb"] = round(rss_mb() - base_rss, 1)

        end_to_end, search_only = [], []
        for i in range(samples):
            question = questions[i % len(questions)] + ("" if i < len(questions) else f" {i}")
            started = time.perf_counter()
            vector = embedder.encode_query(question)  # the reader's path, cache off
            middle = time.perf_counter()
            retriever.rank(vector, question, 5)
            stopped = time.perf_counter()
            end_to_end.append(stopped - started)
            search_only.append(stopped - middle)
        p50, p95 = percentiles(end_to_end)
        s50, s95 = percentiles(search_only)
        results[f"query_{size}_p50_ms"] = round(p50, 2)
        results[f"query_{size}_p95_ms"] = round(p95, 2)
        results[f"query_{size}_search_p50_ms"] = round(s50, 2)
        results[f"query_{size}_search_p95_ms"] = round(s95, 2)
        log(f"{size} passages: p50 {p50:.1f} ms, p95 {p95:.1f} ms (search only p95 {s95:.1f} ms)")

        if kind != "flat":
            results.update(bench_recall(index, kind, params, size, query_sets))
            log(
                f"{size} passages: recall@10 questions "
                f"{results[f'ann_{size}_recall@10_questions']}, synthetic "
                f"{results[f'ann_{size}_recall@10_synthetic']}"
            )
        del retriever, index
    return results


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", type=Path, required=True, help="JSON file to write.")
    parser.add_argument(
        "--source", type=Path, default=Path("data/kb"), help="Help center to build."
    )
    parser.add_argument(
        "--sizes",
        default="1000,100000,1000000",
        help="Passage counts for latency (comma-separated).",
    )
    parser.add_argument("--samples", type=int, default=300, help="Questions timed per size.")
    parser.add_argument("--skip-build", action="store_true", help="Only the scale benchmarks.")
    args = parser.parse_args()
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")

    def log(message: str) -> None:
        print(f"[bench {time.strftime('%H:%M:%S')}] {message}", flush=True)

    started = time.perf_counter()
    results: dict[str, float] = {}
    settings = KBSettings(_env_file=None)  # type: ignore[call-arg]
    with tempfile.TemporaryDirectory(prefix="kb-bench-") as workdir:
        if not args.skip_build:
            log("building the shipped help center")
            results.update(bench_build(args.source, Path(workdir), {}))
            log(f"build: {results['build_s']} s, refresh {results['refresh_one_article_s']} s")
    # the reader's configuration: query_threads for the embedding, single
    # queries through the ONNX export when make setup wrote one, no cache
    embedder = Embedder(settings.model, settings.batch_size, settings.query_threads, cache_size=0)
    documents = read_sources(args.source, settings.articles_prefix).documents
    from kb_index.chunking import chunk_document

    chunks = [
        chunk
        for doc in documents
        for chunk in chunk_document(doc, settings.chunk_min_words, settings.chunk_max_words)
    ]
    center_texts = [chunk.embed_text for chunk in chunks]
    centres = embedder.encode(center_texts)
    questions = [query.query for query in read_queries(DEV_QUERIES)[0]]
    sizes = [int(size) for size in args.sizes.split(",") if size]
    results.update(
        bench_scale(sizes, settings, embedder, centres, center_texts, questions, args.samples, log)
    )
    results["bench_total_s"] = round(time.perf_counter() - started, 1)
    results["rss_peak_mb"] = round(rss_mb("VmHWM"), 1)
    results["cpu_count"] = os.cpu_count() or 0
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(results, indent=2) + "\n")
    log(f"wrote {args.out} in {results['bench_total_s']} s")


if __name__ == "__main__":
    main()
