"""Grouping unanswered questions by meaning, most frequent first (``kb gaps``).

Unanswered means: no passage reached the confidence threshold (a miss), or the
customer said "No" to "Did this answer your question?" (a rejected answer: the
help center has something on the topic, but not what was asked)."""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

import numpy as np

from kb_index.embedding import Embedder
from kb_index.feedback import Feedback, Miss

EXAMPLES = 3


@dataclass(frozen=True)
class Gap:
    """Questions about one missing topic: how often it was asked, in how many
    conversations, example wordings (most frequent first), the articles the
    search came closest with, and when it was last asked."""

    count: int
    conversations: int
    rejected: int  # of ``count``: answers the customer rated "No"
    examples: tuple[str, ...]
    nearest_articles: tuple[str, ...]
    last_asked: datetime


def find_gaps(
    misses: Sequence[Miss],
    embedder: Embedder,
    similarity: float,
    rejected: Sequence[Feedback] = (),
) -> list[Gap]:
    """Greedy clustering: wordings in order of frequency join the group whose
    centroid has a cosine similarity of at least ``similarity``, else start a new one.
    ``rejected`` (feedback with ``helpful`` False) counts like misses, with the
    first article shown as the nearest one."""
    rejected_ids = {-answer.id for answer in rejected if not answer.helpful}
    misses = [
        *misses,
        *(
            Miss(
                -answer.id,  # negative: apart from kb_misses ids
                answer.conversation_id,
                answer.query,
                None,
                answer.doc_ids_shown[0] if answer.doc_ids_shown else None,
                answer.version_id,
                answer.created_at,
            )
            for answer in rejected
            if not answer.helpful
        ),
    ]
    if not misses:
        return []
    by_wording: dict[str, list[Miss]] = {}
    for miss in misses:
        by_wording.setdefault(" ".join(miss.query.lower().split()), []).append(miss)
    wordings = sorted(by_wording, key=lambda w: (-len(by_wording[w]), w))
    vectors = embedder.encode(wordings)
    sums: list[np.ndarray] = []
    members: list[list[int]] = []
    for index, vector in enumerate(vectors):
        if sums:
            centroids = np.vstack(sums)
            centroids /= np.linalg.norm(centroids, axis=1, keepdims=True)
            scores = centroids @ vector
            best = int(np.argmax(scores))
            if scores[best] >= similarity:
                sums[best] = sums[best] + vector * len(by_wording[wordings[index]])
                members[best].append(index)
                continue
        sums.append(vector * len(by_wording[wordings[index]]))
        members.append([index])
    gaps = []
    for group in members:
        group_misses = [miss for index in group for miss in by_wording[wordings[index]]]
        examples = []
        for index in group:
            # the original wording of the most recent question with this text
            examples.append(
                max(by_wording[wordings[index]], key=lambda m: (m.created_at, m.id)).query
            )
        nearest = Counter(miss.doc_id for miss in group_misses if miss.doc_id)
        gaps.append(
            Gap(
                count=len(group_misses),
                conversations=len({miss.conversation_id for miss in group_misses}),
                rejected=sum(1 for miss in group_misses if miss.id in rejected_ids),
                examples=tuple(examples[:EXAMPLES]),
                nearest_articles=tuple(doc for doc, _count in nearest.most_common(2)),
                last_asked=max(miss.created_at for miss in group_misses),
            )
        )
    gaps.sort(key=lambda gap: (-gap.count, -gap.last_asked.timestamp()))
    return gaps
