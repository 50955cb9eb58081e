"""A question about how something works is answered from the help center,
not by starting a Tier 1 flow (issue 23, class 8).

NLU names a flow's intent for "how do I turn on 2-step verification?"
(account activation) or "what do I get with Brightwave Plus?" (cancelling
it): the words are close, but the customer asked a question the help center
answers, and an identity check would be the wrong reply. Before a flow asks
anything, ``help_center_instead`` checks, in order:

1. the message is phrased as a question (a question word opening a sentence,
   or a question mark), not as a request ("please", "I want to", "can you");
2. it names none of the customer's records (an order number or an email
   address means the flow is wanted);
3. the help center's best article reaches its confidence threshold and is not
   one of the flow's own articles (``FlowInfo.articles``: the articles, or a
   help-center category, about the task the flow does, e.g. ``reset-password``);
4. it beats the best of the flow's own articles by ``MARGIN`` in similarity:
   a close call stays with the flow, which is where the customer was going.

Only then is the question answered from the help center instead of the
flow (``action_answer_from_kb``). In the middle of a flow ("wait, what
happens to my clips when Plus ends?", which NLU reads as the flow's own intent
again), rules 1 to 3 apply without the flow's own articles (the customer is
already in the flow: an article about it answers the question too); the
article is shown and the flow asks its question again. A flow without own
articles (compatibility answers questions itself) is never replaced. Without
a knowledge base, or if searching fails, the flow runs as before.
"""

from __future__ import annotations

import asyncio
import logging
import re
from collections.abc import Sequence
from typing import Any

from actions.tier1.parsing import find_email, order_number_of
from actions.tier1.turn import Turn

logger = logging.getLogger(__name__)

MARGIN = 0.05
SEARCH_DEPTH = 10
_QUESTION = re.compile(
    r"(?:^|[.!?;,]\s*|\b(?:and|but|so)\s+)"
    r"(?:how|what|why|which|when|is|are|does|do|did|will|would|should|can i|could i)\b",
    re.IGNORECASE,
)
_REQUEST = re.compile(
    r"\b(?:please|pls|plz|i want to|i wanna|i need to|i'd like to|i would like to"
    r"|can you|could you|would you|will you|help me)\b",
    re.IGNORECASE,
)


def is_question(text: str) -> bool:
    """Whether the message asks how something is, rather than asks us to do something."""
    if _REQUEST.search(text):
        return False
    return bool(_QUESTION.search(text.strip())) or text.rstrip().endswith("?")


def names_a_record(turn: Turn) -> bool:
    return order_number_of(turn) is not None or find_email(turn.text) is not None


def is_own(hit: Any, own: Sequence[str]) -> bool:
    """Whether ``hit`` is one of ``own`` (article ids or help-center categories)."""
    return hit.doc_id in own or getattr(hit, "category", None) in own


def decide(hits: Sequence[Any], threshold: float, own: Sequence[str]) -> bool:
    """Rules 3 and 4 on the knowledge base's ranked hits (best first)."""
    if not hits:
        return False
    best = hits[0]
    if is_own(best, own) or best.similarity < threshold:
        return False
    own_best = max((hit.similarity for hit in hits if is_own(hit, own)), default=0.0)
    return bool(best.similarity >= own_best + MARGIN)


async def help_center_hit(
    turn: Turn, own: Sequence[str], kb: Any, history: Sequence[str] = ()
) -> Any | None:
    """The help center's best article if ``turn`` is a question it answers
    better than the flow whose own articles are ``own`` (see the module
    docstring; with no ``own``, any confident article), else None.
    ``history``: the customer's earlier messages, as ``action_answer_from_kb``
    passes them, so both read the question alike."""
    if kb is None or not is_question(turn.text) or names_a_record(turn):
        return None
    try:
        hits = await asyncio.to_thread(kb.lookup, turn.text, history, SEARCH_DEPTH)
        threshold = float(kb.settings.confidence_threshold)
    except Exception:  # boundary: the flow still works without the help center
        logger.exception("help-center check in a flow failed")
        return None
    return hits[0] if decide(hits, threshold, own) else None
