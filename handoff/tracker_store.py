"""What Frontline's application side reads of Rasa's tracker store (read-only).

The conversations live in the ``events`` table of Rasa's ``SQLTrackerStore``
(``rasa/core/tracker_store.py``, ``SQLTrackerStore.SQLEvent``; our
``bot.engine.stores.UrlTrackerStore`` writes the same rows). Rasa owns and
creates that table, and Rasa is not installed in this environment, so the few
columns read here are restated here and nowhere else on this side;
``tests/handoff/test_tracker_store.py`` checks them against Rasa's own table in
the engine environment.
"""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa

# Rasa's name for the table, and the columns of it that are read here.
events = sa.table(
    "events",
    sa.column("sender_id", sa.String),  # the conversation id
    sa.column("type_name", sa.String),  # the event's type
    sa.column("timestamp", sa.Float),  # seconds since the epoch
)
# The ``type_name`` of a customer's message (Rasa's ``UserUttered``).
CUSTOMER_MESSAGE = "user"


def customers_who_wrote(engine: sa.Engine, start: datetime, end: datetime) -> set[str] | None:
    """The ids of the conversations with a customer message in ``[start, end)``;
    ``None`` when the tracker store has no ``events`` table (Rasa never ran on it)."""
    if not sa.inspect(engine).has_table(events.name):
        return None
    query = (
        sa.select(events.c.sender_id)
        .where(events.c.type_name == CUSTOMER_MESSAGE)
        .where(events.c.timestamp >= start.timestamp())
        .where(events.c.timestamp < end.timestamp())
        .distinct()
    )
    with engine.connect() as connection:
        return {row[0] for row in connection.execute(query)}
