"""Frontline's custom actions, served by the rasa-sdk action server.

rasa-sdk imports every module of this package and instantiates every concrete
``Action`` subclass with no arguments, so no module here may do work at import
time. Start the server with ``python -m actions.server`` (see ``actions.server``).

Public surface (other packages import only this):

* ``SCHEMA``: the actions tables' migrations (``SCHEMA.upgrade(engine)``;
  ``core.database.Schema``).
* ``BackendSettings``: which business system the actions talk to and how they
  send email (``FRONTLINE_BACKEND_*``, ``SMTP_URL``); the launcher passes them on.
* ``outcome_counts(engine, start, end) -> {category: {outcome: count}} | None``:
  what the Tier 1 requests of a period ended in (``None``: no actions tables yet).
"""

from actions.backends import BackendSettings, outcome_counts
from actions.db import SCHEMA

__all__ = ["SCHEMA", "BackendSettings", "outcome_counts"]
