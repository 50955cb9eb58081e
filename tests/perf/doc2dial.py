"""Retrieval quality on the doc2dial validation set (third-party data, used by
path for measuring only; never copied into the project).

    python -m tests.perf.doc2dial --path ../shared/eval/doc2dial [--out FILE.json]

Indexes its 273 documents with this package's chunking, embedding and hybrid
retrieval, queries its 3,972 user turns with and without conversation history,
and prints document-level recall@1/5/10 and MRR@10 per retriever as JSON.
Skips with a message (exit code 0) when the folder is absent."""

from __future__ import annotations

import argparse
import json
import os
import re
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from pathlib import Path

import numpy as np

from kb_index import vectors
from kb_index.chunking import chunk_document
from kb_index.documents import Document
from kb_index.embedding import Embedder
from kb_index.evaluation import Metrics
from kb_index.keyword import KeywordIndex
from kb_index.query import compose_query
from kb_index.retrieval import DocumentInfo, Passages, RetrievalConfig, Retriever
from kb_index.settings import KBSettings

HEADING_MAX_WORDS = 12
SENTENCE_END = (".", "?", "!", ":", ";", ",")


@dataclass(frozen=True)
class Turn:
    """A user turn: the text, earlier turns (most recent first, each prefixed
    ``user:`` or ``agent:``) and the document it is grounded in."""

    id: str
    query: str
    history: tuple[str, ...]
    doc_id: str
    answer: str

    def previous(self, turns: int, users_only: bool = False) -> tuple[str, ...]:
        """Up to ``turns`` earlier turns without their speaker prefix."""
        chosen = [turn for turn in self.history if not users_only or turn.startswith("user:")]
        return tuple(turn.split(":", 1)[1].strip() for turn in chosen[:turns])


def to_markdown(text: str) -> str:
    """doc2dial texts are plain: blocks separated by blank lines, most starting
    with a short title line. Those lines become ``##`` headings."""
    blocks = []
    for block in re.split(r"\n\s*\n", text):
        lines = [line.strip() for line in block.splitlines() if line.strip()]
        if not lines:
            continue
        first = lines[0]
        if (
            len(lines) > 1
            and len(first.split()) <= HEADING_MAX_WORDS
            and not first.endswith(SENTENCE_END)
        ):
            blocks.append(f"## {first}")
            lines = lines[1:]
        elif (
            len(lines) == 1
            and len(first.split()) <= HEADING_MAX_WORDS
            and not first.endswith(SENTENCE_END)
        ):
            blocks.append(f"## {first}")
            continue
        blocks.append("\n".join(lines))
    return "\n\n".join(blocks)


def load_documents(folder: Path) -> list[Document]:
    documents = []
    for line in (folder / "documents.jsonl").read_text(encoding="utf-8").splitlines():
        row = json.loads(line)
        documents.append(
            Document(
                id=row["doc_id"],
                title=row["title"],
                category=row["domain"],
                tags=(),
                product="all",
                updated=date(2020, 1, 1),
                url=f"doc2dial:{row['doc_id']}",
                body=to_markdown(row["text"]),
                source="documents.jsonl",
            )
        )
    return documents


def load_turns(folder: Path) -> list[Turn]:
    turns = []
    for line in (folder / "queries.jsonl").read_text(encoding="utf-8").splitlines():
        row = json.loads(line)
        turns.append(
            Turn(row["id"], row["query"], tuple(row["history"]), row["doc_id"], row["answer"])
        )
    return turns


# --- the evaluation ---------------------------------------------------------

VARIANTS: dict[str, tuple[int, bool]] = {
    # name: (earlier turns added to the query, customer turns only)
    "current": (0, False),
    "history1": (1, False),
    "history2": (2, False),
    "history3": (3, False),
    "user_history2": (2, True),
}
RETRIEVERS = {
    "dense": RetrievalConfig(fusion="dense"),
    "bm25": RetrievalConfig(fusion="keyword"),
    "rrf": RetrievalConfig(fusion="rrf"),
    "hybrid": RetrievalConfig(fusion="weighted", dense_weight=0.7),
}


def passage_hit(text: str, answer: str) -> bool:
    """The passage holds at least half of the answer span's words."""
    wanted = re.findall(r"\w+", answer.lower())
    if not wanted:
        return False
    have = set(re.findall(r"\w+", text.lower()))
    return sum(word in have for word in wanted) / len(wanted) >= 0.5


def run(
    folder: Path,
    settings: KBSettings,
    variants: list[str],
    limit: int | None,
    log: Callable[[str], None],
) -> dict[str, float]:
    documents = load_documents(folder)
    turns = load_turns(folder)[:limit]
    embedder = Embedder(settings.model, settings.batch_size, settings.embed_threads)
    chunks = [
        chunk
        for document in documents
        for chunk in chunk_document(document, settings.chunk_min_words, settings.chunk_max_words)
    ]
    log(f"{len(documents)} documents, {len(chunks)} passages; embedding")
    started = time.perf_counter()
    matrix = embedder.encode([chunk.embed_text for chunk in chunks])
    results: dict[str, float] = {
        "documents": len(documents),
        "passages": len(chunks),
        "queries": len(turns),
        "embed_passages_per_s": round(len(chunks) / (time.perf_counter() - started), 1),
    }
    row_of = {document.id: row for row, document in enumerate(documents)}
    passages = Passages(
        chunk_ids=[chunk.chunk_id for chunk in chunks],
        documents=np.array([row_of[chunk.doc_id] for chunk in chunks], dtype=np.int32),
        heading_paths=[chunk.heading for chunk in chunks],
        texts=[chunk.text for chunk in chunks],
    )
    infos = [
        DocumentInfo(doc.id, doc.title, doc.url, doc.category, doc.product, doc.locale)
        for doc in documents
    ]
    retriever = Retriever(
        vectors.build_index(matrix, vectors.IndexParams(), "flat"),
        KeywordIndex.build([chunk.embed_text for chunk in chunks]),
        passages,
        infos,
    )
    for variant in variants:
        turns_used, users_only = VARIANTS[variant]
        texts = [
            compose_query(turn.query, turn.previous(turns_used, users_only), turns_used)
            for turn in turns
        ]
        started = time.perf_counter()
        query_vectors = embedder.encode(texts)
        log(f"{variant}: {len(texts)} queries embedded in {time.perf_counter() - started:.0f} s")
        for name, config in RETRIEVERS.items():
            metrics = Metrics()
            passage_hits = 0
            for turn, text, vector in zip(turns, texts, query_vectors, strict=True):
                ranked = retriever.rank(vector, text, 10, config=config)
                ids = [documents[item.document].id for item in ranked]
                metrics.add(ids, [turn.doc_id])
                if ids and ids[0] == turn.doc_id:
                    passage_hits += passage_hit(passages.texts[ranked[0].passage], turn.answer)
            for key, value in metrics.as_dict().items():
                if key != "queries":
                    results[f"{variant}.{name}.{key}"] = value
            results[f"{variant}.{name}.passage_hit@1"] = round(passage_hits / len(turns), 4)
            log(
                f"{variant:14} {name:7} R@1 {results[f'{variant}.{name}.recall@1']:.3f} "
                f"R@5 {results[f'{variant}.{name}.recall@5']:.3f} "
                f"R@10 {results[f'{variant}.{name}.recall@10']:.3f} "
                f"MRR@10 {results[f'{variant}.{name}.mrr@10']:.3f}"
            )
    return results


def main() -> None:
    parser = argparse.ArgumentParser(description="Retrieval quality on doc2dial (validation).")
    parser.add_argument("--path", type=Path, default=Path("../shared/eval/doc2dial"))
    parser.add_argument("--out", type=Path, help="Also write the JSON to this file.")
    parser.add_argument(
        "--variants",
        default="current,history2,history3,user_history2",
        help=f"Query variants, comma-separated, from: {', '.join(VARIANTS)}.",
    )
    parser.add_argument("--limit", type=int, help="Only the first N queries (quick runs).")
    args = parser.parse_args()
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    if not (args.path / "documents.jsonl").exists() or not (args.path / "queries.jsonl").exists():
        print(f"doc2dial not found at {args.path}: skipped (pass --path to the folder)")
        return
    variants = [variant for variant in args.variants.split(",") if variant]
    unknown = [variant for variant in variants if variant not in VARIANTS]
    if unknown:
        parser.error(f"unknown variants: {', '.join(unknown)}")
    settings = KBSettings(_env_file=None)  # type: ignore[call-arg]

    def log(message: str) -> None:
        print(f"[doc2dial {time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)

    results = run(args.path, settings, variants, args.limit, log)
    text = json.dumps(results, indent=2)
    if args.out:
        args.out.parent.mkdir(parents=True, exist_ok=True)
        args.out.write_text(text + "\n")
    print(text)


if __name__ == "__main__":
    main()
