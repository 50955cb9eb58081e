"""Recording the category and outcome of every Tier 1 request (for metrics).

Outcomes: ``resolved_by_bot`` (the flow did it or gave a definite answer),
``self_service_article`` (the answer is a help-center article the customer
follows themselves), ``escalated`` (the bot handed over to a person),
``abandoned`` (the customer stopped the flow or declined at the end).
A conversation can hold several requests and so several outcomes.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

from actions.backends import Outcome

if TYPE_CHECKING:
    from actions.tier1.base import FlowContext

logger = logging.getLogger(__name__)


async def record(
    ctx: FlowContext, category: str, outcome: Outcome, detail: str | None = None
) -> None:
    """Stores one outcome; a database problem is logged, never shown to the customer."""
    try:
        await ctx.deps.outcomes.record(ctx.conversation_id, category, outcome, detail)
    except Exception:  # boundary: metrics must not break the conversation
        logger.exception(
            "outcome %s/%s not recorded",
            category,
            outcome.value,
            extra={"conversation_id": ctx.conversation_id},
        )
