"""The reader: what the action server uses to answer questions.

``KnowledgeBase(settings)`` is cheap to create. The first search loads the
embedding model and the current version; after that a background thread
checks the database every ``poll_interval`` seconds (one single-row query)
and, when another version was published, loads it completely before swapping
it in with one reference assignment. Searches never see a half-loaded index
and never wait for a reload; if loading a new version fails, the old one keeps
serving and the error is logged.

Every public method is safe to call from several threads at once. From
asyncio code, run them in a thread (``await asyncio.to_thread(kb.answer,
question, history)``): embedding a query takes milliseconds of CPU, and the
first call loads the model, so call ``kb.load()`` at start-up in a thread."""

from __future__ import annotations

import logging
import math
import threading
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass

import faiss
import numpy as np
import sqlalchemy as sa

from kb_index.builder import index_params, retrieval_config
from kb_index.catalog import Catalog, VersionInfo
from kb_index.chunking import is_question
from kb_index.db import create_engine
from kb_index.embedding import Embedder
from kb_index.errors import DatabaseUnavailable, NoPublishedVersion
from kb_index.feedback import FeedbackStore
from kb_index.query import compose_query
from kb_index.retrieval import RankedArticle
from kb_index.settings import KBSettings
from kb_index.snapshot import Snapshot, load_snapshot

logger = logging.getLogger(__name__)

RELATED = 2


@dataclass(frozen=True)
class SearchHit:
    """One article found for a query, with its best passage.

    ``score`` ranks the list: with the default weighted fusion,
    ``0.7 * similarity + 0.3 * bm25 / best_bm25_of_this_query`` (at most 1);
    with ``fusion=rrf``, ``sum(1 / (60 + rank))`` over both rankings. Only
    comparable within one result list. ``similarity`` is the cosine
    similarity of the query and the passage embeddings (-1..1), comparable
    across queries: confidence is decided on it. ``text`` is the passage as
    Markdown, ``heading_path`` its headings joined by " > " ("" for the
    article's introduction)."""

    doc_id: str
    chunk_id: str
    title: str
    url: str
    heading_path: str
    text: str
    score: float
    category: str
    product: str
    similarity: float
    locale: str = "en"
    tier: int = 1
    line: int = 0


@dataclass(frozen=True)
class Answer:
    """The answer to show: the best passage (None when not confident), up to
    two related articles, and the similarity the decision was made on."""

    best: SearchHit | None
    related: tuple[SearchHit, ...]
    confident: bool
    score: float
    threshold: float
    version_id: int


def too_close(hits: Sequence[SearchHit], margin: float) -> bool:
    """Whether the runner-up of ``hits`` (best first) is from another help-center
    category and within ``margin`` of the best's similarity: two unrelated
    readings of the question ("return window" or "refund status"), too close to
    choose between, so no answer is better than a coin toss."""
    if len(hits) < 2 or hits[1].category == hits[0].category:
        return False
    return hits[1].similarity > hits[0].similarity - margin


class KnowledgeBase:
    """Search and answer from the current published version."""

    def __init__(
        self,
        settings: KBSettings,
        *,
        engine: sa.Engine | None = None,
        embedder: Embedder | None = None,
        watch: bool = True,
    ) -> None:
        self.settings = settings
        self.engine = engine or create_engine(settings.database_url)
        self._owns_engine = engine is None
        self.embedder = embedder or Embedder(
            settings.model,
            settings.batch_size,
            settings.query_threads,
            cache_size=settings.query_cache_size,
        )
        self.catalog = Catalog(self.engine)
        self.feedback = FeedbackStore(self.engine)
        self._watch = watch
        self._snapshot: Snapshot | None = None
        self._load_lock = threading.Lock()
        self._changed = threading.Condition()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    # --- versions --------------------------------------------------------
    @property
    def version(self) -> VersionInfo | None:
        """The version being served (None before the first load)."""
        snapshot = self._snapshot
        return snapshot.version if snapshot else None

    def load(self) -> VersionInfo:
        """Loads the current version now if nothing is loaded yet (call at
        start-up to keep the first question fast) and starts watching."""
        return self._current().version

    def poll(self) -> int | None:
        """Checks for a newly published version and loads it; returns the
        version served afterwards. The watcher thread calls this."""
        current = self.catalog.current_version_id()
        loaded = self._snapshot
        if current is None or (loaded is not None and loaded.version.id == current):
            return loaded.version.id if loaded else None
        with self._load_lock:
            loaded = self._snapshot
            if loaded is None or loaded.version.id != current:
                self._swap(self._load(current))
        return current

    def wait_for_version(self, version_id: int, timeout: float) -> bool:
        """Blocks until version ``version_id`` (or a newer one) is served."""
        with self._changed:
            return self._changed.wait_for(
                lambda: self._snapshot is not None and self._snapshot.version.id >= version_id,
                timeout,
            )

    def close(self) -> None:
        """Stops the watcher (and disposes the engine if this object made it)."""
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=10)
        if self._owns_engine:
            self.engine.dispose()

    def __enter__(self) -> KnowledgeBase:
        return self

    def __exit__(self, *_exc: object) -> None:
        self.close()

    # --- questions -------------------------------------------------------
    def search(
        self,
        query: str,
        history: Sequence[str] = (),
        k: int = 5,
        filters: Mapping[str, str] | None = None,
    ) -> list[SearchHit]:
        """The ``k`` best articles for ``query``, each with its best passage.

        ``history``: earlier turns of the conversation, most recent first (the
        customer's; the bot's own answers may be included); the first
        ``settings.history_turns`` of them are added to the query. ``filters``:
        ``category``, ``product`` (articles for product "all" always match)
        and ``locale``, exact values."""
        return self._search(self._current(), query, history, k, filters)

    def _search(
        self,
        snapshot: Snapshot,
        query: str,
        history: Sequence[str],
        k: int,
        filters: Mapping[str, str] | None,
    ) -> list[SearchHit]:
        text = compose_query(query, history, self.settings.history_turns)
        if not text:
            return []
        vector = self.embedder.encode_query(text)
        ranked = snapshot.retriever.rank(vector, text, k, filters)
        return [self._hit(snapshot, item, vector) for item in ranked]

    def lookup(
        self,
        query: str,
        history: Sequence[str] = (),
        k: int = 5,
        filters: Mapping[str, str] | None = None,
    ) -> list[SearchHit]:
        """The ``k`` best articles for a customer's message in its
        conversation: the message read alone or with the earlier turns
        (``history``, as for ``search``), whichever reading the help center is
        surer of (the higher best similarity). A follow-up that leaves out its
        topic ("is there a fee?") needs the earlier turns; a new question
        ("how much is Plus then?") is read better alone than mixed with the
        previous topic."""
        return self._lookup(self._current(), query, history, k, filters)

    def _lookup(
        self,
        snapshot: Snapshot,
        query: str,
        history: Sequence[str],
        k: int,
        filters: Mapping[str, str] | None,
    ) -> list[SearchHit]:
        hits = self._search(snapshot, query, history, k, filters)
        if not history:
            return hits
        alone = self._search(snapshot, query, (), k, filters)
        if alone and (not hits or alone[0].similarity >= hits[0].similarity):
            return alone
        return hits

    def answer(
        self,
        query: str,
        history: Sequence[str] = (),
        filters: Mapping[str, str] | None = None,
    ) -> Answer:
        """The best passage (of ``lookup``) if its similarity reaches the
        calibrated threshold and no article of another category is as close
        (``too_close``), plus up to two related articles."""
        snapshot = self._current()
        hits = self._lookup(snapshot, query, history, RELATED + 1, filters)
        threshold = self.settings.confidence_threshold
        version_id = snapshot.version.id
        if not hits:
            return Answer(None, (), False, 0.0, threshold, version_id)
        best = hits[0]
        confident = best.similarity >= threshold and not too_close(
            hits, self.settings.ambiguity_margin
        )
        return Answer(
            best if confident else None,
            tuple(hits[1:]) if confident else tuple(hits[:RELATED]),
            confident,
            best.similarity,
            threshold,
            version_id,
        )

    def record_miss(
        self, conversation_id: str, query: str, best_score: float | None, doc_id: str | None
    ) -> None:
        """Stores a question that got no confident answer (``kb gaps``)."""
        version = self.version
        with self._database_errors():
            self.feedback.record_miss(
                conversation_id, query, best_score, doc_id, version.id if version else None
            )
        logger.info(
            "kb miss recorded",
            extra={"conversation_id": conversation_id, "best_score": best_score},
        )

    def record_feedback(
        self, conversation_id: str, query: str, doc_ids_shown: Sequence[str], helpful: bool
    ) -> None:
        """Stores the customer's answer to "Did this answer your question?"."""
        version = self.version
        with self._database_errors():
            self.feedback.record_feedback(
                conversation_id, query, doc_ids_shown, helpful, version.id if version else None
            )
        logger.info(
            "kb feedback recorded",
            extra={"conversation_id": conversation_id, "helpful": helpful},
        )

    # --- internals -------------------------------------------------------
    @contextmanager
    def _database_errors(self) -> Iterator[None]:
        try:
            yield
        except sa.exc.SQLAlchemyError as error:
            raise DatabaseUnavailable(
                self.engine.url.render_as_string(hide_password=True),
                f"{error.__class__.__name__}: {getattr(error, 'orig', None) or error}",
            ) from error

    def _current(self) -> Snapshot:
        snapshot = self._snapshot
        if snapshot is not None:
            if self._thread is None:
                self._start_watching()
            return snapshot
        with self._load_lock, self._database_errors():
            if self._snapshot is None:
                current = self.catalog.current_version_id()
                if current is None:
                    raise NoPublishedVersion()
                self._swap(self._load(current))
        self._start_watching()
        assert self._snapshot is not None
        return self._snapshot

    def _load(self, version_id: int) -> Snapshot:
        # One query at a time: idle OpenMP threads would only spin against torch's.
        faiss.omp_set_num_threads(self.settings.search_threads)
        snapshot = load_snapshot(
            self.catalog,
            version_id,
            self.settings.storage_dir,
            index_params(self.settings),
            retrieval_config(self.settings),
        )
        self.embedder.encode_query("warm up")
        return snapshot

    def _swap(self, snapshot: Snapshot) -> None:
        previous = self._snapshot
        with self._changed:
            self._snapshot = snapshot
            self._changed.notify_all()
        logger.info(
            "kb version loaded",
            extra={
                "version_id": snapshot.version.id,
                "previous": previous.version.id if previous else None,
            },
        )

    def _start_watching(self) -> None:
        if not self._watch or self._thread is not None or self._stop.is_set():
            return
        with self._load_lock:
            if self._thread is None:
                self._thread = threading.Thread(
                    target=self._watch_loop, name="kb-version-watcher", daemon=True
                )
                self._thread.start()

    def _watch_loop(self) -> None:
        while not self._stop.wait(self.settings.poll_interval):
            try:
                self.poll()
            except Exception:  # keep serving the loaded version; try again next time
                logger.exception("kb could not load the newly published version")

    def _hit(self, snapshot: Snapshot, item: RankedArticle, vector: np.ndarray) -> SearchHit:
        retriever = snapshot.retriever
        document = retriever.documents[item.document]
        similarity = item.similarity
        if math.isnan(similarity):
            similarity = retriever.similarity(vector, item.passage)
        shown = item.passage
        if is_question(retriever.passages.heading_paths[shown]):
            # Found through a question it answers: show its closest passage.
            passage = retriever.content_passage(item.document, vector)
            shown = shown if passage is None else passage
        return SearchHit(
            doc_id=document.id,
            chunk_id=retriever.passages.chunk_ids[shown],
            title=document.title,
            url=document.url,
            heading_path=retriever.passages.heading_paths[shown],
            text=retriever.passages.texts[shown],
            score=item.score,
            category=document.category,
            product=document.product,
            similarity=float(similarity),
            locale=document.locale,
            tier=document.tier,
            line=snapshot.lines[shown],
        )
